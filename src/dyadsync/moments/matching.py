"""Peak/event matching with a tolerance: precision, recall, F1, the F1-vs-tolerance curve and signed latencies.

Question: do synchrony peaks fall at the coded moments (within a tolerance), more than chance, and do they come
before or after them?

Method: each event is paired with at most one peak and each peak with at most one event, so that the number of
pairs closer than ``tolerance_s`` is as large as possible and, among such pairings, the summed absolute latency is
smallest (an optimal assignment, :func:`scipy.optimize.linear_sum_assignment`). Precision = matched peaks / peaks,
recall = matched events / events, F1 their harmonic mean. The signed latency of a pair is *peak time minus event
time*: negative when synchrony peaks before the event. The null distribution shifts all event times together,
circularly, by random offsets (keeping their number and spacing; computed by rotating the peak train the other way,
so that every shifted event keeps a full neighbourhood of peaks): F1 at every tolerance and the median latency are
recomputed for every shift. ``p = (1 + #{null >= observed}) / (1 + n_shifts)`` for F1, with null values equal to
the observed F1 counted half (mid-p: F1 takes few values, and counting every tie would make the test conservative;
``p_conservative`` counts them all); two-sided (distance from the null mean) for the median latency.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_option, check_positive, rng_from, seed_value
from ..errors import DyadsyncWarning
from ..stats import permutation_test
from ._series import Quiet
from ._stats import coarse_note, rotated_trains
from .guards import precedence

#: Default tolerances of the F1-vs-tolerance curve, s.
TOLERANCES_S = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)
MATCH_COLUMNS = ("event", "peak", "event_time_s", "peak_time_s", "latency_s")


@dataclass
class Matching:
    """Result of :func:`peak_event_matching`.

    Attributes
    ----------
    matches : DataFrame
        Matched pairs at ``tolerance_s``: ``event``, ``peak`` (indices), ``event_time_s``, ``peak_time_s``,
        ``latency_s`` (peak minus event; negative: synchrony first).
    curve : DataFrame
        One row per tolerance: ``tolerance_s``, ``n_matched``, ``precision``, ``recall``, ``f1``, ``null_mean``,
        ``null_low``, ``null_high`` (band of F1 under shifted events), ``p_value``.
    tests : list of dict
        The F1 test at ``tolerance_s`` and the median-latency test, with every parameter and the seed.
    null_latencies : ndarray
        Median latency under each shift (NaN when nothing matched).
    """

    matches: pd.DataFrame
    curve: pd.DataFrame
    tests: list[dict[str, Any]] = field(default_factory=list)
    null_latencies: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)


def match_events(peak_times_s: np.ndarray, event_times_s: np.ndarray, tolerance_s: float) -> pd.DataFrame:
    """Optimal one-to-one matching of peaks to events within a tolerance.

    Parameters
    ----------
    peak_times_s, event_times_s : ndarray
        Times, s.
    tolerance_s : float
        Largest absolute latency of a pair, s.

    Returns
    -------
    DataFrame
        One row per pair (see :data:`MATCH_COLUMNS`), sorted by event time; ``latency_s`` = peak - event.
    """
    peaks = np.asarray(peak_times_s, float)
    events = np.asarray(event_times_s, float)
    ev_i, pk_i = optimal_pairs(peaks, events, tolerance_s)
    out = pd.DataFrame({
        "event": ev_i,
        "peak": pk_i,
        "event_time_s": events[ev_i],
        "peak_time_s": peaks[pk_i],
        "latency_s": peaks[pk_i] - events[ev_i],
    }, columns=list(MATCH_COLUMNS))
    return out.sort_values("event_time_s").reset_index(drop=True)


def optimal_pairs(peaks: np.ndarray, events: np.ndarray, tolerance_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Event and peak indices of the optimal matching (most pairs within tolerance, then least total |latency|)."""
    from scipy.optimize import linear_sum_assignment

    if len(peaks) == 0 or len(events) == 0:
        return np.empty(0, int), np.empty(0, int)
    d = np.abs(peaks[None, :] - events[:, None])
    near = d <= tolerance_s
    rows = np.flatnonzero(near.any(axis=1))
    cols = np.flatnonzero(near.any(axis=0))
    if len(rows) == 0:
        return np.empty(0, int), np.empty(0, int)
    sub = d[np.ix_(rows, cols)]
    big = (tolerance_s + 1.0) * (len(rows) + 1)
    cost = np.where(sub <= tolerance_s, sub, big)
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] <= tolerance_s
    return rows[r[ok]], cols[c[ok]]


