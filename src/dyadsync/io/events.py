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

Formats: CSV/TSV (seconds, ``mm:ss`` or ``hh:mm:ss.fff``; point events or intervals given by an end or a
duration; comma, semicolon or tab separated, as innovative-moment coding sheets are), ELAN ``.eaf`` (tiers become
schemes, the tier's annotator the coder; several coders as tiers or as files), Praat TextGrid (interval and point
tiers, long and short text format), and BORIS exports (aggregated: one row per event; tabular: START/STOP/POINT
rows). :func:`read_events` is the one entry point: it picks the reader from the suffix and the content.

Readers validate as they go, and every message names the file and the row: unreadable times, offsets before
onsets, events past the end of the recording, columns that cannot be found, codes or tiers that are not in the
file, unpaired START/STOP events; overlapping events of one code and coder are warned about.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
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
    "code": ("code", "label", "event", "category", "type", "annotation", "value", "behavior", "behaviour", "moment",
             "im_type", "tipo", "categoria"),
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
    path: str | Path | Sequence[str | Path],
    *,
    duration_s: float | None = None,
    codes: Iterable[str] | None = None,
    columns: Mapping[str, str] | None = None,
    tiers: Iterable[str] | None = None,
    default_code: str = "event",
    on_outside: str = "raise",
    coder: str | Sequence[str] | None = None,
    observation: str | None = None,
) -> pd.DataFrame:
    """Read coded events from any supported file (or several files) into the canonical Events table.

    Parameters
    ----------
    path : str, Path or sequence of them
        ``.csv``/``.tsv``/``.txt`` (comma, semicolon or tab separated, with a header; BORIS exports and Praat
        TextGrids saved as text are recognised by their content), ``.eaf`` (ELAN) or ``.TextGrid`` (Praat). Several
        files (e.g. one per coder) are read alike and concatenated; events whose file names no coder get the
        file's stem as coder. ``.rttm`` holds speaker turns: one event per ``SPEAKER`` line, code = speaker name,
        scheme ``rttm``, coder = file id.
    duration_s : float or None
        Length of the recording in seconds; when given, events are checked against it.
    codes : iterable of str or None
        Keep only these codes; a code not found in the file(s) is an error (a typo would otherwise silently
        drop every event).
    columns : mapping or None
        For CSV: explicit header names for the fields ``onset``, ``offset``, ``duration``, ``code``, ``scheme``,
        ``coder``, overriding the automatic recognition (see :data:`CSV_ALIASES`).
    tiers : iterable of str or None
        For ELAN and TextGrid: read only these tiers (all when None); an unknown tier is an error.
    default_code : str, default "event"
        Code of CSV rows when the file has no code column.
    on_outside : {"raise", "warn", "drop"}, default "raise"
        What to do with an event that starts at or after ``duration_s``: raise, or drop it (with a warning for
        ``"warn"``). An event that only ends after ``duration_s`` is clipped to it, with a warning.
    coder : str, sequence of str (one per file) or None
        Coder of every event of the file(s), overriding what the file says.
    observation : str or None
        For BORIS exports holding several observations: the one to read (an error lists them otherwise).

    Returns
    -------
    DataFrame
        The Events table (see module docstring), sorted by onset.

    Raises
    ------
    EventsError
        For an unreadable file, a missing or unknown column, a bad time, an offset before its onset, an unknown
        code or tier, unpaired BORIS START/STOP events, or an event past the end (``on_outside="raise"``).
    """
    check_option("on_outside", on_outside, ("raise", "warn", "drop"))
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    if not paths:
        raise EventsError(None, "no events file given")
    coders = list(coder) if coder is not None and not isinstance(coder, str) else [coder] * len(paths)
    if len(coders) != len(paths):
        raise EventsError(paths[0], f"coder= names {len(coders)} coder(s) for {len(paths)} file(s)")
    frames = []
    for p, who in zip(paths, coders):
        events = _read_one(p, columns=columns, tiers=tiers, default_code=default_code, observation=observation)
        if who is not None:
            events["coder"] = who
        elif len(paths) > 1:
            events.loc[events["coder"] == "", "coder"] = p.stem
        frames.append(
            validate_events(events, p, duration_s=duration_s, codes=codes if len(paths) == 1 else None,
                            on_outside=on_outside)
        )
    if len(paths) == 1:
        return frames[0]
    combined = pd.concat(frames, ignore_index=True)
    if codes is not None:
        wanted = list(codes)
        present = sorted(combined["code"].unique())
        unknown = [c for c in wanted if c not in present]
        if unknown:
            raise EventsError(
                paths[0], f"unknown code(s) {unknown}{suggest(unknown[0], present)} in {[p.name for p in paths]}; "
                f"codes in these files: {', '.join(present)}"
            )
        combined = combined[combined["code"].isin(wanted)]
    return combined.sort_values(["onset_s", "offset_s", "code"], kind="stable").reset_index(drop=True)


