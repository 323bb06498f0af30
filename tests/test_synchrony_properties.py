"""Invariants of the synchrony engines, checked by hypothesis over series, windows, lags, scales and gaps.

The series are drawn from numpy with a hypothesis-chosen seed (smoothed noise, optionally with missing values),
not as arbitrary floats: the engines deliberately treat a variance at rounding level as none (a constant
stretch), and adversarial floats would only find that documented rule again. What hypothesis varies and shrinks
is everything else: length, rate, window, step, lag range, planted lag, scale factor, offset, gaps.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dyadsync.errors import DyadsyncWarning
from dyadsync.synchrony import (
    compare,
    compare_groups,
    mea_ccf,
    pick_peak_lags,
    rmea_summaries,
    summarize,
    susy,
    windowed_cross_correlation,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def smooth_noise(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """White noise smoothed by a moving average of ``width`` samples (autocorrelated like movement)."""
    kernel = np.ones(width) / width
    return np.convolve(rng.standard_normal(n + width), kernel, "valid")[:n]


@st.composite
def dyads(draw, *, gaps: bool = True):
    """A pair of series with engine parameters: (a, b, parameters in seconds, rate)."""
    rate = draw(st.sampled_from([4.0, 10.0, 25.0]))
    win = draw(st.integers(8, 60))
    max_lag = draw(st.integers(0, win // 2))
    step = draw(st.integers(1, win))
    n = draw(st.integers(win + 2 * max_lag, win + 2 * max_lag + 200))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = smooth_noise(rng, n, draw(st.integers(1, 5))) * 40 + 300
    b = 0.5 * np.roll(a, draw(st.integers(-max_lag, max_lag))) + rng.standard_normal(n) * 20 + 100
    if gaps and draw(st.booleans()):
        a[rng.choice(n, n // 20, replace=False)] = np.nan
        start = draw(st.integers(0, n - 1))
        b[start : start + draw(st.integers(1, 12))] = np.nan
    kw = dict(rate_hz=rate, window_s=win / rate, step_s=step / rate, max_lag_s=max_lag / rate)
    return a, b, kw


def engine(a, b, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)  # durations are whole samples here by construction
        return windowed_cross_correlation(a, b, **kw)


# ------------------------------------------------------------------------------------ swapping the persons


@FAST
@given(dyads(), st.booleans(), st.booleans())
def test_swapping_persons_mirrors_the_lags(dyad, fisher_z, absolute):
    """The value at lag L for (A, B) is the value at -L for (B, A), over the same pairs of samples.

    Windows are anchored on person A, so (B, A)'s window holding those pairs starts L samples later: with a step
    of one sample, window w of (A, B) at lag L is window w + L of (B, A) at lag -L.
    """
    a, b, kw = dyad
    kw = {**kw, "step_s": 1 / kw["rate_hz"], "fisher_z": fisher_z, "absolute": absolute}
    ab, ba = engine(a, b, **kw), engine(b, a, **kw)
    n_w, n_lags = ab.values.shape
    max_lag = n_lags // 2
    for j, lag in enumerate(range(-max_lag, max_lag + 1)):
        w = np.arange(n_w)
        keep = (w + lag >= 0) & (w + lag < n_w)
        mirrored = ba.values[w[keep] + lag, n_lags - 1 - j]
        np.testing.assert_allclose(ab.values[w[keep], j], mirrored, rtol=1e-9, atol=1e-9, equal_nan=True)
        np.testing.assert_array_equal(ab.n_pairs[w[keep], j], ba.n_pairs[w[keep] + lag, n_lags - 1 - j])


@FAST
@given(dyads())
def test_swapping_persons_mirrors_the_rmea_lags_window_by_window(dyad):
    """rMEA's windows span win + lag samples of both persons, so swapping mirrors every window exactly."""
    a, b, kw = dyad
    p = dict(rate_hz=kw["rate_hz"], lag_s=kw["max_lag_s"], window_s=kw["window_s"], step_s=kw["step_s"])
    assume(kw["window_s"] * kw["rate_hz"] + kw["max_lag_s"] * kw["rate_hz"] <= len(a))
    ab, ba = mea_ccf(a, b, **p, absolute=False), mea_ccf(b, a, **p, absolute=False)
    np.testing.assert_allclose(ab.values, ba.values[:, ::-1], rtol=1e-9, atol=1e-9, equal_nan=True)
    mirrored = rmea_summaries(ba)
    summaries = rmea_summaries(ab)
    np.testing.assert_allclose(summaries["s1_lead"], mirrored["s2_lead"], atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(summaries["lag_zero"], mirrored["lag_zero"], atol=1e-9, equal_nan=True)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 3))
