"""NIST RTTM speaker turns: one event per ``SPEAKER`` line."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ...errors import EventsError
from ..textfile import read_text
from .table import events_table


def read_rttm(path: str | Path) -> pd.DataFrame:
    """Read the ``SPEAKER`` lines of an RTTM file into an (unvalidated) Events table.

    A line reads ``SPEAKER file channel onset duration <NA> <NA> name <NA> <NA>``; other line types and comments
    are ignored. Each turn is an event: code = speaker name, scheme ``rttm``, coder = file id.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
        Events table in file order; ``source`` is ``"<file> line <n>"``.

    Raises
    ------
    EventsError
        For a short ``SPEAKER`` line, times that are not seconds, a negative duration, or no ``SPEAKER`` line.
    """
    path = Path(path)
    records = []
    text = read_text(path, error=EventsError, what="an RTTM file of speaker turns")
    for lineno, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith((";", "#")) or parts[0] != "SPEAKER":
            continue
        if len(parts) < 8:
            raise EventsError(path, f"line {lineno}: a SPEAKER line needs at least 8 fields, got {len(parts)}")
        try:
            onset, duration = float(parts[3]), float(parts[4])
            if not (math.isfinite(onset) and math.isfinite(duration)):  # float() reads "nan" and "inf"
                raise ValueError
        except ValueError:
            raise EventsError(path, f"line {lineno}: onset {parts[3]!r} / duration {parts[4]!r} are not seconds") from None
        if duration < 0:
            raise EventsError(path, f"line {lineno}: negative duration {duration}")
        records.append((onset, onset + duration, parts[7], "rttm", parts[1], f"{path.name} line {lineno}"))
    if not records:
        raise EventsError(path, "no SPEAKER lines: not an RTTM file, or it is empty")
    return events_table(records)
