"""Continuous dial ratings of client and therapist: congruence, high/low segments as events, relation to synchrony.

Questions: do client and therapist experience the session alike, moment by moment? Which stretches do they rate as
especially helpful (high) or hindering (low)? Does movement synchrony go with their ratings?

Methods:

* **Congruence over time** (:func:`dial_congruence`): both ratings on one regular grid; in sliding windows the
  Pearson correlation of the two raters' ratings (do they move together?) and the mean absolute difference (do they
  agree in level?); over the whole session Pearson r and Lin's concordance correlation coefficient (agreement on the
  scale itself).
* **High/low segments** (:func:`dial_segments`): stretches where a rater's rating stays above its ``high``
  quantile (or a fixed value), or below its ``low`` one, for at least ``min_duration_s``, and stretches where both
  raters are high (or low) at once: an Events table (codes ``dial_high_<rater>``, ``dial_low_<rater>``,
  ``dial_high_both``, ``dial_low_both``) that goes through every event analysis.
* **Relation to synchrony** (:func:`dial_synchrony`): Spearman correlation between synchrony and each rater's rating
  and their congruence (minus the absolute difference), on the dial's time grid (synchrony interpolated there).
  Both series are strongly autocorrelated, so the number of independent pairs is far below the number of samples:
  ``p_value`` is a t test with the effective number of pairs (Dutilleul 1993; Pyper & Peterman 1998). The
  circular-shift p (the ratings shifted against synchrony) is reported as ``p_shift``: it rejects too often when
  the ratings drift slowly (the circular autocorrelation of a short series is biased towards zero), which the
  benchmark measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._arrays import true_runs
from .._validate import check_positive, rng_from, seed_value
from ..errors import AnalysisError
from ..stats import permutation_test
from ._stats import circular_shifts


def dial_grid(dial: pd.DataFrame, raters: Sequence[str], rate_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two raters' ratings on one regular grid: times (s) and an array of shape (n, 2).

    The grid spans the time both raters rated, at ``rate_hz`` (default: the finer native rate); ratings are linearly
    interpolated between samples (dials are continuous), never across a missing value.
    """
    if len(raters) != 2:
        raise AnalysisError(f"dial analyses compare two raters, got {list(raters)}")
    series = []
    for r in raters:
        sub = dial[dial["rater"] == r].sort_values("time_s")
        if sub.empty:
            raise AnalysisError(f"no dial ratings of {r!r}; raters present: {sorted(dial['rater'].unique())}")
        series.append((sub["time_s"].to_numpy(float), sub["value"].to_numpy(float)))
    if rate_hz is None:
        rate_hz = max(1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 1.0 for t, _ in series)
    step = 1.0 / check_positive("rate_hz", rate_hz)
    t0 = max(t[0] for t, _ in series)
    t1 = min(t[-1] for t, _ in series)
    if t1 <= t0:
        raise AnalysisError("the two raters' dial ratings do not overlap in time")
    grid = t0 + np.arange(int(np.floor((t1 - t0) / step + 1e-9)) + 1) * step
    out = np.empty((len(grid), 2))
    for j, (t, v) in enumerate(series):
        ok = np.isfinite(v)
        out[:, j] = np.interp(grid, t[ok], v[ok]) if ok.sum() >= 2 else np.nan
        nearest = np.clip(np.searchsorted(t, grid), 0, len(t) - 1)
        out[~ok[nearest], j] = np.nan
    return grid, out


