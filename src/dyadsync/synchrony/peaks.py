"""Peak picking in each window's lag profile (Boker, Xu, Rotondo & King, 2002).

The best lag of a window is not simply the lag of its largest value: a lag profile is noisy, and its global
maximum can sit at the edge of the lag range or on a far, spurious bump. Boker et al.'s peak picking:

1. smooth the window's profile over the lags (here a local quadratic fit, Savitzky-Golay, over ``smooth_s``);
2. search outward from lag 0, widening the searched range one sample to each side at a time and keeping the
   largest value seen; stop once the range has widened ``search_s`` further without a larger value: the
   largest value is then a local peak, the one nearest to lag 0 that dominates its neighbourhood;
3. reject the peak (missing value) when it lies within ``search_s`` of the lag boundary, where it cannot be
   told from the rising flank of a peak outside the lag range.

The result per window is the peak's lag (positive: B follows A) and the correlation there, taken from the
unsmoothed profile. Windows with a missing value anywhere in the profile get no peak, as in Boker's procedure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validate import check_positive
from ..errors import AnalysisError
from ._corr import as_array, check_wcc
from .results import WCC

#: Default width of the smoothing over lags, in seconds.
PEAK_SMOOTH_S = 0.5
#: Default search distance (how far past a candidate the profile must stay lower), in seconds.
PEAK_SEARCH_S = 1.0


def pick_peak_lags(
    values: np.ndarray,
    *,
    rate_hz: float,
    smooth_s: float = PEAK_SMOOTH_S,
    search_s: float = PEAK_SEARCH_S,
) -> tuple[np.ndarray, np.ndarray]:
    """Boker's peak picking on a windows x lags matrix whose lags run symmetrically around lag 0.

    Parameters
    ----------
    values : ndarray, shape (n_windows, n_lags)
        One lag profile per row; ``n_lags`` is odd and the middle column is lag 0.
    rate_hz : float
        Lags are one sample (``1 / rate_hz`` s) apart.
    smooth_s : float, default 0.5
        Width of the local quadratic smoothing over lags, in seconds (0: no smoothing; it needs at least 5 lags).
    search_s : float, default 1.0
        Search distance in seconds (at least one lag).

    Returns
    -------
    peak_lag : ndarray of float, shape (n_windows,)
        Lag of the peak in samples (positive: B follows A); NaN where no peak was accepted.
    peak_value : ndarray, shape (n_windows,)
        The unsmoothed value at the peak lag; NaN where no peak.
    """
    v = as_array("values", values, ndim=(2,))
    if v.shape[1] % 2 == 0:
        raise AnalysisError(f"values must be windows x an odd number of lags, got shape {v.shape}")
    rate_hz = check_positive("rate_hz", rate_hz)
    n_w, n_lags = v.shape
    half = n_lags // 2
    peak_lag = np.full(n_w, np.nan)
    peak_value = np.full(n_w, np.nan)
    rows = np.flatnonzero(np.isfinite(v).all(axis=1))
    if half == 0 or rows.size == 0:
        return peak_lag, peak_value
    profile = _smooth(v[rows], int(round(check_positive("smooth_s", smooth_s, allow_zero=True) * rate_hz)))
    search = max(1, int(round(check_positive("search_s", search_s) * rate_hz)))
    left = profile[:, half::-1]  # left[:, k] = value at lag -k
    right = profile[:, half:]  # right[:, k] = value at lag +k
    side = np.maximum(left, right)
    running = np.maximum.accumulate(side, axis=1)
    k = np.arange(half + 1)
    improved = np.ones_like(side, dtype=bool)
    improved[:, 1:] = side[:, 1:] > running[:, :-1]
    last = np.maximum.accumulate(np.where(improved, k, 0), axis=1)
    stopped = (k[None, :] - last) >= search
    stop = np.where(stopped.any(axis=1), stopped.argmax(axis=1), half)
    best = last[np.arange(len(rows)), stop]
    sign = np.where(left[np.arange(len(rows)), best] >= right[np.arange(len(rows)), best], -1, 1)
    lag = np.where(best == 0, 0, sign * best)
    ok = best <= half - search
    peak_lag[rows[ok]] = lag[ok]
    peak_value[rows[ok]] = v[rows[ok], half + lag[ok]]
    return peak_lag, peak_value


def _smooth(profile: np.ndarray, width: int) -> np.ndarray:
    """Local quadratic (Savitzky-Golay) smoothing over lags; ``width`` in samples, made odd, at least 5."""
    if width < 5:
        return profile
    from scipy.signal import savgol_filter

    width = min(width if width % 2 else width + 1, profile.shape[1] if profile.shape[1] % 2 else profile.shape[1] - 1)
    if width < 5:
        return profile
    return savgol_filter(profile, width, 2, axis=1, mode="interp")


def pick_peaks(wcc: WCC, *, smooth_s: float = PEAK_SMOOTH_S, search_s: float = PEAK_SEARCH_S) -> pd.DataFrame:
    """Boker's peak picking for every window of a windowed cross-correlation.

    Parameters
    ----------
    wcc : WCC
    smooth_s : float, default 0.5
        Width of the smoothing over lags, in seconds.
    search_s : float, default 1.0
        Search distance, in seconds.

    Returns
    -------
    DataFrame
        One row per window: ``time_s`` (window centre), ``peak_lag_s`` (positive: B follows A; NaN when no
        peak was accepted) and ``peak_sync`` (the window's value at that lag).
    """
    wcc = check_wcc(wcc)
    lag, value = pick_peak_lags(wcc.values, rate_hz=wcc.rate_hz, smooth_s=smooth_s, search_s=search_s)
    return pd.DataFrame({"time_s": wcc.times_s, "peak_lag_s": lag / wcc.rate_hz, "peak_sync": value})
