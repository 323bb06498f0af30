"""SUSY-style segment indices of synchrony (Tschacher & Haken, 2019; R package SUSY).

Surrogate Synchrony (SUSY) cuts both series into consecutive, non-overlapping segments; in each segment it takes
the cross-correlation function (R's ``ccf``: each segment's own mean removed, sums over the overlapping samples
divided by the segment length) at lags ``-max_lag .. +max_lag``, Fisher-z transforms it, and averages over
segments. The same is done for every pairing of person A's segment ``i`` with person B's segment ``h != i``
(the surrogates: same material, no real-time coupling). The synchrony index ``Z`` is the mean over lags of the
real profile of absolute z values, ``Z_pseudo`` the same for the surrogates, and the effect size
``ES = (Z - Z_pseudo) / SD(surrogate profile)``. Signed ("noAbs") versions keep in-phase and anti-phase apart.

Differences from SUSY, on purpose and documented: lags follow dyadsync's convention (positive: B follows A;
SUSY's ``lead1`` is ``a_leads`` here), z is clipped to +-10 (SUSY gives infinity for r = +-1), and a segment in
which a person does not move contributes nothing to the sums but still counts in the averages (as in SUSY).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_positive
from ..errors import AnalysisError, ConfigError
from ._corr import series_pair, z_from_r


@dataclass
class SusyResult:
    """Result of :func:`susy`.

    Attributes
    ----------
    indices : dict
        ``n_samples`` (complete pairs used), ``n_segments``, ``n_lags``, ``z``, ``z_pseudo``, ``z_sd``,
        ``z_pseudo_sd``, ``pct_above_pseudo``, ``es``, ``z_a_leads``, ``z_b_leads``, ``es_a_leads``,
        ``es_b_leads``, and the signed versions ``z_inphase``, ``z_antiphase``, ``n_inphase``, ``n_antiphase``,
        ``z_noabs``, ``z_pseudo_noabs``, ``pct_above_pseudo_noabs``, ``es_noabs`` (SUSY's output columns, renamed).
    lag_profile : DataFrame
        Per lag: ``lag_s`` (positive: B follows A), ``z``, ``z_pseudo`` (mean |z|), ``z_noabs``,
        ``z_pseudo_noabs`` (mean signed z), ``r``, ``r_pseudo`` (mean |r|).
    segments : DataFrame
        Per segment: ``segment``, ``start_s``, ``sync`` (mean |r| over lags; SUSY's ``nReal``) and ``pseudo``
        (the same over its surrogate pairings; ``nPseudo``).
    params : dict
    """

    indices: dict[str, float]
    lag_profile: pd.DataFrame
    segments: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


def segment_ccf(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """R's ``ccf(x, y, lag.max = max_lag)`` for every pair of segments, in dyadsync's lag order.

    Parameters
    ----------
    x, y : ndarray, shape (n_segments, n)
        Segments of A and of B, without missing values.
    max_lag : int
        Largest lag in samples.

    Returns
    -------
    ndarray, shape (n_segments, n_segments, 2 * max_lag + 1)
        ``out[i, h, max_lag + L]`` is the correlation of A's segment ``i`` at ``t`` with B's segment ``h`` at
        ``t + L`` (positive L: B follows A), computed as ``ccf`` does: segment means removed, the sum over the
        ``n - |L|`` overlapping samples divided by ``n``, over the product of the lag-0 standard deviations
        (also with ``n``). NaN where a segment has no variance.
    """
    import scipy.fft as sfft

    n_seg, n = x.shape
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    sx = np.sqrt((xc * xc).sum(axis=1) / n)
    sy = np.sqrt((yc * yc).sum(axis=1) / n)
    nfft = sfft.next_fast_len(n + max_lag, real=True)
    fx, fy = sfft.rfft(xc, nfft, axis=1), sfft.rfft(yc, nfft, axis=1)
    lags = np.arange(-max_lag, max_lag + 1)
    out = np.empty((n_seg, n_seg, len(lags)))
    for i in range(n_seg):
        c = sfft.irfft(np.conj(fx[i])[None, :] * fy, nfft, axis=1)  # c[h, m] = sum_t x_i[t] y_h[t + m]
        out[i] = c[:, lags % nfft] / n
    with np.errstate(invalid="ignore", divide="ignore"):
        out /= sx[:, None, None] * sy[None, :, None]
    out[~np.isfinite(out)] = np.nan
    return out


def susy(a: np.ndarray, b: np.ndarray, *, rate_hz: float, segment_s: float, max_lag_s: float = 3.0) -> SusyResult:
    """SUSY segment indices of two series (Tschacher & Haken, 2019).

    Parameters
    ----------
    a, b : array_like, shape (n,)
        Person A's and person B's series at ``rate_hz``; rows where either is missing are dropped first
        (as SUSY does).
    rate_hz : float
        Sampling rate in Hz.
    segment_s : float
        Segment length in seconds (at least twice ``max_lag_s``, at most half the series).
    max_lag_s : float, default 3
        Largest lag in seconds (SUSY's ``maxlag``).

    Returns
    -------
    SusyResult

    Raises
    ------
    ConfigError
        When a duration is not a whole number of samples or the segment is out of range.
    AnalysisError
        When fewer than two segments fit.
    """
    a, b = series_pair(a, b)
    rate_hz = check_positive("rate_hz", rate_hz)
    seg = int(round(check_positive("segment_s", segment_s) * rate_hz))
    lag = int(round(check_positive("max_lag_s", max_lag_s, allow_zero=True) * rate_hz))
    for name, value, k in (("segment_s", segment_s, seg), ("max_lag_s", max_lag_s, lag)):
        if abs(value * rate_hz - k) > 1e-9 * max(1.0, k):
            raise ConfigError(f"{name} = {value:g} s is not a whole number of samples at {rate_hz:g} Hz")
    if seg < 2 * lag:
        raise ConfigError(f"segment_s ({segment_s:g} s) must be at least twice max_lag_s ({max_lag_s:g} s)")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if seg > len(a) / 2:
        raise ConfigError(
            f"segment_s ({segment_s:g} s) must not exceed half of the {len(a) / rate_hz:.1f} s of complete data"
        )
    n_seg = int(round(len(a) / seg - 0.499999))
    if n_seg < 2:
        raise AnalysisError("SUSY needs at least two segments")
    x = a[: n_seg * seg].reshape(n_seg, seg)
    y = b[: n_seg * seg].reshape(n_seg, seg)
    r = segment_ccf(x, y, lag)  # (i, h, lags)
    z = z_from_r(r)
    zf, rf = np.nan_to_num(z), np.nan_to_num(r)  # a segment without variance adds nothing (SUSY skips it)
    real = np.eye(n_seg, dtype=bool)
    n_pseudo = n_seg * (n_seg - 1)
    z_real = np.abs(zf[real]).sum(axis=0) / n_seg
    z_pseudo = np.abs(zf[~real]).sum(axis=0) / n_pseudo
    zs_real = zf[real].sum(axis=0) / n_seg
    zs_pseudo = zf[~real].sum(axis=0) / n_pseudo
    n_lags = 2 * lag + 1
    seg_real = np.abs(rf[real]).sum(axis=1) / n_lags
    seg_pseudo = (np.abs(rf).sum(axis=(1, 2)) - np.abs(rf[real]).sum(axis=1)) / ((n_seg - 1) * n_lags)
    a_leads, b_leads = slice(lag + 1, n_lags), slice(0, lag)

    def es(real_part: np.ndarray, pseudo_part: np.ndarray) -> float:
        sd = float(np.std(pseudo_part, ddof=1)) if len(pseudo_part) > 1 else np.nan
        return float((real_part.mean() - pseudo_part.mean()) / sd) if sd and sd > 0 else np.nan

    inphase, antiphase = zs_real[zs_real >= 0], zs_real[zs_real < 0]
    indices = {
        "n_samples": int(len(a)),
        "n_segments": n_seg,
        "n_lags": n_lags,
        "z": float(z_real.mean()),
        "z_pseudo": float(z_pseudo.mean()),
        "z_sd": float(np.std(z_real, ddof=1)) if n_lags > 1 else np.nan,
        "z_pseudo_sd": float(np.std(z_pseudo, ddof=1)) if n_lags > 1 else np.nan,
        "pct_above_pseudo": 100.0 * float(np.sum(z_real > z_pseudo)) / n_lags,
        "es": es(z_real, z_pseudo),
        "z_a_leads": float(z_real[a_leads].mean()) if lag else np.nan,
        "z_b_leads": float(z_real[b_leads].mean()) if lag else np.nan,
        "es_a_leads": es(z_real[a_leads], z_pseudo[a_leads]) if lag else np.nan,
        "es_b_leads": es(z_real[b_leads], z_pseudo[b_leads]) if lag else np.nan,
        "z_inphase": float(inphase.mean()) if inphase.size else np.nan,
        "z_antiphase": float(antiphase.mean()) if antiphase.size else np.nan,
        "n_inphase": int(inphase.size),
        "n_antiphase": int(antiphase.size),
        "z_noabs": float(zs_real.mean()),
        "z_pseudo_noabs": float(zs_pseudo.mean()),
        "pct_above_pseudo_noabs": 100.0 * float(np.sum(zs_real > zs_pseudo)) / n_lags,
        "es_noabs": es(zs_real, zs_pseudo),
    }
    lags_s = np.round(np.arange(-lag, lag + 1) / rate_hz, 9)
    profile = pd.DataFrame(
        {
            "lag_s": lags_s,
            "z": z_real,
            "z_pseudo": z_pseudo,
            "z_noabs": zs_real,
            "z_pseudo_noabs": zs_pseudo,
            "r": np.abs(rf[real]).sum(axis=0) / n_seg,
            "r_pseudo": np.abs(rf[~real]).sum(axis=0) / n_pseudo,
        }
    )
    segments = pd.DataFrame(
        {"segment": np.arange(1, n_seg + 1), "start_s": np.arange(n_seg) * seg / rate_hz, "sync": seg_real,
         "pseudo": seg_pseudo}
    )
    params = {"rate_hz": rate_hz, "segment_s": seg / rate_hz, "max_lag_s": lag / rate_hz,
              "segment_samples": seg, "max_lag_samples": lag, "n_dropped_missing": int((~keep).sum())}
    return SusyResult(indices, profile, segments, params)
