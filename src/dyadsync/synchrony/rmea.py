"""rMEA-compatible synchrony: ``MEAsmooth``, ``MEAscale`` and ``MEAccf`` of rMEA 1.3.0, reproduced exactly.

rMEA (Kleinbub & Ramseyer, 2021) is what most published motion-energy synchrony was computed with, so a
re-analysis must be able to give the same numbers. This module follows rMEA's rules, read from its source, and
is checked against rMEA's own output (``tests/test_rmea.py``):

- **Windows** start at ``w * inc`` samples and span ``win + lag`` samples *forward* (they are not centred). At
  lag ``L >= 0`` the window's first ``win`` samples of A are paired with B's samples ``L`` later; at ``L < 0``,
  A's samples ``|L|`` later are paired with B's first ``win`` samples. The number of windows is
  ``ceiling((N - win - lag + 1) / inc)``. A positive lag means B follows A, as everywhere in dyadsync.
- **Missing values**: a window where either person has more than half of the ``win + lag`` samples missing is
  missing at every lag; otherwise each lag's Pearson r uses the complete pairs. A lag is missing when fewer than
  two complete pairs differ between the persons (rMEA's ``sum(x != y) < 2`` rule) or when a person's values are
  constant (no variance).
- **Transforms**: Fisher's z (``atanh``) clipped to +-10, then the absolute value (both on by default).
- **Summaries** (rMEA's ``ccfRes``): ``all_lags``, ``s1_lead`` (mean over positive lags: s1 = A leads),
  ``s2_lead``, ``lag_zero``, ``s1_lead_0``, ``s2_lead_0`` (means including lag 0), ``bestLag`` (lag of the first
  largest value) and ``grandAver`` (mean of the whole windows x lags matrix).

The computation is vectorised over windows: the lagged cross-products of each window come from one FFT
cross-correlation of its window-centred segments, sums and sums of squares from prefix sums. Windows with missing
values, and windows where a lag's variance is tiny next to the sums it is computed from (a still stretch beside
a burst, a constant range), take an exact per-lag two-pass path. Agreement with a literal transcription of rMEA's
loops is about 1e-13 on real MEA data (4e-12 through smoothing and scaling).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import check_positive
from ..errors import AnalysisError, ConfigError
from ._corr import as_array, check_wcc, number, quiet_nanmean, series_pair, wcc_result
from .results import WCC

#: rMEA's ``ccfRes`` per-window summaries, in rMEA's order.
RMEA_SUMMARIES = ("all_lags", "s1_lead", "s2_lead", "lag_zero", "s1_lead_0", "s2_lead_0", "bestLag")

#: R's ``FLT_EPSILON``, used by its ``from:to`` operator to count the elements of a sequence.
_R_FLT_EPSILON = 1.1920928955078125e-07


def _samples(name: str, seconds: float, rate_hz: float, *, allow_zero: bool = False) -> int:
    """``seconds * rate_hz`` as a whole number of samples, as rMEA needs it (no silent rounding)."""
    seconds = check_positive(name, seconds, allow_zero=allow_zero)
    n = seconds * rate_hz
    k = int(round(n))
    if abs(n - k) > 1e-9 * max(1.0, n):
        raise ConfigError(
            f"{name} = {seconds:g} s is {n:g} samples at {rate_hz:g} Hz; rMEA-compatible mode needs whole samples "
            f"(rMEA would index by a truncated fraction). Use a multiple of {1 / rate_hz:g} s."
        )
    return k


def mea_smooth(values: np.ndarray, *, rate_hz: float, window_s: float = 0.5) -> np.ndarray:
    """rMEA's ``MEAsmooth``: the moving average of SAS ``proc expand``, with rMEA's edge behaviour.

    For each sample ``t`` (1-based, as in R) the filter sums the samples from ``t - (n-1)/2`` (at least 1) to
    ``t + (n-1)/2``, with R's truncation of fractional indices, and divides by ``n = window_s * rate_hz`` (not by
    the number of samples summed: at 25 fps a 0.5 s window sums 12 samples, the 6 before and 5 after ``t``, and
    divides by 12.5; at the start fewer samples are summed). Where the window reaches past the end of the series
    or holds a missing value the result is 0; samples missing in the input are missing in the output
    (rMEA 1.3.0).

    Parameters
    ----------
    values : array_like, shape (n,) or (n, k)
        Series (columns are smoothed independently).
    rate_hz : float
        Sampling rate in Hz.
    window_s : float, default 0.5
        Filter width in seconds (rMEA's ``moving.average.win``); ``window_s * rate_hz`` must be at least 1.

    Returns
    -------
    ndarray, same shape as ``values``
    """
    x = as_array("values", values, ndim=(1, 2))
    rate_hz = check_positive("rate_hz", rate_hz)
    width = check_positive("window_s", window_s) * rate_hz
    if width < 1:
        raise ConfigError(f"a smoothing window of {window_s:g} s at {rate_hz:g} Hz is shorter than one sample")
    if x.ndim == 2:
        return np.column_stack([mea_smooth(x[:, j], rate_hz=rate_hz, window_s=window_s) for j in range(x.shape[1])])
    n = len(x)
    half = (width - 1) / 2
    t = np.arange(1, n + 1, dtype=float)
    start = np.maximum(t - half, 1.0)
    stop = t + half
    count = np.floor(stop - start + 1 + _R_FLT_EPSILON).astype(np.int64)
    lo = np.floor(start).astype(np.int64)  # 1-based first index (R truncates fractional indices)
    hi = lo + count - 1  # 1-based last index
    bad = np.isnan(x)
    filled = np.where(bad, 0.0, x)
    csum = np.concatenate([[0.0], np.cumsum(filled)])
    cbad = np.concatenate([[0], np.cumsum(bad)])
    hi_c = np.minimum(hi, n)
    if np.array_equal(filled, np.round(filled)) and np.abs(filled).sum() < 2**52:
        sums = csum[hi_c] - csum[lo - 1]  # exact for whole numbers (motion energy is a pixel count)
    else:
        sums = _window_sums(filled, lo - 1, count)
    out = sums / width
    zero = (hi > n) | (cbad[hi_c] - cbad[lo - 1] > 0)
    out[zero] = 0.0
    out[bad] = np.nan
    return out


def _window_sums(x: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sums of ``x[s : s + c]`` (clipped to the series), summed directly (no prefix-sum rounding)."""
    width = int(counts.max())
    padded = np.concatenate([x, np.zeros(width)])
    view = np.lib.stride_tricks.sliding_window_view(padded, width)[starts]
    mask = np.arange(width)[None, :] < counts[:, None]
    return np.where(mask, view, 0.0).sum(axis=1)


def mea_scale(values: np.ndarray, *, scale: float | str = "sd", center: bool = False) -> np.ndarray:
    """rMEA's ``MEAscale``: divide each series by its standard deviation (or a given number), without centring.

    Parameters
    ----------
    values : array_like, shape (n,) or (n, k)
        Series (columns are scaled independently).
    scale : "sd" or float, default "sd"
        ``"sd"``: the sample standard deviation of the non-missing values (rMEA's default with
        ``removeNA = TRUE``); a number: divide by it.
    center : bool, default False
        Subtract the mean of the non-missing values first (rMEA's ``center = TRUE``).

    Returns
    -------
    ndarray, same shape as ``values``

    Notes
    -----
    Scaling does not change a correlation; rMEA pipelines apply it, so it is here to rerun them unchanged.
    """
    x = as_array("values", values, ndim=(1, 2))
    if isinstance(scale, str):
        if scale != "sd":
            raise ConfigError(f"scale must be 'sd' or a number, got {scale!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            factor = np.nanstd(x, axis=0, ddof=1)
    else:
        factor = check_positive("scale", scale)
    shift = np.nanmean(x, axis=0) if center else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x - shift) / factor


def mea_ccf(
    a: np.ndarray,
    b: np.ndarray,
    *,
    rate_hz: float,
    lag_s: float,
    window_s: float,
    step_s: float,
    fisher_z: bool = True,
    absolute: bool = True,
    t0_s: float = 0.0,
) -> WCC:
    """rMEA's ``MEAccf``: moving-window lagged cross-correlation with rMEA's exact rules.

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Person A's (rMEA's s1) and person B's (s2) series at ``rate_hz`` (NaN = missing).
    rate_hz : float
        Sampling rate in Hz (rMEA's ``sampRate``).
    lag_s : float
        Largest lag in seconds (``lagSec``); lags run from ``-lag_s`` to ``+lag_s`` in steps of one sample.
    window_s : float
        Window length in seconds (``winSec``).
    step_s : float
        Step between window starts in seconds (``incSec``).
    fisher_z : bool, default True
        Fisher's z, clipped to +-10 (``r2Z``).
    absolute : bool, default True
        Absolute values, after the z transform (``ABS``).
    t0_s : float, default 0
        Time of the first sample in seconds.

    Returns
    -------
    WCC
        ``values`` is rMEA's ``ccf`` table (windows x lags). ``starts_s`` is each window's start, ``ends_s`` its
        last sample (``win + lag`` samples on), ``times_s`` the centre of that span. ``params["engine"]`` is
        ``"rmea"``. :func:`rmea_summaries` gives rMEA's ``ccfRes``.

    Raises
    ------
    ConfigError
        When a duration is not a whole number of samples.
    AnalysisError
        When the series differ in length or hold no complete window.
    """
    a, b = series_pair(a, b)
    rate_hz = check_positive("rate_hz", rate_hz)
    win = _samples("window_s", window_s, rate_hz)
    lag = _samples("lag_s", lag_s, rate_hz, allow_zero=True)
    inc = _samples("step_s", step_s, rate_hz)
    if win < 2:
        raise ConfigError(f"a window of {window_s:g} s holds {win} sample(s); a correlation needs at least 2")
    n = len(a)
    n_win = math.ceil((n - win - lag + 1) / inc)
    if n_win <= 0:
        raise AnalysisError(
            f"series of {n / rate_hz:.1f} s is shorter than one window of {window_s:g} s plus the {lag_s:g} s lag "
            f"that rMEA adds to every window ({(win + lag) / rate_hz:g} s); use a shorter window or lag"
        )
    span = win + lag
    starts = np.arange(n_win) * inc
    lags = np.arange(-lag, lag + 1)
    idx = starts[:, None] + np.arange(span)[None, :]
    xs, ys = a[idx], b[idx]  # (n_win, span)
    r = np.full((n_win, len(lags)), np.nan)
    n_pairs = np.zeros((n_win, len(lags)), dtype=np.int64)
    nan_x, nan_y = np.isnan(xs).sum(axis=1), np.isnan(ys).sum(axis=1)
    dropped = np.maximum(nan_x, nan_y) > span / 2
    clean = (nan_x == 0) & (nan_y == 0)
    if clean.any():
        r[clean], n_pairs[clean], shaky = _clean_windows(xs[clean], ys[clean], win, lag)
        clean[np.flatnonzero(clean)[shaky]] = False  # ill-conditioned: recomputed exactly below
    for w in np.flatnonzero(~clean & ~dropped):
        r[w], n_pairs[w] = _window_with_missing(xs[w], ys[w], win, lag)
    return wcc_result(
        r, n_pairs, starts=starts, span=span, lags=lags, rate_hz=rate_hz, t0_s=number("t0_s", t0_s),
        fisher_z=fisher_z,
        absolute=absolute,
        params={
            "engine": "rmea",
            "window_s": win / rate_hz,
            "step_s": inc / rate_hz,
            "max_lag_s": lag / rate_hz,
            "window_samples": win,
            "step_samples": inc,
            "max_lag_samples": lag,
            "fisher_z": fisher_z,
            "absolute": absolute,
        },
    )


def _clean_windows(
    xs: np.ndarray, ys: np.ndarray, win: int, lag: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pearson r at every lag for windows without missing values; rows of ``xs``/``ys`` are window spans.

    Also returns which windows are ill-conditioned for this formulation (a lag's variance tiny next to the sums
    of squares it is computed from, e.g. a still stretch beside a burst): those are recomputed exactly.
    """
    import scipy.fft as sfft

    n_w, span = xs.shape
    lags = np.arange(-lag, lag + 1)
    ox = np.maximum(0, -lags)  # offset of the x range in the span, per lag
    oy = np.maximum(0, lags)
    # Centre each span by its own mean: the sums below then hold deviations, not pixel counts in the thousands.
    xc = xs - xs.mean(axis=1, keepdims=True)
    yc = ys - ys.mean(axis=1, keepdims=True)
    cx, cxx, cy, cyy = (np.zeros((n_w, span + 1)) for _ in range(4))
    np.cumsum(xc, axis=1, out=cx[:, 1:])
    np.cumsum(xc * xc, axis=1, out=cxx[:, 1:])
    np.cumsum(yc, axis=1, out=cy[:, 1:])
    np.cumsum(yc * yc, axis=1, out=cyy[:, 1:])
    sx, sxx = cx[:, ox + win] - cx[:, ox], cxx[:, ox + win] - cxx[:, ox]
    sy, syy = cy[:, oy + win] - cy[:, oy], cyy[:, oy + win] - cyy[:, oy]
    # Lagged cross-products: for L >= 0, sum_i x[i] y[i + L]; for L < 0, sum_i x[i + |L|] y[i]; i < win.
    # Circular correlation is enough: i + L <= win - 1 + lag < span <= nfft, so nothing wraps around.
    nfft = sfft.next_fast_len(span, real=True)
    fy, fx = sfft.rfft(yc, nfft, axis=1), sfft.rfft(xc, nfft, axis=1)
    pos = sfft.irfft(np.conj(sfft.rfft(xc[:, :win], nfft, axis=1)) * fy, nfft, axis=1)[:, : lag + 1]
    neg = sfft.irfft(np.conj(sfft.rfft(yc[:, :win], nfft, axis=1)) * fx, nfft, axis=1)[:, 1 : lag + 1]
    sxy = np.hstack([neg[:, ::-1], pos])
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / win
        vx = sxx - sx * sx / win
        vy = syy - sy * sy / win
        r = np.clip(cov / np.sqrt(vx * vy), -1.0, 1.0)
    # Rounding of the prefix sums and of the FFT is about 1e-16 of the span's sums of squares; relative to a lag's
    # variance it grows by their ratio. Where a variance is below 1e-4 of those sums (errors could exceed 1e-12),
    # or is zero (a constant range: no correlation), the window is done directly and exactly.
    shaky = np.any(~(vx > 1e-4 * cxx[:, -1:]) | ~(vy > 1e-4 * cyy[:, -1:]), axis=1)
    # rMEA's rule: fewer than two pairs that differ -> missing. Such a lag has sum(d^2) == (sum d)^2 for
    # d = x - y; only lags that come close to that are counted exactly.
    delta = (xs.mean(axis=1) - ys.mean(axis=1))[:, None]
    sd = sx - sy + win * delta
    sdd = sxx + syy - 2 * sxy + 2 * delta * (sx - sy) + win * delta * delta
    scale = sdd + sd * sd + sxx + syy + 1e-300
    for w, j in zip(*np.nonzero(np.abs(sdd - sd * sd) <= 1e-6 * scale)):
        x = xs[w, ox[j] : ox[j] + win]
        y = ys[w, oy[j] : oy[j] + win]
        if np.count_nonzero(x != y) < 2:
            r[w, j] = np.nan
    return r, np.full(r.shape, win, dtype=np.int64), shaky


def _window_with_missing(xs: np.ndarray, ys: np.ndarray, win: int, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r at every lag of one window span, directly: complete pairs, exact two-pass."""
    lags = np.arange(-lag, lag + 1)
    ox = np.maximum(0, -lags)
    oy = np.maximum(0, lags)
    vx = np.lib.stride_tricks.sliding_window_view(xs, win)[ox]  # (n_lags, win)
    vy = np.lib.stride_tricks.sliding_window_view(ys, win)[oy]
    complete = not (np.isnan(xs).any() or np.isnan(ys).any())
    ok = np.ones(vx.shape, dtype=bool) if complete else np.isfinite(vx) & np.isfinite(vy)
    cnt = ok.sum(axis=1)
    r = np.full(len(lags), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        if complete:
            dx = vx - vx.mean(axis=1, keepdims=True)
            dy = vy - vy.mean(axis=1, keepdims=True)
            const_x = vx.max(axis=1) == vx.min(axis=1)
            const_y = vy.max(axis=1) == vy.min(axis=1)
            differ = (vx != vy).sum(axis=1)
        else:
            x, y = np.where(ok, vx, 0.0), np.where(ok, vy, 0.0)
            dx = np.where(ok, x - (x.sum(axis=1) / cnt)[:, None], 0.0)
            dy = np.where(ok, y - (y.sum(axis=1) / cnt)[:, None], 0.0)
            big = np.finfo(float).max
            const_x = np.where(ok, vx, -big).max(axis=1) == np.where(ok, vx, big).min(axis=1)
            const_y = np.where(ok, vy, -big).max(axis=1) == np.where(ok, vy, big).min(axis=1)
            differ = (ok & (vx != vy)).sum(axis=1)
        rr = np.einsum("ij,ij->i", dx, dy) / np.sqrt(np.einsum("ij,ij->i", dx, dx) * np.einsum("ij,ij->i", dy, dy))
    good = (cnt >= 2) & ~const_x & ~const_y & (differ >= 2)
    r[good] = np.clip(rr[good], -1.0, 1.0)
    return r, cnt.astype(np.int64)


def rmea_summaries(wcc: WCC) -> pd.DataFrame:
    """rMEA's per-window ``ccfRes`` summaries of a :func:`mea_ccf` result (or any WCC), with rMEA's names.

    Parameters
    ----------
    wcc : WCC

    Returns
    -------
    DataFrame
        One row per window: ``all_lags``, ``s1_lead`` (mean over positive lags: A leads, B follows),
        ``s2_lead`` (negative lags), ``lag_zero``, ``s1_lead_0`` and ``s2_lead_0`` (the same including lag 0),
        ``bestLag`` (s, the first lag of the largest value), ``grandAver`` (the grand mean, repeated on every row
        as rMEA writes it), ``win_start`` and ``win_end`` (``hh:mm:ss``, rMEA's ``winTimes``: start + window).
        With a zero lag range the lead columns are NaN (rMEA leaves them out).
    """
    v = check_wcc(wcc).values
    lags = wcc.lags_s
    pos, neg, zero = lags > 0, lags < 0, lags == 0
    with quiet_nanmean():
        table = pd.DataFrame(
            {
                "all_lags": np.nanmean(v, axis=1),
                "s1_lead": np.nanmean(v[:, pos], axis=1) if pos.any() else np.nan,
                "s2_lead": np.nanmean(v[:, neg], axis=1) if neg.any() else np.nan,
                "lag_zero": v[:, np.flatnonzero(zero)[0]],
                "s1_lead_0": np.nanmean(v[:, pos | zero], axis=1) if pos.any() else np.nan,
                "s2_lead_0": np.nanmean(v[:, neg | zero], axis=1) if neg.any() else np.nan,
            }
        )
        grand = float(np.nanmean(v)) if np.isfinite(v).any() else np.nan
    best = np.full(len(v), np.nan)
    rows = np.isfinite(v).any(axis=1)
    if rows.any():
        first_max = np.nanargmax(np.where(np.isfinite(v[rows]), v[rows], -np.inf), axis=1)
        # rMEA parses the lag back from its column name, which R prints with 15 significant digits.
        labels = np.array([float(_r_number(lg / wcc.rate_hz)) for lg in wcc.lags])
        best[rows] = labels[first_max]
    table["bestLag"] = best
    table["grandAver"] = grand
    step = wcc.params.get("step_s", np.nan)
    window = wcc.params.get("window_s", np.nan)
    begin = np.arange(len(v)) * step
    table["win_start"] = [_hms(s) for s in begin]
    table["win_end"] = [_hms(s + window) for s in begin]
    return table


def lag_column_names(lags_s: Sequence[float]) -> list[str]:
    """rMEA's column names of the lag table: ``lag`` + the lag in seconds as R prints it (``lag-4.96``)."""
    return [f"lag{_r_number(x)}" for x in as_array("lags_s", lags_s)]


def _r_number(x: float) -> str:
    """A number as R's ``paste0`` prints it (15 significant digits, no trailing zeros)."""
    text = f"{x:.15g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{'-' if exp.startswith('-') else '+'}{int(exp.lstrip('+-')):02d}"
    return text


def _hms(seconds: float) -> str:
    """``hh:mm:ss`` as rMEA's ``timeMaster(out = "hour")`` writes whole seconds."""
    total = float(seconds)
    mins = math.floor(total / 60)
    secs = total - mins * 60
    hours, mins = divmod(mins, 60)
    sec_text = f"{int(secs):02d}" if secs == int(secs) else f"{secs:05.2f}"
    return f"{hours:02d}:{mins:02d}:{sec_text}"