def max_matches(peaks_sorted: np.ndarray, events_sorted: np.ndarray, tolerance_s: float) -> int:
    """Size of a maximum one-to-one matching within ``tolerance_s`` (both inputs sorted ascending).

    Each event can pair with the peaks in ``[t - tol, t + tol]``, an interval of the sorted peaks whose ends move
    forward with the event, so taking events in order and giving each the earliest free peak in its interval is
    optimal (the greedy algorithm for convex bipartite graphs). Same count as :func:`match_events`, in O(n log n).
    """
    lo = np.searchsorted(peaks_sorted, events_sorted - tolerance_s, side="left")
    hi = np.searchsorted(peaks_sorted, events_sorted + tolerance_s, side="right")
    count, nxt = 0, 0
    for a, b in zip(lo, hi):
        j = max(a, nxt)
        if j < b:
            count += 1
            nxt = j + 1
    return count


def matching_scores(n_matched: int, n_peaks: int, n_events: int) -> tuple[float, float, float]:
    """Precision (matched / peaks), recall (matched / events) and F1; 0 when undefined by empty sets."""
    precision = n_matched / n_peaks if n_peaks else 0.0
    recall = n_matched / n_events if n_events else 0.0
    f1 = 2 * n_matched / (n_peaks + n_events) if (n_peaks + n_events) else 0.0
    return precision, recall, f1


