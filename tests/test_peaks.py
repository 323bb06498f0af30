"""Boker's peak picking: planted lags recovered within one sample; the search and rejection rules by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dyadsync.features import to_wide
from dyadsync.simulate import simulate_dyad
from dyadsync.synchrony import summarize, windowed_cross_correlation
from dyadsync.synchrony.peaks import pick_peak_lags, pick_peaks


@pytest.mark.parametrize("lag_s, seed", [(0.8, 0), (-1.2, 1), (0.0, 2), (0.4, 3)])
def test_planted_lag_recovered_within_one_sample(lag_s, seed):
    """simulate_dyad: B imitates A lag_s later throughout; the peak lag of each window is the planted lag."""
    rate = 25.0
    dyad = simulate_dyad(duration_s=180, rate_hz=rate, lag_s=lag_s, episodes=[(0, 180)], coupling=0.8, seed=seed)
    wide = to_wide(dyad.motion, "planted_speed")
    wcc = windowed_cross_correlation(wide["left"], wide["right"], rate_hz=rate, window_s=20, step_s=5, max_lag_s=5)
    peaks = pick_peaks(wcc)
    found = peaks["peak_lag_s"].dropna()
    assert len(found) >= 0.85 * len(peaks)
    error = np.abs(found - lag_s) * rate
    assert (error <= 1 + 1e-9).mean() >= 0.95 and np.median(error) == pytest.approx(0, abs=1e-9)
    table = summarize(wcc)
    np.testing.assert_allclose(table["peak_lag_s"], peaks["peak_lag_s"], equal_nan=True)


def test_nearest_dominant_peak_not_the_global_maximum():
    lags = np.arange(-20, 21)
    profile = 0.3 * np.exp(-((lags - 3) ** 2) / 4.0) + 0.9 * np.exp(-((lags + 9) ** 2) / 4.0)
    lag, value = pick_peak_lags(profile[None, :], rate_hz=10, smooth_s=0, search_s=0.3)
    assert lag[0] == 3 and value[0] == pytest.approx(profile[23])
    # With a search distance reaching the far bump, the larger peak wins.
    lag, _ = pick_peak_lags(profile[None, :], rate_hz=10, smooth_s=0, search_s=0.5)
    assert lag[0] == -9


def test_boundary_peaks_and_missing_values_are_rejected():
    lags = np.arange(-20, 21)
    rising = (lags + 20) / 40.0  # keeps rising to the edge: no peak inside the range
    near_edge = np.exp(-((lags - 17) ** 2) / 2.0)  # a peak closer to the edge than the search distance
    hole = np.exp(-(lags**2) / 8.0)
    hole[0] = np.nan
    lag, value = pick_peak_lags(np.vstack([rising, near_edge, hole]), rate_hz=10, smooth_s=0, search_s=0.5)
    assert np.isnan(lag).all() and np.isnan(value).all()
    lag, _ = pick_peak_lags(near_edge[None, :], rate_hz=10, smooth_s=0, search_s=0.3)
    assert lag[0] == 17


def test_smoothing_ignores_a_one_lag_spike():
    lags = np.arange(-25, 26)
    profile = np.exp(-((lags - 6) ** 2) / 30.0)
    profile[25 + 1] += 0.6  # a single-sample spike near lag 0
    rough, _ = pick_peak_lags(profile[None, :], rate_hz=10, smooth_s=0, search_s=0.5)
    smooth, value = pick_peak_lags(profile[None, :], rate_hz=10, smooth_s=1.0, search_s=0.5)
    assert rough[0] == 1 and abs(smooth[0] - 6) <= 1
    assert value[0] == pytest.approx(profile[25 + int(smooth[0])])  # the unsmoothed value at the peak
