"""Resampling helpers of the moments analyses: circular shifts of event times and of peak trains."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AnalysisError


def require(condition: bool, message: str) -> None:
    """Raise AnalysisError with ``message`` unless ``condition``."""
    if not condition:
        raise AnalysisError(message)


def circular_shifts(
    rng: np.random.Generator, n_shifts: int, total_s: float, min_shift_s: float
) -> np.ndarray:
    """``n_shifts`` offsets drawn uniformly from ``[min_shift_s, total_s - min_shift_s]`` (s).

    Raises
    ------
    AnalysisError
        When ``2 * min_shift_s >= total_s`` (no room for a shift).
    """
    if 2 * min_shift_s >= total_s:
        raise AnalysisError(
            f"a minimum shift of {min_shift_s:.1f} s leaves no room for shifts in a series of {total_s:.1f} s"
        )
    return rng.uniform(min_shift_s, total_s - min_shift_s, size=int(n_shifts))


def shift_times(times_s: np.ndarray, shift_s: float | np.ndarray, start_s: float, total_s: float) -> np.ndarray:
    """Event times moved by ``shift_s`` circularly within ``[start_s, start_s + total_s)``.

    With an array of shifts, returns shape ``(n_shifts, n_times)``.
    """
    t = np.asarray(times_s, float)
    s = np.asarray(shift_s, float)
    if s.ndim:
        return start_s + np.mod(t[None, :] - start_s + s[:, None], total_s)
    return start_s + np.mod(t - start_s + s, total_s)


def rotated_trains(
    rng: np.random.Generator, times_s: np.ndarray, n_shifts: int, start_s: float, span_s: float, min_shift_s: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Shifted-event surrogates against a fixed train of ``times_s`` (peaks): the train rotated the other way.

    Moving the events by ``s`` circularly against the peaks is the same as rotating the peaks by ``-s``; done this
    way, every event keeps a full neighbourhood of peaks, as the observed events (away from the edges) have,
    instead of shifted events falling near the edges, where fewer peaks can be found (a liberal bias).
    ``min_shift_s`` falls back to 5% of the span when the span is too short for it.

    Returns
    -------
    (ndarray, ndarray, float)
        The shifts (s), the rotated trains (shape ``(n_shifts, len(times_s))``, each sorted) and the minimum shift
        used (s).
    """
    if 2 * min_shift_s >= span_s:
        min_shift_s = 0.05 * span_s
    shifts = circular_shifts(rng, n_shifts, span_s, min_shift_s)
    t = np.asarray(times_s, float)
    if len(t) == 0:
        return shifts, np.empty((len(shifts), 0)), float(min_shift_s)
    return shifts, np.sort(shift_times(t, -shifts, start_s, span_s), axis=1), float(min_shift_s)


#: Share of null values tied with the observed one above which a discrete test is reported as coarse.
COARSE_TIES = 0.25


def coarse_note(test: dict[str, Any], what: str) -> str:
    """A guard-rail note when a discrete statistic ties with much of its null (the test is then conservative)."""
    share = test.get("share_tied", 0.0)
    if share is None or not np.isfinite(share) or share < COARSE_TIES:
        return ""
    return (f"{what} takes few values here ({share:.0%} of the null equal the observed one): the test is coarse and "
            "conservative (more events, or a tolerance matched to the peak density, help)")
