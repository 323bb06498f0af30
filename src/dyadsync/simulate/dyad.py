"""Simulated dyad movement with known ground truth.

Each person's movement is a set of pose parameters (body sway, lean, head position and roll) driven by an
activity envelope of random movement bursts. During *episodes*, person B copies person A's movement, mirrored,
``lag_s`` seconds later (B follows A); elsewhere B moves independently. Transitions are smooth ramps, so no jump
in position betrays an episode boundary. The result carries the truth: lag, episodes (which are also returned
as coded moments of meeting), coupling strength and every amplitude.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from .._validate import check_positive
from ..errors import ConfigError
from ..features.persons import DEFAULT_PERSONS
from ..io.tables import long_table

#: Planted pose parameters with their amplitude (SD at full activity) and mirror sign for the imitating person.
PARAMETERS: dict[str, tuple[float, float]] = {
    "body_x_px": (7.0, -1.0),  # horizontal sway (mirrored: towards/away from the other person)
    "body_y_px": (2.5, 1.0),
    "lean_deg": (2.5, -1.0),  # trunk lean, rotation about the hips
    "head_x_px": (3.5, -1.0),
    "head_y_px": (5.0, 1.0),  # nods
    "roll_deg": (7.0, -1.0),  # head tilt, rotation about the neck
}


@dataclass
class SimulatedDyad:
    """A simulated dyad: planted movement parameters, the truth behind them, and the coded moments.

    Attributes
    ----------
    motion : DataFrame
        Long table (``time_s``, ``person``, ``feature``, ``value``) of the planted parameters (see
        :data:`PARAMETERS`), the activity envelope (``activity``) and the planted movement speed
        (``planted_speed``, arbitrary units: the norm of the parameters' rates of change).
    events : DataFrame
        Events table of the episodes, code ``MoM``.
    truth : dict
        Seed, duration, rate, persons, lag, episodes, coupling, ramp, amplitudes.
    """

    motion: pd.DataFrame
    events: pd.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)

    def parameters(self, person: str) -> pd.DataFrame:
        """The planted parameters of one person as a wide table indexed by ``time_s``."""
        sub = self.motion[self.motion["person"] == person]
        wide = sub.pivot_table(index="time_s", columns="feature", values="value", observed=True)
        wide.columns = wide.columns.astype(str)
        wide.columns.name = None
        return wide


def place_episodes(
    rng: np.random.Generator, duration_s: float, n: int, length_s: tuple[float, float], margin_s: float
) -> list[tuple[float, float]]:
    """Draw ``n`` non-overlapping episodes with lengths in ``length_s``, at least one episode length apart."""
    room = duration_s - 2 * margin_s - length_s[1]
    if n and room < (n - 1) * 2 * length_s[1]:
        raise ConfigError(
            f"cannot place {n} episodes of {length_s[0]:g}-{length_s[1]:g} s in {duration_s:g} s (with {margin_s:g} s "
            "margins); make the simulation longer or ask for fewer episodes"
        )
    for _ in range(1000):
        lengths = rng.uniform(*length_s, size=n)
        starts = np.sort(rng.uniform(margin_s, duration_s - margin_s - length_s[1], size=n))
        ends = starts + lengths
        if n == 0 or np.all(starts[1:] - ends[:-1] >= length_s[1]):
            return [(round(float(s), 2), round(float(e), 2)) for s, e in zip(starts, ends)]
    raise ConfigError(f"cannot place {n} episodes of {length_s} s in {duration_s} s; shorten them or the number")


def _bursts(rng: np.random.Generator, n: int, rate_hz: float) -> np.ndarray:
    """Activity envelope: baseline plus Hann-shaped movement bursts at random times (about one per 3 s)."""
    env = np.full(n, 0.25)
    duration = n / rate_hz
    n_bursts = rng.poisson(duration / 3.0)
    for onset, length, height in zip(
        rng.uniform(-1, duration, n_bursts), rng.uniform(0.8, 2.5, n_bursts), rng.uniform(0.5, 1.0, n_bursts)
    ):
        i0, m = int(onset * rate_hz), max(2, int(length * rate_hz))
        win = height * np.hanning(m)
        lo, hi = max(0, i0), min(n, i0 + m)
        if hi > lo:
            env[lo:hi] += win[lo - i0 : hi - i0]
    return env


def _movement(rng: np.random.Generator, n: int, rate_hz: float) -> dict[str, np.ndarray]:
    """One person's independent movement: band-limited noise (0.15-1.5 Hz) per parameter, scaled by activity."""
    activity = _bursts(rng, n, rate_hz)
    sos = signal.butter(2, [0.15, 1.5], btype="bandpass", fs=rate_hz, output="sos")
    pad = int(10 * rate_hz)
    out = {"activity": activity}
    for name, (amp, _) in PARAMETERS.items():
        noise = signal.sosfiltfilt(sos, rng.standard_normal(n + 2 * pad))[pad:-pad]
        noise /= noise.std()
        out[name] = amp * activity * noise
    return out


def _delay(x: np.ndarray, lag_samples: float) -> np.ndarray:
    """``x`` delayed by a (fractional) number of samples; the first samples repeat the first value."""
    idx = np.arange(len(x)) - lag_samples
    return np.interp(idx, np.arange(len(x)), x)


def coupling_envelope(
    times_s: np.ndarray, episodes: Sequence[tuple[float, float]], ramp_s: float, strength: float
) -> np.ndarray:
    """Weight of imitation over time: ``strength`` inside episodes, 0 outside, raised-cosine ramps of ``ramp_s``."""
    w = np.zeros_like(times_s)
    for on, off in episodes:
        rise = np.clip((times_s - (on - ramp_s / 2)) / ramp_s, 0, 1)
        fall = np.clip(((off + ramp_s / 2) - times_s) / ramp_s, 0, 1)
        w = np.maximum(w, np.minimum(rise, fall))
    return strength * (0.5 - 0.5 * np.cos(np.pi * w))


def simulate_dyad(
    *,
    duration_s: float = 120.0,
    rate_hz: float = 25.0,
    lag_s: float = 0.8,
    episodes: Sequence[tuple[float, float]] | None = None,
    n_episodes: int = 4,
    episode_s: tuple[float, float] = (10.0, 15.0),
    coupling: float = 1.0,
    ramp_s: float = 1.0,
    persons: Sequence[str] = DEFAULT_PERSONS,
    seed: int = 0,
) -> SimulatedDyad:
    """Simulate two persons' movement with imitation episodes at a known lag.

    Parameters
    ----------
    duration_s : float, default 120
        Length in seconds.
    rate_hz : float, default 25
        Sampling rate in Hz (a video's frame rate).
    lag_s : float, default 0.8
        Delay in seconds with which B follows A during episodes (may be negative: A follows B).
    episodes : sequence of (onset, offset) or None
        Episode times in seconds; None draws ``n_episodes`` at random (seeded).
    n_episodes : int, default 4
    episode_s : (float, float), default (10, 15)
        Range of episode lengths when drawn.
    coupling : float, default 1
        Share of B's movement copied from A inside episodes (0: no coupling at all, 1: pure imitation).
    ramp_s : float, default 1
        Length of the smooth transition in and out of an episode.
    persons : sequence of two str
        Names of A and B.
    seed : int
        Seed of everything random.

    Returns
    -------
    SimulatedDyad
    """
    duration_s = check_positive("duration_s", duration_s)
    rate_hz = check_positive("rate_hz", rate_hz)
    if not 0 <= coupling <= 1:
        raise ConfigError(f"coupling must be between 0 and 1, got {coupling}")
    if len(persons) != 2:
        raise ConfigError(f"a dyad has two persons, got {list(persons)}")
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * rate_hz))
    times = np.arange(n) / rate_hz
    if episodes is None:
        episodes = place_episodes(rng, duration_s, n_episodes, episode_s, margin_s=max(10.0, 2 * abs(lag_s)))
    episodes = [(float(a), float(b)) for a, b in episodes]
    for on, off in episodes:
        if not 0 <= on < off <= duration_s:
            raise ConfigError(f"episode ({on}, {off}) must lie within 0-{duration_s} s and end after it starts")
    move_a = _movement(rng, n, rate_hz)
    move_b = _movement(rng, n, rate_hz)
    w = coupling_envelope(times, episodes, ramp_s, coupling)
    lag_samples = lag_s * rate_hz
    b_params = {}
    for name in ["activity", *PARAMETERS]:
        sign = PARAMETERS[name][1] if name in PARAMETERS else 1.0
        copied = sign * _delay(move_a[name], lag_samples)
        b_params[name] = w * copied + (1 - w) * move_b[name]
    columns: dict[tuple[str, str], np.ndarray] = {}
    for person, params in zip(persons, (move_a, b_params)):
        for name, values in params.items():
            columns[(person, name)] = values
        rates = np.stack([np.gradient(params[k], 1 / rate_hz) / PARAMETERS[k][0] for k in PARAMETERS])
        columns[(person, "planted_speed")] = np.sqrt((rates**2).sum(axis=0))
    motion = long_table(times, columns)
    events = pd.DataFrame(
        {
            "onset_s": [e[0] for e in episodes],
            "offset_s": [e[1] for e in episodes],
            "code": "MoM",
            "scheme": "moments_of_meeting",
            "coder": "simulation",
            "source": [f"simulated episode {i + 1}" for i in range(len(episodes))],
        }
    )
    truth = {
        "seed": seed,
        "duration_s": duration_s,
        "rate_hz": rate_hz,
        "persons": list(persons),
        "lag_s": lag_s,
        "lag_meaning": "positive: person B (second) follows person A (first) by lag_s seconds",
        "episodes": [list(e) for e in episodes],
        "coupling": coupling,
        "ramp_s": ramp_s,
        "parameters": {k: {"amplitude": a, "mirror_sign": s} for k, (a, s) in PARAMETERS.items()},
        "movement": "band-limited noise 0.15-1.5 Hz scaled by an activity envelope of Hann bursts "
        "(about one per 3 s, 0.8-2.5 s long) over a baseline of 0.25",
    }
    return SimulatedDyad(motion=motion, events=events, truth=truth)
