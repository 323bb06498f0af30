"""Prosody per speaker at 100 Hz and the turn table: the voice extractor.

:func:`analyse_voice` decodes the sound (the session video's own track or a separate file), attributes speech to
the two persons (separate channels, an annotation of turns, or automatic attribution; see
:mod:`dyadsync.features.diarize`), and computes per person and 10-ms frame: speaking, voicing, f0 (Hz and
semitones re 100 Hz) and intensity (dB) with :mod:`dyadsync.features.pitch`. :func:`turn_table` summarises
each turn: f0 mean/SD/range, intensity, syllable nuclei (de Jong & Wempe 2009) with speech and articulation
rate, pauses, and response latency. :func:`voice_features` gives the same as a long feature table for pipelines.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._arrays import true_runs
from .._validate import (
    check_array,
    check_integer,
    check_names,
    check_path,
    check_positive,
    check_real,
    check_table,
    suggest,
)
from ..errors import (
    AnalysisError,
    ConfigError,
    DyadsyncWarning,
    InputError,
    NoAudioError,
)
from ..io.audio import Audio, check_not_silent, read_audio
from ..io.tables import long_table
from .clustering import activity_auto
from .diarize import (
    SpeakerActivity,
    activity_from_channels,
    activity_from_events,
    assign_by_mouth,
)
from .persons import DEFAULT_PERSONS
from .pitch import hz_to_semitones, intensity_track, pitch_track
from .vad import bridge_gaps

#: Per-person features the voice extractor writes to the long feature table.
FEATURES = ("speaking", "voiced", "f0_hz", "f0_st", "intensity_db")

#: Columns of the prosody table (prosody.parquet).
PROSODY_COLUMNS = ("time_s", "speaker", "speaking", "voiced", "f0_hz", "f0_st", "intensity_db")

#: Columns of the turn table (turns.csv).
TURN_COLUMNS = (
    "turn", "speaker", "onset_s", "offset_s", "duration_s", "f0_mean_hz", "f0_sd_hz", "f0_min_hz", "f0_max_hz",
    "f0_mean_st", "f0_range_st", "intensity_mean_db", "voiced_s", "n_syllables", "speech_rate_syl_s",
    "articulation_rate_syl_s", "n_pauses", "pause_s", "latency_s",
)

#: Analysis sample rate: higher source rates are resampled to it (recorded in the info).
ANALYSIS_RATE_HZ = 16000


@dataclass
class VoiceAnalysis:
    """Result of :func:`analyse_voice`.

    Attributes
    ----------
    prosody : DataFrame
        One row per 10-ms frame and speaker (columns :data:`PROSODY_COLUMNS`).
    turns : DataFrame
        One row per turn (columns :data:`TURN_COLUMNS`).
    activity : SpeakerActivity
        Frame-level speech of each person.
    info : dict
        Method, parameters, the audio's properties, attribution quality, version.
    """

    prosody: pd.DataFrame
    turns: pd.DataFrame
    activity: SpeakerActivity
    info: dict[str, Any] = field(default_factory=dict)

    def features(self) -> pd.DataFrame:
        """The prosody as a long feature table (``time_s``, ``person``, ``feature``, ``value``)."""
        return prosody_to_features(self.prosody)


def analyse_voice(
    media: str | Path,
    *,
    speakers: str | Path | pd.DataFrame = "channels",
    persons: Sequence[str] = DEFAULT_PERSONS,
    audio: str | Path | None = None,
    channels: Sequence[int] = (0, 1),
    step_s: float = 0.01,
    floor_hz: float = 75.0,
    ceiling_hz: float = 600.0,
    bridge_s: float = 1.0,
    min_pause_s: float = 0.25,
    sample_rate_hz: int | None = ANALYSIS_RATE_HZ,
    crosstalk_margin_db: float | None = None,
    mouth: pd.DataFrame | None = None,
) -> VoiceAnalysis:
    """Prosody per person and the turn table of a session's sound.

    Parameters
    ----------
    media : str or Path
        The session video (its sound track is used) or an audio file.
    speakers : "channels", "auto", path or DataFrame, default "channels"
        Who speaks when: ``"channels"`` = one channel per person (``channels`` gives which); ``"auto"`` =
        automatic two-speaker attribution on the mixed channels; a file path = an annotation of turns read by
        :func:`dyadsync.io.events.read_events` (RTTM, ELAN, TextGrid, CSV) whose codes name the speakers; or an
        Events table.
    persons : two str
        Names of person A and B (A = ``channels[0]``).
    audio : str or Path or None
        A separate audio file to use instead of the media file's sound track.
    channels : two int, default (0, 1)
        Channel of person A and of person B, for ``speakers="channels"``.
    step_s : float, default 0.01
        Frame step, s (100 Hz).
    floor_hz, ceiling_hz : float, default 75, 600
        Pitch range, Hz.
    bridge_s : float, default 1.0
        A person's pauses up to this long stay inside their turn.
    min_pause_s : float, default 0.25
        Silent stretches inside a turn at least this long count as pauses.
    sample_rate_hz : int or None, default 16000
        Sounds recorded at a higher rate are resampled to this for analysis (recorded in ``info``); None keeps
        the file's rate.
    crosstalk_margin_db : float or None
        See :func:`~dyadsync.features.diarize.activity_from_channels`.
    mouth : DataFrame or None
        Long feature table with the face extractor's ``mouth_opening`` for both persons: decides which automatic
        speaker cluster is which person.

    Returns
    -------
    VoiceAnalysis

    Raises
    ------
    ConfigError
        For invalid parameters (not two persons, a pitch ceiling below the floor, ...).
    NoAudioError
        No audio stream, silence, or a mono file with ``speakers="channels"``.
    InputError, EventsError
        A turn annotation that cannot be read, names other speakers or runs past the end of the audio.
    """
    step_s = check_positive("step_s", step_s)
    persons = check_names("persons", persons, n=2)
    check_path("media", media)
    if audio is not None:
        check_path("audio", audio)
    if not isinstance(speakers, (str, os.PathLike, pd.DataFrame)):
        raise ConfigError(f"speakers must be 'channels', 'auto', a turn annotation file or an Events table, "
                          f"got {speakers!r}")
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Iterable):
        raise ConfigError(f"channels must be two channel numbers, got {channels!r}")
    for c in channels:
        check_integer("channels", c, low=0)
    if check_positive("ceiling_hz", ceiling_hz) <= check_positive("floor_hz", floor_hz):
        raise ConfigError(f"ceiling_hz ({ceiling_hz}) must be above floor_hz ({floor_hz})")
    check_positive("bridge_s", bridge_s, allow_zero=True)
    check_positive("min_pause_s", min_pause_s, allow_zero=True)
    if sample_rate_hz is not None:
        check_integer("sample_rate_hz", sample_rate_hz, low=1)
    if crosstalk_margin_db is not None:
        check_positive("crosstalk_margin_db", crosstalk_margin_db, allow_zero=True)
    if mouth is not None:
        check_table("mouth", mouth, ("time_s", "person", "feature", "value"))
    source = Path(audio) if audio is not None else Path(media)
    probe = read_audio(source, sample_rate=None, on_silent="raise") if sample_rate_hz is None else None
    snd = probe if probe is not None else _read_for_analysis(source, sample_rate_hz)
    sr = snd.sample_rate
    t0 = snd.start_s
    info: dict[str, Any] = {
        "method": "prosody per speaker (Boersma 1993 pitch, Praat intensity, de Jong & Wempe 2009 nuclei)",
        "version": __version__, "audio": snd.as_dict(), "rate_hz": 1.0 / step_s,
        "parameters": {"step_s": step_s, "floor_hz": floor_hz, "ceiling_hz": ceiling_hz, "bridge_s": bridge_s,
                       "min_pause_s": min_pause_s, "sample_rate_hz": sr},
    }
    if isinstance(speakers, str) and speakers == "channels":
        if snd.n_channels < 2:
            raise NoAudioError(
                source,
                f"has {snd.n_channels} audio channel (mono); --speakers channels needs one channel per "
                "person (e.g. stereo lapel microphones). Use --speakers auto, or an annotation of turns",
            )
        chans = [int(c) for c in channels]
        if len(chans) != 2 or any(not 0 <= c < snd.n_channels for c in chans) or chans[0] == chans[1]:
            raise NoAudioError(source, f"channels {chans} do not name two of its {snd.n_channels} channels")
        for c in chans:
            try:
                check_not_silent(snd, channel=c)
            except NoAudioError as exc:
                warnings.warn(str(exc), DyadsyncWarning, stacklevel=2)
        tracks, levels = [], []
        for c in chans:
            p = pitch_track(snd.samples[c], sr, step_s=step_s, floor_hz=floor_hz, ceiling_hz=ceiling_hz, t0_s=t0)
            _, lev = intensity_track(snd.samples[c], sr, step_s=step_s, t0_s=t0)
            tracks.append(p)
            levels.append(lev)
        times = tracks[0].times_s
        activity = activity_from_channels(np.stack(levels), times, persons, step_s=step_s,
                                          crosstalk_margin_db=crosstalk_margin_db, path=source)
        f0 = np.stack([tr.f0_hz for tr in tracks], axis=1)
        level = np.stack(levels, axis=1)
        info["speakers"] = {"method": "channels", "channels": dict(zip(persons, chans)), **activity.info}
    else:
        y = snd.mono()
        p = pitch_track(y, sr, step_s=step_s, floor_hz=floor_hz, ceiling_hz=ceiling_hz, t0_s=t0)
        times, lev = intensity_track(y, sr, step_s=step_s, t0_s=t0)
        if isinstance(speakers, str) and speakers == "auto":
            activity = activity_auto(y, sr, times, intensity_db=lev, speakers=("speaker_1", "speaker_2"))
            if mouth is not None:
                mapping, minfo = assign_by_mouth(activity, mouth, persons)
                activity.info["mouth"] = minfo
            else:
                mapping = {"speaker_1": persons[0], "speaker_2": persons[1]}
                activity.info["mouth"] = None
                warnings.warn(
                    f"{source}: automatic speaker attribution without video: the first voice heard is called "
                    f"{persons[0]!r}; give the face stage's mouth_opening, separate channels or an annotation to "
                    "know who is who", DyadsyncWarning, stacklevel=2)
            activity = _order(activity.renamed(mapping), persons)
            info["speakers"] = {"method": "auto", "mapping": mapping, **activity.info}
        else:
            events, where = _turn_events(speakers)
            activity = activity_from_events(events, times, persons, duration_s=snd.duration_s + t0, path=where)
            info["speakers"] = {"method": "annotation", **activity.info}
        one = activity.active.sum(axis=1) == 1
        f0 = np.where(activity.active & one[:, None], p.f0_hz[:, None], np.nan)
        level = np.repeat(lev[:, None], 2, axis=1)
    prosody = _prosody_table(times, persons, activity.active, f0, level)
    turns = turn_table(prosody, bridge_s=bridge_s, min_pause_s=min_pause_s)
    info["n_turns"] = {p_: int((turns["speaker"] == p_).sum()) for p_ in persons}
    info["speaking_s"] = {p_: float(activity.active[:, i].sum() * step_s) for i, p_ in enumerate(persons)}
    if not activity.active.any():
        warnings.warn(f"{source}: no speech found in the sound track", DyadsyncWarning, stacklevel=2)
    return VoiceAnalysis(prosody, turns, activity, info)


def voice_features(media: str | Path, **kwargs: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Prosody per person as a long feature table, for pipelines: ``(features, info)``.

    Parameters
    ----------
    media : str or Path
    **kwargs
        As :func:`analyse_voice`.

    Returns
    -------
    features : DataFrame
        Long table: features :data:`FEATURES` per person at 100 Hz.
    info : dict
        As :attr:`VoiceAnalysis.info`, plus the turn table's size.
    """
    unknown = sorted(set(kwargs) - set(inspect.signature(analyse_voice).parameters))
    if unknown:
        hint = suggest(unknown[0], inspect.signature(analyse_voice).parameters)
        raise ConfigError(f"voice_features got unknown parameter(s) {', '.join(unknown)}{hint}")
    result = analyse_voice(media, **kwargs)
    return result.features(), result.info


