"""Coded events (moments of meeting and other codes) from CSV and ELAN files, as one canonical Events table.

The Events table has one row per event and the columns

========== =====================================================================
onset_s    start of the event, seconds from the start of the recording
offset_s   end of the event, seconds (equal to ``onset_s`` for a point event)
code       what was coded (``MoM``, an innovative-moment type, ``rupture``...)
scheme     the coding scheme or ELAN tier it came from ('' when the file says nothing)
coder      who coded it ('' when the file says nothing)
source     file name and row (CSV line number, or ELAN annotation id)
========== =====================================================================

Readers validate as they go, and every message names the file and the row: unreadable times, offsets before
onsets, events past the end of the recording, columns that cannot be found, codes that are not in the file.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_option, suggest
from ..errors import DyadsyncWarning, EventsError
from .store import atomic_open

EVENT_COLUMNS = ("onset_s", "offset_s", "code", "scheme", "coder", "source")

#: Accepted CSV header names (case and spaces ignored) for each canonical field.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "onset": ("onset", "onset_s", "onset_sec", "start", "start_s", "start_time", "begin", "begin_s",
              "begin_time", "time", "time_s", "from"),
    "offset": ("offset", "offset_s", "offset_sec", "end", "end_s", "end_time", "stop", "stop_s", "stop_time", "to"),
    "duration": ("duration", "duration_s", "dur"),
    "code": ("code", "label", "event", "category", "type", "annotation", "value", "behavior", "behaviour", "moment"),
    "scheme": ("scheme", "tier", "system", "coding_scheme"),
    "coder": ("coder", "rater", "annotator", "observer"),
}

_TIME_RE = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:[.,]\d*)?)$")


def parse_time(text: str | float) -> float:
    """Parse a time given in seconds (``"83.5"``), ``mm:ss(.fff)`` or ``hh:mm:ss(.fff)``; return seconds.

    Raises
    ------
    ValueError
        When the text is none of these.
    """
    if isinstance(text, (int, float, np.number)):
        return float(text)
    t = str(text).strip()
    if ":" not in t:
        try:
            return float(t.replace(",", "."))
        except ValueError:
            raise ValueError(f"{text!r} is not a time (seconds, mm:ss or hh:mm:ss)") from None
    m = _TIME_RE.match(t)
    if not m:
        raise ValueError(f"{text!r} is not a time (seconds, mm:ss or hh:mm:ss)")
    h = int(m.group("h") or 0)
    mins = int(m.group("m"))
    secs = float(m.group("s").replace(",", "."))
    if secs >= 60 or (m.group("h") is not None and mins >= 60):
        raise ValueError(f"{text!r} is not a valid clock time (minutes and seconds must be below 60)")
    return h * 3600 + mins * 60 + secs


def format_time(seconds: float) -> str:
    """Seconds as ``mm:ss.fff`` (or ``hh:mm:ss.fff`` from one hour on)."""
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s = rem / 1000
    return f"{h:d}:{m:02d}:{s:06.3f}" if h else f"{m:02d}:{s:06.3f}"


def empty_events() -> pd.DataFrame:
    """An Events table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("_s") else object) for c in EVENT_COLUMNS})


