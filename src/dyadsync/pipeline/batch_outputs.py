"""What a batch writes once its sessions have run: sessions.csv, failures.csv, the dataset, across/, the report
and batch.json (the folder's layout: :mod:`dyadsync.pipeline.layout`)."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..io.store import write_csv, write_json, write_parquet
from .across import (
    MAX_PSEUDO_DYADS,
    SessionSeries,
    across_moments,
    pseudo_dyad_synchrony,
)
from .config import config_from_dict
from .layout import (
    ACROSS_FILES,
    BATCH_FILES,
    DATASET_TABLES,
    RUN_FILES,
    read_json,
    read_table_file,
    session_dir,
)
from .manifest import Manifest


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
        return self.out_dir / BATCH_FILES["report"]


def write_batch_outputs(man: Manifest, result: BatchResult) -> None:
    """sessions.csv, failures.csv, the partitioned dataset, the batch report and batch.json."""
    out = result.out_dir
    by_id = {o.session: o for o in result.outcomes}
    rows, failure_rows = [], []
    for spec in man.sessions:
        o = by_id[spec.id]
        base = {"session": spec.id, "dyad": spec.dyad, "video": spec.as_dict(man.folder)["video"]}
        if o.status == "failed":
            failure_rows.append({**base, "stage": o.stage, "error_type": o.error_type, "error": o.error,
                                 "from_earlier_run": o.carried_over})
            rows.append({**spec.as_dict(man.folder), "status": "failed", "report": ""})
            continue
        # A complete session may still have lost an optional stage (voice without a sound track): it is listed
        # with the failures, and its other results are kept.
        stage_failures = _failed_stages(session_dir(out, spec.id))
        for stage, info in stage_failures.items():
            failure_rows.append({**base, "stage": stage, "error_type": info.get("error_type", ""),
                                 "error": info.get("failed", ""), "from_earlier_run": o.status == "skipped"})
        rows.append({**spec.as_dict(man.folder), "status": "partial" if stage_failures else "complete",
                     "report": f"sessions/{spec.id}/{RUN_FILES['report']}",
                     **_session_summary(session_dir(out, spec.id))})
    sessions = pd.DataFrame(rows)
    write_csv(sessions, out / BATCH_FILES["sessions"])
    failures = pd.DataFrame(
        failure_rows, columns=["session", "dyad", "video", "stage", "error_type", "error", "from_earlier_run"]
    )
    write_csv(failures, out / BATCH_FILES["failures"])
    dataset = _write_dataset(man, result)
    across = _write_across(man, result, dataset)
    from ..report import write_batch_report

    across_tables = {name: t for name in ACROSS_FILES
                     if (t := read_table_file(out / BATCH_FILES["across"] / ACROSS_FILES[name])) is not None}
    write_batch_report(sessions, failures, across_tables, out / BATCH_FILES["report"], notes=across["notes"])
    # batch.json holds what the results are; what this particular run did (which sessions it computed and which
    # it found complete, the engine, how long) goes to batch_timings.json: an uninterrupted batch and one killed
    # and resumed write the same batch.json.
    status = {o.session: ("failed" if o.status == "failed" else "partial" if _failed_stages(session_dir(out, o.session))
                          else "complete") for o in result.outcomes}
    write_json({
        "dyadsync_version": result.record["dyadsync_version"],
        "manifest": result.record["manifest"],
        "n_sessions": len(result.outcomes),
        "n_complete": sum(v != "failed" for v in status.values()),
        "n_failed": sum(v == "failed" for v in status.values()),
        "across": across,
        "sessions": [{"session": o.session, "status": status[o.session], "key": o.key, "error_type": o.error_type,
                      "error": o.error, "stage": o.stage} for o in result.outcomes],
    }, out / BATCH_FILES["record"])


def _failed_stages(folder: Path) -> dict[str, dict[str, Any]]:
    """Feature stages of a complete session that were skipped because they failed on their input."""
    features = read_json(folder / RUN_FILES["run"]).get("features", {})
    return {stage: info for stage, info in features.items() if isinstance(info, dict) and "failed" in info}


def _session_summary(folder: Path) -> dict[str, Any]:
    """Key figures and QC of a complete session, from its ``run.json`` and ``moment_tests``.

    QC columns: ``detection_<stage>_<person>`` (share of analysed frames in which MediaPipe found the person, 0-1),
    ``speech_<person>`` (share of the recording the person speaks, 0-1), ``artefact_frames`` (frames flagged as
    scene artefacts by the motion stage), ``n_warnings``.
    """
    rec = read_json(folder / RUN_FILES["run"])
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
    tests = folder / RUN_FILES["moment_tests"]
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
            src = session_dir(out, spec.id) / RUN_FILES[name]
            if not src.is_file():
                continue
            table = pd.read_parquet(src)
            if table.empty:  # no rows to add, and its untyped columns would break the dataset's schema
                continue
            table.insert(0, "dyad", spec.dyad)
            table.insert(1, "session_number", pd.array([spec.session_number] * len(table), dtype="Int64"))
            table.insert(2, "group", spec.group)
            part = out / BATCH_FILES["dataset"] / name / f"session={spec.id}"
            write_parquet(table, part / "part-0.parquet")
            written.add(part)
            frames[name].append(table.assign(session=spec.id))
    _remove_stale(out / BATCH_FILES["dataset"], written)
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
    out = result.out_dir / BATCH_FILES["across"]
    found, notes = across_moments(dataset.get("moment_tests"), dataset.get("moment_epochs"),
                                  dataset.get("moments"))
    tables: dict[str, pd.DataFrame | None] = dict(found)
    complete = [o.session for o in result.outcomes if o.status != "failed"]
    specs = {s.id: s for s in man.sessions}
    series, keys = [], []
    for sid in complete:
        folder = session_dir(result.out_dir, sid)
        rec = read_json(folder / RUN_FILES["run"])
        if not rec or not (folder / RUN_FILES["features"]).is_file():
            continue
        config = config_from_dict({k: v for k, v in rec["pipeline"].items() if k != "source"})
        gi = {f: info["global_index"] for f, info in rec.get("synchrony", {}).items()
              if isinstance(info.get("global_index"), (int, float))}
        if any(f in gi for f in config.synchrony.features):
            series.append(SessionSeries(sid, specs[sid].dyad, folder / RUN_FILES["features"], config, gi))
            keys.append([sid, specs[sid].dyad, rec.get("key", "")])
    seed = man.sessions[0].config.moments.seed
    # The pseudo-dyads depend only on the sessions' results (their keys), dyads and the seed: a rerun over the
    # same complete sessions reuses the table instead of recomputing every pair.
    pseudo_key = hashlib.sha256(json.dumps([keys, seed, MAX_PSEUDO_DYADS]).encode()).hexdigest()
    earlier = read_json(result.out_dir / BATCH_FILES["record"]).get("across", {})
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
        files.append(f"{BATCH_FILES['across']}/{ACROSS_FILES[name]}")
    _remove_stale(out, {out / ACROSS_FILES[name] for name in tables})
    record: dict[str, Any] = {"files": files, "notes": notes}
    if "pseudo_dyads" in tables:
        record.update(pseudo_key=pseudo_key, pseudo_notes=earlier.get("pseudo_notes", []))
    return record
