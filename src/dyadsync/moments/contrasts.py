"""PRE / DURING / POST epochs of synchrony against random matched-duration epochs from uncoded time.

Question: is synchrony before, during or after the coded moments different from synchrony at uncoded times of the
same session?

Method: every event gives three epochs of the within-session z-scored synchrony: PRE ``[onset - epoch_s, onset)``,
DURING ``[onset, offset]`` (a point event: ``epoch_s`` centred on the onset) and POST ``(offset, offset +
epoch_s]``. Each epoch is summarised by its mean, the epochs of a type by their mean (or median).

* **Effect sizes** (as DyadSync's ``categoryPerm``, Kleinbub et al.): the real epoch means against random epochs of
  the same durations drawn ``n_random`` times from *uncoded* time (samples not covered by any event, widened by
  ``exclude_margin_s``): Cohen's d (pooled SD) and Cliff's delta (P(real > random) - P(real < random)).
* **Test**: the statistic is the epochs' centrality minus the mean of uncoded time. Its null distribution moves
  all events of the session together by ``n_shifts`` random circular shifts and recomputes *both* the epochs and
  uncoded time. ``p = (1 + #{null >= observed}) / (1 + n_shifts)``. Comparing the real epochs with random epochs
  from the uncoded time of the real events only (``p_random_epochs``, categoryPerm's p, also reported) ignores that
  uncoded time is the complement of the events: when the events happen to fall on high synchrony, uncoded time is
  lower by construction, and that test rejects too often (about 1.5 times the nominal rate in
  ``benchmarks/bench_moments_calibration.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._arrays import true_runs
from .._validate import check_option, check_positive, rng_from, seed_value
from ..errors import AnalysisError, DyadsyncWarning
from ..stats import cliffs_delta, cohens_d, permutation_test
from ._series import Grid, Quiet, RangeMeans, epoch_bounds_from_index, regular_grid
from ._stats import circular_shifts
from .guards import event_checks, warn_checks

EPOCHS = ("pre", "during", "post")
EPOCH_COLUMNS = ("event", "code", "onset_s", "offset_s", "epoch", "start_s", "end_s", "n_samples", "mean_sync",
                 "mean_z")


@dataclass
class EpochContrasts:
    """Result of :func:`epoch_contrasts`.

    Attributes
    ----------
    table : DataFrame
        One row per epoch type (``pre``, ``during``, ``post``): the statistic (mean or median of the epoch means,
        z), its null distribution's mean and SD, ``p_value``, ``z_surrogate``, ``cohens_d``, ``cliffs_delta``,
        counts, guard-rails and every parameter with the seed.
    epochs : DataFrame
        One row per epoch: the real epochs of every event and the random baseline epochs away from the events
        (``epoch = "random"`` and ``"random_during"``), with their mean synchrony (raw and z): the input of the
        across-dyad mixed model.
    """

    table: pd.DataFrame
    epochs: pd.DataFrame = field(default_factory=pd.DataFrame)


def uncoded_mask(grid: Grid, onsets_s: np.ndarray, offsets_s: np.ndarray, margin_s: float = 0.0) -> np.ndarray:
    """Boolean mask of the samples not covered by any event (each event widened by ``margin_s`` on both sides)."""
    coded = np.zeros(grid.n + 1, dtype=int)
    lo = np.clip(grid.index(np.asarray(onsets_s, float) - margin_s), 0, grid.n)
    hi = np.clip(grid.index(np.asarray(offsets_s, float) + margin_s) + 1, 0, grid.n)
    np.add.at(coded, lo, 1)
    np.add.at(coded, hi, -1)
    return np.cumsum(coded)[: grid.n] == 0


def epoch_bounds(
    grid: Grid, onsets_s: np.ndarray, offsets_s: np.ndarray, epoch_s: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Sample ranges ``[start, stop)`` of the PRE, DURING and POST epoch of every event."""
    return epoch_bounds_from_index(grid.index(onsets_s), grid.index(offsets_s), grid.step_s, epoch_s)


