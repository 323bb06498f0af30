"""Coded events (moments of meeting and other codes) from any supported file, as one canonical Events table.

Formats: CSV/TSV (seconds, ``mm:ss`` or ``hh:mm:ss.fff``; point events or intervals given by an end or a
duration; comma, semicolon or tab separated, as innovative-moment coding sheets are), ELAN ``.eaf`` (tiers become
schemes, the tier's annotator the coder; several coders as tiers or as files), Praat TextGrid (interval and point
tiers, long and short text format), BORIS exports (aggregated: one row per event; tabular: START/STOP/POINT rows)
and RTTM speaker turns. :func:`read_events` is the one entry point: it picks the reader from the suffix and the
content.

Readers validate as they go, and every message names the file and the row: unreadable times, offsets before
onsets, events past the end of the recording, columns that cannot be found, codes or tiers that are not in the
file, unpaired START/STOP events; overlapping events of one code and coder are warned about.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..._validate import check_option, suggest
from ...errors import DyadsyncWarning, EventsError
from ..textfile import read_text, show_cells
from .boris import boris_header, read_boris
from .csvfile import read_csv_events
from .eaf import read_eaf_tiers
from .rttm import read_rttm
from .table import CODES_TEXT, EXPORT_TIER_PREFIX, free_text_schemes, validate_events
from .textgrid import read_textgrid_tiers


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
    free_text: str = "warn",
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
        For ELAN and TextGrid: read only these tiers (all when None); a tier in none of the files is an error.
    default_code : str, default "event"
        Code of CSV rows when the file has no code column.
    on_outside : {"raise", "warn", "drop"}, default "raise"
        What to do with an event that starts at or after ``duration_s``: raise, or drop it (with a warning for
        ``"warn"``). An event that only ends after ``duration_s`` is clipped to it, with a warning.
    coder : str, sequence of str (one per file) or None
        Coder of every event of the file(s), overriding what the file says.
    observation : str or None
        For BORIS exports holding several observations: the one to read (an error lists them otherwise).
    free_text : {"warn", "keep"}, default "warn"
        ELAN and TextGrid tiers that look like free text (notes, transcripts: nearly every annotation a different
        value, see :func:`~dyadsync.io.events.table.free_text_schemes`), and the tiers ``dyadsync export`` writes
        (names starting with ``dyadsync ``), are left out with a warning naming them, unless selected by
        ``tiers`` or ``codes``; ``"keep"`` reads them as codes.

    Returns
    -------
    DataFrame
        The Events table (see :mod:`dyadsync.io.events.table`), sorted by onset.

    Raises
    ------
    EventsError
        For an unreadable file, a missing or unknown column, a bad time, an offset before its onset, an unknown
        code or tier, unpaired BORIS START/STOP events, or an event past the end (``on_outside="raise"``).
    """
    check_option("on_outside", on_outside, ("raise", "warn", "drop"))
    check_option("free_text", free_text, ("warn", "keep"))
    wanted_tiers = None if tiers is None else list(tiers)
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    if not paths:
        raise EventsError(None, "no events file given")
    coders = list(coder) if coder is not None and not isinstance(coder, str) else [coder] * len(paths)
    if len(coders) != len(paths):
        raise EventsError(paths[0], f"coder= names {len(coders)} coder(s) for {len(paths)} file(s)")
    frames, all_tiers = [], []
    for p, who in zip(paths, coders):
        events, names = _read_one(p, columns=columns, default_code=default_code, observation=observation)
        if wanted_tiers is not None:
            if names is None:
                raise EventsError(p, "tiers= applies to ELAN and TextGrid files only; for other formats use codes=")
            unknown = [t for t in wanted_tiers if t not in names]
            if unknown and len(paths) == 1:
                raise EventsError(p, f"unknown tier(s) {unknown}{suggest(unknown[0], names)}; tiers in this file: "
                                  f"{show_cells(names, limit=20)}")
            all_tiers += names
            events = events[events["scheme"].isin(wanted_tiers)].reset_index(drop=True)
        elif names is not None and codes is None and free_text == "warn":
            events = _leave_out_unselected(events, p)
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
    if wanted_tiers is not None:
        unknown = [t for t in wanted_tiers if t not in all_tiers]
        if unknown:
            names = list(dict.fromkeys(all_tiers))
            raise EventsError(
                paths[0], f"unknown tier(s) {unknown}{suggest(unknown[0], names)} in {[p.name for p in paths]}; "
                f"tiers in these files: {show_cells(names, limit=20)}"
            )
    combined = pd.concat(frames, ignore_index=True)
    if codes is not None:
        wanted = list(codes)
        present = sorted(combined["code"].unique())
        unknown = [c for c in wanted if c not in present]
        if unknown:
            raise EventsError(
                paths[0], f"unknown code(s) {unknown}{suggest(unknown[0], present)} in {[p.name for p in paths]}; "
                f"codes in these files: {show_cells(present, limit=20)}"
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
        For a missing file, a folder, an unknown suffix, or a binary file given as text.
    """
    path = Path(path)
    if not path.exists():
        raise EventsError(path, "file not found")
    if path.is_dir():
        raise EventsError(path, "is a folder, not a codes file")
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
    head = read_text(path, error=EventsError, what=CODES_TEXT)[:20000]
    if head.lstrip().startswith(("File type", '"ooTextFile"')) and "TextGrid" in head[:200]:
        return "textgrid"
    header = boris_header(head.splitlines()[:60])
    if header is not None:
        return "boris_aggregated" if header[1] == "aggregated" else "boris_tabular"
    return "csv"


def _read_one(
    path: Path, *, columns: Mapping[str, str] | None, default_code: str, observation: str | None,
) -> tuple[pd.DataFrame, list[str] | None]:
    """The file's events in the reader of its format, unvalidated, and its tier names (None for formats without
    tiers)."""
    fmt = detect_format(path)
    if fmt == "eaf":
        return read_eaf_tiers(path)
    if fmt == "textgrid":
        return read_textgrid_tiers(path)
    if fmt == "rttm":
        return read_rttm(path), None
    if fmt in ("boris_aggregated", "boris_tabular"):
        return read_boris(path, observation), None
    return read_csv_events(path, columns=columns or {}, default_code=default_code), None


def _leave_out_unselected(events: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The events without the tiers nobody selected that are not codes: free text, and dyadsync's own export."""
    schemes = events["scheme"].astype(str)
    exported = list(dict.fromkeys(schemes[schemes.str.startswith(EXPORT_TIER_PREFIX)]))
    if exported:
        warnings.warn(
            f"{path}: tier(s) {show_cells(exported, limit=10)} hold synchrony written by `dyadsync export`, not "
            "codes: left out (select them with --tier, tiers=, to read them back)", DyadsyncWarning, stacklevel=3)
    rest = events[~schemes.isin(exported)]
    notes = free_text_schemes(rest)
    if notes:
        what = "; ".join(f"{name!r}: {n} annotation(s), {k} different value(s)" for name, (n, k) in notes.items())
        warnings.warn(
            f"{path}: tier(s) {show_cells(list(notes), limit=10)} look like free text (notes or transcript), not "
            f"codes ({what}): left out. To analyse them as codes, select them with --tier (tiers=) or --code",
            DyadsyncWarning, stacklevel=3)
        rest = rest[~rest["scheme"].astype(str).isin(list(notes))]
    return rest.reset_index(drop=True)
