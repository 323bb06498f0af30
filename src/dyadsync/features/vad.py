"""Voice activity: which frames of a sound hold speech, from its intensity contour (energy-based, no model).

:func:`voice_activity` thresholds an intensity contour between its noise floor and its speech level;
:func:`bridge_gaps` closes short gaps and drops short bursts of a frame mask. Both serve the speaker attribution
(:mod:`dyadsync.features.diarize`, :mod:`dyadsync.features.clustering`) and the turn table
(:mod:`dyadsync.features.voice`).
"""

from __future__ import annotations

import numpy as np

from .._arrays import true_runs
from .._validate import check_array, check_integer, check_positive, check_real


def bridge_gaps(mask: np.ndarray, max_gap: int, *, min_run: int = 0, blocked: np.ndarray | None = None) -> np.ndarray:
    """Fill interior runs of False no longer than ``max_gap`` frames, then drop runs of True shorter than ``min_run``.

    Parameters
    ----------
    mask : ndarray of bool, shape (n,)
    max_gap : int
        Frames.
    min_run : int
        Frames.
    blocked : ndarray of bool, shape (n,), or None
        Gaps holding any True frame of ``blocked`` (another person speaking) are not filled.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    check_integer("max_gap", max_gap, low=0)
    check_integer("min_run", min_run, low=0)
    out = np.asarray(mask, dtype=bool).copy()
    if max_gap > 0:
        s, e = true_runs(~out)
        for a, b in zip(s, e):
            if a > 0 and b < out.size and b - a <= max_gap and (blocked is None or not blocked[a:b].any()):
                out[a:b] = True
    if min_run > 1:
        s, e = true_runs(out)
        for a, b in zip(s, e):
            if b - a < min_run:
                out[a:b] = False
    return out


def voice_activity(
    intensity_db: np.ndarray,
    *,
    step_s: float = 0.01,
    threshold_frac: float = 0.3,
    min_snr_db: float = 6.0,
    min_speech_s: float = 0.1,
    close_s: float = 0.15,
) -> tuple[np.ndarray, dict[str, float]]:
    """Energy-based voice activity from an intensity contour.

    The threshold sits ``threshold_frac`` of the way from the noise floor (10th percentile of the levels) to the
    speech level (95th percentile), and at least ``min_snr_db`` above the floor.

    Parameters
    ----------
    intensity_db : ndarray, shape (n,)
        From :func:`dyadsync.features.pitch.intensity_track`.
    step_s : float
        Frame step, s.
    threshold_frac : float, default 0.3
    min_snr_db : float, default 6
    min_speech_s : float, default 0.1
        Shorter bursts are dropped (clicks).
    close_s : float, default 0.15
        Gaps this short inside speech are filled (stop closures).

    Returns
    -------
    active : ndarray of bool, shape (n,)
    info : dict
        ``noise_db``, ``speech_db``, ``threshold_db``.
    """
    check_array("intensity_db", intensity_db)
    check_positive("step_s", step_s)
    check_real("threshold_frac", threshold_frac, low=0.0)
    check_real("min_snr_db", min_snr_db)
    check_positive("min_speech_s", min_speech_s, allow_zero=True)
    check_positive("close_s", close_s, allow_zero=True)
    db = np.asarray(intensity_db, dtype=float)
    if db.size == 0:
        return np.zeros(0, bool), {"noise_db": np.nan, "speech_db": np.nan, "threshold_db": np.nan}
    noise, speech = np.percentile(db, [10, 95])
    threshold = noise + max(min_snr_db, threshold_frac * (speech - noise))
    active = bridge_gaps(db > threshold, int(round(close_s / step_s)), min_run=int(round(min_speech_s / step_s)))
    return active, {"noise_db": float(noise), "speech_db": float(speech), "threshold_db": float(threshold)}
