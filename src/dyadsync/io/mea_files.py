"""MEA files as researchers have them on disk: the text format of Ramseyer's MEA software and rMEA.

Format: an optional header line naming the two columns (rMEA writes ``"pat" "th"``), then one row per video
frame with two whitespace-separated numbers, the moving pixels of the first person (patient) and the second
(therapist). There is no time column: the frame rate must be given (25 fps for PAL video, as in rMEA's
examples). Missing values may be written ``NA``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_positive
from ..errors import DyadsyncWarning, MEAFileError
from ..features._table import long_table, to_wide
from .store import atomic_open

FEATURE = "motion_energy"
_SPLIT = re.compile(r"[\s,;]+")


def read_mea(
    path: str | Path,
    *,
    rate_hz: float,
    persons: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a two-column MEA text file as a long feature table.

    Parameters
    ----------
    path : str or Path
        MEA file (rMEA format; whitespace, comma or semicolon separated).
    rate_hz : float
        Frame rate the file was computed at, in Hz (the file does not say; 25 for PAL video).
    persons : sequence of two str or None
        Person names for the two columns (A, B). None takes the header's names (``pat``, ``th``), or ``a``, ``b``
        when the file has no header.

    Returns
    -------
    features : DataFrame
        Long table (``time_s``, ``person``, ``feature`` = ``"motion_energy"``, ``value``); sample ``i`` is at
        ``i / rate_hz`` seconds.
    info : dict
        ``persons``, ``rate_hz``, ``n_samples``, ``duration_s``, ``header`` (as read), ``path``.

    Raises
    ------
    MEAFileError
        For a missing or empty file, rows with other than two values, non-numeric cells, or no data rows.
    """
    path = Path(path)
    rate_hz = check_positive("rate_hz", rate_hz)
    if not path.is_file():
        raise MEAFileError(path, "file not found")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise MEAFileError(path, "not a text file (MEA files are two columns of numbers)") from None
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise MEAFileError(path, "file is empty")
    first = [c.strip('"\'') for c in _SPLIT.split(lines[0].strip())]
    header: list[str] | None = None
    if not all(_is_number(c) for c in first):
        header = first
        lines = lines[1:]
        if len(header) != 2:
            raise MEAFileError(path, f"header names {len(header)} columns ({header}); an MEA file has two")
    if not lines:
        raise MEAFileError(path, "has a header but no data rows")
    values = np.empty((len(lines), 2))
    for i, line in enumerate(lines):
        cells = _SPLIT.split(line.strip())
        lineno = i + (2 if header else 1)
        if len(cells) != 2:
            raise MEAFileError(path, f"line {lineno} has {len(cells)} values ({line.strip()[:60]!r}); expected 2")
        for j, cell in enumerate(cells):
            if cell in ("NA", "NaN", "nan", ""):
                values[i, j] = np.nan
                continue
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise MEAFileError(path, f"line {lineno}: {cell!r} is not a number") from None
    names = list(persons) if persons is not None else (header or ["a", "b"])
    if len(names) != 2 or names[0] == names[1]:
        raise MEAFileError(path, f"need two distinct person names, got {names}")
    for j, name in enumerate(names):
        col = values[:, j]
        if np.all(np.nan_to_num(col) == 0):
            warnings.warn(
                f"{path}: the {name!r} column is all zero (no movement recorded): its synchrony is undefined",
                DyadsyncWarning,
                stacklevel=2,
            )
    times = np.arange(len(values)) / rate_hz
    table = long_table(times, {(names[0], FEATURE): values[:, 0], (names[1], FEATURE): values[:, 1]})
    info = {
        "path": str(path),
        "persons": names,
        "rate_hz": rate_hz,
        "n_samples": len(values),
        "duration_s": len(values) / rate_hz,
        "header": header,
    }
    return table, info


def write_mea(
    features: pd.DataFrame,
    path: str | Path,
    *,
    persons: Sequence[str],
    header: Sequence[str] = ("pat", "th"),
    feature: str = FEATURE,
) -> Path:
    """Write two persons' motion energy as an rMEA-format text file, atomically.

    Parameters
    ----------
    features : DataFrame
        Long feature table.
    path : str or Path
    persons : sequence of two str
        Which persons become the first and second column.
    header : sequence of two str, default ("pat", "th")
        Column names written (quoted) on the first line, as rMEA does.
    feature : str, default "motion_energy"

    Notes
    -----
    Values are written as integers (moving pixels); missing values (the first frame, masked frames) as ``NA``.
    """
    wide = to_wide(features, feature)
    missing = [p for p in persons if p not in wide.columns]
    if missing:
        raise MEAFileError(path, f"no {feature!r} values for person(s) {missing}")
    data = wide[list(persons)].to_numpy(dtype=float)
    with atomic_open(path) as fh:
        fh.write(" ".join(f'"{h}"' for h in header) + "\n")
        for a, b in data:
            fh.write(f"{_cell(a)} {_cell(b)}\n")
    return Path(path)


def _cell(v: float) -> str:
    return "NA" if not np.isfinite(v) else str(int(round(v)))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text in ("NA",)
    return True