#: Readers by format; :func:`detect_format` picks one from the suffix and, for text files, the content.
FORMATS = ("csv", "eaf", "textgrid", "rttm", "boris_aggregated", "boris_tabular")


def detect_format(path: str | Path) -> str:
    """The events format of a file: one of :data:`FORMATS`, from its suffix and (for text files) its content.

    Raises
    ------
    EventsError
        For a missing file or an unknown suffix.
    """
    path = Path(path)
    if not path.exists():
        raise EventsError(path, "file not found")
    suffix = path.suffix.lower()
    if suffix == ".eaf":
        return "eaf"
    if suffix == ".textgrid":
        return "textgrid"
    if suffix == ".rttm":
        return "rttm"
    if suffix not in (".csv", ".tsv", ".txt"):
        raise EventsError(
            path, f"unknown events format {suffix!r}; dyadsync reads .csv, .tsv, .txt (including BORIS exports), "
            ".eaf (ELAN), .TextGrid (Praat) and .rttm (speaker turns)"
        )
    head = _read_text(path)[:20000]
    if head.lstrip().startswith(("File type", '"ooTextFile"')) and "TextGrid" in head[:200]:
        return "textgrid"
    header = _boris_header(head.splitlines()[:60])
    if header is not None:
        return "boris_aggregated" if header[1] == "aggregated" else "boris_tabular"
    return "csv"


def _read_one(
    path: Path, *, columns: Mapping[str, str] | None, tiers: Iterable[str] | None, default_code: str,
    observation: str | None,
) -> pd.DataFrame:
    fmt = detect_format(path)
    if tiers is not None and fmt not in ("eaf", "textgrid"):
        raise EventsError(path, "tiers= applies to ELAN and TextGrid files only; for other formats use codes=")
    if fmt == "eaf":
        return _read_eaf(path, tiers)
    if fmt == "textgrid":
        return _read_textgrid(path, tiers)
    if fmt == "rttm":
        return _read_rttm(path)
    if fmt in ("boris_aggregated", "boris_tabular"):
        return _read_boris(path, observation)
    return _read_csv(path, columns or {}, default_code)


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


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


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
    text = _read_text(path)
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
    from xml.sax.saxutils import escape, quoteattr

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


# ------------------------------------------------------------------------------------------------ Praat TextGrid

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


def _read_textgrid(path: Path, tiers: Iterable[str] | None) -> pd.DataFrame:
    """Praat TextGrid, long or short text format: interval tiers (non-empty intervals) and point tiers."""
    tokens = _textgrid_tokens(_read_text(path))
    pos = 0

    def take(kind: type, what: str) -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise EventsError(path, f"not a readable TextGrid: it ends early (expected {what})")
        tok = tokens[pos]
        ok = isinstance(tok, kind) and not (kind is float and isinstance(tok, bool))
        if not ok:
            raise EventsError(path, f"not a readable TextGrid: expected {what}, found {tok!r} (token {pos + 1})")
        pos += 1
        return tok

    if not take(str, "'ooTextFile'").startswith("ooTextFile") or take(str, "'TextGrid'") != "TextGrid":
        raise EventsError(path, "not a Praat TextGrid (the header must say ooTextFile / TextGrid)")
    take(float, "xmin")
    take(float, "xmax")
    if pos < len(tokens) and isinstance(tokens[pos], bool):
        if not tokens[pos]:
            return empty_events()
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
    if tiers is not None:
        wanted = list(tiers)
        unknown = [t for t in wanted if t not in names]
        if unknown:
            raise EventsError(path, f"unknown tier(s) {unknown}{suggest(unknown[0], names)}; tiers in this file: {names}")
        records = [r for r in records if r[3] in wanted]
    if not records:
        return empty_events()
    return pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))


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


# ------------------------------------------------------------------------------------------------------ BORIS

#: BORIS's own column names (aggregated export: one row per event; tabular export: START/STOP/POINT rows).
BORIS_AGGREGATED = ("Start (s)", "Stop (s)")
BORIS_SUBJECT_NONE = ("", "No focal subject", "No focal subject ")


def _boris_header(lines: list[str]) -> tuple[int, str, str] | None:
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


def _read_boris(path: Path, observation: str | None) -> pd.DataFrame:
    """BORIS aggregated or tabular events export (TSV or CSV).

    The behaviour becomes the code (with its modifiers in parentheses), the subject the scheme (the behavioural
    category when there is no focal subject); BORIS records no coder.
    """
    text = _read_text(path)
    lines = text.splitlines()
    found = _boris_header(lines[:60])
    if found is None:
        raise EventsError(path, "not a BORIS export: no header with Behavior and Start (s)/Stop (s) or Time/Status")
    at, kind, delimiter = found
    rows = list(csv.reader(io.StringIO("\n".join(lines[at:])), delimiter=delimiter))
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
            raise EventsError(path, f"observation {observation!r} not in this export; observations: {observations}")
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
        except ValueError as exc:
            raise EventsError(path, f"line {lineno}: {name}: {exc}") from None

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
    return pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))


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
