"""Feature extractors: plain functions from a video (or audio) to a long feature table and an info dict.

Every extractor returns ``(features, info)``: ``features`` is a DataFrame with columns ``time_s`` (float
seconds from the start of the recording), ``person``, ``feature`` and ``value``; ``info`` records the method,
its parameters, the sampling rate and the package version.

>>> from dyadsync.features import motion_energy, pose, face

``pose`` and ``face`` (MediaPipe, per person) load MediaPipe only when called; ``pose_and_face`` runs both in
one pass over the video.
"""

from ..io.tables import SCENE, long_table, to_wide
from .face import face, pose_and_face
from .motion import motion_energy
from .persons import ROI, default_rois, head_region, parse_rois
from .pose import pose
from .preview import roi_preview

__all__ = [
    "ROI",
    "SCENE",
    "default_rois",
    "face",
    "head_region",
    "long_table",
    "motion_energy",
    "parse_rois",
    "pose",
    "pose_and_face",
    "roi_preview",
    "to_wide",
]
