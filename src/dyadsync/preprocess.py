"""From a feature table to two series on one regular time grid, ready for synchrony.

Steps, each recorded in the returned info: pick one feature for persons A and B; mask artefact frames (NaN);
put both on a regular grid (kept as is when the samples already are regular, else linear interpolation onto a
grid at the stated rate: never silently); fill short gaps; smooth with a centred moving average; scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._arrays import true_runs
from ._validate import check_option, check_positive
from .errors import AnalysisError
from .io.tables import SCENE, to_wide

#: Scalings of :func:`prepare_pair`.
SCALES = ("none", "sd", "z")

#: Sample times within this fraction of an interval from a regular grid count as regular.
GRID_TOLERANCE = 0.05


@dataclass
class PreprocessParams:
    """Preprocessing settings (the ``[preprocess]`` section of a pipeline): the one source of their defaults.

    Attributes
    ----------
    rate_hz : float, default 0
        Grid rate in Hz; 0 keeps the native rate (see :func:`prepare_pair`).
    mask_artefacts : bool, default True
        Set samples flagged as scene artefacts to NaN.
    max_gap_s : float, default 0
        Interpolate runs of NaN up to this long, s (0: leave all gaps).
    smooth_s : float, default 0.5
        Width of the centred moving average, s (0: none).
    scale : {"none", "sd", "z"}, default "none"
        Scaling of each series.
    """

    rate_hz: float = 0.0
    mask_artefacts: bool = True
    max_gap_s: float = 0.0
    smooth_s: float = 0.5
    scale: str = "none"

    def check(self, where: str = "") -> None:
        """Raise :class:`~dyadsync.errors.ConfigError` for an invalid value (``where`` prefixes the message)."""
        w = f"{where} " if where else ""
        check_option(f"{w}scale", self.scale, SCALES)
        for name in ("rate_hz", "max_gap_s", "smooth_s"):
            check_positive(f"{w}{name}", getattr(self, name), allow_zero=True)


_DEFAULT = PreprocessParams()


@dataclass
class Pair:
    """Two persons' series of one feature on a common regular grid.

    Attributes
    ----------
    times_s : ndarray, shape (n,)
        Sample times in seconds.
    a, b : ndarray, shape (n,)
        Person A's and person B's values (NaN where missing or masked).
    rate_hz : float
        Sampling rate of the grid in Hz.
    persons : tuple of str
        Names of A and B.
    feature : str
    info : dict
        What was done: resampling, masking, gap filling, smoothing, scaling, with counts.
    """

    times_s: np.ndarray
    a: np.ndarray
    b: np.ndarray
    rate_hz: float
    persons: tuple[str, str]
    feature: str
    info: dict[str, Any] = field(default_factory=dict)


def prepare_pair(
    features: pd.DataFrame,
    feature: str,
    persons: Sequence[str],
    *,
    rate_hz: float | None = _DEFAULT.rate_hz,
    mask_artefacts: bool = _DEFAULT.mask_artefacts,
    max_gap_s: float = _DEFAULT.max_gap_s,
    smooth_s: float = _DEFAULT.smooth_s,
    scale: str = _DEFAULT.scale,
) -> Pair:
    """Extract one feature for two persons and put it on a regular grid, masked, smoothed and scaled.

    Parameters
    ----------
    features : DataFrame
        Long feature table (``time_s``, ``person``, ``feature``, ``value``).
    feature : str
        Feature name, e.g. ``"motion_energy"``.
    persons : sequence of two str
        Person A and person B.
    rate_hz : float or None, default 0
        Grid rate in Hz. 0 or None keeps the native rate (mean sample interval) and resamples only if the samples
        are irregular (variable frame rate, frames taken at a stride).
    mask_artefacts : bool, default True
        Set samples flagged by the ``scene``/``artefact`` feature to NaN.
    max_gap_s : float, default 0
        Linearly interpolate runs of NaN no longer than this many seconds (0: leave all gaps).
    smooth_s : float, default 0.5
        Width in seconds of a centred moving average (0: none). The average ignores NaN and needs at least half
        of its samples.
    scale : {"none", "sd", "z"}
        ``"sd"`` divides by the standard deviation without centring (as rMEA's ``MEAscale``); ``"z"`` centres
        and divides by the standard deviation. Correlations are unchanged by either.

    Returns
    -------
    Pair

    Raises
    ------
    AnalysisError
        When the feature or a person is missing from the table, or a series holds no finite value.

    See Also
    --------
    PreprocessParams : the same settings as one object; ``prepare_pair(..., **dataclasses.asdict(params))``.
    """
    check_option("scale", scale, SCALES)
    rate_hz = rate_hz or None
    max_gap_s = check_positive("max_gap_s", max_gap_s, allow_zero=True)
    smooth_s = check_positive("smooth_s", smooth_s, allow_zero=True)
    persons = tuple(persons)
    if len(persons) != 2:
        raise AnalysisError(f"synchrony needs two persons, got {list(persons)}")
    wide = to_wide(features, feature)
    missing = [p for p in persons if p not in wide.columns]
    if missing:
        raise AnalysisError(
            f"feature {feature!r} has no values for person(s) {missing}; persons present: {list(wide.columns)}"
        )
    wide = wide[list(persons)].sort_index()
    times = wide.index.to_numpy(dtype=float)
    values = wide.to_numpy(dtype=float, copy=True)
    info: dict[str, Any] = {"feature": feature, "persons": list(persons)}

    if mask_artefacts:
        flags = features[(features["person"] == SCENE) & (features["feature"] == "artefact")]
        if not flags.empty:
            bad = set(flags.loc[flags["value"] > 0, "time_s"].to_numpy(dtype=float))
            hit = np.isin(times, list(bad))
            values[hit] = np.nan
            info["n_masked_artefacts"] = int(hit.sum())

    times, values, rate, resampled = _regular_grid(times, values, rate_hz, max_gap_s=max_gap_s)
    info.update({"rate_hz": rate, "resampled": resampled, "n_samples": len(times)})

    if max_gap_s > 0:
        values, n_filled = _fill_gaps(values, int(round(max_gap_s * rate)))
        info["n_gap_filled"] = n_filled
    if smooth_s > 0:
        values = _moving_average(values, max(1, int(round(smooth_s * rate))))
        info["smooth_s"] = smooth_s
    if scale != "none":
        sd = np.nanstd(values, axis=0, ddof=1)
        sd[sd == 0] = np.nan
        values = (values - np.nanmean(values, axis=0)) / sd if scale == "z" else values / sd
        info["scale"] = scale
    for j, p in enumerate(persons):
        column = values[:, j][np.isfinite(values[:, j])]
        if not len(column):
            raise AnalysisError(f"feature {feature!r} of person {p!r} has no finite value after preprocessing")
        if np.all(column == column[0]):
            # a correlation needs variation: a still, black or grey picture gives a constant motion energy
            raise AnalysisError(f"feature {feature!r} of person {p!r} never changes (always {column[0]:g}): no "
                                "synchrony can be computed from it (a still, black or grey video?)")
    info["missing_pct"] = {p: float(np.isnan(values[:, j]).mean() * 100) for j, p in enumerate(persons)}
    return Pair(times, values[:, 0].copy(), values[:, 1].copy(), rate, (persons[0], persons[1]), feature, info)


def _regular_grid(
    times: np.ndarray, values: np.ndarray, rate_hz: float | None, *, max_gap_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Put the samples on a regular grid: kept as they are when already regular, else interpolated linearly.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Sorted sample times, s.
    values : ndarray, shape (n, k)
        Values at those times (NaN where missing).
    rate_hz : float or None
        Grid rate, Hz; None uses the native rate (mean sample interval).
    max_gap_s : float, default 0
        Longest stretch without a valid sample that may be interpolated across, s.

    Returns
    -------
    (ndarray, ndarray, float, bool)
        Grid times (s), values on the grid, grid rate (Hz), and whether the samples were resampled.

    Notes
    -----
    A grid value is interpolated only from the two samples around it (the last at or before it and the first at
    or after it), and only when both are valid and no farther apart than ``max_gap_s`` or twice the median
    sample interval, whichever is longer; otherwise it is NaN. A gap in the samples (NaN values, or no samples at
    all for a while) therefore stays a gap on the grid, and short gaps are left to the gap filling that follows.
    """
    if len(times) < 2:
        raise AnalysisError(f"need at least two samples to form a time grid, got {len(times)}")
    # The mean interval, not the median: frames taken at a stride (10 Hz from 25 fps: intervals of 0.08 and
    # 0.12 s) have a median that is neither rate.
    native = (len(times) - 1) / float(times[-1] - times[0])
    rate = native if rate_hz is None else check_positive("rate_hz", rate_hz)
    step = 1.0 / rate
    t0 = times[0]
    k = (times - t0) / step
    regular = (
        np.isclose(rate, native, rtol=1e-3)
        and np.all(np.abs(k - np.round(k)) < GRID_TOLERANCE)
        and np.all(np.diff(np.round(k)) == 1)
    )
    if regular:
        return times, values, float(native), False
    n = int(np.floor((times[-1] - t0) / step + 1e-9)) + 1
    grid = t0 + np.arange(n) * step
    # The samples around each grid point: the last at or before it and the first at or after it (the same sample
    # when the grid point falls on one).
    before = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, len(times) - 1)
    after = np.clip(np.searchsorted(times, grid, side="left"), 0, len(times) - 1)
    longest = max(max_gap_s, 2.0 * float(np.median(np.diff(times)))) * (1 + GRID_TOLERANCE)
    close = (times[after] - times[before]) <= longest
    out = np.empty((n, values.shape[1]))
    for j in range(values.shape[1]):
        ok = np.isfinite(values[:, j])
        out[:, j] = np.interp(grid, times[ok], values[ok, j], left=np.nan, right=np.nan) if ok.sum() >= 2 else np.nan
        # Never interpolate across a missing stretch: both samples around the grid point must be valid and close.
        out[~(ok[before] & ok[after] & close), j] = np.nan
    return grid, out, float(rate), True


