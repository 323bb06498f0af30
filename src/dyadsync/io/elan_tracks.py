"""ELAN time-series tracks: CSV files and the ``_tsconf.xml`` configuration that ELAN's Timeseries Viewer reads.

ELAN shows a time series under the video when the ``.eaf`` file links the series' CSV file and a configuration file
named ``<eaf name>_tsconf.xml`` (both as ``LINKED_FILE_DESCRIPTOR``; :func:`dyadsync.io.events.write_eaf` writes
the links). What is written here follows ELAN's own reader and writer of these files (ELAN's source,
``mpi.eudico.client.annotator.timeseries``: ``csv.CSVReader``, ``csv.CSVServiceProvider``,
``io.TSConfigurationEncoder``, ``io.TSConfigurationParser``, ``TimeSeriesConstants``; and the manual's section
"The Timeseries Viewer"):

* **the CSV**: comma separated (ELAN detects the delimiter by counting tabs, semicolons and commas in the first ten
  lines); lines starting with ``#`` are skipped, so the column names are written as a ``#`` line (a header row that
  is not a comment would be read as a sample); the time column in seconds with a decimal point (``12.300``: ELAN
  reads a time without ``.``, ``,`` or ``:`` as milliseconds); values as decimal numbers, ``NaN`` where missing
  (Java's ``Float.parseFloat`` reads it).
* **the configuration**: ``<timeseries date=... version="1.0">`` with one ``<tracksource>`` per CSV file
  (``source-url``: the file URL, equal to the ``LINK_URL`` in the ``.eaf``, which is how ELAN pairs them;
  ``time-column``: zero-based column index; ``sample-type="Discontinuous Rate"``: a list of time-value pairs,
  which tolerates gaps and irregular times), a ``provider`` property naming ELAN's CSV service provider, and one
  ``<track name=... derivative="0">`` per column with ``<sample-position><pos row="0" col=.../>`` (zero-based
  column), ``<description>``, ``<units>``, ``<range min max>`` (ELAN's default range is 0-100, so it is always
  written) and ``<color>r,g,b</color>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from .store import atomic_open

#: ELAN's service provider for CSV and tab-delimited time series (recorded in the configuration).
CSV_PROVIDER = "mpi.eudico.client.annotator.timeseries.csv.CSVServiceProvider"
#: ELAN's sample type for a list of (time, value) pairs; ``"Continuous Rate"`` assumes a fixed rate.
DISCONTINUOUS_RATE = "Discontinuous Rate"
#: Suffix ELAN gives the configuration file of an ``.eaf`` file (``session.eaf`` -> ``session_tsconf.xml``).
TSCONF_SUFFIX = "_tsconf.xml"


@dataclass
class Track:
    """One line in ELAN's Timeseries Viewer: a column of a track CSV.

    Attributes
    ----------
    name : str
        Track name shown in ELAN (unique across the configuration).
    column : str
        Column of the table written by :func:`write_track_csv`.
    description, units : str
    color : (int, int, int)
        RGB, 0-255.
    value_range : (float, float) or None
        Vertical range of the track; None: the column's finite minimum and maximum, widened by 5 %.
    """

    name: str
    column: str
    description: str = ""
    units: str = ""
    color: tuple[int, int, int] = (0, 0, 255)
    value_range: tuple[float, float] | None = None


def write_track_csv(table: pd.DataFrame, path: str | Path, *, time_column: str = "time_s") -> Path:
    """Write a time series as a CSV file ELAN's Timeseries Viewer reads (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        ``time_column`` (seconds) and one numeric column per track, in the order they are written.
    path : str or Path
    time_column : str, default "time_s"

    Returns
    -------
    Path
    """
    columns = [time_column, *[c for c in table.columns if c != time_column]]
    t = table[time_column].to_numpy(float)
    values = [table[c].to_numpy(float) for c in columns[1:]]
    lines = ["# " + ",".join(str(c).replace(",", ";") for c in columns)]
    for i in range(len(t)):
        lines.append(",".join([f"{t[i]:.3f}", *(_number(v[i]) for v in values)]))
    with atomic_open(path) as fh:
        fh.write("\n".join(lines) + "\n")
    return Path(path)


def _number(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else "NaN"


def track_columns(table: pd.DataFrame, time_column: str = "time_s") -> list[str]:
    """The columns of ``table`` in the order :func:`write_track_csv` writes them (the time column first)."""
    return [time_column, *[c for c in table.columns if c != time_column]]


def write_tsconf(
    sources: Sequence[tuple[str, pd.DataFrame, Sequence[Track]]],
    path: str | Path,
    *,
    time_column: str = "time_s",
    date: str = "2026-01-01T00:00:00+00:00",
) -> Path:
    """Write ELAN's time-series configuration (``<eaf name>_tsconf.xml``) for CSV files written by
    :func:`write_track_csv`.

    Parameters
    ----------
    sources : sequence of (url, table, tracks)
        Per CSV file: its file URL exactly as the ``.eaf`` links it (``LINK_URL``, see
        :func:`dyadsync.io.events.eaf.file_url`), the table it was written from (for column positions and ranges)
        and its tracks.
    path : str or Path
    time_column : str, default "time_s"
    date : str
        The configuration's date attribute (fixed by default, for reproducible files).

    Returns
    -------
    Path
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<timeseries date={quoteattr(date)} version="1.0">']
    for url, table, tracks in sources:
        columns = track_columns(table, time_column)
        out.append(f'    <tracksource sample-type="{DISCONTINUOUS_RATE}" source-url={quoteattr(url)} '
                   f'time-column="{columns.index(time_column)}">')
        out.append(f'        <property key="provider" value="{CSV_PROVIDER}"/>')
        for track in tracks:
            lo, hi = track.value_range or _range(table[track.column].to_numpy(float))
            r, g, b = (int(c) for c in track.color)
            out += [
                f'        <track derivative="0" name={quoteattr(track.name)}>',
                '            <property key="detect-range" value="false"/>',
                "            <sample-position>",
                f'                <pos col="{columns.index(track.column)}" row="0"/>',
                "            </sample-position>",
                f"            <description>{escape(track.description)}</description>",
                f"            <units>{escape(track.units)}</units>",
                f'            <range max="{hi!r}" min="{lo!r}"/>',
                f"            <color>{r},{g},{b}</color>",
                "        </track>",
            ]
        out.append("    </tracksource>")
    out.append("</timeseries>")
    with atomic_open(path) as fh:
        fh.write("\n".join(out) + "\n")
    return Path(path)


def _range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    return round(lo - pad, 6), round(hi + pad, 6)
