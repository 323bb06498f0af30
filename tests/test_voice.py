"""Voice: audio decoding, pitch against Praat and known tones, speaker attribution (DER), turns, vocal synchrony."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE
from dyadsync.errors import DyadsyncWarning, EventsError, InputError, NoAudioError
from dyadsync.features.clustering import activity_auto
from dyadsync.features.diarize import (
    SpeakerActivity,
    activity_from_events,
    activity_segments,
    assign_by_mouth,
    diarization_error_rate,
)
from dyadsync.features.pitch import intensity_track, pitch_track
from dyadsync.features.voice import PROSODY_COLUMNS, TURN_COLUMNS, analyse_voice
from dyadsync.io.audio import read_audio
from dyadsync.io.events import read_events


@pytest.fixture(scope="module")
def sample_audio():
    return read_audio(SAMPLE / "dyad_session.mp4")


@pytest.fixture(scope="module")
def sample_voice():
    return analyse_voice(SAMPLE / "dyad_session.mp4")


@pytest.fixture(scope="module")
def planted_turns():
    return pd.read_csv(SAMPLE / "planted_turns.csv")


def _rttm_segments(path, file_id=None):
    ev = read_events(path)
    if file_id is not None:
        ev = ev[ev["coder"] == file_id]
    return ev


# ------------------------------------------------------------------------------------------------- audio


def test_sample_audio_is_stereo_16k_from_the_video(sample_audio):
    assert sample_audio.samples.shape == (2, 120 * 16000)
    assert sample_audio.sample_rate == 16000 and sample_audio.layout == "stereo" and sample_audio.codec == "aac"
    assert sample_audio.start_s == 0.0


def test_any_codec_rate_and_layout(shared_data):
    mp3 = read_audio(shared_data / "media" / "pyfeat_single_face_talking.mp4")
    assert mp3.sample_rate == 44100 and mp3.n_channels == 2 and mp3.codec.startswith("mp3")
    s16 = read_audio(shared_data / "media" / "parselmouth_the_north_wind_and_the_sun.wav")
    assert s16.n_channels == 1 and s16.sample_rate == 44100
    assert np.abs(s16.samples).max() <= 1.0
    down = read_audio(shared_data / "media" / "parselmouth_the_north_wind_and_the_sun.wav", sample_rate=16000)
    assert down.sample_rate == 16000 and down.source_rate == 44100 and down.as_dict()["resampled"]
    assert abs(down.duration_s - s16.duration_s) < 0.01


def test_video_without_audio_names_the_file(make_video):
    path = make_video("silent_film.mkv", [np.zeros((16, 16), np.uint8)] * 5)
    with pytest.raises(NoAudioError, match="silent_film.mkv: has no audio stream"):
        read_audio(path)


def test_silent_track_names_the_file(make_video):
    path = make_video("muted.mkv", [np.zeros((16, 16), np.uint8)] * 25, audio=np.zeros((2, 16000), np.float32))
    with pytest.raises(NoAudioError, match="muted.mkv: the sound track is silent"):
        read_audio(path)


def test_real_silent_track(shared_data):
    with pytest.raises(NoAudioError, match="Pexels_face.mp4: the sound track is silent"):
        read_audio(shared_data / "media" / "pyfeat_WolfgangLanger_Pexels_face.mp4")


# ------------------------------------------------------------------------------------------------- pitch


@pytest.mark.parametrize("f0", [90.0, 200.0, 440.0])
def test_tone_gives_its_frequency(f0):
    sr = 16000
    t = np.arange(sr) / sr
    y = 0.5 * np.sin(2 * np.pi * f0 * t) + 0.2 * np.sin(2 * np.pi * 2 * f0 * t)
    track = pitch_track(y, sr)
    mid = track.f0_hz[5:-5]
    assert np.isfinite(mid).all()
    np.testing.assert_allclose(np.median(mid), f0, rtol=0.002)


def test_intensity_of_a_sine_is_its_power_in_db():
    sr = 16000
    y = 0.1 * np.sin(2 * np.pi * 300 * np.arange(sr) / sr)
    _, db = intensity_track(y, sr)
    np.testing.assert_allclose(db[10:-10], 10 * np.log10(0.1**2 / 2 / 4e-10), atol=0.01)


def test_long_sounds_are_tracked_block_by_block_without_seams():
    """Pitch and intensity are computed over blocks of frames (20 s and 41 s here): a tone that changes pitch and
    level across the block edges reads the planted values on both sides, and float32 input (as decoded) gives
    the float64 result."""
    from dyadsync.features.pitch import BLOCK_FRAMES

    sr = 16000
    t = np.arange(45 * sr) / sr
    change_s = BLOCK_FRAMES * 0.01 + 0.3  # inside the second pitch block
    f0 = np.where(t < change_s, 150.0, 220.0)
    amp = np.where(t < 42.0, 0.1, 0.4)  # the intensity block edge falls at ~41 s
    y = amp * np.sin(2 * np.pi * np.cumsum(f0) / sr)
    track = pitch_track(y, sr)
    times = track.times_s
    before = (times > 1.0) & (times < change_s - 0.1)
    after = (times > change_s + 0.1) & (times < 44.0) & (np.abs(times - 42.0) > 0.05)  # not at the level step
    np.testing.assert_allclose(track.f0_hz[before], 150.0, rtol=0.002)
    np.testing.assert_allclose(track.f0_hz[after], 220.0, rtol=0.002)
    _, db = intensity_track(y, sr)
    quiet, loud = (times > 1.0) & (times < 41.9), (times > 42.1) & (times < 44.0)
    np.testing.assert_allclose(db[quiet], 10 * np.log10(0.1**2 / 2 / 4e-10), atol=0.01)
    np.testing.assert_allclose(db[loud], 10 * np.log10(0.4**2 / 2 / 4e-10), atol=0.01)
    single = pitch_track(y.astype(np.float32), sr)
    np.testing.assert_allclose(single.f0_hz, pitch_track(y.astype(np.float32).astype(float), sr).f0_hz, rtol=1e-9)


def test_decoded_sound_grows_its_buffer_when_the_duration_was_underestimated():
    from dyadsync.io.audio import _SampleBuffer

    rng = np.random.default_rng(3)
    chunks = [rng.normal(size=(2, int(k))).astype(np.float32) for k in rng.integers(1, 3000, size=40)]
    buffer = _SampleBuffer(1024)  # far too small: it must grow, keeping every sample in order
    for c in chunks:
        buffer.append(c)
    np.testing.assert_array_equal(buffer.result(), np.concatenate(chunks, axis=1))


def test_silence_is_unvoiced():
    track = pitch_track(np.zeros(16000), 16000)
    assert not track.voiced.any()


@pytest.mark.shared
def test_pitch_agrees_with_praat_on_real_speech(shared_data):
    parselmouth = pytest.importorskip("parselmouth")
    for name in ("ami_dev00_2spk.wav", "pyannote_sample_2spk_phone.wav", "parselmouth_the_north_wind_and_the_sun.wav"):
        a = read_audio(shared_data / "media" / name)
        y = a.mono().astype(float)
        ref = parselmouth.Sound(y, sampling_frequency=a.sample_rate).to_pitch_ac(
            time_step=0.01, pitch_floor=75, pitch_ceiling=600)
        pf = ref.selected_array["frequency"]
        mine = pitch_track(y, a.sample_rate)
        idx = np.clip(np.round(ref.xs() / 0.01).astype(int), 0, mine.f0_hz.size - 1)
        mf = mine.f0_hz[idx]
        pv, mv = pf > 0, np.isfinite(mf)
        both = pv & mv
        gross = np.mean(np.abs(mf[both] / pf[both] - 1) > 0.2)
        vde = np.mean(pv != mv)
        assert both.sum() > 50, name
        assert gross <= 0.02, (name, gross)
        assert vde <= 0.10, (name, vde)


# ------------------------------------------------------------------------------------------ attribution


def test_channels_recover_the_planted_turns(sample_voice, planted_turns):
    der = diarization_error_rate(planted_turns, activity_segments(sample_voice.activity), collar_s=0.25)
    assert der["der"] <= 0.05, der
    assert der["mapping"] == {"left": "left", "right": "right"}
    assert sample_voice.info["speakers"]["crosstalk_leak_db"] == pytest.approx(24, abs=3)


def test_turn_table_matches_planted_turns(sample_voice, planted_turns):
    turns = sample_voice.turns
    assert list(turns.columns) == list(TURN_COLUMNS)
    assert len(turns) == len(planted_turns)
    merged = pd.merge_asof(planted_turns.sort_values("onset_s"), turns.sort_values("onset_s"), on="onset_s",
                           direction="nearest", suffixes=("_true", ""))
    assert (merged["speaker_true"] == merged["speaker"]).all()
    np.testing.assert_allclose(merged["f0_mean_hz"], merged["f0_mean_hz_true"], rtol=0.03)
    assert (merged["n_syllables"] == merged["n_syllables_true"]).mean() >= 0.9
    np.testing.assert_allclose(merged["offset_s"], merged["offset_s_true"], atol=0.05)
    # articulation rate excludes pauses: at least the planted syllable rate
    assert (merged["articulation_rate_syl_s"] >= 0.95 * merged["syllable_rate_hz"]).mean() >= 0.9
    lat = turns["latency_s"].dropna()
    assert len(lat) == len(turns) - 1 and lat.between(0.2, 1.0).all()


def test_prosody_table_shape(sample_voice):
    p = sample_voice.prosody
    assert list(p.columns) == list(PROSODY_COLUMNS)
    assert set(p["speaker"].astype(str)) == {"left", "right"}
    assert not (p["voiced"] & ~p["speaking"]).any()
    assert p.loc[~p["voiced"], "f0_hz"].isna().all()
    step = np.diff(p[p["speaker"] == "left"]["time_s"].to_numpy())
    np.testing.assert_allclose(step, 0.01, atol=1e-6)


def _auto(y, sr=16000):
    times, db = intensity_track(y, sr)
    return activity_auto(y, sr, times, intensity_db=db)


def test_auto_attribution_on_mono_sample(sample_audio, planted_turns):
    """The issue's bar: DER <= 5 % on the sample's two channels mixed to mono (measured 0.6 %)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DyadsyncWarning)  # the voices form clear turns: no reliability warning
        act = _auto(sample_audio.mono())
    der = diarization_error_rate(planted_turns, activity_segments(act))
    assert der["der"] <= 0.05, der
    assert der["mapping"] == {"spk1": "left", "spk2": "right"}  # first voice heard = spk1
    assert act.info["coherence"] > 0.6


