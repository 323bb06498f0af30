"""Statistics shared by every layer: permutation p values, effect sizes, multiple testing and combination.

The moments analyses, the surrogate tests of the synchrony engine and the across-dyad models all take their p
values, effect sizes and FDR corrections from here, so that one formula serves every table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ._validate import check_option

#: The alternatives of every test (``greater``: synchrony higher than chance).
ALTERNATIVES = ("greater", "less", "two-sided")


def permutation_test(
    observed: float, null: np.ndarray, alternative: str = "greater", *, discrete: bool = False
) -> dict[str, Any]:
    """Compare an observed statistic with its null distribution (surrogates, shifts, permutations).

    Parameters
    ----------
    observed : float
    null : ndarray
        Statistic under each surrogate; non-finite values are left out.
    alternative : {"greater", "less", "two-sided"}
    discrete : bool, default False
        For statistics that take few values (rates, F1), null values equal to the observed one count half (the
        mid-p of Lancaster 1961): counting them all makes such tests conservative (the benchmark measures 2-4% at
        alpha = .05); ``p_conservative`` keeps the full count. (Breaking ties at random instead would be exact for
        one session, but with one seed for a whole study every session would share the same random draw.)

    Returns
    -------
    dict
        ``p_value`` = (1 + surrogates at least as extreme) / (1 + surrogates) (Phipson & Smyth 2010; two-sided:
        distance from the null mean); ``z_surrogate`` = probit of the mid-rank one-sided p (positive: above the
        null; exactly standard-normal-like under the null, which makes it the right input for Stouffer's
        combination); ``null_mean``, ``null_sd``, ``z_vs_null`` = (observed - null mean) / null SD, ``n_null``.
    """
    check_option("alternative", alternative, ALTERNATIVES)
    null = np.asarray(null, dtype=float)
    null = null[np.isfinite(null)]
    n = len(null)
    if n == 0 or not np.isfinite(observed):
        return {"p_value": np.nan, "p_conservative": np.nan, "share_tied": np.nan, "z_surrogate": np.nan,
                "null_mean": np.nan, "null_sd": np.nan, "z_vs_null": np.nan, "n_null": n}
    mean = float(null.mean())
    sd = float(null.std(ddof=1)) if n > 1 else np.nan
    greater = int(np.sum(null > observed))
    n_ties = int(np.sum(null == observed))
    if alternative == "greater":
        strict, tied = greater, n_ties
    elif alternative == "less":
        strict, tied = int(np.sum(null < observed)), n_ties
    else:
        d, d_obs = np.abs(null - mean), abs(observed - mean)
        strict, tied = int(np.sum(d > d_obs + 1e-12)), int(np.sum(np.abs(d - d_obs) <= 1e-12))
    p_conservative = (1 + strict + tied) / (1 + n)
    p = (1 + strict + (0.5 * tied if discrete else tied)) / (1 + n)
    # Mid-rank p of "greater": uniform on (0, 1) under exchangeability, symmetric, never 0 or 1.
    p_mid = (greater + 0.5 * n_ties + 0.5) / (n + 1)
    return {
        "p_value": float(p),
        "p_conservative": float(p_conservative),
        "share_tied": tied / n,
        "z_surrogate": float(stats.norm.isf(p_mid)),
        "null_mean": mean,
        "null_sd": sd,
        "z_vs_null": (observed - mean) / sd if sd and np.isfinite(sd) and sd > 0 else np.nan,
        "n_null": n,
    }


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d of ``a`` against ``b`` with the pooled SD (NaN values dropped)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    pooled = ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
    return float((a.mean() - b.mean()) / np.sqrt(pooled)) if pooled > 0 else float("nan")


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> float:
    """Cliff's delta: P(a > b) - P(a < b) over all pairs (NaN values dropped); computed by ranks, O(n log n)."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    b_sorted = np.sort(b)
    below = np.searchsorted(b_sorted, a, side="left")  # b < a
    above = len(b) - np.searchsorted(b_sorted, a, side="right")  # b > a
    return float((below.sum() - above.sum()) / (len(a) * len(b)))


def fdr_bh(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p values (q values); NaN stays NaN and is not counted."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(adjusted, 0, 1)
    q[ok] = out
    return q


def stouffer(z: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Stouffer's combined z: sum(w z) / sqrt(sum(w^2)) over finite z."""
    z = np.asarray(z, float)
    w = np.ones_like(z) if weights is None else np.asarray(weights, float)
    ok = np.isfinite(z) & np.isfinite(w)
    if not ok.any():
        return float("nan")
    return float(np.sum(w[ok] * z[ok]) / np.sqrt(np.sum(w[ok] ** 2)))


def p_from_z(z: float, alternative: str = "greater") -> float:
    """Normal-theory p value of a z statistic."""
    check_option("alternative", alternative, ALTERNATIVES)
    if not np.isfinite(z):
        return float("nan")
    if alternative == "greater":
        return float(stats.norm.sf(z))
    if alternative == "less":
        return float(stats.norm.cdf(z))
    return float(2 * stats.norm.sf(abs(z)))
