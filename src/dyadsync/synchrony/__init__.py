"""Synchrony between two persons' series: windowed cross-lagged correlation, its summaries, peak picking,
SUSY segment indices, surrogates and their comparison with the real synchrony, an rMEA-compatible mode, and
turn-based vocal synchrony.

>>> from dyadsync.synchrony import windowed_cross_correlation, summarize, circular_shift, compare

Lag convention everywhere: a positive lag means person B follows person A.

Modules (every name below is importable from ``dyadsync.synchrony`` itself):

================  ============================================================================================
``wcc``           :func:`windowed_cross_correlation` (the engine), :func:`summarize`, :func:`global_index`, the
                  synchrony table (:data:`SYNC_COLUMNS`, :func:`sync_table`, :func:`empty_sync_table`)
``results``       the result types :class:`WCC` and :class:`SurrogateResult`
``peaks``         Boker's peak picking: :func:`pick_peaks`, :func:`pick_peak_lags`
``indices``       SUSY segment indices: :func:`susy`, :class:`SusyResult`
``rmea``          rMEA 1.3.0 reproduced: :func:`mea_ccf`, :func:`mea_smooth`, :func:`mea_scale`,
                  :func:`rmea_summaries`, :func:`lag_column_names`
``shift``         circular-shift surrogates, every shift at once: :func:`circular_shift`
``surrogates``    segment shuffling, IAAFT and pseudo-dyads: :func:`segment_shuffle`, :func:`shuffle_segments`,
                  :func:`iaaft_surrogates`, :func:`iaaft`, :func:`pseudo_dyads`, :func:`pseudo_dyad_pairs`
``significance``  real against surrogate synchrony: :func:`compare`, :func:`compare_groups`
``entrainment``   vocal synchrony: :func:`vocal_synchrony`, :func:`entrainment_series`, :func:`turn_exchanges`,
                  :func:`arousal_synchrony`, :func:`vocal_arousal`
================  ============================================================================================

Every function that draws random numbers takes ``seed``: an int seeds a new ``numpy.random.Generator`` (the same
int, the same numbers), a Generator is used as it is (a caller can thread one stream through several calls) and
None takes fresh entropy (not reproducible); the result's ``params["seed"]`` records the int. The names load
lazily: ``import dyadsync.synchrony`` imports neither pandas nor scipy until a function is used.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Every public name of the package and the module that defines it.
_EXPORTS = {
    "WCC": "results",
    "SurrogateResult": "results",
    "windowed_cross_correlation": "wcc",
    "summarize": "wcc",
    "global_index": "wcc",
    "sync_table": "wcc",
    "empty_sync_table": "wcc",
    "SUMMARY_CHOICES": "params",
    "WCCParams": "params",
    "SUMMARY_COLUMNS": "wcc",
    "SYNC_COLUMNS": "wcc",
    "Z_CLIP": "_corr",
    "pick_peaks": "peaks",
    "pick_peak_lags": "peaks",
    "susy": "indices",
    "SusyResult": "indices",
    "mea_ccf": "rmea",
    "mea_smooth": "rmea",
    "mea_scale": "rmea",
    "rmea_summaries": "rmea",
    "lag_column_names": "rmea",
    "circular_shift": "shift",
    "segment_shuffle": "surrogates",
    "shuffle_segments": "surrogates",
    "iaaft_surrogates": "surrogates",
    "iaaft": "surrogates",
    "pseudo_dyads": "surrogates",
    "pseudo_dyad_pairs": "surrogates",
    "compare": "significance",
    "compare_groups": "significance",
    "vocal_synchrony": "entrainment",
    "entrainment_series": "entrainment",
    "turn_exchanges": "entrainment",
    "arousal_synchrony": "entrainment",
    "vocal_arousal": "entrainment",
}

#: The public modules, reachable as attributes (``dyadsync.synchrony.wcc``) as when they were imported eagerly.
_MODULES = ("entrainment", "indices", "params", "peaks", "results", "rmea", "shift", "significance", "surrogates", "wcc")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562) and keep the name here."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_MODULES})
