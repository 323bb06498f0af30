"""The result types of the synchrony engines.

:class:`WCC` is what every windowed engine returns (:func:`~dyadsync.synchrony.windowed_cross_correlation`,
:func:`~dyadsync.synchrony.mea_ccf`) and what the summaries, the peak picking and the surrogates read;
:class:`SurrogateResult` is what every kind of surrogate returns (circular shift, segment shuffling, IAAFT,
pseudo-dyads). They live apart from the engines so that every module working on a result can import it without
importing an engine.
"""

from __future__ import annotations

import warnings
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


@dataclass
class SurrogateResult:
    """Synchrony of surrogate data.

    Attributes
    ----------
    method : str
        ``"circular_shift"``, ``"segment_shuffle"``, ``"iaaft"`` or ``"pseudo_dyad"``.
    global_index : ndarray, shape (n_surrogates,)
        Grand mean of each surrogate's windows x lags matrix.
    window_sync : ndarray, shape (n_surrogates, n_windows)
        Each surrogate's per-window synchrony (``summary``: value at the best lag, mean over lags, or lag 0);
        NaN where a surrogate is shorter than the real series.
    lag_profile : ndarray, shape (n_surrogates, n_lags)
        Each surrogate's mean over windows, per lag.
    lags_s : ndarray, shape (n_lags,)
        Lags in seconds (positive: B follows A).
    labels : list
        What each surrogate is: the shift in seconds (circular shift), the draw number, or the pair.
    summary : str
        Which per-window summary ``window_sync`` holds.
    params : dict
        Every parameter, including the seed material, for the record.
    values : ndarray or None, shape (n_surrogates, n_windows, n_lags)
        The full matrices, when asked for.
    """

    method: str
    global_index: np.ndarray
    window_sync: np.ndarray
    lag_profile: np.ndarray
    lags_s: np.ndarray
    labels: list[Any]
    summary: str
    params: dict[str, Any] = field(default_factory=dict)
    values: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of surrogates."""
        return len(self.global_index)

    def threshold(self, q: float = 95.0) -> np.ndarray:
        """Per-window ``q``-th percentile of the surrogates' synchrony (e.g. a height for synchrony peaks).

        Parameters
        ----------
        q : float, default 95
            Percentile in [0, 100].

        Returns
        -------
        ndarray, shape (n_windows,)
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanpercentile(self.window_sync, q, axis=0)
