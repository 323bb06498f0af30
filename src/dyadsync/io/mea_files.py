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
from .store import atomic_open
from .tables import long_table, to_wide
from .textfile import read_text, show_cells

FEATURE = "motion_energy"
_SPLIT = re.compile(r"[\s,;]+")
_MISSING = frozenset({"NA", "NaN", "nan", ""})
# A number as R's read.table reads one (Inf is matched to be refused by name; nan by float() is missing).
_NUMBER_RE = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|Infinity|infinity)", re.ASCII)


def read_mea_series(
    path: str | Path,
    *,
    persons: Sequence[str] | None = None,
    allow_constant: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a two-column MEA text file as an array of two series, checking it on the way.

    Parameters
    ----------
    path : str or Path
        MEA file (rMEA format; whitespace, comma or semicolon separated).
    persons : sequence of two str or None
        Person names for the two columns (A, B). None takes the header's names (``pat``, ``th``), or ``a``, ``b``
        when the file has no header.
    allow_constant : bool, default True
        When False, a column that is all zero, all missing or constant raises :class:`MEAFileError` (its
        synchrony is undefined); when True it only warns.

    Returns
    -------
    values : ndarray, shape (n, 2)
        Moving pixels of A (first column) and B (second column) per frame; NaN where the file says ``NA``.
    info : dict
        ``path``, ``persons``, ``n_samples``, ``header`` (as read, or None).

    Raises
    ------
    MEAFileError
        For a missing, empty or binary file, a header naming other than two columns, rows with other than two
        values, non-numeric cells, infinite or negative values, or no data rows; each message names the file and
        the line.

    Notes
    -----
    Missing values are ``NA``, ``NaN`` or empty, as in R. rMEA 1.3.0's ``readMEA`` is the reference for what else is
    a value: R reads ``Inf`` as a number, and readMEA then stops (its check for values above 10 SD compares with a
    NaN standard deviation), so an infinite value is an error here too, with its line, instead of ruining every
    window after it. A negative value is no count of moving pixels (rMEA does not check; its ``MEAscale`` centres
    series after reading), so it is an error as well.
    """
    path = Path(path)
    text = read_text(path, error=MEAFileError, what="an MEA text file (two columns of numbers)")
    rows = [ln for ln in text.splitlines() if ln and not ln.isspace()]
    if not rows:
        raise MEAFileError(path, "file is empty")
    first = [c.strip("\"'") for c in _SPLIT.split(rows[0].strip())]
    header: list[str] | None = None
    if not all(_is_number(c) for c in first):
        header = first
        rows = rows[1:]
        if len(header) != 2:
            raise MEAFileError(path, f"header names {len(header)} columns ({show_cells(header)}); an MEA file has two")
    if not rows:
        raise MEAFileError(path, "has a header but no data rows")
    values = _parse_rows(path, text, rows, skip=1 if header else 0)
    names = list(persons) if persons is not None else (header or ["a", "b"])
    if len(names) != 2 or names[0] == names[1]:
        raise MEAFileError(path, f"need two distinct person names, got {names}")
    for j, name in enumerate(names):
        problem = _constant_problem(values[:, j], name)
        if problem is None:
            continue
        if not allow_constant:
            raise MEAFileError(path, problem)
        warnings.warn(f"{path}: {problem}", DyadsyncWarning, stacklevel=2)
    info = {"path": str(path), "persons": names, "n_samples": len(values), "header": header}
    return values, info


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
    rate_hz = check_positive("rate_hz", rate_hz)
    values, info = read_mea_series(path, persons=persons)
    names = info["persons"]
    times = np.arange(len(values)) / rate_hz
    table = long_table(times, {(names[0], FEATURE): values[:, 0], (names[1], FEATURE): values[:, 1]})
    info.update({"rate_hz": rate_hz, "duration_s": len(values) / rate_hz})
    return table, info


def _parse_rows(path: Path, text: str, rows: list[str], skip: int) -> np.ndarray:
    """Two numbers per row, as an (n, 2) float array; the first bad row raises with its line number."""
    if "," in text or ";" in text:
        cells = [_SPLIT.split(ln.strip()) for ln in rows]
    else:
        cells = [ln.split() for ln in rows]
    if any(len(c) != 2 for c in cells):
        k = next(i for i, c in enumerate(cells) if len(c) != 2)
        raise MEAFileError(
            path,
            f"line {_line_number(text, skip + k)} has {len(cells[k])} values ({rows[k].strip()[:60]!r}); "
            "expected 2 (every row of an MEA file holds the two persons' values)",
        )
    flat = [cell for row in cells for cell in row]
    try:
        data = "".join(rows)
        if "_" in data or not data.isascii():  # float() reads "1_000" and "٣" as numbers; R does not
            raise ValueError
        out = np.array([float(c) for c in flat])
    except ValueError:
        out = np.empty(len(flat))
        for k, cell in enumerate(flat):  # slow path: missing values, or find the culprit
            if cell in _MISSING:
                out[k] = np.nan
            elif _NUMBER_RE.fullmatch(cell):
                out[k] = float(cell)
            else:
                raise MEAFileError(path, f"line {_line_number(text, skip + k // 2)}: {cell!r} is not a number") from None
    # Python reads "nan" as a missing value, as R does "NaN"; infinite and negative counts are refused.
    bad = np.isinf(out) | (out < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        where = f"line {_line_number(text, skip + k // 2)}"
        if np.isinf(out[k]):
            n = int(np.isinf(out).sum())
            raise MEAFileError(
                path, f"{where}: {flat[k]!r} is not a finite number ({n} infinite value(s) in the file). Motion "
                "energy counts moving pixels, so an infinite value means a broken export; rMEA's readMEA stops on "
                "one too (R counts Inf as a number, not as missing). Write NA for a frame without a value"
            )
        n = int((out < 0).sum())
        raise MEAFileError(
            path, f"{where}: {flat[k]!r} is negative ({n} negative value(s) in the file). Motion energy counts moving "
            "pixels (0 or more): a negative value means a broken export, or a series that was centred or "
            "standardised (rMEA's MEAscale); give the raw MEA output"
        )
    return out.reshape(-1, 2)


def _line_number(text: str, k: int) -> int:
    """1-based line number in ``text`` of its ``k``-th (0-based) non-blank line."""
    seen = -1
    for i, ln in enumerate(text.splitlines()):
        if ln and not ln.isspace():
            seen += 1
            if seen == k:
                return i + 1
    return 0  # pragma: no cover


def _constant_problem(col: np.ndarray, name: str) -> str | None:
    """Why a column cannot be correlated (all missing, all zero, constant), or None when it can."""
    finite = col[np.isfinite(col)]
    if finite.size == 0:
        return f"the {name!r} column has no values (all NA): its synchrony is undefined"
    if np.all(finite == 0):
        return f"the {name!r} column is all zero (no movement recorded): its synchrony is undefined"
    if np.all(finite == finite[0]):
        return f"the {name!r} column is constant ({finite[0]:g}): its synchrony is undefined"
    return None


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
        return text in _MISSING
    return True
