"""Who speaks when: speaker activity from separate channels, a turn annotation, or automatic attribution.

In order of trust:

1. **Separate channels** (:func:`activity_from_channels`): one lapel microphone per person. A channel is active
   when its level is above its own noise floor (voice activity) and not far below the other channel's level:
   the other person's voice leaks in (cross-talk) several dB below the own voice, so a frame whose level is more
   than half the estimated leak below the other channel is cross-talk, not speech. Overlapping speech (both
   loud) stays attributed to both.
2. **An annotation of turns** (:func:`activity_from_events`): any Events table (RTTM, ELAN, TextGrid, CSV read
   by :func:`dyadsync.io.events.read_events`) whose codes name the speakers.
3. **Automatic two-speaker attribution on one channel** (:func:`activity_auto`), with no downloaded model and no
   randomness: energy-based voice activity; cepstral coefficients 1-12 (the spectral envelope, not the pitch)
   whitened by the within-speaker variability that adjacent quarter-second stretches of speech show; one-second
   segments split in two by agglomerative clustering of their cosine similarities; then Viterbi
   resegmentation with one Gaussian mixture per speaker and a minimum turn. It cannot detect overlapping speech
   and is the least reliable; :func:`assign_by_mouth` decides which cluster is which person from the face
   extractor's ``mouth_opening``.

Activity lives on the prosody grid (10 ms frames); :func:`activity_segments` turns it into speaker segments
(onset, offset, speaker) and :func:`diarization_error_rate` scores segments against a reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._arrays import true_runs
from .._validate import check_positive
from ..errors import AnalysisError, DyadsyncWarning, InputError
from .pitch import intensity_track


@dataclass
class SpeakerActivity:
    """Who is speaking in each frame.

    Attributes
    ----------
    times_s : ndarray, shape (n,)
        Frame centres, s.
    speakers : list of str
        Column names of ``active``.
    active : ndarray, shape (n, n_speakers), bool
        Frame-level speech of each speaker (short pauses are not bridged here).
    method : str
        ``"channels"``, ``"annotation"`` or ``"auto"``.
    info : dict
        Parameters and quality figures of the attribution.
    """

    times_s: np.ndarray
    speakers: list[str]
    active: np.ndarray
    method: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def step_s(self) -> float:
        """Frame step, s."""
        return float(self.times_s[1] - self.times_s[0]) if self.times_s.size > 1 else 0.01

    def renamed(self, mapping: Mapping[str, str]) -> SpeakerActivity:
        """The same activity with speakers renamed (``mapping`` old -> new), columns in the new names' order."""
        return SpeakerActivity(self.times_s, [mapping.get(s, s) for s in self.speakers], self.active, self.method,
                               {**self.info, "renamed": dict(mapping)})


# ------------------------------------------------------------------------------------------ frame utilities


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
    db = np.asarray(intensity_db, dtype=float)
    if db.size == 0:
        return np.zeros(0, bool), {"noise_db": np.nan, "speech_db": np.nan, "threshold_db": np.nan}
    noise, speech = np.percentile(db, [10, 95])
    threshold = noise + max(min_snr_db, threshold_frac * (speech - noise))
    active = bridge_gaps(db > threshold, int(round(close_s / step_s)), min_run=int(round(min_speech_s / step_s)))
    return active, {"noise_db": float(noise), "speech_db": float(speech), "threshold_db": float(threshold)}


# ------------------------------------------------------------------------------------------------ channels