def concordance(a: np.ndarray, b: np.ndarray) -> float:
    """Lin's concordance correlation coefficient of two series (pairwise complete)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    x, y = a[ok], b[ok]
    cov = np.mean((x - x.mean()) * (y - y.mean()))
    denom = x.var() + y.var() + (x.mean() - y.mean()) ** 2
    return float(2 * cov / denom) if denom > 0 else float("nan")


def dial_congruence(
    dial: pd.DataFrame,
    *,
    raters: Sequence[str] = ("client", "therapist"),
    window_s: float = 60.0,
    step_s: float = 5.0,
    rate_hz: float | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Congruence of two raters' dial ratings over time and over the session.

    Parameters
    ----------
    dial : DataFrame
        Long dial table (``time_s``, ``rater``, ``value``), see :func:`dyadsync.io.dial.read_dial`.
    raters : two str, default ("client", "therapist")
    window_s, step_s : float, default 60, 5
        Sliding window and step, s.
    rate_hz : float or None
        Common grid rate, Hz (default: the finer native rate).

    Returns
    -------
    (DataFrame, dict)
        Over time: ``time_s`` (window centre), ``r`` (Pearson r of the two raters in the window; NaN when either is
        constant), ``mean_abs_diff``, ``mean_<rater>`` for both. Summary: ``r``, ``ccc`` (Lin), ``mean_abs_diff``,
        ``mean_<rater>``, ``n_samples``, ``rate_hz``, ``window_s``, ``step_s``.
    """
    times, x = dial_grid(dial, raters, rate_hz)
    rate = 1.0 / float(times[1] - times[0]) if len(times) > 1 else 1.0
    win = max(3, int(round(check_positive("window_s", window_s) * rate)))
    step = max(1, int(round(check_positive("step_s", step_s) * rate)))
    rows = []
    for s in range(0, max(1, len(times) - win + 1), step):
        a, b = x[s : s + win, 0], x[s : s + win, 1]
        ok = np.isfinite(a) & np.isfinite(b)
        r = float("nan")
        if ok.sum() >= 3 and np.std(a[ok]) > 0 and np.std(b[ok]) > 0:
            r = float(np.corrcoef(a[ok], b[ok])[0, 1])
        rows.append({
            "time_s": float(times[s : s + win].mean()),
            "r": r,
            "mean_abs_diff": float(np.mean(np.abs(a[ok] - b[ok]))) if ok.any() else float("nan"),
            f"mean_{raters[0]}": float(np.nanmean(a)) if np.isfinite(a).any() else float("nan"),
            f"mean_{raters[1]}": float(np.nanmean(b)) if np.isfinite(b).any() else float("nan"),
        })
    ok = np.isfinite(x).all(axis=1)
    summary = {
        "r": float(np.corrcoef(x[ok, 0], x[ok, 1])[0, 1]) if ok.sum() >= 3 else float("nan"),
        "ccc": concordance(x[:, 0], x[:, 1]),
        "mean_abs_diff": float(np.mean(np.abs(x[ok, 0] - x[ok, 1]))) if ok.any() else float("nan"),
        f"mean_{raters[0]}": float(np.nanmean(x[:, 0])),
        f"mean_{raters[1]}": float(np.nanmean(x[:, 1])),
        "n_samples": int(ok.sum()),
        "rate_hz": rate,
        "window_s": win / rate,
        "step_s": step / rate,
    }
    return pd.DataFrame(rows), summary


def _segments(times: np.ndarray, mask: np.ndarray, min_s: float, step: float) -> list[tuple[float, float]]:
    out = []
    for a, b in zip(*true_runs(mask)):
        if (b - a) * step >= min_s:
            out.append((float(times[a]), float(times[b - 1])))
    return out


def dial_segments(
    dial: pd.DataFrame,
    *,
    raters: Sequence[str] = ("client", "therapist"),
    high_quantile: float = 0.8,
    low_quantile: float = 0.2,
    high: float | None = None,
    low: float | None = None,
    min_duration_s: float = 10.0,
    rate_hz: float | None = None,
) -> pd.DataFrame:
    """High and low stretches of the dial ratings as an Events table.

    Parameters
    ----------
    dial : DataFrame
        Long dial table.
    raters : two str
    high_quantile, low_quantile : float, default 0.8, 0.2
        Per-rater quantiles that define high and low (raters use the scale differently).
    high, low : float or None
        Fixed thresholds on the rating scale instead of quantiles.
    min_duration_s : float, default 10
        Shortest segment, s.
    rate_hz : float or None
        Common grid rate, Hz.

    Returns
    -------
    DataFrame
        Events table; codes ``dial_high_<rater>``, ``dial_low_<rater>``, ``dial_high_both``, ``dial_low_both``;
        ``scheme`` ``dial``; ``source`` states the threshold.
    """
    times, x = dial_grid(dial, raters, rate_hz)
    step = float(times[1] - times[0]) if len(times) > 1 else 1.0
    hi_thr = [high if high is not None else float(np.nanquantile(x[:, j], high_quantile)) for j in range(2)]
    lo_thr = [low if low is not None else float(np.nanquantile(x[:, j], low_quantile)) for j in range(2)]
    with np.errstate(invalid="ignore"):
        is_high = np.column_stack([x[:, j] >= hi_thr[j] for j in range(2)])
        is_low = np.column_stack([x[:, j] <= lo_thr[j] for j in range(2)])
    rows = []

    def add(mask: np.ndarray, code: str, source: str) -> None:
        for on, off in _segments(times, mask, min_duration_s, step):
            rows.append((on, off, code, "dial", "", source))

    for j, r in enumerate(raters):
        add(is_high[:, j], f"dial_high_{r}", f"{r} >= {hi_thr[j]:g}")
        add(is_low[:, j], f"dial_low_{r}", f"{r} <= {lo_thr[j]:g}")
    add(is_high.all(axis=1), "dial_high_both", f"both high ({hi_thr[0]:g}, {hi_thr[1]:g})")
    add(is_low.all(axis=1), "dial_low_both", f"both low ({lo_thr[0]:g}, {lo_thr[1]:g})")
    out = pd.DataFrame.from_records(rows, columns=["onset_s", "offset_s", "code", "scheme", "coder", "source"])
    return out.sort_values(["onset_s", "code"]).reset_index(drop=True)


