"""Run one session through a pipeline: video -> features -> synchrony -> moments -> report.

Every input is checked before the long work starts (the video opens, the codes parse and fit the video, the
pipeline is valid), every output is written atomically, and ``run.json`` records what was done: inputs,
parameters, versions, warnings, timings and the files written.
"""

from __future__ import annotations

import hashlib
import logging
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import DyadsyncWarning
from ..features import ROI, motion_energy, parse_rois
from ..io.events import read_events
from ..io.store import write_json, write_parquet
from ..io.video import VideoInfo, probe_video
from ..moments.peaks import shifted_pair_synchrony
from ..moments.session import MOMENT_TABLES, MomentsResult, analyse_moments
from ..preprocess import prepare_pair
from ..synchrony import global_index, summarize, windowed_cross_correlation
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
    codes: str | Path | None = None,
    pipeline: str | Path | PipelineConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> SessionResult:
    """Run the pipeline on one session video and write its outputs to ``out_dir``.

    Parameters
    ----------
    video : str or Path
        Session video (static camera, two persons).
    out_dir : str or Path
        Output folder (created).
    codes : str or Path or None
        Coded events (CSV or ELAN ``.eaf``); without them the moments stage is skipped.
    pipeline : str, Path, PipelineConfig or None
        Pipeline TOML file or a loaded config; None uses the built-in ``body_mea`` defaults.
    progress : callable or None
        Called with a short message as each stage starts.

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
            if codes is not None and "moments" in stages:
                events = read_events(
                    codes,
                    duration_s=meta.duration_s,
                    codes=config.moments.codes or None,
                    on_outside=config.moments.on_outside,
                )

            # --- features: every feature stage of the pipeline, in its order
            tables, feature_info = [], {}
            for stage in stages:
                if stage not in FEATURE_STAGES:
                    continue
                say(stage)
                t = time.perf_counter()
                table, feature_info[stage] = FEATURE_STAGES[stage](video, config, meta, rois)
                timings[f"{stage}_s"] = time.perf_counter() - t
                tables.append(table)
            features = _combine(tables)
            save(features, "features")

            # --- synchrony and moments
            say("synchrony and moments" if events is not None else "synchrony")
            t = time.perf_counter()
            analysis = analyse_features(features, events, config)
            timings["synchrony_moments_s"] = time.perf_counter() - t
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
        # Whatever happened, the warnings reach the caller (and, below, the run record).
        for w in records:
            if issubclass(w.category, DyadsyncWarning):
                caught.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    record = {
        "dyadsync_version": __version__,
        "python": platform.python_version(),
        "pipeline": {"source": str(config.source) if config.source else "built-in body_mea", **config.as_dict()},
        "inputs": {
            "video": {**meta.as_dict(), "sha256": _sha256(video), "size_bytes": video.stat().st_size},
            "codes": None if codes is None else {"path": str(codes), "sha256": _sha256(Path(codes))},
        },
        "features": feature_info,
        "synchrony": analysis.info,
        "moments": analysis.moments_info,
        "warnings": caught,
        "timings": timings,
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
    record["outputs"] = [*written, OUTPUTS["run"]]
    write_json(record, out / OUTPUTS["run"])
    return result


def _combine(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """One long feature table from the stages' tables (categories re-derived over all of them)."""
    if len(tables) == 1:
        return tables[0]
    combined = pd.concat([t.astype({"person": str, "feature": str}) for t in tables], ignore_index=True)
    return combined.astype({"person": "category", "feature": "category"})


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


#: Feature stages by name: ``stage(video, config, meta, rois) -> (long feature table, info)``. The features each
#: one provides are listed in :func:`dyadsync.pipeline.config.stage_features`.
FEATURE_STAGES: dict[str, Callable[[Path, PipelineConfig, VideoInfo, list[ROI]], tuple[pd.DataFrame, dict[str, Any]]]] = {
    "motion": _motion_stage,
}


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
    if events is None:
        return Analysis(synchrony, lags_table, None, None, info)
    result = _moments_stage(features, synchrony, events, config)
    return Analysis(synchrony, lags_table, result.tables["moments"], result.tables["moment_tests"], info,
                    moment_tables=result.tables, moments_info=result.info)


def _synchrony_stage(
    features: pd.DataFrame, config: PipelineConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    s, p = config.synchrony, config.preprocess
    persons = config.persons.names
    rows, lag_rows, info = [], [], {}
    for feature in s.features:
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
        table = summarize(wcc, summary=s.summary)
        table.insert(1, "feature", feature)
        table.insert(2, "person_a", persons[0])
        table.insert(3, "person_b", persons[1])
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
    by at least ``surrogate_min_shift_s``, default two windows or 10% of the session).
    """
    s, p, m = config.synchrony, config.preprocess, config.moments
    out, records = {}, {}
    for k, feature in enumerate(s.features):
        pair = prepare_pair(features, feature, config.persons.names, rate_hz=p.rate_hz or None,
                            mask_artefacts=p.mask_artefacts, max_gap_s=p.max_gap_s, smooth_s=p.smooth_s,
                            scale=p.scale)
        out[feature], records[feature] = shifted_pair_synchrony(
            pair.a, pair.b, rate_hz=pair.rate_hz, n_surrogates=m.n_surrogates,
            min_shift_s=m.surrogate_min_shift_s or None, summary=s.summary, seed=m.seed + 104729 * (k + 1),
            window_s=s.window_s, step_s=s.step_s, max_lag_s=s.max_lag_s, fisher_z=s.fisher_z, absolute=s.absolute,
            min_valid=s.min_valid,
        )
    return out, records


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