def read_events(
    path: str | Path,
    *,
    duration_s: float | None = None,
    codes: Iterable[str] | None = None,
    columns: Mapping[str, str] | None = None,
    tiers: Iterable[str] | None = None,
    default_code: str = "event",
    on_outside: str = "raise",
) -> pd.DataFrame:
    """Read coded events from a CSV or ELAN ``.eaf`` file into the canonical Events table.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv``/``.txt`` (comma, semicolon or tab separated, with a header), ``.eaf`` or ``.rttm``
        (speaker turns: one event per ``SPEAKER`` line, code = speaker name, scheme ``rttm``, coder = file id).
    duration_s : float or None
        Length of the recording in seconds; when given, events are checked against it.
    codes : iterable of str or None
        Keep only these codes; a code not found in the file is an error (a typo would otherwise silently
        drop every event).
    columns : mapping or None
        For CSV: explicit header names for the fields ``onset``, ``offset``, ``duration``, ``code``, ``scheme``,
        ``coder``, overriding the automatic recognition (see :data:`CSV_ALIASES`).
    tiers : iterable of str or None
        For ELAN: read only these tiers (all when None); an unknown tier is an error.
    default_code : str, default "event"
        Code of CSV rows when the file has no code column.
    on_outside : {"raise", "warn", "drop"}, default "raise"
        What to do with an event that starts at or after ``duration_s``: raise, or drop it (with a warning for
        ``"warn"``). An event that only ends after ``duration_s`` is clipped to it, with a warning.

    Returns
    -------
    DataFrame
        The Events table (see module docstring), sorted by onset.

    Raises
    ------
    EventsError
        For an unreadable file, a missing or unknown column, a bad time, an offset before its onset, an unknown
        code or tier, or an event past the end (``on_outside="raise"``).
    """
    check_option("on_outside", on_outside, ("raise", "warn", "drop"))
    path = Path(path)
    if not path.exists():
        raise EventsError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".eaf":
        events = _read_eaf(path, tiers)
    elif suffix == ".rttm":
        if tiers is not None:
            raise EventsError(path, "tiers= applies to ELAN files only; for an RTTM use codes=")
        events = _read_rttm(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        if tiers is not None:
            raise EventsError(path, "tiers= applies to ELAN files only; for a CSV use codes=")
        events = _read_csv(path, columns or {}, default_code)
    else:
        raise EventsError(
            path, f"unknown events format {suffix!r}; dyadsync reads .csv, .tsv, .txt, .eaf and .rttm"
        )
    return validate_events(events, path, duration_s=duration_s, codes=codes, on_outside=on_outside)


def validate_events(
    events: pd.DataFrame,
    path: str | Path,
    *,
    duration_s: float | None = None,
    codes: Iterable[str] | None = None,
    on_outside: str = "raise",
) -> pd.DataFrame:
    """Check an Events table against the recording and the requested codes; see :func:`read_events`."""
    path = Path(path)
    ev = events.copy()
    bad = ev["offset_s"] < ev["onset_s"]
    if bad.any():
        row = ev[bad].iloc[0]
        raise EventsError(
            path,
            f"{row['source']}: offset {row['offset_s']:.3f} s is before onset {row['onset_s']:.3f} s "
            f"({int(bad.sum())} such event(s))",
        )
    neg = ev["onset_s"] < 0
    if neg.any():
        row = ev[neg].iloc[0]
        raise EventsError(path, f"{row['source']}: negative onset {row['onset_s']:.3f} s")
    if codes is not None:
        wanted = list(codes)
        present = sorted(ev["code"].unique())
        unknown = [c for c in wanted if c not in present]
        if unknown:
            hint = suggest(unknown[0], present)
            raise EventsError(
                path, f"unknown code(s) {unknown}{hint}; codes in this file: {', '.join(present) or 'none'}"
            )
        ev = ev[ev["code"].isin(wanted)]
    if duration_s is not None:
        past = ev["onset_s"] >= duration_s
        if past.any():
            rows = ev[past]
            first = rows.iloc[0]
            msg = (
                f"{first['source']}: event at {first['onset_s']:.3f} s ({format_time(first['onset_s'])}) starts "
                f"after the end of the recording ({duration_s:.3f} s, {format_time(duration_s)}); "
                f"{len(rows)} event(s) affected. Check that the codes belong to this video and are in seconds "
                "or mm:ss"
            )
            if on_outside == "raise":
                raise EventsError(path, msg + " (or pass on_outside='drop' to skip them)")
            if on_outside == "warn":
                warnings.warn(f"{path}: {msg}; dropped", DyadsyncWarning, stacklevel=3)
            ev = ev[~past]
        over = ev["offset_s"] > duration_s
        if over.any():
            warnings.warn(
                f"{path}: {int(over.sum())} event(s) end after the recording ({duration_s:.3f} s), first at "
                f"{ev.loc[over, 'source'].iloc[0]}; clipped to the end",
                DyadsyncWarning,
                stacklevel=3,
            )
            ev.loc[over, "offset_s"] = duration_s
    ev = ev.sort_values(["onset_s", "offset_s", "code"], kind="stable").reset_index(drop=True)
    _warn_overlaps(ev, path)
    return ev[list(EVENT_COLUMNS)]


def _warn_overlaps(ev: pd.DataFrame, path: Path) -> None:
    for (code, coder), grp in ev.groupby(["code", "coder"], sort=False):
        on = grp["onset_s"].to_numpy()
        off = grp["offset_s"].to_numpy()
        overlap = on[1:] < np.maximum.accumulate(off)[:-1]
        if overlap.any():
            first = grp["source"].to_numpy()[1:][overlap][0]
            who = f" by {coder}" if coder else ""
            warnings.warn(
                f"{path}: {int(overlap.sum())} event(s) of code {code!r}{who} overlap the previous one, first at "
                f"{first}",
                DyadsyncWarning,
                stacklevel=4,
            )


# ----------------------------------------------------------------------------------------------------- CSV


def _norm(name: str) -> str:
    return re.sub(r"[\s\-\.]+", "_", name.strip().lower()).strip("_")


def _read_csv(path: Path, columns: Mapping[str, str], default_code: str) -> pd.DataFrame:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    if not text.strip():
        raise EventsError(path, "file is empty")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [r for r in reader]
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
                    f"{', '.join(header)}{suggest(wanted, header)}",
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
            f"no onset column: the header has {', '.join(repr(h) for h in header)}; name the start column one of "
            f"{', '.join(CSV_ALIASES['onset'][:6])}, or pass columns={{'onset': '<name>'}}",
        )
    records = []
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
        except ValueError as exc:
            raise EventsError(path, f"line {lineno}: onset: {exc}") from None
        offset = onset
        try:
            if cell("offset"):
                offset = parse_time(cell("offset"))
            elif cell("duration"):
                offset = onset + parse_time(cell("duration"))
        except ValueError as exc:
            raise EventsError(path, f"line {lineno}: offset: {exc}") from None
        code = cell("code") or (default_code if "code" not in index else "")
        if not code:
            raise EventsError(path, f"line {lineno}: empty code")
        records.append((onset, offset, code, cell("scheme"), cell("coder"), source))
    if not records:
        raise EventsError(path, "no events: the file has a header but no rows")
    return pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))


