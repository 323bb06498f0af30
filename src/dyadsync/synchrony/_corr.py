"""Helpers shared by the synchrony engines (private to the package; the names are public within it).

Every engine (windowed cross-correlation, the rMEA-compatible mode, the circular-shift surrogates, SUSY) turns
pair sums into Pearson r the same way, applies Fisher's z and the absolute value the same way and checks its two
series the same way: one copy of each here keeps the engines' numbers equal to each other.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._validate import rng_from
from ..errors import AnalysisError, ConfigError
from .results import WCC

#: Fisher z values are clipped to +-Z_CLIP (r = +-1 would be infinite).
Z_CLIP = 10.0


# ------------------------------------------------------------------------------------------ argument checks
# Every public synchrony function checks its arguments with these, so that a wrong argument is a ConfigError and
# unusable data an AnalysisError (never a bare TypeError or ValueError from deep inside numpy).


def as_array(name: str, x: Any, *, ndim: tuple[int, ...] = (1,)) -> np.ndarray:
    """``x`` as a float array with one of the allowed numbers of dimensions, else an AnalysisError."""
    try:
        out = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{name} must be numeric: {exc}") from None
    if out.ndim not in ndim:
        dims = " or ".join(f"{d}-D" for d in ndim)
        raise AnalysisError(f"{name} must be {dims}, got shape {out.shape}")
    return out


def series_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two persons' series as 1-D float arrays of equal length, or an AnalysisError saying what is wrong."""
    try:
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"series must be numeric arrays: {exc}") from None
    if a.shape != b.shape or a.ndim != 1:
        raise AnalysisError(f"series must be 1-D and of equal length, got {a.shape} and {b.shape}")
    return a, b


def count(name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum`` (an integral float is accepted), else a ConfigError."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok and isinstance(value, (float, np.floating)) and float(value).is_integer():
        ok, value = True, int(value)
    if not ok or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def number(name: str, value: Any) -> float:
    """``value`` as a finite float, else a ConfigError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return v


def generator(seed: Any) -> np.random.Generator:
    """:func:`dyadsync._validate.rng_from`, with a seed numpy cannot use reported as a ConfigError."""
    try:
        return rng_from(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"seed must be a non-negative int, a numpy Generator or None, got {seed!r}") from None


def two_persons(persons: Any) -> Any:
    """``persons`` if it holds two different names (str), else a ConfigError; returned as given."""
    try:
        ok = len(persons) == 2 and all(isinstance(p, str) for p in persons) and persons[0] != persons[1]
    except (TypeError, KeyError, IndexError):
        ok = False
    if not ok or isinstance(persons, str):
        raise ConfigError(f"persons must be the names of two different persons (A, B), got {persons!r}")
    return persons


def check_wcc(wcc: Any) -> WCC:
    """``wcc`` if it is a :class:`WCC`, else a ConfigError naming what it is."""
    if not isinstance(wcc, WCC):
        raise ConfigError(
            f"expected a WCC (the result of windowed_cross_correlation or mea_ccf), got {type(wcc).__name__}"
        )
    return wcc


# ------------------------------------------------------------------------------------------------ arithmetic


def pearson_from_sums(
    cnt: np.ndarray | float,
    sx: np.ndarray,
    sy: np.ndarray,
    sxx: np.ndarray,
    syy: np.ndarray,
    sxy: np.ndarray,
) -> np.ndarray:
    """Pearson r from pair sums (count, sums, sums of squares, sum of cross-products; arrays broadcast); a
    variance at rounding level counts as none (a constant stretch)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / cnt
        vx = sxx - sx * sx / cnt
        vy = syy - sy * sy / cnt
        tiny = 1e-12 * (sxx + syy + 1e-300)
        r = np.where((vx > tiny) & (vy > tiny), cov / np.sqrt(vx * vy), np.nan)
    return np.clip(r, -1.0, 1.0)


def z_from_r(r: np.ndarray) -> np.ndarray:
    """Fisher's z = artanh(r), clipped to +-:data:`Z_CLIP` (r = +-1 gives the clip, NaN stays NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.arctanh(r), -Z_CLIP, Z_CLIP)


def transform(r: np.ndarray, *, fisher_z: bool, absolute: bool) -> np.ndarray:
    """The engines' transforms of correlations: Fisher's z (clipped) when asked, then the absolute value."""
    values = z_from_r(r) if fisher_z else r
    return np.abs(values) if absolute else values



def wcc_result(
    r: np.ndarray,
    n_pairs: np.ndarray,
    *,
    starts: np.ndarray,
    span: int,
    lags: np.ndarray,
    rate_hz: float,
    t0_s: float,
    fisher_z: bool,
    absolute: bool,
    params: dict[str, Any],
) -> WCC:
    """A :class:`WCC` from an engine's correlations per window and lag.

    ``starts`` are the windows' first samples, ``span`` the samples a window covers (its stamp is the centre of
    that span), ``lags`` the lags in samples; the transforms are applied here.
    """
    starts_s = t0_s + starts / rate_hz
    ends_s = t0_s + (starts + span - 1) / rate_hz
    return WCC(
        values=transform(r, fisher_z=fisher_z, absolute=absolute),
        lags_s=np.round(lags / rate_hz, 9),
        times_s=(starts_s + ends_s) / 2,
        starts_s=starts_s,
        ends_s=ends_s,
        n_pairs=n_pairs,
        rate_hz=float(rate_hz),
        params=params,
    )


@contextlib.contextmanager
def quiet_nanmean() -> Iterator[None]:
    """Silence numpy's "Mean of empty slice" for all-NaN rows: NaN is the intended answer there."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def row_summary(z: np.ndarray, summary: str, max_lag: int) -> np.ndarray:
    """Per-row summary of (surrogates x lags) values: ``"lag0"`` (column ``max_lag``), ``"mean"`` or ``"best"``
    (the largest finite value; NaN where a row has none)."""
    if summary == "lag0":
        return z[:, max_lag]
    if summary == "mean":
        return np.nanmean(z, axis=1)
    filled = np.where(np.isfinite(z), z, -np.inf).max(axis=1)
    return np.where(np.isfinite(filled), filled, np.nan)
