"""The result types of the synchrony engines.

:class:`WCC` is what every windowed engine returns (:func:`~dyadsync.synchrony.windowed_cross_correlation`,
:func:`~dyadsync.synchrony.mea_ccf`) and what the summaries, the peak picking and the surrogates read; it lives
apart from the engines so that every module working on a result can import it without importing an engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class WCC:
    """Result of :func:`~dyadsync.synchrony.windowed_cross_correlation` (and of the rMEA-compatible
    :func:`~dyadsync.synchrony.mea_ccf`).

    Attributes
    ----------
    values : ndarray, shape (n_windows, n_lags)
        Correlation per window and lag, as Fisher z when ``params["fisher_z"]``, absolute when
        ``params["absolute"]``; NaN where too few valid pairs or no variance.
    lags_s : ndarray, shape (n_lags,)
        Lags in seconds, ascending, ``-max_lag .. +max_lag``; positive = B follows A.
    times_s : ndarray, shape (n_windows,)
        Window centres in seconds.
    starts_s, ends_s : ndarray, shape (n_windows,)
        Time of the first and last A sample of each window, in seconds.
    n_pairs : ndarray, shape (n_windows, n_lags)
        Number of valid (finite) pairs behind each value.
    rate_hz : float
    params : dict
        Window, step and lag in seconds and samples, transform options.
    """

    values: np.ndarray
    lags_s: np.ndarray
    times_s: np.ndarray
    starts_s: np.ndarray
    ends_s: np.ndarray
    n_pairs: np.ndarray
    rate_hz: float
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def lags(self) -> np.ndarray:
        """Lags in samples."""
        return np.round(self.lags_s * self.rate_hz).astype(int)
