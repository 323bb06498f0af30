"""Text input files (codes, dial ratings, MEA files) decoded one way everywhere."""

from __future__ import annotations

from pathlib import Path


def read_text(path: str | Path) -> str:
    """The text of a file: UTF-16 when it starts with a byte-order mark, else UTF-8 (BOM allowed), else Latin-1."""
    raw = Path(path).read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