def peak_event_matching(
    peak_times_s: np.ndarray,
    event_times_s: np.ndarray,
    *,
    series_start_s: float,
    series_end_s: float,
    tolerance_s: float = 15.0,
    tolerances_s: Sequence[float] = TOLERANCES_S,
    n_shifts: int = 1000,
    min_shift_s: float | None = None,
    band: float = 0.95,
    alternative: str = "greater",
    window_s: float | None = None,
    seed: int | np.random.Generator | None = 0,
) -> Matching:
    """Match synchrony peaks to events and compare F1 and latencies with shifted-event surrogates.

    Parameters
    ----------
    peak_times_s : ndarray
        Synchrony peak times, s.
    event_times_s : ndarray
        Event reference times (usually onsets), s.
    series_start_s, series_end_s : float
        Span of the synchrony series (events are shifted circularly within it), s.
    tolerance_s : float, default 15
        Tolerance of the main test, s.
    tolerances_s : sequence of float
        Tolerances of the F1 curve, s (``tolerance_s`` is added if missing).
    n_shifts : int, default 1000
    min_shift_s : float or None
        Smallest shift, s; None uses the larger of twice the largest tolerance and 5% of the span.
    band : float, default 0.95
        Coverage of the null band of the curve.
    alternative : {"greater", "less", "two-sided"}, default "greater"
        For the F1 test.
    window_s : float or None
        The synchrony window, s: a median latency shorter than half of it is not evidence of precedence.
    seed : int, Generator or None

    Returns
    -------
    Matching
    """
    check_option("alternative", alternative, ("greater", "less", "two-sided"))
    tolerance_s = check_positive("tolerance_s", tolerance_s)
    n_shifts = int(check_positive("n_shifts", n_shifts))
    tols = np.array(sorted(set(float(t) for t in tolerances_s) | {tolerance_s}))
    peaks = np.sort(np.asarray(peak_times_s, float))
    events = np.sort(np.asarray(event_times_s, float))
    events = events[(events >= series_start_s) & (events <= series_end_s)]
    total = series_end_s - series_start_s
    if min_shift_s is None:
        min_shift_s = max(2 * float(tols.max()), 0.05 * total)
    rng = rng_from(seed)
    shifts, rotated, min_shift_s = rotated_trains(rng, peaks, n_shifts, series_start_s, total, min_shift_s)

    def f1_and_latency(pk: np.ndarray) -> tuple[np.ndarray, float]:
        f1 = np.array([matching_scores(max_matches(pk, events, tol), len(pk), len(events))[2] for tol in tols])
        e_i, p_i = optimal_pairs(pk, events, tolerance_s)
        latency = float(np.median(pk[p_i] - events[e_i])) if len(e_i) else np.nan
        return f1, latency

    obs_f1, obs_latency = f1_and_latency(peaks)
    null = [f1_and_latency(row) for row in rotated]
    null_f1 = np.array([x[0] for x in null])
    null_latency = np.array([x[1] for x in null])
    lo_q, hi_q = (1 - band) / 2 * 100, (1 + band) / 2 * 100
    curve_rows = []
    for j, tol in enumerate(tols):
        e_i, _ = optimal_pairs(peaks, events, tol)
        precision, recall, f1 = matching_scores(len(e_i), len(peaks), len(events))
        t = permutation_test(f1, null_f1[:, j], alternative, discrete=True)
        curve_rows.append({
            "tolerance_s": tol, "n_matched": len(e_i), "precision": precision, "recall": recall, "f1": f1,
            "null_mean": t["null_mean"], "null_low": float(np.percentile(null_f1[:, j], lo_q)),
            "null_high": float(np.percentile(null_f1[:, j], hi_q)), "p_value": t["p_value"],
        })
    curve = pd.DataFrame(curve_rows)
    main = curve[curve["tolerance_s"] == tolerance_s].iloc[0]
    matches = match_events(peaks, events, tolerance_s)
    common = {
        "n_events": int(len(events)),
        "n_peaks": int(len(peaks)),
        "n_matched": int(main["n_matched"]),
        "tolerance_s": tolerance_s,
        "n_shifts": n_shifts,
        "min_shift_s": float(min_shift_s),
        "window_s": float(window_s) if window_s is not None else float("nan"),
        "seed": seed_value(seed),
    }
    f1_test = permutation_test(float(main["f1"]), null_f1[:, int(np.flatnonzero(tols == tolerance_s)[0])],
                               alternative, discrete=True)
    lat_test = permutation_test(obs_latency, null_latency, "two-sided")
    note = coarse_note(f1_test, f"F1 at {tolerance_s:g} s")
    if note:
        warnings.warn(f"peak/event matching: {note}", DyadsyncWarning, stacklevel=2)
    with Quiet():
        lat = matches["latency_s"].to_numpy()
        q1, q3 = (np.percentile(lat, [25, 75]) if len(lat) else (np.nan, np.nan))
    tests = [
        {
            "analysis": "matching_f1",
            "statistic_name": "f1",
            "statistic": float(main["f1"]),
            "precision": float(main["precision"]),
            "recall": float(main["recall"]),
            **{k: f1_test[k] for k in ("null_mean", "null_sd", "z_vs_null", "z_surrogate", "p_value",
                                       "p_conservative")},
            "warnings": note,
            "alternative": alternative,
            **common,
        },
        {
            "analysis": "matching_latency",
            "statistic_name": "median_latency_s",
            "statistic": obs_latency,
            "latency_s": obs_latency,
            "latency_q1_s": float(q1),
            "latency_q3_s": float(q3),
            "precedence": precedence(obs_latency, window_s),
            **{k: lat_test[k] for k in ("null_mean", "null_sd", "z_vs_null", "z_surrogate", "p_value")},
            "alternative": "two-sided",
            **common,
        },
    ]
    return Matching(matches=matches, curve=curve, tests=tests, null_latencies=null_latency)