def test_auto_attribution_on_a_fresh_conversation_with_close_pitches():
    """Held out from the tuning: another seed, both voices 200 vs 170 Hz, only the vocal tract (formants) differs."""
    from dyadsync.simulate.voice import simulate_conversation, synthesize_voices

    turns = simulate_conversation(duration_s=60.0, f0_hz=(200.0, 170.0), seed=5)
    sound = synthesize_voices(turns, duration_s=60.0, crosstalk_db=-6.0, seed=5)
    der = diarization_error_rate(turns, activity_segments(_auto(sound.mean(axis=0))))
    assert der["der"] <= 0.05, der


def test_auto_attribution_warns_when_one_voice_is_split():
    """One voice only: the two clusters alternate at random instead of forming turns, and a warning says so."""
    from dyadsync.simulate.voice import simulate_conversation, synthesize_voices

    turns = simulate_conversation(duration_s=60.0, seed=5)
    sound = synthesize_voices(turns[turns["speaker"] == "left"], duration_s=60.0, seed=5)
    with pytest.warns(DyadsyncWarning, match="do not form turns"):
        act = _auto(sound.mean(axis=0))
    assert act.info["coherence"] < 0.6


def test_auto_attribution_of_silence_and_of_a_steady_tone():
    rng = np.random.default_rng(0)
    quiet = _auto(1e-4 * rng.standard_normal(3 * 16000))
    assert not quiet.active.any() and np.isnan(quiet.info["coherence"])
    tone = np.sin(2 * np.pi * 200 * np.arange(3 * 16000) / 16000) * (np.arange(3 * 16000) >= 8000)
    with pytest.warns(DyadsyncWarning, match="do not form turns"):
        act = _auto(tone)
    assert act.active[:, 0].sum() > 200 and not act.active[:, 1].any()  # one voice: one speaker, no short flips