def _read_for_analysis(path: Path, rate: int) -> Audio:
    import av

    try:
        with av.open(str(path)) as c:
            native = int(c.streams.audio[0].codec_context.sample_rate or 0) if c.streams.audio else 0
    except av.error.FFmpegError:
        native = 0
    except (OSError, ValueError):
        native = 0
    target = rate if native > rate else None
    return read_audio(path, sample_rate=target, on_silent="raise")


def _order(activity: SpeakerActivity, persons: Sequence[str]) -> SpeakerActivity:
    idx = [activity.speakers.index(p) for p in persons]
    return SpeakerActivity(activity.times_s, list(persons), activity.active[:, idx], activity.method, activity.info)


def _turn_events(speakers: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, Any]:
    """The turn annotation and what to call it in messages (turns past the audio are checked by the attribution)."""
    from ..io.events import read_events

    if isinstance(speakers, pd.DataFrame):
        return speakers, "turn annotation"
    path = Path(speakers)
    if not path.exists():
        raise InputError(path, "file not found: --speakers takes 'channels', 'auto' or a turn annotation file")
    return read_events(path, on_outside="raise", duration_s=None), path


def _prosody_table(times: np.ndarray, persons: Sequence[str], active: np.ndarray, f0: np.ndarray,
                   level: np.ndarray) -> pd.DataFrame:
    parts = []
    for i, person in enumerate(persons):
        speaking = active[:, i]
        fi = np.where(speaking, f0[:, i], np.nan)
        parts.append(pd.DataFrame({
            "time_s": np.round(times, 6), "speaker": person, "speaking": speaking, "voiced": np.isfinite(fi),
            "f0_hz": fi, "f0_st": hz_to_semitones(fi), "intensity_db": np.where(speaking, level[:, i], np.nan),
        }))
    table = pd.concat(parts, ignore_index=True)
    table["speaker"] = table["speaker"].astype("category")
    return table[list(PROSODY_COLUMNS)]


