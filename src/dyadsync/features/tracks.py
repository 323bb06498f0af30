"""Quality control of per-frame tracks: short gaps filled up to a stated limit, missing ranges, detection rates.

Missing detections are NaN, never zeros. Interior gaps up to ``max_gap_s`` are interpolated linearly
(:func:`fill_short_gaps`); longer gaps stay NaN and are reported as time ranges with the detection rate
(:func:`detection_summary`), which the pose and face extractors put in their info and warn about. :func:`speed`
derives a point's speed from its track. Nothing here knows about MediaPipe: the functions take times and arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._arrays import true_runs
from .._validate import check_array, check_real
from ..errors import AnalysisError


def fill_short_gaps(times_s: np.ndarray, values: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Linearly interpolate interior runs of NaN lasting at most ``max_gap_s`` seconds, column by column.

    A run's duration is the number of missing samples times the median sample interval. Runs at the start or the
    end of a series, and longer runs, stay NaN.

    Parameters
    ----------
    times_s : ndarray, shape (n,)
    values : ndarray, shape (n,) or (n, ...)
    max_gap_s : float

    Returns
    -------
    ndarray
        A copy of ``values`` with the short gaps filled.
    """
    _same_length(times_s, 'values', values)
    check_real("max_gap_s", max_gap_s)
    out = np.array(values, dtype=float, copy=True)
    n = len(times_s)
    if max_gap_s <= 0 or n < 3:
        return out
    step = float(np.median(np.diff(times_s)))
    max_len = int(np.floor(max_gap_s / step + 1e-9))
    if max_len < 1:
        return out
    flat = out.reshape(n, -1)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        nan = np.isnan(col)
        if not nan.any() or nan.all():
            continue
        for s, e in zip(*true_runs(nan)):
            if e - s <= max_len and s > 0 and e < n:
                col[s:e] = np.interp(times_s[s:e], times_s[[s - 1, e]], col[[s - 1, e]])
    return out


def missing_ranges(times_s: np.ndarray, detected: np.ndarray, min_s: float = 0.0) -> list[tuple[float, float]]:
    """Time ranges without detection, ``[(start_s, end_s), ...]``, lasting at least ``min_s`` seconds.

    A range starts at the first analysed frame without detection and ends at the next analysed frame (with a
    detection), or one sample interval after the last frame when the video ends without one.
    """
    _same_length(times_s, 'detected', detected)
    check_real("min_s", min_s)
    times_s = np.asarray(times_s, float)
    if len(times_s) == 0:
        return []
    step = float(np.median(np.diff(times_s))) if len(times_s) > 1 else 0.0
    out = []
    for s, e in zip(*true_runs(~np.asarray(detected, bool))):
        end = times_s[e] if e < len(times_s) else times_s[-1] + step
        if end - times_s[s] >= min_s - 1e-9:
            out.append((round(float(times_s[s]), 3), round(float(end), 3)))
    return out


def speed(times_s: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Speed of a point (or of each of several points) between consecutive samples, per second.

    ``xy`` has shape (n, 2) or (n, k, 2); the result (n,) or (n, k) holds the distance moved since the previous
    sample divided by the time between them, stamped at the later sample; the first sample is NaN.
    """
    _same_length(times_s, 'xy', xy)
    xy = np.asarray(xy, float)
    out = np.full(xy.shape[:-1], np.nan)
    if len(xy) > 1:
        dt = np.diff(np.asarray(times_s, float)).reshape((-1,) + (1,) * (xy.ndim - 2))
        out[1:] = np.linalg.norm(np.diff(xy, axis=0), axis=-1) / dt
    return out


def detection_summary(
    times_s: np.ndarray, detected: np.ndarray, what: str, person: str, warn_gap_s: float, video: Path
) -> tuple[dict[str, Any], str | None]:
    """Detection rate and the ranges without detection of one person, and the warning text when there are any."""
    detected = np.asarray(detected, bool)
    ranges = missing_ranges(times_s, detected, warn_gap_s)
    summary = {
        "detection_rate": float(detected.mean()) if len(detected) else float("nan"),
        "n_frames": int(len(detected)),
        "n_detected": int(detected.sum()),
        "no_detection_s": [list(r) for r in ranges],
    }
    message = None
    if ranges:
        shown = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in ranges[:10])
        more = f" and {len(ranges) - 10} more" if len(ranges) > 10 else ""
        message = (
            f"{video}: no {what} found for person {person!r} from {shown}{more} (detected in "
            f"{summary['detection_rate'] * 100:.1f}% of analysed frames); {what} features are NaN there"
        )
    return summary, message


def _same_length(times_s: np.ndarray, name: str, values: np.ndarray) -> None:
    """AnalysisError unless ``times_s`` is 1-D and ``values`` has one row per time."""
    n = check_array("times_s", times_s).size
    if check_array(name, values, ndim=None).shape[:1] != (n,):
        raise AnalysisError(f"{name} must have one row per time ({n}), got shape {np.shape(values)}")
