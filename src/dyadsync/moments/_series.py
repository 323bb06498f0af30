"""A synchrony series on a regular grid, with the checks every moments analysis needs."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import AnalysisError


@dataclass
class Grid:
    """A regularly sampled series: ``times_s`` (s), ``values`` and their within-session z scores."""

    times_s: np.ndarray
    values: np.ndarray
    z: np.ndarray
    step_s: float

    @property
    def n(self) -> int:
        return len(self.times_s)

    @property
    def t0(self) -> float:
        return float(self.times_s[0])

    @property
    def t_end(self) -> float:
        return float(self.times_s[-1])

    @property
    def total_s(self) -> float:
        """Length covered by the samples (n x step), s: the period of circular shifts."""
        return self.n * self.step_s

    def index(self, t: np.ndarray | float) -> np.ndarray:
        """Nearest sample index of time(s) ``t`` (may fall outside ``0..n-1``)."""
        return np.round((np.asarray(t, float) - self.t0) / self.step_s).astype(int)

    def inside(self, t: np.ndarray) -> np.ndarray:
        """Which times lie within the series (to half a step)."""
        t = np.asarray(t, float)
        return (t >= self.t0 - self.step_s / 2) & (t <= self.t_end + self.step_s / 2)


def zscore(values: np.ndarray) -> np.ndarray:
    """Z-score a series ignoring NaN (population SD); a constant series raises AnalysisError."""
    values = np.asarray(values, dtype=float)
    sd = np.nanstd(values)
    if not np.isfinite(sd) or sd == 0:
        raise AnalysisError("synchrony series is constant or empty: cannot z-score it")
    return (values - np.nanmean(values)) / sd


def regular_grid(times_s: np.ndarray, values: np.ndarray, *, min_samples: int = 3) -> Grid:
    """Check that ``times_s`` is a regular grid and z-score ``values`` within the session.

    Raises
    ------
    AnalysisError
        For fewer than ``min_samples`` samples, mismatched lengths, an irregular grid or a constant series.
    """
    times_s = np.asarray(times_s, dtype=float)
    values = np.asarray(values, dtype=float)
    if times_s.shape != values.shape or times_s.ndim != 1:
        raise AnalysisError(f"times and values must be 1-D of equal length, got {times_s.shape} and {values.shape}")
    if len(times_s) < min_samples:
        raise AnalysisError(f"synchrony series has {len(times_s)} samples; need at least {min_samples}")
    z = zscore(values)
    step = float(np.median(np.diff(times_s)))
    if step <= 0 or np.max(np.abs(np.diff(times_s) - step)) > 1e-6 * max(1.0, step):
        raise AnalysisError("synchrony times must be regularly spaced")
    return Grid(times_s, values, z, step)


def take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``x[idx]`` with NaN wherever the index falls outside ``x``."""
    ok = (idx >= 0) & (idx < len(x))
    out = np.full(idx.shape, np.nan)
    out[ok] = x[idx[ok]]
    return out


class Quiet:
    """``with Quiet():`` silences numpy RuntimeWarnings (mean of empty slice and the like)."""

    def __enter__(self) -> None:
        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


class RangeMeans:
    """Mean of a series over sample ranges ``[start, stop)`` from prefix sums (NaN ignored)."""

    def __init__(self, x: np.ndarray) -> None:
        ok = np.isfinite(x)
        self.sum = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
        self.cnt = np.concatenate([[0], np.cumsum(ok)])
        self.n = len(x)

    def mean(self, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = np.clip(start, 0, self.n)
        b = np.clip(stop, 0, self.n)
        c = self.cnt[b] - self.cnt[a]
        with Quiet(), np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, (self.sum[b] - self.sum[a]) / c, np.nan), c


def epoch_bounds_from_index(
    on: np.ndarray, off: np.ndarray, step_s: float, epoch_s: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Sample ranges ``[start, stop)`` of the PRE, DURING and POST epoch of events at sample indices ``on`` to
    ``off`` (a point event, ``off <= on``, gets a DURING epoch of ``epoch_s`` centred on it)."""
    length = max(1, int(round(epoch_s / step_s)))
    point = off <= on
    during_start = np.where(point, on - length // 2, on)
    during_stop = np.where(point, on - length // 2 + length, off + 1)
    return {
        "pre": (on - length, on),
        "during": (during_start, during_stop),
        "post": (off + 1, off + 1 + length),
    }
