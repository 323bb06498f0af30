"""Array helpers shared across the layers (private: not part of the public API)."""

from __future__ import annotations

import numpy as np


def true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of True in a 1-D boolean array.

    Parameters
    ----------
    mask : ndarray, shape (n,)
        Anything that converts to bool.

    Returns
    -------
    (ndarray, ndarray)
        ``starts`` and ``ends`` (int64, equal length): ``mask[starts[k]:ends[k]]`` is the k-th run of True.

    Examples
    --------
    >>> true_runs(np.array([0, 1, 1, 0, 1], bool))
    (array([1, 4]), array([3, 5]))
    """
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=bool).astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
