from __future__ import annotations

import pytest

from dyadsync.errors import ConfigError
from dyadsync.pipeline import PipelineConfig, config_from_dict, load_pipeline


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


def test_one_source_of_every_default():
    """A pipeline section's default is the default of the function it configures (None and empty are one)."""
    import dataclasses
    import inspect

    from dyadsync.features.face import face
    from dyadsync.features.motion import motion_energy
    from dyadsync.features.pose import pose
    from dyadsync.features.voice import analyse_voice
    from dyadsync.moments.params import MomentsParams
    from dyadsync.preprocess import PreprocessParams, prepare_pair
    from dyadsync.synchrony import summarize, windowed_cross_correlation
    from dyadsync.synchrony.entrainment import vocal_synchrony
    from dyadsync.synchrony.params import WCCParams

    config = PipelineConfig()
    def same(a, b):
        a, b = (list(x) if isinstance(x, tuple) else x for x in (a, b))
        return a == b or (a in (None, "", []) and b in (None, "", []))

    checked = 0
    # [voice] configures two functions: the extraction, and the entrainment series (whose step_s is the grid
    # step of the series, not the 10-ms frame step of the extraction)
    entrainment = ("window_turns", "step_s", "arousal", "arousal_window_s", "arousal_max_lag_s", "measures")
    for section, functions in [("motion", [motion_energy]), ("pose", [pose]), ("face", [face]),
                               ("voice", [analyse_voice, vocal_synchrony]), ("preprocess", [prepare_pair]),
                               ("synchrony", [windowed_cross_correlation, summarize])]:
        values = dataclasses.asdict(getattr(config, section))
        for function in functions:
            for name, parameter in inspect.signature(function).parameters.items():
                if function is analyse_voice and name in entrainment:
                    continue
                if name in values:
                    assert same(parameter.default, values[name]), (section, name, parameter.default, values[name])
                    checked += 1
    # the moments analyses take their defaults from MomentsParams (seeds are each function's own; comparisons
    # between two codes are two-sided by design)
    from dyadsync.moments import (
        coder_agreement,
        compare_event_groups,
        epoch_contrasts,
        event_coincidence,
        event_locked_average,
        peak_event_matching,
        shifted_pair_synchrony,
        synchrony_peaks,
    )

    values = dataclasses.asdict(MomentsParams())
    for function in (event_locked_average, epoch_contrasts, synchrony_peaks, shifted_pair_synchrony,
                     peak_event_matching, event_coincidence, coder_agreement, compare_event_groups):
        for name, parameter in inspect.signature(function).parameters.items():
            if name in values and name != "seed" and not (function is compare_event_groups and name == "alternative"):
                assert same(parameter.default, values[name]) or (parameter.default is None and values[name] == 0), \
                    (function.__name__, name, parameter.default, values[name])
                checked += 1
    assert checked >= 40
    # the layers' own parameter objects are the pipeline's sections
    assert isinstance(config.synchrony, WCCParams) and isinstance(config.moments, MomentsParams)
    assert isinstance(config.preprocess, PreprocessParams)
    base = {f.name for f in dataclasses.fields(MomentsParams)}
    assert {k: v for k, v in dataclasses.asdict(config.moments).items() if k in base} == \
        dataclasses.asdict(MomentsParams())
