"""Windowed cross-lagged correlation (WCLC; Boker et al. 2002; Ramseyer & Tschacher 2011).

For windows of ``window_s`` seconds stepping by ``step_s``, the Pearson correlation between person A's series
and person B's series shifted by every lag in ``[-max_lag_s, +max_lag_s]``. Lag convention, everywhere in
dyadsync: at a positive lag ``tau`` A's value at ``t`` is paired with B's value at ``t + tau``, so a peak at a
positive lag means that **B follows A** (A leads) by ``tau`` seconds.

Windows are anchored on A: window ``w`` holds A's samples ``[w * step, w * step + window)`` and is stamped at
their centre, which is the right time base for relating synchrony to events. Missing values (NaN) are skipped
pairwise; a correlation needs at least ``min_valid`` of the window's pairs.

The computation is vectorised in one of two exact ways, whichever costs less: cumulative sums per lag over the
whole series (windows that overlap much, few lags), or one FFT cross-correlation per window (many lags, few
windows; windows at the edges or with missing values correlate zero-filled values and validity masks). Both work on series
centred by their overall mean, which keeps the sums small; they agree with the direct definition to ~1e-12.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validate import check_positive
from ..errors import AnalysisError, ConfigError, DyadsyncWarning
from ._corr import (
    check_wcc,
    number,
    pearson_from_sums,
    quiet_nanmean,
    series_pair,
    two_persons,
    wcc_result,
)
from .params import WCCParams, check_summary
from .peaks import pick_peak_lags
from .results import WCC

_DEFAULT = WCCParams()


def windowed_cross_correlation(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    window_s: float = _DEFAULT.window_s,
    step_s: float = _DEFAULT.step_s,
    max_lag_s: float = _DEFAULT.max_lag_s,
    fisher_z: bool = _DEFAULT.fisher_z,
    absolute: bool = _DEFAULT.absolute,
    min_valid: float = _DEFAULT.min_valid,
    t0_s: float = 0.0,
) -> WCC:
    """Windowed cross-lagged correlation of two equally sampled series.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Person A's and person B's series on the same regular grid (NaN = missing).
    rate_hz : float
        Sampling rate in Hz.
    window_s : float, default 8
        Window length in seconds (rounded to whole samples).
    step_s : float, default 0.4
        Step between window starts in seconds (rounded to whole samples, at least one).
    max_lag_s : float, default 3
        Largest lag in seconds; lags run from ``-max_lag_s`` to ``+max_lag_s`` in steps of one sample.
    fisher_z : bool, default True
        Return Fisher's z = artanh(r), clipped to +-10.
    absolute : bool, default True
        Return absolute values (after the z transform): in-phase and anti-phase coupling count alike.
    min_valid : float, default 0.8
        Minimum share of valid pairs in a window for a value; below it the value is NaN.
    t0_s : float, default 0
        Time of the first sample in seconds.

    Returns
    -------
    WCC

    Raises
    ------
    AnalysisError
        When the series differ in length or are shorter than one window plus the lag range.
    """
    a, b = series_pair(a, b)
    rate_hz = check_positive("rate_hz", rate_hz)
    win = int(round(check_positive("window_s", window_s) * rate_hz))
    step = max(1, int(round(check_positive("step_s", step_s) * rate_hz)))
    max_lag = int(round(check_positive("max_lag_s", max_lag_s, allow_zero=True) * rate_hz))
    for name, asked, samples in (("window_s", window_s, win), ("step_s", step_s, step), ("max_lag_s", max_lag_s, max_lag)):
        if abs(samples / rate_hz - asked) > 1e-6 * max(1.0, asked):
            warnings.warn(
                f"{name} = {asked:g} s is not a whole number of samples at {rate_hz:g} Hz; using "
                f"{samples / rate_hz:g} s ({samples} samples)",
                DyadsyncWarning,
                stacklevel=2,
            )
    if not 0 < number("min_valid", min_valid) <= 1:
        raise AnalysisError(f"min_valid must be in (0, 1], got {min_valid}")
    if win < 3:
        raise AnalysisError(f"a window of {window_s} s at {rate_hz} Hz holds {win} samples; need at least 3")
    if max_lag >= win:
        raise AnalysisError(f"max_lag_s ({max_lag_s}) must be shorter than window_s ({window_s})")
    n = len(a)
    if n < win:
        raise AnalysisError(
            f"series of {n / rate_hz:.1f} s is shorter than one window of {window_s} s; use a shorter window"
        )
    starts = np.arange(0, n - win + 1, step)
    lags = np.arange(-max_lag, max_lag + 1)
    values = np.full((len(starts), len(lags)), np.nan)
    n_pairs = np.zeros((len(starts), len(lags)), dtype=np.int64)
    ca = a - np.nanmean(a)
    cb = b - np.nanmean(b)
    need = int(np.ceil(min_valid * win))
    clean = _clean_starts(a, b, starts, win, max_lag)
    span = win + 2 * max_lag
    # Two exact ways to the same numbers: cumulative sums per lag over the whole series (cheap when windows
    # overlap much), or one FFT cross-correlation per window (cheap when lags are many and windows few).
    per_lag_cost = len(lags) * n * 10.0
    per_window_cost = span * (clean.sum() * (3 * np.log2(span) + 12.0) + (~clean).sum() * (12 * np.log2(span) + 30.0))
    method = "per_window" if clean.any() and per_window_cost < per_lag_cost else "per_lag"
    if method == "per_window":
        # Windows go through the FFT in blocks: all at once, the windows of a 30-minute series at 100 Hz would
        # need several hundred MB of intermediate arrays.
        block = max(1, WINDOW_BLOCK_VALUES // span)
        for rows, compute in ((np.flatnonzero(clean), _fft_windows), (np.flatnonzero(~clean), _masked_fft_windows)):
            for k in range(0, len(rows), block):
                sel = rows[k : k + block]
                values[sel], n_pairs[sel] = compute(ca, cb, starts[sel], win, max_lag)
        values[n_pairs < need] = np.nan
    else:
        for j, lag in enumerate(lags):
            r, cnt = _windowed_r(ca, cb, int(lag), starts, win)
            r[cnt < need] = np.nan
            values[:, j] = r
            n_pairs[:, j] = cnt
    return wcc_result(
        values, n_pairs, starts=starts, span=win, lags=lags, rate_hz=rate_hz, t0_s=number("t0_s", t0_s),
        fisher_z=fisher_z,
        absolute=absolute,
        params={
            "window_s": win / rate_hz,
            "step_s": step / rate_hz,
            "max_lag_s": max_lag / rate_hz,
            "window_samples": win,
            "step_samples": step,
            "max_lag_samples": max_lag,
            "fisher_z": fisher_z,
            "absolute": absolute,
            "min_valid": min_valid,
            "method": method,
        },
    )


def _windowed_r(
    a: np.ndarray, b: np.ndarray, lag: int, starts: np.ndarray, win: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r of (a[i], b[i + lag]) over i in each window [s, s + win), pairwise complete."""
    n = len(a)
    # y[i] = b[i + lag], NaN where i + lag falls outside the series.
    y = np.full(n, np.nan)
    if lag >= 0:
        y[: n - lag] = b[lag:]
    else:
        y[-lag:] = b[: n + lag]
    ok = np.isfinite(a) & np.isfinite(y)
    x = np.where(ok, a, 0.0)
    y = np.where(ok, y, 0.0)
    sums = []
    for s in (ok.astype(float), x, y, x * x, y * y, x * y):
        c = np.concatenate([[0.0], np.cumsum(s)])
        sums.append(c[starts + win] - c[starts])
    cnt, sx, sy, sxx, syy, sxy = sums
    return pearson_from_sums(cnt, sx, sy, sxx, syy, sxy), cnt.astype(np.int64)


