"""Batch processing: many sessions, resumable, fault-isolated, on local processes or a Dask cluster.

Layout of a batch folder::

    OUT/
      sessions/<id>/        one session's outputs (as `dyadsync run` writes them; run.json marks it complete)
      dataset/<table>/session=<id>/part-0.parquet
                            the complete sessions' tables (DATASET_TABLES) as one dataset, partitioned by session
                            (a session whose table is empty has no partition of it)
      across/               analyses across the complete sessions (see dyadsync.pipeline.across)
        across_dyads.parquet  per-session surrogate z of every moments test combined across dyads (Stouffer, q)
        forest.parquet        per-session estimates of the event-locked test and their combination
        grand_average.parquet event-locked curves averaged over sessions, with the null band
        mixed_model.parquet   epoch-level mixed model contrasts (random intercept per dyad; needs >= 2 dyads)
        pseudo_dyads.parquet  real dyads' global synchrony against pseudo-dyads across sessions, per feature
      sessions.csv          one row per session: status, key figures, QC (detection and speech rates, artefacts)
      failures.csv          one row per failed session: what went wrong, where
      batch_report.html     overview, across-dyad results, forest plots, QC per session, links to session reports
      batch.json            the batch record (manifest, engine, counts, across-dyad files and notes)
      .cache/               stage results by content (input hash + parameters + version)

A file of ``across/`` is absent when it cannot be computed (no session with coded events; a single dyad: no mixed
model; fewer than two dyads: no pseudo-dyads); ``batch.json`` says why under ``across.notes``. The dataset and
``across/`` hold this run's results only: partitions of sessions no longer complete (failed, or gone from the
manifest) and ``across/`` files this run did not write are removed, so that they never mix runs.

Resuming: a session whose ``run.json`` holds the key of its current inputs and parameters is finished and is not
recomputed; a session killed half-way restarts, taking the feature stages that did finish from the cache. Every
file is written atomically, so a kill at any moment leaves no half-written file. A session that failed stays
failed on the next run (its error is carried over) unless its inputs changed or ``retry_failed`` is set.

Engines: each session runs in its own process (a crash in native code fails that session, not the batch), up to
``workers`` at a time (default: all cores); or on a Dask cluster, given its scheduler address, or a local one
started for the batch (``dask_local``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from .._parallel import release_memory, single_threaded_env
from ..errors import ConfigError, DyadsyncError
from ..io.store import write_csv, write_json, write_parquet
from .cache import StageCache, file_sha256
from .config import PipelineConfig
from .manifest import Manifest, SessionSpec, load_manifest
from .session import OUTPUTS, run_session, session_key

#: Tables gathered into the batch dataset (from each session's outputs).
DATASET_TABLES = ("features", "synchrony", "events", "moments", "moment_tests", "moment_epochs")
PROGRESS_FILE = ".progress.json"
ERROR_FILE = "error.json"


@dataclass
class SessionOutcome:
    """How one session of a batch ended.

    Attributes
    ----------
    session : str
    status : {"done", "skipped", "failed"}
        ``skipped`` = already complete with the same inputs and parameters.
    key : str
        Hash of the session's inputs, parameters and dyadsync version.
    error_type, error : str
        For a failed session: the kind of error and its message ('' otherwise).
    stage : str
        The stage that was running when it failed.
    seconds : float
        Wall time of this run of the session (0 when skipped).
    carried_over : bool
        The failure is from an earlier run and was not retried.
    """

    session: str
    status: str
    key: str = ""
    error_type: str = ""
    error: str = ""
    stage: str = ""
    seconds: float = 0.0
    carried_over: bool = False


@dataclass
class BatchResult:
    """Outcome of :func:`run_batch`."""

    out_dir: Path
    outcomes: list[SessionOutcome]
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[SessionOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def report(self) -> Path:
        return self.out_dir / "batch_report.html"


# ------------------------------------------------------------------------------------------ one session


def process_session(spec: SessionSpec, out_dir: str | Path, cache_root: str | Path) -> dict[str, Any]:
    """Run one session of a batch and return its outcome as a plain dict (never raises for a bad session).

    This is what runs inside a worker process or a Dask task. Progress (stage, fraction) goes to
    ``<session>/.progress.json``; a failure is recorded in ``<session>/error.json``.
    """
    _die_with_parent()
    folder = Path(out_dir) / "sessions" / spec.id
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    state = {"stage": "starting", "fraction": 0.0}
    last_write = [0.0]

    def report_progress(stage: str | None = None, fraction: float | None = None) -> None:
        if stage is not None:
            state["stage"], state["fraction"] = stage, 0.0
        if fraction is not None:
            state["fraction"] = float(fraction)
        now = time.monotonic()
        if stage is not None or now - last_write[0] > 0.5:
            last_write[0] = now
            write_json(state, folder / PROGRESS_FILE)

    cache = StageCache(cache_root)
    key = ""
    try:
        key = expected_key(spec, cache)
        # Until this run completes, the folder must not look complete (run.json is written last).
        if _read_json(folder / OUTPUTS["run"]).get("key") != key:
            (folder / OUTPUTS["run"]).unlink(missing_ok=True)
        from ..io.video import frame_progress

        with frame_progress(lambda f: report_progress(fraction=f)):
            run_session(
                spec.video,
                folder,
                codes=spec.codes or None,
                pipeline=spec.config,
                progress=lambda msg: report_progress(stage=msg),
                cache=cache,
            )
        (folder / ERROR_FILE).unlink(missing_ok=True)
        outcome = SessionOutcome(spec.id, "done", key, seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - a batch records every failure and goes on
        expected = isinstance(exc, DyadsyncError)
        outcome = SessionOutcome(
            spec.id,
            "failed",
            key,
            error_type=type(exc).__name__,
            error=str(exc) if expected else f"unexpected error: {exc!r}",
            stage=state["stage"],
            seconds=time.perf_counter() - started,
        )
        record = {**outcome.__dict__}
        if not expected:
            record["traceback"] = traceback.format_exc()
        write_json(record, folder / ERROR_FILE)
    finally:
        (folder / PROGRESS_FILE).unlink(missing_ok=True)
        release_memory()  # the worker's next session starts from what it holds, not from this one's peak
    return outcome.__dict__


def expected_key(spec: SessionSpec, cache: StageCache) -> str:
    """The key the session's ``run.json`` holds once it is complete with the current inputs and parameters."""
    return session_key(cache.content_hash(spec.video), [file_sha256(c) for c in spec.codes], spec.config)


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this worker when the batch process dies (no orphans after a kill -9)."""
    import multiprocessing

    if sys.platform != "linux" or multiprocessing.parent_process() is None:
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------- engines


def _run_local(
    specs: list[SessionSpec],
    out: Path,
    cache_root: Path,
    workers: int,
    poll: Callable[[], None],
    target: Callable[..., None] | None = None,
) -> Iterable[dict[str, Any]]:
    """One fresh process per session (spawned, so no state leaks between sessions), ``workers`` at a time.

    ``target(spec, out, cache_root, connection)`` runs in the child (default: :func:`process_session` behind a
    pipe); a child that dies without sending its outcome fails its session only.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    queue = list(specs)
    running: dict[Any, tuple[Any, Any, SessionSpec]] = {}
    while queue or running:
        while queue and len(running) < workers:
            spec = queue.pop(0)
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=target or _child, args=(spec, str(out), str(cache_root), send), daemon=True,
                               name=f"dyadsync-{spec.id}")
            proc.start()
            send.close()
            running[proc.sentinel] = (proc, recv, spec)
        for sentinel in wait(list(running), timeout=0.5):
            proc, recv, spec = running.pop(sentinel)
            try:
                result = recv.recv() if recv.poll() else None
            except EOFError:  # the child died: its end of the pipe closed without an outcome
                result = None
            recv.close()
            proc.join()
            if result is None:
                code = proc.exitcode
                why = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                result = SessionOutcome(spec.id, "failed", error_type="WorkerCrash",
                                        error=f"the worker process died ({why}) without a result",
                                        stage=_last_stage(out, spec.id)).__dict__
                write_json(result, out / "sessions" / spec.id / ERROR_FILE)
            yield result
        poll()


