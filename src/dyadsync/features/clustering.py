"""Automatic two-speaker attribution on one channel, with no downloaded model and no randomness.

Energy-based voice activity (:mod:`dyadsync.features.vad`); cepstral coefficients 1-12 (the spectral envelope,
not the pitch) whitened by the within-speaker variability that adjacent quarter-second stretches of speech show;
one-second segments split in two by agglomerative clustering of their cosine similarities; then Viterbi
resegmentation with one Gaussian mixture per speaker and a minimum turn (:func:`activity_auto`). It cannot detect
overlapping speech and is the least reliable of the attributions in :mod:`dyadsync.features.diarize`, whose
:func:`~dyadsync.features.diarize.assign_by_mouth` decides which cluster is which person.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import check_array, check_integer, check_names, check_positive, check_real
from ..errors import DyadsyncWarning
from ._signal import frames
from .diarize import SpeakerActivity
from .pitch import intensity_track
from .vad import voice_activity


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
    x = np.asarray(y)
    # frame k starts win // 2 samples before its centre; frames reaching more than a window past either end of
    # the sound are taken at that limit
    starts = np.clip(np.round(np.asarray(times_s) * sr).astype(np.int64) - win // 2, -win, x.size)
    out = np.empty((starts.size, n_mfcc))
    hamming = np.hamming(win)
    for b0 in range(0, starts.size, 4096):
        fr = frames(x, starts[b0 : b0 + 4096], win) * hamming
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
    check_array("y", y)
    check_positive("sample_rate", sample_rate)
    check_array("times_s", times_s)
    if intensity_db is not None:
        check_array("intensity_db", intensity_db, length=np.size(times_s))
    speakers = check_names("speakers", speakers, n=2)
    check_real("switch_penalty", switch_penalty)
    check_real("pause_penalty", pause_penalty)
    check_integer("n_ceps", n_ceps, low=1)
    check_positive("min_turn_s", min_turn_s)
    check_integer("n_components", n_components, low=1)
    check_integer("max_iter", max_iter, low=1)
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
        new = viterbi_min_duration(loglik, penalty, min_run)
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


def viterbi_min_duration(loglik: np.ndarray, penalty: np.ndarray, min_run: int) -> np.ndarray:
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