def _clean_starts(a: np.ndarray, b: np.ndarray, starts: np.ndarray, win: int, max_lag: int) -> np.ndarray:
    """Windows whose A samples and every B sample any lag reaches exist and are finite."""
    n = len(a)
    inside = (starts - max_lag >= 0) & (starts + win + max_lag <= n)
    bad_a = np.concatenate([[0], np.cumsum(~np.isfinite(a))])
    bad_b = np.concatenate([[0], np.cumsum(~np.isfinite(b))])
    lo = np.clip(starts - max_lag, 0, n)
    hi = np.clip(starts + win + max_lag, 0, n)
    return inside & (bad_a[starts + win] - bad_a[starts] == 0) & (bad_b[hi] - bad_b[lo] == 0)


#: Samples per block of windows (windows x span) in the per-window FFT method; bounds its memory (~8 MB arrays).
WINDOW_BLOCK_VALUES = 1 << 20


def _fft_windows(
    a: np.ndarray, b: np.ndarray, starts: np.ndarray, win: int, max_lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """r at every lag for complete windows: lagged cross-products from one FFT correlation per window."""
    import scipy.fft as sfft

    span = win + 2 * max_lag
    x = a[starts[:, None] + np.arange(win)[None, :]]  # (n_w, win)
    y = b[starts[:, None] - max_lag + np.arange(span)[None, :]]  # (n_w, span): B from lag -max_lag on
    nfft = sfft.next_fast_len(span, real=True)  # i + m <= win - 1 + 2 max_lag < nfft: nothing wraps
    spectrum = np.conj(sfft.rfft(x, nfft, axis=1)) * sfft.rfft(y, nfft, axis=1)
    sxy = sfft.irfft(spectrum, nfft, axis=1)[:, : 2 * max_lag + 1]
    zero = np.zeros((len(starts), 1))
    cy, cyy = np.hstack([zero, np.cumsum(y, axis=1)]), np.hstack([zero, np.cumsum(y * y, axis=1)])
    m = np.arange(2 * max_lag + 1)
    sy, syy = cy[:, m + win] - cy[:, m], cyy[:, m + win] - cyy[:, m]
    sx, sxx = x.sum(axis=1, keepdims=True), (x * x).sum(axis=1, keepdims=True)
    r = pearson_from_sums(float(win), sx, sy, sxx, syy, sxy)
    return r, np.full(r.shape, win, dtype=np.int64)


def _masked_fft_windows(
    a: np.ndarray, b: np.ndarray, starts: np.ndarray, win: int, max_lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """r at every lag for windows at the edges or with missing values: every pair sum as an FFT correlation of
    zero-filled values and validity masks (a B sample outside the series counts as missing)."""
    import scipy.fft as sfft

    n = len(a)
    span = win + 2 * max_lag
    ia = starts[:, None] + np.arange(win)[None, :]
    ib = starts[:, None] - max_lag + np.arange(span)[None, :]
    inside = (ib >= 0) & (ib < n)
    x = a[ia]
    y = np.where(inside, b[np.clip(ib, 0, n - 1)], np.nan)
    mx, my = np.isfinite(x), np.isfinite(y)
    x, y = np.where(mx, x, 0.0), np.where(my, y, 0.0)
    nfft = sfft.next_fast_len(span, real=True)
    m = 2 * max_lag + 1

    def spec(v: np.ndarray) -> np.ndarray:
        return sfft.rfft(v, nfft, axis=1)

    fx, fxx, fmx = np.conj(spec(x)), np.conj(spec(x * x)), np.conj(spec(mx.astype(float)))
    fy, fyy, fmy = spec(y), spec(y * y), spec(my.astype(float))

    def corr(f: np.ndarray, g: np.ndarray) -> np.ndarray:
        return sfft.irfft(f * g, nfft, axis=1)[:, :m]

    cnt = np.rint(corr(fmx, fmy))
    r = pearson_from_sums(cnt, corr(fx, fmy), corr(fmx, fy), corr(fxx, fmy), corr(fmx, fyy), corr(fx, fy))
    return r, cnt.astype(np.int64)




#: Columns of :func:`summarize`, in order.
SUMMARY_COLUMNS = ("time_s", "window_start_s", "window_end_s", "sync", "best_lag_s", "best_sync", "lag0", "a_leads",
                   "b_leads", "all_lags", "valid_pct", "peak_lag_s", "peak_sync")

#: Columns of a synchrony table (``synchrony.parquet``): the summaries of :func:`summarize` with the feature and
#: the two persons after the time. Every synchrony table has them all, in this order (NaN where a kind of
#: synchrony has no such value, e.g. no lag for turn-based entrainment).
SYNC_COLUMNS = ("time_s", "feature", "person_a", "person_b", *SUMMARY_COLUMNS[1:])


def summarize(wcc: WCC, *, summary: str = _DEFAULT.summary) -> pd.DataFrame:
    """Per-window summaries of a WCC result.

    Parameters
    ----------
    wcc : WCC
    summary : {"best", "mean", "lag0"}, default "best"
        Which summary becomes the ``sync`` column: the largest value over lags (``best_sync``), the mean over all
        lags, or the value at lag 0. ``"peak"``, its former name, is accepted with a warning.

    Returns
    -------
    DataFrame
        One row per window, columns :data:`SUMMARY_COLUMNS`: ``time_s`` (window centre, s), ``window_start_s``,
        ``window_end_s``, ``sync``,
        ``best_lag_s`` (lag of the largest value; positive = B follows A), ``best_sync`` (value there),
        ``lag0``, ``a_leads`` (mean over positive lags), ``b_leads`` (mean over negative lags), ``all_lags``
        (mean over all lags), ``valid_pct`` (% of valid pairs at lag 0), ``peak_lag_s`` and ``peak_sync``
        (Boker's peak picking: the local peak nearest lag 0, see :func:`dyadsync.synchrony.peaks.pick_peaks`;
        NaN when no peak is accepted).
    """
    summary = check_summary(summary)
    v = check_wcc(wcc).values
    lags = wcc.lags_s
    any_valid = np.isfinite(v).any(axis=1)
    best = np.full(len(v), np.nan)
    best_lag = np.full(len(v), np.nan)
    if any_valid.any():
        idx = np.nanargmax(np.where(np.isfinite(v[any_valid]), v[any_valid], -np.inf), axis=1)
        best[any_valid] = v[any_valid][np.arange(len(idx)), idx]
        best_lag[any_valid] = lags[idx]
    zero = int(np.argmin(np.abs(lags)))
    with quiet_nanmean():
        a_leads = np.nanmean(v[:, lags > 0], axis=1) if (lags > 0).any() else np.full(len(v), np.nan)
        b_leads = np.nanmean(v[:, lags < 0], axis=1) if (lags < 0).any() else np.full(len(v), np.nan)
        all_lags = np.nanmean(v, axis=1)
    table = pd.DataFrame(
        {
            "time_s": wcc.times_s,
            "window_start_s": wcc.starts_s,
            "window_end_s": wcc.ends_s,
            "best_lag_s": best_lag,
            "best_sync": best,
            "lag0": v[:, zero],
            "a_leads": a_leads,
            "b_leads": b_leads,
            "all_lags": all_lags,
            "valid_pct": wcc.n_pairs[:, zero] * 100.0 / wcc.params["window_samples"],
        }
    )
    peak_lag, peak_value = pick_peak_lags(v, rate_hz=wcc.rate_hz)
    table["peak_lag_s"] = peak_lag / wcc.rate_hz
    table["peak_sync"] = peak_value
    table["sync"] = table[{"best": "best_sync", "mean": "all_lags", "lag0": "lag0"}[summary]]
    return table[list(SUMMARY_COLUMNS)]


def sync_table(summaries: pd.DataFrame, feature: str, persons: tuple[str, str] | list[str]) -> pd.DataFrame:
    """A synchrony table (columns :data:`SYNC_COLUMNS`) from per-window summaries of one feature.

    Parameters
    ----------
    summaries : DataFrame
        Per-window rows with ``time_s`` and any of the other summary columns (:func:`summarize` gives them all);
        missing ones are NaN.
    feature : str
        Name of the synchrony series.
    persons : two str
        Persons A and B.

    Returns
    -------
    DataFrame
        Columns :data:`SYNC_COLUMNS`, one row per window.
    """
    if not isinstance(summaries, pd.DataFrame) or "time_s" not in summaries.columns:
        raise AnalysisError("summaries must be a DataFrame with a time_s column (see summarize)")
    if not isinstance(feature, str):
        raise ConfigError(f"feature must be a name, got {feature!r}")
    persons = two_persons(persons)
    out = pd.DataFrame(index=summaries.index)
    for c in SYNC_COLUMNS:
        if c == "feature":
            out[c] = feature
        elif c in ("person_a", "person_b"):
            out[c] = persons[0 if c == "person_a" else 1]
        else:
            out[c] = summaries[c].to_numpy(float) if c in summaries.columns else np.nan
    return out.reset_index(drop=True)


def empty_sync_table() -> pd.DataFrame:
    """A synchrony table without rows (columns :data:`SYNC_COLUMNS`)."""
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("feature", "person_a", "person_b") else float)
                         for c in SYNC_COLUMNS})


def global_index(wcc: WCC) -> float:
    """Grand mean of the windows x lags matrix (the global synchrony index of Ramseyer & Tschacher 2011)."""
    with quiet_nanmean():
        return float(np.nanmean(check_wcc(wcc).values))
