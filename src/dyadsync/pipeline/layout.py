"""Where everything lives in the folders dyadsync writes, and reading a finished one back.

This module is the one owner of the output file names: a session's run folder (``dyadsync run``), the folder of a
moments analysis over finished runs (``dyadsync moments``) and a batch folder (``dyadsync batch``). Nothing else
spells a file name; everything that reads a finished run (the moments reanalysis, the batch's across-dyad
analyses, the viewer and exports) goes through :func:`load_run`.

Run folder::

    features.parquet  synchrony.parquet  synchrony_lags.parquet  events.parquet
    <moment table>.parquet (one per table of dyadsync.moments.MOMENT_TABLES)
    report.html  timings.json  run.json (written last: its presence marks a complete run)

Batch folder: see :mod:`dyadsync.pipeline.batch`.

Export folder (``dyadsync export``; by default ``review/`` inside the run folder), for a recording or coder's file
``<stem>``::

    <stem>_dyadsync.eaf  <stem>_dyadsync_tsconf.xml  <stem>_dyadsync.TextGrid
    <stem>_sync_<feature>.csv  <stem>_<feature>.csv (time-series tracks)  export.json
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DyadsyncError, InputError
from ..moments.session import MOMENT_TABLES

# ------------------------------------------------------------------------------------------------ run folder

#: Output files of a session run, relative to its output folder.
RUN_FILES = {
    "features": "features.parquet",
    "synchrony": "synchrony.parquet",
    "synchrony_lags": "synchrony_lags.parquet",
    "moments": "moments.parquet",
    "moment_tests": "moment_tests.parquet",
    "events": "events.parquet",
    "report": "report.html",
    "timings": "timings.json",
    "run": "run.json",
    **{name: f"{name}.parquet" for name in MOMENT_TABLES if name not in ("moments", "moment_tests")},
}

#: Where a run builds its outputs before they replace the folder's (removed when the run ends, or by the next run
#: into the folder after a kill).
STAGING_DIR = ".dyadsync-partial"

# ------------------------------------------------------------------------------- moments over finished runs

#: Files of ``dyadsync moments`` besides the per-session moment tables (``<name>.parquet``).
MOMENTS_FILES = {
    "sessions": "sessions.parquet",
    "events": "events.parquet",
    "combined": "across_dyads.parquet",
    "forest": "forest.parquet",
    "grand_average": "grand_average.parquet",
    "mixed_model": "mixed_model.parquet",
    "report": "moments_report.html",
    "record": "moments_run.json",
}

#: Files of ``dyadsync moments`` when dial ratings are given.
DIAL_FILES = {"dial_congruence": "dial_congruence.parquet", "dial_summary": "dial_summary.parquet"}

#: The folder of figures for papers (SVG and PNG) in a moments folder.
FIGURES_DIR = "figures"

# ------------------------------------------------------------------------------------------------ batch folder

#: Files and folders of a batch folder.
BATCH_FILES = {
    "sessions_dir": "sessions",
    "dataset": "dataset",
    "across": "across",
    "cache": ".cache",
    "sessions": "sessions.csv",
    "failures": "failures.csv",
    "report": "batch_report.html",
    "record": "batch.json",
    "timings": "batch_timings.json",
}

#: Files a batch keeps in a session's folder while it runs (progress); the record of a run that failed (a batch adds
#: the stage and its key).
PROGRESS_FILE = ".progress.json"
ERROR_FILE = "error.json"

#: Tables gathered into the batch dataset (from each session's outputs).
DATASET_TABLES = ("features", "synchrony", "events", "moments", "moment_tests", "moment_epochs")

#: Files of a batch's ``across/`` folder: the across-dyad moments tables (named as ``dyadsync moments`` names
#: them) and the pseudo-dyads.
ACROSS_FILES = {
    **{k: MOMENTS_FILES[k] for k in ("combined", "forest", "grand_average", "mixed_model")},
    "pseudo_dyads": "pseudo_dyads.parquet",
}


# ------------------------------------------------------------------------------------------------ mea folder

#: Files and folders of ``dyadsync mea`` (a folder per group of existing MEA files goes in).
MEA_FILES = {
    "dyads_dir": "dyads",
    "figures_dir": FIGURES_DIR,
    "summary": "summary.csv",
    "pseudo": "pseudo.csv",
    "groups": "groups.csv",
    "failures": "failures.csv",
    "run": "run.json",
    "timings": "timings.json",
}


def session_dir(batch_dir: str | Path, session: str) -> Path:
    """The run folder of one session of a batch."""
    return Path(batch_dir) / BATCH_FILES["sessions_dir"] / session


# ------------------------------------------------------------------------------------------ paths in records


def relative_path(path: str | Path, base: str | Path) -> str:
    """``path`` relative to the folder ``base`` (``../videos/s01.mp4``), with ``/`` on every system; the
    absolute path where there is no relative one (another drive)."""
    target, start = Path(path).resolve(), Path(base).resolve()
    try:
        return Path(os.path.relpath(target, start)).as_posix()
    except ValueError:  # Windows: another drive
        return str(target)


def resolve_recorded(path: str, run_dir: str | Path) -> Path:
    """An input path from a record: relative ones are relative to the run folder."""
    p = Path(path)
    return p if p.is_absolute() else (Path(run_dir) / p).resolve()


#: Settings of a pipeline that name files (written relative to the pipeline file, or absolute).
PATH_SETTINGS = (("voice", "audio"), ("voice", "speakers"), ("face", "blendshapes_model"))


def portable_pipeline(config: Any, where: Callable[[Path], str]) -> dict[str, Any]:
    """A pipeline's settings for a record, the files it names given by ``where`` (e.g. relative to the run)."""
    data = config.as_dict()
    for section, key in PATH_SETTINGS:
        value = data[section][key]
        if value and value not in ("channels", "auto"):
            path = Path(value).expanduser()
            if not path.is_absolute() and config.source is not None:
                path = Path(config.source).parent / path
            if path.exists():
                data[section][key] = where(path)
    return data