def _child(spec: SessionSpec, out: str, cache_root: str, conn: Any) -> None:
    os.environ.update(single_threaded_env())
    conn.send(process_session(spec, out, cache_root))
    conn.close()


def _run_dask(
    specs: list[SessionSpec], out: Path, cache_root: Path, client: Any, poll: Callable[[], None]
) -> Iterable[dict[str, Any]]:
    from distributed import as_completed

    futures = {
        client.submit(process_session, spec, str(out), str(cache_root), key=f"dyadsync-session-{spec.id}",
                      pure=False): spec
        for spec in specs
    }
    completed = as_completed(list(futures))
    while not completed.is_empty():
        ready = completed.next_batch(block=False)
        for future in ready:
            spec = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the task's worker died repeatedly
                result = SessionOutcome(spec.id, "failed", error_type=type(exc).__name__,
                                        error=f"the Dask task failed: {exc}",
                                        stage=_last_stage(out, spec.id)).__dict__
                write_json(result, out / "sessions" / spec.id / ERROR_FILE)
            yield result
        if not ready:
            time.sleep(0.5)
        poll()


def _last_stage(out: Path, sid: str) -> str:
    try:
        return json.loads((out / "sessions" / sid / PROGRESS_FILE).read_text()).get("stage", "")
    except (OSError, ValueError):
        return ""


