from __future__ import annotations

import numpy as np
import pytest

from dyadsync.errors import AnalysisError
from dyadsync.features import long_table
from dyadsync.preprocess import prepare_pair


def _table(times, a, b, artefact=None):
    cols = {("A", "m"): a, ("B", "m"): b}
    if artefact is not None:
        cols[("scene", "artefact")] = artefact
    return long_table(np.asarray(times, float), cols)


def test_feature_tables_join_with_their_categories_united():
    import pandas as pd

    from dyadsync.io.tables import concat_tables, feature_names

    pose = long_table(np.arange(3.0), {("B", "speed"): np.array([1.0, 2, 3]), ("A", "speed"): np.zeros(3)})
    voice = long_table(np.arange(2.0) / 100, {("A", "f0"): np.array([100.0, np.nan])})
    assert list(pose["feature"].astype(str)) == ["speed"] * 6 and list(pose["person"].astype(str)[:3]) == ["B"] * 3
    joined = concat_tables([pose, voice])
    assert list(joined.columns) == ["time_s", "person", "feature", "value"]
    assert list(joined["person"].cat.categories) == ["A", "B"]
    assert list(joined["feature"].cat.categories) == ["f0", "speed"]
    as_strings = pd.concat([t.astype({"person": str, "feature": str}) for t in (pose, voice)], ignore_index=True)
    pd.testing.assert_frame_equal(joined.astype({"person": str, "feature": str}), as_strings)
    assert feature_names(joined) == {"f0", "speed"} and feature_names(joined.iloc[:0]) == set()
    with pytest.raises(AnalysisError, match="A/f0: 2 values for 3 times"):
        long_table(np.arange(3.0), {("A", "f0"): np.zeros(2)})


def test_regular_series_are_kept_as_they_are():
    t = np.arange(100) / 25
    a, b = np.arange(100.0), np.arange(100.0) ** 2
    pair = prepare_pair(_table(t, a, b), "m", ["A", "B"])
    assert not pair.info["resampled"] and pair.rate_hz == pytest.approx(25)
    np.testing.assert_array_equal(pair.a, a)
    np.testing.assert_array_equal(pair.times_s, t)


def test_irregular_series_are_resampled_and_say_so():
    t = np.cumsum(np.r_[0, np.full(20, 0.04), np.full(20, 0.08)])
    pair = prepare_pair(_table(t, 2 * t, 3 * t), "m", ["A", "B"], rate_hz=25)
    assert pair.info["resampled"]
    np.testing.assert_allclose(pair.a, 2 * pair.times_s)
    np.testing.assert_allclose(np.diff(pair.times_s), 0.04)


def test_artefacts_masked_gaps_filled_smoothing_scaling():
    t = np.arange(50) / 10
    a = np.arange(50.0)
    art = np.zeros(50)
    art[[10, 11]] = 1
    pair = prepare_pair(_table(t, a, a.copy(), art), "m", ["A", "B"])
    assert np.isnan(pair.a[[10, 11]]).all() and pair.info["n_masked_artefacts"] == 2
    filled = prepare_pair(_table(t, a, a.copy(), art), "m", ["A", "B"], max_gap_s=0.2)
    np.testing.assert_allclose(filled.a, a)
    short = prepare_pair(_table(t, a, a.copy(), art), "m", ["A", "B"], max_gap_s=0.1)
    assert np.isnan(short.a[[10, 11]]).all()
    sm = prepare_pair(_table(t, a, a.copy()), "m", ["A", "B"], smooth_s=0.5)
    np.testing.assert_allclose(sm.a[5:-5], a[5:-5])  # a moving average leaves a straight line unchanged
    sd = prepare_pair(_table(t, a + 10, a.copy()), "m", ["A", "B"], scale="sd")
    assert np.std(sd.a, ddof=1) == pytest.approx(1) and sd.a.min() > 0


def test_missing_person_or_feature():
    t = np.arange(10) / 10
    table = _table(t, t, t)
    with pytest.raises(AnalysisError, match="no feature 'x'"):
        prepare_pair(table, "x", ["A", "B"])
    with pytest.raises(AnalysisError, match=r"person\(s\) \['C'\]"):
        prepare_pair(table, "m", ["A", "C"])


def test_resampling_never_interpolates_across_a_gap():
    """Irregular samples with a NaN stretch and a stretch without samples: the grid keeps both gaps."""
    rng = np.random.default_rng(0)
    t = np.arange(0, 20, 0.1) + rng.uniform(-0.02, 0.02, 200)  # jittered 10 Hz
    t = t[(t < 8) | (t > 12)]  # no samples at all from 8 to 12 s
    a = 3.0 * t
    a[(t > 4) & (t < 5)] = np.nan  # missing values from 4 to 5 s
    pair = prepare_pair(_table(t, a, a.copy()), "m", ["A", "B"], rate_hz=10)
    assert pair.info["resampled"]
    g = pair.times_s
    valid = np.isfinite(a)

    def around(x):
        i, k = np.searchsorted(t, x, side="right") - 1, np.searchsorted(t, x, side="left")
        return i, k

    for x, v in zip(g, pair.a):
        i, k = around(x)
        expected = valid[i] and valid[k] and t[k] - t[i] <= 2 * np.median(np.diff(t)) * 1.05
        assert np.isfinite(v) == expected, (x, v, t[i], t[k])
        if expected:
            assert v == pytest.approx(3.0 * x)
    assert np.isnan(pair.a[(g > 8) & (g < 12)]).all() and np.isnan(pair.a[(g > 4) & (g < 5)]).all()
    # with gap filling allowed over 5 s, the stretch without samples is interpolated (on the line)
    filled = prepare_pair(_table(t, a, a.copy()), "m", ["A", "B"], rate_hz=10, max_gap_s=5.0)
    inside = (g > 8.2) & (g < 11.8)
    np.testing.assert_allclose(filled.a[inside], 3.0 * g[inside])