def test_auto_attribution_keeps_the_planted_pitch_convergence(planted_turns, ground_truth):
    """Attribution by vocal tract, not pitch: on the mono mix, every planted turn is found with its speaker (also the
    right person's turns at 205 Hz inside the episodes, near the left's 220 Hz), and the convergence is recovered."""
    from dyadsync.synchrony.entrainment import vocal_synchrony

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no video: "first voice heard is called left"
        res = analyse_voice(SAMPLE / "dyad_session.mp4", speakers="auto")
    turns = res.turns
    assert len(turns) == len(planted_turns)
    merged = pd.merge_asof(planted_turns.sort_values("onset_s"), turns.sort_values("onset_s"), on="onset_s",
                           direction="nearest", suffixes=("_true", ""))
    assert (merged["speaker_true"] == merged["speaker"]).all()
    # within 10 %: the last half second of a turn sometimes goes to the next speaker (measured at most 9 %, median 1 %)
    np.testing.assert_allclose(merged["f0_mean_hz"], merged["f0_mean_hz_true"], rtol=0.10)
    table, _ = vocal_synchrony(res.prosody, ["left", "right"], turns=turns, duration_s=120.0)
    prox = table[table["feature"] == "f0_proximity"]
    inside = np.zeros(len(prox), bool)
    for a, b in ground_truth["movement"]["episodes"]:
        inside |= prox["time_s"].between(a, b).to_numpy()
    assert prox["sync"][inside].mean() > prox["sync"][~inside].mean() + 1.0


