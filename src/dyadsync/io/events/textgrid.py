"""Praat TextGrids (long and short text format): interval tiers and point tiers."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..._validate import suggest
from ...errors import EventsError
from ..store import atomic_open
from ..textfile import read_text, show_cells
from .table import empty_events, events_table

_TG_TOKEN = re.compile(
    r'"((?:[^"]|"")*)"'  # a quoted string ("" escapes a quote)
    r"|\[[^\]\n]*\]"  # item [1], intervals [3]: indices, ignored
    r"|<(exists|absent)>"  # tiers? <exists>
    r"|(?<![\w.])(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?![\w.])"  # a number
    r"|!.*"  # a comment (short text format)
)


def _textgrid_tokens(text: str) -> list[str | float]:
    tokens: list[str | float] = []
    for m in _TG_TOKEN.finditer(text):
        if m.group(1) is not None:
            tokens.append(m.group(1).replace('""', '"'))
        elif m.group(2) is not None:
            tokens.append(m.group(2) == "exists")  # type: ignore[arg-type]
        elif m.group(3) is not None:
            tokens.append(float(m.group(3)))
    return tokens


def read_textgrid(path: str | Path, tiers: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a Praat TextGrid (long or short text format) into an (unvalidated) Events table.

    Non-empty intervals of interval tiers and the points of point tiers become events: the text the code (a point's
    empty mark takes the tier name), the tier the scheme; TextGrids name no coder. :func:`read_events` is the usual
    entry point.

    Parameters
    ----------
    path : str or Path
    tiers : iterable of str or None
        Read only these tiers (all when None); an unknown tier is an error.

    Returns
    -------
    DataFrame
        Events table in file order; ``source`` names the tier and the interval or point.

    Raises
    ------
    EventsError
        For a file that is not a readable TextGrid (naming the token where it stops making sense) or an unknown
        tier.
    """
    path = Path(path)
    events, names = read_textgrid_tiers(path)
    if tiers is None:
        return events
    wanted = list(tiers)
    unknown = [t for t in wanted if t not in names]
    if unknown:
        raise EventsError(path, f"unknown tier(s) {unknown}{suggest(unknown[0], names)}; tiers in this file: {show_cells(names, limit=20)}")
    return events[events["scheme"].isin(wanted)].reset_index(drop=True)