# ----------------------------------------------------------------------------------------------- batch


def run_batch(
    manifest: str | Path | Manifest,
    out_dir: str | Path,
    *,
    pipeline: str | Path | PipelineConfig | None = None,
    glob: str = "*.mp4",
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    retry_failed: bool = False,
    quiet: bool = False,
    progress: bool = True,
) -> BatchResult:
    """Process every session of a manifest; resumable and fault-isolated.

    Parameters
    ----------
    manifest : str, Path or Manifest
        A CSV or TOML manifest, a folder of videos, or a loaded :class:`Manifest`.
    out_dir : str or Path
        Batch folder (see module docstring).
    pipeline : str, Path, PipelineConfig or None
        Default pipeline for sessions that name none (None: built-in ``body_mea``).
    glob : str, default "*.mp4"
        Video pattern when ``manifest`` is a folder.
    workers : int or None
        Sessions run at once on this machine (default: the number of cores).
    scheduler : str or None
        Address of an existing Dask scheduler (``tcp://host:8786``): run the sessions there.
    dask_local : int or None
        Start a local Dask cluster with this many single-threaded worker processes for the batch.
    retry_failed : bool, default False
        Run again the sessions that failed in an earlier run although their inputs did not change.
    quiet : bool, default False
        One log line per session instead of progress bars (for logs and CI).
    progress : bool, default True
        Show progress at all.

    Returns
    -------
    BatchResult

    Raises
    ------
    ManifestError
        Before any work, listing every problem of the manifest.
    ConfigError
        For conflicting engine options.
    """
    if scheduler and dask_local:
        raise ConfigError("give either a Dask scheduler address or --dask-local N, not both")
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest, pipeline=pipeline, glob=glob)
    out = Path(out_dir)
    (out / "sessions").mkdir(parents=True, exist_ok=True)
    cache = StageCache(out / ".cache")
    started = time.perf_counter()

    # Which sessions need work: complete ones (same key in run.json) are skipped, earlier failures carried over.
    todo, outcomes = [], {}
    for spec in man.sessions:
        folder = out / "sessions" / spec.id
        try:
            key = expected_key(spec, cache)
        except OSError as exc:
            outcomes[spec.id] = SessionOutcome(spec.id, "failed", error_type="InputError", error=str(exc))
            continue
        done_key = _read_json(folder / OUTPUTS["run"]).get("key")
        error = _read_json(folder / ERROR_FILE)
        if done_key == key:
            outcomes[spec.id] = SessionOutcome(spec.id, "skipped", key)
        elif error and error.get("key") == key and not retry_failed:
            fields = {k: v for k, v in error.items() if k in SessionOutcome.__dataclass_fields__}
            outcomes[spec.id] = SessionOutcome(**{**fields, "carried_over": True, "seconds": 0.0})
        else:
            todo.append(spec)

    display = _Display(len(man.sessions), len(outcomes), out, quiet=quiet or not progress, enabled=progress)
    for o in outcomes.values():
        display.finished(o)
    engine = "local"
    cluster = client = None
    try:
        if todo:
            if scheduler or dask_local:
                from distributed import Client, LocalCluster

                if scheduler:
                    client = Client(scheduler)
                    engine = f"dask {scheduler}"
                else:
                    cluster = LocalCluster(n_workers=int(dask_local), threads_per_worker=1, processes=True,
                                           dashboard_address=None, env=single_threaded_env())
                    client = Client(cluster)
                    engine = f"dask local x{int(dask_local)}"
                results = _run_dask(todo, out, out / ".cache", client, display.poll)
            else:
                n = max(1, int(workers or os.cpu_count() or 1))
                engine = f"local processes x{n}"
                results = _run_local(todo, out, out / ".cache", n, display.poll)
            display.running = [s.id for s in todo]
            for result in results:
                outcome = SessionOutcome(**result)
                outcomes[outcome.session] = outcome
                display.finished(outcome)
    finally:
        display.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    ordered = [outcomes[s.id] for s in man.sessions]
    record = {
        "dyadsync_version": __version__,
        "manifest": str(man.source) if man.source else None,
        "engine": engine,
        "n_sessions": len(ordered),
        "n_done": sum(o.status == "done" for o in ordered),
        "n_skipped": sum(o.status == "skipped" for o in ordered),
        "n_failed": sum(o.status == "failed" for o in ordered),
    }
    result = BatchResult(out, ordered, record)
    _write_batch_outputs(man, result)
    write_json({"wall_s": time.perf_counter() - started, "engine": engine}, out / "batch_timings.json")
    return result


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_batch_outputs(man: Manifest, result: BatchResult) -> None:
    """sessions.csv, failures.csv, the partitioned dataset, the batch report and batch.json."""
    out = result.out_dir
    by_id = {o.session: o for o in result.outcomes}
    rows, failure_rows = [], []
    for spec in man.sessions:
        o = by_id[spec.id]
        base = {"session": spec.id, "dyad": spec.dyad, "video": str(spec.video)}
        if o.status == "failed":
            failure_rows.append({**base, "stage": o.stage, "error_type": o.error_type, "error": o.error,
                                 "from_earlier_run": o.carried_over})
            rows.append({**spec.as_dict(), "status": "failed", "report": ""})
            continue
        # A complete session may still have lost an optional stage (voice without a sound track): it is listed
        # with the failures, and its other results are kept.
        stage_failures = _failed_stages(out / "sessions" / spec.id)
        for stage, info in stage_failures.items():
            failure_rows.append({**base, "stage": stage, "error_type": info.get("error_type", ""),
                                 "error": info.get("failed", ""), "from_earlier_run": o.status == "skipped"})
        rows.append({**spec.as_dict(), "status": "partial" if stage_failures else "complete",
                     "report": f"sessions/{spec.id}/{OUTPUTS['report']}",
                     **_session_summary(out / "sessions" / spec.id)})
    sessions = pd.DataFrame(rows)
    write_csv(sessions, out / "sessions.csv")
    failures = pd.DataFrame(
        failure_rows, columns=["session", "dyad", "video", "stage", "error_type", "error", "from_earlier_run"]
    )
    write_csv(failures, out / "failures.csv")
    dataset = _write_dataset(man, result)
    across = _write_across(man, result, dataset)
    from ..report.html import write_batch_report

    write_batch_report(sessions, failures, out, out / "batch_report.html", notes=across["notes"])
    write_json({**result.record, "across": across, "sessions": [o.__dict__ for o in result.outcomes]},
               out / "batch.json")


