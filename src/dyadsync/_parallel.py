"""How many threads or processes one session may use.

A single session uses every core (threaded decoding, per-person workers). In a batch, the parallelism is across
sessions instead: each worker process gets ``DYADSYNC_THREADS=1`` so that N workers use N cores without
oversubscribing them.
"""

from __future__ import annotations

import os

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
