"""BORIS exports: aggregated (one row per event) and tabular (START/STOP/POINT rows)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pandas as pd

from ..._validate import check_option
from ...errors import EventsError
from ..store import atomic_open
from ..textfile import csv_rows, read_text, show_cells
from .table import CODES_TEXT, events_table, parse_time

#: BORIS's own column names (aggregated export: one row per event; tabular export: START/STOP/POINT rows).
BORIS_AGGREGATED = ("Start (s)", "Stop (s)")
BORIS_SUBJECT_NONE = ("", "No focal subject", "No focal subject ")


def boris_header(lines: list[str]) -> tuple[int, str, str] | None:
    """(line index, "aggregated" or "tabular", delimiter) of a BORIS table header among ``lines``, or None."""
    for i, line in enumerate(lines):
        if "Behavior" not in line:
            continue
        delimiter = max(("\t", ";", ","), key=line.count)
        cells = [c.strip().strip('"') for c in next(csv.reader([line], delimiter=delimiter))]
        if all(c in cells for c in BORIS_AGGREGATED):
            return i, "aggregated", delimiter
        if "Time" in cells and ("Status" in cells or "Behavior type" in cells):
            return i, "tabular", delimiter
    return None


def read_boris(path: str | Path, observation: str | None = None) -> pd.DataFrame:
    """Read a BORIS aggregated or tabular events export (TSV or CSV) into an (unvalidated) Events table.

    The behaviour becomes the code (with its modifiers in parentheses), the subject the scheme (the behavioural
    category when there is no focal subject); BORIS records no coder. :func:`read_events` is the usual entry point.

    Parameters
    ----------
    path : str or Path
    observation : str or None
        The observation to read when the export holds several (an error lists them otherwise).

    Returns
    -------
    DataFrame
        Events table in file order; ``source`` names the line (both lines of a START/STOP pair).

    Raises
    ------
    EventsError
        For a file without a BORIS header, several observations and none chosen, an unreadable time, or unpaired
        START/STOP rows, naming the line.
    """
    path = Path(path)
    text = read_text(path, error=EventsError, what=CODES_TEXT)
    lines = text.splitlines()
    found = boris_header(lines[:60])
    if found is None:
        raise EventsError(path, "not a BORIS export: no header with Behavior and Start (s)/Stop (s) or Time/Status")
    at, kind, delimiter = found
    rows = csv_rows("\n".join(lines[at:]), path, delimiter=delimiter, error=EventsError)
    header = [h.strip() for h in rows[0]]
    col = {h: i for i, h in enumerate(header)}
    obs_col = col.get("Observation id")
    meta_obs = None
    if obs_col is None:  # older tabular exports state the observation above the table
        for line in lines[:at]:
            cells = next(csv.reader([line], delimiter=delimiter), [])
            if len(cells) >= 2 and cells[0].strip() == "Observation id":
                meta_obs = cells[1].strip()

    def cell(row: list[str], name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    body = [(at + 1 + k, r) for k, r in enumerate(rows[1:], start=1) if any(c.strip() for c in r)]
    observations = sorted({cell(r, "Observation id") for _, r in body}) if obs_col is not None else [meta_obs or ""]
    if observation is not None:
        if observation not in observations:
            raise EventsError(path, f"observation {observation!r} not in this export; observations: {show_cells(observations, limit=20)}")
        body = [(n, r) for n, r in body if obs_col is None or cell(r, "Observation id") == observation]
    elif len(observations) > 1:
        raise EventsError(
            path, f"the export holds {len(observations)} observations {observations}; pass observation= to pick one "
            "(one session per events file)"
        )

    def code_scheme(row: list[str]) -> tuple[str, str]:
        behavior = cell(row, "Behavior")
        modifiers = cell(row, "Modifiers") or "|".join(
            cell(row, h) for h in header if h.startswith("Modifier ") and cell(row, h)
        )
        code = f"{behavior} ({modifiers})" if modifiers else behavior
        subject = cell(row, "Subject")
        scheme = subject if subject not in BORIS_SUBJECT_NONE else cell(row, "Behavioral category")
        return code, scheme

    def seconds(row: list[str], name: str, lineno: int) -> float:
        try:
            return parse_time(cell(row, name))
        except EventsError as exc:
            raise EventsError(path, f"line {lineno}: {name}: {exc.problem}") from None

    records: list[tuple[Any, ...]] = []
    if kind == "aggregated":
        for lineno, row in body:
            code, scheme = code_scheme(row)
            if not code:
                raise EventsError(path, f"line {lineno}: empty Behavior")
            onset = seconds(row, "Start (s)", lineno)
            point = cell(row, "Behavior type").upper() == "POINT" or cell(row, "Stop (s)") in ("", "NA")
            offset = onset if point else seconds(row, "Stop (s)", lineno)
            records.append((onset, offset, code, scheme, "", f"{path.name} line {lineno}"))
    else:
        status_col = "Status" if "Status" in col else "Behavior type"
        open_: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for lineno, row in body:
            code, scheme = code_scheme(row)
            t = seconds(row, "Time", lineno)
            status = cell(row, status_col).upper()
            key = (code, scheme)
            if status == "POINT":
                records.append((t, t, code, scheme, "", f"{path.name} line {lineno}"))
            elif status == "START":
                open_.setdefault(key, []).append((t, lineno))
            elif status == "STOP":
                if not open_.get(key):
                    raise EventsError(path, f"line {lineno}: STOP of {code!r} without a START")
                start, start_line = open_[key].pop(0)
                records.append((start, t, code, scheme, "", f"{path.name} lines {start_line}-{lineno}"))
            else:
                raise EventsError(path, f"line {lineno}: {status_col} {status!r} is not START, STOP or POINT")
        unpaired = [(code, line) for (code, _), starts in open_.items() for _, line in starts]
        if unpaired:
            code, line = unpaired[0]
            raise EventsError(path, f"line {line}: START of {code!r} has no STOP ({len(unpaired)} unpaired START(s))")
    if not records:
        raise EventsError(path, "no events: the BORIS export has a header but no rows")
    return events_table(records)


def write_boris(events: pd.DataFrame, path: str | Path, *, kind: str = "aggregated", observation: str = "session",
                duration_s: float | None = None) -> Path:
    """Write an Events table in BORIS's export layout (tab separated), atomically.

    Parameters
    ----------
    events : DataFrame
    path : str or Path
    kind : {"aggregated", "tabular"}, default "aggregated"
        One row per event (``Start (s)``, ``Stop (s)``), or START/STOP/POINT rows (``Time``, ``Status``) after the
        observation's header lines, as BORIS writes them.
    observation : str
        Observation id written to the file.
    duration_s : float or None
        Media length written to the file (default: the last offset).
    """
    check_option("kind", kind, ("aggregated", "tabular"))
    ev = events.sort_values(["onset_s", "offset_s"], kind="stable")
    total = float(duration_s) if duration_s is not None else float(ev["offset_s"].max()) if len(ev) else 0.0
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    if kind == "aggregated":
        w.writerow(["Observation id", "Observation date", "Description", "Observation type", "Source", "Total length",
                    "FPS", "Subject", "Observation duration by subject by observation", "Behavior",
                    "Behavioral category", "Modifiers", "Behavior type", "Start (s)", "Stop (s)", "Duration (s)",
                    "Comment start", "Comment stop"])
        for row in ev.itertuples():
            point = row.offset_s <= row.onset_s
            w.writerow([observation, "", "", "Media file(s)", "", f"{total:.3f}", "", row.scheme, f"{total:.3f}",
                        row.code, "", "", "POINT" if point else "STATE", f"{row.onset_s:.3f}",
                        "NA" if point else f"{row.offset_s:.3f}", "NA" if point else f"{row.offset_s - row.onset_s:.3f}",
                        "", ""])
    else:
        for line in (["Observation id", observation], [""], ["Media file(s)"], [""], ["Observation date", ""], [""],
                     ["Description", ""], [""], [""]):
            w.writerow(line)
        w.writerow(["Time", "Media file path", "Total length", "FPS", "Subject", "Behavior", "Behavioral category",
                    "Comment", "Status"])
        rows = []
        for row in ev.itertuples():
            if row.offset_s <= row.onset_s:
                rows.append((row.onset_s, 1, row.scheme, row.code, "POINT"))
            else:
                rows.append((row.onset_s, 1, row.scheme, row.code, "START"))
                rows.append((row.offset_s, 0, row.scheme, row.code, "STOP"))
        for t, _, scheme, code, status in sorted(rows, key=lambda r: (r[0], r[1])):
            w.writerow([f"{t:.3f}", "", f"{total:.3f}", "", scheme, code, "", "", status])
    with atomic_open(path) as fh:
        fh.write(buf.getvalue())
    return Path(path)
