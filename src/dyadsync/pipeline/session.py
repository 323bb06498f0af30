"""Run one session through a pipeline: video -> features -> synchrony -> moments -> report.

Every input is checked before the long work starts (the video opens, the codes parse and fit the video, the
pipeline is valid), every output is written atomically, outputs of an earlier run into the same folder that this
run does not write are removed, and ``run.json`` records what was done: inputs, parameters, versions, warnings
and the files written (wall-clock timings go to ``timings.json``).
"""

from __future__ import annotations

import logging
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._parallel import release_memory
from ..errors import AnalysisError, DyadsyncWarning, InputError
from ..features import ROI, motion_energy, parse_rois
from ..io.events import read_events
from ..io.store import write_json, write_parquet
from ..io.tables import concat_tables, feature_names
from ..io.video import VideoInfo, probe_video
from ..moments.peaks import shifted_pair_synchrony
from ..moments.session import MOMENT_TABLES, MomentsResult, analyse_moments
from ..preprocess import prepare_pair
from ..synchrony import global_index, summarize, windowed_cross_correlation
from ..synchrony.wcc import empty_sync_table, sync_table
from .cache import StageCache, file_sha256, stable_hash
from .config import PipelineConfig, load_pipeline

log = logging.getLogger("dyadsync")

#: Output files of a session run, relative to its output folder.
OUTPUTS = {
    "features": "features.parquet",
    "synchrony": "synchrony.parquet",
    "synchrony_lags": "synchrony_lags.parquet",
    "moments": "moments.parquet",
    "moment_tests": "moment_tests.parquet",
    "events": "events.parquet",
    "report": "report.html",
    "timings": "timings.json",
    "run": "run.json",
    **{k: v for k, v in MOMENT_TABLES.items() if k not in ("moments", "moment_tests")},
}


@dataclass
class SessionResult:
    """What a session run produced (also on disk in ``out_dir``)."""

    out_dir: Path
    features: pd.DataFrame
    synchrony: pd.DataFrame
    synchrony_lags: pd.DataFrame
    events: pd.DataFrame | None
    moments: pd.DataFrame | None
    moment_tests: pd.DataFrame | None
    record: dict[str, Any] = field(default_factory=dict)
    moment_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def report(self) -> Path:
        return self.out_dir / OUTPUTS["report"]


