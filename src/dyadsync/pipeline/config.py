"""Pipeline definitions: a TOML file with one table per stage, validated before any work starts.

The defaults in this module are the ``body_mea`` pipeline (``pipelines/body_mea.toml`` spells them out with
comments). Unknown sections or keys, wrong types and impossible values are errors that name the file, the key
and, where a close match exists, what was probably meant.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from .._validate import check_option, suggest
from ..errors import ConfigError, InputError
from ..io.textfile import read_text
from ..moments.params import MomentsParams
from ..preprocess import PreprocessParams
from ..synchrony.params import WCCParams

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

STAGES = ("motion", "pose", "face", "voice", "synchrony", "moments", "report")

#: The stages of the built-in default pipeline (body_mea); ``pose`` and ``face`` are opt-in (multimodal.toml).
DEFAULT_STAGES = ("motion", "synchrony", "moments", "report")


def stage_features() -> dict[str, tuple[str, ...]]:
    """Per-person features each feature stage provides, for validating ``[synchrony] features`` up front."""
    from ..features.face import FEATURES as FACE_FEATURES
    from ..features.motion import FEATURES as MOTION_FEATURES
    from ..features.pose import FEATURES as POSE_FEATURES
    from ..features.voice import FEATURES as VOICE_FEATURES

    return {"motion": MOTION_FEATURES, "pose": POSE_FEATURES, "face": FACE_FEATURES, "voice": VOICE_FEATURES}


@dataclass
class PipelineSection:
    name: str = "body_mea"
    description: str = "Body movement synchrony from Motion Energy Analysis, around coded moments."
    stages: list[str] = field(default_factory=lambda: list(DEFAULT_STAGES))


@dataclass
class PersonsSection:
    names: list[str] = field(default_factory=lambda: ["left", "right"])
    rois: dict[str, Any] = field(default_factory=dict)
    roi_units: str = "fraction"


@dataclass
class MotionSection:
    threshold: float = 10.0
    artefact_pct: float = 50.0
    luma_jump: float = 8.0
    camera_pct: float = 25.0
    quiet_s: float = 10.0
    background: list[float] = field(default_factory=list)


@dataclass
class TrackingSection:
    """What ``[pose]`` and ``[face]`` share: the rate of the MediaPipe pass, gaps, detection thresholds (equal
    in both, one pass serves both stages)."""

    rate_hz: float = 10.0
    max_gap_s: float = 0.5
    warn_gap_s: float = 1.0
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.8


@dataclass
class PoseSection(TrackingSection):
    min_visibility: float = 0.5
    landmarks: bool = True


@dataclass
class FaceSection(TrackingSection):
    head_crop_px: int = 192
    head_scale: float = 2.0
    head_pose: str = "pnp"
    blendshapes_model: str = ""


@dataclass
class VoiceSection:
    speakers: str = "channels"
    audio: str = ""
    channels: list[int] = field(default_factory=lambda: [0, 1])
    floor_hz: float = 75.0
    ceiling_hz: float = 600.0
    bridge_s: float = 1.0
    min_pause_s: float = 0.25
    entrainment: list[str] = field(default_factory=lambda: ["f0", "intensity"])
    measures: list[str] = field(default_factory=lambda: ["proximity", "convergence", "synchrony"])
    window_turns: int = 4
    step_s: float = 1.0
    arousal: bool = True
    arousal_window_s: float = 30.0
    arousal_max_lag_s: float = 5.0


#: ``[preprocess]``: the preprocessing layer's own settings.
PreprocessSection = PreprocessParams


@dataclass
class SynchronySection(WCCParams):
    """``[synchrony]``: the features to analyse, and the synchrony layer's settings (:class:`WCCParams`)."""

    features: list[str] = field(default_factory=lambda: ["motion_energy"])


@dataclass
class MomentsSection(MomentsParams):
    """``[moments]``: which tiers are read and which codes analysed (empty: all; free-text tiers are left out unless
    named), what to do with events outside the recording, and the moments layer's settings
    (:class:`MomentsParams`)."""

    codes: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    on_outside: str = "raise"


