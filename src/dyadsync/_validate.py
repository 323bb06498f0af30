"""Central validators, so that every public function rejects bad arguments with the same kind of message.

A bad argument (wrong type, out of range) is a :class:`~dyadsync.errors.ConfigError`; data that cannot be used
(an array of the wrong shape, a table without the columns needed) an :class:`~dyadsync.errors.AnalysisError`.
The checks return the value converted where the caller needs it; callers record a parameter as it was given.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from .errors import AnalysisError, ConfigError


def check_option(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise ConfigError listing the choices."""
    allowed = list(allowed)
    if value not in allowed:
        hint = suggest(str(value), [str(a) for a in allowed])
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}{hint}")
    return value


def suggest(word: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def rng_from(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The one randomness convention: a ``seed`` argument is an int (a new Generator seeded with it), a
    :class:`numpy.random.Generator` (used as it is, so a caller can thread one stream through several calls) or
    None (fresh entropy: not reproducible). Anything else is a ConfigError."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be a whole number >= 0, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)


def seed_value(seed: int | np.random.Generator | None) -> int | None:
    """What to record as the seed: the integer, or None for a Generator passed in."""
    return None if isinstance(seed, np.random.Generator) else seed


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a float if it is a finite real number (not a bool) within ``[low, high]``, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    if (low is not None and v < low) or (high is not None and v > high):
        bounds = f"between {low:g} and {high:g}" if low is not None and high is not None else (
            f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise ConfigError(f"{name} must be {bounds}, got {value!r}")
    return v


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite real number (not a bool, not a string) above 0 (or equal, if allowed)."""
    v = check_real(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        raise ConfigError(f"{name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def check_integer(name: str, value: Any, *, low: int) -> int:
    """``value`` as an int if it is a whole number (not a bool, not a float) of at least ``low``, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def check_names(name: str, value: Any, *, n: int | None = None) -> list[str]:
    """``value`` as a list if it is a sequence of distinct strings (of ``n`` of them when given), else ConfigError."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ConfigError(f"{name} must be a sequence of names, got {value!r}")
    out = list(value)
    if not all(isinstance(v, str) and v for v in out) or len(set(out)) != len(out):
        raise ConfigError(f"{name} must be distinct non-empty strings, got {out!r}")
    if n is not None and len(out) != n:
        raise ConfigError(f"{name} must name {n}, got {len(out)}: {out!r}")
    return out


def check_array(name: str, value: Any, *, ndim: int | None = 1, length: int | None = None) -> np.ndarray:
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


def check_table(name: str, value: Any, columns: Sequence[str]) -> Any:
    """``value`` if it is a DataFrame holding ``columns`` (ConfigError when it is no DataFrame, else AnalysisError)."""
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise ConfigError(f"{name} must be a DataFrame, got {type(value).__name__}")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise AnalysisError(f"{name} lacks the column(s) {', '.join(missing)} (it has: {', '.join(map(str, value.columns))})")
    return value


def check_path(name: str, value: Any) -> Any:
    """``value`` if it is a file path (str or path-like), else ConfigError."""
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigError(f"{name} must be a file path, got {value!r}")
    return value