def test_swapping_persons_mirrors_the_susy_profile(seed, segment_factor, max_lag):
    rng = np.random.default_rng(seed)
    a = smooth_noise(rng, 400, 3)
    b = np.roll(a, 2) + rng.standard_normal(400)
    segment = max(2 * max_lag, 1) * segment_factor + 10
    ab = susy(a, b, rate_hz=1, segment_s=segment, max_lag_s=max_lag)
    ba = susy(b, a, rate_hz=1, segment_s=segment, max_lag_s=max_lag)
    for column in ("z", "z_pseudo", "z_noabs", "r"):
        np.testing.assert_allclose(ab.lag_profile[column], ba.lag_profile[column][::-1], rtol=1e-10, atol=1e-12)
    assert ab.indices["z"] == pytest.approx(ba.indices["z"], rel=1e-10)
    if max_lag:
        assert ab.indices["z_a_leads"] == pytest.approx(ba.indices["z_b_leads"], rel=1e-10)


# ---------------------------------------------------------------------------- offset and scale invariance


@FAST
@given(dyads(), st.floats(0.01, 100), st.floats(-1000, 1000), st.booleans(), st.booleans(), st.booleans())
def test_offset_and_scale_leave_correlation_unchanged(dyad, factor, offset, negative, fisher_z, absolute):
    """r(c * a + d, b) = sign(c) r(a, b): with absolute values nothing changes, signed values flip with c < 0."""
    a, b, kw = dyad
    kw = {**kw, "fisher_z": fisher_z, "absolute": absolute}
    c = -factor if negative else factor
    real = engine(a, b, **kw)
    moved = engine(c * a + offset, b, **kw)
    expected = real.values if absolute or not negative else -real.values
    # Fisher z is steep near |r| = 1; compare there in r, where the engine's rounding is ~1e-12.
    to_r = np.tanh if fisher_z else (lambda v: v)
    np.testing.assert_allclose(to_r(moved.values), to_r(expected), atol=1e-8, equal_nan=True)
    np.testing.assert_array_equal(moved.n_pairs, real.n_pairs)
    both = engine(c * a + offset, (factor / 3) * b - offset, **kw)
    np.testing.assert_allclose(to_r(both.values), to_r(expected), atol=1e-8, equal_nan=True)


@FAST
@given(dyads(gaps=False), st.floats(0.01, 100), st.floats(-1000, 1000))
def test_offset_and_scale_leave_rmea_synchrony_unchanged(dyad, factor, offset):
    a, b, kw = dyad
    p = dict(rate_hz=kw["rate_hz"], lag_s=kw["max_lag_s"], window_s=kw["window_s"], step_s=kw["step_s"])
    assume(kw["window_s"] * kw["rate_hz"] + kw["max_lag_s"] * kw["rate_hz"] <= len(a))
    real = mea_ccf(a, b, **p, fisher_z=False, absolute=False)
    for moved in (mea_ccf(factor * a + offset, b, **p, fisher_z=False, absolute=False),
                  -mea_ccf(-factor * a + offset, b, **p, fisher_z=False, absolute=False).values):
        values = moved if isinstance(moved, np.ndarray) else moved.values
        np.testing.assert_allclose(values, real.values, atol=1e-8, equal_nan=True)