def _failed_stages(folder: Path) -> dict[str, dict[str, Any]]:
    """Feature stages of a complete session that were skipped because they failed on their input."""
    features = _read_json(folder / OUTPUTS["run"]).get("features", {})
    return {stage: info for stage, info in features.items() if isinstance(info, dict) and "failed" in info}


def _session_summary(folder: Path) -> dict[str, Any]:
    """Key figures and QC of a complete session, from its ``run.json`` and ``moment_tests``.

    QC columns: ``detection_<stage>_<person>`` (share of analysed frames in which MediaPipe found the person, 0-1),
    ``speech_<person>`` (share of the recording the person speaks, 0-1), ``artefact_frames`` (frames flagged as
    scene artefacts by the motion stage), ``n_warnings``.
    """
    rec = _read_json(folder / OUTPUTS["run"])
    duration = rec.get("inputs", {}).get("video", {}).get("duration_s")
    summary: dict[str, Any] = {"duration_s": duration, "n_warnings": len(rec.get("warnings", []))}
    features = rec.get("features", {})
    motion = features.get("motion", {})
    if motion:
        summary["artefact_frames"] = motion.get("n_artefact_frames")
    for stage in ("pose", "face"):
        for person, info in (features.get(stage) or {}).get("detection", {}).items():
            summary[f"detection_{stage}_{person}"] = info.get("detection_rate")
    speaking = (features.get("voice") or {}).get("speaking_s", {})
    for person, seconds in speaking.items():
        summary[f"speech_{person}"] = seconds / duration if duration else None
    for feature, info in rec.get("synchrony", {}).items():
        summary[f"global_index_{feature}"] = info.get("global_index")
    tests = folder / OUTPUTS["moment_tests"]
    if tests.is_file():
        t = pd.read_parquet(tests)
        for _, row in t.iterrows():
            summary[f"p_{row['feature']}_{row['code']}"] = row["p_value"]
    return summary


