"""Pitch (f0) and intensity contours, vectorised over all frames: Boersma's autocorrelation method, as Praat.

:func:`pitch_track` follows Boersma (1993), the method of Praat's ``Sound: To Pitch (ac)``: each frame (three
periods of the pitch floor long, Hann window, local mean removed) is autocorrelated through the FFT and divided
by the autocorrelation of the window; the maxima of that normalised autocorrelation are pitch candidates (lag
by parabolic interpolation), scored with an octave cost; an unvoiced candidate is scored from the frame's peak
level relative to the whole sound (silence threshold) and the voicing threshold; a Viterbi path through the
candidates with octave-jump and voiced/unvoiced transition costs picks one per frame. Praat's default parameters
are the defaults here, so the two agree frame by frame on real speech (``tests/test_pitch.py``).

:func:`intensity_track` is Praat's ``Sound: To Intensity``: the mean-removed sound squared and averaged under a
Kaiser window of effective duration 3.2 / pitch floor, in dB re 2e-5 (the sample values treated as pascal, so a
full-scale sine reads 91 dB).

Everything is computed with NumPy over blocks of frames at once; only the Viterbi recursion steps through time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import check_array, check_integer, check_positive, check_real
from ..errors import ConfigError
from ._signal import frames, segment

#: Frames processed at once (bounds memory for long recordings).
BLOCK_FRAMES = 2048

#: Reference of the dB scale: 2e-5 (the threshold of hearing in pascal), squared.
REFERENCE_POWER = 4e-10


@dataclass
class PitchTrack:
    """A pitch contour on a regular time grid.

    Attributes
    ----------
    times_s : ndarray, shape (n,)
        Frame centres in seconds (``t0_s + k * step_s``).
    f0_hz : ndarray, shape (n,)
        Fundamental frequency in Hz; NaN in unvoiced frames.
    strength : ndarray, shape (n,)
        Normalised autocorrelation of the chosen candidate (0-1; NaN where unvoiced): periodicity.
    params : dict
        The parameters used.
    """

    times_s: np.ndarray
    f0_hz: np.ndarray
    strength: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def voiced(self) -> np.ndarray:
        """Boolean mask of voiced frames."""
        return np.isfinite(self.f0_hz)


def frame_times(n_samples: int, sample_rate: float, step_s: float, t0_s: float = 0.0) -> np.ndarray:
    """Frame centres ``t0_s + k * step_s`` covering a sound of ``n_samples`` samples (k = 0, 1, ...)."""
    n = int(np.ceil(n_samples / sample_rate / step_s - 1e-9))
    return t0_s + np.arange(max(n, 0)) * step_s


def pitch_track(
    y: np.ndarray,
    sample_rate: float,
    *,
    step_s: float = 0.01,
    floor_hz: float = 75.0,
    ceiling_hz: float = 600.0,
    max_candidates: int = 15,
    silence_threshold: float = 0.03,
    voicing_threshold: float = 0.45,
    octave_cost: float = 0.01,
    octave_jump_cost: float = 0.35,
    voiced_unvoiced_cost: float = 0.14,
    t0_s: float = 0.0,
) -> PitchTrack:
    """Track f0 with Boersma's (1993) autocorrelation method (Praat's ``To Pitch (ac)``), vectorised.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        One channel of sound.
    sample_rate : float
        Hz.
    step_s : float, default 0.01
        Time step in seconds (100 frames per second).
    floor_hz, ceiling_hz : float, default 75, 600
        Pitch range in Hz. The window is three periods of ``floor_hz`` (40 ms at 75 Hz).
    max_candidates : int, default 15
        Candidates per frame, the unvoiced one included.
    silence_threshold : float, default 0.03
        Frames whose peak (within one longest period of the centre) is below this fraction of the sound's global
        peak lean towards unvoiced.
    voicing_threshold : float, default 0.45
        Strength an unvoiced candidate gets in a loud frame; raise it for fewer voiced frames.
    octave_cost : float, default 0.01
        Per octave, favours higher candidates (against the subharmonic errors of autocorrelation).
    octave_jump_cost : float, default 0.35
        Path cost of a one-octave jump between frames (scaled by 0.01 s / ``step_s``, as Praat does).
    voiced_unvoiced_cost : float, default 0.14
        Path cost of a voicing change (scaled likewise).
    t0_s : float, default 0
        Time of sample 0, added to the frame times.

    Returns
    -------
    PitchTrack
        ``f0_hz`` at frame centres ``t0_s + k * step_s``; NaN where unvoiced.
    """
    step_s = check_positive("step_s", step_s)
    floor_hz = check_positive("floor_hz", floor_hz)
    ceiling_hz = check_positive("ceiling_hz", ceiling_hz)
    sr = float(check_positive("sample_rate", sample_rate))
    if ceiling_hz <= floor_hz:
        raise ConfigError(f"ceiling_hz ({ceiling_hz}) must be above floor_hz ({floor_hz})")
    check_integer("max_candidates", max_candidates, low=2)
    check_real("silence_threshold", silence_threshold, low=0.0)
    check_real("voicing_threshold", voicing_threshold, low=0.0)
    for name, value in (("octave_cost", octave_cost), ("octave_jump_cost", octave_jump_cost),
                        ("voiced_unvoiced_cost", voiced_unvoiced_cost), ("t0_s", t0_s)):
        check_real(name, value)
    check_array("y", y, ndim=None)
    from scipy import fft as sfft

    ceiling_hz = min(ceiling_hz, 0.5 * sr)
    x = np.asarray(y).ravel()
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    params = {
        "method": "autocorrelation (Boersma 1993; Praat To Pitch (ac))", "step_s": step_s, "floor_hz": floor_hz,
        "ceiling_hz": ceiling_hz, "max_candidates": max_candidates, "silence_threshold": silence_threshold,
        "voicing_threshold": voicing_threshold, "octave_cost": octave_cost,
        "octave_jump_cost": octave_jump_cost, "voiced_unvoiced_cost": voiced_unvoiced_cost,
        "sample_rate_hz": sr,
    }
    times = frame_times(x.size, sr, step_s, t0_s)
    n = times.size
    f0 = np.full(n, np.nan)
    strength = np.full(n, np.nan)
    if n == 0:
        return PitchTrack(times, f0, strength, params)

    periods = 3.0
    half = int(np.floor(periods / floor_hz * sr)) // 2 - 1
    if half < 2:
        raise ConfigError(f"the analysis window is too short at {sr} Hz: lower floor_hz")
    nwin = 2 * half
    nsamp_period = int(np.floor(sr / floor_hz))
    half_period = nsamp_period // 2 + 1
    max_lag = min(int(np.floor(nwin / periods)) + 2, nwin)
    ixmax = int(np.floor(nwin * 0.5))
    hi_lag = min(max_lag, ixmax)  # lags searched for maxima: 2 .. hi_lag - 1
    lo_lag = max(2, int(np.floor(sr / ceiling_hz)) - 1)
    nfft = 1
    while nfft < nwin * 1.5:
        nfft *= 2
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(1, nwin + 1) / (nwin + 1))
    wr = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2, nfft)[: hi_lag + 2]
    wr = wr / wr[0]

    # The sound's mean is removed segment by segment (in float64, as the whole-sound subtraction would be).
    mean = float(np.mean(x, dtype=np.float64)) if x.size else 0.0
    global_peak = max(float(np.max(x)) - mean, mean - float(np.min(x))) if x.size else 0.0
    k = max_candidates - 1  # voiced candidates per frame
    cand_f = np.full((n, k), np.nan)
    cand_s = np.full((n, k), -np.inf)
    cand_r = np.full((n, k), np.nan)
    frame_level = np.zeros(n)
    if global_peak > 0:
        # sample at or before each frame time (sample j sits at (j + 0.5) / sr, as in Praat)
        centres_all = np.floor((times - t0_s) * sr - 0.5).astype(np.int64)
        reach = max(half, nsamp_period)
        lags = np.arange(hi_lag + 1)
        for b0 in range(0, n, BLOCK_FRAMES):
            c = centres_all[b0 : b0 + BLOCK_FRAMES]
            # frame j covers samples c + 1 - half .. c + half (Praat: leftSample = c, window from c + 1 - half)
            start = int(c[0]) + 1 - reach
            seg = segment(x, start, int(c[-1]) + 1 + reach, mean)
            # local mean over one longest period on either side: samples c + 1 - nsamp_period .. c + nsamp_period
            csum = np.concatenate([[0.0], np.cumsum(seg)])
            local_mean = (csum[c + 1 + nsamp_period - start] - csum[c + 1 - nsamp_period - start]) / (2 * nsamp_period)
            win = np.lib.stride_tricks.sliding_window_view(seg, nwin)
            fr = (win[c + 1 - half - start] - local_mean[:, None]) * window
            mid = slice(max(0, half - half_period), min(nwin, half + half_period))
            frame_level[b0 : b0 + c.size] = np.minimum(np.max(np.abs(fr[:, mid]), axis=1) / global_peak, 1.0)
            spec = sfft.rfft(fr, nfft, axis=1, workers=-1)
            ac = sfft.irfft(spec.real**2 + spec.imag**2, nfft, axis=1, workers=-1)[:, : hi_lag + 2]
            with np.errstate(invalid="ignore", divide="ignore"):
                r = ac / (ac[:, :1] * wr)
            r = np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)
            rm, r0, rp = r[:, lo_lag - 1 : hi_lag - 1], r[:, lo_lag:hi_lag], r[:, lo_lag + 1 : hi_lag + 1]
            peak = (r0 > 0.5 * voicing_threshold) & (r0 > rm) & (r0 >= rp)
            dr = 0.5 * (rp - rm)
            d2r = 2.0 * r0 - rm - rp
            with np.errstate(invalid="ignore", divide="ignore"):
                shift = np.where(d2r > 0, dr / d2r, 0.0)
                lag = lags[lo_lag:hi_lag] + shift
                s = r0 + 0.5 * dr * shift
            s = np.where(s > 1.0, 1.0 / np.maximum(s, 1e-12), s)
            freq = sr / lag
            peak &= (freq <= ceiling_hz) & (freq >= 0.5 * floor_hz)
            score = np.where(peak, s - octave_cost * np.log2(ceiling_hz / np.where(peak, freq, 1.0)), -np.inf)
            kk = min(k, score.shape[1])
            top = np.argpartition(-score, kk - 1, axis=1)[:, :kk] if kk < score.shape[1] else np.tile(
                np.arange(score.shape[1]), (score.shape[0], 1))
            rows = np.arange(score.shape[0])[:, None]
            sel_score = score[rows, top]
            ok = np.isfinite(sel_score)
            cand_s[b0 : b0 + c.size, :kk] = sel_score
            cand_f[b0 : b0 + c.size, :kk] = np.where(ok, freq[rows, top], np.nan)
            cand_r[b0 : b0 + c.size, :kk] = np.where(ok, s[rows, top], np.nan)

    # Unvoiced candidate (column 0) and the path through all candidates.
    unvoiced = voicing_threshold + np.maximum(0.0, 2.0 - frame_level / (silence_threshold / (1 + voicing_threshold)))
    if silence_threshold <= 0:
        unvoiced = np.full(n, voicing_threshold)
    delta = np.concatenate([unvoiced[:, None], cand_s], axis=1)
    freqs = np.concatenate([np.full((n, 1), np.nan), cand_f], axis=1)
    correction = 0.01 / step_s
    choice = _viterbi(delta, np.log2(freqs), octave_jump_cost * correction, voiced_unvoiced_cost * correction)
    rows = np.arange(n)
    f0 = freqs[rows, choice]
    strength = np.concatenate([np.full((n, 1), np.nan), cand_r], axis=1)[rows, choice]
    return PitchTrack(times, f0, strength, params)


def _viterbi(delta: np.ndarray, log_f: np.ndarray, jump_cost: float, vuv_cost: float) -> np.ndarray:
    """Best path through frames x candidates: maximise summed strengths minus transition costs.

    ``log_f`` is NaN for the unvoiced candidate and for empty slots (whose ``delta`` is -inf).
    """
    n, m = delta.shape
    voiced = np.isfinite(log_f)
    back = np.zeros((n, m), dtype=np.int16)
    score = delta[0].copy()
    lf = np.nan_to_num(log_f, nan=0.0)
    for b0 in range(1, n, BLOCK_FRAMES):
        b1 = min(n, b0 + BLOCK_FRAMES)
        # transition costs from frame t-1 (axis 1) to frame t (axis 2), for the whole block at once
        v1, v2 = voiced[b0 - 1 : b1 - 1, :, None], voiced[b0:b1, None, :]
        jump = jump_cost * np.abs(lf[b0 - 1 : b1 - 1, :, None] - lf[b0:b1, None, :])
        cost = np.where(v1 & v2, jump, np.where(v1 ^ v2, vuv_cost, 0.0))
        for t in range(b0, b1):
            total = score[:, None] - cost[t - b0]
            best = np.argmax(total, axis=0)
            back[t] = best
            score = total[best, np.arange(m)] + delta[t]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def intensity_track(
    y: np.ndarray,
    sample_rate: float,
    *,
    step_s: float = 0.01,
    floor_hz: float = 100.0,
    subtract_mean: bool = True,
    t0_s: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Intensity contour in dB, as Praat's ``Sound: To Intensity``.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        One channel of sound (full scale = 1).
    sample_rate : float
        Hz.
    step_s : float, default 0.01
        Time step, s.
    floor_hz : float, default 100
        Lowest pitch expected (Praat's "minimum pitch"): the Kaiser window lasts 6.4 / floor_hz seconds (effective
        duration 3.2 / floor_hz), long enough to leave no pitch-synchronous ripple.
    subtract_mean : bool, default True
        Remove each window's mean (DC offset) first.
    t0_s : float, default 0
        Time of sample 0.

    Returns
    -------
    times_s : ndarray, shape (n,)
        Frame centres, ``t0_s + k * step_s``.
    intensity_db : ndarray, shape (n,)
        10 log10(mean square / 4e-10); frames of digital silence get 0 dB.
    """
    step_s = check_positive("step_s", step_s)
    floor_hz = check_positive("floor_hz", floor_hz)
    sr = float(check_positive("sample_rate", sample_rate))
    check_real("t0_s", t0_s)
    x = check_array("y", y, ndim=None).ravel()
    times = frame_times(x.size, sr, step_s, t0_s)
    half = int(np.floor(3.2 / floor_hz * sr))
    u = np.arange(-half, half + 1) / (half + 1)
    from scipy.special import i0

    w = i0((2 * np.pi**2 + 0.5) * np.sqrt(np.clip(1 - u * u, 0, None)))
    w = w / w.sum()
    out = np.zeros(times.size)
    centres = np.round((times - t0_s) * sr).astype(np.int64)
    block = max(1, (1 << 22) // (2 * half + 1))
    for b0 in range(0, times.size, block):
        fr = frames(x, centres[b0 : b0 + block] - half, 2 * half + 1)
        if subtract_mean:
            fr = fr - fr.mean(axis=1, keepdims=True)
        out[b0 : b0 + block] = (fr * fr) @ w
    with np.errstate(divide="ignore"):
        db = 10 * np.log10(out / REFERENCE_POWER)
    return times, np.where(out > REFERENCE_POWER, db, 0.0)


def hz_to_semitones(f0_hz: np.ndarray, reference_hz: float = 100.0) -> np.ndarray:
    """f0 in semitones re ``reference_hz`` (12 log2(f / ref)); NaN stays NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 12.0 * np.log2(np.asarray(f0_hz, dtype=float) / reference_hz)
