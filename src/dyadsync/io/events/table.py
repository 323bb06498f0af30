"""The canonical Events table every reader returns: its columns, time strings, and the checks against a recording.

The Events table has one row per event and the columns

========== =====================================================================
onset_s    start of the event, seconds from the start of the recording
offset_s   end of the event, seconds (equal to ``onset_s`` for a point event)
code       what was coded (``MoM``, an innovative-moment type, ``rupture``...)
scheme     the coding scheme or ELAN tier it came from ('' when the file says nothing)
coder      who coded it ('' when the file says nothing)
source     file name and row (CSV line number, or ELAN annotation id)
========== =====================================================================
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..._validate import suggest
from ...errors import DyadsyncWarning, EventsError
from ..textfile import show_cells

EVENT_COLUMNS = ("onset_s", "offset_s", "code", "scheme", "coder", "source")

#: What a text codes file should be, for the message that refuses a binary one.
CODES_TEXT = "a text file of codes (CSV or TSV with a header row, a BORIS export, a Praat TextGrid or RTTM)"

# Seconds: digits with an optional decimal point or comma ("83.5", "83,5", "83", ".5"); no sign, exponent, nan.
_SECONDS_RE = re.compile(r"(?:\d+(?:[.,]\d*)?|[.,]\d+)", re.ASCII)
# Clock: m:ss or h:mm:ss, with any number of digits in the first field and exactly two in every later one.
_CLOCK_RE = re.compile(r"(?:(?P<h>\d+):(?P<hm>\d{2})|(?P<m>\d+)):(?P<s>\d{2}(?:[.,]\d*)?)", re.ASCII)
_ANY_CLOCK_RE = re.compile(r"\d+(?::\d+){1,2}(?:[.,]\d*)?", re.ASCII)
#: The accepted forms of a time, for messages.
ACCEPTED_TIMES = "seconds, m:ss or h:mm:ss, e.g. 83.5, 83,5, 1:23.5, 1:02:03.250"


def parse_time(text: str | float) -> float:
    """Parse a time given in seconds (``"83.5"``), ``mm:ss(.fff)`` or ``hh:mm:ss(.fff)``; return seconds.

    The accepted forms, surrounding spaces ignored: seconds as digits with an optional decimal point or comma
    (``83.5``, ``83,5``, ``83``); ``m:ss`` and ``h:mm:ss`` with an optional fraction of a second (``1:23.5``,
    ``01:02:03,250``), where the first field takes any number of digits and every later one exactly two, below 60.
    Nothing else is a time: no sign (a time counts from the start of the recording), no exponent, no ``nan`` or
    ``inf``, no ``1:5`` (``1:05`` or ``1:50``?). A number (int or float) must be finite and not negative.

    Raises
    ------
    EventsError
        When the text is none of these (the message, without a file name, says why; readers add file and line).
    """
    if isinstance(text, (int, float, np.number)) and not isinstance(text, bool):
        value = float(text)
        if not np.isfinite(value) or value < 0:
            raise EventsError(None, f"{text!r} is not a time (a finite number of seconds, not negative)")
        return value
    t = str(text).strip()
    if _SECONDS_RE.fullmatch(t):
        return float(t.replace(",", "."))
    m = _CLOCK_RE.fullmatch(t)
    if m:
        h = int(m.group("h") or 0)
        mins = int(m.group("hm") if m.group("h") is not None else m.group("m"))
        secs = float(m.group("s").replace(",", "."))
        if secs < 60 and (m.group("h") is None or mins < 60):
            return h * 3600 + mins * 60 + secs
        raise EventsError(None, f"{text!r} is not a valid clock time (minutes and seconds must be below 60)")
    why = ""
    if not t:
        why = ": the cell is empty"
    elif t.startswith("-") and (_SECONDS_RE.fullmatch(t[1:]) or _ANY_CLOCK_RE.fullmatch(t[1:])):
        why = ": times count from the start of the recording and cannot be negative"
    elif _ANY_CLOCK_RE.fullmatch(t):
        why = ": after a colon, minutes and seconds take two digits (1:05, not 1:5)"
    raise EventsError(None, f"{text!r} is not a time ({ACCEPTED_TIMES}){why}")


def format_time(seconds: float) -> str:
    """Seconds as ``mm:ss.fff`` (or ``hh:mm:ss.fff`` from one hour on)."""
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s = rem / 1000
    return f"{h:d}:{m:02d}:{s:06.3f}" if h else f"{m:02d}:{s:06.3f}"


#: A tier is read as free text, not codes, when its values are this nearly all different ...
FREE_TEXT_DISTINCT_SHARE = 0.8
#: ... and it holds at least this many annotations ...
FREE_TEXT_MIN_ANNOTATIONS = 5
#: ... or one of its values reads as prose: at least this many words, or more than this many characters, or at
#: least :data:`FREE_TEXT_SENTENCE_WORDS` words with sentence punctuation ...
FREE_TEXT_PROSE_WORDS = 5
FREE_TEXT_PROSE_CHARS = 40
FREE_TEXT_SENTENCE_WORDS = 3
#: ... or the tier's name says so (any of these words in it, any case).
FREE_TEXT_TIER_WORDS = ("note", "comment", "remark", "memo", "transcript", "transcription", "text")

#: Tiers that ``dyadsync export`` writes (synchrony peaks, episodes, who leads) start with this; read back as codes
#: only when selected (``tiers=``), so that synchrony is never analysed against itself by accident.
EXPORT_TIER_PREFIX = "dyadsync "


def free_text_schemes(events: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """The schemes (tiers) of an Events table whose values look like free text (notes, transcripts), not codes.

    A code repeats: ``MoM``, ``rupture``, an innovative-moment type. A notes or transcript tier holds a different
    value on nearly every annotation. A scheme is free text when at least :data:`FREE_TEXT_DISTINCT_SHARE` of
    its annotations have a value no other annotation of the scheme has, and either it holds at least
    :data:`FREE_TEXT_MIN_ANNOTATIONS` annotations, or one of its values reads as prose (at least
    :data:`FREE_TEXT_PROSE_WORDS` words, more than :data:`FREE_TEXT_PROSE_CHARS` characters, or
    :data:`FREE_TEXT_SENTENCE_WORDS` words with a ``.``, ``,``, ``;``, ``?`` or ``!``), or its name says notes,
    comments or transcript (:data:`FREE_TEXT_TIER_WORDS`). A single note ("client seemed tired.") or the one
    annotation of a tier ``notes`` is free text; a single ``MoM`` or ``moment of meeting`` is a code.

    Returns
    -------
    dict
        Scheme -> (annotations, distinct values), in the order the schemes first appear.
    """
    found: dict[str, tuple[int, int]] = {}
    schemes = events["scheme"].astype(str)
    for scheme in dict.fromkeys(schemes):
        if not scheme:
            continue
        values = events.loc[schemes == scheme, "code"].astype(str)
        n, counts = len(values), values.value_counts()
        once = int((counts == 1).sum())
        if n == 0 or once < FREE_TEXT_DISTINCT_SHARE * n:
            continue
        prose = any(_prose(v) for v in counts.index)
        named = any(word in scheme.lower() for word in FREE_TEXT_TIER_WORDS)
        if n >= FREE_TEXT_MIN_ANNOTATIONS or prose or named:
            found[scheme] = (n, int(len(counts)))
    return found


def _prose(value: str) -> bool:
    words = len(value.split())
    return (words >= FREE_TEXT_PROSE_WORDS or len(value) > FREE_TEXT_PROSE_CHARS
            or (words >= FREE_TEXT_SENTENCE_WORDS and any(c in value for c in ".,;?!")))


def empty_events() -> pd.DataFrame:
    """An Events table with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("_s") else object) for c in EVENT_COLUMNS})


def events_table(records: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """An Events table from ``(onset_s, offset_s, code, scheme, coder, source)`` tuples, in the readers' order.

    Parameters
    ----------
    records : sequence of 6-tuples
        One per event, fields in the order of :data:`EVENT_COLUMNS`.

    Returns
    -------
    DataFrame
        Unvalidated and unsorted (:func:`validate_events` checks and sorts it).
    """
    return pd.DataFrame.from_records(records, columns=list(EVENT_COLUMNS))


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
                path, f"unknown code(s) {unknown}{hint}; codes in this file: {show_cells(present, limit=20) or 'none'}"
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
