"""Coded events (moments of meeting and other codes) from CSV, ELAN, Praat, BORIS and RTTM files, as one table.

:func:`read_events` is the one entry point: it picks the reader from the file's suffix and content, and checks
the events against the recording. Each format has its module, with its reader and writer:

========== ================================================================================================
table      the canonical Events table: :data:`EVENT_COLUMNS`, time strings (:func:`parse_time`), validation
reader     :func:`read_events`, :func:`detect_format`
csvfile    CSV/TSV (seconds, ``mm:ss``, ``hh:mm:ss.fff``), innovative-moment coding sheets
eaf        ELAN ``.eaf``: reading, writing a new file or a copy of the coder's own with added tiers
textgrid   Praat TextGrid (long and short text format)
boris      BORIS aggregated and tabular exports
rttm       RTTM speaker turns
========== ================================================================================================

>>> from dyadsync.io.events import read_events
>>> events = read_events("codes.eaf", duration_s=3000.0)  # doctest: +SKIP
"""

from .boris import (
    BORIS_AGGREGATED,
    BORIS_SUBJECT_NONE,
    boris_header,
    read_boris,
    write_boris,
)
from .csvfile import CSV_ALIASES, read_csv_events, write_events_csv
from .eaf import read_eaf, write_eaf
from .reader import FORMATS, detect_format, read_events
from .rttm import read_rttm
from .table import (
    EVENT_COLUMNS,
    EXPORT_TIER_PREFIX,
    empty_events,
    events_table,
    format_time,
    free_text_schemes,
    parse_time,
    validate_events,
)
from .textgrid import read_textgrid, write_textgrid

__all__ = [
    "BORIS_AGGREGATED",
    "BORIS_SUBJECT_NONE",
    "CSV_ALIASES",
    "EVENT_COLUMNS",
    "EXPORT_TIER_PREFIX",
    "FORMATS",
    "boris_header",
    "detect_format",
    "empty_events",
    "events_table",
    "format_time",
    "free_text_schemes",
    "parse_time",
    "read_boris",
    "read_csv_events",
    "read_eaf",
    "read_events",
    "read_rttm",
    "read_textgrid",
    "validate_events",
    "write_boris",
    "write_eaf",
    "write_events_csv",
    "write_textgrid",
]
