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
import os
import platform
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from .._parallel import release_memory
from ..errors import AnalysisError, DyadsyncWarning, EventsError, InputError
from ..features import parse_rois
from ..io.events import read_events
from ..io.store import write_json, write_parquet
from ..io.tables import concat_tables
from ..io.video import probe_video
from .analysis import analyse_features, synchrony_failed
from .cache import StageCache, file_sha256, stable_hash
from .checks import check_output_dir, check_session, raise_problems
from .config import PipelineConfig, load_pipeline, with_selection
from .layout import ERROR_FILE, RUN_FILES, STAGING_DIR, portable_pipeline, relative_path
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
    absolute_paths: bool = False,
    tiers: Sequence[str] | None = None,
    only_codes: Sequence[str] | None = None,
) -> SessionResult:
    """Run the pipeline on one session video and write its outputs to ``out_dir``.

    Parameters
    ----------
    video : str or Path
        Session video (static camera, two persons).
    out_dir : str or Path
        Output folder (created).
    codes : str, Path, sequence of them, or None
        Coded-events file(s) in any format :func:`~dyadsync.io.events.read_events` reads; several files (one per
        coder: a file that names no coder gets its file name as coder) are combined. Without them the moments
        stage is skipped.
    pipeline : str, Path, PipelineConfig or None
        Pipeline TOML file or a loaded config; None uses the built-in ``body_mea`` defaults.
    progress : callable or None
        Called with a short message as each stage starts.
    absolute_paths : bool, default False
        Record the input files' absolute paths in ``run.json`` and the report; by default they are recorded
        relative to ``out_dir``, so that a run folder can be moved or shared with its inputs beside it without
        telling where they lay on this machine.
    cache : StageCache or None
        Where feature-stage results are kept by content (input hash, stage parameters, version), so that a rerun
        recomputes only what changed. None computes everything.
    tiers, only_codes : sequence of str or None
        Read only these ELAN/TextGrid tiers, analyse only these codes (``--tier``, ``--code``); they replace the
        pipeline's ``[moments] tiers`` and ``codes``. None keeps the pipeline's (empty there: every tier and
        code, free-text tiers left out with a warning).

    Returns
    -------
    SessionResult

    Raises
    ------
    DyadsyncError
        (InputError, VideoError, EventsError, ConfigError, AnalysisError) with a message naming the file and the
        problem. The outputs are built apart (in ``out_dir/.dyadsync-partial``) and replace an earlier complete
        run's only when this one has succeeded, ``run.json`` last: a failed run leaves every earlier file as it
        was and writes its error to ``error.json``.
    """
    config = pipeline if isinstance(pipeline, PipelineConfig) else load_pipeline(pipeline)
    config = with_selection(config, tiers=tiers, codes=only_codes)
    out = Path(out_dir)
    check_output_dir(out)
    staging = out / STAGING_DIR
    if staging.exists():  # left by a run that was killed: never part of a result
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        result, written = _run(Path(video), out, staging, codes, config, progress, cache, absolute_paths)
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        write_json({"error_type": type(exc).__name__, "error": str(exc), "video": str(video),
                    "dyadsync_version": __version__}, out / ERROR_FILE)
        raise
    _commit(staging, out, written)
    return result


def _commit(staging: Path, out: Path, written: list[str]) -> None:
    """Replace the folder's outputs by the new ones: ``run.json`` goes first (from here until the new one is in
    place the folder is not a complete run), outputs this run did not write go, ``run.json`` comes back last."""
    run = RUN_FILES["run"]
    (out / run).unlink(missing_ok=True)
    for name in written:
        if name != run:
            os.replace(staging / name, out / name)
    for name in RUN_FILES.values():
        if name not in written:
            (out / name).unlink(missing_ok=True)
    (out / ERROR_FILE).unlink(missing_ok=True)
    os.replace(staging / run, out / run)
    shutil.rmtree(staging, ignore_errors=True)


def _run(
    video: Path,
    out: Path,
    staging: Path,
    codes: str | Path | Sequence[str | Path] | None,
    config: PipelineConfig,
    progress: Callable[[str], None] | None,
    cache: StageCache | None,
    absolute_paths: bool,
) -> tuple[SessionResult, list[str]]:
    """The session run, writing into ``staging``; returns the result and the file names written."""
    say = progress or (lambda msg: log.info(msg))
    code_files = [] if codes is None else [Path(codes)] if isinstance(codes, (str, Path)) else [Path(c) for c in codes]

    def where(path: Path) -> str:  # input paths as the record keeps them
        return str(Path(path).resolve()) if absolute_paths else relative_path(path, out)

    started = time.perf_counter()
    timings: dict[str, float] = {}
    caught: list[str] = []
    written: list[str] = []

    def save(table: pd.DataFrame, key: str) -> None:
        write_parquet(table, staging / RUN_FILES[key])
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
            stages = config.pipeline.stages
            with_events = bool(code_files) and "moments" in stages
            problems = check_session(config, meta, rois, with_events=with_events)
            events = None
            try:
                events = _read_codes(code_files, meta.duration_s, config) if with_events else None
            except EventsError as exc:
                if not problems:
                    raise
                problems.append(str(exc))  # every problem at once, before any decoding
            raise_problems(problems, config, video)
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
            if synchrony_failed(analysis.info):
                reasons = "; ".join(f"{f}: {i['failed']}" for f, i in analysis.info.items() if "failed" in i)
                raise AnalysisError(f"{video}: no synchrony could be computed for any feature ({reasons})")
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
        "pipeline": {"source": where(config.source) if config.source else "built-in body_mea",
                     **portable_pipeline(config, where)},
        "inputs": {
            "video": {**meta.as_dict(), "path": where(video), "sha256": hashes["video"],
                      "size_bytes": video.stat().st_size},
            "codes": [{"path": where(c), "sha256": h} for c, h in zip(code_files, hashes["codes"])],
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
        write_session_report(record, result.tables, staging / RUN_FILES["report"])
        timings["report_s"] = time.perf_counter() - t
        written.append(RUN_FILES["report"])
    timings["total_s"] = time.perf_counter() - started
    # Timings vary from run to run; they live in their own file so that run.json and every result are
    # byte-identical for identical inputs. run.json is written last: its presence marks a complete session.
    write_json(timings, staging / RUN_FILES["timings"])
    record["outputs"] = [*written, RUN_FILES["timings"], RUN_FILES["run"]]
    write_json(record, staging / RUN_FILES["run"])
    return result, record["outputs"]


def session_key(video_sha256: str, codes_sha256: Sequence[str], config: PipelineConfig) -> str:
    """What a session's results depend on, as one hash: inputs' content, all parameters, dyadsync's version.

    Files named inside the pipeline (a separate audio file, a turn annotation) count by their content too.
    """
    referenced = {str(f): file_sha256(f) for f in referenced_files(config)}
    return stable_hash(__version__, video_sha256, list(codes_sha256), config.as_dict(), referenced)


def _read_codes(files: list[Path], duration_s: float | None, config: PipelineConfig) -> pd.DataFrame:
    """Read and combine the session's codes files (one per coder), each validated against the video."""
    m = config.moments
    return read_events(files if len(files) > 1 else files[0], duration_s=duration_s, codes=m.codes or None,
                       tiers=m.tiers or None, on_outside=m.on_outside)
