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

import json
import os
import pickle
import socket
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import __version__
from .._parallel import die_with_parent, guarded_child, release_memory, single_threaded_env
from ..errors import ConfigError, DyadsyncError, InputError
from ..io.store import write_json
from .batch_outputs import BatchResult, SessionOutcome, write_batch_outputs
from .cache import StageCache, file_sha256
from .checks import check_output_dir
from .config import PipelineConfig
from .display import BatchDisplay
from .layout import (
    BATCH_FILES,
    ERROR_FILE,
    PROGRESS_FILE,
    RUN_FILES,
    read_json,
    relative_path,
    session_dir,
)
from .lock import FolderLock, remove_leftovers
from .manifest import Manifest, SessionSpec, load_manifest
from .session import run_session, session_key

# ------------------------------------------------------------------------------------------ one session


def process_session(spec: SessionSpec, out_dir: str | Path, cache_root: str | Path) -> dict[str, Any]:
    """Run one session of a batch and return its outcome as a plain dict (never raises for a bad session).

    This is what runs inside a worker process or a Dask task. Progress (stage, fraction) goes to
    ``<session>/.progress.json``; a failure is recorded in ``<session>/error.json``.
    """
    import multiprocessing

    if multiprocessing.parent_process() is not None:  # a worker process (local, or a Dask worker's): dies with it
        die_with_parent()
    if not Path(out_dir).is_dir():
        # On a worker that does not see the batch's folder, creating it here would hide the results on this worker
        return SessionOutcome(spec.id, "failed", error_type="InputError",
                              error=str(InputError(out_dir, f"the batch's output folder is not there on {worker_name()}: "
                                                   "every worker of a cluster needs it (a shared file system)")),
                              stage="starting").__dict__
    folder = session_dir(out_dir, spec.id)
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
        check_worker_paths(spec, folder)
        key = expected_key(spec, cache)
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


def worker_name() -> str:
    """This process as a failure message names it: the Dask worker's address, or the host and process id."""
    try:
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except (ImportError, ValueError):
        return f"{socket.gethostname()} (process {os.getpid()})"


def check_worker_paths(spec: SessionSpec, folder: Path) -> None:
    """Every input of the session is readable and its output folder writable here, before any work.

    On a cluster each worker must see the same paths (the same files at the same absolute paths, or a shared
    file system); a worker that does not fails this session with a message naming the path and the worker.

    Raises
    ------
    InputError
    """
    here = worker_name()
    inputs = [spec.video, *spec.codes, *([spec.audio] if spec.audio else []),
              *([spec.config.source] if spec.config.source else [])]
    for path in inputs:
        if not Path(path).is_file():
            raise InputError(path, f"not found on {here}: every worker of a cluster needs the batch's inputs at "
                                   "the same absolute paths (a shared file system)")
    if not os.access(folder, os.W_OK):
        raise InputError(folder, f"cannot be written on {here}: every worker needs the batch's output folder")


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
            payload = pickle.dumps((target or _child, (spec, str(out), str(cache_root))))
            proc = ctx.Process(target=guarded_child, args=(payload, os.getpid(), send), daemon=True,
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
                write_json(result, session_dir(out, spec.id) / ERROR_FILE)
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
                write_json(result, session_dir(out, spec.id) / ERROR_FILE)
            yield result
        if not ready:
            time.sleep(0.5)
        poll()


def _last_stage(out: Path, sid: str) -> str:
    try:
        return json.loads((session_dir(out, sid) / PROGRESS_FILE).read_text()).get("stage", "")
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
    tiers: list[str] | None = None,
    only_codes: list[str] | None = None,
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
    tiers, only_codes : list of str or None
        The ELAN/TextGrid tiers to read and the codes to analyse in every session (see
        :func:`~dyadsync.pipeline.manifest.load_manifest`).

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
    for name, value in (("--workers", workers), ("--dask-local", dask_local)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be a whole number of at least 1, got {value!r}")
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest, pipeline=pipeline, glob=glob,
                                                                         tiers=tiers, only_codes=only_codes)
    out = Path(out_dir).absolute()  # the workers (maybe on a cluster, in other folders) get absolute paths
    check_output_dir(out)
    with FolderLock(out, "batch"):
        remove_leftovers(out)  # of a batch that was killed: half-written files never count
        return _run_batch(man, out, workers=workers, scheduler=scheduler, dask_local=dask_local,
                          retry_failed=retry_failed, quiet=quiet, progress=progress)


def _run_batch(man: Manifest, out: Path, *, workers: int | None, scheduler: str | None, dask_local: int | None,
               retry_failed: bool, quiet: bool, progress: bool) -> BatchResult:
    (out / BATCH_FILES["sessions_dir"]).mkdir(parents=True, exist_ok=True)
    cache = StageCache(out / BATCH_FILES["cache"])
    started = time.perf_counter()

    # Which sessions need work: complete ones (same key in run.json) are skipped, earlier failures carried over.
    todo, outcomes = [], {}
    for spec in man.sessions:
        folder = session_dir(out, spec.id)
        try:
            key = expected_key(spec, cache)
        except OSError as exc:
            outcomes[spec.id] = SessionOutcome(spec.id, "failed", error_type="InputError", error=str(exc))
            continue
        done_key = read_json(folder / RUN_FILES["run"]).get("key")
        error = read_json(folder / ERROR_FILE)
        if done_key == key:
            outcomes[spec.id] = SessionOutcome(spec.id, "skipped", key)
        elif error and error.get("key") == key and not retry_failed:
            fields = {k: v for k, v in error.items() if k in SessionOutcome.__dataclass_fields__}
            outcomes[spec.id] = SessionOutcome(**{**fields, "carried_over": True, "seconds": 0.0})
        else:
            todo.append(spec)

    display = BatchDisplay(len(man.sessions), len(outcomes), out, quiet=quiet or not progress, enabled=progress)
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
                results = _run_dask(todo, out, out / BATCH_FILES["cache"], client, display.poll)
            else:
                n = max(1, int(workers or os.cpu_count() or 1))
                engine = f"local processes x{n}"
                results = _run_local(todo, out, out / BATCH_FILES["cache"], n, display.poll)
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
        "manifest": relative_path(man.source, out) if man.source else None,
        "engine": engine,
        "n_sessions": len(ordered),
        "n_done": sum(o.status == "done" for o in ordered),
        "n_skipped": sum(o.status == "skipped" for o in ordered),
        "n_failed": sum(o.status == "failed" for o in ordered),
    }
    result = BatchResult(out, ordered, record)
    write_batch_outputs(man, result)
    write_json({"wall_s": time.perf_counter() - started, **{k: v for k, v in record.items() if k.startswith(("n_", "engine"))},
                "sessions": [{"session": o.session, "status": o.status, "seconds": o.seconds,
                              "carried_over": o.carried_over} for o in ordered]}, out / BATCH_FILES["timings"])
    return result
