"""Synchrony peaks and synchrony episodes, with thresholds from surrogate synchrony.

Question: when, in a session, is synchrony higher than two unrelated persons' would be?

Method: the threshold is the ``quantile`` (default 95th percentile) of synchrony computed on surrogates, where the
coupling between the two persons is destroyed (by default: one person's series circularly shifted by a random
offset, see :func:`shifted_pair_synchrony`; any surrogate synchrony can be passed in). **Peaks** are local maxima
of the synchrony series found with :func:`scipy.signal.find_peaks` that exceed the threshold, stand out by a
prominence of at least ``prominence_sd`` standard deviations of the series, and lie at least ``distance_s`` apart
(default one synchrony window, so that one window's worth of coordination gives one peak). **Episodes** are runs of
synchrony above the threshold lasting at least ``min_episode_s`` seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._arrays import true_runs
from .._validate import check_positive, seed_value
from ..errors import AnalysisError
from ._series import regular_grid

PEAK_COLUMNS = ("time_s", "sync", "z", "prominence", "width_s", "threshold")
EPISODE_COLUMNS = ("onset_s", "offset_s", "duration_s", "peak_time_s", "max_sync", "mean_sync", "threshold")
LEADER_COLUMNS = ("onset_s", "offset_s", "leader", "label", "median_lag_s", "n_windows")


@dataclass
class SynchronyPeaks:
    """Result of :func:`synchrony_peaks`.

    Attributes
    ----------
    peaks : DataFrame
        ``time_s``, ``sync``, ``z`` (within-session z), ``prominence`` (sync units), ``width_s`` (at half
        prominence), ``threshold``.
    episodes : DataFrame
        ``onset_s``, ``offset_s``, ``duration_s``, ``peak_time_s``, ``max_sync``, ``mean_sync``, ``threshold``.
    info : dict
        Threshold and how it was obtained, prominence, distance, minimum episode length, counts.
    """

    peaks: pd.DataFrame
    episodes: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def times_s(self) -> np.ndarray:
        """Peak times, s."""
        return self.peaks["time_s"].to_numpy(dtype=float)


def surrogate_threshold(surrogate_values: np.ndarray | Sequence[np.ndarray], quantile: float = 0.95) -> float:
    """The ``quantile`` of all finite surrogate synchrony values pooled.

    Raises
    ------
    AnalysisError
        When there is no finite surrogate value or the quantile is not in (0, 1).
    """
    if not 0 < quantile < 1:
        raise AnalysisError(f"quantile must be between 0 and 1, got {quantile}")
    if isinstance(surrogate_values, np.ndarray):
        pooled = surrogate_values.ravel()
    else:
        pooled = np.concatenate([np.ravel(np.asarray(v, float)) for v in surrogate_values]) if len(
            surrogate_values) else np.empty(0)
    pooled = pooled[np.isfinite(pooled)]
    if len(pooled) == 0:
        raise AnalysisError("no finite surrogate synchrony value to take a threshold from")
    return float(np.quantile(pooled, quantile))


def synchrony_peaks(
    times_s: np.ndarray,
    values: np.ndarray,
    *,
    threshold: float | None = None,
    surrogate_values: np.ndarray | Sequence[np.ndarray] | None = None,
    quantile: float = 0.95,
    prominence_sd: float = 0.5,
    distance_s: float | None = None,
    window_s: float | None = None,
    min_episode_s: float = 5.0,
) -> SynchronyPeaks:
    """Peaks and episodes of a synchrony series above a surrogate-based threshold.

    Parameters
    ----------
    times_s, values : ndarray, shape (n,)
        Regularly spaced synchrony series (window centres, s) and its values.
    threshold : float or None
        Height a peak (and an episode) must exceed, in synchrony units. None takes it from ``surrogate_values``.
    surrogate_values : ndarray or list of ndarray or None
        Synchrony of surrogates (e.g. from :func:`shifted_pair_synchrony`); used when ``threshold`` is None.
    quantile : float, default 0.95
        Quantile of the surrogate values that becomes the threshold.
    prominence_sd : float, default 0.5
        Minimum prominence of a peak, in SD of the series.
    distance_s : float or None
        Minimum distance between peaks, s; None uses ``window_s`` (one synchrony window) or, without it, one
        sample.
    window_s : float or None
        The synchrony window, s (the default distance).
    min_episode_s : float, default 5
        Shortest episode, s.

    Returns
    -------
    SynchronyPeaks

    Raises
    ------
    AnalysisError
        Without a threshold or surrogates.
    """
    from scipy.signal import find_peaks, peak_widths

    grid = regular_grid(times_s, values)
    if threshold is None:
        if surrogate_values is None:
            raise AnalysisError("synchrony peaks need a threshold or surrogate synchrony to take it from")
        threshold = surrogate_threshold(surrogate_values, quantile)
        how = f"{quantile:g} quantile of surrogate synchrony"
    else:
        how = "given"
    prominence_sd = check_positive("prominence_sd", prominence_sd, allow_zero=True)
    min_episode_s = check_positive("min_episode_s", min_episode_s, allow_zero=True)
    if distance_s is None:
        distance_s = window_s if window_s is not None else grid.step_s
    distance = max(1, int(round(check_positive("distance_s", distance_s) / grid.step_s)))
    x = grid.values
    sd = float(np.nanstd(x))
    # find_peaks cannot see through NaN: fill them with -inf-like values so that no peak spans a gap.
    filled = np.where(np.isfinite(x), x, np.nanmin(x) - 10 * sd)
    idx, props = find_peaks(filled, height=threshold, prominence=prominence_sd * sd, distance=distance)
    widths = peak_widths(filled, idx, rel_height=0.5)[0] * grid.step_s if len(idx) else np.empty(0)
    peaks = pd.DataFrame({
        "time_s": grid.times_s[idx],
        "sync": x[idx],
        "z": grid.z[idx],
        "prominence": props.get("prominences", np.empty(0)),
        "width_s": widths,
        "threshold": threshold,
    }, columns=list(PEAK_COLUMNS))
    episodes = _episodes(grid.times_s, x, threshold, min_episode_s, grid.step_s)
    info = {
        "threshold": float(threshold),
        "threshold_from": how,
        "quantile": quantile if how != "given" else None,
        "prominence_sd": prominence_sd,
        "prominence": prominence_sd * sd,
        "distance_s": distance * grid.step_s,
        "min_episode_s": min_episode_s,
        "n_peaks": int(len(peaks)),
        "n_episodes": int(len(episodes)),
        "share_above_threshold": float(np.nanmean(x > threshold)),
    }
    return SynchronyPeaks(peaks=peaks, episodes=episodes, info=info)


def _episodes(times: np.ndarray, x: np.ndarray, threshold: float, min_s: float, step: float) -> pd.DataFrame:
    above = np.nan_to_num(x, nan=-np.inf) > threshold
    rows = []
    for a, b in zip(*true_runs(above)):
        duration = (b - a) * step
        if duration < min_s:
            continue
        seg = x[a:b]
        rows.append((times[a] - step / 2, times[b - 1] + step / 2, duration, times[a + int(np.argmax(seg))],
                     float(seg.max()), float(seg.mean()), threshold))
    return pd.DataFrame.from_records(rows, columns=list(EPISODE_COLUMNS))


def episode_leaders(
    times_s: np.ndarray,
    best_lag_s: np.ndarray,
    episodes: pd.DataFrame,
    persons: Sequence[str] = ("A", "B"),
) -> pd.DataFrame:
    """Who leads in each synchrony episode: the sign of the median best lag of the windows inside it.

    A positive lag means person B follows person A (the synchrony table's convention), so A leads. The median
    over the episode's windows (window centres within ``[onset_s, offset_s]``, finite lags only) keeps single
    windows whose best lag jumped from deciding the episode.

    Parameters
    ----------
    times_s, best_lag_s : ndarray, shape (n,)
        Window centres (s) and their best lag (s; ``best_lag_s`` of the synchrony table).
    episodes : DataFrame
        ``onset_s``, ``offset_s`` (e.g. :attr:`SynchronyPeaks.episodes`).
    persons : two str
        Names of person A and person B.

    Returns
    -------
    DataFrame
        One row per episode: ``onset_s``, ``offset_s``, ``leader`` (A's or B's name; ``""`` when in step or
        unknown), ``label`` (``"<A> leads"``, ``"<B> leads"``, ``"in step"`` for a median lag of 0, ``"lag
        unclear"`` without a finite lag), ``median_lag_s``, ``n_windows``.
    """
    a, b = (str(p) for p in persons)
    t = np.asarray(times_s, float)
    lag = np.asarray(best_lag_s, float)
    rows = []
    for on, off in zip(episodes["onset_s"].to_numpy(float), episodes["offset_s"].to_numpy(float)):
        inside = (t >= on) & (t <= off) & np.isfinite(lag)
        n = int(inside.sum())
        med = float(np.median(lag[inside])) if n else float("nan")
        if not n:
            leader, label = "", "lag unclear"
        elif med > 0:
            leader, label = a, f"{a} leads"
        elif med < 0:
            leader, label = b, f"{b} leads"
        else:
            leader, label = "", "in step"
        rows.append((float(on), float(off), leader, label, med, n))
    return pd.DataFrame.from_records(rows, columns=list(LEADER_COLUMNS))


def shifted_pair_synchrony(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    n_surrogates: int = 19,
    min_shift_s: float | None = None,
    summary: str = "best",
    seed: int | np.random.Generator | None = 0,
    **wcc: Any,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Synchrony of surrogate pairs: person B's series circularly shifted against A's by random offsets.

    Peak thresholds need per-window surrogate synchrony; this draws it from
    :func:`dyadsync.synchrony.surrogates.circular_shift` (all shifts at once, equal to the engine on
    ``np.roll(b, k)``). The shift destroys the moment-to-moment coupling between the two persons but keeps each
    one's own movement (its autocorrelation and activity).

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Person A's and person B's series on one regular grid.
    rate_hz : float
        Sampling rate, Hz.
    n_surrogates : int, default 19
        Number of shifted pairs (distinct shifts).
    min_shift_s : float or None
        Smallest shift, s; None uses the larger of twice the window and 10% of the series.
    summary : {"best", "mean", "lag0"}
        Per-window summary, as for the real synchrony.
    seed : int, Generator or None
    **wcc
        Parameters of :func:`dyadsync.synchrony.windowed_cross_correlation` (``window_s``, ``step_s``,
        ``max_lag_s``, ``fisher_z``, ``absolute``, ``min_valid``).

    Returns
    -------
    list of ndarray, dict
        The surrogate synchrony series and a record (method, shifts in s, seed).
    """
    from ..synchrony import circular_shift

    window_s = float(wcc.get("window_s", 0.0))
    n = len(a)
    min_shift = max(2 * window_s, 0.1 * n / rate_hz) if min_shift_s is None else float(min_shift_s)
    sur = circular_shift(a, b, rate_hz=rate_hz, seed=seed, n_surrogates=int(n_surrogates),
                         min_shift_s=min_shift, summary=summary, **wcc)
    record = {
        "method": "circular shift of person B against person A",
        "n_surrogates": sur.n,
        "min_shift_s": min_shift,
        "shifts_s": [round(float(x), 3) for x in sur.labels],
        "seed": seed_value(seed),
    }
    return list(sur.window_sync), record
