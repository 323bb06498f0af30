"""Event coincidence analysis (Donges et al. 2016) of synchrony peaks and events, and their cross-correlogram.

Question: are coded moments preceded by synchrony peaks (synchrony as a precursor), or followed by them
(moments as triggers of synchrony), more often than chance?

Method: for two series of event times A and B, with a coincidence window ``delta_s`` and a delay ``tau_s``,

* the **precursor coincidence rate** is the share of B events with at least one A event in
  ``[t_B - tau - delta, t_B - tau]``;
* the **trigger coincidence rate** is the share of A events with at least one B event in
  ``[t_A + tau, t_A + tau + delta]``.

Both directions are computed: synchrony peaks as A and events as B ("peaks before events": do peaks precede the
moments?) and events as A and peaks as B ("events before peaks": does synchrony rise after the moments?). Each
rate is compared with shifted-event surrogates (all event times moved together circularly against the peaks,
keeping their number and spacing; computed by rotating the peak train the other way, so that every event keeps a
full neighbourhood of peaks), ``p = (1 + #{null >= observed}) / (1 + n_shifts)``, null values equal to the
observed rate counted half (mid-p: rates take few values; ``p_conservative`` counts every tie). Donges et al.'s analytical test
(Poisson processes) is given as ``p_poisson``; synchrony peaks are not Poisson (they keep a minimum distance), so
the surrogate p is the one to report.

The **cross-correlogram** counts peak-minus-event time differences in bins up to ``max_lag_s``, per event, with a
pointwise band from the same shifted-event surrogates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_positive, rng_from, seed_value
from ..errors import DyadsyncWarning
from ..stats import permutation_test
from ._stats import coarse_note, rotated_trains

DIRECTIONS = {
    "peaks_before_events": "synchrony peaks (A) before events (B)",
    "events_before_peaks": "events (A) before synchrony peaks (B)",
}


@dataclass
class Coincidence:
    """Result of :func:`event_coincidence`.

    Attributes
    ----------
    tests : list of dict
        One per direction and rate (``precursor``, ``trigger``): the rate, its surrogate null, ``p_value``,
        ``p_poisson``, counts and every parameter with the seed.
    correlogram : DataFrame
        ``lag_s`` (bin centre; peak minus event), ``count``, ``rate_per_event``, ``null_mean``, ``null_low``,
        ``null_high``.
    """

    tests: list[dict[str, Any]]
    correlogram: pd.DataFrame = field(default_factory=pd.DataFrame)


def coincidence_rates(a_s: np.ndarray, b_s: np.ndarray, *, delta_s: float, tau_s: float = 0.0) -> tuple[float, float]:
    """Precursor and trigger coincidence rates of event series A and B (Donges et al. 2016, eq. 2 and 4).

    Parameters
    ----------
    a_s, b_s : ndarray
        Event times of A and B, s.
    delta_s : float
        Coincidence window, s.
    tau_s : float, default 0
        Delay, s.

    Returns
    -------
    (float, float)
        Precursor rate (share of B preceded by an A) and trigger rate (share of A followed by a B); NaN for an
        empty series.
    """
    a = np.sort(np.asarray(a_s, float))
    b = np.sort(np.asarray(b_s, float))
    if len(a) == 0 or len(b) == 0:
        return float("nan"), float("nan")
    return _rates(a, b, delta_s, tau_s)


def _rates(a: np.ndarray, b: np.ndarray, delta: float, tau: float) -> tuple[float, float]:
    # precursor: for each b, any a in [b - tau - delta, b - tau]
    lo = np.searchsorted(a, b - tau - delta, side="left")
    hi = np.searchsorted(a, b - tau, side="right")
    precursor = float(np.mean(hi > lo))
    # trigger: for each a, any b in [a + tau, a + tau + delta]
    lo = np.searchsorted(b, a + tau, side="left")
    hi = np.searchsorted(b, a + tau + delta, side="right")
    trigger = float(np.mean(hi > lo))
    return precursor, trigger


def poisson_p(k: int, n_target: int, n_other: int, delta_s: float, tau_s: float, span_s: float) -> float:
    """Donges et al.'s analytical p: P(K >= k) for K ~ Binomial(n_target, 1 - (1 - delta / (T - tau))^n_other)."""
    if n_target == 0 or span_s <= tau_s:
        return float("nan")
    prob = 1 - (1 - min(1.0, delta_s / (span_s - tau_s))) ** n_other
    return float(stats.binom.sf(k - 1, n_target, prob))


