"""A literal, slow transcription of rMEA 1.3.0's R code (MEAccf, MEAsmooth's sasFiltB, MEAscale, cor).

Independent of dyadsync's vectorised engine on purpose: loops over windows and lags, 1-based R indices turned
into Python slices one by one, R's ``from:to`` and index truncation spelled out, R's two-pass correlation with
its mean refinement. It is validated against rMEA's real output (``tests/test_rmea.py``) and then used as the
reference for the dyads and settings that have no rMEA output here.
"""

from __future__ import annotations

import math

import numpy as np

FLT_EPSILON = 1.1920928955078125e-07


def r_mean(x: np.ndarray) -> float:
    """R's MEAN macro in cov.c: sum / n, then one refinement pass."""
    n = len(x)
    tmp = float(np.sum(x)) / n
    if math.isfinite(tmp):
        tmp = tmp + float(np.sum(x - tmp)) / n
    return tmp


def r_cor_complete(x: np.ndarray, y: np.ndarray, complete: bool = False) -> float:
    """``cor(x, y, use = "complete.obs")`` for two vectors: NA for fewer than 2 pairs or a zero SD.

    ``complete=True`` says the caller knows there is no NA (skips the filtering, same result).
    """
    if not complete:
        ok = ~(np.isnan(x) | np.isnan(y))
        x, y = x[ok], y[ok]
    n = len(x)
    if n < 2:
        return math.nan
    xm, ym = r_mean(x), r_mean(y)
    n1 = n - 1
    dx, dy = x - xm, y - ym
    cov = float(dx @ dy) / n1
    xsd = math.sqrt(float(dx @ dx) / n1)
    ysd = math.sqrt(float(dy @ dy) / n1)
    if xsd == 0 or ysd == 0:
        return math.nan
    r = cov / (xsd * ysd)
    return max(-1.0, min(1.0, r))


def mea_ccf(x, y, samp_rate, lag_sec, win_sec, inc_sec, r2z=True, abs_=True):
    """MEAccf.MEA: returns the windows x lags matrix as a NumPy array."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    win = int(win_sec * samp_rate)
    lag_samp = int(lag_sec * samp_rate)
    ran = list(range(-lag_samp, lag_samp + 1))
    inc = int(inc_sec * samp_rate)
    n_win = math.ceil((len(x) - win - lag_samp + 1) / inc)
    assert n_win > 0
    rows = []
    for i_win in range(n_win):  # lapply(seq_len(n_win) - 1, ...)
        ab_first, ab_last = i_win * inc + 1, i_win * inc + win + lag_samp  # 1-based, inclusive
        x_win = x[ab_first - 1 : ab_last]
        y_win = y[ab_first - 1 : ab_last]
        if max(np.isnan(x_win).sum(), np.isnan(y_win).sum()) > len(x_win) / 2:
            rows.append([math.nan] * len(ran))
            continue
        res = []
        has_na = bool(np.isnan(x_win).any() or np.isnan(y_win).any())
        for i_lag in ran:
            big_lag = abs(i_lag)
            x_range = (1, win)  # 1:(win)
            y_range = (big_lag + 1, win + big_lag)  # (LAG+1):(win+LAG)
            if i_lag < 0:
                x_range, y_range = y_range, x_range
            xv = x_win[x_range[0] - 1 : x_range[1]]
            yv = y_win[y_range[0] - 1 : y_range[1]]
            if has_na:
                both = ~(np.isnan(xv) | np.isnan(yv))
                n_differ = int(np.count_nonzero(xv[both] != yv[both]))
            else:
                n_differ = int(np.count_nonzero(xv != yv))
            if n_differ < 2:  # sum(x != y, na.rm = T) < 2
                res.append(math.nan)
            else:
                res.append(r_cor_complete(xv, yv, complete=not has_na))
        rows.append(res)
    ccf = np.array(rows, dtype=float)
    if r2z:
        with np.errstate(divide="ignore", invalid="ignore"):
            ccf = np.arctanh(ccf)
        ccf[ccf > 10] = 10
        ccf[ccf < -10] = -10
    if abs_:
        ccf = np.abs(ccf)
    return ccf


def sas_filt_b(a, samp_rate, win_sec=0.5):
    """sasFiltB: for each t, sum(a[i1:i2]) / n with R's sequence and indexing rules; NA -> 0."""
    a = [float(v) for v in a]
    size = len(a)
    n = win_sec * samp_rate
    out = np.empty(size)
    for t in range(1, size + 1):
        i1 = t - (n - 1) / 2
        if i1 < 1:
            i1 = 1
        i2 = t + (n - 1) / 2
        count = int(abs(i2 - i1) + 1 + FLT_EPSILON)  # R's from:to length
        step = 1 if i2 >= i1 else -1
        total = 0.0
        for k in range(count):
            index = int(i1 + step * k)  # R truncates a fractional index
            total += a[index - 1] if 1 <= index <= size else math.nan  # past the end: NA
        res = total / n
        out[t - 1] = 0.0 if math.isnan(res) else res
    return out


def mea_smooth(x, samp_rate, win_sec=0.5):
    """MEAsmooth (rMEA 1.3.0): sasFiltB, then the input's NA positions are NA again."""
    x = np.asarray(x, dtype=float)
    out = sas_filt_b(x, samp_rate, win_sec)
    out[np.isnan(x)] = math.nan
    return out


def mea_scale(x):
    """MEAscale(scale = "sd", center = FALSE, removeNA = TRUE): x / sd(na.omit(x))."""
    x = np.asarray(x, dtype=float)
    kept = x[~np.isnan(x)]
    m = r_mean(kept)
    sd = math.sqrt(float(np.sum((kept - m) ** 2)) / (len(kept) - 1))
    return x / sd