def activity_from_channels(
    levels_db: np.ndarray,
    times_s: np.ndarray,
    speakers: Sequence[str],
    *,
    step_s: float = 0.01,
    crosstalk_margin_db: float | None = None,
    path: Any = None,
) -> SpeakerActivity:
    """Speaker activity from one channel per speaker, with cross-talk rejected by level difference.

    Parameters
    ----------
    levels_db : ndarray, shape (n_speakers, n)
        Intensity of each speaker's own channel (:func:`~dyadsync.features.pitch.intensity_track`).
    times_s : ndarray, shape (n,)
    speakers : sequence of str
        Speaker of each row of ``levels_db``.
    step_s : float
    crosstalk_margin_db : float or None
        A frame counts as a speaker's speech only when its channel is at most this many dB below the loudest
        other channel. None estimates it: half the median level difference between the channels during speech
        (the leak of one voice into the other microphone), clipped to 3..15 dB.
    path : path-like or None
        File, for messages.

    Returns
    -------
    SpeakerActivity
    """
    levels = np.asarray(levels_db, dtype=float)
    if levels.ndim != 2 or levels.shape[0] != len(speakers):
        raise AnalysisError(f"levels_db must have one row per speaker ({len(speakers)}), got shape {levels.shape}")
    vads, vinfo = [], []
    for row in levels:
        v, info = voice_activity(row, step_s=step_s)
        vads.append(v)
        vinfo.append(info)
    vad = np.stack(vads, axis=1)
    other = np.stack([np.max(np.delete(levels, i, axis=0), axis=0) for i in range(len(speakers))], axis=1)
    diff = levels.T - other
    any_speech = vad.any(axis=1)
    leak = float(np.median(np.abs(diff[any_speech]))) if any_speech.any() else np.nan
    margin = crosstalk_margin_db
    if margin is None:
        margin = float(np.clip(leak / 2, 3.0, 15.0)) if np.isfinite(leak) else 6.0
    # the cross-talk rule applies frame by frame before short gaps are closed, so that the closing cannot carry
    # activity into the other person's speech
    loud = levels.T > np.array([v["threshold_db"] for v in vinfo])[None, :]
    active = loud & (diff > -margin)
    for i in range(active.shape[1]):
        active[:, i] = bridge_gaps(active[:, i], int(round(0.15 / step_s)), min_run=int(round(0.1 / step_s)))
    silent = [s for s, col in zip(speakers, active.T) if not col.any()]
    if silent:
        warnings.warn(
            f"{path}: no speech found for {', '.join(silent)} on their channel(s); check the channel order and "
            "that each microphone recorded", DyadsyncWarning, stacklevel=2)
    return SpeakerActivity(
        np.asarray(times_s, float), list(speakers), active, "channels",
        {"crosstalk_leak_db": leak, "crosstalk_margin_db": margin, "voice_activity": vinfo},
    )


# ---------------------------------------------------------------------------------------------- annotation


def activity_from_events(
    events: pd.DataFrame,
    times_s: np.ndarray,
    speakers: Sequence[str],
    *,
    mapping: Mapping[str, str] | None = None,
    duration_s: float | None = None,
    path: Any = None,
) -> SpeakerActivity:
    """Speaker activity from an annotation of turns: an Events table whose codes name the speakers.

    Parameters
    ----------
    events : DataFrame
        Events table (``onset_s``, ``offset_s``, ``code``...), e.g. from ``read_events`` on an RTTM, ELAN, TextGrid
        or CSV file.
    times_s : ndarray, shape (n,)
        Frame centres.
    speakers : sequence of str
        Person names (A, B).
    mapping : mapping or None
        Code -> person. None: codes that are person names map to themselves; otherwise the file must have exactly
        two codes, mapped to A and B in order of first speech (recorded in ``info``; use :func:`assign_by_mouth`
        or an explicit mapping to decide).
    duration_s : float or None
        Length of the audio; turns starting after it are an error, turns ending after it are clipped (warning).
    path : path-like or None
        Annotation file, for messages.

    Returns
    -------
    SpeakerActivity
    """
    if events.empty:
        raise InputError(path, "the turn annotation holds no turns")
    codes = list(dict.fromkeys(events.sort_values("onset_s")["code"].astype(str)))
    if mapping is None:
        if set(codes) <= set(speakers):
            mapping = {c: c for c in codes}
        elif len(codes) == 2:
            mapping = {codes[0]: speakers[0], codes[1]: speakers[1]}
        else:
            raise InputError(
                path,
                f"the turn annotation names {len(codes)} speakers ({', '.join(codes[:8])}); name them as the persons "
                f"({', '.join(speakers)}) or keep two speakers' turns only",
            )
    unknown = [c for c in codes if c not in mapping]
    if unknown:
        raise InputError(path, f"codes {unknown} of the turn annotation map to no person; mapping is {dict(mapping)}")
    if duration_s is not None:
        past = events[events["onset_s"] >= duration_s + 0.5]
        if len(past):
            first = past.iloc[0]
            raise InputError(
                path,
                f"{len(past)} turn(s) start after the end of the audio ({duration_s:.2f} s), the first at "
                f"{first['onset_s']:.2f} s ({first.get('source', '')}); the annotation belongs to a longer "
                "recording or is in the wrong unit",
            )
        over = events[events["offset_s"] > duration_s + 0.5]
        if len(over):
            warnings.warn(
                f"{path}: {len(over)} turn(s) end after the audio ({duration_s:.2f} s); clipped to its end",
                DyadsyncWarning, stacklevel=2)
    t = np.asarray(times_s, float)
    active = np.zeros((t.size, len(speakers)), bool)
    for row in events.itertuples(index=False):
        col = list(speakers).index(mapping[str(row.code)])
        active[(t >= row.onset_s) & (t < row.offset_s), col] = True
    return SpeakerActivity(t, list(speakers), active, "annotation",
                           {"mapping": dict(mapping), "n_turns": int(len(events)), "source": None if path is None
                            else str(path)})


