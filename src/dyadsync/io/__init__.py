"""Reading and writing: video and audio decoding, coded events, dial ratings, MEA files, and atomic output files.

The readers a developer needs are importable from here; each loads its module (and pandas, PyAV...) on first use,
so ``import dyadsync.io`` stays light:

>>> from dyadsync.io import read_events, read_mea  # doctest: +SKIP

============================ ====================================================================================
:func:`read_events`          coded events from CSV/TSV, ELAN ``.eaf``, Praat TextGrid, BORIS, RTTM (:mod:`.events`)
:func:`detect_format`        which of those formats a file is
:func:`write_events_csv`,    an Events table in each format
:func:`write_eaf`,
:func:`write_textgrid`,
:func:`write_boris`
:func:`read_dial`            continuous dial ratings (:mod:`.dial`)
:func:`read_mea`,            MEA files in rMEA's text format, as a feature table or an array (:mod:`.mea_files`)
:func:`read_mea_series`,
:func:`write_mea`
:func:`probe_video`,         a video's streams and timing, its frames with true timestamps (:mod:`.video`)
:func:`iter_frames`
:func:`read_audio`           audio of any media file, decoded by PyAV (:mod:`.audio`)
============================ ====================================================================================
"""

from __future__ import annotations

# Neither typing nor importlib is imported here: both would cost more than the rest of ``import dyadsync.io``.
TYPE_CHECKING = False
if TYPE_CHECKING:  # the names below, for type checkers and readers; at run time they load on first use
    from .audio import read_audio
    from .dial import read_dial
    from .events import (
        detect_format,
        read_events,
        write_boris,
        write_eaf,
        write_events_csv,
        write_textgrid,
    )
    from .mea_files import read_mea, read_mea_series, write_mea
    from .video import iter_frames, probe_video

#: Public name -> module of this package that defines it.
_LAZY = {
    "read_events": "events",
    "detect_format": "events",
    "write_events_csv": "events",
    "write_eaf": "events",
    "write_textgrid": "events",
    "write_boris": "events",
    "read_dial": "dial",
    "read_mea": "mea_files",
    "read_mea_series": "mea_files",
    "write_mea": "mea_files",
    "probe_video": "video",
    "iter_frames": "video",
    "read_audio": "audio",
}

__all__ = [
    "detect_format",
    "iter_frames",
    "probe_video",
    "read_audio",
    "read_dial",
    "read_events",
    "read_mea",
    "read_mea_series",
    "write_boris",
    "write_eaf",
    "write_events_csv",
    "write_mea",
    "write_textgrid",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
