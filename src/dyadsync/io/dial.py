"""Continuous dial ratings (e.g. client and therapist rating the session moment by moment on a 0-100 scale).

``read_dial`` reads a CSV (comma, semicolon or tab separated) in either of two shapes:

* **wide**: a time column (``time``, ``time_s``, ``t``, ``seconds``; seconds, ``mm:ss`` or ``hh:mm:ss``) and one
  column per rater (``client``, ``therapist``...);
* **long**: ``time``, ``rater`` and ``value`` columns.

It returns a long table ``time_s``, ``rater``, ``value`` and checks as it goes, naming the file and the line: times
that do not parse or go backwards, values that are not numbers (``inf`` included) or lie outside the scale. An
empty cell (or ``NA``) is a missing rating: NaN, never interpolated here. Text decoding and the refusal of binary
files are those of every text input (:mod:`dyadsync.io.textfile`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import EventsError
from .events.table import parse_time
from .textfile import csv_rows, read_text, show_cells

#: Cells that mean "no rating here" (read as NaN).
MISSING = frozenset({"", "NA", "N/A", "NaN", "nan"})
# A rating: a plain decimal number (point or comma), optionally signed or with an exponent; never inf or nan.
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII)

TIME_NAMES = ("time", "time_s", "t", "seconds", "sec", "timestamp", "onset", "onset_s")
DIAL_COLUMNS = ("time_s", "rater", "value")


def read_dial(
    path: str | Path,
    *,
    raters: Sequence[str] | None = None,
    scale: tuple[float, float] = (0.0, 100.0),
) -> pd.DataFrame:
    """Read continuous dial ratings into a long table (``time_s``, ``rater``, ``value``).

    Parameters
    ----------
    path : str or Path
        CSV file, wide (time + one column per rater) or long (time, rater, value).
    raters : sequence of str or None
        Raters to keep (an unknown one is an error); None keeps all.
    scale : (float, float), default (0, 100)
        Lowest and highest possible rating; values outside are an error.

    Returns
    -------
    DataFrame
        Sorted by rater and time; missing ratings are NaN.

    Raises
    ------
    EventsError
        For a missing, binary or unreadable file, a missing time column, an unreadable time or value, times going
        backwards, a value outside the scale, an empty rater name, or an unknown rater.
    """
    path = Path(path)
    text = read_text(path, error=EventsError, what="a CSV of dial ratings (a time column and one column per rater)")
    if not text.strip():
        raise EventsError(path, "file is empty")
    try:
        delimiter = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    rows = csv_rows(text, path, delimiter=delimiter, error=EventsError)
    header = [h.strip() for h in rows[0]]
    norm = [h.lower().replace(" ", "_") for h in header]
    t_col = next((i for i, h in enumerate(norm) if h in TIME_NAMES), None)
    if t_col is None:
        raise EventsError(
            path, f"no time column: the header has {show_cells(header)}; name it one of {', '.join(TIME_NAMES[:4])}"
        )
    long_form = "rater" in norm and "value" in norm
    records = []
    last: dict[str, float] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(header) - len(row))
        try:
            t = parse_time(row[t_col])
        except EventsError as exc:
            raise EventsError(path, f"line {lineno}: time: {exc.problem}") from None
        if long_form:
            pairs = [(row[norm.index("rater")].strip(), row[norm.index("value")])]
            if not pairs[0][0]:
                raise EventsError(path, f"line {lineno}: empty rater")
        else:
            pairs = [(header[i], row[i]) for i in range(len(header)) if i != t_col]
        for rater, cell in pairs:
            cell = cell.strip()
            if cell in MISSING:
                value = np.nan
            elif _NUMBER_RE.fullmatch(cell):
                value = float(cell.replace(",", "."))
            else:
                raise EventsError(
                    path, f"line {lineno}: rating {cell!r} of {rater!r} is not a number (leave the cell empty or write "
                    "NA for a missing rating)"
                )
            if np.isfinite(value) and not scale[0] <= value <= scale[1]:
                raise EventsError(
                    path, f"line {lineno}: rating {value:g} of {rater!r} is outside the scale {scale[0]:g}-{scale[1]:g}"
                )
            if rater in last and t <= last[rater]:
                raise EventsError(path, f"line {lineno}: time {t:.3f} s of {rater!r} does not come after {last[rater]:.3f} s")
            last[rater] = t
            records.append((t, rater, value))
    if not records:
        raise EventsError(path, "no ratings: the file has a header but no rows")
    table = pd.DataFrame.from_records(records, columns=list(DIAL_COLUMNS))
    if raters is not None:
        present = sorted(table["rater"].unique())
        unknown = [r for r in raters if r not in present]
        if unknown:
            raise EventsError(path, f"unknown rater(s) {unknown}; raters in this file: {show_cells(present, limit=20)}")
        table = table[table["rater"].isin(list(raters))]
    return table.sort_values(["rater", "time_s"], kind="stable").reset_index(drop=True)