def run_session(
    video: str | Path,
    out_dir: str | Path,
    *,
    codes: str | Path | Sequence[str | Path] | None = None,
    pipeline: str | Path | PipelineConfig | None = None,
    progress: Callable[[str], None] | None = None,
    cache: StageCache | None = None,
) -> SessionResult:
    """Run the pipeline on one session video and write its outputs to ``out_dir``.

    Parameters
    ----------
    video : str or Path
        Session video (static camera, two persons).
    out_dir : str or Path
        Output folder (created).
    codes : str, Path, sequence of them, or None
        Coded-events file(s) (CSV or ELAN ``.eaf``; several files are combined); without them the moments stage
        is skipped.
    pipeline : str, Path, PipelineConfig or None
        Pipeline TOML file or a loaded config; None uses the built-in ``body_mea`` defaults.
    progress : callable or None
        Called with a short message as each stage starts.
    cache : StageCache or None
        Where feature-stage results are kept by content (input hash, stage parameters, version), so that a rerun
        recomputes only what changed. None computes everything.

    Returns
    -------
    SessionResult

    Raises
    ------
    DyadsyncError
        (InputError, VideoError, EventsError, ConfigError, AnalysisError) with a message naming the file and the
        problem. Files already written stay complete; nothing half-written is left.
    """
    config = pipeline if isinstance(pipeline, PipelineConfig) else load_pipeline(pipeline)
    say = progress or (lambda msg: log.info(msg))
    out = Path(out_dir)
    video = Path(video)
    code_files = [] if codes is None else [Path(codes)] if isinstance(codes, (str, Path)) else [Path(c) for c in codes]
    started = time.perf_counter()
    timings: dict[str, float] = {}
    caught: list[str] = []
    written: list[str] = []

    def save(table: pd.DataFrame, key: str) -> None:
        write_parquet(table, out / OUTPUTS[key])
        written.append(OUTPUTS[key])

    records: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always", DyadsyncWarning)
            # --- check every input before the long work
            meta = probe_video(video)
            if not meta.has_audio:
                warnings.warn(
                    f"{video}: no audio track; voice features cannot be computed from this file", DyadsyncWarning
                )
            rois = parse_rois(config.persons.rois, config.persons.names, units=config.persons.roi_units)
            for roi in rois:
                roi.to_pixels(meta.width, meta.height)
            events = None
            stages = config.pipeline.stages
            if code_files and "moments" in stages:
                events = _read_codes(code_files, meta.duration_s, config)
            # Outputs of an earlier run into this folder that this run will not write would pass for current
            # results; they go now. run.json goes too until this run completes (its presence marks a complete run).
            _remove_stale(out, _planned_outputs(config, with_events=events is not None))
            hashes = {"video": cache.content_hash(video) if cache else file_sha256(video)}
            hashes["codes"] = [file_sha256(c) for c in code_files]

            # --- features: every feature stage of the pipeline, in its order
            tables, feature_info = [], {}
            for stage in stages:
                if stage not in FEATURE_STAGES:
                    continue
                say(stage)
                t = time.perf_counter()
                try:
                    table, feature_info[stage], detail = _cached_stage(
                        stage, video, config, meta, rois, cache, hashes["video"], tables
                    )
                    if detail is not None:
                        timings[f"{stage}_detail"] = detail
                except InputError as exc:
                    others = [s_ for s_ in stages if s_ in FEATURE_STAGES and s_ != stage]
                    if stage not in OPTIONAL_STAGES or not others:
                        raise
                    # An optional stage (voice) failing on its input must not cost the other stages' results.
                    warnings.warn(f"{stage} stage skipped: {exc}", DyadsyncWarning)
                    feature_info[stage] = {"failed": str(exc), "error_type": type(exc).__name__}
                    continue
                finally:
                    timings[f"{stage}_s"] = time.perf_counter() - t
                    release_memory()  # what the stage freed (frames, sound, model graphs) goes back before the next
                tables.append(table)
            features = concat_tables(tables)
            tables.clear()  # the stage tables are in ``features`` now (a 30-min session: ~150 MB)
            table = None
            save(features, "features")
            release_memory()

            # --- synchrony and moments
            say("synchrony and moments" if events is not None else "synchrony")
            t = time.perf_counter()
            analysis = analyse_features(features, events, config)
            timings["synchrony_moments_s"] = time.perf_counter() - t
            release_memory()
            synchrony, lags_table, moments, tests = (
                analysis.synchrony, analysis.synchrony_lags, analysis.moments, analysis.moment_tests
            )
            save(synchrony, "synchrony")
            save(lags_table, "synchrony_lags")
            if events is not None:
                save(events, "events")
                for name, table in analysis.moment_tables.items():
                    save(table, name)

    finally:
        for key in [k for k, (c, _) in _MEDIAPIPE_PENDING.items() if c is config]:
            del _MEDIAPIPE_PENDING[key]
        # Whatever happened, the warnings reach the caller (and, below, the run record).
        for w in records:
            if issubclass(w.category, DyadsyncWarning):
                caught.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    record = {
        "dyadsync_version": __version__,
        "python": platform.python_version(),
        "key": session_key(hashes["video"], hashes["codes"], config),
        "pipeline": {"source": str(config.source) if config.source else "built-in body_mea", **config.as_dict()},
        "inputs": {
            "video": {**meta.as_dict(), "sha256": hashes["video"], "size_bytes": video.stat().st_size},
            "codes": [{"path": str(c), "sha256": h} for c, h in zip(code_files, hashes["codes"])],
        },
        "features": feature_info,
        "synchrony": analysis.info,
        "moments": analysis.moments_info,
        "warnings": caught,
    }
    result = SessionResult(out, features, synchrony, lags_table, events, moments, tests, record,
                           moment_tables=analysis.moment_tables)
    if "report" in config.pipeline.stages:
        say("report")
        from ..report.html import write_session_report

        t = time.perf_counter()
        write_session_report(result, config, out / OUTPUTS["report"])
        timings["report_s"] = time.perf_counter() - t
        written.append(OUTPUTS["report"])
    timings["total_s"] = time.perf_counter() - started
    # Timings vary from run to run; they live in their own file so that run.json and every result are
    # byte-identical for identical inputs. run.json is written last: its presence marks a complete session.
    write_json(timings, out / OUTPUTS["timings"])
    record["outputs"] = [*written, OUTPUTS["timings"], OUTPUTS["run"]]
    write_json(record, out / OUTPUTS["run"])
    return result


