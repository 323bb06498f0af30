"""Settings of the moments analyses as one object (the ``[moments]`` section of a pipeline, but for which codes
are read and how events outside the recording are treated, which belong to reading the codes).

Every analysis of :func:`dyadsync.moments.analyse_moments` takes its parameters from a :class:`MomentsParams`;
its defaults are the one source of the pipeline's defaults (docs/methods/ explains each).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._validate import check_option
from ..errors import ConfigError
from ..stats import ALTERNATIVES

#: Analyses a session can run (``analyses``).
ANALYSES = ("event_locked", "contrasts", "peaks", "matching", "coincidence", "compare", "agreement")

#: How the events of several coders become the events analysed (``coders``).
CODER_MODES = ("consensus", "pooled", "each")

#: Which time of an event peaks are matched with (``event_reference``).
EVENT_REFERENCES = ("onset", "centre", "offset")


@dataclass
class MomentsParams:
    """Parameters of the moments analyses (units in the names: ``_s`` seconds).

    Attributes
    ----------
    tmin_s, tmax_s : float, default -30, 30
        Span of the event-locked average around the onsets, s.
    test_window_s : list of two float, default [] (the events' own duration)
        Window of the event-locked test relative to the onsets, s.
    n_shifts : int, default 1000
        Circular shifts of the event times (or permutations) per test.
    min_shift_s : float, default 0 (automatic)
        Smallest circular shift of the event times, s.
    band : float, default 0.95
        Coverage of the pointwise and simultaneous null bands.
    alternative : {"greater", "less", "two-sided"}, default "greater"
    seed : int, default 20261123
        Seed of every resampling (each analysis derives its own from it).
    analyses : list of str
        Which of :data:`ANALYSES` to run.
    cluster_alpha : float, default 0.05
        Pointwise threshold that forms clusters.
    min_events : int, default 5
        Fewer events of a code give a guard-rail warning.
    epoch_s : float, default 60
        Length of the PRE, DURING and POST epochs, s.
    n_random : int, default 1000
        Random epochs of uncoded time per contrast.
    n_baseline : int, default 20
        Random baseline epochs per session for the across-dyad mixed model.
    exclude_margin_s : float, default 0
        Margin around every coded event that random epochs avoid, s.
    coders : {"consensus", "pooled", "each"}, default "consensus"
    n_surrogates : int, default 19
        Shifted-pair surrogates of the synchrony for the peak threshold.
    surrogate_min_shift_s : float, default 0 (automatic)
        Smallest shift of those surrogates, s.
    peak_quantile, peak_prominence_sd, peak_distance_s, min_episode_s : float
        Peak threshold (quantile of the surrogate synchrony), prominence (SD of the series), minimum distance
        between peaks (s; 0: one window) and minimum episode length (s).
    event_reference : {"onset", "centre", "offset"}, default "onset"
    tolerance_s, tolerances_s : float, list of float
        Matching tolerance, s, and the tolerances of the F1 curve.
    coincidence_window_s, coincidence_delay_s : float
        Coincidence window and delay, s (Donges et al. 2016).
    correlogram_max_lag_s, correlogram_bin_s : float
        Span and bin width of the peak/event cross-correlogram, s.
    agreement_bin_s : float, default 1
        Bin width of coder agreement, s.
    """

    tmin_s: float = -30.0
    tmax_s: float = 30.0
    test_window_s: list[float] = field(default_factory=list)
    n_shifts: int = 1000
    min_shift_s: float = 0.0
    band: float = 0.95
    alternative: str = "greater"
    seed: int = 20261123
    analyses: list[str] = field(default_factory=lambda: list(ANALYSES))
    cluster_alpha: float = 0.05
    min_events: int = 5
    epoch_s: float = 60.0
    n_random: int = 1000
    n_baseline: int = 20
    exclude_margin_s: float = 0.0
    coders: str = "consensus"
    n_surrogates: int = 19
    surrogate_min_shift_s: float = 0.0
    peak_quantile: float = 0.95
    peak_prominence_sd: float = 0.5
    peak_distance_s: float = 0.0
    min_episode_s: float = 5.0
    event_reference: str = "onset"
    tolerance_s: float = 15.0
    tolerances_s: list[float] = field(default_factory=lambda: [1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0])
    coincidence_window_s: float = 15.0
    coincidence_delay_s: float = 0.0
    correlogram_max_lag_s: float = 60.0
    correlogram_bin_s: float = 5.0
    agreement_bin_s: float = 1.0

    def check(self, where: str = "") -> None:
        """Raise :class:`~dyadsync.errors.ConfigError` for an invalid value; ``where`` prefixes the message
        (e.g. ``"pipeline.toml: [moments]"``)."""
        w = f"{where} " if where else ""
        if not self.tmin_s <= 0 <= self.tmax_s:
            raise ConfigError(f"{w}the epoch tmin_s..tmax_s must contain 0, got {self.tmin_s}..{self.tmax_s}")
        if self.test_window_s and (len(self.test_window_s) != 2 or self.test_window_s[1] < self.test_window_s[0]):
            raise ConfigError(f"{w}test_window_s must be [start, end] with end >= start")
        if self.n_shifts < 19:
            raise ConfigError(f"{w}n_shifts must be at least 19 (p cannot go below 0.05), got {self.n_shifts}")
        check_option(f"{w}alternative", self.alternative, ALTERNATIVES)
        for analysis in self.analyses:
            check_option(f"{w}analyses entry", analysis, ANALYSES)
        check_option(f"{w}coders", self.coders, CODER_MODES)
        check_option(f"{w}event_reference", self.event_reference, EVENT_REFERENCES)
        if self.n_random < 19:
            raise ConfigError(f"{w}n_random must be at least 19, got {self.n_random}")
        for name in ("cluster_alpha", "peak_quantile"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{w}{name} must be between 0 and 1, got {getattr(self, name)}")
        for name in ("epoch_s", "tolerance_s", "coincidence_window_s", "correlogram_max_lag_s", "correlogram_bin_s",
                     "agreement_bin_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{w}{name} must be > 0, got {getattr(self, name)}")
        for name in ("exclude_margin_s", "peak_prominence_sd", "peak_distance_s", "min_episode_s",
                     "coincidence_delay_s", "surrogate_min_shift_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{w}{name} must be >= 0, got {getattr(self, name)}")
        if self.n_surrogates < 1 or self.min_events < 1 or self.n_baseline < 0:
            raise ConfigError(f"{w}n_surrogates and min_events must be >= 1 and n_baseline >= 0")
        if not self.tolerances_s or any(t <= 0 for t in self.tolerances_s):
            raise ConfigError(f"{w}tolerances_s must be a non-empty list of positive numbers")