def dial_synchrony(
    dial: pd.DataFrame,
    sync_times_s: np.ndarray,
    sync_values: np.ndarray,
    *,
    raters: Sequence[str] = ("client", "therapist"),
    n_shifts: int = 1000,
    min_shift_s: float | None = None,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Spearman correlation of synchrony with each rater's rating and with their congruence, against shifts.

    Parameters
    ----------
    dial : DataFrame
        Long dial table.
    sync_times_s, sync_values : ndarray
        Synchrony series (window centres, s).
    raters : two str
    n_shifts : int, default 1000
        Circular shifts of the ratings against synchrony.
    min_shift_s : float or None
        Smallest shift, s; None uses 10% of the overlap.
    seed : int, Generator or None

    Returns
    -------
    DataFrame
        One row per measure (``<rater>`` for each rater, ``congruence`` = minus the absolute difference):
        ``analysis`` (``dial_synchrony``), ``measure``, ``statistic`` (Spearman rho), null mean and SD of the
        shifts, ``p_value`` (two-sided t test with ``n_effective`` pairs), ``z_surrogate`` (from it), ``p_shift``
        (circular shifts), ``n_samples``, ``n_shifts``, ``min_shift_s``, ``seed``.
    """
    times, x = dial_grid(dial, raters)
    st = np.asarray(sync_times_s, float)
    sv = np.asarray(sync_values, float)
    ok_sync = np.isfinite(sv)
    if ok_sync.sum() < 10:
        raise AnalysisError("fewer than 10 finite synchrony values")
    # synchrony on the dial's grid (interpolated; NaN outside the synchrony series)
    on_grid = np.interp(times, st[ok_sync], sv[ok_sync], left=np.nan, right=np.nan)
    if np.isfinite(on_grid).sum() < 10:
        raise AnalysisError("fewer than 10 synchrony values fall within the dial ratings")
    n = len(times)
    step = float(times[1] - times[0]) if n > 1 else 1.0
    span = n * step
    if min_shift_s is None:
        min_shift_s = 0.1 * span
    rng = rng_from(seed)
    shifts = np.round(circular_shifts(rng, n_shifts, span, min_shift_s) / step).astype(int)
    measures = {raters[0]: x[:, 0], raters[1]: x[:, 1], "congruence": -np.abs(x[:, 0] - x[:, 1])}
    sync_rank = _ranks(on_grid)
    rows = []
    for name, m in measures.items():
        m_rank = _ranks(m)

        def rho(shift: int) -> float:
            y = np.roll(m_rank, shift)
            ok = np.isfinite(sync_rank) & np.isfinite(y)
            if ok.sum() < 3:
                return float("nan")
            return float(np.corrcoef(sync_rank[ok], y[ok])[0, 1])

        observed = rho(0)
        null = np.array([rho(int(k)) for k in shifts])
        t = permutation_test(observed, null, "two-sided")
        ok = np.isfinite(sync_rank) & np.isfinite(m_rank)
        n_eff = effective_n(sync_rank[ok], m_rank[ok])
        df = max(n_eff - 2.0, 1.0)
        tval = observed * np.sqrt(df / max(1e-12, 1 - observed**2))
        rows.append({
            "analysis": "dial_synchrony",
            "measure": name,
            "statistic_name": "spearman_rho",
            "statistic": observed,
            **{k: t[k] for k in ("null_mean", "null_sd", "z_vs_null")},
            "p_value": float(2 * stats.t.sf(abs(tval), df)),
            "z_surrogate": float(stats.norm.isf(stats.t.sf(tval, df))),
            "p_shift": t["p_value"],
            "n_effective": n_eff,
            "alternative": "two-sided",
            "n_samples": int(np.isfinite(on_grid).sum()),
            "n_shifts": int(n_shifts),
            "min_shift_s": float(min_shift_s),
            "seed": seed_value(seed),
        })
    return pd.DataFrame(rows)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks of the finite values (average ranks for ties), NaN elsewhere."""
    out = np.full(len(x), np.nan)
    ok = np.isfinite(x)
    out[ok] = stats.rankdata(x[ok])
    return out


def effective_n(x: np.ndarray, y: np.ndarray, max_lag_fraction: float = 0.2) -> float:
    """Effective number of independent pairs of two autocorrelated series (Dutilleul 1993; Pyper & Peterman 1998).

    ``N / (1 + 2 * sum_k (1 - k / N) r_x(k) r_y(k))`` over lags up to ``max_lag_fraction * N``, with the sample
    autocorrelations; clipped to ``[3, N]``.
    """
    n = len(x)
    if n < 4:
        return float(n)
    lag = max(1, int(max_lag_fraction * n))

    def acf(v: np.ndarray) -> np.ndarray:
        v = v - v.mean()
        f = np.fft.rfft(v, 2 * n)
        c = np.fft.irfft(f * np.conj(f))[: lag + 1]
        return c / c[0] if c[0] > 0 else np.zeros(lag + 1)

    k = np.arange(1, lag + 1)
    denom = 1 + 2 * np.sum((1 - k / n) * acf(x)[1:] * acf(y)[1:])
    return float(np.clip(n / max(denom, 1e-9), 3, n))
