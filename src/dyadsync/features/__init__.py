"""Feature extractors: plain functions from a video (or audio) to a long feature table and an info dict.

Every extractor returns ``(features, info)``: ``features`` is a DataFrame with columns ``time_s`` (float
seconds from the start of the recording), ``person``, ``feature`` and ``value``; ``info`` records the method,
its parameters, the sampling rate and the package version.

>>> from dyadsync.features import motion_energy, pose, face

Video
    :func:`motion_energy` (changed pixels per ROI, :mod:`~dyadsync.features.motion`); :func:`pose` and
    :func:`face` (MediaPipe per person, :mod:`~dyadsync.features.pose`, :mod:`~dyadsync.features.face`; head
    geometry in :mod:`~dyadsync.features.face_geometry`, gap handling in :mod:`~dyadsync.features.tracks`);
    :func:`pose_and_face` runs both in one pass over the video.
Persons
    :class:`ROI`, :func:`default_rois`, :func:`parse_rois`, :func:`head_region` (:mod:`~dyadsync.features.persons`)
    and :func:`roi_preview`, an annotated frame to check the ROIs (:mod:`~dyadsync.features.preview`).
Voice
    :func:`voice_features` (the extractor for pipelines) and :func:`analyse_voice` (prosody, turns and speaker
    activity, :mod:`~dyadsync.features.voice`); :func:`turn_table`; :func:`pitch_track`, :func:`intensity_track`
    and :func:`hz_to_semitones` (Praat's methods, :mod:`~dyadsync.features.pitch`).
Speaker attribution
    :func:`activity_from_channels`, :func:`activity_from_events`, :func:`assign_by_mouth`,
    :func:`activity_segments`, :func:`diarization_error_rate` (:mod:`~dyadsync.features.diarize`);
    :func:`activity_auto` (:mod:`~dyadsync.features.clustering`); :func:`voice_activity`
    (:mod:`~dyadsync.features.vad`).
Tables
    :func:`long_table`, :func:`to_wide` and :data:`SCENE` (from :mod:`dyadsync.io.tables`).

The names load lazily, on first use: ``import dyadsync.features`` imports neither NumPy nor pandas, and
MediaPipe, OpenCV, PyAV and SciPy load only inside the functions that need them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names, for type checkers, IDEs and the architecture test (loaded lazily below)
    from ..io.tables import SCENE, long_table, to_wide
    from .clustering import activity_auto
    from .diarize import (
        SpeakerActivity,
        activity_from_channels,
        activity_from_events,
        activity_segments,
        assign_by_mouth,
        diarization_error_rate,
    )
    from .face import face, pose_and_face
    from .motion import motion_energy
    from .persons import ROI, default_rois, head_region, parse_rois
    from .pitch import PitchTrack, hz_to_semitones, intensity_track, pitch_track
    from .pose import pose
    from .preview import roi_preview
    from .vad import voice_activity
    from .voice import VoiceAnalysis, analyse_voice, turn_table, voice_features

#: Public name -> module that defines it (relative to this package, or the table module of ``dyadsync.io``).
_SOURCES = {
    "motion_energy": ".motion",
    "pose": ".pose",
    "face": ".face",
    "pose_and_face": ".face",
    "ROI": ".persons",
    "default_rois": ".persons",
    "parse_rois": ".persons",
    "head_region": ".persons",
    "roi_preview": ".preview",
    "VoiceAnalysis": ".voice",
    "analyse_voice": ".voice",
    "voice_features": ".voice",
    "turn_table": ".voice",
    "PitchTrack": ".pitch",
    "pitch_track": ".pitch",
    "intensity_track": ".pitch",
    "hz_to_semitones": ".pitch",
    "SpeakerActivity": ".diarize",
    "activity_from_channels": ".diarize",
    "activity_from_events": ".diarize",
    "assign_by_mouth": ".diarize",
    "activity_segments": ".diarize",
    "diarization_error_rate": ".diarize",
    "activity_auto": ".clustering",
    "voice_activity": ".vad",
    "SCENE": "..io.tables",
    "long_table": "..io.tables",
    "to_wide": "..io.tables",
}

__all__ = [
    "PitchTrack",
    "ROI",
    "SCENE",
    "SpeakerActivity",
    "VoiceAnalysis",
    "activity_auto",
    "activity_from_channels",
    "activity_from_events",
    "activity_segments",
    "analyse_voice",
    "assign_by_mouth",
    "default_rois",
    "diarization_error_rate",
    "face",
    "head_region",
    "hz_to_semitones",
    "intensity_track",
    "long_table",
    "motion_energy",
    "parse_rois",
    "pitch_track",
    "pose",
    "pose_and_face",
    "roi_preview",
    "to_wide",
    "turn_table",
    "voice_activity",
    "voice_features",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    try:
        source = _SOURCES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(source, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's own names and every public name, loaded or not."""
    return sorted(set(globals()) | set(__all__))


class _Features(types.ModuleType):
    """This package, keeping the functions ``pose`` and ``face`` where the submodules of the same name would go.

    Importing a submodule sets it as an attribute of its package (``dyadsync.features.pose = <module>``); with
    lazy names, whichever came first would win. Refusing those two assignments keeps
    ``from dyadsync.features import pose`` the extractor, however the submodules were imported before.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in ("pose", "face"):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Features
