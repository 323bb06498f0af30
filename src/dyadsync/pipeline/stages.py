"""The feature stages of a session run: motion energy, pose, face and voice, each cached by content.

:class:`FeatureStages` runs one session's feature stages in the pipeline's order. Each stage turns the video (and
the pipeline's settings of that stage) into a long feature table and an info record; with a
:class:`~dyadsync.pipeline.cache.StageCache`, a stage whose input and settings are unchanged is read back instead
of computed. Pose and face with the same rate and detection settings share one MediaPipe pass: the first of the two
computes both tables and the second takes its own from this session's runner (never from module state).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..features import ROI, motion_energy
from ..io.video import VideoInfo
from .cache import StageCache, stable_hash
from .config import PipelineConfig, TrackingSection

#: Feature stages whose failure on their input (no audio track, silence) is a warning when other feature stages
#: ran: their outputs are left out and the run goes on.
OPTIONAL_STAGES = ("voice",)

#: Keys of the ``[pose]`` and ``[face]`` sections that must be equal for both to come from one MediaPipe pass.
SHARED_PASS_KEYS = tuple(f.name for f in dataclasses.fields(TrackingSection))


@dataclass
class StageOutput:
    """What one feature stage produced.

    Attributes
    ----------
    table : DataFrame
        Long feature table (``time_s``, ``person``, ``feature``, ``value``).
    info : dict
        The stage's record for ``run.json`` (method, parameters, QC), without wall-clock timings.
    extra : dict of str to DataFrame
        Other tables the stage made that later stages use (the voice stage's ``turns``).
    timings : dict or None
        Wall-clock detail of the stage (for ``timings.json``); None when it came from the cache.
    """

    table: pd.DataFrame
    info: dict[str, Any]
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    timings: dict[str, Any] | None = None


def relative_to_config(path: str, config: PipelineConfig) -> Path:
    """A path named in a pipeline file: relative paths are relative to that file (when not found as given)."""
    p = Path(path).expanduser()
    if not p.is_absolute() and not p.exists() and config.source is not None:
        return config.source.parent / p
    return p


def referenced_files(config: PipelineConfig, section: str | None = None) -> list[Path]:
    """Existing files named by string settings of the pipeline (or of one section), e.g. ``[voice] audio``."""
    data = config.as_dict()
    sections = [section] if section else list(data)
    found = []
    for name in sections:
        for value in (data.get(name) or {}).values():
            if isinstance(value, str) and value and value not in ("channels", "auto"):
                path = relative_to_config(value, config)
                if path.is_file():
                    found.append(path)
    return found


def shared_mediapipe_pass(config: PipelineConfig) -> bool:
    """Whether the pose and face stages come from one MediaPipe pass (both in the pipeline, same settings)."""
    po, fa = config.pose, config.face
    return {"pose", "face"} <= set(config.pipeline.stages) and all(
        getattr(po, k) == getattr(fa, k) for k in SHARED_PASS_KEYS
    )


class FeatureStages:
    """One session's feature stages: run (or read from the cache) each in turn.

    Parameters
    ----------
    video : Path
    config : PipelineConfig
    meta : VideoInfo
        The probed video.
    rois : list of ROI
        The persons' regions.
    cache : StageCache or None
        Stage results by content; None computes every stage.
    video_sha256 : str
        Content hash of the video (part of every cache key).
    """

    def __init__(self, video: Path, config: PipelineConfig, meta: VideoInfo, rois: list[ROI],
                 cache: StageCache | None, video_sha256: str) -> None:
        self.video, self.config, self.meta, self.rois = video, config, meta, rois
        self.cache, self.video_sha256 = cache, video_sha256
        # The second table of a shared pose+face pass, until its stage asks for it.
        self._pending: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {}

    def run(self, stage: str, previous: list[pd.DataFrame]) -> StageOutput:
        """Run a feature stage, or take its result from the cache when its input and settings are unchanged.

        ``previous`` holds the tables of the stages run before it (the voice stage uses the face stage's mouth
        opening to tell who is who when it attributes speech automatically). Timings vary from run to run, so
        they are taken out of the info (which goes to ``run.json`` and the cache) into :attr:`StageOutput.timings`.
        """
        inputs = self._stage_inputs(stage, previous)
        if self.cache is None:
            return self._compute(stage, inputs)
        params = self.config.as_dict()
        hashes = [self.cache.content_hash(f) for f in referenced_files(self.config, stage)]
        hashes += [stable_hash(pd.util.hash_pandas_object(t, index=False).tolist()) for t in inputs.values()]
        key = self.cache.key(stage, self.video_sha256, params.get(stage), params["persons"], hashes)
        timings = None
        hit = self.cache.load(key)
        if hit is None:
            out = self._compute(stage, inputs)
            timings = out.timings
            self.cache.store(key, out.table, out.info, out.extra)
            del out  # not held while its stored copy is read back
            # Continue from what was stored, so a result computed now and one taken from the cache later are the
            # same bytes downstream.
            hit = self.cache.load(key)
            assert hit is not None
        table, info, extra = hit
        info = dict(info)
        info.pop("timings", None)  # stored by an earlier version
        return StageOutput(table, info, extra, timings)

    def _compute(self, stage: str, inputs: dict[str, pd.DataFrame]) -> StageOutput:
        if stage == "motion":
            table, info = self._motion()
            extra = {}
        elif stage in ("pose", "face"):
            table, info = self._mediapipe(stage)
            extra = {}
        elif stage == "voice":
            table, info, extra = self._voice(**inputs)
        else:
            raise ConfigError(f"unknown feature stage {stage!r}; stages are {list(FEATURE_STAGES)}")
        info = dict(info)
        return StageOutput(table, info, extra, info.pop("timings", None))

    def _stage_inputs(self, stage: str, previous: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Tables of earlier stages that a stage uses: the mouth opening, for automatic speaker attribution."""
        if stage != "voice" or self.config.voice.speakers != "auto":
            return {}
        for table in previous:
            mouth = table[table["feature"] == "mouth_opening"]
            if not mouth.empty:
                return {"mouth": mouth.reset_index(drop=True)}
        return {}

    def _motion(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        m, persons = self.config.motion, self.config.persons
        background = ROI("background", *m.background, units=persons.roi_units) if m.background else None
        return motion_energy(self.video, rois=self.rois, threshold=m.threshold, artefact_pct=m.artefact_pct,
                             luma_jump=m.luma_jump, camera_pct=m.camera_pct, quiet_s=m.quiet_s,
                             background=background)

    def _voice(self, mouth: pd.DataFrame | None = None
               ) -> tuple[pd.DataFrame, dict[str, Any], dict[str, pd.DataFrame]]:
        from ..features.voice import analyse_voice

        v, config = self.config.voice, self.config
        speakers: Any = v.speakers
        if speakers not in ("channels", "auto"):
            speakers = relative_to_config(speakers, config)
        audio = relative_to_config(v.audio, config) if v.audio else None
        result = analyse_voice(
            self.video, speakers=speakers, persons=config.persons.names, audio=audio, channels=v.channels,
            floor_hz=v.floor_hz, ceiling_hz=v.ceiling_hz, bridge_s=v.bridge_s, min_pause_s=v.min_pause_s,
            mouth=mouth,
        )
        return result.features(), result.info, {"turns": result.turns}

    def _mediapipe(self, stage: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The pose or the face stage; with both in the pipeline at the same settings, one pass serves both."""
        from ..features import face, pose, pose_and_face

        po, fa = self.config.pose, self.config.face
        pose_kw = {"min_visibility": po.min_visibility, "landmarks": po.landmarks}
        blend = relative_to_config(fa.blendshapes_model, self.config) if fa.blendshapes_model else None
        face_kw = {"head_crop_px": fa.head_crop_px, "head_scale": fa.head_scale, "head_pose": fa.head_pose,
                   "blendshapes_model": blend}
        if shared_mediapipe_pass(self.config):
            if stage in self._pending:
                return self._pending.pop(stage)
            pose_out, face_out = pose_and_face(self.video, rois=self.rois, **_detection(po), **pose_kw, **face_kw)
            self._pending["face" if stage == "pose" else "pose"] = face_out if stage == "pose" else pose_out
            return pose_out if stage == "pose" else face_out
        if stage == "pose":
            return pose(self.video, rois=self.rois, **_detection(po), **pose_kw)
        return face(self.video, rois=self.rois, **_detection(fa), **face_kw)


def _detection(section: Any) -> dict[str, Any]:
    """The rate, gap and detection settings a MediaPipe extractor takes from ``[pose]`` or ``[face]``."""
    return {k: getattr(section, k) for k in SHARED_PASS_KEYS}


#: The feature stages (the features each provides: :func:`dyadsync.pipeline.config.stage_features`).
FEATURE_STAGES = ("motion", "pose", "face", "voice")

__all__ = ["FEATURE_STAGES", "OPTIONAL_STAGES", "FeatureStages", "StageOutput", "referenced_files",
           "relative_to_config", "shared_mediapipe_pass"]
