"""Argument checks at the boundary of the public feature functions.

A bad argument (wrong type, out of range) is a :class:`~dyadsync.errors.ConfigError`; data that cannot be used
(an array of the wrong shape, a table without the columns needed) an :class:`~dyadsync.errors.AnalysisError`.
These complete :mod:`dyadsync._validate` (``check_positive``, ``check_option``) for what only the extractors need;
the checks return the value converted where the caller needs it, and callers that record a parameter record it as
it was given.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from ..errors import AnalysisError, ConfigError


def real(name: str, value: Any, *, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a float if it is a finite real number (not a bool) within ``[low, high]``, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    if (low is not None and v < low) or (high is not None and v > high):
        bounds = f"between {low:g} and {high:g}" if low is not None and high is not None else (
            f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise ConfigError(f"{name} must be {bounds}, got {value!r}")
    return v


def positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite real number (not a bool, not a string) above 0 (or equal, if allowed)."""
    v = real(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        raise ConfigError(f"{name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def integer(name: str, value: Any, *, low: int) -> int:
    """``value`` as an int if it is a whole number (not a bool, not a float) of at least ``low``, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def names(name: str, value: Any, *, n: int | None = None) -> list[str]:
    """``value`` as a list if it is a sequence of distinct strings (of ``n`` of them when given), else ConfigError."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigError(f"{name} must be a sequence of names, got {value!r}")
    out = list(value)
    if not all(isinstance(v, str) and v for v in out) or len(set(out)) != len(out):
        raise ConfigError(f"{name} must be distinct non-empty strings, got {out!r}")
    if n is not None and len(out) != n:
        raise ConfigError(f"{name} must name {n}, got {len(out)}: {out!r}")
    return out


def samples(name: str, value: Any, *, ndim: int | None = 1, length: int | None = None) -> np.ndarray:
    """``value`` as a numeric array with ``ndim`` dimensions (any, for None; ``length`` along the last one when given).

    Raises ConfigError when it is not numeric, AnalysisError when its shape does not fit.
    """
    arr = None
    if value is not None and not isinstance(value, (str, bytes, Mapping)):
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged nesting
            arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise ConfigError(f"{name} must be a numeric array, got {type(value).__name__}")
    if ndim is not None and arr.ndim != ndim:
        raise AnalysisError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if length is not None and arr.shape[-1] != length:
        raise AnalysisError(f"{name} must hold {length} values along its last axis, got shape {arr.shape}")
    return arr


def table(name: str, value: Any, columns: Sequence[str]) -> Any:
    """``value`` if it is a DataFrame holding ``columns`` (ConfigError when it is no DataFrame, else AnalysisError)."""
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise ConfigError(f"{name} must be a DataFrame, got {type(value).__name__}")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise AnalysisError(f"{name} lacks the column(s) {', '.join(missing)} (it has: {', '.join(map(str, value.columns))})")
    return value


def path(name: str, value: Any) -> Any:
    """``value`` if it is a file path (str or path-like), else ConfigError."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"{name} must be a file path, got {value!r}")
    return value
