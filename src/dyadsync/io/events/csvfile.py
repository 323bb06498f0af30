"""Codes as CSV/TSV: a header row, times in seconds, ``mm:ss`` or ``hh:mm:ss``; comma, semicolon or tab separated.

Innovative-moment coding sheets (``start;end;livello;tipo;...``) are read alike: the column names are recognised
from :data:`CSV_ALIASES` (case and spaces ignored), or given explicitly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..._validate import suggest
from ...errors import EventsError
from ..store import atomic_open
from ..textfile import csv_rows, read_text, show_cells
from .table import CODES_TEXT, events_table, format_time, parse_time

#: Accepted CSV header names (case and spaces ignored) for each canonical field.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "onset": ("onset", "onset_s", "onset_sec", "start", "start_s", "start_time", "begin", "begin_s",
              "begin_time", "time", "time_s", "from"),
    "offset": ("offset", "offset_s", "offset_sec", "end", "end_s", "end_time", "stop", "stop_s", "stop_time", "to"),
    "duration": ("duration", "duration_s", "dur"),
    "code": ("code", "label", "event", "category", "type", "annotation", "value", "behavior", "behaviour", "moment",
             "im_type", "tipo", "categoria"),
    "scheme": ("scheme", "tier", "system", "coding_scheme"),
    "coder": ("coder", "rater", "annotator", "observer"),
}


#: End cells that mean "no end given" (spreadsheets and R write NA for an empty cell).
MISSING_END = frozenset({"", "NA", "N/A", "NaN", "nan"})


def _norm(name: str) -> str:
    return re.sub(r"[\s\-\.]+", "_", name.strip().lower()).strip("_")


def read_csv_events(
    path: str | Path, *, columns: Mapping[str, str] | None = None, default_code: str = "event"
) -> pd.DataFrame:
    """Read a CSV/TSV codes file into an (unvalidated) Events table; :func:`read_events` is the usual entry point.

    Parameters
    ----------
    path : str or Path
    columns : mapping or None
        Explicit header names for the fields ``onset``, ``offset``, ``duration``, ``code``, ``scheme``, ``coder``,
        overriding the automatic recognition (see :data:`CSV_ALIASES`).
    default_code : str, default "event"
        Code of every row when the file has no code column.

    Returns
    -------
    DataFrame
        Events table in file order; ``source`` is ``"<file> line <n>"``.

    Raises
    ------
    EventsError
        For an empty file, an unknown or missing column, an unreadable time or an empty code, naming the line; and
        for rows without an end (an empty ``offset``/``duration`` cell, or ``NA``) in a file whose other rows have
        one. Rows are point events when the file has no end column, or when the end column is empty throughout.
    """
    path = Path(path)
    columns = columns or {}
    text = read_text(path, error=EventsError, what=CODES_TEXT)
    if not text.strip():
        raise EventsError(path, "file is empty")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    rows = csv_rows(text, path, delimiter=delimiter, error=EventsError)
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    unknown_fields = sorted(set(columns) - set(CSV_ALIASES))
    if unknown_fields:
        raise EventsError(path, f"columns= names unknown field(s) {unknown_fields}; fields are {sorted(CSV_ALIASES)}")
    index: dict[str, int] = {}
    normalised = [_norm(h) for h in header]
    for fieldname, aliases in CSV_ALIASES.items():
        if fieldname in columns:
            wanted = columns[fieldname]
            if wanted not in header:
                raise EventsError(
                    path,
                    f"column {wanted!r} (given for {fieldname}) is not in the header; columns are: "
                    f"{show_cells(header)}{suggest(wanted, header)}",
                )
            index[fieldname] = header.index(wanted)
            continue
        for alias in aliases:
            if alias in normalised:
                index[fieldname] = normalised.index(alias)
                break
    if "onset" not in index:
        raise EventsError(
            path,
            f"no onset column: the header has {show_cells(header)}; name the start column one of "
            f"{', '.join(CSV_ALIASES['onset'][:6])}, or pass columns={{'onset': '<name>'}}",
        )
    records = []
    no_end: list[int] = []  # lines whose end (offset or duration) is empty although the file has an end column
    for lineno, row in enumerate(body, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))

        def cell(fieldname: str) -> str:
            return row[index[fieldname]].strip() if fieldname in index else ""

        source = f"{path.name} line {lineno}"
        try:
            onset = parse_time(cell("onset"))
        except EventsError as exc:
            raise EventsError(path, f"line {lineno}: onset: {exc.problem}") from None
        offset = onset
        for fieldname in ("offset", "duration"):
            text = cell(fieldname)
            if text in MISSING_END:
                continue
            try:
                offset = parse_time(text) if fieldname == "offset" else onset + parse_time(text)
            except EventsError as exc:
                raise EventsError(path, f"line {lineno}: {fieldname}: {exc.problem}") from None
            break
        else:
            if "offset" in index or "duration" in index:
                no_end.append(lineno)
        code = cell("code") or (default_code if "code" not in index else "")
        if not code:
            raise EventsError(path, f"line {lineno}: empty code")
        records.append((onset, offset, code, cell("scheme"), cell("coder"), source))
    if not records:
        raise EventsError(path, "no events: the file has a header but no rows")
    if no_end and len(no_end) < len(records):
        # An empty end among filled ones is ambiguous (a point event, or an end not coded yet?); read as a point
        # event it would silently shorten every epoch and match of that event, so the coder decides.
        lines = ", ".join(map(str, no_end[:8])) + (", ..." if len(no_end) > 8 else "")
        column = " or ".join(repr(header[index[f]]) for f in ("offset", "duration") if f in index)
        raise EventsError(
            path, f"line {no_end[0]}: the end ({column}) is empty while other rows have one ({len(no_end)} row(s) "
            f"without an end: line(s) {lines}). Fill in the end, or, for a point event, write the onset again as "
            "its end"
        )
    return events_table(records)


def write_events_csv(events: pd.DataFrame, path: str | Path, *, clock: bool = False, sep: str = ",") -> Path:
    """Write an Events table as CSV (``onset,offset,code,scheme,coder``), atomically.

    Parameters
    ----------
    events : DataFrame
        Events table.
    path : str or Path
    clock : bool, default False
        Write times as ``mm:ss.fff`` instead of seconds.
    sep : str, default ","
        Field separator (``";"`` with ``clock=True`` gives the layout of innovative-moment coding sheets).
    """
    out = pd.DataFrame(
        {
            "onset": events["onset_s"].map(format_time) if clock else events["onset_s"].round(3),
            "offset": events["offset_s"].map(format_time) if clock else events["offset_s"].round(3),
            "code": events["code"],
            "scheme": events["scheme"],
            "coder": events["coder"],
        }
    )
    with atomic_open(path) as fh:
        out.to_csv(fh, index=False, sep=sep)
    return Path(path)