@dataclass
class ReportSection:
    title: str = "dyadsync session report"


@dataclass
class PipelineConfig:
    """A validated pipeline definition. ``source`` is the file it came from (None for the built-in defaults)."""

    pipeline: PipelineSection = field(default_factory=PipelineSection)
    persons: PersonsSection = field(default_factory=PersonsSection)
    motion: MotionSection = field(default_factory=MotionSection)
    pose: PoseSection = field(default_factory=PoseSection)
    face: FaceSection = field(default_factory=FaceSection)
    voice: VoiceSection = field(default_factory=VoiceSection)
    preprocess: PreprocessSection = field(default_factory=PreprocessSection)
    synchrony: SynchronySection = field(default_factory=SynchronySection)
    moments: MomentsSection = field(default_factory=MomentsSection)
    report: ReportSection = field(default_factory=ReportSection)
    source: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        """All parameters as plain data (for run records), without ``source``."""
        d = dataclasses.asdict(self)
        d.pop("source")
        return d


def with_selection(
    config: PipelineConfig, *, tiers: Sequence[str] | None = None, codes: Sequence[str] | None = None
) -> PipelineConfig:
    """A copy of ``config`` whose ``[moments]`` reads these tiers and analyses these codes (None keeps the config's:
    the command line's ``--tier`` and ``--code`` override the pipeline file's ``tiers`` and ``codes``)."""
    if tiers is None and codes is None:
        return config
    moments = dataclasses.replace(config.moments)
    if tiers is not None:
        moments.tiers = [str(t) for t in tiers]
    if codes is not None:
        moments.codes = [str(c) for c in codes]
    new = dataclasses.replace(config, moments=moments)
    return new


def load_pipeline(path: str | Path | None = None) -> PipelineConfig:
    """Read and validate a pipeline TOML file; None gives the built-in defaults (the ``body_mea`` pipeline).

    Raises
    ------
    ConfigError
        For a missing or unparsable file, an unknown section or key, a value of the wrong type, or an invalid
        option; the message names the file and the key.
    """
    if path is None:
        return PipelineConfig()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: pipeline file not found" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        # UTF-8 with or without a byte-order mark, UTF-16 (as some editors on Windows save): read as text
        text = read_text(path, what="a pipeline file (TOML text, see pipelines/)")
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    config = config_from_dict(data, source=path)  # messages name the file as the user gave it
    # Files named in the pipeline are relative to it, wherever the run happens (a worker in another folder).
    config.source = path.resolve()
    return config


def config_from_dict(data: dict[str, Any], *, source: Path | None = None) -> PipelineConfig:
    """Build a validated :class:`PipelineConfig` from nested dicts (as parsed from TOML)."""
    where = f"{source}: " if source else ""
    hints = get_type_hints(PipelineConfig)
    sections = [f.name for f in dataclasses.fields(PipelineConfig) if f.name != "source"]
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name not in sections:
            raise ConfigError(f"{where}unknown section [{name}]{suggest(name, sections)}; sections are {sections}")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}[{name}] must be a table of settings")
        kwargs[name] = _section(hints[name], value, f"{where}[{name}]")
    config = PipelineConfig(**kwargs, source=source)
    _check_values(config, where)
    return config


