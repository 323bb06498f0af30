"""Event-locked averages of synchrony around coded moments, against circular-shift surrogates.

Question: is synchrony around the coded moments (of meeting, say) higher than at other times of the same session?

Method: the synchrony series is z-scored within the session (so sessions and modalities share one scale), cut
into epochs from ``tmin_s`` to ``tmax_s`` around each event onset, and averaged across events. The null
distribution comes from shifting **all** event times of the session together by one random offset, circularly
(modulo the session length): this keeps the number of events, their spacing and the autocorrelation of
synchrony, and breaks only the alignment between events and synchrony (the null hypothesis). The test statistic
is the mean z-scored synchrony during the events (from each onset to its offset, or in a fixed window relative
to onset); ``p = (1 + #{null >= observed}) / (1 + n_shifts)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_option, check_positive
from ..errors import AnalysisError, DyadsyncWarning


@dataclass
class EventLocked:
    """Result of :func:`event_locked_average`.

    Attributes
    ----------
    curve : DataFrame
        One row per relative time: ``rel_time_s``, ``mean_z`` (event-locked average of z-scored synchrony),
        ``n_events`` (events contributing at that time), ``null_mean``, ``null_low``, ``null_high`` (pointwise
        null band from the circular shifts, percentiles ``(1 - band) / 2`` and ``(1 + band) / 2``).
    test : dict
        The test: ``statistic`` (mean z during events), ``null_mean``, ``null_sd``, ``null_q`` (the band's upper
        percentile of the null statistic), ``p_value``, ``z_vs_null``, ``above_band``, ``n_events``, and every
        parameter with the seed.
    null_statistics : ndarray, shape (n_shifts,)
        The statistic under each circular shift.
    """

    curve: pd.DataFrame
    test: dict[str, Any]
    null_statistics: np.ndarray = field(repr=False)


def zscore(values: np.ndarray) -> np.ndarray:
    """Z-score a series ignoring NaN (population SD); a constant series raises AnalysisError."""
    values = np.asarray(values, dtype=float)
    sd = np.nanstd(values)
    if not np.isfinite(sd) or sd == 0:
        raise AnalysisError("synchrony series is constant or empty: cannot z-score it")
    return (values - np.nanmean(values)) / sd


def event_locked_average(
    times_s: np.ndarray,
    values: np.ndarray,
    onsets_s: np.ndarray,
    offsets_s: np.ndarray | None = None,
    *,
    tmin_s: float = -30.0,
    tmax_s: float = 30.0,
    test_window_s: tuple[float, float] | None = None,
    n_shifts: int = 1000,
    min_shift_s: float | None = None,
    band: float = 0.95,
    alternative: str = "greater",
    seed: int | np.random.Generator | None = 0,
) -> EventLocked:
    """Event-locked average of within-session z-scored synchrony with a circular-shift null band.

    Parameters
    ----------
    times_s : ndarray, shape (n,)
        Regularly spaced times of the synchrony series (window centres), in seconds.
    values : ndarray, shape (n,)
        Synchrony at those times (NaN allowed).
    onsets_s, offsets_s : ndarray, shape (n_events,)
        Event onsets and offsets in seconds; ``offsets_s`` None means point events.
    tmin_s, tmax_s : float, default -30, 30
        Epoch around each onset, in seconds.
    test_window_s : (float, float) or None
        Window relative to onset over which the test statistic averages; None uses each event's own span, from
        onset to offset (a point event contributes its onset sample).
    n_shifts : int, default 1000
        Number of circular shifts of the event times.
    min_shift_s : float or None
        Smallest shift in seconds (shifts are drawn uniformly from ``[min_shift, T - min_shift]`` where ``T`` is
        the length of the series). None uses the longer of the longest event and 5% of ``T``.
    band : float, default 0.95
        Coverage of the pointwise null band.
    alternative : {"greater", "less", "two-sided"}, default "greater"
        Direction of the test: is synchrony during events higher than chance (the usual question), lower, or
        either.
    seed : int, Generator or None, default 0
        Seed of the shifts (recorded in the result).

    Returns
    -------
    EventLocked

    Raises
    ------
    AnalysisError
        For an irregular time grid, no events inside the series, or an epoch that does not contain lag 0.
    """
    check_option("alternative", alternative, ("greater", "less", "two-sided"))
    if not 0 < band < 1:
        raise AnalysisError(f"band must be between 0 and 1, got {band}")
    if not tmin_s <= 0 <= tmax_s:
        raise AnalysisError(f"the epoch [{tmin_s}, {tmax_s}] s must contain the onset (0)")
    n_shifts = int(check_positive("n_shifts", n_shifts))
    times_s = np.asarray(times_s, dtype=float)
    z = zscore(values)
    n = len(times_s)
    if n < 3:
        raise AnalysisError(f"synchrony series has {n} samples; need at least 3")
    step = float(np.median(np.diff(times_s)))
    if np.max(np.abs(np.diff(times_s) - step)) > 1e-6 * max(1.0, step):
        raise AnalysisError("synchrony times must be regularly spaced")
    t0 = times_s[0]
    total = n * step
    onsets = np.asarray(onsets_s, dtype=float)
    offsets = onsets.copy() if offsets_s is None else np.asarray(offsets_s, dtype=float)
    inside = (onsets >= t0 - step / 2) & (onsets <= times_s[-1] + step / 2)
    if not inside.any():
        raise AnalysisError(
            f"no event onset lies within the synchrony series ({t0:.1f}-{times_s[-1]:.1f} s); synchrony is "
            "stamped at window centres, so events in the first and last half window cannot be placed"
        )
    n_outside = int((~inside).sum())
    if n_outside:
        warnings.warn(
            f"{n_outside} event(s) outside the synchrony series ({t0:.1f}-{times_s[-1]:.1f} s) left out",
            DyadsyncWarning,
            stacklevel=2,
        )
    onsets, offsets = onsets[inside], offsets[inside]
    k_lo, k_hi = int(np.round(tmin_s / step)), int(np.round(tmax_s / step))
    rel = np.arange(k_lo, k_hi + 1)
    on_idx = np.round((onsets - t0) / step).astype(int)
    if test_window_s is None:
        spans = [np.arange(0, max(1, int(np.round((off - on) / step)) + 1)) for on, off in zip(onsets, offsets)]
        test_desc = "event span (onset to offset)"
    else:
        w0, w1 = (int(np.round(v / step)) for v in test_window_s)
        if w1 < w0:
            raise AnalysisError(f"test_window_s {test_window_s} is empty")
        spans = [np.arange(w0, w1 + 1)] * len(onsets)
        test_desc = f"{test_window_s[0]:g} to {test_window_s[1]:g} s from onset"
    # Flattened (event, sample) offsets for the statistic: mean over events of each event's mean z.
    span_event = np.concatenate([np.full(len(s), e) for e, s in enumerate(spans)])
    span_off = np.concatenate(spans)

    longest = float(np.max(offsets - onsets)) if len(onsets) else 0.0
    min_shift = max(longest, 0.05 * total) if min_shift_s is None else check_positive("min_shift_s", min_shift_s, allow_zero=True)
    if 2 * min_shift >= total:
        raise AnalysisError(
            f"min_shift_s of {min_shift:.1f} s leaves no room for shifts in a series of {total:.1f} s"
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    shifts = np.round(rng.uniform(min_shift, total - min_shift, size=n_shifts) / step).astype(int)

    def curves_and_stats(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # starts: (m, n_events) onset sample indices -> (m, n_rel) average curves and (m,) statistics.
        idx = starts[:, :, None] + rel[None, None, :]
        ep = _take(z, idx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            curves = np.nanmean(ep, axis=1)
            sidx = starts[:, span_event] + span_off[None, :]
            sv = _take(z, sidx)
            sums = np.zeros((len(starts), len(onsets)))
            cnts = np.zeros((len(starts), len(onsets)))
            np.add.at(sums.T, span_event, np.nan_to_num(sv).T)
            np.add.at(cnts.T, span_event, np.isfinite(sv).T)
            per_event = sums / np.where(cnts > 0, cnts, np.nan)
            stats = np.nanmean(per_event, axis=1)
        return curves, stats

    real_curve, real_stat = curves_and_stats(on_idx[None, :])
    null_starts = (on_idx[None, :] + shifts[:, None]) % n
    null_curves, null_stats = curves_and_stats(null_starts)
    real_stat_v = float(real_stat[0])
    finite_null = null_stats[np.isfinite(null_stats)]
    if not np.isfinite(real_stat_v) or len(finite_null) == 0:
        raise AnalysisError("no synchrony values during the events: the statistic is undefined")
    if alternative == "greater":
        exceed = np.sum(finite_null >= real_stat_v)
    elif alternative == "less":
        exceed = np.sum(finite_null <= real_stat_v)
    else:
        centre = float(np.mean(finite_null))
        exceed = np.sum(np.abs(finite_null - centre) >= abs(real_stat_v - centre))
    p = (1 + exceed) / (1 + len(finite_null))
    lo_q, hi_q = (1 - band) / 2 * 100, (1 + band) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        n_contrib = np.sum(np.isfinite(_take(z, on_idx[:, None] + rel[None, :])), axis=0)
        curve = pd.DataFrame(
            {
                "rel_time_s": rel * step,
                "mean_z": real_curve[0],
                "n_events": n_contrib,
                "null_mean": np.nanmean(null_curves, axis=0),
                "null_low": np.nanpercentile(null_curves, lo_q, axis=0),
                "null_high": np.nanpercentile(null_curves, hi_q, axis=0),
            }
        )
    null_sd = float(np.std(finite_null, ddof=1)) if len(finite_null) > 1 else float("nan")
    upper_q = float(np.percentile(finite_null, band * 100 if alternative != "less" else (1 - band) * 100))
    test = {
        "analysis": "event_locked",
        "statistic_name": "mean_z_during",
        "statistic": real_stat_v,
        "null_mean": float(np.mean(finite_null)),
        "null_sd": null_sd,
        "null_q": upper_q,
        "z_vs_null": (real_stat_v - float(np.mean(finite_null))) / null_sd if null_sd > 0 else float("nan"),
        "p_value": float(p),
        "above_band": bool(real_stat_v > upper_q) if alternative != "less" else bool(real_stat_v < upper_q),
        "alternative": alternative,
        "n_events": int(len(onsets)),
        "n_events_outside": n_outside,
        "n_shifts": int(len(finite_null)),
        "min_shift_s": float(min_shift),
        "band": band,
        "tmin_s": float(k_lo * step),
        "tmax_s": float(k_hi * step),
        "test_window": test_desc,
        "seed": seed if not isinstance(seed, np.random.Generator) else None,
    }
    return EventLocked(curve=curve, test=test, null_statistics=null_stats)


def _take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``x[idx]`` with NaN wherever the index falls outside ``x``."""
    ok = (idx >= 0) & (idx < len(x))
    out = np.full(idx.shape, np.nan)
    out[ok] = x[idx[ok]]
    return out
