"""Surrogates made series by series: segment shuffling, IAAFT and pseudo-dyads.

Every surrogate keeps something of the real data and destroys the one thing under test, the temporal coupling
between the two persons (see ``docs/methods/surrogates.md`` for the null hypothesis each tests):

- :func:`segment_shuffle`: both persons' series cut into segments whose order is shuffled within each person,
  no segment keeping its original partner (Ramseyer & Tschacher, 2010).
- :func:`iaaft_surrogates`: B replaced by iterative amplitude-adjusted Fourier transform surrogates (Schreiber &
  Schmitz, 1996): same power spectrum and value distribution, random phases.
- :func:`pseudo_dyad_pairs` / :func:`pseudo_dyads`: persons of different sessions paired (rMEA's ``shuffle``:
  all cross pairs, optionally keeping roles).

The fourth kind, circular shifts, has an engine of its own that computes all shifts at once
(:func:`dyadsync.synchrony.circular_shift`, module ``shift``). Each returns a :class:`SurrogateResult` holding,
per surrogate, the global index (grand mean of its windows x lags matrix), the per-window synchrony (the same
summary as the real data's ``sync`` column) and the lag profile; :func:`dyadsync.synchrony.compare` and
:func:`dyadsync.synchrony.compare_groups` (module ``significance``) say where the real synchrony falls among
them. All randomness comes from the ``seed`` passed in (an int or a ``numpy.random.Generator``).

Lag convention: a positive lag means B follows A.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .._validate import check_positive, seed_value
from ..errors import AnalysisError, ConfigError, DyadsyncWarning
from ._corr import as_array, count, generator, quiet_nanmean, row_summary, series_pair
from .results import WCC, SurrogateResult
from .wcc import check_summary, windowed_cross_correlation


def _from_series(
    method: str,
    a: np.ndarray,
    b: np.ndarray,
    make: Callable[[int], tuple[np.ndarray, np.ndarray]],
    n_surrogates: int,
    *,
    rate_hz: float,
    window_s: float,
    step_s: float,
    max_lag_s: float,
    summary: str,
    fisher_z: bool,
    absolute: bool,
    min_valid: float,
    params: dict[str, Any],
    matrices: bool = False,
) -> SurrogateResult:
    """Run the engine on each surrogate pair ``make(i)`` and collect the summaries."""
    summary = check_summary(summary)
    n_surrogates = count("n_surrogates", n_surrogates)
    kw = dict(rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s,
              fisher_z=fisher_z, absolute=absolute, min_valid=min_valid)
    real = windowed_cross_correlation(a, b, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        gi, ws, prof, values = _summaries(
            (windowed_cross_correlation(*make(i), **kw).values for i in range(n_surrogates)), n_surrogates,
            real.values.shape, summary, matrices,
        )
    return SurrogateResult(method, gi, ws, prof, real.lags_s, list(range(n_surrogates)), summary,
                           {**real.params, **params, "n_surrogates": n_surrogates}, values)


def _summaries(
    matrices: Iterable[np.ndarray], n: int, shape: tuple[int, int], summary: str, keep: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Global index, per-window summary and lag profile of ``n`` surrogates' windows x lags matrices.

    ``shape`` is (windows, lags) of the output: a longer surrogate is cut to it, a shorter one NaN-padded; with
    ``keep`` the matrices themselves are kept too.
    """
    n_w, n_lags = shape
    gi = np.full(n, np.nan)
    ws, prof = np.full((n, n_w), np.nan), np.full((n, n_lags), np.nan)
    values = np.full((n, n_w, n_lags), np.nan) if keep else None
    for i, v in enumerate(matrices):
        v = v[:n_w]
        with quiet_nanmean():
            gi[i] = np.nanmean(v)
            prof[i] = np.nanmean(v, axis=0)
            ws[i, : len(v)] = row_summary(v, summary, n_lags // 2)
        if values is not None:
            values[i, : len(v)] = v
    return gi, ws, prof, values


def shuffle_segments(
    a: np.ndarray, b: np.ndarray, *, segment_samples: int, seed: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One within-person segment shuffle (Ramseyer & Tschacher, 2010).

    Parameters
    ----------
    a, b : array_like, shape (n,)
    segment_samples : int
        Segment length in samples.
    seed : int, numpy.random.Generator or None, default 0
        Draws the new orders (an int seeds a new Generator; a Generator is used as it is).

    Returns
    -------
    a_shuffled, b_shuffled : ndarray, shape (n_segments * segment_samples,)
        Both series cut into whole segments (the incomplete tail is dropped, as in the original method), each
        person's segments reordered so that no position pairs two segments that were together originally.
    """
    a, b = series_pair(a, b)
    segment_samples = count("segment_samples", segment_samples)
    rng = generator(seed)
    n_seg = len(a) // segment_samples
    if n_seg < 2:
        raise AnalysisError(
            f"segment shuffling needs at least 2 segments; {len(a)} samples hold {n_seg} of {segment_samples}"
        )
    for _ in range(10_000):
        order_a, order_b = rng.permutation(n_seg), rng.permutation(n_seg)
        if not np.any(order_a == order_b):
            break
    seg_a = a[: n_seg * segment_samples].reshape(n_seg, segment_samples)
    seg_b = b[: n_seg * segment_samples].reshape(n_seg, segment_samples)
    return seg_a[order_a].ravel(), seg_b[order_b].ravel()


def segment_shuffle(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    window_s: float,
    step_s: float,
    max_lag_s: float,
    seed: int | np.random.Generator | None = 0,
    segment_s: float | None = None,
    n_surrogates: int = 1000,
    summary: str = "best",
    fisher_z: bool = True,
    absolute: bool = True,
    min_valid: float = 0.8,
    matrices: bool = False,
) -> SurrogateResult:
    """Segment-shuffling surrogates (Ramseyer & Tschacher, 2010): each person's segments put in a new order.

    Parameters
    ----------
    a, b, rate_hz, window_s, step_s, max_lag_s, fisher_z, absolute, min_valid
        As in :func:`dyadsync.synchrony.windowed_cross_correlation`.
    seed : int, numpy.random.Generator or None, default 0
        Draws the segment orders (an int seeds a new Generator; a Generator is used as it is).
    segment_s : float or None
        Segment length in seconds; None: the window length (Ramseyer & Tschacher used the window).
    n_surrogates : int, default 1000
    summary : {"best", "mean", "lag0"}
    matrices : bool, default False

    Returns
    -------
    SurrogateResult
    """
    rate_hz = check_positive("rate_hz", rate_hz)
    seg = int(round(check_positive("segment_s", segment_s if segment_s is not None else window_s) * rate_hz))
    rng = generator(seed)
    return _from_series(
        "segment_shuffle", a, b, lambda i: shuffle_segments(a, b, segment_samples=seg, seed=rng), n_surrogates,
        rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s, summary=summary,
        fisher_z=fisher_z, absolute=absolute, min_valid=min_valid,
        params={"segment_s": seg / rate_hz, "seed": seed_value(seed)},
        matrices=matrices,
    )


def iaaft(x: np.ndarray, *, seed: int | np.random.Generator | None = 0, n_iter: int = 200) -> np.ndarray:
    """One iterative amplitude-adjusted Fourier transform surrogate (Schreiber & Schmitz, 1996).

    Parameters
    ----------
    x : array_like, shape (n,)
        Series; missing values are bridged by linear interpolation for the transform and are missing again in
        the surrogate, at the same positions.
    seed : int, numpy.random.Generator or None, default 0
        Draws the initial shuffle (an int seeds a new Generator; a Generator is used as it is).
    n_iter : int, default 200
        Largest number of iterations (it stops earlier once the ranks no longer change).

    Returns
    -------
    ndarray, shape (n,)
        Same values as ``x`` in a new order, with (nearly) the same power spectrum.
    """
    x = as_array("x", x)
    n_iter = count("n_iter", n_iter, minimum=0)
    bad = ~np.isfinite(x)
    if bad.all():
        raise AnalysisError("IAAFT needs a series with values, got none")
    filled = x.copy()
    if bad.any():
        idx = np.arange(len(x))
        filled[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    sorted_values = np.sort(filled)
    amplitude = np.abs(np.fft.rfft(filled))
    y = generator(seed).permutation(filled)
    ranks = np.argsort(np.argsort(y))
    for _ in range(n_iter):
        phase = np.angle(np.fft.rfft(y))
        y = np.fft.irfft(amplitude * np.exp(1j * phase), len(filled))
        new_ranks = np.argsort(np.argsort(y))
        y = sorted_values[new_ranks]
        if np.array_equal(new_ranks, ranks):
            break
        ranks = new_ranks
    y[bad] = np.nan
    return y


def iaaft_surrogates(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    window_s: float,
    step_s: float,
    max_lag_s: float,
    seed: int | np.random.Generator | None = 0,
    n_surrogates: int = 200,
    n_iter: int = 200,
    summary: str = "best",
    fisher_z: bool = True,
    absolute: bool = True,
    min_valid: float = 0.8,
    matrices: bool = False,
) -> SurrogateResult:
    """IAAFT surrogates of B against the real A: B's spectrum and values kept, its phases (timing) random.

    Parameters
    ----------
    a, b, rate_hz, window_s, step_s, max_lag_s, fisher_z, absolute, min_valid
        As in :func:`dyadsync.synchrony.windowed_cross_correlation`.
    seed : int, numpy.random.Generator or None, default 0
        Draws the surrogates (an int seeds a new Generator; a Generator is used as it is).
    n_surrogates : int, default 200
        Each surrogate costs about a hundred FFTs of the whole series plus one synchrony run.
    n_iter : int, default 200
    summary : {"best", "mean", "lag0"}
    matrices : bool, default False

    Returns
    -------
    SurrogateResult
    """
    a, b = series_pair(a, b)
    n_iter = count("n_iter", n_iter, minimum=0)
    rng = generator(seed)
    return _from_series(
        "iaaft", a, b, lambda i: (a, iaaft(b, seed=rng, n_iter=n_iter)), n_surrogates,
        rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s, summary=summary,
        fisher_z=fisher_z, absolute=absolute, min_valid=min_valid, params={"n_iter": n_iter, "seed": seed_value(seed)},
        matrices=matrices,
    )


# ------------------------------------------------------------------------------------------- pseudo-dyads


def pseudo_dyad_pairs(
    n_dyads: int,
    *,
    keep_roles: bool = False,
    n: int | None = None,
    seed: int | np.random.Generator | None = 0,
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of persons from different dyads, as rMEA's ``shuffle`` forms them.

    All persons (role 0 = A of every dyad, then role 1 = B of every dyad) are paired in every combination,
    the real pairs removed; with ``keep_roles`` only pairs of an A with a B of another dyad remain.

    Parameters
    ----------
    n_dyads : int
        Number of real dyads (at least 2).
    keep_roles : bool, default False
        Pair only A with B (rMEA's ``keepRoles``), else any two persons of different dyads... and two persons of
        the same role (rMEA's default).
    n : int or None
        How many pairs to draw without replacement; None (rMEA's ``size = "max"``) keeps them all.
    seed : int, numpy.random.Generator or None, default 0
        Draws the subset when ``n`` is smaller than the number of pairs (an int seeds a new Generator; a
        Generator is used as it is).

    Returns
    -------
    list of ((dyad, role), (dyad, role))
        The first person becomes A of the pseudo-dyad, the second B; in rMEA's order (as ``combn``).
    """
    n_dyads = count("n_dyads", n_dyads, minimum=0)
    n = None if n is None else count("number of pseudo-dyads n", n)
    rng = generator(seed)
    if n_dyads < 2:
        raise AnalysisError(f"pseudo-dyads need at least 2 dyads, got {n_dyads}")
    persons = [(d, 0) for d in range(n_dyads)] + [(d, 1) for d in range(n_dyads)]
    pairs = [
        (p, q)
        for p, q in itertools.combinations(persons, 2)
        if not (p[0] == q[0] and p[1] == 0 and q[1] == 1)
        and not (keep_roles and p[1] == q[1])
    ]
    if n is None or n >= len(pairs):
        return pairs
    pick = np.sort(rng.choice(len(pairs), size=n, replace=False))
    return [pairs[i] for i in pick]


def pseudo_dyads(
    series: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rate_hz: float,
    window_s: float,
    step_s: float,
    max_lag_s: float,
    keep_roles: bool = False,
    n_surrogates: int | None = None,
    seed: int | np.random.Generator | None = 0,
    summary: str = "best",
    engine: Callable[[np.ndarray, np.ndarray], WCC] | None = None,
    fisher_z: bool = True,
    absolute: bool = True,
    min_valid: float = 0.8,
) -> SurrogateResult:
    """Synchrony of pseudo-dyads: persons of different sessions paired (rMEA's ``shuffle`` + ``MEAccf``).

    Parameters
    ----------
    series : sequence of (a, b) arrays
        Each real dyad's two series, all at ``rate_hz``; a pseudo-dyad is cut to the shorter of its two.
    rate_hz, window_s, step_s, max_lag_s, fisher_z, absolute, min_valid
        As in :func:`dyadsync.synchrony.windowed_cross_correlation`.
    keep_roles : bool, default False
    n_surrogates : int or None
        Number of pseudo-dyads; None: all of them.
    seed : int, numpy.random.Generator or None, default 0
        Draws the pseudo-dyads when fewer than all are asked for (an int seeds a new Generator; a Generator is
        used as it is).
    summary : {"best", "mean", "lag0"}
    engine : callable or None
        ``engine(a, b) -> WCC`` to use instead of the default engine (e.g. rMEA-compatible mode).

    Returns
    -------
    SurrogateResult
        ``labels`` are the pairs ``((dyad, role), (dyad, role))``; ``window_sync`` is NaN-padded to the longest.
    """
    summary = check_summary(summary)
    try:
        dyads = [(as_array("series", a), as_array("series", b)) for a, b in series]
    except (TypeError, ValueError):
        raise AnalysisError("series must be a sequence of (a, b) pairs of 1-D arrays, one pair per dyad") from None
    if engine is not None and not callable(engine):
        raise ConfigError(f"engine must be a function engine(a, b) -> WCC, got {engine!r}")
    pairs = pseudo_dyad_pairs(len(dyads), keep_roles=keep_roles, n=n_surrogates, seed=seed)
    if engine is None:
        def engine(x: np.ndarray, y: np.ndarray) -> WCC:
            return windowed_cross_correlation(x, y, rate_hz=rate_hz, window_s=window_s, step_s=step_s,
                                              max_lag_s=max_lag_s, fisher_z=fisher_z, absolute=absolute,
                                              min_valid=min_valid)
    results = []
    for (d1, r1), (d2, r2) in pairs:
        x, y = dyads[d1][r1], dyads[d2][r2]
        m = min(len(x), len(y))
        results.append(engine(x[:m], y[:m]))
    shape = (max(len(w.values) for w in results), results[0].values.shape[1])
    gi, ws, prof, _ = _summaries((w.values for w in results), len(results), shape, summary, False)
    return SurrogateResult("pseudo_dyad", gi, ws, prof, results[0].lags_s, list(pairs), summary,
                           {**results[0].params, "keep_roles": keep_roles, "n_surrogates": len(pairs),
                            "seed": seed_value(seed)})