def test_min_duration_viterbi_is_exact():
    """The decoder finds the best path with runs of at least d frames (checked against all 2^12 paths)."""
    from itertools import product

    from dyadsync._arrays import true_runs as _runs
    from dyadsync.features.clustering import viterbi_min_duration

    rng = np.random.default_rng(4)
    for d in (1, 3):
        ll = rng.normal(0, 1, (12, 2))
        pen = rng.uniform(0, 2, 12)
        best, best_path = -np.inf, None
        for bits in product((0, 1), repeat=12):
            p = np.array(bits)
            runs = np.concatenate([_runs(p == 1)[1] - _runs(p == 1)[0], _runs(p == 0)[1] - _runs(p == 0)[0]])
            if runs.min() < d:
                continue
            score = ll[np.arange(12), p].sum() - pen[1:][p[1:] != p[:-1]].sum()
            if score > best:
                best, best_path = score, p
        np.testing.assert_array_equal(viterbi_min_duration(ll, pen, d), best_path)


@pytest.mark.shared
def test_auto_attribution_on_real_meeting_speech(shared_data):
    media = shared_data / "media"
    ref = _rttm_segments(media / "pyannote_debug.development.rttm", "dev00")
    uem = [ln.split() for ln in (media / "pyannote_debug.development.uem").read_text().splitlines()]
    start, end = next((float(u[2]), float(u[3])) for u in uem if u[0] == "dev00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_voice(media / "ami_dev00_2spk.wav", speakers="auto")
    der = diarization_error_rate(ref, activity_segments(res.activity), collar_s=0.25, uem=(start, end))
    assert der["der"] <= 0.15, der  # measured 3.2 %


@pytest.mark.shared
def test_auto_attribution_on_phone_conversation(shared_data):
    """Two similar female voices on a telephone channel (measured DER 5.1 %, bar 15 %)."""
    media = shared_data / "media"
    ref = _rttm_segments(media / "pyannote_sample.rttm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyse_voice(media / "pyannote_sample_2spk_phone.wav", speakers="auto")
    der = diarization_error_rate(ref, activity_segments(res.activity))
    assert der["der"] <= 0.15, der


def test_annotation_of_turns_is_used_as_given(tmp_path, planted_turns):
    csv = tmp_path / "turns.csv"
    planted_turns.rename(columns={"speaker": "code"})[["onset_s", "offset_s", "code"]].to_csv(csv, index=False)
    res = analyse_voice(SAMPLE / "dyad_session.mp4", speakers=csv)
    assert res.info["speakers"]["method"] == "annotation"
    der = diarization_error_rate(planted_turns, activity_segments(res.activity, bridge_s=0.0))
    assert der["der"] < 0.01
    turns = res.turns.set_index("onset_s")
    np.testing.assert_allclose(turns["f0_mean_hz"].to_numpy(), planted_turns["f0_mean_hz"].to_numpy(), rtol=0.03)


def test_annotation_longer_than_audio_names_the_file(tmp_path):
    rttm = tmp_path / "other_session.rttm"
    rttm.write_text("SPEAKER s 1 1.0 2.0 <NA> <NA> left <NA> <NA>\nSPEAKER s 1 500.0 3.0 <NA> <NA> right <NA> <NA>\n")
    with pytest.raises(EventsError, match="other_session.rttm.*after the end of the audio"):
        analyse_voice(SAMPLE / "dyad_session.mp4", speakers=rttm)


def test_mono_file_with_channels_is_a_clear_error(shared_data):
    with pytest.raises(NoAudioError, match="ami_dev00_2spk.wav: has 1 audio channel.*--speakers channels"):
        analyse_voice(shared_data / "media" / "ami_dev00_2spk.wav", speakers="channels")


def test_read_events_reads_rttm(shared_data):
    ev = read_events(shared_data / "media" / "pyannote_sample.rttm")
    assert len(ev) == 10 and set(ev["code"]) == {"speaker90", "speaker91"} and (ev["scheme"] == "rttm").all()
    assert ev["onset_s"].iloc[0] == pytest.approx(6.69) and ev["offset_s"].iloc[0] == pytest.approx(7.12)


def test_events_as_turns_map_to_persons():
    t = np.arange(0, 10, 0.01)
    ev = pd.DataFrame({"onset_s": [1.0, 4.0], "offset_s": [3.0, 6.0], "code": ["T", "P"], "scheme": "", "coder": "",
                       "source": ""})
    act = activity_from_events(ev, t, ["therapist", "patient"], mapping={"T": "therapist", "P": "patient"})
    assert act.active[:, 0].sum() == 200 and act.active[:, 1].sum() == 200
    with pytest.raises(InputError, match="map to no person"):
        activity_from_events(ev, t, ["therapist", "patient"], mapping={"T": "therapist"})


# ------------------------------------------------------------------------------------------------- DER


def test_der_exact_cases():
    ref = pd.DataFrame({"onset_s": [0.0, 10.0], "offset_s": [10.0, 20.0], "speaker": ["a", "b"]})
    swapped = ref.assign(speaker=["x", "y"])
    assert diarization_error_rate(ref, swapped, collar_s=0)["der"] == pytest.approx(0)
    half = pd.DataFrame({"onset_s": [0.0], "offset_s": [10.0], "speaker": ["x"]})
    r = diarization_error_rate(ref, half, collar_s=0)
    assert r["der"] == pytest.approx(0.5, abs=1e-3) and r["missed"] == pytest.approx(0.5, abs=1e-3)
    one = pd.DataFrame({"onset_s": [0.0], "offset_s": [20.0], "speaker": ["x"]})
    assert diarization_error_rate(ref, one, collar_s=0)["confusion"] == pytest.approx(0.5, abs=1e-3)
    # the collar removes 0.25 s around each reference boundary from scoring
    late = pd.DataFrame({"onset_s": [0.2, 10.2], "offset_s": [10.0, 20.0], "speaker": ["x", "y"]})
    assert diarization_error_rate(ref, late, collar_s=0.25)["der"] == pytest.approx(0, abs=1e-3)


# ------------------------------------------------------------------------------------------------- mouth


@pytest.mark.parametrize("swap", [False, True])
def test_mouth_opening_decides_who_is_who(swap):
    rng = np.random.default_rng(3)
    t = np.arange(0, 60, 0.01)
    talk = np.zeros((t.size, 2), bool)
    for k, s in enumerate(np.arange(0, 60, 5)):
        talk[(t >= s) & (t < s + 4), k % 2] = True
    clusters = talk[:, ::-1] if swap else talk
    act = SpeakerActivity(t, ["speaker_1", "speaker_2"], clusters, "auto")
    ft = np.arange(0, 60, 1 / 25)
    rows = []
    for j, person in enumerate(["left", "right"]):
        speaking = np.interp(ft, t, talk[:, j].astype(float)) > 0.5
        mouth = 0.2 + 0.02 * rng.standard_normal(ft.size) + speaking * 0.3 * np.abs(np.sin(2 * np.pi * 4 * ft))
        rows.append(pd.DataFrame({"time_s": ft, "person": person, "feature": "mouth_opening", "value": mouth}))
    mapping, info = assign_by_mouth(act, pd.concat(rows), ["left", "right"])
    expected = {"speaker_1": "right", "speaker_2": "left"} if swap else {"speaker_1": "left", "speaker_2": "right"}
    assert mapping == expected and info["margin"] > 0.5


# --------------------------------------------------------------------------------------- vocal synchrony


def test_planted_pitch_convergence_is_recovered_in_its_episodes(sample_voice, ground_truth):
    from dyadsync.moments import event_locked_average
    from dyadsync.synchrony.entrainment import vocal_synchrony

    table, info = vocal_synchrony(sample_voice.prosody, ["left", "right"], turns=sample_voice.turns,
                                  duration_s=120.0)
    assert {"f0_proximity", "f0_convergence", "f0_synchrony", "arousal_wcc"} <= set(table["feature"])
    from dyadsync.synchrony.wcc import SYNC_COLUMNS

    assert list(table.columns) == list(SYNC_COLUMNS)  # the columns of every synchrony table, peak_sync included
    assert table.loc[table["feature"] == "arousal_wcc", "peak_lag_s"].notna().any()
    prox = table[table["feature"] == "f0_proximity"]
    episodes = np.array(ground_truth["movement"]["episodes"])
    inside = np.zeros(len(prox), bool)
    for a, b in episodes:
        inside |= prox["time_s"].between(a, b).to_numpy()
    assert prox["sync"][inside].mean() > prox["sync"][~inside].mean() + 1.0  # semitones closer inside
    res = event_locked_average(prox["time_s"].to_numpy(), prox["sync"].to_numpy(), episodes[:, 0], episodes[:, 1],
                               tmin_s=-10, tmax_s=20, n_shifts=999, seed=1)
    assert res.test["p_value"] < 0.01


def test_no_convergence_planted_gives_no_effect():
    """Null case: turns whose f0 does not depend on the episodes give no episode effect."""
    from dyadsync.moments import event_locked_average
    from dyadsync.synchrony.entrainment import entrainment_series

    rng = np.random.default_rng(11)
    onsets = np.cumsum(rng.uniform(3, 6, 60))
    turns = pd.DataFrame({"speaker": ["left", "right"] * 30, "onset_s": onsets, "offset_s": onsets + 2.5,
                          "f0_mean_st": np.where(np.arange(60) % 2 == 0, 14, 5) + rng.normal(0, 1, 60)})
    series = entrainment_series(turns, ["left", "right"], duration_s=float(onsets[-1] + 5))
    episodes = np.array([[30, 45], [80, 95], [140, 155], [200, 215]])
    res = event_locked_average(series["time_s"].to_numpy(), series["proximity"].to_numpy(), episodes[:, 0],
                               episodes[:, 1], tmin_s=-10, tmax_s=20, n_shifts=499, seed=2)
    assert res.test["p_value"] > 0.01
