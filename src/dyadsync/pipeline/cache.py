"""A content-addressed cache of stage results, shared by the sessions of a batch.

A stage's result is stored under a key made of everything it depends on: the SHA-256 of its input file, the
stage's parameters and the dyadsync version. Re-running a batch therefore recomputes only what changed (a new
video, a changed parameter, a new version), and a run killed at any moment loses nothing: entries are written
atomically, so an entry is either complete or absent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..io.store import write_json, write_parquet, write_text


def stable_hash(*parts: Any) -> str:
    """SHA-256 (hex) of JSON-serialised ``parts``: equal for equal content, whatever the dict order."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: str | Path, *, block: int = 1 << 22) -> str:
    """SHA-256 (hex) of a file's content, read in 4 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(block), b""):
            h.update(chunk)
    return h.hexdigest()


class StageCache:
    """Stage results on disk, keyed by content.

    Parameters
    ----------
    root : str or Path
        Cache folder (created). A batch keeps it at ``<out>/.cache``.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "stages").mkdir(parents=True, exist_ok=True)
        (self.root / "files").mkdir(parents=True, exist_ok=True)

    def content_hash(self, path: str | Path) -> str:
        """SHA-256 of a file, remembered per (path, size, modification time) so a large video is read once."""
        p = Path(path).resolve()
        st = p.stat()
        memo = self.root / "files" / (stable_hash(str(p), st.st_size, st.st_mtime_ns)[:32] + ".sha256")
        if memo.is_file():
            return memo.read_text().strip()
        digest = file_sha256(p)
        write_text(digest + "\n", memo)
        return digest

    def key(self, stage: str, *parts: Any) -> str:
        """Cache key of a stage result from everything it depends on (the package version included)."""
        return f"{stage}-{stable_hash(stage, __version__, *parts)[:40]}"

    def load(self, key: str) -> tuple[pd.DataFrame, dict[str, Any], dict[str, pd.DataFrame]] | None:
        """The cached (table, info, extra tables by name) for ``key``, or None."""
        folder = self.root / "stages"
        table, info = folder / f"{key}.parquet", folder / f"{key}.json"
        if not (table.is_file() and info.is_file()):
            return None
        try:
            meta = json.loads(info.read_text())
            extra = {name: pd.read_parquet(folder / f"{key}.{name}.parquet") for name in meta.pop("_extra", [])}
            return pd.read_parquet(table), meta, extra
        except (OSError, ValueError):
            return None  # unreadable entry (e.g. a disk error): recompute it

    def store(self, key: str, table: pd.DataFrame, info: dict[str, Any],
              extra: dict[str, pd.DataFrame] | None = None) -> None:
        """Save a stage result: its table, the stage's other tables (``extra``, e.g. the voice stage's turns) and
        its info, in that order, so that an entry with its info file is always complete."""
        folder = self.root / "stages"
        write_parquet(table, folder / f"{key}.parquet")
        for name, t in (extra or {}).items():
            write_parquet(t, folder / f"{key}.{name}.parquet")
        write_json({**info, "_extra": sorted(extra or {})} if extra else info, folder / f"{key}.json")

    def size_bytes(self) -> int:
        """Total size of the cache on disk."""
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())


__all__ = ["StageCache", "file_sha256", "stable_hash"]
