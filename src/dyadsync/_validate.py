"""Central validators, so that every public function rejects bad parameters with the same kind of message."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .errors import ConfigError


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float if it is finite and positive (or zero when allowed), else raise ConfigError."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


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
    None (fresh entropy: not reproducible)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def seed_value(seed: int | np.random.Generator | None) -> int | None:
    """What to record as the seed: the integer, or None for a Generator passed in."""
    return None if isinstance(seed, np.random.Generator) else seed