def _write_dataset(man: Manifest, result: BatchResult) -> dict[str, pd.DataFrame]:
    """Write the dataset partitions of the complete sessions, remove every other partition, and return the
    tables concatenated (with ``session``; categorical columns as strings) for the across-session analyses."""
    out = result.out_dir
    complete = {o.session for o in result.outcomes if o.status != "failed"}
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in DATASET_TABLES}
    written: set[Path] = set()
    for spec in man.sessions:
        if spec.id not in complete:
            continue
        for name in DATASET_TABLES:
            src = out / "sessions" / spec.id / OUTPUTS[name]
            if not src.is_file():
                continue
            table = pd.read_parquet(src)
            if table.empty:  # no rows to add, and its untyped columns would break the dataset's schema
                continue
            table.insert(0, "dyad", spec.dyad)
            table.insert(1, "session_number", pd.array([spec.session_number] * len(table), dtype="Int64"))
            table.insert(2, "group", spec.group)
            part = out / "dataset" / name / f"session={spec.id}"
            write_parquet(table, part / "part-0.parquet")
            written.add(part)
            frames[name].append(table.assign(session=spec.id))
    _remove_stale(out / "dataset", written)
    tables = {}
    for name, parts in frames.items():
        if parts:
            table = pd.concat(parts, ignore_index=True)
            for col in table.columns:
                if isinstance(table[col].dtype, pd.CategoricalDtype):
                    table[col] = table[col].astype(str)
            tables[name] = table
    return tables


