"""Surrogates: how much synchrony two persons would show by chance, and how the real synchrony compares.

Every surrogate keeps something of the real data and destroys the one thing under test, the temporal coupling
between the two persons. Four kinds (see ``docs/methods/surrogates.md`` for the null hypothesis each tests):

- :func:`circular_shift`: B's series rotated against A's by a random shift of at least ``min_shift_s`` (each
  series keeps its full autocorrelation and distribution; only the alignment goes). Computed for all shifts at
  once with FFTs, so 1000 surrogates of a 50-minute session take seconds.
- :func:`segment_shuffle`: both persons' series cut into segments whose order is shuffled within each person,
  no segment keeping its original partner (Ramseyer & Tschacher, 2010).
- :func:`iaaft_surrogates`: B replaced by iterative amplitude-adjusted Fourier transform surrogates (Schreiber &
  Schmitz, 1996): same power spectrum and value distribution, random phases.
- :func:`pseudo_dyad_pairs` / :func:`pseudo_dyads`: persons of different sessions paired (rMEA's ``shuffle``:
  all cross pairs, optionally keeping roles).

Each returns a :class:`SurrogateResult` holding, per surrogate, the global index (grand mean of its windows x
lags matrix), the per-window synchrony (the same summary as the real data's ``sync`` column) and the lag
profile. :func:`compare` and :func:`compare_groups` give Cohen's d, the percentile and a p-value with the +1
correction (Phipson & Smyth, 2010). All randomness comes from the ``numpy.random.Generator`` passed in.

Lag convention: a positive lag means B follows A. Surrogate ``k`` of :func:`circular_shift` is exactly
``windowed_cross_correlation(a, np.roll(b, shifts[k]), ...)``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_positive
from ..errors import AnalysisError, ConfigError, DyadsyncWarning
from ..stats import cohens_d
from ._corr import Z_CLIP, pearson_from_sums, quiet_nanmean
from .results import WCC
from .wcc import check_summary, windowed_cross_correlation

#: Per-window summaries a surrogate result can hold (as in :func:`dyadsync.synchrony.summarize`).


@dataclass
class SurrogateResult:
    """Synchrony of surrogate data.

    Attributes
    ----------
    method : str
        ``"circular_shift"``, ``"segment_shuffle"``, ``"iaaft"`` or ``"pseudo_dyad"``.
    global_index : ndarray, shape (n_surrogates,)
        Grand mean of each surrogate's windows x lags matrix.
    window_sync : ndarray, shape (n_surrogates, n_windows)
        Each surrogate's per-window synchrony (``summary``: value at the best lag, mean over lags, or lag 0);
        NaN where a surrogate is shorter than the real series.
    lag_profile : ndarray, shape (n_surrogates, n_lags)
        Each surrogate's mean over windows, per lag.
    lags_s : ndarray, shape (n_lags,)
        Lags in seconds (positive: B follows A).
    labels : list
        What each surrogate is: the shift in seconds (circular shift), the draw number, or the pair.
    summary : str
        Which per-window summary ``window_sync`` holds.
    params : dict
        Every parameter, including the seed material, for the record.
    values : ndarray or None, shape (n_surrogates, n_windows, n_lags)
        The full matrices, when asked for.
    """

    method: str
    global_index: np.ndarray
    window_sync: np.ndarray
    lag_profile: np.ndarray
    lags_s: np.ndarray
    labels: list[Any]
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    values: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of surrogates."""
        return len(self.global_index)

    def threshold(self, q: float = 95.0) -> np.ndarray:
        """Per-window ``q``-th percentile of the surrogates' synchrony (e.g. a height for synchrony peaks).

        Parameters
        ----------
        q : float, default 95
            Percentile in [0, 100].

        Returns
        -------
        ndarray, shape (n_windows,)
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanpercentile(self.window_sync, q, axis=0)


# ---------------------------------------------------------------------------------------------- comparisons


def compare(real: float, null: Sequence[float]) -> dict[str, float]:
    """Where a real value falls in a surrogate distribution.

    Parameters
    ----------
    real : float
        The real data's statistic (e.g. its global index).
    null : sequence of float
        The surrogates' statistics.

    Returns
    -------
    dict
        ``n`` (surrogates with a value), ``null_mean``, ``null_sd``, ``d`` (the real value's distance from the
        surrogate mean in surrogate SDs), ``percentile`` (% of surrogates below the real value, ties counted
        half), ``p`` (one-sided, real larger than chance: ``(1 + #{null >= real}) / (1 + n)``).
    """
    null = np.asarray(null, dtype=float)
    null = null[np.isfinite(null)]
    n = len(null)
    if n == 0 or not np.isfinite(real):
        return {"n": n, "null_mean": math.nan, "null_sd": math.nan, "d": math.nan, "percentile": math.nan,
                "p": math.nan}
    sd = float(null.std(ddof=1)) if n > 1 else math.nan
    below, ties = float(np.sum(null < real)), float(np.sum(null == real))
    return {
        "n": n,
        "null_mean": float(null.mean()),
        "null_sd": sd,
        "d": (real - float(null.mean())) / sd if sd and sd > 0 else math.nan,
        "percentile": 100.0 * (below + 0.5 * ties) / n,
        "p": (1.0 + float(np.sum(null >= real))) / (1.0 + n),
    }


def compare_groups(
    real: Sequence[float], null: Sequence[float], *, rng: np.random.Generator, n_draws: int = 9999
) -> dict[str, float]:
    """A group of real dyads against the surrogates: Cohen's d, and the group mean against means of chance.

    Parameters
    ----------
    real : sequence of float
        The group's real values (e.g. each dyad's global index).
    null : sequence of float
        Surrogate values (e.g. pseudo-dyads' global indices).
    rng : numpy.random.Generator
        Draws the random subsets.
    n_draws : int, default 9999
        Number of random subsets of the surrogates, each the size of the group.

    Returns
    -------
    dict
        ``n_real``, ``n_null``, ``real_mean``, ``null_mean``, ``d`` (Cohen's d, pooled SD, signed),
        ``percentile`` of the real group mean among the means of random surrogate subsets of the same size,
        and ``p`` = ``(1 + #{subset mean >= real mean}) / (1 + n_draws)``.
    """
    real = np.asarray(real, dtype=float)
    null = np.asarray(null, dtype=float)
    real, null = real[np.isfinite(real)], null[np.isfinite(null)]
    out = {
        "n_real": len(real),
        "n_null": len(null),
        "real_mean": float(real.mean()) if len(real) else math.nan,
        "null_mean": float(null.mean()) if len(null) else math.nan,
        "d": cohens_d(real, null),
        "percentile": math.nan,
        "p": math.nan,
    }
    if len(real) and len(null):
        size = min(len(real), len(null))
        keys = rng.random((n_draws, len(null)))
        subsets = np.argpartition(keys, size - 1, axis=1)[:, :size] if size < len(null) else np.argsort(keys, axis=1)
        means = null[subsets].mean(axis=1)
        stats = compare(float(real.mean()), means)
        out["percentile"], out["p"] = stats["percentile"], stats["p"]
    return out


# ------------------------------------------------------------------------------------------- circular shift


def circular_shift(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    window_s: float,
    step_s: float,
    max_lag_s: float,
    rng: np.random.Generator,
    n_surrogates: int | None = 1000,
    min_shift_s: float | None = None,
    summary: str = "best",
    fisher_z: bool = True,
    absolute: bool = True,
    min_valid: float = 0.8,
    matrices: bool = False,
    chunk: int = 32,
) -> SurrogateResult:
    """Circular-shift surrogates: B rotated against A, every other property of both series kept.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Person A's and person B's series on one regular grid (NaN = missing).
    rate_hz, window_s, step_s, max_lag_s, fisher_z, absolute, min_valid
        As in :func:`dyadsync.synchrony.windowed_cross_correlation`.
    rng : numpy.random.Generator
        Draws the shifts.
    n_surrogates : int or None, default 1000
        Number of shifts, drawn without replacement from ``[min_shift, n - min_shift]`` samples; None takes
        every shift in that range (the exhaustive circular null).
    min_shift_s : float or None
        Smallest rotation in seconds; None: one window (no window meets its own original alignment).
    summary : {"best", "mean", "lag0"}, default "best"
        Per-window summary kept in ``window_sync``.
    matrices : bool, default False
        Also keep every surrogate's windows x lags matrix in ``values`` (n_surrogates x n_windows x n_lags
        floats: mind the memory).
    chunk : int, default 32
        Windows processed at once (memory about ``chunk * n * 8`` bytes per array).

    Returns
    -------
    SurrogateResult
        ``labels`` are the shifts in seconds; surrogate ``k`` equals
        ``windowed_cross_correlation(a, np.roll(b, round(labels[k] * rate_hz)), ...)``.

    Notes
    -----
    All shifts are computed together: for each window, one FFT gives A's window correlated with B at every
    circular offset ``m``; the value of surrogate ``k`` at lag ``L`` is the one at ``m = L - k``. Windows within
    ``max_lag_s`` of either end, where the shifted B runs off the series, are corrected pair by pair so that
    the result equals the engine's.
    """
    summary = check_summary(summary)
    import scipy.fft as sfft

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ref = windowed_cross_correlation(  # validates everything and fixes windows, lags, rounding
        a[: _probe_len(a, rate_hz, window_s, max_lag_s)],
        b[: _probe_len(a, rate_hz, window_s, max_lag_s)],
        rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s,
        fisher_z=fisher_z, absolute=absolute, min_valid=min_valid,
    )
    p = ref.params
    win, step, max_lag = p["window_samples"], p["step_samples"], p["max_lag_samples"]
    n = len(a)
    if a.shape != b.shape:
        raise AnalysisError(f"series must be of equal length, got {a.shape} and {b.shape}")
    starts = np.arange(0, n - win + 1, step)
    lags = np.arange(-max_lag, max_lag + 1)
    n_lags = len(lags)
    min_shift = win if min_shift_s is None else int(round(check_positive("min_shift_s", min_shift_s) * rate_hz))
    candidates = np.arange(max(min_shift, 1), n - max(min_shift, 1) + 1)
    if candidates.size == 0:
        raise AnalysisError(
            f"a series of {n / rate_hz:.1f} s leaves no circular shift of at least {min_shift / rate_hz:g} s; "
            "use a smaller min_shift_s"
        )
    if n_surrogates is None:
        shifts = candidates
    else:
        if n_surrogates < 1:
            raise ConfigError(f"n_surrogates must be at least 1, got {n_surrogates}")
        if n_surrogates > candidates.size:
            raise AnalysisError(
                f"only {candidates.size} distinct shifts of at least {min_shift / rate_hz:g} s exist in "
                f"{n / rate_hz:.1f} s; ask for fewer surrogates (or n_surrogates=None for all of them)"
            )
        shifts = np.sort(rng.choice(candidates, size=n_surrogates, replace=False))
    n_k = len(shifts)
    need = int(math.ceil(min_valid * win))

    ma, mb = np.isfinite(a), np.isfinite(b)
    ca = np.where(ma, a - np.nanmean(a), 0.0)
    cb = np.where(mb, b - np.nanmean(b), 0.0)
    complete = bool(ma.all() and mb.all())
    fb = sfft.rfft(cb)
    if not complete:
        fb2, fmb = sfft.rfft(cb * cb), sfft.rfft(mb.astype(float))

    def circ(x: np.ndarray, fy: np.ndarray) -> np.ndarray:
        """sum_i x[w, i] * y[(i + m) mod n] for every row w and offset m."""
        fx = sfft.rfft(x, axis=1)
        np.conjugate(fx, out=fx)
        fx *= fy
        return sfft.irfft(fx, n, axis=1)

    def moving(y: np.ndarray) -> np.ndarray:
        """Circular moving sums over ``win`` samples: out[p] = sum_{i<win} y[(p + i) mod n], doubled for views."""
        c = np.concatenate([[0.0], np.cumsum(np.concatenate([y, y[:win]]))])
        s = c[win : win + n] - c[:n]
        return np.concatenate([s, s])

    if complete:
        my, myy = moving(cb), moving(cb * cb)
        vy = myy - my * my / win
        with np.errstate(invalid="ignore", divide="ignore"):
            ivy = np.where(vy > 0, 1.0 / np.sqrt(vy), np.nan)
        my_n = my / win
        csa = np.concatenate([[0.0], np.cumsum(ca * ca)])
        sxx_max = float(np.max(csa[starts + win] - csa[starts]))
        # B positions whose window variance is at rounding level for some window (rare: constant stretches).
        bad_b = np.concatenate([[0], np.cumsum(vy <= 1e-12 * (sxx_max + myy))])

    first_edge = np.flatnonzero(starts >= max_lag)
    last_edge = np.flatnonzero(starts + win - 1 + max_lag <= n - 1)
    inner = np.zeros(len(starts), dtype=bool)
    if first_edge.size and last_edge.size:
        inner[first_edge[0] : last_edge[-1] + 1] = True
    # Accumulators over inner windows, indexed by circular offset m.
    col_sum, col_cnt = np.zeros(n), np.zeros(n)
    window_sync = np.full((n_k, len(starts)), np.nan)
    values = np.full((n_k, len(starts), n_lags), np.nan) if matrices else None
    offsets = (lags[None, :] - shifts[:, None]) % n  # (n_k, n_lags): m for surrogate k at lag L
    zero_off = (-shifts) % n
    edge_sum, edge_cnt = np.zeros((n_k, n_lags)), np.zeros((n_k, n_lags))
    transform = _Transform(fisher_z, absolute)

    rows = np.arange(n)
    view = np.lib.stride_tricks.sliding_window_view
    for c0 in range(0, len(starts), chunk):
        block = starts[c0 : c0 + chunk]
        nb = len(block)
        xa = np.zeros((nb, n))
        for j, s0 in enumerate(block):
            xa[j, s0 : s0 + win] = ca[s0 : s0 + win]
        sxy = circ(xa, fb)
        if complete:
            sx = xa.sum(axis=1)
            sxx = np.einsum("ij,ij->i", xa, xa)
            cnt = np.full((nb, 1), float(win))
            edge_sxy = {j: sxy[j].copy() for j in np.flatnonzero(~inner[c0 : c0 + nb])}
            check = bool(np.any(bad_b[block + n] - bad_b[block] > 0))
            rows_sl = slice(int(block[0]), int(block[-1]) + 1, step)  # a view: no copy of (windows x n)
            b_views = (view(my_n, n)[rows_sl], view(myy, n)[rows_sl], view(ivy, n)[rows_sl])
            z = _complete_r(sxy, sx, sxx, win, *b_views, check)
            transform.inplace(z)
        else:
            sel = (rows[None, :] >= block[:, None]) & (rows[None, :] < block[:, None] + win)
            mwin = sel & ma[None, :]
            cnt = np.rint(circ(mwin.astype(float), fmb))
            sx, sxx = circ(xa, fmb), circ(xa * xa, fmb)
            sy, syy = circ(mwin.astype(float), fb), circ(mwin.astype(float), fb2)
            z = transform(pearson_from_sums(cnt, sx, sy, sxx, syy, sxy), cnt, need)  # (nb, n): value at offset m
        ids = np.arange(c0, c0 + nb)
        inn = inner[ids]
        if inn.any():
            zi = z[inn] if not inn.all() else z
            if complete and not np.isnan(zi.sum()):
                col_sum += zi.sum(axis=0)
                col_cnt += len(zi)
            else:
                fin = np.isfinite(zi)
                col_sum += np.where(fin, zi, 0.0).sum(axis=0)
                col_cnt += fin.sum(axis=0)
            window_sync[:, ids[inn]] = _inner_summary(zi, summary, offsets, zero_off).T
            if values is not None:
                values[:, ids[inn], :] = np.moveaxis(zi[:, offsets], 0, 1)
        for j in np.flatnonzero(~inn):
            w = int(ids[j])
            if complete:
                sy_row, syy_row = my[block[j] : block[j] + n], myy[block[j] : block[j] + n]
                parts = (cnt[j], sx[j], sy_row, sxx[j], syy_row, edge_sxy[j])
            else:
                parts = (cnt[j], sx[j], sy[j], sxx[j], syy[j], sxy[j])
            sums = [np.broadcast_to(arr, (n,))[offsets] for arr in parts]
            zk = _edge_window(int(starts[w]), win, lags, shifts, n, ca, cb, ma, mb, sums, transform, need)
            fin = np.isfinite(zk)
            edge_sum += np.where(fin, zk, 0.0)
            edge_cnt += fin
            with quiet_nanmean():
                window_sync[:, w] = _row_summary(zk, summary, max_lag)
            if values is not None:
                values[:, w, :] = zk
    lag_sum = col_sum[offsets] + edge_sum
    lag_cnt = col_cnt[offsets] + edge_cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = lag_sum / lag_cnt
        global_index = lag_sum.sum(axis=1) / lag_cnt.sum(axis=1)
    return SurrogateResult(
        method="circular_shift",
        global_index=global_index,
        window_sync=window_sync,
        lag_profile=profile,
        lags_s=ref.lags_s,
        labels=[float(k / rate_hz) for k in shifts],
        summary=summary,
        params={
            **{k: v for k, v in p.items()},
            "n_surrogates": n_k,
            "min_shift_s": min_shift / rate_hz,
            "shifts_samples": shifts.tolist(),
        },
        values=values,
    )


def _probe_len(a: np.ndarray, rate_hz: float, window_s: float, max_lag_s: float) -> int:
    """Enough samples to validate the parameters with the engine on a short piece."""
    need = int(round(window_s * rate_hz)) + 2 * int(round(max_lag_s * rate_hz)) + 2
    return min(len(a), max(need, 4))


class _Transform:
    """Fisher z and absolute value as the engine applies them, with its missing-value rule."""

    def __init__(self, fisher_z: bool, absolute: bool) -> None:
        self.fisher_z, self.absolute = fisher_z, absolute

    def __call__(self, r: np.ndarray, cnt: np.ndarray, need: int) -> np.ndarray:
        r = np.where(cnt < need, np.nan, r)
        if self.fisher_z:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.clip(np.arctanh(r), -Z_CLIP, Z_CLIP)
        return np.abs(r) if self.absolute else r

    def inplace(self, r: np.ndarray) -> None:
        """The same on complete data (no count rule), overwriting ``r``."""
        if self.fisher_z:
            with np.errstate(divide="ignore", invalid="ignore"):
                np.arctanh(r, out=r)
            np.minimum(r, Z_CLIP, out=r)
            np.maximum(r, -Z_CLIP, out=r)
        if self.absolute:
            np.abs(r, out=r)


def _complete_r(sxy, sx, sxx, win, sy_n, syy, ivy, check) -> np.ndarray:  # type: ignore[no-untyped-def]
    """r of windows without missing values at every circular offset, overwriting ``sxy``.

    ``sx``, ``sxx`` are per window; ``sy_n`` (B's window sums / win), ``syy`` and ``ivy`` (1 / sqrt of B's
    window variance sum) are (windows x offsets) views. The engine's rule for a variance at rounding level is
    applied exactly where it can matter.
    """
    vx = sxx - sx * sx / win
    with np.errstate(invalid="ignore", divide="ignore"):
        ivx = np.where(vx > 0, 1.0 / np.sqrt(vx), np.nan)
    r = sxy
    r -= sx[:, None] * sy_n
    r *= ivx[:, None]
    r *= ivy
    # Degenerate candidates: a variance within 1e-12 of the sums of squares (a constant stretch).
    syy_max = float(np.max(syy)) if syy.size else 0.0
    bad_rows = vx <= 1e-12 * (sxx + syy_max)
    if bad_rows.any():
        r[bad_rows] = _exact_rule(
            r[bad_rows], vx[bad_rows, None], sxx[bad_rows, None], sy_n[bad_rows], syy[bad_rows], win
        )
    vy_all = syy - sy_n * sy_n * win if check else None
    bad = vy_all <= 1e-12 * (float(np.max(sxx)) + syy) if check else None
    if check and bad.any():
        rows, cols = np.nonzero(bad)
        vyb = vy_all[rows, cols]
        tiny = 1e-12 * (sxx[rows] + syy[rows, cols])
        ok = (vx[rows] > tiny) & (vyb > tiny)
        r[rows[~ok], cols[~ok]] = np.nan
    np.minimum(r, 1.0, out=r)
    np.maximum(r, -1.0, out=r)
    return r


def _exact_rule(r, vx, sxx, sy_n, syy, win) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Apply the engine's rounding-level variance rule to whole rows."""
    vy = syy - sy_n * sy_n * win
    tiny = 1e-12 * (sxx + syy)
    return np.where((vx > tiny) & (vy > tiny), r, np.nan)


def _inner_summary(z, summary, offsets, zero_off) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Per-surrogate summaries of inner windows from their values at every circular offset: (windows, n_k)."""
    if summary == "lag0":
        return z[:, zero_off]
    n_k, width = offsets.shape
    fin_all = not np.isnan(z).any()
    if n_k * width < 4 * z.shape[1]:  # few surrogates: gather their lag rows directly
        g = z[:, offsets]  # (windows, n_k, n_lags)
        if summary == "mean":
            with quiet_nanmean():
                return g.mean(axis=2) if fin_all else np.nanmean(g, axis=2)
        peak = np.where(np.isfinite(g), g, -np.inf).max(axis=2) if not fin_all else g.max(axis=2)
        return np.where(np.isfinite(peak), peak, np.nan)
    fin = np.isfinite(z)
    if summary == "mean":
        zf = np.where(fin, z, 0.0)
        zeros = np.zeros((len(z), 1))
        cs = np.hstack([zeros, np.cumsum(np.hstack([zf, zf[:, :width]]), axis=1)])
        cc = np.hstack([zeros, np.cumsum(np.hstack([fin, fin[:, :width]]), axis=1)])
        first = offsets[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (cs[:, first + width] - cs[:, first]) / (cc[:, first + width] - cc[:, first])
    peak = _circular_window_max(np.where(fin, z, -np.inf), offsets[:, 0], width)
    return np.where(np.isfinite(peak), peak, np.nan)


def _circular_window_max(z: np.ndarray, first: np.ndarray, width: int) -> np.ndarray:
    """max of z[:, (f + i) mod n] over i < width, for each f in ``first`` (doubling of window maxima)."""
    cur = np.hstack([z, z[:, :width]])
    span = 1
    while span * 2 <= width:
        cur = np.maximum(cur[:, :-span], cur[:, span:])  # cur[p] = max over [p, p + 2 * span)
        span *= 2
    return np.maximum(cur[:, first], cur[:, first + width - span])


def _row_summary(z: np.ndarray, summary: str, max_lag: int) -> np.ndarray:
    """Per-row summary of (surrogates x lags) values."""
    if summary == "lag0":
        return z[:, max_lag]
    if summary == "mean":
        return np.nanmean(z, axis=1)
    filled = np.where(np.isfinite(z), z, -np.inf).max(axis=1)
    return np.where(np.isfinite(filled), filled, np.nan)


def _edge_window(  # type: ignore[no-untyped-def]
    s, win, lags, shifts, n, ca, cb, ma, mb, sums, transform, need
) -> np.ndarray:
    """Values of a window near either end: circular sums minus the pairs whose B sample left the series."""
    cnt, sx, sy, sxx, syy, sxy = (x.copy() for x in sums)  # each (n_k, n_lags)
    for j, lag in enumerate(lags):
        i = np.arange(s, s + win)
        gone = i[(i + lag < 0) | (i + lag >= n)]
        if gone.size == 0:
            continue
        jb = (gone[None, :] + lag - shifts[:, None]) % n  # B index in the unshifted series
        xa, xm = ca[gone][None, :], ma[gone][None, :].astype(float)
        yb, ym = cb[jb], mb[jb].astype(float)
        cnt[:, j] -= (xm * ym).sum(axis=1)
        sx[:, j] -= (xa * ym).sum(axis=1)
        sxx[:, j] -= (xa * xa * ym).sum(axis=1)
        sy[:, j] -= (xm * yb).sum(axis=1)
        syy[:, j] -= (xm * yb * yb).sum(axis=1)
        sxy[:, j] -= (xa * yb).sum(axis=1)
    cnt = np.rint(cnt)
    return transform(pearson_from_sums(cnt, sx, sy, sxx, syy, sxy), cnt, need)


# --------------------------------------------------------------------------- surrogates made series by series


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
    if n_surrogates < 1:
        raise ConfigError(f"n_surrogates must be at least 1, got {n_surrogates}")
    kw = dict(rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s,
              fisher_z=fisher_z, absolute=absolute, min_valid=min_valid)
    real = windowed_cross_correlation(a, b, **kw)
    n_w, n_lags = real.values.shape
    gi = np.full(n_surrogates, np.nan)
    ws, prof = np.full((n_surrogates, n_w), np.nan), np.full((n_surrogates, n_lags), np.nan)
    values = np.full((n_surrogates, n_w, n_lags), np.nan) if matrices else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        for i in range(n_surrogates):
            sa, sb = make(i)
            wcc = windowed_cross_correlation(sa, sb, **kw)
            v = wcc.values[:n_w]
            with quiet_nanmean():
                gi[i] = np.nanmean(v)
                prof[i] = np.nanmean(v, axis=0)
                ws[i, : len(v)] = _row_summary(v, summary, n_lags // 2)
            if values is not None:
                values[i, : len(v)] = v
    return SurrogateResult(method, gi, ws, prof, real.lags_s, list(range(n_surrogates)), summary,
                           {**real.params, **params, "n_surrogates": n_surrogates}, values)


def shuffle_segments(
    a: np.ndarray, b: np.ndarray, *, segment_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One within-person segment shuffle (Ramseyer & Tschacher, 2010).

    Parameters
    ----------
    a, b : array_like, shape (n,)
    segment_samples : int
        Segment length in samples.
    rng : numpy.random.Generator

    Returns
    -------
    a_shuffled, b_shuffled : ndarray, shape (n_segments * segment_samples,)
        Both series cut into whole segments (the incomplete tail is dropped, as in the original method), each
        person's segments reordered so that no position pairs two segments that were together originally.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
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
    rng: np.random.Generator,
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
    rng : numpy.random.Generator
    segment_s : float or None
        Segment length in seconds; None: the window length (Ramseyer & Tschacher used the window).
    n_surrogates : int, default 1000
    summary : {"best", "mean", "lag0"}
    matrices : bool, default False

    Returns
    -------
    SurrogateResult
    """
    seg = int(round(check_positive("segment_s", segment_s if segment_s is not None else window_s) * rate_hz))
    return _from_series(
        "segment_shuffle", a, b, lambda i: shuffle_segments(a, b, segment_samples=seg, rng=rng), n_surrogates,
        rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s, summary=summary,
        fisher_z=fisher_z, absolute=absolute, min_valid=min_valid, params={"segment_s": seg / rate_hz},
        matrices=matrices,
    )


def iaaft(x: np.ndarray, *, rng: np.random.Generator, n_iter: int = 200) -> np.ndarray:
    """One iterative amplitude-adjusted Fourier transform surrogate (Schreiber & Schmitz, 1996).

    Parameters
    ----------
    x : array_like, shape (n,)
        Series; missing values are bridged by linear interpolation for the transform and are missing again in
        the surrogate, at the same positions.
    rng : numpy.random.Generator
    n_iter : int, default 200
        Largest number of iterations (it stops earlier once the ranks no longer change).

    Returns
    -------
    ndarray, shape (n,)
        Same values as ``x`` in a new order, with (nearly) the same power spectrum.
    """
    x = np.asarray(x, dtype=float)
    bad = ~np.isfinite(x)
    if bad.all():
        raise AnalysisError("IAAFT needs a series with values, got none")
    filled = x.copy()
    if bad.any():
        idx = np.arange(len(x))
        filled[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    sorted_values = np.sort(filled)
    amplitude = np.abs(np.fft.rfft(filled))
    y = rng.permutation(filled)
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
    rng: np.random.Generator,
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
    rng : numpy.random.Generator
    n_surrogates : int, default 200
        Each surrogate costs about a hundred FFTs of the whole series plus one synchrony run.
    n_iter : int, default 200
    summary : {"best", "mean", "lag0"}
    matrices : bool, default False

    Returns
    -------
    SurrogateResult
    """
    a = np.asarray(a, dtype=float)
    return _from_series(
        "iaaft", a, b, lambda i: (a, iaaft(b, rng=rng, n_iter=n_iter)), n_surrogates,
        rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s, summary=summary,
        fisher_z=fisher_z, absolute=absolute, min_valid=min_valid, params={"n_iter": n_iter}, matrices=matrices,
    )


# ------------------------------------------------------------------------------------------- pseudo-dyads


def pseudo_dyad_pairs(
    n_dyads: int,
    *,
    keep_roles: bool = False,
    n: int | None = None,
    rng: np.random.Generator | None = None,
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
    rng : numpy.random.Generator or None
        Needed when ``n`` is smaller than the number of pairs.

    Returns
    -------
    list of ((dyad, role), (dyad, role))
        The first person becomes A of the pseudo-dyad, the second B; in rMEA's order (as ``combn``).
    """
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
    if n < 1:
        raise ConfigError(f"the number of pseudo-dyads must be at least 1, got {n}")
    if rng is None:
        raise ConfigError("drawing a subset of pseudo-dyads needs a numpy Generator (rng)")
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
    rng: np.random.Generator | None = None,
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
    rng : numpy.random.Generator or None
    summary : {"best", "mean", "lag0"}
    engine : callable or None
        ``engine(a, b) -> WCC`` to use instead of the default engine (e.g. rMEA-compatible mode).

    Returns
    -------
    SurrogateResult
        ``labels`` are the pairs ``((dyad, role), (dyad, role))``; ``window_sync`` is NaN-padded to the longest.
    """
    summary = check_summary(summary)
    pairs = pseudo_dyad_pairs(len(series), keep_roles=keep_roles, n=n_surrogates, rng=rng)
    if engine is None:
        def engine(x: np.ndarray, y: np.ndarray) -> WCC:
            return windowed_cross_correlation(x, y, rate_hz=rate_hz, window_s=window_s, step_s=step_s,
                                              max_lag_s=max_lag_s, fisher_z=fisher_z, absolute=absolute,
                                              min_valid=min_valid)
    results = []
    for (d1, r1), (d2, r2) in pairs:
        x, y = np.asarray(series[d1][r1], dtype=float), np.asarray(series[d2][r2], dtype=float)
        m = min(len(x), len(y))
        results.append(engine(x[:m], y[:m]))
    n_w = max(len(w.values) for w in results)
    n_lags = results[0].values.shape[1]
    gi = np.full(len(results), np.nan)
    ws = np.full((len(results), n_w), np.nan)
    prof = np.full((len(results), n_lags), np.nan)
    with quiet_nanmean():
        for i, w in enumerate(results):
            gi[i] = np.nanmean(w.values)
            prof[i] = np.nanmean(w.values, axis=0)
            ws[i, : len(w.values)] = _row_summary(w.values, summary, n_lags // 2)
    return SurrogateResult("pseudo_dyad", gi, ws, prof, results[0].lags_s, list(pairs), summary,
                           {**results[0].params, "keep_roles": keep_roles, "n_surrogates": len(pairs)})