# ---------------------------------------------------------------------------------------- reading runs back


@dataclass
class RunData:
    """What a finished run folder holds: its synchrony, features, events and run record (``run.json``)."""

    run_dir: Path
    synchrony: pd.DataFrame
    features: pd.DataFrame | None
    events: pd.DataFrame | None
    record: dict[str, Any]

    def table(self, name: str) -> pd.DataFrame | None:
        """Another table of the run (a key of :data:`RUN_FILES`), or None when the run did not write it."""
        return read_table(self.run_dir, name)


def read_record(run_dir: str | Path) -> dict[str, Any]:
    """A run's ``run.json`` as a dict, or ``{}`` when it is missing or unreadable (an incomplete run)."""
    return read_json(Path(run_dir) / RUN_FILES["run"])


def read_json(path: str | Path) -> dict[str, Any]:
    """A JSON object written by dyadsync, or ``{}`` when the file is missing or not valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def read_table(run_dir: str | Path, name: str) -> pd.DataFrame | None:
    """One table of a run folder by name (a key of :data:`RUN_FILES`), or None when it is not there."""
    return read_table_file(Path(run_dir) / RUN_FILES[name])


def read_table_file(path: str | Path) -> pd.DataFrame | None:
    """A Parquet table, or None when the file is not there."""
    return pd.read_parquet(path) if Path(path).is_file() else None


def load_run(run_dir: str | Path) -> RunData:
    """Read a run folder's synchrony, features, events and run record.

    Raises
    ------
    InputError
        When the folder, its ``run.json`` or its ``synchrony.parquet`` is missing.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "run folder not found (a folder written by `dyadsync run`)")
    for key in ("run", "synchrony"):
        if not (run_dir / RUN_FILES[key]).is_file():
            raise InputError(run_dir, f"no {RUN_FILES[key]}: not a finished `dyadsync run` folder")
    record = json.loads((run_dir / RUN_FILES["run"]).read_text())
    return RunData(run_dir, pd.read_parquet(run_dir / RUN_FILES["synchrony"]), read_table(run_dir, "features"),
                   read_table(run_dir, "events"), record)


def read_dataset(out_dir: str | Path, table: str) -> pd.DataFrame:
    """One table of a batch across sessions, with a ``session`` column (e.g. ``read_dataset(out, "synchrony")``)."""
    path = Path(out_dir) / BATCH_FILES["dataset"] / table
    if not path.is_dir():
        raise DyadsyncError(f"{path}: no such table in the batch dataset; tables are {list(DATASET_TABLES)}")
    return pd.read_parquet(path)


# ---------------------------------------------------------------------------------------------- export folder

#: The folder ``dyadsync export`` writes into inside a run folder (unless given ``--into``).
EXPORT_DIR = "review"
#: The export's record: what was written from which run, with each file's SHA-256 (so that a new export replaces
#: only files nobody changed since).
EXPORT_RECORD = "export.json"


def export_names(stem: str, features: list[str]) -> dict[str, Any]:
    """File names of an export for the recording (or coder's ELAN file) ``stem`` and the synchrony features.

    Returns ``{"eaf", "tsconf", "textgrid", "record"}`` -> name, and ``"sync_csv"``, ``"feature_csv"`` -> {feature:
    name}. The configuration is named as ELAN names it: the ``.eaf`` name without ``.eaf``, plus ``_tsconf.xml``.
    """
    from ..io.elan_tracks import TSCONF_SUFFIX

    def safe(text: str) -> str:
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(text))

    eaf = f"{stem}_dyadsync.eaf"
    return {
        "eaf": eaf,
        "tsconf": eaf[: -len(".eaf")] + TSCONF_SUFFIX,
        "textgrid": f"{stem}_dyadsync.TextGrid",
        "record": EXPORT_RECORD,
        "sync_csv": {f: f"{stem}_sync_{safe(f)}.csv" for f in features},
        "feature_csv": {f: f"{stem}_{safe(f)}.csv" for f in features},
    }
