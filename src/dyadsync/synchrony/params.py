"""Settings of windowed cross-lagged correlation as one object: the one source of their defaults.

The ``[synchrony]`` section of a pipeline is these settings plus the list of features to analyse;
:func:`dyadsync.synchrony.windowed_cross_correlation` and :func:`dyadsync.synchrony.summarize` take their
keyword defaults from here.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

from .._validate import check_option
from ..errors import ConfigError, DyadsyncWarning

#: Per-window summaries that can become ``sync``: the largest value over lags (``best_sync``), the mean over
#: lags (``all_lags``) or the value at lag 0 (``lag0``).
SUMMARY_CHOICES = ("best", "mean", "lag0")


def check_summary(summary: str, name: str = "summary") -> str:
    """Validate a ``summary`` option and return it; the former name ``"peak"`` is read as ``"best"``, with a warning.

    ``"peak"`` used to select ``best_sync`` (the largest value over lags), which is not Boker's peak
    (``peak_sync``, ``peak_lag_s``); the option value was renamed to say what it is.
    """
    if summary == "peak":
        warnings.warn(
            f'{name} "peak" now means "best": the largest value over lags (best_sync), as it always did; write '
            '"best" (Boker\'s peak picking is in the peak_sync and peak_lag_s columns, whatever the summary)',
            DyadsyncWarning,
            stacklevel=3,
        )
        return "best"
    return check_option(name, summary, SUMMARY_CHOICES)


@dataclass
class WCCParams:
    """Windowed cross-lagged correlation settings (Boker et al. 2002; Ramseyer & Tschacher 2011).

    Attributes
    ----------
    window_s : float, default 8
        Window length, s.
    step_s : float, default 0.4
        Step between window starts, s.
    max_lag_s : float, default 3
        Largest lag, s (lags from ``-max_lag_s`` to ``+max_lag_s``; positive: B follows A).
    fisher_z : bool, default True
        Fisher-z transform the correlations.
    absolute : bool, default True
        Absolute values (synchrony in phase or anti-phase).
    min_valid : float, default 0.8
        Share of finite sample pairs a window and lag need, 0-1.
    summary : {"best", "mean", "lag0"}, default "best"
        Per-window summary that becomes the ``sync`` column (see :func:`dyadsync.synchrony.summarize`).
    """

    window_s: float = 8.0
    step_s: float = 0.4
    max_lag_s: float = 3.0
    fisher_z: bool = True
    absolute: bool = True
    min_valid: float = 0.8
    summary: str = "best"

    def wcc_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~dyadsync.synchrony.windowed_cross_correlation` (all but ``summary``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(WCCParams) if f.name != "summary"}

    def check(self, where: str = "") -> None:
        """Raise :class:`~dyadsync.errors.ConfigError` for impossible settings (``where`` prefixes the message);
        the former summary name ``"peak"`` is rewritten to ``"best"``, with a warning."""
        w = f"{where} " if where else ""
        self.summary = check_summary(self.summary, f"{w}summary")
        if not (self.window_s > 0 and self.step_s > 0 and 0 <= self.max_lag_s < self.window_s):
            raise ConfigError(
                f"{w}needs window_s > 0, step_s > 0 and 0 <= max_lag_s < window_s; got window_s={self.window_s}, "
                f"step_s={self.step_s}, max_lag_s={self.max_lag_s}"
            )
        if not 0 < self.min_valid <= 1:
            raise ConfigError(f"{w}min_valid must be in (0, 1], got {self.min_valid}")
