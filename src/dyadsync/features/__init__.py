"""Feature extractors: plain functions from a video (or audio) to a long feature table and an info dict.

Every extractor returns ``(features, info)``: ``features`` is a DataFrame with columns ``time_s`` (float
seconds from the start of the recording), ``person``, ``feature`` and ``value``; ``info`` records the method,
its parameters, the sampling rate and the package version.

>>> from dyadsync.features import motion_energy
"""

from ._table import SCENE, long_table, to_wide
from .motion import motion_energy
from .persons import ROI, default_rois, parse_rois

__all__ = ["ROI", "SCENE", "default_rois", "long_table", "motion_energy", "parse_rois", "to_wide"]
