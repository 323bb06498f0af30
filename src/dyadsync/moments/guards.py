"""Guard-rails reported with every moments analysis: what the data can and cannot say.

* **Too few events** of a type (fewer than ``min_events``, default 5): the null distribution is coarse and the
  test weak; counted and warned.
* **Overlapping epochs**: consecutive events closer than one epoch share synchrony samples, so they are not
  independent observations; counted and warned.
* **Events too close to the edges** of the synchrony series: their epoch is incomplete (synchrony is stamped at
  window centres, so the first and last half window hold no value); counted and warned.
* **Precedence**: synchrony at a time summarises a whole window, so a lead or lag shorter than half the synchrony
  window is within the window's own smearing and is *not evidence of precedence*; the output says so.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..errors import DyadsyncWarning

#: Fewer events of a type than this are counted and warned about.
MIN_EVENTS = 5

PRECEDES = "synchrony peaks before the event onsets"
FOLLOWS = "synchrony peaks after the event onsets"
NOT_EVIDENCE = "lead shorter than half the synchrony window: not evidence of precedence"
UNDETERMINED = "undetermined"


def event_checks(
    onsets_s: np.ndarray,
    offsets_s: np.ndarray,
    *,
    series_start_s: float,
    series_end_s: float,
    tmin_s: float,
    tmax_s: float,
    min_events: int = MIN_EVENTS,
) -> dict[str, Any]:
    """Count the problems of a set of events for an epoch analysis.

    Parameters
    ----------
    onsets_s, offsets_s : ndarray, shape (n_events,)
        Event times, s.
    series_start_s, series_end_s : float
        First and last time of the synchrony series, s.
    tmin_s, tmax_s : float
        Epoch relative to onset (``tmin_s``) and to offset (``tmax_s``), s.
    min_events : int, default 5

    Returns
    -------
    dict
        ``n_events``, ``too_few_events`` (bool), ``n_near_edge`` (epoch not wholly inside the series),
        ``n_overlapping_epochs`` (epochs overlapping the previous event's epoch), ``min_events``.
    """
    on = np.sort(np.asarray(onsets_s, float))
    off = np.asarray(offsets_s, float)[np.argsort(np.asarray(onsets_s, float))]
    starts, ends = on + tmin_s, off + tmax_s
    near = (starts < series_start_s) | (ends > series_end_s)
    overlapping = int(np.sum(starts[1:] < np.maximum.accumulate(ends)[:-1])) if len(on) > 1 else 0
    return {
        "n_events": int(len(on)),
        "too_few_events": bool(len(on) < min_events),
        "n_near_edge": int(near.sum()),
        "n_overlapping_epochs": overlapping,
        "min_events": int(min_events),
    }


def check_messages(checks: dict[str, Any], label: str) -> list[str]:
    """Human-readable problems of :func:`event_checks` output (empty list when there are none)."""
    out = []
    if checks["too_few_events"]:
        out.append(
            f"{label}: only {checks['n_events']} event(s) (fewer than {checks['min_events']}): the test is weak "
            "and its null distribution coarse"
        )
    if checks["n_overlapping_epochs"]:
        out.append(
            f"{label}: {checks['n_overlapping_epochs']} epoch(s) overlap the previous event's epoch: they share "
            "synchrony samples and are not independent"
        )
    if checks["n_near_edge"]:
        out.append(
            f"{label}: {checks['n_near_edge']} event(s) too close to the start or end of the synchrony series for a "
            "complete epoch (synchrony is stamped at window centres)"
        )
    return out


def warn_checks(checks: dict[str, Any], label: str) -> str:
    """Warn (DyadsyncWarning) about every problem in ``checks``; return them joined by '; ' for the output table."""
    messages = check_messages(checks, label)
    for m in messages:
        warnings.warn(m, DyadsyncWarning, stacklevel=3)
    return "; ".join(messages)


def precedence(latency_s: float, window_s: float | None) -> str:
    """What a signed latency (synchrony time minus event time, s) says about precedence.

    Negative latencies mean synchrony comes first. A latency shorter than half the synchrony window is reported as
    not evidence of precedence; without a window (None) any non-zero latency is taken at face value.
    """
    if latency_s is None or not math.isfinite(latency_s):
        return UNDETERMINED
    half = 0.0 if window_s is None or not math.isfinite(window_s) else window_s / 2
    if abs(latency_s) < half or latency_s == 0:
        return NOT_EVIDENCE
    return PRECEDES if latency_s < 0 else FOLLOWS