def _shifted_free_means(
    grid: Grid, onsets_s: np.ndarray, offsets_s: np.ndarray, margin_s: float, shifts: np.ndarray
) -> np.ndarray:
    """Mean z of uncoded time after circularly shifting every coded event by each shift (in samples)."""
    lo = grid.index(np.asarray(onsets_s, float) - margin_s)
    hi = grid.index(np.asarray(offsets_s, float) + margin_s) + 1
    n = grid.n
    finite = np.isfinite(grid.z)
    z = np.where(finite, grid.z, 0.0)
    out = np.empty(len(shifts))
    for i, k in enumerate(shifts):
        a = lo + k
        b = hi + k
        coded = np.zeros(2 * n + 1, dtype=int)  # room for the wrapped part, folded back below
        np.add.at(coded, np.clip(a, 0, 2 * n), 1)
        np.add.at(coded, np.clip(b, 0, 2 * n), -1)
        c = np.cumsum(coded)[: 2 * n]
        covered = (c[:n] + c[n:]) > 0
        free = ~covered & finite
        out[i] = z[free].mean() if free.any() else np.nan
    return out


def _room(free: np.ndarray, length: int) -> int:
    """How many non-overlapping windows of ``length`` samples fit in the runs of ``free``."""
    starts, ends = true_runs(free)
    runs = ends - starts
    return int(np.sum(runs // max(1, length)))


def _valid_starts(free: np.ndarray, length: int) -> np.ndarray:
    """Start indices of the windows of ``length`` samples lying wholly in ``free``."""
    if length > len(free):
        return np.empty(0, dtype=int)
    c = np.concatenate([[0], np.cumsum(~free)])
    return np.flatnonzero(c[length:] - c[:-length] == 0)


def _baseline(rng: np.random.Generator, free: np.ndarray, lengths: np.ndarray) -> list[tuple[int, int]]:
    """Non-overlapping windows ``(start, length)`` in ``free`` with the given lengths, placed at random; lengths that
    no longer fit are skipped."""
    taken = ~free.copy()
    out = []
    for ln in lengths:
        starts = _valid_starts(~taken, int(ln))
        if len(starts) == 0:
            continue
        s0 = int(starts[rng.integers(0, len(starts))])
        taken[s0 : s0 + int(ln)] = True
        out.append((s0, int(ln)))
    return sorted(out)


def epoch_contrasts(
    times_s: np.ndarray,
    values: np.ndarray,
    onsets_s: np.ndarray,
    offsets_s: np.ndarray | None = None,
    *,
    exclude_onsets_s: np.ndarray | None = None,
    exclude_offsets_s: np.ndarray | None = None,
    epoch_s: float = 60.0,
    n_shifts: int = 1000,
    min_shift_s: float | None = None,
    n_random: int = 1000,
    n_baseline: int = 20,
    exclude_margin_s: float = 0.0,
    centrality: str = "mean",
    alternative: str = "greater",
    min_events: int = 5,
    code: str = "",
    seed: int | np.random.Generator | None = 0,
) -> EpochContrasts:
    """PRE, DURING and POST epochs of z-scored synchrony against random matched-duration epochs of uncoded time.

    Parameters
    ----------
    times_s, values : ndarray, shape (n,)
        Regularly spaced synchrony series (window centres, s) and its values.
    onsets_s, offsets_s : ndarray, shape (n_events,)
        The events of one type, s; ``offsets_s`` None means point events.
    exclude_onsets_s, exclude_offsets_s : ndarray or None
        Every coded event of the session (all codes), whose time is not "uncoded"; None uses the events given.
    epoch_s : float, default 60
        Length of PRE and POST (and DURING for point events), s.
    n_shifts : int, default 1000
        Circular shifts of all events for the test.
    min_shift_s : float or None
        Smallest shift, s; None uses the larger of the longest event plus one epoch and 5% of the session.
    n_random : int, default 1000
        Draws of random matched-duration epochs from uncoded time (effect sizes and ``p_random_epochs``).
    n_baseline : int, default 20
        Random baseline epochs added to :attr:`EpochContrasts.epochs` for the across-dyad model, at least ``epoch_s``
        away from every coded event (so that they share no sample with a PRE or POST epoch) and not overlapping
        each other: ``n_baseline`` of ``epoch_s`` (``epoch = "random"``, the reference of PRE and POST) and
        ``n_baseline`` with the durations of the DURING epochs (``"random_during"``, the reference of DURING);
        fewer when the session has no room for them.
    exclude_margin_s : float, default 0
        Widen every coded event by this much on both sides before taking the rest as uncoded time, s.
    centrality : {"mean", "median"}, default "mean"
        How the epochs of a type are summarised.
    alternative : {"greater", "less", "two-sided"}, default "greater"
    min_events : int, default 5
    code : str
        Code of the events (written to the epochs table).
    seed : int, Generator or None

    Returns
    -------
    EpochContrasts

    Raises
    ------
    AnalysisError
        When uncoded time is too short for a random epoch of some duration, or no epoch holds a value.
    """
    check_option("centrality", centrality, ("mean", "median"))
    check_option("alternative", alternative, ("greater", "less", "two-sided"))
    epoch_s = check_positive("epoch_s", epoch_s)
    n_random = int(check_positive("n_random", n_random))
    grid = regular_grid(times_s, values)
    onsets = np.asarray(onsets_s, float)
    offsets = onsets.copy() if offsets_s is None else np.asarray(offsets_s, float)
    keep = grid.inside(onsets)
    onsets, offsets = onsets[keep], offsets[keep]
    if len(onsets) == 0:
        raise AnalysisError("no event lies within the synchrony series")
    if exclude_onsets_s is None:
        ex_on, ex_off = onsets, offsets
    else:
        ex_on = np.asarray(exclude_onsets_s, float)
        ex_off = ex_on.copy() if exclude_offsets_s is None else np.asarray(exclude_offsets_s, float)
    free = uncoded_mask(grid, ex_on, ex_off, exclude_margin_s) & np.isfinite(grid.z)
    checks = event_checks(onsets, offsets, series_start_s=grid.t0, series_end_s=grid.t_end, tmin_s=-epoch_s,
                          tmax_s=epoch_s, min_events=min_events)
    notes = warn_checks(checks, f"epoch contrasts{' of ' + code if code else ''}")
    rng = rng_from(seed)
    pz, praw = RangeMeans(grid.z), RangeMeans(grid.values)
    bounds = epoch_bounds(grid, onsets, offsets, epoch_s)
    summarise = np.nanmean if centrality == "mean" else np.nanmedian
    rows, epoch_rows = [], []
    uncoded_s = float(free.sum() * grid.step_s)
    # Circular shifts of all events together: the analysed events, and the coded time of every event.
    total = grid.total_s
    if min_shift_s is None:
        min_shift_s = min(max(float(np.max(offsets - onsets)) + epoch_s, 0.05 * total), 0.45 * total)
    shifts = np.round(circular_shifts(rng, int(check_positive("n_shifts", n_shifts)), total, min_shift_s)
                      / grid.step_s).astype(int)
    null_free_mean = _shifted_free_means(grid, ex_on, ex_off, exclude_margin_s, shifts)
    free_mean = float(np.mean(grid.z[free])) if free.any() else float("nan")
    on_idx, off_idx = grid.index(onsets), grid.index(offsets)
    for name in EPOCHS:
        start, stop = bounds[name]
        obs, count = pz.mean(start, stop)
        raw, _ = praw.mean(start, stop)
        for e in range(len(onsets)):
            epoch_rows.append((e, code, onsets[e], offsets[e], name, grid.t0 + start[e] * grid.step_s,
                               grid.t0 + (stop[e] - 1) * grid.step_s, int(count[e]), raw[e], obs[e]))
        ok = np.isfinite(obs)
        if not ok.any():
            raise AnalysisError(f"no {name.upper()} epoch holds a synchrony value")
        lengths = np.clip(stop - start, 1, None)[ok]
        null_means = np.empty((n_random, int(ok.sum())))
        for j, length in enumerate(lengths):
            starts = _valid_starts(free, int(length))
            if len(starts) == 0:
                raise AnalysisError(
                    f"uncoded time ({uncoded_s:.0f} s) holds no stretch of {length * grid.step_s:.0f} s for a random "
                    f"{name.upper()} epoch; shorten epoch_s or exclude_margin_s"
                )
            s = starts[rng.integers(0, len(starts), size=n_random)]
            null_means[:, j], _ = pz.mean(s, s + int(length))
        room = _room(free, int(np.median(lengths)))
        if room < len(lengths):
            short = (f"epoch contrasts{' of ' + code if code else ''}: uncoded time ({uncoded_s:.0f} s) holds only "
                     f"{room} non-overlapping {name.upper()} epoch(s) of {np.median(lengths) * grid.step_s:.0f} s for "
                     f"{len(lengths)} events: the random epochs overlap heavily and Cohen's d and Cliff's delta are "
                     "unstable")
            warnings.warn(short, DyadsyncWarning, stacklevel=2)
            notes_here = "; ".join(x for x in (notes, short) if x)
        else:
            notes_here = notes
        with Quiet():
            centre = float(summarise(obs[ok]))
            random_centres = summarise(null_means, axis=1)
            # the same epochs of the shifted events, against the uncoded time of the shifted events
            sh_on = (on_idx[None, :] + shifts[:, None]) % grid.n
            sh_bounds = epoch_bounds_from_index(sh_on, sh_on + (off_idx - on_idx)[None, :], grid.step_s, epoch_s)[name]
            shifted, _ = pz.mean(*sh_bounds)
            null = summarise(shifted, axis=1) - null_free_mean
        observed = centre - free_mean
        test = permutation_test(observed, null, alternative)
        rows.append({
            "analysis": f"contrast_{name}",
            "epoch": name,
            "statistic_name": f"{centrality}_epoch_z_minus_uncoded",
            "statistic": observed,
            **{k: test[k] for k in ("null_mean", "null_sd", "z_vs_null", "z_surrogate", "p_value")},
            "epoch_z": centre,
            "uncoded_z": free_mean,
            "p_random_epochs": permutation_test(centre, random_centres, alternative)["p_value"],
            "cohens_d": cohens_d(obs[ok], null_means.ravel()),
            "cliffs_delta": cliffs_delta(obs[ok], null_means.ravel()),
            "mean_sync": float(np.nanmean(raw[ok])),
            "n_events": int(ok.sum()),
            "n_shifts": int(len(shifts)),
            "min_shift_s": float(min_shift_s),
            "n_random": n_random,
            "epoch_s": epoch_s,
            "exclude_margin_s": exclude_margin_s,
            "uncoded_s": uncoded_s,
            "centrality": centrality,
            "alternative": alternative,
            **{k: checks[k] for k in ("n_near_edge", "n_overlapping_epochs", "too_few_events", "min_events")},
            "warnings": notes_here,
            "seed": seed_value(seed),
        })
    # Baseline epochs for the across-dyad model, from time at least one epoch away from every coded event (so
    # that they share no sample with a PRE or POST epoch), not overlapping each other (as independent as the event
    # epochs): "random" epochs of epoch_s (the reference of PRE and POST) and "random_during" epochs with the
    # durations of the DURING epochs (the reference of DURING: an epoch's mean varies more the shorter it is, so
    # the compared epochs must have the same lengths).
    away = uncoded_mask(grid, ex_on, ex_off, max(exclude_margin_s, epoch_s)) & np.isfinite(grid.z)
    length = max(1, int(round(epoch_s / grid.step_s)))
    start, stop = bounds["during"]
    during_lengths = np.clip(stop - start, 1, None)
    for label, lengths in (("random", np.full(n_baseline, length)),
                           ("random_during", np.resize(during_lengths, n_baseline))):
        for s0, ln in _baseline(rng, away, lengths):
            bz, cnt = pz.mean(np.array([s0]), np.array([s0 + ln]))
            braw, _ = praw.mean(np.array([s0]), np.array([s0 + ln]))
            epoch_rows.append((-1, code, np.nan, np.nan, label, grid.t0 + s0 * grid.step_s,
                               grid.t0 + (s0 + ln - 1) * grid.step_s, int(cnt[0]), braw[0], bz[0]))
    epochs = pd.DataFrame.from_records(epoch_rows, columns=list(EPOCH_COLUMNS))
    return EpochContrasts(table=pd.DataFrame(rows), epochs=epochs)