def _planned_outputs(config: PipelineConfig, *, with_events: bool) -> set[str]:
    """File names (values of :data:`OUTPUTS`) a run with this pipeline writes, run.json excepted."""
    keys = {"features", "synchrony", "synchrony_lags", "timings"}
    if with_events:
        keys |= {"events", *MOMENT_TABLES}
    if "report" in config.pipeline.stages:
        keys.add("report")
    return {OUTPUTS[k] for k in keys}


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Delete every output file of :data:`OUTPUTS` in ``out`` whose name is not in ``keep``."""
    for name in OUTPUTS.values():
        if name not in keep:
            (out / name).unlink(missing_ok=True)


def session_key(video_sha256: str, codes_sha256: Sequence[str], config: PipelineConfig) -> str:
    """What a session's results depend on, as one hash: inputs' content, all parameters, dyadsync's version.

    Files named inside the pipeline (a separate audio file, a turn annotation) count by their content too.
    """
    referenced = {str(f): file_sha256(f) for f in referenced_files(config)}
    return stable_hash(__version__, video_sha256, list(codes_sha256), config.as_dict(), referenced)


def referenced_files(config: PipelineConfig, section: str | None = None) -> list[Path]:
    """Existing files named by string settings of the pipeline (or of one section), e.g. ``[voice] audio``."""
    data = config.as_dict()
    sections = [section] if section else list(data)
    found = []
    for name in sections:
        for value in (data.get(name) or {}).values():
            if isinstance(value, str) and value and value not in ("channels", "auto"):
                path = _relative_to_config(value, config)
                if path.is_file():
                    found.append(path)
    return found


def _read_codes(files: list[Path], duration_s: float | None, config: PipelineConfig) -> pd.DataFrame:
    """Read and combine the session's codes files, each validated against the video."""
    parts = [
        read_events(f, duration_s=duration_s, codes=config.moments.codes or None, on_outside=config.moments.on_outside)
        for f in files
    ]
    events = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return events.sort_values(["onset_s", "offset_s", "code"], kind="stable").reset_index(drop=True)


def _cached_stage(
    stage: str,
    video: Path,
    config: PipelineConfig,
    meta: VideoInfo,
    rois: list[ROI],
    cache: StageCache | None,
    video_sha256: str,
    previous: list[pd.DataFrame],
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any] | None]:
    """Run a feature stage, or take its result from the cache when its input and parameters are unchanged.

    ``previous`` holds the tables of the stages run before it (the voice stage uses the face stage's mouth
    opening to tell who is who when it attributes speech automatically).

    Returns the feature table, the stage's info and its wall-clock timings (the info's ``timings``, in s;
    None when the stage reports none or its result came from the cache). Timings vary from run to run, so they
    are taken out of the info, which goes to ``run.json`` and the cache, and go to ``timings.json`` instead.
    """
    extra = _stage_inputs(stage, config, previous)
    if cache is None:
        table, info = FEATURE_STAGES[stage](video, config, meta, rois, **extra)
        info = dict(info)
        return table, info, info.pop("timings", None)
    params = config.as_dict()
    inputs = [cache.content_hash(f) for f in referenced_files(config, stage)]
    inputs += [stable_hash(pd.util.hash_pandas_object(t, index=False).tolist()) for t in extra.values()]
    key = cache.key(stage, video_sha256, params.get(stage), params["persons"], inputs)
    hit = cache.load(key)
    detail = None
    if hit is None:
        table, info = FEATURE_STAGES[stage](video, config, meta, rois, **extra)
        info = dict(info)
        detail = info.pop("timings", None)
        cache.store(key, table, info)
        del table  # not held while its stored copy is read back
        # Continue from what was stored, so a result computed now and one taken from the cache later are the
        # same bytes downstream.
        hit = cache.load(key)
        assert hit is not None
    table, info = hit
    info = dict(info)
    info.pop("timings", None)  # stored by an earlier version
    return table, info, detail


