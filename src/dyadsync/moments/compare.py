"""Comparisons within a session: between event types (or coders), and between modalities.

* **Event types / coders** (:func:`compare_event_groups`): is synchrony during events of type A different from
  synchrony during events of type B (moments of meeting vs innovative moments vs ruptures; coder 1's moments vs
  coder 2's)? Statistic: mean z during A events minus mean z during B events. Null: the labels are permuted among
  the events of both groups (the groups are exchangeable under the null hypothesis that they do not differ); for
  coders, who mark mostly the same moments, events of the two coders within a tolerance are paired and labels are
  swapped within pairs (a free permutation would be conservative).
* **Modalities** (:func:`compare_modalities`): is the rise of synchrony at the events larger in one modality
  (e.g. body motion) than in another (e.g. head motion or voice)? Statistic: mean z during the events in modality
  A minus the same in modality B. Null: all events shifted together circularly (as for the event-locked test),
  applied to both series at once, which keeps the correlation between the modalities.

Across dyads, the same comparisons are terms of the epoch-level mixed model (:mod:`dyadsync.moments.multilevel`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_option, check_positive, rng_from, seed_value
from ..errors import AnalysisError
from ..stats import cohens_d, permutation_test
from ._series import Grid, Quiet, RangeMeans, epoch_bounds_from_index, regular_grid
from ._stats import circular_shifts
from .contrasts import epoch_bounds


def _during_means(grid: Grid, onsets: np.ndarray, offsets: np.ndarray, epoch_s: float) -> np.ndarray:
    start, stop = epoch_bounds(grid, onsets, offsets, epoch_s)["during"]
    return RangeMeans(grid.z).mean(start, stop)[0]


def compare_event_groups(
    times_s: np.ndarray,
    values: np.ndarray,
    events: pd.DataFrame,
    *,
    by: str = "code",
    a: str,
    b: str,
    epoch_s: float = 60.0,
    n_permutations: int = 1000,
    alternative: str = "two-sided",
    pair_within_s: float | None = None,
    seed: int | np.random.Generator | None = 0,
) -> dict[str, Any]:
    """Synchrony during events of group ``a`` versus group ``b`` (codes or coders), by label permutation.

    Parameters
    ----------
    times_s, values : ndarray
        Regular synchrony series.
    events : DataFrame
        Events table holding both groups.
    by : {"code", "coder", "scheme"}, default "code"
        The column that defines the groups.
    a, b : str
        The two groups.
    epoch_s : float, default 60
        DURING epoch of point events, s (interval events use their span).
    n_permutations : int, default 1000
    alternative : {"greater", "less", "two-sided"}, default "two-sided"
        ``"greater"``: synchrony higher during ``a`` than ``b``.
    pair_within_s : float or None
        Pair the events of ``a`` and ``b`` whose onsets lie within this many seconds (optimal one-to-one
        matching), and permute labels within pairs only (and freely among the unpaired events). Use it for coders,
        who mark mostly the same moments: free permutation would then be conservative.
    seed : int, Generator or None

    Returns
    -------
    dict
        ``analysis = "compare_<by>"``, the difference, its permutation null, ``p_value``, ``cohens_d`` and every
        parameter with the seed.

    Raises
    ------
    AnalysisError
        When a group has no event in the series.
    """
    check_option("by", by, ("code", "coder", "scheme"))
    check_option("alternative", alternative, ("greater", "less", "two-sided"))
    n_permutations = int(check_positive("n_permutations", n_permutations))
    grid = regular_grid(times_s, values)
    sub = events[events[by].isin([a, b])]
    sub = sub[grid.inside(sub["onset_s"].to_numpy(float))]
    means = _during_means(grid, sub["onset_s"].to_numpy(float), sub["offset_s"].to_numpy(float), epoch_s)
    labels = (sub[by] == a).to_numpy()
    ok = np.isfinite(means)
    means, labels = means[ok], labels[ok]
    if labels.sum() == 0 or (~labels).sum() == 0:
        raise AnalysisError(f"comparing {by} {a!r} with {b!r}: one of them has no event with synchrony values")
    observed = float(means[labels].mean() - means[~labels].mean())
    rng = rng_from(seed)
    onsets = sub["onset_s"].to_numpy(float)[ok]
    pairs = np.empty((0, 2), dtype=int)
    if pair_within_s is not None:
        from .matching import optimal_pairs

        ia, ib = np.flatnonzero(labels), np.flatnonzero(~labels)
        ea, eb = optimal_pairs(onsets[ib], onsets[ia], float(pair_within_s))  # (a index, b index) into ia, ib
        pairs = np.column_stack([ia[ea], ib[eb]])
    loose = np.setdiff1d(np.arange(len(labels)), pairs.ravel())
    null = np.empty(n_permutations)
    for i in range(n_permutations):
        perm = labels.copy()
        perm[loose] = rng.permutation(labels[loose])
        if len(pairs):
            swap = rng.random(len(pairs)) < 0.5
            perm[pairs[swap, 0]], perm[pairs[swap, 1]] = False, True
        null[i] = means[perm].mean() - means[~perm].mean()
    t = permutation_test(observed, null, alternative)
    return {
        "analysis": f"compare_{by}",
        "statistic_name": "difference_mean_z_during",
        "statistic": observed,
        "group_a": a,
        "group_b": b,
        "mean_z_a": float(means[labels].mean()),
        "mean_z_b": float(means[~labels].mean()),
        "n_a": int(labels.sum()),
        "n_b": int((~labels).sum()),
        "cohens_d": cohens_d(means[labels], means[~labels]),
        **{k: t[k] for k in ("null_mean", "null_sd", "z_vs_null", "z_surrogate", "p_value")},
        "alternative": alternative,
        "n_permutations": n_permutations,
        "n_pairs": int(len(pairs)),
        "pair_within_s": float(pair_within_s) if pair_within_s is not None else float("nan"),
        "epoch_s": epoch_s,
        "seed": seed_value(seed),
    }


def compare_modalities(
    times_s: np.ndarray,
    values_a: np.ndarray,
    values_b: np.ndarray,
    onsets_s: np.ndarray,
    offsets_s: np.ndarray | None = None,
    *,
    feature_a: str = "a",
    feature_b: str = "b",
    epoch_s: float = 60.0,
    n_shifts: int = 1000,
    min_shift_s: float | None = None,
    alternative: str = "two-sided",
    seed: int | np.random.Generator | None = 0,
) -> dict[str, Any]:
    """Synchrony during the events in modality A minus modality B, against circular shifts of the events.

    Parameters
    ----------
    times_s : ndarray
        Common regular time grid of both synchrony series (window centres), s.
    values_a, values_b : ndarray
        Synchrony of the two modalities on that grid (each z-scored within the session here).
    onsets_s, offsets_s : ndarray
        The events, s.
    feature_a, feature_b : str
        Names of the modalities (recorded).
    epoch_s : float, default 60
        DURING epoch of point events, s.
    n_shifts : int, default 1000
    min_shift_s : float or None
        Smallest shift, s; None uses the longer of the longest event and 5% of the session.
    alternative : {"greater", "less", "two-sided"}, default "two-sided"
    seed : int, Generator or None

    Returns
    -------
    dict
    """
    check_option("alternative", alternative, ("greater", "less", "two-sided"))
    n_shifts = int(check_positive("n_shifts", n_shifts))
    ga, gb = regular_grid(times_s, values_a), regular_grid(times_s, values_b)
    on = np.asarray(onsets_s, float)
    off = on.copy() if offsets_s is None else np.asarray(offsets_s, float)
    keep = ga.inside(on)
    on, off = on[keep], off[keep]
    if len(on) == 0:
        raise AnalysisError("no event lies within the synchrony series")

    pa, pb = RangeMeans(ga.z), RangeMeans(gb.z)
    on_idx, off_idx = ga.index(on), ga.index(off)

    def stats_for(starts: np.ndarray) -> np.ndarray:
        # starts: (m, n_events) onset indices -> (m,) mean z during the events in A minus in B
        start, stop = epoch_bounds_from_index(starts, starts + (off_idx - on_idx)[None, :], ga.step_s, epoch_s)["during"]
        with Quiet():
            return np.nanmean(pa.mean(start, stop)[0], axis=1) - np.nanmean(pb.mean(start, stop)[0], axis=1)

    observed = float(stats_for(on_idx[None, :])[0])
    total = ga.total_s
    if min_shift_s is None:
        min_shift_s = max(float(np.max(off - on)), 0.05 * total)
    rng = rng_from(seed)
    shifts = np.round(circular_shifts(rng, n_shifts, total, min_shift_s) / ga.step_s).astype(int)
    null = stats_for((on_idx[None, :] + shifts[:, None]) % ga.n)
    t = permutation_test(observed, null, alternative)
    return {
        "analysis": "compare_modality",
        "statistic_name": "difference_mean_z_during",
        "statistic": observed,
        "group_a": feature_a,
        "group_b": feature_b,
        "n_events": int(len(on)),
        **{k: t[k] for k in ("null_mean", "null_sd", "z_vs_null", "z_surrogate", "p_value")},
        "alternative": alternative,
        "n_shifts": n_shifts,
        "min_shift_s": float(min_shift_s),
        "epoch_s": epoch_s,
        "seed": seed_value(seed),
    }
