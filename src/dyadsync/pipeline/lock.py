"""One dyadsync at a time in an output folder: a lock file that names its holder and is recognised when stale.

Two batches (or two runs) writing into one folder would interleave their results. :class:`FolderLock` creates
``.dyadsync.lock`` atomically (it exists or it does not) holding the holder's process id, host, start time and
command; a second one refuses with a message naming the holder. A lock left by a killed process is recognised
(the process no longer exists on this host, or its id now belongs to another process) and taken over.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import InputError

LOCK_FILE = ".dyadsync.lock"


def _process_started(pid: int) -> float | None:
    """When process ``pid`` started (s since the epoch), or None when there is no such process."""
    import psutil

    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


class FolderLock:
    """``with FolderLock(folder, "batch"):`` holds ``folder/.dyadsync.lock`` for the block.

    Raises
    ------
    InputError
        When another live dyadsync process holds the folder (naming it), or the lock cannot be written.
    """

    def __init__(self, folder: str | Path, what: str = "batch") -> None:
        self.folder, self.what = Path(folder), what
        self.path = self.folder / LOCK_FILE
        self.held = False

    def _holder(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def _stale(self, holder: dict[str, Any]) -> bool:
        if holder.get("host") != socket.gethostname():
            return False  # another machine's process (a shared file system): cannot be checked from here
        started = _process_started(int(holder.get("pid", -1)))
        return started is None or abs(started - float(holder.get("process_started", 0))) > 1.0

    def __enter__(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "what": self.what,
              "started": time.strftime("%Y-%m-%d %H:%M:%S"), "process_started": _process_started(os.getpid()),
              "command": " ".join(sys.argv)[:500]}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder and not self._stale(holder):
                    raise InputError(
                        self.folder,
                        f"is in use by another dyadsync {holder.get('what', 'run')} (process {holder.get('pid')} on "
                        f"{holder.get('host')}, started {holder.get('started')}); wait for it to finish or give "
                        f"another output folder (if that process is gone, delete {self.path})") from None
                self.path.unlink(missing_ok=True)  # left by a killed process (or unreadable): taken over
                continue
            except OSError as exc:
                raise InputError(self.folder, f"cannot write the lock file ({exc.strerror or exc})") from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self.held = True
            return self
        raise InputError(self.folder, "could not take the folder's lock (another process keeps taking it)")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.held and self._holder().get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Temporary files and staging folders of a killed run under ``folder`` (removed; returned).

    Atomic writes leave ``.<name>.<random>.tmp`` when killed mid-write, a killed session run its
    ``.dyadsync-partial`` folder and a killed batch its ``.progress.json`` files. Call it holding the lock.
    """
    import shutil

    from .layout import PROGRESS_FILE, STAGING_DIR

    removed = []
    for path in sorted(Path(folder).rglob(".*")):
        if path.is_dir() and path.name == STAGING_DIR:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif path.is_file() and ((path.name.endswith(".tmp") and path.name.count(".") >= 3)
                                 or path.name == PROGRESS_FILE):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