# -------------------------------------------------------------------------------- a lagged copy of itself


@FAST
@given(st.integers(0, 2**32 - 1), st.sampled_from([5.0, 10.0, 25.0]), st.integers(20, 80), st.integers(3, 15),
       st.data())
def test_a_series_against_its_lagged_copy_peaks_at_that_lag(seed, rate, win, max_lag, data):
    """B = A delayed by L samples (B follows A: positive lag): every window whose pairs are all inside the
    series has its largest value exactly at +L, and Boker's peak picking finds L there too."""
    max_lag = min(max_lag, win - 1)
    lag = data.draw(st.integers(-max_lag, max_lag), label="lag")
    n = win * 6
    a = smooth_noise(np.random.default_rng(seed), n, 2)
    if lag >= 0:  # b[i] = a[i - L]: B does what A did L samples earlier
        b = np.concatenate([np.full(lag, np.nan), a[: n - lag]])
    else:  # b[i] = a[i + |L|]: B does first what A does |L| samples later
        b = np.concatenate([a[-lag:], np.full(-lag, np.nan)])
    step = max(1, win // 3)
    wcc = engine(a, b, rate_hz=rate, window_s=win / rate, step_s=step / rate, max_lag_s=max_lag / rate)
    starts = np.arange(len(wcc.values)) * step
    inside = (starts + min(lag, 0) >= 0) & (starts + win + max(lag, 0) <= n)
    inside &= np.isfinite(b[np.clip(starts[:, None] + np.arange(win) + lag, 0, n - 1)]).all(axis=1)
    assume(inside.any())
    table = summarize(wcc)
    np.testing.assert_array_equal(np.round(table["best_lag_s"][inside] * rate), lag)
    # Boker's search stops after ``search`` lags without a larger value and rejects a peak within ``search`` of
    # the boundary: a search of |L| lags cannot stop before reaching L, and 2 |L| <= max_lag keeps L accepted.
    search = max(abs(lag), 1)
    rows = inside & np.isfinite(wcc.values).all(axis=1)
    if max_lag >= 2 * abs(lag) and max_lag >= 1 and rows.any():
        peak, value = pick_peak_lags(wcc.values[rows], rate_hz=rate, smooth_s=0, search_s=search / rate)
        np.testing.assert_array_equal(peak, lag)
        np.testing.assert_array_equal(value, wcc.values[rows, max_lag + lag])


# ----------------------------------------------------------------------------- rMEA mode's window definition


@FAST
@given(st.integers(0, 2**32 - 1), st.sampled_from([5.0, 25.0]), st.integers(4, 40), st.integers(0, 10),
       st.integers(1, 30), st.integers(0, 120), st.floats(-50, 50))
def test_rmea_windows_start_at_k_inc_and_hold_win_plus_lag_samples(seed, rate, win, lag, inc, extra, t0):
    """rMEA's MEAccf: window k starts at k * inc samples and holds win + lag samples, forward; at L >= 0 its
    first win samples of A pair with B's L later, at L < 0 A's |L| later with B's first win; the number of
    windows is ceiling((N - win - lag + 1) / inc)."""
    n = win + lag + extra
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, n))
    wcc = mea_ccf(a, b, rate_hz=rate, lag_s=lag / rate, window_s=win / rate, step_s=inc / rate,
                  fisher_z=False, absolute=False, t0_s=t0)
    n_windows = math.ceil((n - win - lag + 1) / inc)
    assert wcc.values.shape == (n_windows, 2 * lag + 1)
    k = np.arange(n_windows)
    np.testing.assert_allclose(wcc.starts_s, t0 + k * inc / rate, rtol=0, atol=1e-9)
    np.testing.assert_allclose(wcc.ends_s, t0 + (k * inc + win + lag - 1) / rate, rtol=0, atol=1e-9)
    np.testing.assert_allclose(wcc.times_s, (wcc.starts_s + wcc.ends_s) / 2, rtol=0, atol=1e-12)
    for w in (0, n_windows - 1):
        s = w * inc
        for j, L in enumerate(range(-lag, lag + 1)):
            x, y = (a[s : s + win], b[s + L : s + L + win]) if L >= 0 else (a[s - L : s - L + win], b[s : s + win])
            assert wcc.values[w, j] == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-10)
    table = rmea_summaries(wcc)  # rMEA's winTimes: the window's start and start + window, from 0 (not t0)
    np.testing.assert_allclose([_seconds(x) for x in table["win_start"]], k * inc / rate, atol=0.005)
    np.testing.assert_allclose([_seconds(x) for x in table["win_end"]], (k * inc + win) / rate, atol=0.005)


