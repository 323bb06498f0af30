"""Simulated synchrony series with coded events and planted bumps around them (truth recorded).

Used to calibrate the moments statistics: with ``bump_sd = 0`` the events are unrelated to synchrony (every test
should reject at about its nominal rate); with a bump of ``bump_sd`` standard deviations planted around each event
(optionally ``bump_offset_s`` seconds before or after it) the tests should find it, and the latency analyses should
recover the offset.

The series imitates a windowed cross-correlation stamped at window centres: white noise averaged over one window
(consecutive windows overlap, so the autocorrelation spans about one window), plus a slow drift (sessions have
phases of more and less synchrony), scaled to unit variance. ``marginal="abs"`` folds it (as absolute Fisher z
values are), which makes the distribution skewed and non-negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal, stats

from .._validate import check_option, check_positive
from ..errors import ConfigError
from .dyad import coupling_envelope


@dataclass
class SimulatedSynchrony:
    """A simulated synchrony series, its coded events, and the truth behind them.

    Attributes
    ----------
    synchrony : DataFrame
        ``time_s`` (window centres, s), ``feature``, ``sync`` (the series), ``bump`` (the planted part, in SD units).
    events : DataFrame
        Events table (``onset_s``, ``offset_s``, ``code``, ``scheme``, ``coder``, ``source``).
    truth : dict
        Every parameter, the seed and the planted bump intervals.
    """

    synchrony: pd.DataFrame
    events: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def times_s(self) -> np.ndarray:
        """Times of the series (s)."""
        return self.synchrony["time_s"].to_numpy()

    @property
    def values(self) -> np.ndarray:
        """The synchrony values."""
        return self.synchrony["sync"].to_numpy()


def synchrony_noise(
    rng: np.random.Generator,
    n: int,
    *,
    step_s: float,
    window_s: float,
    slow_sd: float = 0.3,
    slow_s: float = 120.0,
    marginal: str = "gaussian",
) -> np.ndarray:
    """A stationary series with the autocorrelation of windowed synchrony, with mean 0 and SD 1.

    Parameters
    ----------
    rng : Generator
    n : int
        Number of samples.
    step_s : float
        Sampling step (the synchrony step), s.
    window_s : float
        Synchrony window, s: white noise is averaged over this span.
    slow_sd : float, default 0.3
        SD of a slow AR(1) drift relative to the fast part.
    slow_s : float, default 120
        Time constant of the drift, s.
    marginal : {"gaussian", "abs"}
        ``"abs"`` takes the absolute value (skewed, like absolute Fisher z) before standardising.

    Returns
    -------
    ndarray, shape (n,)
        Mean 0 and SD 1 in expectation (standardised with the process's moments, not the sample's).
    """
    check_option("marginal", marginal, ("gaussian", "abs"))
    width = max(1, int(round(window_s / step_s)))
    pad = width
    white = rng.standard_normal(n + 2 * pad)
    kernel = np.ones(width) / np.sqrt(width)
    fast = np.convolve(white, kernel, mode="same")[pad : pad + n]
    phi = np.exp(-step_s / slow_s)
    e = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    e[0] = rng.standard_normal()
    slow = signal.lfilter([1.0], [1.0, -phi], e)  # AR(1), started in its stationary distribution
    # Standardise with the process's own mean and SD (not the sample's): sessions then differ in their mean and
    # spread by chance, as real sessions do.
    sd = np.sqrt(1.0 + slow_sd**2)
    x = fast + slow_sd * slow
    if marginal == "abs":
        mu = 0.5
        mean = sd * np.sqrt(2 / np.pi) * np.exp(-(mu**2) / (2 * sd**2)) + mu * (1 - 2 * stats.norm.cdf(-mu / sd))
        return (np.abs(x + mu) - mean) / np.sqrt(mu**2 + sd**2 - mean**2)
    return x / sd


def place_events(
    rng: np.random.Generator,
    n_events: int,
    duration_s: float,
    *,
    length_s: tuple[float, float] = (20.0, 40.0),
    min_gap_s: float = 60.0,
    margin_s: float = 60.0,
) -> np.ndarray:
    """Draw ``n_events`` non-overlapping (onset, offset) pairs, at least ``min_gap_s`` apart, inside the margins.

    Returns
    -------
    ndarray, shape (n_events, 2), sorted by onset.

    Raises
    ------
    ConfigError
        When the events cannot fit.
    """
    lo, hi = margin_s, duration_s - margin_s - length_s[1]
    need = n_events * (length_s[1] + min_gap_s)
    if hi <= lo or need > hi - lo + length_s[1] + min_gap_s:
        raise ConfigError(
            f"cannot place {n_events} events of {length_s[0]:g}-{length_s[1]:g} s at least {min_gap_s:g} s apart in "
            f"{duration_s:g} s with {margin_s:g} s margins"
        )
    for _ in range(2000):
        lengths = rng.uniform(*length_s, size=n_events)
        onsets = np.sort(rng.uniform(lo, hi, size=n_events))
        if n_events < 2 or np.all(onsets[1:] - (onsets[:-1] + lengths[:-1]) >= min_gap_s):
            return np.column_stack([onsets, onsets + lengths])
    # Dense packing: spread the free time randomly between events (a random composition).
    lengths = rng.uniform(*length_s, size=n_events)
    free = (hi - lo) + length_s[1] - lengths.sum() - (n_events - 1) * min_gap_s
    cuts = np.sort(rng.uniform(0, free, size=n_events))
    gaps = np.diff(np.concatenate([[0.0], cuts]))
    onsets = lo + np.cumsum(gaps) + np.concatenate([[0.0], np.cumsum(lengths[:-1] + min_gap_s)])
    return np.column_stack([onsets, onsets + lengths])


def simulate_synchrony(
    *,
    duration_s: float = 3000.0,
    step_s: float = 0.5,
    window_s: float = 8.0,
    n_events: int = 10,
    event_s: tuple[float, float] = (20.0, 40.0),
    min_gap_s: float = 60.0,
    margin_s: float = 60.0,
    bump_sd: float = 0.0,
    bump_offset_s: float = 0.0,
    bump_s: float | None = None,
    ramp_s: float = 4.0,
    slow_sd: float = 0.3,
    slow_s: float = 120.0,
    marginal: str = "gaussian",
    code: str = "MoM",
    events: Sequence[tuple[float, float]] | None = None,
    feature: str = "simulated",
    seed: int | np.random.Generator = 0,
) -> SimulatedSynchrony:
    """Simulate one session's synchrony series with coded events and (optionally) bumps planted around them.

    Parameters
    ----------
    duration_s : float, default 3000
        Session length, s (50 minutes).
    step_s : float, default 0.5
        Step of the synchrony series, s.
    window_s : float, default 8
        Synchrony window, s (sets the autocorrelation of the noise).
    n_events : int, default 10
        Number of events (ignored when ``events`` is given).
    event_s : (float, float), default (20, 40)
        Range of event durations, s; ``(0, 0)`` gives point events.
    min_gap_s, margin_s : float, default 60, 60
        Smallest gap between events and distance from the session edges, s.
    bump_sd : float, default 0
        Height of the planted bump, in SD of the noise (0: no relation between events and synchrony).
    bump_offset_s : float, default 0
        Shift of the bump relative to the event, s (negative: synchrony rises before the event).
    bump_s : float or None
        Width of the bump's plateau, s; None uses each event's own span (onset to offset).
    ramp_s : float, default 4
        Raised-cosine ramps on either side of the plateau, s.
    slow_sd, slow_s, marginal
        See :func:`synchrony_noise`.
    code : str, default "MoM"
        Code of the events.
    events : sequence of (onset, offset) or None
        Fixed event times instead of random ones.
    feature : str
        Value of the ``feature`` column.
    seed : int or Generator

    Returns
    -------
    SimulatedSynchrony
    """
    duration_s = check_positive("duration_s", duration_s)
    step_s = check_positive("step_s", step_s)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = int(round(duration_s / step_s))
    times = (np.arange(n) + 0.5) * step_s
    if events is None:
        spans = place_events(rng, n_events, duration_s, length_s=event_s, min_gap_s=min_gap_s, margin_s=margin_s)
    else:
        spans = np.asarray(events, dtype=float).reshape(-1, 2)
    noise = synchrony_noise(rng, n, step_s=step_s, window_s=window_s, slow_sd=slow_sd, slow_s=slow_s,
                            marginal=marginal)
    bumps = []
    for on, off in spans:
        if bump_s is None:
            a, b = on + bump_offset_s, off + bump_offset_s
        else:
            a, b = on + bump_offset_s - bump_s / 2, on + bump_offset_s + bump_s / 2
        bumps.append((float(a), float(b)))
    envelope = coupling_envelope(times, bumps, ramp_s, 1.0) if bump_sd else np.zeros(n)
    sync = noise + bump_sd * envelope
    table = pd.DataFrame({"time_s": times, "feature": feature, "sync": sync, "bump": bump_sd * envelope})
    ev = pd.DataFrame(
        {
            "onset_s": spans[:, 0],
            "offset_s": spans[:, 1],
            "code": code,
            "scheme": "simulated",
            "coder": "simulation",
            "source": [f"simulated event {i + 1}" for i in range(len(spans))],
        }
    )
    truth = {
        "seed": seed if not isinstance(seed, np.random.Generator) else None,
        "duration_s": duration_s,
        "step_s": step_s,
        "window_s": window_s,
        "n_events": int(len(spans)),
        "events": spans.round(3).tolist(),
        "bump_sd": bump_sd,
        "bump_offset_s": bump_offset_s,
        "bump_s": bump_s,
        "ramp_s": ramp_s,
        "bumps": [list(b) for b in bumps] if bump_sd else [],
        "noise": {"slow_sd": slow_sd, "slow_s": slow_s, "marginal": marginal,
                  "model": "white noise averaged over one window plus an AR(1) drift, standardised"},
    }
    return SimulatedSynchrony(synchrony=table, events=ev, truth=truth)
