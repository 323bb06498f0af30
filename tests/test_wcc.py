"""Windowed cross-lagged correlation against a brute-force reference and planted lags."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dyadsync.errors import AnalysisError, DyadsyncWarning
from dyadsync.synchrony import global_index, summarize, windowed_cross_correlation


def brute_force(a, b, win, step, max_lag, min_valid=0.8):
    """Direct definition: r of (a[i], b[i + lag]) over i in [s, s + win), complete pairs only."""
    n = len(a)
    starts = range(0, n - win + 1, step)
    out = np.full((len(starts), 2 * max_lag + 1), np.nan)
    for w, s in enumerate(starts):
        for j, lag in enumerate(range(-max_lag, max_lag + 1)):
            i = np.arange(s, s + win)
            ok = (i + lag >= 0) & (i + lag < n)
            x, y = a[i[ok]], b[i[ok] + lag]
            good = np.isfinite(x) & np.isfinite(y)
            if good.sum() >= np.ceil(min_valid * win) and x[good].std() > 0 and y[good].std() > 0:
                out[w, j] = np.corrcoef(x[good], y[good])[0, 1]
    return out


def test_matches_brute_force_with_missing_values():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(400) * 50 + 1000
    b = np.roll(a, 3) + rng.standard_normal(400) * 40
    a[rng.choice(400, 30, replace=False)] = np.nan
    b[100:110] = np.nan
    res = windowed_cross_correlation(a, b, rate_hz=10, window_s=6, step_s=2, max_lag_s=1, fisher_z=False, absolute=False)
    ref = brute_force(a, b, 60, 20, 10)
    np.testing.assert_allclose(res.values, ref, atol=1e-10, equal_nan=True)
    assert res.values.shape == (18, 21)
    np.testing.assert_allclose(res.lags_s, np.arange(-10, 11) / 10)


@pytest.mark.parametrize(
    "n, win, step, lag, method",
    [(1200, 100, 50, 30, "per_window"), (1200, 100, 2, 5, "per_lag"), (3000, 600, 300, 125, "per_window")],
)
def test_both_computations_match_brute_force(n, win, step, lag, method):
    """Per-lag cumulative sums and per-window FFTs: the engine picks the cheaper; both equal the definition."""
    rng = np.random.default_rng(8)
    a = np.round(np.abs(rng.normal(0, 900, n)))  # MEA-like pixel counts
    b = np.round(0.5 * np.roll(a, 7) + np.abs(rng.normal(0, 700, n)))
    a[300:340] = np.nan  # some windows with missing values take the direct path
    b[rng.choice(np.arange(500, 700), 5, replace=False)] = np.nan
    b[900:1000] = 4.0  # a constant stretch: no correlation
    res = windowed_cross_correlation(a, b, rate_hz=10, window_s=win / 10, step_s=step / 10, max_lag_s=lag / 10,
                                     fisher_z=False, absolute=False)
    assert res.params["method"] == method
    np.testing.assert_allclose(res.values, brute_force(a, b, win, step, lag), atol=1e-10, equal_nan=True)


def test_fisher_z_and_absolute_values():
    rng = np.random.default_rng(2)
    a = rng.standard_normal(300)
    b = -a + 0.5 * rng.standard_normal(300)
    r = windowed_cross_correlation(a, b, rate_hz=10, window_s=5, step_s=5, max_lag_s=0, fisher_z=False, absolute=False)
    z = windowed_cross_correlation(a, b, rate_hz=10, window_s=5, step_s=5, max_lag_s=0, fisher_z=True, absolute=False)
    za = windowed_cross_correlation(a, b, rate_hz=10, window_s=5, step_s=5, max_lag_s=0)
    assert (r.values < 0).all()
    np.testing.assert_allclose(z.values, np.arctanh(r.values))
    np.testing.assert_allclose(za.values, np.abs(np.arctanh(r.values)))


@pytest.mark.parametrize("lag_samples", [-7, 0, 4, 13])
def test_planted_lag_is_recovered_exactly(lag_samples):
    """B copies A ``lag`` samples later: the best lag is +lag (positive lag = B follows A)."""
    rng = np.random.default_rng(3)
    n, fs = 3000, 25.0
    a = np.convolve(rng.standard_normal(n + 50), np.ones(5) / 5, mode="same")[:n]
    b = np.roll(a, lag_samples) + 0.3 * rng.standard_normal(n)
    res = windowed_cross_correlation(a, b, rate_hz=fs, window_s=8, step_s=4, max_lag_s=1)
    table = summarize(res)
    inner = table.iloc[1:-1]
    assert (inner["best_lag_s"] == lag_samples / fs).all()
    lead_side = "a_leads" if lag_samples > 0 else "b_leads"
    if lag_samples:
        other = "b_leads" if lag_samples > 0 else "a_leads"
        assert (inner[lead_side] > inner[other]).all()


def test_swapping_persons_negates_the_lag():
    rng = np.random.default_rng(4)
    a = np.convolve(rng.standard_normal(1000), np.ones(3) / 3, mode="same")
    b = np.roll(a, 5) + 0.2 * rng.standard_normal(1000)
    ab = summarize(windowed_cross_correlation(a, b, rate_hz=10, window_s=10, step_s=10, max_lag_s=2))
    ba = summarize(windowed_cross_correlation(b, a, rate_hz=10, window_s=10, step_s=10, max_lag_s=2))
    np.testing.assert_allclose(ab["best_lag_s"].iloc[1:-1], -ba["best_lag_s"].iloc[1:-1])


def test_window_centres_and_summaries():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 250))
    res = windowed_cross_correlation(a, b, rate_hz=10, window_s=5, step_s=2.5, max_lag_s=1, t0_s=100.0)
    np.testing.assert_allclose(res.starts_s, 100 + np.arange(9) * 2.5)
    np.testing.assert_allclose(res.times_s, res.starts_s + 4.9 / 2)
    t = summarize(res, summary="mean")
    np.testing.assert_allclose(t["sync"], np.nanmean(res.values, axis=1))
    np.testing.assert_allclose(t["lag0"], res.values[:, 10])
    np.testing.assert_allclose(t["a_leads"], res.values[:, 11:].mean(axis=1))
    np.testing.assert_allclose(t["b_leads"], res.values[:, :10].mean(axis=1))
    assert global_index(res) == pytest.approx(res.values.mean())


def test_too_short_and_rounding():
    with pytest.raises(AnalysisError, match="shorter than one window"):
        windowed_cross_correlation(np.ones(10), np.ones(10), rate_hz=10, window_s=5, step_s=1, max_lag_s=1)
    with pytest.raises(AnalysisError, match="max_lag_s"):
        windowed_cross_correlation(np.ones(100), np.ones(100), rate_hz=10, window_s=2, step_s=1, max_lag_s=2)
    rng = np.random.default_rng(6)
    with pytest.warns(DyadsyncWarning, match="step_s = 0.5 s is not a whole number of samples at 25 Hz"):
        windowed_cross_correlation(*rng.standard_normal((2, 500)), rate_hz=25, window_s=4, step_s=0.5, max_lag_s=1)


def test_constant_stretch_gives_missing_not_noise():
    rng = np.random.default_rng(7)
    a = rng.standard_normal(300)
    b = rng.standard_normal(300)
    b[:100] = 5.0  # a person who does not move at all
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = windowed_cross_correlation(a, b, rate_hz=10, window_s=5, step_s=5, max_lag_s=0)
    assert np.isnan(res.values[:2]).all() and np.isfinite(res.values[2:]).all()