def _seconds(hms: str) -> float:
    hours, minutes, seconds = hms.split(":")
    return 3600 * int(hours) + 60 * int(minutes) + float(seconds)


# -------------------------------------------------------------------------------------------- p-value rules


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5).map(float), st.just(math.nan)), min_size=0, max_size=40),
       st.integers(-6, 6).map(float))
def test_compare_p_is_one_plus_null_at_least_real_over_one_plus_n(null, real):
    """p = (1 + #{null >= real}) / (1 + n) over the finite surrogates (Phipson & Smyth 2010): never 0, ties
    counted against the real value; percentile = % below, ties half."""
    finite = [x for x in null if not math.isnan(x)]
    out = compare(real, null)
    assert out["n"] == len(finite)
    if not finite:
        assert math.isnan(out["p"]) and math.isnan(out["percentile"])
        return
    assert out["p"] == (1 + sum(x >= real for x in finite)) / (1 + len(finite))
    below, ties = sum(x < real for x in finite), sum(x == real for x in finite)
    assert out["percentile"] == pytest.approx(100 * (below + ties / 2) / len(finite))
    assert out["null_mean"] == pytest.approx(np.mean(finite))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 20).map(float), min_size=1, max_size=8),
       st.lists(st.integers(0, 20).map(float), min_size=1, max_size=25), st.integers(0, 2**32 - 1),
       st.integers(1, 60))
def test_compare_groups_p_counts_random_subsets_at_least_the_group_mean(real, null, seed, n_draws):
    """p = (1 + #{mean of a random size-m subset of the surrogates >= the group mean}) / (1 + n_draws), m the
    group size (at most the number of surrogates). The subsets are recomputed here from the same random keys
    with a plain sort (the function uses a partial one). Whole numbers keep every mean exact."""
    out = compare_groups(real, null, seed=seed, n_draws=n_draws)
    keys = np.random.default_rng(seed).random((n_draws, len(null)))
    size = min(len(real), len(null))
    means = [np.mean(np.asarray(null)[np.argsort(row)[:size]]) for row in keys]
    assert out["p"] == (1 + sum(m >= np.mean(real) for m in means)) / (1 + n_draws)
    assert (out["n_real"], out["n_null"]) == (len(real), len(null))
    if size == len(null):  # every subset is all of them: p is 1 or its floor
        assert out["p"] == (1.0 if np.mean(real) <= np.mean(null) else 1 / (1 + n_draws))


def test_surrogate_threshold_is_the_percentile_of_the_surrogates_per_window():
    from dyadsync.synchrony import circular_shift

    rng = np.random.default_rng(3)
    a = smooth_noise(rng, 600, 3)
    b = np.roll(a, 3) + rng.standard_normal(600)
    res = circular_shift(a, b, rate_hz=10, window_s=6, step_s=2, max_lag_s=1, n_surrogates=40, seed=1)
    for q in (2.5, 50, 95, 97.5):
        np.testing.assert_array_equal(res.threshold(q), np.percentile(res.window_sync, q, axis=0))
