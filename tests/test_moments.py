"""Event-locked averages: planted effects are found, null data are not (at about the nominal rate)."""

from __future__ import annotations

import numpy as np
import pytest

from dyadsync.errors import AnalysisError, DyadsyncWarning
from dyadsync.moments import event_locked_average


def ar1(rng, n, phi=0.9):
    x = np.empty(n)
    x[0] = rng.standard_normal()
    e = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def events(rng, n_events, total, length):
    onsets = np.sort(rng.choice(np.arange(60, total - 60, 5.0), n_events, replace=False))
    return onsets, onsets + length


def test_planted_bumps_are_detected_and_located():
    rng = np.random.default_rng(10)
    t = np.arange(0, 3000, 1.0)
    on, off = events(rng, 10, 3000, 20)
    sync = ar1(rng, len(t))
    for o in on:
        sync[(t >= o) & (t <= o + 20)] += 1.5
    res = event_locked_average(t, sync, on, off, tmin_s=-60, tmax_s=60, n_shifts=500, seed=1)
    assert res.test["p_value"] < 0.01 and res.test["above_band"]
    c = res.curve
    during = c[(c.rel_time_s >= 0) & (c.rel_time_s <= 20)]
    before = c[c.rel_time_s < -25]
    assert (during["mean_z"] > during["null_high"]).mean() > 0.8
    assert (before["mean_z"] < before["null_high"]).all()
    assert c["n_events"].max() == 10


def test_bump_before_the_events_is_seen_before_onset():
    rng = np.random.default_rng(11)
    t = np.arange(0, 3000, 1.0)
    on, _ = events(rng, 10, 3000, 0)
    sync = ar1(rng, len(t), 0.5)
    for o in on:
        sync[(t >= o - 12) & (t <= o - 8)] += 2.0
    res = event_locked_average(t, sync, on, tmin_s=-30, tmax_s=30, test_window_s=(-12, -8), n_shifts=500, seed=2)
    peak = res.curve.loc[res.curve["mean_z"].idxmax(), "rel_time_s"]
    assert -12 <= peak <= -8 and res.test["p_value"] < 0.01


def _bumped(sign, seed=20):
    rng = np.random.default_rng(seed)
    t = np.arange(0, 3000, 1.0)
    on, off = events(rng, 10, 3000, 20)
    sync = ar1(rng, len(t))
    for o in on:
        sync[(t >= o) & (t <= o + 20)] += sign * 1.5
    return t, sync, on, off


@pytest.mark.parametrize("sign", [1, -1])
def test_each_alternative_holds_the_statistic_against_its_own_band(sign):
    """A planted rise (or dip) is beyond the band only for the alternatives that look on its side."""
    t, sync, on, off = _bumped(sign)
    found = {}
    for alternative in ("greater", "less", "two-sided"):
        res = event_locked_average(t, sync, on, off, tmin_s=-60, tmax_s=60, n_shifts=500, band=0.9,
                                   alternative=alternative, seed=1)
        nulls = res.null_statistics[np.isfinite(res.null_statistics)]
        q = {"greater": 90, "less": 10, "two-sided": 95 if sign > 0 else 5}[alternative]
        assert res.test["null_q"] == pytest.approx(np.percentile(nulls, q)), alternative
        found[alternative] = (res.test["above_band"], res.test["p_value"])
        # beyond the band means on the tested side of null_q
        side = res.test["statistic"] > res.test["null_q"] if q > 50 else res.test["statistic"] < res.test["null_q"]
        assert res.test["above_band"] == side
    same, other = ("greater", "less") if sign > 0 else ("less", "greater")
    assert found[same][0] and found[same][1] < 0.01
    assert found["two-sided"][0] and found["two-sided"][1] < 0.01
    assert not found[other][0] and found[other][1] > 0.9


def test_null_rate_is_near_nominal():
    """No relation between synchrony and events: 'above band' in about 5% of sessions (here, of 200)."""
    hits = 0
    for seed in range(200):
        rng = np.random.default_rng(1000 + seed)
        t = np.arange(0, 1200, 0.5)
        on, off = events(rng, 6, 1200, 15)
        res = event_locked_average(t, ar1(rng, len(t)), on, off, n_shifts=199, seed=seed)
        hits += res.test["above_band"]
    # binomial(200, 0.05): 95% of runs fall in 4..17
    assert 2 <= hits <= 20, hits


def test_same_seed_same_numbers_other_seed_other_null():
    rng = np.random.default_rng(12)
    t = np.arange(0, 600, 1.0)
    sync = ar1(rng, len(t))
    on = np.array([100.0, 250.0, 420.0])
    a = event_locked_average(t, sync, on, n_shifts=200, seed=5)
    b = event_locked_average(t, sync, on, n_shifts=200, seed=5)
    c = event_locked_average(t, sync, on, n_shifts=200, seed=6)
    np.testing.assert_array_equal(a.null_statistics, b.null_statistics)
    assert not np.array_equal(a.null_statistics, c.null_statistics)
    assert a.test["statistic"] == c.test["statistic"] and a.test["seed"] == 5


def test_edges_and_bad_input():
    t = np.arange(0, 100, 1.0)
    sync = np.sin(t / 3)
    with pytest.warns(DyadsyncWarning, match="outside the synchrony series"):
        res = event_locked_average(t, sync, np.array([50.0, 150.0]), n_shifts=50, seed=0)
    assert res.test["n_events"] == 1 and res.test["n_events_outside"] == 1
    # an event near the start: its epoch is partly missing, counted in n_events per time
    res = event_locked_average(t, sync, np.array([5.0]), tmin_s=-20, tmax_s=20, n_shifts=50, seed=0)
    assert res.curve.loc[res.curve.rel_time_s == -10, "n_events"].item() == 0
    with pytest.raises(AnalysisError, match="no event onset"):
        event_locked_average(t, sync, np.array([500.0]), n_shifts=50)
    with pytest.raises(AnalysisError, match="constant"):
        event_locked_average(t, np.ones(100), np.array([50.0]), n_shifts=50)
    with pytest.raises(AnalysisError, match="regularly spaced"):
        event_locked_average(np.r_[t[:50], t[51:]], sync[:-1], np.array([50.0]), n_shifts=50)


@pytest.mark.parametrize("alternative, words", [
    ("greater", ["above the pointwise 95th null percentile", "one-sided (synchrony higher", "the 90th percentile"]),
    ("less", ["below the pointwise 5th null percentile", "one-sided (synchrony lower", "the 10th percentile"]),
    ("two-sided", ["below the pointwise 2.5th or above the 97.5th", "two-sided", "the 5th to 95th percentiles"]),
])
def test_methods_paragraph_names_the_band_and_direction_used(alternative, words):
    import dataclasses

    import pandas as pd

    from dyadsync.pipeline.config import MomentsSection
    from dyadsync.report.methods import moments_methods

    params = {**dataclasses.asdict(MomentsSection()), "band": 0.9, "alternative": alternative}
    tests = pd.DataFrame([{"feature": "motion_energy", "code": "MoM", "analysis": "event_locked", "n_shifts": 99,
                           "min_shift_s": 10.0, "test_window": "event span", "alternative": alternative}])
    text, _ = moments_methods(params, tests, window_s=5.0)
    for w in words:
        assert w in text, (w, text)
    assert "95th percentile of its null" not in text