def read_textgrid_tiers(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Every interval and point of a TextGrid as an (unvalidated) Events table, and the names of all its tiers (also
    the empty ones), in file order. See :func:`read_textgrid`."""
    path = Path(path)
    tokens = _textgrid_tokens(read_text(path, error=EventsError, what="a Praat TextGrid (text format)"))
    pos = 0

    def take(kind: type, what: str) -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise EventsError(path, f"not a readable TextGrid: it ends early (expected {what})")
        tok = tokens[pos]
        ok = isinstance(tok, kind) and not (kind is float and isinstance(tok, bool))
        if not ok:
            found = show_cells([tok]) if isinstance(tok, str) else repr(tok)
            raise EventsError(path, f"not a readable TextGrid: expected {what}, found {found} (token {pos + 1})")
        if kind is float and not math.isfinite(tok):  # "1e999": a time or count no recording has
            raise EventsError(path, f"not a readable TextGrid: {what} is out of range (token {pos + 1})")
        pos += 1
        return tok

    if not take(str, "'ooTextFile'").startswith("ooTextFile") or take(str, "'TextGrid'") != "TextGrid":
        raise EventsError(path, "not a Praat TextGrid (the header must say ooTextFile / TextGrid)")
    take(float, "xmin")
    take(float, "xmax")
    if pos < len(tokens) and isinstance(tokens[pos], bool):
        if not tokens[pos]:
            return empty_events(), []
        pos += 1
    n_tiers = int(take(float, "the number of tiers"))
    records: list[tuple[Any, ...]] = []
    names: list[str] = []
    for _ in range(n_tiers):
        kind = take(str, "a tier class")
        name = take(str, "a tier name")
        names.append(name)
        take(float, "tier xmin")
        take(float, "tier xmax")
        n = int(take(float, "the number of intervals or points"))
        for i in range(1, n + 1):
            if kind == "IntervalTier":
                t1, t2, label = take(float, "xmin"), take(float, "xmax"), take(str, "text")
                if label.strip():
                    records.append((t1, t2, label.strip(), name, "", f"{path.name} tier {name!r} interval {i}"))
            elif kind == "TextTier":
                t, label = take(float, "number"), take(str, "mark")
                records.append((t, t, label.strip() or name, name, "", f"{path.name} tier {name!r} point {i}"))
            else:
                raise EventsError(path, f"tier {name!r} has unknown class {kind!r} (IntervalTier or TextTier)")
    return (events_table(records) if records else empty_events()), names


def write_textgrid(events: pd.DataFrame, path: str | Path, *, duration_s: float | None = None) -> Path:
    """Write an Events table as a Praat TextGrid (long text format, UTF-8), atomically.

    One interval tier per scheme (or per code when the scheme is empty), gaps filled with empty intervals; point
    events go to a point tier of the same name (``<name> (points)`` when the scheme also has intervals).
    Overlapping intervals cannot share a tier and go to ``<name> (2)``, ``<name> (3)``... The code is the
    interval's text; TextGrids have no coder.

    Parameters
    ----------
    events : DataFrame
    path : str or Path
    duration_s : float or None
        End of the TextGrid, s (default: the last offset).
    """
    ev = events.sort_values(["onset_s", "offset_s"], kind="stable")
    end = float(duration_s) if duration_s is not None else float(ev["offset_s"].max()) if len(ev) else 0.0
    tier_of = ev["scheme"].where(ev["scheme"].astype(bool), ev["code"]).astype(str)
    tiers: list[tuple[str, str, list[tuple[float, float, str]]]] = []
    for name in dict.fromkeys(tier_of):
        rows = ev[tier_of == name]
        points = rows[rows["offset_s"] <= rows["onset_s"]]
        intervals = rows[rows["offset_s"] > rows["onset_s"]]
        lanes: list[list[tuple[float, float, str]]] = []
        for on, off, code in zip(intervals["onset_s"], intervals["offset_s"], intervals["code"]):
            lane = next((l for l in lanes if l[-1][1] <= on), None)
            if lane is None:
                lanes.append([(on, off, code)])
            else:
                lane.append((on, off, code))
        for k, lane in enumerate(lanes):
            tiers.append(("IntervalTier", name if k == 0 else f"{name} ({k + 1})", lane))
        if len(points):
            pname = f"{name} (points)" if lanes else name
            tiers.append(("TextTier", pname, [(t, t, c) for t, c in zip(points["onset_s"], points["code"])]))

    def q(text: str) -> str:
        return '"' + str(text).replace('"', '""') + '"'

    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {end!r}",
             "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for i, (kind, name, items) in enumerate(tiers, start=1):
        lines += [f"    item [{i}]:", f"        class = {q(kind)}", f"        name = {q(name)}", "        xmin = 0",
                  f"        xmax = {end!r}"]
        if kind == "IntervalTier":
            filled: list[tuple[float, float, str]] = []
            t = 0.0
            for on, off, code in items:
                if on > t:
                    filled.append((t, on, ""))
                filled.append((on, off, code))
                t = off
            if t < end or not filled:
                filled.append((t, max(end, t), ""))
            lines.append(f"        intervals: size = {len(filled)}")
            for k, (a, b, text) in enumerate(filled, start=1):
                lines += [f"        intervals [{k}]:", f"            xmin = {float(a)!r}", f"            xmax = {float(b)!r}",
                          f"            text = {q(text)}"]
        else:
            lines.append(f"        points: size = {len(items)}")
            for k, (a, _, text) in enumerate(items, start=1):
                lines += [f"        points [{k}]:", f"            number = {float(a)!r}", f"            mark = {q(text)}"]
    with atomic_open(path) as fh:
        fh.write("\n".join(lines) + "\n")
    return Path(path)
