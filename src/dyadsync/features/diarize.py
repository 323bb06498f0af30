"""Who speaks when: speaker activity from separate channels, a turn annotation, or automatic attribution.

In order of trust:

1. **Separate channels** (:func:`activity_from_channels`): one lapel microphone per person. A channel is active
   when its level is above its own noise floor (voice activity) and not far below the other channel's level:
   the other person's voice leaks in (cross-talk) several dB below the own voice, so a frame whose level is more
   than half the estimated leak below the other channel is cross-talk, not speech. Overlapping speech (both
   loud) stays attributed to both.
2. **An annotation of turns** (:func:`activity_from_events`): any Events table (RTTM, ELAN, TextGrid, CSV read
   by :func:`dyadsync.io.events.read_events`) whose codes name the speakers.
3. **Automatic two-speaker attribution on one channel** (:func:`dyadsync.features.clustering.activity_auto`):
   voice clusters, with no downloaded model and no randomness. It cannot detect overlapping speech and is the
   least reliable; :func:`assign_by_mouth` decides which cluster is which person from the face extractor's
   ``mouth_opening``.

Voice activity itself (speech or not, from the intensity contour) is :mod:`dyadsync.features.vad`.

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
from .._validate import check_array, check_names, check_positive, check_real, check_table
from ..errors import (
    AnalysisError,
    ConfigError,
    DyadsyncWarning,
    EventsError,
    InputError,
)
from .vad import bridge_gaps, voice_activity


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
    speakers = check_names("speakers", speakers)
    check_array("levels_db", levels_db, ndim=2)
    check_array("times_s", times_s, length=np.shape(levels_db)[-1])
    check_positive("step_s", step_s)
    if crosstalk_margin_db is not None:
        check_positive("crosstalk_margin_db", crosstalk_margin_db, allow_zero=True)
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

    Raises
    ------
    EventsError
        When turns start after the end of the audio (the annotation of another recording, or another unit).
    InputError
        When the annotation holds no turns or its codes cannot be mapped to the persons.
    """
    check_table("events", events, ("onset_s", "offset_s", "code"))
    check_array("times_s", times_s)
    speakers = check_names("speakers", speakers)
    if len(speakers) < 2 and mapping is None:
        raise ConfigError(f"speakers must name the two persons (A, B), got {speakers!r}")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ConfigError(f"mapping must map codes to persons, got {mapping!r}")
    if duration_s is not None:
        check_positive("duration_s", duration_s, allow_zero=True)
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
    strays = sorted({str(mapping[c]) for c in codes} - set(speakers))
    if strays:
        raise ConfigError(f"the mapping of turn codes names {strays}, who are not among the persons {speakers}")
    if duration_s is not None:
        past = events[events["onset_s"] >= duration_s + 0.5]
        if len(past):
            first = past.iloc[0]
            raise EventsError(
                path,
                f"{len(past)} turn(s) start after the end of the audio ({duration_s:.2f} s), the first at "
                f"{first['onset_s']:.2f} s ({first.get('source', '')}); the annotation belongs to a longer "
                "recording or is in the wrong unit: check that it belongs to this recording",
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
    if not isinstance(activity, SpeakerActivity):
        raise ConfigError(f"activity must be a SpeakerActivity, got {type(activity).__name__}")
    check_table("features", features, ("time_s", "person", "feature", "value"))
    persons = check_names("persons", persons)
    if not isinstance(feature, str):
        raise ConfigError(f"feature must be a feature name, got {feature!r}")
    check_positive("smooth_s", smooth_s)
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
    if not isinstance(activity, SpeakerActivity):
        raise ConfigError(f"activity must be a SpeakerActivity, got {type(activity).__name__}")
    check_positive("bridge_s", bridge_s, allow_zero=True)
    check_positive("min_s", min_s, allow_zero=True)
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
    for name, segments in (("reference", reference), ("hypothesis", hypothesis)):
        check_table(name, segments, ("onset_s", "offset_s"))
        if "speaker" not in segments.columns and "code" not in segments.columns:
            raise AnalysisError(f"{name} needs a speaker (or code) column")
    check_positive("collar_s", collar_s, allow_zero=True)
    check_positive("resolution_s", resolution_s)
    if uem is not None:
        if isinstance(uem, (str, bytes)) or not isinstance(uem, Sequence) or len(uem) != 2:
            raise ConfigError(f"uem must be (start_s, end_s), got {uem!r}")
        start, end = (check_real("uem", v, low=0.0) for v in uem)
        if end <= start:
            raise ConfigError(f"uem must end after it starts, got {uem!r}")
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
