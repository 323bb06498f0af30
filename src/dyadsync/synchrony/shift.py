"""Circular-shift surrogates, computed for all shifts at once.

B's series is rotated against A's by a random shift of at least ``min_shift_s``: each series keeps its full
autocorrelation and distribution, only the alignment goes. For each window one FFT gives A's window correlated
with B at every circular offset, so 1000 surrogates of a 50-minute session take seconds; windows near the ends,
where the shifted B runs off the series, are corrected pair by pair. Surrogate ``k`` is exactly
``windowed_cross_correlation(a, np.roll(b, shifts[k]), ...)`` (lag convention: a positive lag means B follows A).
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_positive, seed_value
from ..errors import AnalysisError
from ._corr import (
    Z_CLIP,
    count,
    generator,
    pearson_from_sums,
    quiet_nanmean,
    row_summary,
    series_pair,
    transform,
)
from .results import SurrogateResult
from .wcc import check_summary, windowed_cross_correlation


def circular_shift(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    window_s: float,
    step_s: float,
    max_lag_s: float,
    seed: int | np.random.Generator | None = 0,
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
    seed : int, numpy.random.Generator or None, default 0
        Draws the shifts (an int seeds a new Generator; a Generator is used as it is).
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

    a, b = series_pair(a, b)
    for name, value in (("rate_hz", rate_hz), ("window_s", window_s)):  # needed before the engine checks them
        check_positive(name, value)
    check_positive("max_lag_s", max_lag_s, allow_zero=True)
    rng = generator(seed)
    chunk = count("chunk", chunk)
    ref = windowed_cross_correlation(  # validates everything and fixes windows, lags, rounding
        a[: _probe_len(a, rate_hz, window_s, max_lag_s)],
        b[: _probe_len(a, rate_hz, window_s, max_lag_s)],
        rate_hz=rate_hz, window_s=window_s, step_s=step_s, max_lag_s=max_lag_s,
        fisher_z=fisher_z, absolute=absolute, min_valid=min_valid,
    )
    p = ref.params
    win, step, max_lag = p["window_samples"], p["step_samples"], p["max_lag_samples"]
    n = len(a)
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
        n_surrogates = count("n_surrogates", n_surrogates)
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
                window_sync[:, w] = row_summary(zk, summary, max_lag)
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
            "seed": seed_value(seed),
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
        return transform(np.where(cnt < need, np.nan, r), fisher_z=self.fisher_z, absolute=self.absolute)

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
