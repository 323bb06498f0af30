"""Simulated conversation: alternating turns of voiced, syllable-like sound with known pitch contours.

Each turn is a run of syllables (a voiced nucleus with a raised-cosine envelope) at the speaker's syllable rate,
with short phrase pauses. The voice is a harmonic source following the turn's f0 contour (a declination of 3
semitones plus a slow intonation wave) through three formant resonators chosen per syllable from five vowels;
person B's formants sit lower (a longer vocal tract). Inside the imitation episodes B's pitch converges on A's.
Each speaker has a channel of a stereo recording, with a little of the other speaker leaking in (cross-talk at
-24 dB) and a faint noise floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from ..features.persons import DEFAULT_PERSONS

#: Formant frequencies (Hz) of five vowels, for an adult voice.
VOWELS = {"a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (300, 2200, 2950), "o": (570, 840, 2410),
          "u": (320, 950, 2300)}


def simulate_conversation(
    *,
    duration_s: float,
    episodes: Sequence[tuple[float, float]] = (),
    persons: Sequence[str] = DEFAULT_PERSONS,
    f0_hz: tuple[float, float] = (220.0, 130.0),
    converged_f0_hz: float = 205.0,
    syllable_rate_hz: tuple[float, float] = (4.5, 3.8),
    seed: int = 0,
) -> pd.DataFrame:
    """Draw the turns of a two-person conversation with their planted pitch and syllables.

    Parameters
    ----------
    duration_s : float
        Length in seconds; the last turn ends before it.
    episodes : sequence of (onset, offset)
        Imitation episodes: turns of B starting inside one are spoken at ``converged_f0_hz``.
    persons : two str
        Speaker names, A then B (A speaks first).
    f0_hz : (float, float), default (220, 130)
        Mean f0 of A and of B outside episodes, in Hz.
    converged_f0_hz : float, default 205
        B's mean f0 inside episodes (close to A's: pitch convergence).
    syllable_rate_hz : (float, float), default (4.5, 3.8)
        Syllables per second while speaking, A and B.
    seed : int

    Returns
    -------
    DataFrame
        One row per turn: ``onset_s``, ``offset_s``, ``speaker``, ``f0_mean_hz`` (planted mean of the contour),
        ``n_syllables``, ``syllable_rate_hz``, ``in_episode`` (bool), ``syllables`` (list of (onset, offset)
        pairs in seconds) and ``contour`` (turn-level contour parameters).
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    t = rng.uniform(0.5, 1.5)
    speaker = 0
    while True:
        length = rng.uniform(2.5, 6.0)
        if t + length > duration_s - 0.5:
            break
        in_ep = any(a <= t < b for a, b in episodes)
        base = converged_f0_hz if (speaker == 1 and in_ep) else f0_hz[speaker]
        base *= 2 ** (rng.normal(0, 0.25) / 12)  # turn-to-turn jitter of a quarter semitone
        rate = syllable_rate_hz[speaker]
        syllables = []
        s = t
        while s < t + length - 0.15:
            if syllables and rng.random() < 0.12:
                s += rng.uniform(0.25, 0.45)  # phrase pause
            dur = rng.uniform(0.55, 0.75) / rate
            if s + dur > t + length:
                break
            syllables.append((round(s, 4), round(s + dur, 4)))
            s += 1.0 / rate * rng.uniform(0.85, 1.15)
        if not syllables:
            break
        onset, offset = syllables[0][0], syllables[-1][1]
        rows.append(
            {
                "onset_s": onset,
                "offset_s": offset,
                "speaker": persons[speaker],
                "f0_mean_hz": base,
                "n_syllables": len(syllables),
                "syllable_rate_hz": rate,
                "in_episode": in_ep,
                "syllables": syllables,
                "contour": {"declination_st": 3.0, "intonation_st": 0.8, "intonation_hz": rng.uniform(0.4, 0.9),
                            "phase": rng.uniform(0, 2 * np.pi)},
            }
        )
        t = offset + rng.uniform(0.25, 0.9)  # response latency
        speaker = 1 - speaker
    return pd.DataFrame(rows)


def f0_contour(turn: pd.Series, times_s: np.ndarray) -> np.ndarray:
    """Planted f0 in Hz of a turn at ``times_s`` (defined over the whole turn, voiced or not)."""
    c = turn["contour"]
    u = (times_s - turn["onset_s"]) / max(1e-9, turn["offset_s"] - turn["onset_s"])
    st = c["declination_st"] * (0.5 - u) + c["intonation_st"] * np.sin(
        2 * np.pi * c["intonation_hz"] * (times_s - turn["onset_s"]) + c["phase"]
    )
    # The contour is centred on the turn's mean in semitones, so its geometric mean is f0_mean_hz.
    return turn["f0_mean_hz"] * 2 ** (st / 12)


def synthesize_voices(
    turns: pd.DataFrame,
    *,
    duration_s: float,
    sample_rate: int = 16000,
    persons: Sequence[str] = DEFAULT_PERSONS,
    crosstalk_db: float = -24.0,
    noise_db: float = -60.0,
    seed: int = 0,
) -> np.ndarray:
    """Synthesize the turns as a stereo recording, one speaker per channel.

    Parameters
    ----------
    turns : DataFrame
        From :func:`simulate_conversation`.
    duration_s : float
        Length of the recording in seconds.
    sample_rate : int, default 16000
        Hz.
    persons : two str
        Channel order: A left (channel 0), B right (channel 1).
    crosstalk_db : float, default -24
        Level of each speaker in the other's channel, dB.
    noise_db : float, default -60
        White noise floor, dB re full scale.
    seed : int

    Returns
    -------
    ndarray, shape (2, n_samples), float32 in -1..1
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    out = np.zeros((2, n))
    for _, turn in turns.iterrows():
        ch = list(persons).index(turn["speaker"])
        formant_scale = 1.0 if ch == 0 else 0.88
        for s0, s1 in turn["syllables"]:
            i0, i1 = int(s0 * sample_rate), min(n, int(s1 * sample_rate))
            if i1 <= i0:
                continue
            t = np.arange(i0, i1) / sample_rate
            f0 = f0_contour(turn, t)
            phase = 2 * np.pi * np.cumsum(f0) / sample_rate
            src = np.zeros_like(t)
            for k in range(1, int(4000 / f0.max()) + 1):
                src += np.sin(k * phase) / k
            vowel = VOWELS[rng.choice(list(VOWELS))]
            y = src
            for f, bw in zip(vowel, (80, 100, 140)):
                y = _resonator(y, f * formant_scale, bw, sample_rate)
            env = np.sin(np.pi * np.linspace(0, 1, len(t))) ** 1.5
            y = y * env
            y *= 0.25 * 10 ** (rng.uniform(-3, 3) / 20) / (np.max(np.abs(y)) + 1e-12)
            out[ch, i0:i1] += y
    leak = 10 ** (crosstalk_db / 20)
    mixed = np.stack([out[0] + leak * out[1], out[1] + leak * out[0]])
    mixed += 10 ** (noise_db / 20) * rng.standard_normal(mixed.shape)
    return np.clip(mixed, -1, 1).astype(np.float32)


def _resonator(x: np.ndarray, freq: float, bandwidth: float, sr: int) -> np.ndarray:
    """Second-order formant resonator (Klatt-style) with unity gain at DC."""
    r = np.exp(-np.pi * bandwidth / sr)
    c = -(r**2)
    b = 2 * r * np.cos(2 * np.pi * freq / sr)
    a0 = 1 - b - c
    return signal.lfilter([a0], [1, -b, -c], x)