def prosody_to_features(prosody: pd.DataFrame) -> pd.DataFrame:
    """Long feature table (``time_s``, ``person``, ``feature``, ``value``) from a prosody table."""
    check_table("prosody", prosody, ("time_s", "speaker", *FEATURES))
    columns = {}
    times = None
    for person, grp in prosody.groupby("speaker", observed=True, sort=False):
        grp = grp.sort_values("time_s")
        times = grp["time_s"].to_numpy(float) if times is None else times
        for feat in FEATURES:
            columns[(str(person), feat)] = grp[feat].to_numpy(float)
    return long_table(times if times is not None else np.zeros(0), columns)


def features_to_prosody(features: pd.DataFrame) -> pd.DataFrame:
    """The prosody table back from a long feature table holding the voice features (inverse of the above)."""
    check_table("features", features, ("time_s", "person", "feature", "value"))
    sub = features[features["feature"].isin(FEATURES)]
    wide = sub.pivot_table(index=["time_s", "person"], columns="feature", values="value", observed=True,
                           dropna=False).reset_index()
    wide.columns.name = None
    missing = [f for f in FEATURES if f not in wide.columns]
    if missing:
        raise AnalysisError(f"the feature table lacks the voice feature(s) {', '.join(missing)}")
    wide = wide.rename(columns={"person": "speaker"})
    for col in ("speaking", "voiced"):
        wide[col] = wide[col].fillna(0).astype(bool)
    wide["speaker"] = wide["speaker"].astype(str)
    return wide.sort_values(["speaker", "time_s"]).reset_index(drop=True)[list(PROSODY_COLUMNS)]


