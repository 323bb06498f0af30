"""Run one session through a pipeline: video -> features -> synchrony -> moments -> report.

Every input is checked before the long work starts (the video opens, the codes parse and fit the video, the
pipeline is valid), every output is written atomically, outputs of an earlier run into the same folder that this
run does not write are removed, and ``run.json`` records what was done: inputs, parameters, versions, warnings
and the files written (wall-clock timings go to ``timings.json``). The stages live in
:mod:`~dyadsync.pipeline.stages` (features) and :mod:`~dyadsync.pipeline.analysis` (synchrony and moments); the
file names in :mod:`~dyadsync.pipeline.layout`.
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

import pandas as pd

from .. import __version__
from .._parallel import release_memory
from ..errors import DyadsyncWarning, InputError
from ..features import parse_rois
from ..io.events import read_events
from ..io.store import write_json, write_parquet
from ..io.tables import concat_tables
from ..io.video import probe_video
from ..moments.session import MOMENT_TABLES
from .analysis import analyse_features
from .cache import StageCache, file_sha256, stable_hash
from .config import PipelineConfig, load_pipeline
from .layout import RUN_FILES
from .stages import FEATURE_STAGES, OPTIONAL_STAGES, FeatureStages, referenced_files

log = logging.getLogger("dyadsync")


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
        return self.out_dir / RUN_FILES["report"]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the run by name (the keys of :data:`~dyadsync.pipeline.layout.RUN_FILES`)."""
        found = {"features": self.features, "synchrony": self.synchrony, "synchrony_lags": self.synchrony_lags,
                 "events": self.events, **self.moment_tables}
        return {k: v for k, v in found.items() if v is not None}


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
        write_parquet(table, out / RUN_FILES[key])
        written.append(RUN_FILES[key])

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
            tables, feature_info, extra = [], {}, {}
            runner = FeatureStages(video, config, meta, rois, cache, hashes["video"])
            for stage in stages:
                if stage not in FEATURE_STAGES:
                    continue
                say(stage)
                t = time.perf_counter()
                try:
                    output = runner.run(stage, tables)
                    feature_info[stage] = output.info
                    extra.update(output.extra)
                    if output.timings is not None:
                        timings[f"{stage}_detail"] = output.timings
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
                tables.append(output.table)
            features = concat_tables(tables)
            tables.clear()  # the stage tables are in ``features`` now (a 30-min session: ~150 MB)
            output = runner = None
            save(features, "features")
            release_memory()

            # --- synchrony and moments
            say("synchrony and moments" if events is not None else "synchrony")
            t = time.perf_counter()
            analysis = analyse_features(features, events, config, turns=extra.get("turns"))
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
        from ..report import write_session_report

        t = time.perf_counter()
        write_session_report(record, result.tables, out / RUN_FILES["report"])
        timings["report_s"] = time.perf_counter() - t
        written.append(RUN_FILES["report"])
    timings["total_s"] = time.perf_counter() - started
    # Timings vary from run to run; they live in their own file so that run.json and every result are
    # byte-identical for identical inputs. run.json is written last: its presence marks a complete session.
    write_json(timings, out / RUN_FILES["timings"])
    record["outputs"] = [*written, RUN_FILES["timings"], RUN_FILES["run"]]
    write_json(record, out / RUN_FILES["run"])
    return result


def _planned_outputs(config: PipelineConfig, *, with_events: bool) -> set[str]:
    """File names (values of :data:`RUN_FILES`) a run with this pipeline writes, run.json excepted."""
    keys = {"features", "synchrony", "synchrony_lags", "timings"}
    if with_events:
        keys |= {"events", *MOMENT_TABLES}
    if "report" in config.pipeline.stages:
        keys.add("report")
    return {RUN_FILES[k] for k in keys}


def _remove_stale(out: Path, keep: set[str]) -> None:
    """Delete every output file of :data:`RUN_FILES` in ``out`` whose name is not in ``keep``."""
    for name in RUN_FILES.values():
        if name not in keep:
            (out / name).unlink(missing_ok=True)


def session_key(video_sha256: str, codes_sha256: Sequence[str], config: PipelineConfig) -> str:
    """What a session's results depend on, as one hash: inputs' content, all parameters, dyadsync's version.

    Files named inside the pipeline (a separate audio file, a turn annotation) count by their content too.
    """
    referenced = {str(f): file_sha256(f) for f in referenced_files(config)}
    return stable_hash(__version__, video_sha256, list(codes_sha256), config.as_dict(), referenced)


def _read_codes(files: list[Path], duration_s: float | None, config: PipelineConfig) -> pd.DataFrame:
    """Read and combine the session's codes files, each validated against the video."""
    parts = [
        read_events(f, duration_s=duration_s, codes=config.moments.codes or None, on_outside=config.moments.on_outside)
        for f in files
    ]
    events = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return events.sort_values(["onset_s", "offset_s", "code"], kind="stable").reset_index(drop=True)
