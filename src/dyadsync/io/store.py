"""Atomic output files: everything dyadsync writes goes to a temporary file first and is renamed into place.

A crash, a kill or a full disk therefore never leaves a half-written table behind: a result file is either
absent or complete. Temporary files live next to their target (same file system, so the rename is atomic) and
are named ``.<name>.<random>.tmp``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

#: The file-creation mask assumed where the process's own cannot be read (not Linux).
DEFAULT_UMASK = 0o022


def current_umask() -> int:
    """The process's file-creation mask, read without changing it.

    ``os.umask`` can only be read by setting it, which races with threads creating files at the same moment;
    Linux reports it in ``/proc/self/status`` instead. Elsewhere :data:`DEFAULT_UMASK` is assumed.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_UMASK


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``path``, on error it is removed.

    Parameters
    ----------
    path : str or Path
        Final location. Its parent directory is created if needed.

    Yields
    ------
    Path
        Temporary file in the same directory, to be written by the caller.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp makes files readable by the owner only; results get the usual permissions instead.
        os.chmod(tmp_path, 0o666 & ~current_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary file for writing that replaces ``path`` only when the block ends without error."""
    if "b" in mode:
        encoding = None
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding, newline="" if "b" not in mode else None) as fh:
        yield fh


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to Parquet atomically (index dropped unless it is named); return the path."""
    keep_index = any(name is not None for name in df.index.names)
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=keep_index, engine="pyarrow")
    return Path(path)


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write ``df`` to CSV atomically (no index); return the path."""
    with atomic_open(path, "w") as fh:
        df.to_csv(fh, index=False, **kwargs)
    return Path(path)


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file atomically; return the path."""
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON atomically (NumPy scalars and paths converted); return the path."""
    return write_text(json.dumps(obj, indent=2, default=_json_default, sort_keys=False) + "\n", path)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