def turn_table(
    prosody: pd.DataFrame,
    *,
    bridge_s: float = 1.0,
    min_pause_s: float = 0.25,
    silence_db: float = -25.0,
    min_dip_db: float = 2.0,
) -> pd.DataFrame:
    """One row per turn from a prosody table: timing, f0, intensity, syllable rates, pauses, latency.

    A turn is a stretch of one speaker's speech whose silent gaps are at most ``bridge_s``. Syllable nuclei follow
    de Jong & Wempe (2009): peaks of the speaker's intensity contour above (99th percentile - ``silence_db``...
    i.e. 25 dB below the speaker's loud peaks), standing at least ``min_dip_db`` above the dip to the next peak,
    and voiced.

    Parameters
    ----------
    prosody : DataFrame
        Prosody table (:data:`PROSODY_COLUMNS`).
    bridge_s : float, default 1.0
    min_pause_s : float, default 0.25
    silence_db : float, default -25
    min_dip_db : float, default 2

    Returns
    -------
    DataFrame
        Columns :data:`TURN_COLUMNS` (see docs/codebook.md), sorted by onset.
    """
    check_table("prosody", prosody, ("time_s", "speaker", "speaking", "f0_hz", "intensity_db"))
    check_positive("bridge_s", bridge_s, allow_zero=True)
    check_positive("min_pause_s", min_pause_s, allow_zero=True)
    check_real("silence_db", silence_db)
    check_real("min_dip_db", min_dip_db)
    rows = []
    for speaker, grp in prosody.groupby("speaker", observed=True, sort=False):
        grp = grp.sort_values("time_s")
        t = grp["time_s"].to_numpy(float)
        if t.size < 2:
            continue
        step = float(np.median(np.diff(t)))
        speaking = grp["speaking"].to_numpy(bool)
        f0 = grp["f0_hz"].to_numpy(float)
        level = grp["intensity_db"].to_numpy(float)
        nuclei = syllable_nuclei(level, f0, speaking, silence_db=silence_db, min_dip_db=min_dip_db)
        turns = bridge_gaps(speaking, int(round(bridge_s / step)))
        starts, ends = true_runs(turns)
        for a, b in zip(starts, ends):
            seg = slice(a, b)
            sp = speaking[seg]
            ff = f0[seg]
            ff = ff[np.isfinite(ff)]
            gap_s, gap_e = true_runs(~sp)
            pauses = [(e - s) * step for s, e in zip(gap_s, gap_e) if (e - s) * step >= min_pause_s - 1e-9]
            duration = (b - a) * step
            phonation = duration - sum(pauses)
            n_syl = int(nuclei[seg].sum())
            st = hz_to_semitones(ff)
            lv = level[seg][sp]
            rows.append({
                "speaker": str(speaker), "onset_s": t[a] - step / 2, "offset_s": t[b - 1] + step / 2,
                "duration_s": duration,
                "f0_mean_hz": float(ff.mean()) if ff.size else np.nan,
                "f0_sd_hz": float(ff.std(ddof=1)) if ff.size > 1 else np.nan,
                "f0_min_hz": float(ff.min()) if ff.size else np.nan,
                "f0_max_hz": float(ff.max()) if ff.size else np.nan,
                "f0_mean_st": float(st.mean()) if ff.size else np.nan,
                "f0_range_st": float(st.max() - st.min()) if ff.size else np.nan,
                "intensity_mean_db": float(10 * np.log10(np.mean(10 ** (lv / 10)))) if lv.size else np.nan,
                "voiced_s": ff.size * step, "n_syllables": n_syl,
                "speech_rate_syl_s": n_syl / duration if duration > 0 else np.nan,
                "articulation_rate_syl_s": n_syl / phonation if phonation > 0 else np.nan,
                "n_pauses": len(pauses), "pause_s": float(sum(pauses)),
            })
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "speaker" else float) for c in TURN_COLUMNS})
    table = pd.DataFrame(rows).sort_values(["onset_s", "speaker"], kind="stable").reset_index(drop=True)
    table["onset_s"] = table["onset_s"].clip(lower=0.0)
    prev_speaker = table["speaker"].shift(1)
    prev_offset = table["offset_s"].shift(1)
    table["latency_s"] = np.where(prev_speaker.notna() & (prev_speaker != table["speaker"]),
                                  table["onset_s"] - prev_offset, np.nan)
    table.insert(0, "turn", np.arange(1, len(table) + 1))
    return table[list(TURN_COLUMNS)]