def event_coincidence(
    peak_times_s: np.ndarray,
    event_times_s: np.ndarray,
    *,
    series_start_s: float,
    series_end_s: float,
    delta_s: float = 15.0,
    tau_s: float = 0.0,
    n_shifts: int = 1000,
    min_shift_s: float | None = None,
    max_lag_s: float = 60.0,
    bin_s: float = 5.0,
    band: float = 0.95,
    seed: int | np.random.Generator | None = 0,
) -> Coincidence:
    """Event coincidence analysis of synchrony peaks and events in both directions, with shifted-event surrogates.

    Parameters
    ----------
    peak_times_s, event_times_s : ndarray
        Synchrony peak times and event reference times (onsets), s.
    series_start_s, series_end_s : float
        Span of the synchrony series, s.
    delta_s : float, default 15
        Coincidence window, s.
    tau_s : float, default 0
        Delay, s.
    n_shifts : int, default 1000
    min_shift_s : float or None
        Smallest shift, s; None uses the larger of ``2 * (delta + tau)``, ``max_lag_s`` and 5% of the span.
    max_lag_s, bin_s : float, default 60, 5
        Range and bin width of the cross-correlogram, s.
    band : float, default 0.95
    seed : int, Generator or None

    Returns
    -------
    Coincidence
    """
    delta_s = check_positive("delta_s", delta_s)
    tau_s = check_positive("tau_s", tau_s, allow_zero=True)
    n_shifts = int(check_positive("n_shifts", n_shifts))
    max_lag_s = check_positive("max_lag_s", max_lag_s)
    bin_s = check_positive("bin_s", bin_s)
    peaks = np.sort(np.asarray(peak_times_s, float))
    events = np.sort(np.asarray(event_times_s, float))
    events = events[(events >= series_start_s) & (events <= series_end_s)]
    span = series_end_s - series_start_s
    if min_shift_s is None:
        min_shift_s = max(2 * (delta_s + tau_s), max_lag_s, 0.05 * span)
    rng = rng_from(seed)
    shifts, rotated, min_shift_s = rotated_trains(rng, peaks, n_shifts, series_start_s, span, min_shift_s)

    def all_rates(pk: np.ndarray) -> np.ndarray:
        if len(pk) == 0 or len(events) == 0:
            return np.full(4, np.nan)
        pb = _rates(pk, events, delta_s, tau_s)  # A = peaks, B = events
        eb = _rates(events, pk, delta_s, tau_s)  # A = events, B = peaks
        return np.array([*pb, *eb])

    observed = all_rates(peaks)
    null = np.array([all_rates(row) for row in rotated])
    names = [("peaks_before_events", "precursor"), ("peaks_before_events", "trigger"),
             ("events_before_peaks", "precursor"), ("events_before_peaks", "trigger")]
    tests, coarse = [], []
    for j, (direction, kind) in enumerate(names):
        a_n, b_n = (len(peaks), len(events)) if direction == "peaks_before_events" else (len(events), len(peaks))
        # precursor: share of B events; trigger: share of A events
        n_target, n_other = (b_n, a_n) if kind == "precursor" else (a_n, b_n)
        k = int(round(observed[j] * n_target)) if np.isfinite(observed[j]) else 0
        t = permutation_test(float(observed[j]), null[:, j], "greater", discrete=True)
        note = coarse_note(t, f"the {kind} rate")
        if note:
            coarse.append(f"{direction.replace('_', ' ')} {kind}")
        tests.append({
            "analysis": f"coincidence_{kind}",
            "direction": direction,
            "statistic_name": f"{kind}_rate",
            "statistic": float(observed[j]),
            **{key: t[key] for key in ("null_mean", "null_sd", "z_vs_null", "z_surrogate", "p_value",
                                       "p_conservative")},
            "warnings": note,
            "p_poisson": poisson_p(k, n_target, n_other, delta_s, tau_s, span),
            "n_coincidences": k,
            "n_events": int(len(events)),
            "n_peaks": int(len(peaks)),
            "delta_s": delta_s,
            "tau_s": tau_s,
            "alternative": "greater",
            "n_shifts": n_shifts,
            "min_shift_s": float(min_shift_s),
            "seed": seed_value(seed),
        })
    if coarse:
        warnings.warn(f"event coincidence: the rates take few values here ({', '.join(coarse)}): those tests are "
                      "coarse and conservative", DyadsyncWarning, stacklevel=2)
    correlogram = _correlogram(peaks, events, rotated, max_lag_s, bin_s, band)
    return Coincidence(tests=tests, correlogram=correlogram)


def _correlogram(
    peaks: np.ndarray, events: np.ndarray, rotated: np.ndarray, max_lag: float, bin_s: float, band: float
) -> pd.DataFrame:
    n_bins = max(1, int(np.ceil(max_lag / bin_s - 0.5)))
    edges = (np.arange(-n_bins, n_bins + 2) - 0.5) * bin_s  # one bin centred on lag 0
    centres = (edges[:-1] + edges[1:]) / 2

    def counts(pk: np.ndarray) -> np.ndarray:
        if len(pk) == 0 or len(events) == 0:
            return np.zeros(len(centres))
        d = (pk[None, :] - events[:, None]).ravel()
        return np.histogram(d[np.abs(d) <= edges[-1]], bins=edges)[0].astype(float)

    obs = counts(peaks)
    null = np.array([counts(row) for row in rotated])
    per = max(1, len(events))
    lo_q, hi_q = (1 - band) / 2 * 100, (1 + band) / 2 * 100
    return pd.DataFrame({
        "lag_s": centres,
        "count": obs.astype(int),
        "rate_per_event": obs / per,
        "null_mean": null.mean(axis=0) / per,
        "null_low": np.percentile(null, lo_q, axis=0) / per,
        "null_high": np.percentile(null, hi_q, axis=0) / per,
    })