def write_events_csv(events: pd.DataFrame, path: str | Path, *, clock: bool = False) -> Path:
    """Write an Events table as CSV (``onset,offset,code,scheme,coder``), atomically.

    Parameters
    ----------
    events : DataFrame
        Events table.
    path : str or Path
    clock : bool, default False
        Write times as ``mm:ss.fff`` instead of seconds.
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
        out.to_csv(fh, index=False)
    return Path(path)


# ---------------------------------------------------------------------------------------------------- RTTM


def _read_rttm(path: Path) -> pd.DataFrame:
    """NIST RTTM: ``SPEAKER file channel onset duration <NA> <NA> name <NA> <NA>`` lines (others ignored)."""
    records = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith((";", "#")) or parts[0] != "SPEAKER":
            continue
        if len(parts) < 8:
            raise EventsError(path, f"line {lineno}: a SPEAKER line needs at least 8 fields, got {len(parts)}")
        try:
            onset, duration = float(parts[3]), float(parts[4])
        except ValueError:
            raise EventsError(path, f"line {lineno}: onset {parts[3]!r} / duration {parts[4]!r} are not seconds") from None
        if duration < 0:
            raise EventsError(path, f"line {lineno}: negative duration {duration}")
        records.append((onset, onset + duration, parts[7], "rttm", parts[1], f"{path.name} line {lineno}"))
    if not records:
        raise EventsError(path, "no SPEAKER lines: not an RTTM file, or it is empty")
    return pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))


# ---------------------------------------------------------------------------------------------------- ELAN


def _read_eaf(path: Path, tiers: Iterable[str] | None) -> pd.DataFrame:
    from defusedxml import ElementTree as ET

    try:
        root = ET.parse(str(path)).getroot()
    except ET.ParseError as exc:
        raise EventsError(path, f"not a readable ELAN file (XML error: {exc})") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise EventsError(path, f"not an ELAN file: root element is <{root.tag}>, not <ANNOTATION_DOCUMENT>")
    header = root.find("HEADER")
    units = header.get("TIME_UNITS", "milliseconds") if header is not None else "milliseconds"
    if units != "milliseconds":
        raise EventsError(path, f"TIME_UNITS {units!r} is not supported (ELAN writes milliseconds)")
    slots: dict[str, float | None] = {}
    for ts in root.iter("TIME_SLOT"):
        v = ts.get("TIME_VALUE")
        slots[ts.get("TIME_SLOT_ID", "")] = None if v is None else int(v) / 1000.0
    all_tiers = [t.get("TIER_ID", "") for t in root.iter("TIER")]
    wanted = list(tiers) if tiers is not None else all_tiers
    unknown = [t for t in wanted if t not in all_tiers]
    if unknown:
        raise EventsError(
            path, f"unknown tier(s) {unknown}{suggest(unknown[0], all_tiers)}; tiers in this file: {all_tiers}"
        )
    spans: dict[str, tuple[float, float]] = {}
    parents = {a.get("ANNOTATION_ID", ""): a.get("ANNOTATION_REF", "") for a in root.iter("REF_ANNOTATION")}
    records: list[tuple[Any, ...]] = []
    # First pass: time-aligned annotations (any tier), so that reference annotations can inherit their times.
    for tier in root.iter("TIER"):
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            aid = ann.get("ANNOTATION_ID", "")
            t1 = slots.get(ann.get("TIME_SLOT_REF1", ""))
            t2 = slots.get(ann.get("TIME_SLOT_REF2", ""))
            if t1 is None or t2 is None:
                raise EventsError(path, f"annotation {aid} on tier {tier.get('TIER_ID')!r} is not time-aligned")
            spans[aid] = (t1, t2)
    for tier in root.iter("TIER"):
        tid = tier.get("TIER_ID", "")
        if tid not in wanted:
            continue
        coder = tier.get("ANNOTATOR") or tier.get("PARTICIPANT") or ""
        for ann in tier.iter():
            if ann.tag not in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"):
                continue
            aid = ann.get("ANNOTATION_ID", "")
            ref = aid if ann.tag == "ALIGNABLE_ANNOTATION" else ann.get("ANNOTATION_REF", "")
            seen = set()
            while ref and ref not in spans and ref not in seen:
                seen.add(ref)
                ref = parents.get(ref, "")
            if ref not in spans:
                raise EventsError(path, f"annotation {aid} on tier {tid!r} refers to no time-aligned annotation")
            value_el = ann.find("ANNOTATION_VALUE")
            value = (value_el.text or "").strip() if value_el is not None else ""
            onset, offset = spans[ref]
            records.append((onset, offset, value or tid, tid, coder, f"{path.name} annotation {aid}"))
    if not records:
        return empty_events()
    return pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))


def write_eaf(
    events: pd.DataFrame,
    path: str | Path,
    *,
    media_file: str = "",
    author: str = "dyadsync",
    date: str = "2026-01-01T00:00:00+00:00",
) -> Path:
    """Write an Events table as an ELAN 3.0 ``.eaf`` file: one tier per scheme (or code when scheme is empty).

    Parameters
    ----------
    events : DataFrame
        Events table; ``code`` becomes the annotation value, ``coder`` the tier's annotator.
    path : str or Path
    media_file : str
        Media file name recorded in the header (relative, so that no absolute path leaks into the file).
    author, date : str
        Header attributes; fixed defaults keep the output reproducible.
    """
    from xml.sax.saxutils import quoteattr, escape

    ev = events.reset_index(drop=True)
    tier_of = ev["scheme"].where(ev["scheme"].astype(bool), ev["code"]).astype(str)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<ANNOTATION_DOCUMENT AUTHOR={quoteattr(author)} DATE={quoteattr(date)} FORMAT="3.0" VERSION="3.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">',
        '    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">',
    ]
    if media_file:
        lines.append(f'        <MEDIA_DESCRIPTOR MEDIA_URL={quoteattr(media_file)} RELATIVE_MEDIA_URL={quoteattr("./" + media_file)}/>')
    lines += ['    </HEADER>', '    <TIME_ORDER>']
    for i, row in ev.iterrows():
        lines.append(f'        <TIME_SLOT TIME_SLOT_ID="ts{2 * i + 1}" TIME_VALUE="{int(round(row.onset_s * 1000))}"/>')
        lines.append(f'        <TIME_SLOT TIME_SLOT_ID="ts{2 * i + 2}" TIME_VALUE="{int(round(row.offset_s * 1000))}"/>')
    lines.append('    </TIME_ORDER>')
    for tier in dict.fromkeys(tier_of):
        rows = ev[tier_of == tier]
        coder = next((c for c in rows["coder"] if c), "")
        attrs = f'LINGUISTIC_TYPE_REF="default-lt" TIER_ID={quoteattr(tier)}'
        if coder:
            attrs = f"ANNOTATOR={quoteattr(coder)} " + attrs
        lines.append(f"    <TIER {attrs}>")
        for i, row in rows.iterrows():
            lines += [
                "        <ANNOTATION>",
                f'            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a{i + 1}" TIME_SLOT_REF1="ts{2 * i + 1}" '
                f'TIME_SLOT_REF2="ts{2 * i + 2}">',
                f"                <ANNOTATION_VALUE>{escape(str(row.code))}</ANNOTATION_VALUE>",
                "            </ALIGNABLE_ANNOTATION>",
                "        </ANNOTATION>",
            ]
        lines.append("    </TIER>")
    lines += [
        '    <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>',
        "</ANNOTATION_DOCUMENT>",
        "",
    ]
    with atomic_open(path) as fh:
        fh.write("\n".join(lines))
    return Path(path)
