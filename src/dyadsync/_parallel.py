"""How much of the machine one session uses: threads, and memory given back between its stages.

A single session uses every core (threaded decoding, per-person workers). In a batch, the parallelism is across
sessions instead: each worker process gets ``DYADSYNC_THREADS=1`` so that N workers use N cores without
oversubscribing them. :func:`release_memory` keeps a worker's resident memory near what it holds.
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any

ENV = "DYADSYNC_THREADS"


def max_threads() -> int:
    """Threads (or worker processes) a session may use: ``$DYADSYNC_THREADS`` if set, else the number of cores."""
    value = os.environ.get(ENV, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass
    return max(1, os.cpu_count() or 1)


def single_threaded_env() -> dict[str, str]:
    """Environment variables that keep one worker process (and its numeric libraries) on one core."""
    return {ENV: "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


_libc: Any = None


def release_memory() -> None:
    """Give memory freed by the last stage back to the operating system (glibc's heap and PyArrow's pool).

    A session frees large arrays and tables between its stages, but the allocators keep what was freed: glibc
    serves even multi-MB requests from its heap once a large array has been freed (its mmap threshold rises), so
    the heap fragments, and PyArrow's mimalloc pool keeps the buffers of every Parquet file read. A worker's
    resident memory then grows stage after stage although the data it holds does not (building, storing and
    reloading the pose and face tables of a 30-minute session left 150 MB more resident with trimming, 350 MB
    without). Calling this between stages trims both; it costs a few milliseconds. Without glibc (macOS,
    Windows, musl) only the PyArrow pool is trimmed.
    """
    global _libc
    if sys.platform.startswith("linux"):
        if _libc is None:
            try:
                _libc = ctypes.CDLL("libc.so.6")
                _libc.malloc_trim  # noqa: B018 - musl has no malloc_trim
            except (OSError, AttributeError):
                _libc = False
        if _libc:
            _libc.malloc_trim(0)
    pyarrow = sys.modules.get("pyarrow")  # only when already in use: never imported for this
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()


def die_with_parent(parent_pid: int | None = None) -> None:
    """Linux: have the kernel kill this process when its parent dies; exit at once when it is already gone.

    A spawned worker starts by importing NumPy, pandas and dyadsync (seconds on a loaded machine); a parent killed
    during that time would leave it running a whole session as an orphan, writing beside the next batch. So the
    request is made first thing, and ``parent_pid`` (the parent's id, passed in) is checked after it: once the
    request is in place, a parent that dies later kills this process; one that died before has already
    reparented it.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def guarded_child(payload: bytes, parent_pid: int, *handles: Any) -> None:
    """The target of a spawned worker: :func:`die_with_parent` before anything is imported, then the work.

    ``payload`` is ``pickle.dumps((function, args))``, unpickled only afterwards, because unpickling imports the
    modules the work needs; ``handles`` (pipe ends, which only the process machinery can hand over) follow the
    args.
    """
    die_with_parent(parent_pid)
    import pickle

    function, args = pickle.loads(payload)
    function(*args, *handles)
