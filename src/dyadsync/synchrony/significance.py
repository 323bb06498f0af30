"""Where real synchrony falls among surrogates: one dyad (:func:`compare`) and a group of dyads
(:func:`compare_groups`).

Both give the p-value with the +1 correction of Phipson & Smyth (2010), ``(1 + #{null >= real}) / (1 + n)``, so
that p is never 0 with a finite number of surrogates.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ..errors import AnalysisError
from ..stats import cohens_d
from ._corr import as_array, count, generator


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
    one_number = isinstance(real, numbers.Real) or (
        isinstance(real, np.ndarray) and real.shape == () and real.dtype.kind in "biuf"
    )
    if not one_number:
        raise AnalysisError(f"real must be one number, got {real!r}")
    null = as_array("null", null)
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
    real: Sequence[float],
    null: Sequence[float],
    *,
    seed: int | np.random.Generator | None = 0,
    n_draws: int = 9999,
) -> dict[str, float]:
    """A group of real dyads against the surrogates: Cohen's d, and the group mean against means of chance.

    Parameters
    ----------
    real : sequence of float
        The group's real values (e.g. each dyad's global index).
    null : sequence of float
        Surrogate values (e.g. pseudo-dyads' global indices).
    seed : int, numpy.random.Generator or None, default 0
        Draws the random subsets (an int seeds a new Generator; a Generator is used as it is).
    n_draws : int, default 9999
        Number of random subsets of the surrogates, each the size of the group.

    Returns
    -------
    dict
        ``n_real``, ``n_null``, ``real_mean``, ``null_mean``, ``d`` (Cohen's d, pooled SD, signed),
        ``percentile`` of the real group mean among the means of random surrogate subsets of the same size,
        and ``p`` = ``(1 + #{subset mean >= real mean}) / (1 + n_draws)``.
    """
    real = as_array("real", real)
    null = as_array("null", null)
    n_draws = count("n_draws", n_draws)
    rng = generator(seed)
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