def _stage_inputs(stage: str, config: PipelineConfig, previous: list[pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables of earlier stages that a stage uses: the mouth opening, for automatic speaker attribution."""
    if stage != "voice" or config.voice.speakers != "auto":
        return {}
    for table in previous:
        mouth = table[table["feature"] == "mouth_opening"]
        if not mouth.empty:
            return {"mouth": mouth.reset_index(drop=True)}
    return {}


def _motion_stage(
    video: Path, config: PipelineConfig, meta: VideoInfo, rois: list[ROI]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    m = config.motion
    background = None
    if m.background:
        background = ROI("background", *m.background, units=config.persons.roi_units)
    return motion_energy(
        video,
        rois=rois,
        threshold=m.threshold,
        artefact_pct=m.artefact_pct,
        luma_jump=m.luma_jump,
        camera_pct=m.camera_pct,
        quiet_s=m.quiet_s,
        background=background,
    )


def _voice_stage(
    video: Path, config: PipelineConfig, meta: VideoInfo, rois: list[ROI], mouth: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    from ..features.voice import voice_features

    v = config.voice
    speakers: Any = v.speakers
    if speakers not in ("channels", "auto"):
        speakers = _relative_to_config(speakers, config)
    audio = _relative_to_config(v.audio, config) if v.audio else None
    return voice_features(
        video, speakers=speakers, persons=config.persons.names, audio=audio, channels=v.channels,
        floor_hz=v.floor_hz, ceiling_hz=v.ceiling_hz, bridge_s=v.bridge_s, min_pause_s=v.min_pause_s, mouth=mouth,
    )


def _relative_to_config(path: str, config: PipelineConfig) -> Path:
    p = Path(path)
    if not p.is_absolute() and not p.exists() and config.source is not None:
        return config.source.parent / p
    return p


#: Results of a shared pose+face pass waiting for the second of the two stages, by (video, config id).
_MEDIAPIPE_PENDING: dict[tuple[str, int], tuple[PipelineConfig, tuple[pd.DataFrame, dict[str, Any]]]] = {}


def _mediapipe_stage(
    stage: str, video: Path, config: PipelineConfig, rois: list[ROI]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The pose or the face stage. With both in the pipeline at the same rate, one MediaPipe pass serves both."""
    from ..features import face, pose, pose_and_face

    po, fa = config.pose, config.face
    shared = (
        {"pose", "face"} <= set(config.pipeline.stages)
        and po.rate_hz == fa.rate_hz
        and po.max_gap_s == fa.max_gap_s
        and po.warn_gap_s == fa.warn_gap_s
        and po.min_detection_confidence == fa.min_detection_confidence
        and po.min_tracking_confidence == fa.min_tracking_confidence
    )
    pose_kw = {"min_visibility": po.min_visibility, "landmarks": po.landmarks}
    blend = None
    if fa.blendshapes_model:  # a relative path is relative to the pipeline file
        blend = Path(fa.blendshapes_model).expanduser()
        if not blend.is_absolute() and config.source is not None:
            blend = config.source.parent / blend
    face_kw = {"head_crop_px": fa.head_crop_px, "head_scale": fa.head_scale, "head_pose": fa.head_pose,
               "blendshapes_model": blend}
    if shared:
        key = (str(video), id(config))
        pending = _MEDIAPIPE_PENDING.pop(key, None)
        if pending is not None and pending[0] is config:
            return pending[1]
        pose_out, face_out = pose_and_face(
            video, rois=rois, rate_hz=po.rate_hz, max_gap_s=po.max_gap_s, warn_gap_s=po.warn_gap_s,
            min_detection_confidence=po.min_detection_confidence,
            min_tracking_confidence=po.min_tracking_confidence, **pose_kw, **face_kw,
        )
        _MEDIAPIPE_PENDING[key] = (config, face_out if stage == "pose" else pose_out)
        return pose_out if stage == "pose" else face_out
    sec = po if stage == "pose" else fa
    common = {"rois": rois, "rate_hz": sec.rate_hz, "max_gap_s": sec.max_gap_s, "warn_gap_s": sec.warn_gap_s,
              "min_detection_confidence": sec.min_detection_confidence,
              "min_tracking_confidence": sec.min_tracking_confidence}
    return pose(video, **common, **pose_kw) if stage == "pose" else face(video, **common, **face_kw)


def _pose_stage(
    video: Path, config: PipelineConfig, meta: VideoInfo, rois: list[ROI]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    return _mediapipe_stage("pose", video, config, rois)


def _face_stage(
    video: Path, config: PipelineConfig, meta: VideoInfo, rois: list[ROI]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    return _mediapipe_stage("face", video, config, rois)


#: Feature stages by name: ``stage(video, config, meta, rois) -> (long feature table, info)``. The features each
#: one provides are listed in :func:`dyadsync.pipeline.config.stage_features`.
FEATURE_STAGES: dict[str, Callable[[Path, PipelineConfig, VideoInfo, list[ROI]], tuple[pd.DataFrame, dict[str, Any]]]] = {
    "motion": _motion_stage,
    "pose": _pose_stage,
    "face": _face_stage,
    "voice": _voice_stage,
}

#: Feature stages whose failure on their input (no audio track, silence) is a warning when other feature stages
#: ran: their outputs are left out and the run goes on.
OPTIONAL_STAGES = ("voice",)


@dataclass
class Analysis:
    """Synchrony and moments computed from a feature table (see :func:`analyse_features`)."""

    synchrony: pd.DataFrame
    synchrony_lags: pd.DataFrame
    moments: pd.DataFrame | None
    moment_tests: pd.DataFrame | None
    info: dict[str, Any]
    moment_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    moments_info: dict[str, Any] | None = None


def analyse_features(features: pd.DataFrame, events: pd.DataFrame | None, config: PipelineConfig) -> Analysis:
    """Synchrony of every configured feature and, when events are given, the moments analyses.

    This is the part of a session run after feature extraction, usable on any long feature table (for instance
    motion energy read from MEA files, or simulated series).

    Parameters
    ----------
    features : DataFrame
        Long feature table holding the configured features for both persons.
    events : DataFrame or None
        Events table; None skips the moments analyses.
    config : PipelineConfig

    Returns
    -------
    Analysis
    """
    synchrony, lags_table, info = _synchrony_stage(features, config)
    vocal, vocal_info = _vocal_synchrony_stage(features, config)
    if vocal is not None:
        synchrony = pd.concat([synchrony.astype({"feature": str}), vocal], ignore_index=True)
        synchrony["feature"] = synchrony["feature"].astype("category")
        for name, series in vocal.groupby("feature", sort=False):
            info[str(name)] = {
                "method": "windowed cross-lagged correlation of vocal arousal" if name == "arousal_wcc"
                else "turn-based entrainment (Levitan & Hirschberg 2011)",
                "global_index": float("nan"), "mean_sync": float(np.nanmean(series["sync"]))
                if series["sync"].notna().any() else float("nan"),
                "n_windows": int(series["sync"].notna().sum()), "preprocess": {},
                **{k: v for k, v in vocal_info.items() if k != "series"},
            }
    if events is None:
        return Analysis(synchrony, lags_table, None, None, info)
    result = _moments_stage(features, synchrony, events, config)
    return Analysis(synchrony, lags_table, result.tables["moments"], result.tables["moment_tests"], info,
                    moment_tables=result.tables, moments_info=result.info)


def _vocal_synchrony_stage(features: pd.DataFrame, config: PipelineConfig) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Vocal synchrony series (entrainment, arousal) when the feature table holds the voice features."""
    from ..features.voice import features_to_prosody, turn_table
    from ..synchrony.entrainment import vocal_synchrony

    if "voice" not in config.pipeline.stages or "f0_st" not in feature_names(features):
        return None, {}
    v = config.voice
    prosody = features_to_prosody(features)
    turns = turn_table(prosody, bridge_s=v.bridge_s, min_pause_s=v.min_pause_s)
    return vocal_synchrony(
        prosody, config.persons.names, turns=turns, features=v.entrainment, measures=v.measures,
        window_turns=v.window_turns, step_s=v.step_s, arousal=v.arousal, arousal_window_s=v.arousal_window_s,
        arousal_max_lag_s=v.arousal_max_lag_s, duration_s=float(features["time_s"].max()),
    )


def _synchrony_stage(
    features: pd.DataFrame, config: PipelineConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Windowed cross-lagged synchrony of every configured feature present in the table.

    Returns the synchrony table, the per-lag table and the info per feature. A feature whose synchrony cannot be
    computed (:class:`~dyadsync.errors.AnalysisError`, e.g. no finite value for one person) is left out with a
    :class:`~dyadsync.errors.DyadsyncWarning`; its info is ``{"failed": message, "error_type": name}``, as for a
    failed feature stage.
    """
    s, p = config.synchrony, config.preprocess
    persons = config.persons.names
    rows, lag_rows, info = [], [], {}
    present = feature_names(features)
    for feature in s.features:
        if feature not in present:
            # its stage was skipped (a warning says why)
            continue
        try:
            pair = prepare_pair(
                features,
                feature,
                persons,
                rate_hz=p.rate_hz or None,
                mask_artefacts=p.mask_artefacts,
                max_gap_s=p.max_gap_s,
                smooth_s=p.smooth_s,
                scale=p.scale,
            )
            wcc = windowed_cross_correlation(
                pair.a,
                pair.b,
                rate_hz=pair.rate_hz,
                window_s=s.window_s,
                step_s=s.step_s,
                max_lag_s=s.max_lag_s,
                fisher_z=s.fisher_z,
                absolute=s.absolute,
                min_valid=s.min_valid,
                t0_s=float(pair.times_s[0]),
            )
        except AnalysisError as exc:
            # One feature without usable data (e.g. a face never detected for one person) must not cost the
            # other features' synchrony: it is left out, with a warning and a record in run.json.
            warnings.warn(f"synchrony of {feature} skipped: {exc}", DyadsyncWarning, stacklevel=2)
            info[feature] = {"failed": str(exc), "error_type": type(exc).__name__}
            continue
        table = sync_table(summarize(wcc, summary=s.summary), feature, persons)
        rows.append(table)
        n_w, n_l = wcc.values.shape
        lag_rows.append(
            pd.DataFrame(
                {
                    "time_s": np.repeat(wcc.times_s, n_l),
                    "feature": feature,
                    "lag_s": np.tile(wcc.lags_s, n_w),
                    "value": wcc.values.ravel(),
                }
            )
        )
        info[feature] = {
            "preprocess": pair.info,
            "wcc": wcc.params,
            "global_index": global_index(wcc),
            "mean_sync": float(np.nanmean(table["sync"])),
            "n_windows": int(n_w),
        }
    if not rows:
        empty = empty_sync_table()
        lags_empty = pd.DataFrame({"time_s": pd.Series(dtype=float), "feature": pd.Series(dtype=object),
                                   "lag_s": pd.Series(dtype=float), "value": pd.Series(dtype=float)})
        return empty, lags_empty, info
    synchrony = pd.concat(rows, ignore_index=True)
    lags_table = pd.concat(lag_rows, ignore_index=True)
    for t in (synchrony, lags_table):
        t["feature"] = t["feature"].astype("category")
    return synchrony, lags_table, info


def _moments_stage(
    features: pd.DataFrame, synchrony: pd.DataFrame, events: pd.DataFrame, config: PipelineConfig
) -> MomentsResult:
    """Every configured moments analysis (:func:`dyadsync.moments.session.analyse_moments`)."""
    m = config.moments
    surrogates, records = None, {}
    if {"peaks", "matching", "coincidence"} & set(m.analyses):
        surrogates, records = surrogate_synchrony(features, config)
    window = {f: config.synchrony.window_s for f in config.synchrony.features}
    result = analyse_moments(synchrony, events, m, window_s=window, surrogate_sync=surrogates)
    result.info["surrogates"] = records
    return result


def surrogate_synchrony(
    features: pd.DataFrame, config: PipelineConfig
) -> tuple[dict[str, list[np.ndarray]], dict[str, Any]]:
    """Synchrony of shifted-pair surrogates per feature, with the run's preprocessing and window parameters.

    Used for the synchrony-peak threshold (``[moments] n_surrogates`` pairs, person B circularly shifted against A
    by at least ``surrogate_min_shift_s``, default two windows or 10% of the session). Features absent from the
    table are left out; a feature that cannot be prepared (no finite value) is recorded as
    ``{"failed": message, "error_type": name}`` and left out.
    """
    s, p, m = config.synchrony, config.preprocess, config.moments
    out, records = {}, {}
    present = feature_names(features)
    for k, feature in enumerate(s.features):
        if feature not in present:
            continue
        try:
            pair = prepare_pair(features, feature, config.persons.names, rate_hz=p.rate_hz or None,
                                mask_artefacts=p.mask_artefacts, max_gap_s=p.max_gap_s, smooth_s=p.smooth_s,
                                scale=p.scale)
        except AnalysisError as exc:
            # the synchrony stage has already left this feature out, with a warning
            records[feature] = {"failed": str(exc), "error_type": type(exc).__name__}
            continue
        out[feature], records[feature] = shifted_pair_synchrony(
            pair.a, pair.b, rate_hz=pair.rate_hz, n_surrogates=m.n_surrogates,
            min_shift_s=m.surrogate_min_shift_s or None, summary=s.summary, seed=m.seed + 104729 * (k + 1),
            window_s=s.window_s, step_s=s.step_s, max_lag_s=s.max_lag_s, fisher_z=s.fisher_z, absolute=s.absolute,
            min_valid=s.min_valid,
        )
    return out, records
