"""Synchrony between two persons' series: windowed cross-lagged correlation, its summaries, peak picking,
SUSY segment indices, surrogates, and an rMEA-compatible mode.

Lag convention everywhere: a positive lag means person B follows person A.
"""

from .indices import SusyResult, susy
from .peaks import pick_peak_lags, pick_peaks
from .results import SurrogateResult
from .rmea import mea_ccf, mea_scale, mea_smooth, rmea_summaries
from .shift import circular_shift
from .significance import compare, compare_groups
from .surrogates import (
    iaaft,
    iaaft_surrogates,
    pseudo_dyad_pairs,
    pseudo_dyads,
    segment_shuffle,
    shuffle_segments,
)
from .wcc import WCC, global_index, summarize, windowed_cross_correlation

__all__ = [
    "WCC",
    "SurrogateResult",
    "SusyResult",
    "circular_shift",
    "compare",
    "compare_groups",
    "global_index",
    "iaaft",
    "iaaft_surrogates",
    "mea_ccf",
    "mea_scale",
    "mea_smooth",
    "pick_peak_lags",
    "pick_peaks",
    "pseudo_dyad_pairs",
    "pseudo_dyads",
    "rmea_summaries",
    "segment_shuffle",
    "shuffle_segments",
    "summarize",
    "susy",
    "windowed_cross_correlation",
]