def syllable_nuclei(
    intensity_db: np.ndarray,
    f0_hz: np.ndarray,
    speaking: np.ndarray,
    *,
    silence_db: float = -25.0,
    min_dip_db: float = 2.0,
) -> np.ndarray:
    """Frames that are syllable nuclei (de Jong & Wempe 2009).

    Parameters
    ----------
    intensity_db : ndarray, shape (n,)
        The speaker's intensity contour (NaN where not speaking).
    f0_hz : ndarray, shape (n,)
        NaN where unvoiced.
    speaking : ndarray of bool, shape (n,)
    silence_db : float, default -25
        Peaks must be above the 99th percentile of the speaker's intensity plus this.
    min_dip_db : float, default 2
        A peak must stand this much above the lowest intensity between it and the next peak.

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    n = check_array("intensity_db", intensity_db).size
    check_array("f0_hz", f0_hz, length=n)
    check_array("speaking", speaking, length=n)
    check_real("silence_db", silence_db)
    check_real("min_dip_db", min_dip_db)
    lv = np.where(speaking, np.asarray(intensity_db, float), np.nan)
    out = np.zeros(lv.size, bool)
    if not np.isfinite(lv).any():
        return out
    threshold = np.nanpercentile(lv, 99) + silence_db
    x = np.where(np.isfinite(lv), lv, -np.inf)
    peak = np.zeros(lv.size, bool)
    peak[1:-1] = (x[1:-1] > x[:-2]) & (x[1:-1] >= x[2:]) & (x[1:-1] > threshold)
    idx = np.flatnonzero(peak)
    if idx.size == 0:
        return out
    # dip between each peak and the next (or the end of the speech run)
    keep = []
    for j, i in enumerate(idx):
        end = idx[j + 1] if j + 1 < idx.size else lv.size
        seg = x[i:end]
        dip = np.min(seg) if seg.size else x[i]
        if x[i] - dip >= min_dip_db:
            keep.append(i)
    keep_arr = np.asarray(keep, dtype=np.int64)
    f0 = np.asarray(f0_hz, float)
    voiced_near = np.zeros(lv.size, bool)
    v = np.isfinite(f0)
    for d in (-2, -1, 0, 1, 2):
        voiced_near |= np.roll(v, d)
    out[keep_arr[voiced_near[keep_arr]]] = True
    return out