# ---------------------------------------------------------------------------------------------------- auto


def mfcc(
    y: np.ndarray, sample_rate: float, times_s: np.ndarray, *, n_mfcc: int = 20, n_mels: int = 40,
    fmin_hz: float = 100.0, fmax_hz: float = 4000.0, window_s: float = 0.025,
) -> np.ndarray:
    """Mel-frequency cepstral coefficients at the given frame centres.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
    sample_rate : float
        Hz.
    times_s : ndarray, shape (n,)
        Frame centres relative to sample 0, s.
    n_mfcc, n_mels : int
    fmin_hz, fmax_hz : float
        Band of the mel filters (default the telephone band, robust to room and channel).
    window_s : float
        Hamming window length, s.

    Returns
    -------
    ndarray, shape (n, n_mfcc)
        Coefficient 0 (log energy) first.
    """
    from scipy import fft as sfft

    sr = float(sample_rate)
    win = int(round(window_s * sr))
    nfft = 1 << int(np.ceil(np.log2(win)))
    fmax_hz = min(fmax_hz, sr / 2)
    mel = lambda f: 2595.0 * np.log10(1 + f / 700.0)  # noqa: E731
    imel = lambda m: 700.0 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    edges = imel(np.linspace(mel(fmin_hz), mel(fmax_hz), n_mels + 2))
    freqs = np.arange(nfft // 2 + 1) * sr / nfft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    fb = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    x = np.asarray(y, dtype=np.float64)
    pad = np.concatenate([np.zeros(win), x, np.zeros(win)])
    view = np.lib.stride_tricks.sliding_window_view(pad, win)
    centres = np.clip(np.round(np.asarray(times_s) * sr).astype(np.int64) + win - win // 2, 0, view.shape[0] - 1)
    out = np.empty((centres.size, n_mfcc))
    hamming = np.hamming(win)
    for b0 in range(0, centres.size, 4096):
        fr = view[centres[b0 : b0 + 4096]] * hamming
        spec = sfft.rfft(fr, nfft, axis=1)
        logmel = np.log(((spec.real**2 + spec.imag**2) @ fb.T) + 1e-10)
        out[b0 : b0 + 4096] = sfft.dct(logmel, type=2, axis=1, norm="ortho")[:, :n_mfcc]
    return out


def activity_auto(
    y: np.ndarray,
    sample_rate: float,
    times_s: np.ndarray,
    *,
    intensity_db: np.ndarray | None = None,
    speakers: Sequence[str] = ("spk1", "spk2"),
    segment_s: float = 1.0,
    switch_penalty: float = 100.0,
    pause_penalty: float = 20.0,
    n_ceps: int = 12,
    adjacency_s: float = 0.25,
    min_turn_s: float = 0.2,
    n_components: int = 8,
    max_iter: int = 10,
) -> SpeakerActivity:
    """Automatic two-speaker attribution on one channel (no downloaded model, no randomness).

    1. Energy-based voice activity (:func:`voice_activity`); only speech frames are attributed.
    2. Frame features: cepstral coefficients 1..``n_ceps`` (:func:`mfcc`, 100-4000 Hz), normalised to zero mean
       and unit variance over the speech. Low-order cepstra describe the spectral envelope (vocal tract), not the
       harmonics, so the attribution does not follow a speaker's pitch (which vocal entrainment measures).
    3. Within-speaker normalisation learned from the recording itself: consecutive ``adjacency_s`` stretches of
       speech almost always come from the same speaker, so the covariance of the difference of their mean features
       estimates the within-speaker (phonetic) variability; the features are whitened by it (within-class
       covariance normalisation, Hatch et al. 2006, with time adjacency standing in for speaker labels).
    4. Half-overlapping ``segment_s`` segments, represented by their mean whitened features, are split into two
       clusters by agglomerative clustering (average linkage, cosine distance).
    5. Resegmentation (Viterbi re-alignment, as in Meignier & Merlin 2010): one ``n_components`` diagonal
       Gaussian mixture per speaker is trained on the frames currently attributed to it, and a two-state hidden
       Markov model decodes the speech frames with a minimum turn of ``min_turn_s`` and a log-likelihood cost
       per change of speaker (``switch_penalty`` inside continuous speech, ``pause_penalty`` across a pause of at
       least 0.2 s: turns change mostly at pauses). Repeated until no frame changes (at most ``max_iter``).

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        The mixed sound.
    sample_rate : float
        Hz.
    times_s : ndarray, shape (n,)
        Frame centres (the prosody grid, e.g. from :func:`~dyadsync.features.pitch.intensity_track`); the first
        frame is centred on the first sample.
    intensity_db : ndarray or None
        Intensity at those frames (computed when None).
    speakers : two str
        Names of the two clusters, in order of first speech.
    segment_s : float, default 1.0
        Length of the segments that are clustered, s.
    switch_penalty : float, default 100
        Cost of a change of speaker inside continuous speech, in log-likelihood units (nats): larger values give
        fewer, longer turns.
    pause_penalty : float, default 20
        Cost of a change of speaker across a pause of at least 0.2 s, nats.
    n_ceps : int, default 12
        Cepstral coefficients used (coefficient 0, the level, is left out).
    adjacency_s : float, default 0.25
        Length of the adjacent stretches that estimate the within-speaker variability, s (about a syllable).
    min_turn_s : float, default 0.2
        Shortest stretch of one speaker in the decoding, s.
    n_components : int, default 8
        Gaussians per speaker model (fewer for a speaker with under ``n_components`` seconds of speech).
    max_iter : int, default 10
        Most resegmentation passes.

    Returns
    -------
    SpeakerActivity
        ``info`` holds ``coherence`` (fraction of segment pairs one segment apart that the clustering put
        together: about 0.5 when one voice is split in two at random, 0.65-0.85 for two people taking turns; below
        0.6 a warning says the attribution is unreliable), ``separation`` (mean cosine similarity of the segments
        within the final speakers minus between them), the number of segments and of resegmentation passes.
    """
    segment_s = check_positive("segment_s", segment_s)
    adjacency_s = check_positive("adjacency_s", adjacency_s)
    t = np.asarray(times_s, float)
    step = float(t[1] - t[0]) if t.size > 1 else 0.01
    if intensity_db is None:
        _, intensity_db = intensity_track(y, sample_rate, step_s=step, t0_s=float(t[0]) if t.size else 0.0)
    speech, vinfo = voice_activity(intensity_db, step_s=step)
    n_frames = t.size
    active = np.zeros((n_frames, 2), bool)
    width = max(2, int(round(segment_s / step)))
    info: dict[str, Any] = {
        "voice_activity": vinfo, "segment_s": segment_s, "switch_penalty": switch_penalty,
        "pause_penalty": pause_penalty, "n_ceps": n_ceps, "adjacency_s": adjacency_s, "min_turn_s": min_turn_s,
        "n_components": n_components,
    }
    idx = np.flatnonzero(speech)
    n = idx.size
    if n < 2 * width:
        info.update({"separation": float("nan"), "coherence": float("nan"), "n_segments": 0, "n_iterations": 0})
        return SpeakerActivity(t, list(speakers), active, "auto", info)
    c = mfcc(y, sample_rate, t[idx] - t[0], n_mfcc=n_ceps + 1)[:, 1:]
    x = (c - c.mean(axis=0)) / (c.std(axis=0) + 1e-9)
    z = x @ _within_whitening(x, max(1, int(round(adjacency_s / step))))

    # 4. segments of the speech (concatenated), clustered in two
    hop = max(1, width // 2)
    starts = np.arange(0, n - width + 1, hop)
    sums = np.cumsum(np.vstack([np.zeros((1, z.shape[1])), z]), axis=0)
    seg = sums[starts + width] - sums[starts]
    seg -= seg.mean(axis=0)
    seg /= np.linalg.norm(seg, axis=1, keepdims=True) + 1e-12
    seg_labels = _two_clusters(seg)
    votes = np.zeros((n, 2))
    for s0, lab in zip(starts, seg_labels):
        votes[s0 : s0 + width, lab] += 1
    covered = votes.sum(axis=1) > 0
    labels = np.where(covered, np.argmax(votes, axis=1), seg_labels[-1])

    # 5. Viterbi resegmentation with one Gaussian mixture per speaker
    gap = np.concatenate([[0], np.diff(idx) - 1])
    penalty = np.where(gap * step >= 0.2 - 1e-9, pause_penalty, switch_penalty)
    min_run = max(1, int(round(min_turn_s / step)))
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        counts = np.bincount(labels, minlength=2)
        if counts.min() < min_run:  # a speaker with less than one minimum turn: one voice only
            labels[:] = int(np.argmax(counts))
            break
        loglik = np.column_stack([_gmm_score(x, _gmm_fit(x[labels == k], n_components, int(round(0.5 / step))))
                                  for k in range(2)])
        new = _viterbi_min_duration(loglik, penalty, min_run)
        if np.array_equal(new, labels):
            break
        labels = new
    active[idx, labels] = True
    first = [int(np.argmax(active[:, k])) if active[:, k].any() else n_frames for k in range(2)]
    if first[1] < first[0]:
        active = active[:, ::-1]

    # quality figures
    seg_final = np.array([np.bincount(labels[s0 : s0 + width], minlength=2).argmax() for s0 in starts])
    sim = seg @ seg.T
    same = seg_final[:, None] == seg_final[None, :]
    separation = float(sim[same].mean() - sim[~same].mean()) if (~same).any() else 0.0
    lag = max(1, width // hop)
    coherence = float(np.mean(seg_labels[lag:] == seg_labels[:-lag])) if seg_labels.size > lag else float("nan")
    info.update({"separation": separation, "coherence": coherence, "n_segments": int(starts.size),
                 "n_iterations": n_iter})
    if coherence < 0.6:
        warnings.warn(
            f"automatic speaker attribution: the voice clusters do not form turns (coherence {coherence:.2f} < 0.6; "
            "about 0.5 for one voice split in two): maybe one speaker only, or two voices too alike; check the "
            "turns, or give separate channels or an annotation of turns", DyadsyncWarning, stacklevel=2)
    return SpeakerActivity(t, list(speakers), active, "auto", info)


def _within_whitening(x: np.ndarray, span: int) -> np.ndarray:
    """Matrix whitening the within-speaker covariance, estimated from differences of adjacent ``span``-frame means."""
    sums = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    means = (sums[span:] - sums[:-span]) / span
    diff = means[span:] - means[:-span]
    if diff.shape[0] < x.shape[1] + 1:
        return np.eye(x.shape[1])
    lam, vec = np.linalg.eigh(diff.T @ diff / (2 * diff.shape[0]))
    return vec / np.sqrt(np.maximum(lam, 1e-8 * lam.max()))


def _two_clusters(seg: np.ndarray, max_segments: int = 3000) -> np.ndarray:
    """Two clusters of unit vectors: average-linkage agglomerative clustering on cosine distance.

    Above ``max_segments`` rows, an evenly spaced subset is clustered and the others join the cluster with the
    higher mean similarity (the average-linkage criterion).
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    sub = np.linspace(0, len(seg) - 1, min(len(seg), max_segments)).round().astype(int)
    sub_labels = fcluster(linkage(seg[sub], "average", metric="cosine"), 2, "maxclust") - 1
    if sub_labels.min() == sub_labels.max():
        return np.zeros(len(seg), np.int64)
    centroids = np.stack([seg[sub][sub_labels == k].mean(axis=0) for k in range(2)])
    labels = np.argmax(seg @ centroids.T, axis=1)
    labels[sub] = sub_labels
    return labels.astype(np.int64)


def _gmm_fit(x: np.ndarray, n_components: int, frames_per_component: int, n_iter: int = 10,
             max_frames: int = 30000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Diagonal Gaussian mixture by binary splitting and EM (deterministic): weights, means, variances.

    At most one component per ``frames_per_component`` frames; at most ``max_frames`` (evenly spaced) train it.
    """
    if x.shape[0] > max_frames:
        x = x[np.linspace(0, x.shape[0] - 1, max_frames).round().astype(int)]
    k_max = int(max(1, min(n_components, x.shape[0] // max(1, frames_per_component))))
    floor = 1e-3 * (x.var(axis=0) + 1e-12)
    w, mu, var = np.ones(1), x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True) + floor
    while True:
        for _ in range(n_iter):
            lc = _gmm_components(x, w, mu, var)
            post = np.exp(lc - lc.max(axis=1, keepdims=True))
            post /= post.sum(axis=1, keepdims=True)
            nk = post.sum(axis=0) + 1e-10
            w, mu = nk / nk.sum(), post.T @ x / nk[:, None]
            var = np.maximum(post.T @ (x * x) / nk[:, None] - mu * mu, floor)
        if w.size * 2 > k_max:
            return w, mu, var
        eps = 0.2 * np.sqrt(var)
        w, mu, var = np.concatenate([w, w]) / 2, np.vstack([mu - eps, mu + eps]), np.vstack([var, var])


def _gmm_components(x: np.ndarray, w: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Log of weight times Gaussian density of each frame (rows) under each diagonal component (columns)."""
    prec = 1.0 / var
    return (np.log(w) - 0.5 * np.log(2 * np.pi * var).sum(axis=1) - 0.5 * (mu * mu * prec).sum(axis=1))[None, :] \
        - 0.5 * (x * x) @ prec.T + x @ (mu * prec).T


def _gmm_score(x: np.ndarray, gmm: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Log-likelihood of each frame under a diagonal Gaussian mixture."""
    lc = _gmm_components(x, *gmm)
    m = lc.max(axis=1)
    return m + np.log(np.exp(lc - m[:, None]).sum(axis=1))


def _viterbi_min_duration(loglik: np.ndarray, penalty: np.ndarray, min_run: int) -> np.ndarray:
    """Best two-state path: frame log-likelihoods (n, 2), runs of at least ``min_run`` frames, and a cost
    ``penalty[s]`` for a run that starts at frame s after a run of the other state."""
    n = loglik.shape[0]
    d = int(min(max(1, min_run), n))
    cum = np.vstack([np.zeros((1, 2)), np.cumsum(loglik, axis=0)])
    ll0, ll1 = loglik[:, 0].tolist(), loglik[:, 1].tolist()
    c0, c1 = cum[:, 0].tolist(), cum[:, 1].tolist()
    pen = np.broadcast_to(np.asarray(penalty, float), (n,)).tolist()
    # best score of a path ending at frame t in state 0 / 1; switched[t]: its current run began at t - d + 1
    best0, best1 = c0[1 : d + 1], c1[1 : d + 1]
    sw0, sw1 = [False] * n, [False] * n
    for i in range(d, n):
        s = i - d + 1
        stay, switch = best0[i - 1] + ll0[i], best1[s - 1] - pen[s] + c0[i + 1] - c0[s]
        if switch > stay:
            best0.append(switch)
            sw0[i] = True
        else:
            best0.append(stay)
        stay, switch = best1[i - 1] + ll1[i], best0[s - 1] - pen[s] + c1[i + 1] - c1[s]
        if switch > stay:
            best1.append(switch)
            sw1[i] = True
        else:
            best1.append(stay)
    path = np.empty(n, np.int64)
    i, state = n - 1, 0 if best0[-1] >= best1[-1] else 1
    while i >= 0:
        if (sw0 if state == 0 else sw1)[i]:
            path[i - d + 1 : i + 1] = state
            i, state = i - d, 1 - state
        else:
            path[i] = state
            i -= 1
    return path


# ------------------------------------------------------------------------------------------------ mouth


def assign_by_mouth(
    activity: SpeakerActivity,
    features: pd.DataFrame,
    persons: Sequence[str],
    *,
    feature: str = "mouth_opening",
    smooth_s: float = 0.5,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Decide which speaker cluster is which person from the face extractor's mouth-opening series.

    A speaking person's mouth moves: each person's mouth movement (absolute change of ``mouth_opening`` over
    time, smoothed over ``smooth_s``) is correlated with each cluster's speech activity, and the one-to-one
    assignment with the larger summed correlation wins.

    Parameters
    ----------
    activity : SpeakerActivity
        Two speakers (clusters).
    features : DataFrame
        Long feature table with ``feature == mouth_opening`` rows for both persons.
    persons : two str
        Person names.
    feature : str, default "mouth_opening"
    smooth_s : float, default 0.5
        Moving-average span of the mouth movement, s.

    Returns
    -------
    mapping : dict
        Cluster name -> person name.
    info : dict
        ``correlations`` (cluster x person), ``margin`` (summed correlation of the chosen assignment minus the
        other; near 0 means the video could not decide), ``decided_by``.
    """
    if len(activity.speakers) != 2 or len(persons) != 2:
        raise AnalysisError("mouth-based assignment needs exactly two speakers and two persons")
    sub = features[features["feature"].astype(str) == feature]
    if sub.empty:
        raise AnalysisError(f"no {feature!r} feature in the table: run the face stage to assign speakers by mouth")
    t = activity.times_s
    corr = np.full((2, 2), np.nan)
    for j, person in enumerate(persons):
        rows = sub[sub["person"].astype(str) == person].sort_values("time_s")
        if len(rows) < 3:
            continue
        tm, v = rows["time_s"].to_numpy(float), rows["value"].to_numpy(float)
        move = np.abs(np.gradient(v, tm))
        ok = np.isfinite(move)
        if ok.sum() < 3:
            continue
        m = np.interp(t, tm[ok], move[ok], left=np.nan, right=np.nan)
        width = max(1, int(round(smooth_s / activity.step_s)))
        m = pd.Series(m).rolling(width, center=True, min_periods=1).mean().to_numpy()
        for i in range(2):
            a = activity.active[:, i].astype(float)
            valid = np.isfinite(m)
            if valid.sum() > 10 and a[valid].std() > 0 and m[valid].std() > 0:
                corr[i, j] = float(np.corrcoef(a[valid], m[valid])[0, 1])
    if not np.isfinite(corr).all():
        raise AnalysisError(f"{feature!r} is missing for a person or too short to assign speakers")
    straight = corr[0, 0] + corr[1, 1]
    crossed = corr[0, 1] + corr[1, 0]
    if straight >= crossed:
        mapping = {activity.speakers[0]: persons[0], activity.speakers[1]: persons[1]}
    else:
        mapping = {activity.speakers[0]: persons[1], activity.speakers[1]: persons[0]}
    return mapping, {"correlations": corr.tolist(), "margin": float(abs(straight - crossed)),
                     "decided_by": feature}


# --------------------------------------------------------------------------------------- segments and DER


def activity_segments(activity: SpeakerActivity, *, bridge_s: float = 1.0, min_s: float = 0.0) -> pd.DataFrame:
    """Speaker segments (turn stretches) from frame activity, bridging each speaker's pauses up to ``bridge_s``.

    Parameters
    ----------
    activity : SpeakerActivity
    bridge_s : float, default 1.0
        A speaker's silent gaps up to this long stay inside the segment.
    min_s : float, default 0
        Drop shorter segments.

    Returns
    -------
    DataFrame
        ``onset_s``, ``offset_s``, ``speaker``; sorted by onset (offsets are frame ends: centre + step / 2). A
        gap is bridged only when no other speaker speaks in it.
    """
    step = activity.step_s
    rows = []
    for k, speaker in enumerate(activity.speakers):
        others = np.delete(activity.active, k, axis=1).any(axis=1)
        m = bridge_gaps(activity.active[:, k], int(round(bridge_s / step)), min_run=int(round(min_s / step)),
                        blocked=others)
        s, e = true_runs(m)
        for a, b in zip(s, e):
            rows.append((activity.times_s[a] - step / 2, activity.times_s[b - 1] + step / 2, speaker))
    table = pd.DataFrame(rows, columns=["onset_s", "offset_s", "speaker"])
    table["onset_s"] = table["onset_s"].clip(lower=0.0)
    return table.sort_values(["onset_s", "speaker"], kind="stable").reset_index(drop=True)


def diarization_error_rate(
    reference: pd.DataFrame,
    hypothesis: pd.DataFrame,
    *,
    collar_s: float = 0.25,
    uem: tuple[float, float] | None = None,
    resolution_s: float = 0.001,
) -> dict[str, float]:
    """Diarization error rate (NIST md-eval definition) with a collar and the optimal speaker mapping.

    DER = (missed speech + false alarm + speaker confusion) / reference speech, all in seconds of speaker time
    over the scored region: the UEM (or everything) minus ``collar_s`` on either side of every reference segment
    boundary. Hypothesis speakers are mapped one-to-one to reference speakers to maximise their overlap
    (Hungarian algorithm). Overlapping speech counts per speaker.

    Parameters
    ----------
    reference, hypothesis : DataFrame
        Segments with ``onset_s``, ``offset_s`` and ``speaker`` (or ``code``, as in an Events table).
    collar_s : float, default 0.25
    uem : (start, end) or None
        Scored region, s.
    resolution_s : float, default 0.001

    Returns
    -------
    dict
        ``der``, ``missed``, ``false_alarm``, ``confusion`` (fractions of ``reference_s``), ``reference_s``,
        ``scored_s``, ``mapping`` (hypothesis -> reference speaker).
    """
    from scipy.optimize import linear_sum_assignment

    def norm(df: pd.DataFrame) -> pd.DataFrame:
        col = "speaker" if "speaker" in df.columns else "code"
        return pd.DataFrame({"onset_s": df["onset_s"].astype(float), "offset_s": df["offset_s"].astype(float),
                             "speaker": df[col].astype(str)})

    ref, hyp = norm(reference), norm(hypothesis)
    end = max(ref["offset_s"].max() if len(ref) else 0.0, hyp["offset_s"].max() if len(hyp) else 0.0)
    if uem is not None:
        end = max(end, uem[1])
    n = int(np.ceil(end / resolution_s)) + 1
    t = (np.arange(n) + 0.5) * resolution_s

    def matrix(df: pd.DataFrame) -> tuple[list[str], np.ndarray]:
        names = sorted(df["speaker"].unique())
        m = np.zeros((n, len(names)), bool)
        for row in df.itertuples(index=False):
            m[int(round(row.onset_s / resolution_s)) : int(round(row.offset_s / resolution_s)),
              names.index(row.speaker)] = True
        return names, m

    ref_names, r = matrix(ref)
    hyp_names, h = matrix(hyp)
    scored = np.ones(n, bool)
    if uem is not None:
        scored &= (t >= uem[0]) & (t < uem[1])
    if collar_s > 0:
        for b in np.concatenate([ref["onset_s"].to_numpy(), ref["offset_s"].to_numpy()]):
            scored[int(max(0, round((b - collar_s) / resolution_s))) : int(round((b + collar_s) / resolution_s))] = False
    r, h = r[scored], h[scored]
    n_ref, n_hyp = r.sum(axis=1), h.sum(axis=1)
    correct = np.zeros(r.shape[0])
    mapping: dict[str, str] = {}
    if r.shape[1] and h.shape[1]:
        overlap = r.T.astype(float) @ h.astype(float)
        ri, hi = linear_sum_assignment(-overlap)
        for a, b in zip(ri, hi):
            correct += r[:, a] & h[:, b]
            mapping[hyp_names[b]] = ref_names[a]
    total = float(n_ref.sum())
    if total == 0:
        raise AnalysisError("the reference has no speech in the scored region")
    missed = float(np.maximum(0, n_ref - n_hyp).sum())
    false_alarm = float(np.maximum(0, n_hyp - n_ref).sum())
    confusion = float((np.minimum(n_ref, n_hyp) - correct).sum())
    return {
        "der": (missed + false_alarm + confusion) / total,
        "missed": missed / total,
        "false_alarm": false_alarm / total,
        "confusion": confusion / total,
        "reference_s": total * resolution_s,
        "scored_s": float(scored.sum()) * resolution_s,
        "mapping": mapping,
    }