def _remove_stale(folder: Path, keep: set[Path]) -> None:
    """Remove everything in ``folder`` that is neither in ``keep`` nor on the way to something in it."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if any(k != path and k.is_relative_to(path) for k in keep):
            _remove_stale(path, keep)
        elif path in keep:
            continue
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _write_across(man: Manifest, result: BatchResult, dataset: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The across-dyad moments analyses and the pseudo-dyads, written to ``across/``; stale files removed.

    Returns the ``across`` record of ``batch.json``: ``files`` written and ``notes`` on what was skipped and why.
    """
    from .across import (
        ACROSS_FILES,
        MAX_PSEUDO_DYADS,
        SessionSeries,
        across_moments,
        pseudo_dyad_synchrony,
    )
    from .config import config_from_dict

    out = result.out_dir / "across"
    found, notes = across_moments(dataset.get("moment_tests"), dataset.get("moment_epochs"),
                                  dataset.get("moments"))
    tables: dict[str, pd.DataFrame | None] = dict(found)
    complete = [o.session for o in result.outcomes if o.status != "failed"]
    specs = {s.id: s for s in man.sessions}
    series, keys = [], []
    for sid in complete:
        folder = result.out_dir / "sessions" / sid
        rec = _read_json(folder / OUTPUTS["run"])
        if not rec or not (folder / OUTPUTS["features"]).is_file():
            continue
        config = config_from_dict({k: v for k, v in rec["pipeline"].items() if k != "source"})
        gi = {f: info["global_index"] for f, info in rec.get("synchrony", {}).items()
              if isinstance(info.get("global_index"), (int, float))}
        if any(f in gi for f in config.synchrony.features):
            series.append(SessionSeries(sid, specs[sid].dyad, folder / OUTPUTS["features"], config, gi))
            keys.append([sid, specs[sid].dyad, rec.get("key", "")])
    seed = man.sessions[0].config.moments.seed
    # The pseudo-dyads depend only on the sessions' results (their keys), dyads and the seed: a rerun over the
    # same complete sessions reuses the table instead of recomputing every pair.
    pseudo_key = hashlib.sha256(json.dumps([keys, seed, MAX_PSEUDO_DYADS]).encode()).hexdigest()
    earlier = _read_json(result.out_dir / "batch.json").get("across", {})
    if len({s.dyad for s in series}) >= 2:
        if earlier.get("pseudo_key") == pseudo_key and (out / ACROSS_FILES["pseudo_dyads"]).is_file():
            tables["pseudo_dyads"] = None  # kept as it is
            notes += earlier.get("pseudo_notes", [])
        else:
            pseudo, pseudo_notes = pseudo_dyad_synchrony(series, seed=seed)
            notes += pseudo_notes
            earlier = {"pseudo_notes": pseudo_notes}
            if len(pseudo):
                tables["pseudo_dyads"] = pseudo
    else:
        notes.append(f"pseudo-dyads skipped: they need complete sessions of at least 2 dyads, got "
                     f"{len({s.dyad for s in series})}")
    files = []
    for name, table in tables.items():
        if table is not None:
            write_parquet(table, out / ACROSS_FILES[name])
        files.append(f"across/{ACROSS_FILES[name]}")
    _remove_stale(out, {out / ACROSS_FILES[name] for name in tables})
    record: dict[str, Any] = {"files": files, "notes": notes}
    if "pseudo_dyads" in tables:
        record.update(pseudo_key=pseudo_key, pseudo_notes=earlier.get("pseudo_notes", []))
    return record


def read_dataset(out_dir: str | Path, table: str) -> pd.DataFrame:
    """One table of a batch across sessions, with a ``session`` column (e.g. ``read_dataset(out, "synchrony")``)."""
    path = Path(out_dir) / "dataset" / table
    if not path.is_dir():
        raise DyadsyncError(f"{path}: no such table in the batch dataset; tables are {list(DATASET_TABLES)}")
    return pd.read_parquet(path)


# --------------------------------------------------------------------------------------------- display


class _Display:
    """Progress: a bar for the batch and one per running session (stage and %), or one line per session."""

    def __init__(self, total: int, already: int, out: Path, *, quiet: bool, enabled: bool) -> None:
        self.out, self.quiet, self.enabled = out, quiet, enabled
        self.total, self.n_done = total, 0
        self.running: list[str] = []
        self.bars: dict[str, Any] = {}
        self.batch = None
        if enabled and not quiet:
            from tqdm import tqdm

            self._tqdm = tqdm
            self.batch = tqdm(total=total, desc="batch", unit="session", position=0, leave=True, file=sys.stderr)

    def finished(self, o: SessionOutcome) -> None:
        self.n_done += 1
        if not self.enabled:
            return
        if self.batch is not None:
            self.batch.update(1)
            bar = self.bars.pop(o.session, None)
            if bar is not None:
                bar.close()
            if o.status == "failed":
                self.batch.write(f"failed: {o.session}: {o.error}", file=sys.stderr)
        else:
            what = {"done": "done", "skipped": "already complete", "failed": f"FAILED: {o.error}"}[o.status]
            extra = f" ({o.seconds:.1f} s)" if o.status == "done" else ""
            print(f"[{self.n_done}/{self.total}] {o.session}: {what}{extra}", file=sys.stderr, flush=True)

    def poll(self) -> None:
        if self.batch is None:
            return
        for sid in self.running:
            state = _read_json(self.out / "sessions" / sid / PROGRESS_FILE)
            if not state:
                continue
            bar = self.bars.get(sid)
            if bar is None:
                bar = self._tqdm(total=100, desc=sid, position=len(self.bars) + 1, leave=False, file=sys.stderr,
                                 bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
                self.bars[sid] = bar
            bar.n = int(100 * float(state.get("fraction", 0)))
            bar.set_postfix_str(str(state.get("stage", "")), refresh=False)
            bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        if self.batch is not None:
            self.batch.close()
