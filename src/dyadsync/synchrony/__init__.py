"""Synchrony between two persons' series: windowed cross-lagged correlation and its summaries.

Lag convention everywhere: a positive lag means person B follows person A.
"""

from .wcc import WCC, global_index, summarize, windowed_cross_correlation

__all__ = ["WCC", "global_index", "summarize", "windowed_cross_correlation"]