def _section(cls: type, values: dict[str, Any], where: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    types = get_type_hints(cls)
    out = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{where} unknown key {key!r}{suggest(key, fields)}; keys are {sorted(fields)}")
        out[key] = _coerce(types[key], value, f"{where} {key}")
    return cls(**out)


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = getattr(tp, "__origin__", tp)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        (item,) = tp.__args__
        return [_coerce(item, v, where) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table, got {value!r}")
        return dict(value)
    return value


def _check_values(c: PipelineConfig, where: str) -> None:
    for stage in c.pipeline.stages:
        check_option(f"{where}[pipeline] stages entry", stage, STAGES)
    if len(c.persons.names) != 2 or len(set(c.persons.names)) != 2:
        raise ConfigError(f"{where}[persons] names must be two different names, got {c.persons.names}")
    check_option(f"{where}[persons] roi_units", c.persons.roi_units, ("fraction", "px"))
    c.preprocess.check(f"{where}[preprocess]")
    c.synchrony.check(f"{where}[synchrony]")
    c.moments.check(f"{where}[moments]")
    check_option(f"{where}[moments] on_outside", c.moments.on_outside, ("raise", "warn", "drop"))
    s = c.synchrony
    if not s.features and "voice" not in c.pipeline.stages:
        raise ConfigError(f"{where}[synchrony] features is empty")
    _check_voice(c, where)
    provided = stage_features()
    available = [f for stage in c.pipeline.stages for f in provided.get(stage, ())]
    for feature in s.features:
        if feature not in available:
            raise ConfigError(
                f"{where}[synchrony] features: unknown feature {feature!r}{suggest(feature, available)}; the "
                f"stages {c.pipeline.stages} provide {available}"
            )
    for name, sec in (("pose", c.pose), ("face", c.face)):
        if not sec.rate_hz > 0:
            raise ConfigError(f"{where}[{name}] rate_hz must be > 0 frames per second, got {sec.rate_hz}")
        if sec.max_gap_s < 0 or sec.warn_gap_s < 0:
            raise ConfigError(f"{where}[{name}] max_gap_s and warn_gap_s must be >= 0 seconds")
        for key in ("min_detection_confidence", "min_tracking_confidence"):
            if not 0 <= getattr(sec, key) <= 1:
                raise ConfigError(f"{where}[{name}] {key} must be between 0 and 1, got {getattr(sec, key)}")
    if not 0 <= c.pose.min_visibility <= 1:
        raise ConfigError(f"{where}[pose] min_visibility must be between 0 and 1, got {c.pose.min_visibility}")
    check_option(f"{where}[face] head_pose", c.face.head_pose, ("pnp", "procrustes"))
    if c.face.head_crop_px < 64:
        raise ConfigError(f"{where}[face] head_crop_px must be at least 64 pixels, got {c.face.head_crop_px}")
    if not 1 <= c.face.head_scale <= 6:
        raise ConfigError(f"{where}[face] head_scale must be between 1 and 6 head widths, got {c.face.head_scale}")
    if c.motion.background and len(c.motion.background) != 4:
        raise ConfigError(f"{where}[motion] background must be [x, y, width, height], got {c.motion.background}")


def _check_voice(c: PipelineConfig, where: str) -> None:
    from ..synchrony.entrainment import MEASURES, TURN_FEATURES

    v = c.voice
    if v.speakers not in ("channels", "auto") and not v.speakers.strip():
        raise ConfigError(f"{where}[voice] speakers must be 'channels', 'auto' or a turn annotation file")
    if len(v.channels) != 2 or v.channels[0] == v.channels[1] or min(v.channels) < 0:
        raise ConfigError(f"{where}[voice] channels must be two different channel numbers, got {v.channels}")
    if not 0 < v.floor_hz < v.ceiling_hz:
        raise ConfigError(f"{where}[voice] needs 0 < floor_hz < ceiling_hz, got {v.floor_hz}, {v.ceiling_hz}")
    for f in v.entrainment:
        check_option(f"{where}[voice] entrainment entry", f, tuple(TURN_FEATURES))
    for m in v.measures:
        check_option(f"{where}[voice] measures entry", m, MEASURES)
    if v.window_turns < 1 or v.step_s <= 0 or v.bridge_s < 0 or v.min_pause_s < 0:
        raise ConfigError(f"{where}[voice] window_turns >= 1, step_s > 0, bridge_s >= 0 and min_pause_s >= 0 needed")
    if not 0 <= v.arousal_max_lag_s < v.arousal_window_s:
        raise ConfigError(f"{where}[voice] needs 0 <= arousal_max_lag_s < arousal_window_s")
