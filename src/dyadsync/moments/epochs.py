"""Event-locked averages of synchrony around coded moments, against circular shifts of the event times.

Question: is synchrony around the coded moments (of meeting, say) higher than at other times of the same session,
and when, relative to the onsets?

Method: the synchrony series is z-scored within the session (so sessions and modalities share one scale), cut
into epochs from ``tmin_s`` to ``tmax_s`` around each event onset, and averaged across events. The null
distribution comes from shifting **all** event times of the session together by one random offset, circularly
(modulo the session length): this keeps the number of events, their spacing and the autocorrelation of
synchrony, and breaks only the alignment between events and synchrony (the null hypothesis). Three tests share
these shifts:

* **mean during the events**: the mean z during the events (from each onset to its offset, or in a fixed window
  relative to onset); ``p = (1 + #{null >= observed}) / (1 + n_shifts)``;
* **max statistic**: the largest studentised deviation of the curve from the null mean over the whole epoch,
  against the same maximum over each shifted curve; its ``band`` quantile gives a *simultaneous* band (a curve
  leaves it anywhere in the epoch with probability ``1 - band`` under the null) beside the pointwise band;
* **cluster mass** (Maris & Oostenveld 2007): runs of consecutive times beyond the pointwise ``1 - cluster_alpha``
  null quantile form clusters; a cluster's mass is the sum of its studentised deviations; each cluster is compared
  with the largest cluster mass of every shifted curve, which controls the family-wise error over the epoch and
  says *when* synchrony differs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._arrays import true_runs
from .._validate import check_option, check_positive, rng_from, seed_value
from ..errors import AnalysisError, DyadsyncWarning
from ..stats import permutation_test
from ._series import Quiet, regular_grid, take
from ._series import zscore as zscore
from .guards import event_checks, precedence, warn_checks

CLUSTER_COLUMNS = ("cluster", "sign", "start_s", "end_s", "peak_rel_time_s", "centre_rel_time_s", "mass", "p_value")


@dataclass
class EventLocked:
    """Result of :func:`event_locked_average`.

    Attributes
    ----------
    curve : DataFrame
        One row per relative time: ``rel_time_s``, ``mean_z`` (event-locked average of z-scored synchrony),
        ``n_events`` (events contributing at that time), ``null_mean``, ``null_sd``, ``null_low``, ``null_high``
        (pointwise null band, percentiles ``(1 - band) / 2`` and ``(1 + band) / 2`` of the shifted curves),
        ``null_max_low``, ``null_max_high`` (simultaneous band from the max statistic), ``cluster`` (number of the
        cluster the time belongs to, 0 for none).
    test : dict
        The statistic during the events (``statistic``, ``null_mean``, ``null_sd``, ``null_q``, ``p_value``,
        ``z_vs_null``, ``z_surrogate``, ``above_band``), the max-statistic test (``max_statistic``, ``p_max``,
        ``max_q``, ``max_rel_time_s``), the cluster test (``cluster_mass``, ``p_cluster``, ``n_clusters``,
        ``n_significant_clusters``), the latency of the most significant cluster (``latency_s``: its centre of mass; ``precedence``),
        the guard-rail counts (``n_near_edge``, ``n_overlapping_epochs``, ``too_few_events``, ``warnings``) and
        every parameter with the seed.
    clusters : DataFrame
        One row per cluster: ``cluster``, ``sign`` (+1 above the null, -1 below), ``start_s``, ``end_s``,
        ``peak_rel_time_s`` (largest deviation), ``centre_rel_time_s`` (centre of mass of the deviations), ``mass``,
        ``p_value``.
    null_statistics : ndarray, shape (n_shifts,)
        The statistic during the events under each circular shift.
    """

    curve: pd.DataFrame
    test: dict[str, Any]
    clusters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CLUSTER_COLUMNS)))
    null_statistics: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)


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
    cluster_alpha: float = 0.05,
    window_s: float | None = None,
    min_events: int = 5,
    seed: int | np.random.Generator | None = 0,
) -> EventLocked:
    """Event-locked average of within-session z-scored synchrony, with circular-shift bands and tests.

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
        Coverage of the pointwise and simultaneous null bands.
    alternative : {"greater", "less", "two-sided"}, default "greater"
        Direction of the tests: is synchrony during events higher than chance (the usual question), lower, or
        either. It also sets the band the mean statistic is held against: ``null_q`` is the ``band`` quantile of
        the null statistics for ``"greater"`` (the 95th percentile for ``band = 0.95``), the ``1 - band`` quantile
        for ``"less"`` (the 5th), and for ``"two-sided"`` the limit of the ``(1 - band) / 2`` to
        ``(1 + band) / 2`` band (2.5th to 97.5th) on the statistic's side of the null mean; ``above_band`` is True
        when the statistic lies beyond ``null_q`` on the tested side (below it for ``"less"``, outside the band
        for ``"two-sided"``).
    cluster_alpha : float, default 0.05
        Pointwise level that forms clusters (one-sided; split in halves for ``"two-sided"``).
    window_s : float or None
        The synchrony window, s; a cluster peaking less than half a window from the onset is reported as not
        evidence of precedence.
    min_events : int, default 5
        Fewer events are counted and warned about.
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
    if not 0 < cluster_alpha < 1:
        raise AnalysisError(f"cluster_alpha must be between 0 and 1, got {cluster_alpha}")
    if not tmin_s <= 0 <= tmax_s:
        raise AnalysisError(f"the epoch [{tmin_s}, {tmax_s}] s must contain the onset (0)")
    n_shifts = int(check_positive("n_shifts", n_shifts))
    grid = regular_grid(times_s, values)
    z, n, step, t0, total = grid.z, grid.n, grid.step_s, grid.t0, grid.total_s
    onsets = np.asarray(onsets_s, dtype=float)
    offsets = onsets.copy() if offsets_s is None else np.asarray(offsets_s, dtype=float)
    inside = grid.inside(onsets)
    if not inside.any():
        raise AnalysisError(
            f"no event onset lies within the synchrony series ({t0:.1f}-{grid.t_end:.1f} s); synchrony is "
            "stamped at window centres, so events in the first and last half window cannot be placed"
        )
    n_outside = int((~inside).sum())
    if n_outside:
        warnings.warn(
            f"{n_outside} event(s) outside the synchrony series ({t0:.1f}-{grid.t_end:.1f} s) left out",
            DyadsyncWarning,
            stacklevel=2,
        )
    onsets, offsets = onsets[inside], offsets[inside]
    checks = event_checks(onsets, onsets, series_start_s=t0, series_end_s=grid.t_end, tmin_s=tmin_s,
                          tmax_s=tmax_s, min_events=min_events)
    notes = warn_checks(checks, "event-locked average")
    k_lo, k_hi = int(np.round(tmin_s / step)), int(np.round(tmax_s / step))
    rel = np.arange(k_lo, k_hi + 1)
    on_idx = grid.index(onsets)
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
    if min_shift_s is None:
        min_shift = max(longest, 0.05 * total)
    else:
        min_shift = check_positive("min_shift_s", min_shift_s, allow_zero=True)
    if 2 * min_shift >= total:
        raise AnalysisError(
            f"min_shift_s of {min_shift:.1f} s leaves no room for shifts in a series of {total:.1f} s"
        )
    rng = rng_from(seed)
    shifts = np.round(rng.uniform(min_shift, total - min_shift, size=n_shifts) / step).astype(int)

    def curves_and_stats(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # starts: (m, n_events) onset sample indices -> (m, n_rel) average curves and (m,) statistics.
        ep = take(z, starts[:, :, None] + rel[None, None, :])
        with Quiet():
            curves = np.nanmean(ep, axis=1)
            sv = take(z, starts[:, span_event] + span_off[None, :])
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
    mean_test = permutation_test(real_stat_v, finite_null, alternative)
    lo_q, hi_q = (1 - band) / 2 * 100, (1 + band) / 2 * 100
    with Quiet():
        n_contrib = np.sum(np.isfinite(take(z, on_idx[:, None] + rel[None, :])), axis=0)
        # Studentise against all curves, the observed one included, so that it is treated exactly as each shifted
        # curve is (a curve that helps define the mean and SD looks slightly less extreme against them).
        every = np.vstack([real_curve, null_curves])
        mu = np.nanmean(every, axis=0)
        sd = np.nanstd(every, axis=0, ddof=1)
        sd = np.where(sd > 0, sd, np.nan)
        s_obs = (real_curve[0] - mu) / sd
        s_null = (null_curves - mu) / sd
        # --- max statistic over the epoch (family-wise over time)
        m_obs, m_null = _directional_max(s_obs[None, :], alternative)[0], _directional_max(s_null, alternative)
        max_test = permutation_test(float(m_obs), m_null, "greater")
        finite_m = m_null[np.isfinite(m_null)]
        max_q = float(np.percentile(finite_m, band * 100)) if len(finite_m) else np.nan
        max_at = _directional_argmax(s_obs, alternative)
        # --- cluster mass
        clusters, cluster_id, null_max_mass = _clusters(
            real_curve[0], null_curves, s_obs, s_null, alternative, cluster_alpha, every
        )
        curve = pd.DataFrame(
            {
                "rel_time_s": rel * step,
                "mean_z": real_curve[0],
                "n_events": n_contrib,
                "null_mean": np.nanmean(null_curves, axis=0),
                "null_sd": np.nanstd(null_curves, axis=0, ddof=1),
                "null_low": np.nanpercentile(null_curves, lo_q, axis=0),
                "null_high": np.nanpercentile(null_curves, hi_q, axis=0),
                "null_max_low": mu - max_q * sd,
                "null_max_high": mu + max_q * sd,
                "cluster": cluster_id,
            }
        )
    cluster_rows = []
    for c in clusters:
        p_c = (1 + np.sum(null_max_mass >= c["mass"] - 1e-12)) / (1 + len(null_max_mass))
        cluster_rows.append({**c, "start_s": c["start"] * step + k_lo * step, "end_s": c["end"] * step + k_lo * step,
                             "peak_rel_time_s": c["peak"] * step + k_lo * step,
                             "centre_rel_time_s": c["centre"] * step + k_lo * step, "p_value": float(p_c)})
    cluster_table = pd.DataFrame(cluster_rows, columns=[*CLUSTER_COLUMNS, "start", "end", "peak", "centre"])
    cluster_table = cluster_table[list(CLUSTER_COLUMNS)].reset_index(drop=True)
    alpha = 1 - band
    significant = cluster_table[cluster_table["p_value"] < alpha] if len(cluster_table) else cluster_table
    if len(significant):
        best = significant.sort_values(["p_value", "mass"], ascending=[True, False]).iloc[0]
        latency = float(best["centre_rel_time_s"])
        prec = precedence(latency, window_s)
    else:
        latency, prec = float("nan"), "no significant cluster"
    p_cluster = (
        float(cluster_table["p_value"].min()) if len(cluster_table)
        else float((1 + np.sum(null_max_mass >= 0)) / (1 + len(null_max_mass)))
    )
    largest = float(cluster_table["mass"].max()) if len(cluster_table) else 0.0
    z_cluster = permutation_test(largest, null_max_mass, "greater")["z_surrogate"]
    stat = real_stat_v
    null_q, beyond = _band_limit(stat, finite_null, band, alternative, float(mean_test["null_mean"]))
    test = {
        "analysis": "event_locked",
        "statistic_name": "mean_z_during",
        "statistic": stat,
        "null_mean": mean_test["null_mean"],
        "null_sd": mean_test["null_sd"],
        "null_q": null_q,
        "z_vs_null": mean_test["z_vs_null"],
        "z_surrogate": mean_test["z_surrogate"],
        "p_value": mean_test["p_value"],
        "above_band": beyond,
        "max_statistic": float(m_obs),
        "max_q": max_q,
        "p_max": max_test["p_value"],
        "z_surrogate_max": max_test["z_surrogate"],
        "max_rel_time_s": float(rel[max_at] * step) if max_at is not None else float("nan"),
        "cluster_mass": largest,
        "p_cluster": p_cluster,
        "z_surrogate_cluster": z_cluster,
        "n_clusters": int(len(cluster_table)),
        "n_significant_clusters": int(len(significant)),
        "latency_s": latency,
        "precedence": prec,
        "alternative": alternative,
        "n_events": int(len(onsets)),
        "n_events_outside": n_outside,
        "n_near_edge": checks["n_near_edge"],
        "n_overlapping_epochs": checks["n_overlapping_epochs"],
        "too_few_events": checks["too_few_events"],
        "min_events": checks["min_events"],
        "warnings": notes,
        "n_shifts": int(len(finite_null)),
        "min_shift_s": float(min_shift),
        "band": band,
        "cluster_alpha": cluster_alpha,
        "tmin_s": float(k_lo * step),
        "tmax_s": float(k_hi * step),
        "test_window": test_desc,
        "window_s": float(window_s) if window_s is not None else float("nan"),
        "seed": seed_value(seed),
    }
    return EventLocked(curve=curve, test=test, clusters=cluster_table, null_statistics=null_stats)


def _band_limit(stat: float, null: np.ndarray, band: float, alternative: str, null_mean: float) -> tuple[float, bool]:
    """The null quantile the statistic is compared with, and whether it lies beyond it on the tested side.

    ``"greater"``: the ``band`` quantile (e.g. the 95th percentile), beyond = above it. ``"less"``: the
    ``1 - band`` quantile (the 5th percentile), beyond = below it. ``"two-sided"``: the band is
    ``(1 - band) / 2`` to ``(1 + band) / 2`` (2.5th to 97.5th percentile); the limit on the statistic's side of the
    null mean is returned, and beyond = outside the band.
    """
    if alternative == "greater":
        q = float(np.percentile(null, band * 100))
        return q, bool(stat > q)
    if alternative == "less":
        q = float(np.percentile(null, (1 - band) * 100))
        return q, bool(stat < q)
    lo, hi = (float(v) for v in np.percentile(null, [(1 - band) / 2 * 100, (1 + band) / 2 * 100]))
    return (hi, bool(stat > hi)) if stat >= null_mean else (lo, bool(stat < lo))


def _directional(s: np.ndarray, alternative: str) -> np.ndarray:
    return s if alternative == "greater" else (-s if alternative == "less" else np.abs(s))


def _directional_max(s: np.ndarray, alternative: str) -> np.ndarray:
    d = _directional(s, alternative)
    out = np.full(len(d), np.nan)
    ok = np.isfinite(d).any(axis=1)
    out[ok] = np.nanmax(d[ok], axis=1)
    return out


def _directional_argmax(s: np.ndarray, alternative: str) -> int | None:
    d = _directional(s, alternative)
    return int(np.nanargmax(d)) if np.isfinite(d).any() else None


def _clusters(
    curve: np.ndarray,
    null_curves: np.ndarray,
    s_obs: np.ndarray,
    s_null: np.ndarray,
    alternative: str,
    alpha: float,
    every: np.ndarray,
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Observed clusters, the cluster number of each time, and the largest cluster mass of each null curve.

    The pointwise thresholds come from ``every`` curve (observed and shifted alike)."""
    signs = {"greater": (1,), "less": (-1,), "two-sided": (1, -1)}[alternative]
    level = alpha / len(signs)
    observed: list[dict[str, Any]] = []
    cluster_id = np.zeros(len(curve), dtype=int)
    null_max = np.zeros(len(null_curves))
    for sign in signs:
        q = 100 * (1 - level) if sign > 0 else 100 * level
        thr = np.nanpercentile(every, q, axis=0)
        with Quiet():
            supra_obs = np.nan_to_num(sign * (curve - thr)) > 0
            supra_null = np.nan_to_num(sign * (null_curves - thr[None, :])) > 0
        excess_obs = np.nan_to_num(sign * s_obs)
        excess_null = np.nan_to_num(sign * s_null)
        null_max = np.maximum(null_max, _max_run_mass(supra_null, excess_null))
        for start, end in _runs(supra_obs):
            seg = excess_obs[start : end + 1]
            weights = np.clip(seg, 0, None)
            centre = start + (float(np.sum(np.arange(len(seg)) * weights) / weights.sum()) if weights.sum() > 0 else 0.0)
            observed.append({
                "sign": sign, "start": start, "end": end, "peak": start + int(np.argmax(seg)), "centre": centre,
                "mass": float(seg.sum()),
            })
    observed.sort(key=lambda c: c["start"])
    for i, c in enumerate(observed, start=1):
        c["cluster"] = i
        cluster_id[c["start"] : c["end"] + 1] = i
    return observed, cluster_id, null_max


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs (inclusive) of the runs of True in a 1-D mask."""
    starts, ends = true_runs(mask)
    return list(zip(starts, ends - 1))


def _max_run_mass(mask: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """Largest sum of ``excess`` over a run of True in each row of ``mask`` (0 for rows without a run)."""
    m, k = mask.shape
    starts = mask & ~np.concatenate([np.zeros((m, 1), bool), mask[:, :-1]], axis=1)
    run = np.cumsum(starts, axis=1) * mask  # run number within the row, 0 outside runs
    if not run.any():
        return np.zeros(m)
    flat = (np.arange(m)[:, None] * (k + 1) + run).ravel()
    sums = np.bincount(flat, weights=np.where(mask, excess, 0.0).ravel(), minlength=m * (k + 1))
    sums = sums.reshape(m, k + 1)[:, 1:]
    return np.maximum(sums.max(axis=1), 0.0)
