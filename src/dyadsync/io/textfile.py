"""Text input files (codes, dial ratings, MEA files) decoded one way everywhere, and binary files refused by name.

Decoding, in order: UTF-16 when the file starts with a byte-order mark; UTF-16 without one when its zero bytes
give it away (text in UTF-16 has a zero byte in every other position wherever it is ASCII, as the headers, numbers
and times of every input here are; UTF-8 and Latin-1 text never contains a zero byte); else UTF-8 (with or without
BOM); else Latin-1, which decodes anything (a spreadsheet saved in a Western legacy code page). A file with zero
bytes or many control characters that is not UTF-16 is binary: a video, a workbook or an archive given where a text
file belongs. The message says which kind when its first bytes tell.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import InputError

#: Bytes a file starts with, what such a file is, and what to do (for the message that refuses it).
MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx or OpenDocument workbook?)", "save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office file (an Excel .xls workbook?)", "save the sheet as CSV"),
    (b"ooBinaryFile", "a binary Praat file", "in Praat, save it with 'Save as text file'"),
    (b"%PDF", "a PDF document", ""),
    (b"\x1f\x8b", "a gzip archive", "unpack it first"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM video", ""),
    (b"RIFF", "a WAV or AVI media file", ""),
    (b"OggS", "an Ogg media file", ""),
    (b"fLaC", "a FLAC audio file", ""),
    (b"ID3", "an MP3 audio file", ""),
    (b"\x89PNG", "a PNG image", ""),
    (b"\xff\xd8\xff", "a JPEG image", ""),
)

#: How much of a file the encoding and binary checks look at, in bytes.
SNIFF_BYTES = 4096

# Control characters that text files do hold: tab, line feed, form feed, carriage return, and DOS's end-of-file.
_TEXT_CONTROLS = frozenset(b"\t\n\x0c\r\x1a")


def read_bytes(path: str | Path, *, error: type[InputError] = InputError) -> bytes:
    """The bytes of an input file, with a one-line ``error`` (naming the file) when it cannot be read.

    Raises
    ------
    InputError (the ``error`` subclass given)
        For a missing file, a folder, or a file the operating system refuses to read.
    """
    path = Path(path)
    if path.is_dir():
        raise error(path, "is a folder, not a file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(path, "file not found") from None
    except OSError as exc:
        raise error(path, f"cannot be read ({exc.strerror or exc})") from None


def binary_kind(raw: bytes) -> tuple[str, str] | None:
    """What a file's bytes are when they are not text, and what to do: ``("a PDF document", "")``..., or None.

    UTF-16 text (with or without byte-order mark) counts as text.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(raw) is not None:
        return None
    for magic, kind, advice in MAGIC:
        if raw.startswith(magic):
            return kind, advice
    if len(raw) >= 8 and raw[4:8] == b"ftyp":
        return "an MP4/MOV video", ""
    head = raw[:SNIFF_BYTES]
    if b"\x00" in head:
        return "a binary file", "if it is UTF-16 text this check could not recognise, save it as UTF-8"
    if head and _controls(head) > 0.05 * len(head):
        return "a binary file", ""
    return None


def refuse_binary(raw: bytes, path: str | Path, *, error: type[InputError], what: str) -> None:
    """Raise ``error`` naming the file when ``raw`` is not text (see :func:`binary_kind`); else return."""
    found = binary_kind(raw)
    if found is not None:
        kind, advice = found
        raise error(path, f"is {kind}, not {what}" + (f"; {advice}" if advice else ""))


def utf16_without_bom(raw: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``raw`` is UTF-16 text without a byte-order mark, else None.

    In UTF-16 every character of the ASCII and Latin-1 range has a zero high byte, so such text has zeros in at
    least half of one byte position and few in the other (characters like U+0100 or U+4E00 have a zero low byte);
    text in any 8-bit encoding has no zero byte at all, and binary files have zeros in both positions. The file must
    also decode as that encoding without error into text without NUL and with few control characters.
    """
    if len(raw) % 2 or len(raw) < 4:  # UTF-16 text is a whole number of 2-byte units
        return None
    head = raw[:SNIFF_BYTES]
    even, odd = head[0::2], head[1::2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    if zeros_odd >= len(odd) / 2 and zeros_even <= zeros_odd / 8:
        encoding = "utf-16-le"
    elif zeros_even >= len(even) / 2 and zeros_odd <= zeros_even / 8:
        encoding = "utf-16-be"
    else:
        return None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        return None
    sample = text[: SNIFF_BYTES // 2]
    if "\x00" in text or _controls(sample) > 0.05 * len(sample):
        return None
    return encoding


def _controls(text: str | bytes) -> int:
    """How many control characters that text files do not hold ``text`` has."""
    codes = text if isinstance(text, bytes) else map(ord, text)
    return sum(1 for c in codes if c < 0x20 and c not in _TEXT_CONTROLS)


def read_text(path: str | Path, *, error: type[InputError] = InputError, what: str = "a text file") -> str:
    """The text of an input file, decoded as the module docstring says; binary files refused.

    Parameters
    ----------
    path : str or Path
    error : InputError subclass, default InputError
        The error raised (``EventsError``, ``MEAFileError``...), so that the CLI names the file in one line.
    what : str
        What the file should be, for the message (``"a codes file (CSV, TSV, TextGrid...)"``).

    Returns
    -------
    str
        The text, without byte-order mark; line ends as in the file.

    Raises
    ------
    InputError (the ``error`` subclass given)
        For a file that cannot be read, is binary, or claims UTF-16 by its byte-order mark but is not.
    """
    raw = read_bytes(path, error=error)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise error(path, f"starts like UTF-16 text (a byte-order mark) but is not valid UTF-16; {what} "
                              "is expected: save it again as UTF-8") from None
    encoding = utf16_without_bom(raw)
    if encoding is not None:
        return raw.decode(encoding)
    refuse_binary(raw, path, error=error, what=what)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def csv_rows(text: str, path: str | Path, *, delimiter: str, error: type[InputError] = InputError) -> list[list[str]]:
    """The rows of a CSV text, with a one-line ``error`` naming the file where Python's csv module gives up.

    Raises
    ------
    InputError (the ``error`` subclass given)
        For a field beyond the csv module's limit (128 KiB), typically a quote that opens a cell and never closes.
    """
    try:
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise error(
            path, f"not a readable CSV file ({exc}); a quote (\") that opens a cell and is never closed makes the rest "
            "of the file one cell"
        ) from None


def show_cells(cells: list[str], *, limit: int = 12, width: int = 40) -> str:
    """Cells of a file for a message: quoted (control characters escaped, so nothing from the file can move the
    terminal's cursor or start a new line), each cut at ``width`` characters, at most ``limit`` of them."""
    shown = []
    for cell in cells[:limit]:
        text = repr(cell)
        shown.append(text if len(text) <= width else text[: width - 4] + "...'")
    more = f", ... ({len(cells)} columns)" if len(cells) > limit else ""
    return ", ".join(shown) + more
