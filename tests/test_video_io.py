from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from dyadsync.errors import DyadsyncWarning, VideoError
from dyadsync.io.video import DecodeStats, iter_frames, probe_video


def _frames(n, h=48, w=64):
    return [np.full((h, w), (i * 7) % 200 + 20, np.uint8) for i in range(n)]


def test_probe_sample(sample_video, ground_truth):
    info = probe_video(sample_video)
    v = ground_truth["video"]
    assert (info.width, info.height) == (v["width"], v["height"])
    assert info.fps == pytest.approx(v["fps"])
    assert info.n_frames == round(v["duration_s"] * v["fps"])
    assert info.has_audio and info.audio[0].channels == 2
    assert info.audio[0].sample_rate == ground_truth["audio"]["sample_rate"]


def test_frames_come_with_true_timestamps(make_video):
    path = make_video("cfr.mkv", _frames(30), fps=25)
    stats = DecodeStats()
    frames = list(iter_frames(path, stats=stats))
    assert [f.index for f in frames] == list(range(30))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(30) / 25, atol=1e-9)
    # lossless grey: the luma plane is exactly what was written
    assert all(f.image[0, 0] == (f.index * 7) % 200 + 20 for f in frames)
    assert not stats.vfr and stats.n_decoded == 30


def test_analysis_rate_keeps_true_times(make_video):
    path = make_video("cfr.mkv", _frames(50), fps=25)
    frames = list(iter_frames(path, rate_hz=10))
    times = np.array([f.time_s for f in frames])
    # every yielded time is a real frame time (multiple of 1/25) and they are about 0.1 s apart
    np.testing.assert_allclose(times * 25, np.round(times * 25), atol=1e-6)
    assert len(frames) == 20
    assert np.all(np.abs(np.diff(times) - 0.1) <= 0.04 + 1e-9)


def test_variable_frame_rate_is_reported(make_video):
    pts = np.cumsum([0] + [40] * 10 + [80] * 10)  # ms: 25 fps, then 12.5 fps
    path = make_video("vfr.mkv", _frames(len(pts)), pts=pts, time_base=Fraction(1, 1000))
    stats = DecodeStats()
    with pytest.warns(DyadsyncWarning, match="variable frame rate"):
        frames = list(iter_frames(path, stats=stats))
    assert stats.vfr
    np.testing.assert_allclose([f.time_s for f in frames], pts / 1000, atol=1e-6)


def test_truncated_faststart_video_names_file_and_problem(sample_video, tmp_path):
    data = sample_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError, match="truncated") as err:
        for _ in iter_frames(cut):
            pass
    assert "cut.mp4" in str(err.value)


def test_truncated_video_without_index_cannot_be_opened(make_video, tmp_path):
    path = make_video("plain.mp4", [np.zeros((48, 64, 3), np.uint8)] * 20, codec="libx264", pix_fmt="yuv420p")
    cut = tmp_path / "plain_cut.mp4"
    cut.write_bytes(path.read_bytes()[:-200])  # the index (moov) is at the end: now gone
    with pytest.raises(VideoError, match="truncated|corrupt") as err:
        probe_video(cut)
    assert "plain_cut.mp4" in str(err.value)


def test_not_a_video(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("these are session notes, not a video")
    with pytest.raises(VideoError, match="notes.mp4"):
        probe_video(bad)
    with pytest.raises(VideoError, match="not found"):
        probe_video(tmp_path / "missing.mp4")


def test_video_without_audio(make_video):
    info = probe_video(make_video("silent.mkv", _frames(5)))
    assert not info.has_audio and info.audio == []


def test_video_with_audio_track(make_video):
    audio = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)[None].repeat(2, 0)
    info = probe_video(make_video("talk.mkv", _frames(25), audio=audio))
    assert info.has_audio and info.audio[0].channels == 2


@pytest.mark.parametrize("delay", [{"video": 1.0}, {"video": 1.0, "audio": 1.0}, {"audio": 0.5}])
def test_video_and_sound_share_one_time_zero(sample_video, tmp_path, delay):
    """Streams that start at different times keep their offset: zero is the earliest stream start of the file."""
    from dyadsync.io.audio import read_audio
    from dyadsync.simulate.session import remux_session

    clip = remux_session(sample_video, tmp_path / "offset.mp4", duration_s=6.0, delay_s=delay)
    zero = min(delay.get("video", 0.0), delay.get("audio", 0.0))
    first = next(iter_frames(clip))
    sound = read_audio(clip)
    assert first.time_s == pytest.approx(delay.get("video", 0.0) - zero, abs=0.002)
    assert sound.start_s == pytest.approx(delay.get("audio", 0.0) - zero, abs=0.002)
    # The picture's content did not move: the same frame is shown, only later on the clock.
    plain = next(iter_frames(remux_session(sample_video, tmp_path / "plain.mp4", duration_s=6.0)))
    assert np.array_equal(first.image, plain.image)
