from __future__ import annotations

import pytest

from dyadsync.errors import ConfigError
from dyadsync.pipeline import config_from_dict, load_pipeline


@pytest.mark.parametrize(
    "data, match",
    [
        ({"synchrny": {}}, r"unknown section \[synchrny\] \(did you mean 'synchrony'\?\)"),
        ({"synchrony": {"window_s": "8"}}, "window_s must be a number"),
        ({"synchrony": {"window_s": 4, "max_lag_s": 5}}, "max_lag_s < window_s"),
        ({"synchrony": {"summary": "max"}}, "summary must be one of"),
        ({"persons": {"names": ["patient"]}}, "two different names"),
        ({"moments": {"tmin_s": 5}}, "must contain 0"),
        ({"moments": {"n_shifts": 10}}, "at least 19"),
        ({"pipeline": {"stages": ["motion", "gaze"]}}, "stages entry must be one of"),
        ({"preprocess": {"mask_artefacts": "yes"}}, "true or false"),
    ],
)
def test_invalid_configs(data, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict(data)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_pipeline(tmp_path / "none.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("[synchrony\n")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_pipeline(bad)


def test_roles_and_rois():
    c = config_from_dict({"persons": {"names": ["patient", "therapist"],
                                      "rois": {"patient": [0, 0, 300, 360], "therapist": [340, 0, 300, 360]},
                                      "roi_units": "px"}})
    assert c.persons.names == ["patient", "therapist"]
    assert c.persons.rois["therapist"] == [340, 0, 300, 360]


def test_summary_peak_is_read_as_best_with_a_warning():
    """summary = "peak" selected best_sync (the largest value over lags), not Boker's peak: it is now "best"."""
    import numpy as np

    from dyadsync.errors import DyadsyncWarning
    from dyadsync.pipeline.config import config_from_dict
    from dyadsync.synchrony import summarize, windowed_cross_correlation

    with pytest.warns(DyadsyncWarning, match='summary "peak" now means "best"'):
        config = config_from_dict({"synchrony": {"summary": "peak"}})
    assert config.synchrony.summary == "best"
    assert config_from_dict({}).synchrony.summary == "best"
    rng = np.random.default_rng(0)
    a = rng.standard_normal(600)
    wcc = windowed_cross_correlation(a, np.roll(a, 3) + rng.standard_normal(600), rate_hz=10, window_s=6, step_s=2,
                                     max_lag_s=1)
    best = summarize(wcc, summary="best")
    with pytest.warns(DyadsyncWarning, match="now means"):
        old = summarize(wcc, summary="peak")
    np.testing.assert_array_equal(old["sync"], best["sync"])
    np.testing.assert_array_equal(best["sync"], best["best_sync"])