def _fill_gaps(values: np.ndarray, max_len: int) -> tuple[np.ndarray, int]:
    out = values.copy()
    filled = 0
    idx = np.arange(len(out))
    for j in range(out.shape[1]):
        col = out[:, j]
        nan = np.isnan(col)
        if not nan.any() or nan.all():
            continue
        # Runs of NaN: start and end indices.
        starts, ends = true_runs(nan)
        interp = np.interp(idx, idx[~nan], col[~nan])
        for s, e in zip(starts, ends):
            if e - s <= max_len and s > 0 and e < len(col):
                col[s:e] = interp[s:e]
                filled += e - s
    return out, filled


def _moving_average(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return values
    ok = np.isfinite(values)
    filled = np.where(ok, values, 0.0)
    kernel = np.ones(width)
    out = np.empty_like(values)
    for j in range(values.shape[1]):
        s = np.convolve(filled[:, j], kernel, mode="same")
        c = np.convolve(ok[:, j].astype(float), kernel, mode="same")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(c >= width / 2, s / c, np.nan)
    return out


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` samples that skips missing values (the ``smooth_s`` step).

    Parameters
    ----------
    values : ndarray, shape (n, k)
        Series in columns (NaN = missing).
    width : int
        Width in samples; 1 or less returns ``values`` unchanged.

    Returns
    -------
    ndarray, shape (n, k)
        The mean of the non-missing samples in each window; NaN where fewer than half of them are present.
    """
    return _moving_average(np.asarray(values, dtype=float), int(width))
