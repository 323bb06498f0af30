"""The voice stage in pipelines and the `dyadsync voice` command, including bad inputs."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SAMPLE, moving_blocks
from dyadsync.cli import main
from dyadsync.pipeline import run_session
from dyadsync.pipeline.config import config_from_dict, load_pipeline


def _moving_video(make_video, name, audio=None):
    frames = moving_blocks(250)
    return make_video(name, frames, audio=audio)


@pytest.mark.parametrize("audio", [None, "silent"])
def test_voice_failure_leaves_movement_stages_running(make_video, tmp_path, audio):
    sound = None if audio is None else np.zeros((2, 16000 * 10), np.float32)
    video = _moving_video(make_video, "session.mkv", sound)
    config = config_from_dict({"pipeline": {"stages": ["motion", "voice", "synchrony", "report"]},
                               "synchrony": {"window_s": 4, "step_s": 0.4, "max_lag_s": 1}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_session(video, tmp_path / "out", pipeline=config)
    messages = [str(w.message) for w in caught]
    assert any("voice stage skipped" in m and "session.mkv" in m for m in messages), messages
    assert (tmp_path / "out" / "synchrony.parquet").exists() and (tmp_path / "out" / "report.html").exists()
    assert set(result.synchrony["feature"].astype(str)) == {"motion_energy"}
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert "failed" in record["features"]["voice"] and "session.mkv" in record["features"]["voice"]["failed"]
    assert any("voice stage skipped" in w for w in record["warnings"])


def test_voice_only_pipeline_fails_clearly_without_audio(make_video, tmp_path):
    video = _moving_video(make_video, "no_sound.mkv")
    from dyadsync.errors import NoAudioError

    with pytest.raises(NoAudioError, match="no_sound.mkv: has no audio stream"):
        run_session(video, tmp_path / "out", pipeline=ROOT / "pipelines" / "vocal.toml")


def test_vocal_pipeline_on_the_sample(tmp_path):
    result = run_session(SAMPLE / "dyad_session.mp4", tmp_path / "out", codes=SAMPLE / "moments_of_meeting.csv",
                         pipeline=ROOT / "pipelines" / "vocal.toml")
    tests = result.moment_tests
    event_locked = tests[tests["analysis"] == "event_locked"].set_index("feature")
    assert event_locked.loc["f0_proximity", "p_value"] < 0.05
    feats = set(result.features["feature"].astype(str))
    assert {"f0_hz", "f0_st", "intensity_db", "voiced", "speaking"} <= feats
    assert "Levitan" in (tmp_path / "out" / "report.html").read_text()


def test_vocal_toml_is_valid_and_documented():
    config = load_pipeline(ROOT / "pipelines" / "vocal.toml")
    assert "voice" in config.pipeline.stages and config.voice.speakers == "channels"
    assert load_pipeline(None).pipeline.stages == ["motion", "synchrony", "moments", "report"]


def test_cli_voice_writes_prosody_and_turns(tmp_path, capsys):
    assert main(["voice", str(SAMPLE / "dyad_session.mp4"), "--out", str(tmp_path), "-q"]) == 0
    prosody = pd.read_parquet(tmp_path / "prosody.parquet")
    assert {"time_s", "speaker", "f0_hz", "intensity_db", "voiced"} <= set(prosody.columns)
    turns = pd.read_csv(tmp_path / "turns.csv")
    # every planted turn is found, with its speaker, onset and mean f0 (the sample is two channels, one per person)
    planted = pd.read_csv(SAMPLE / "planted_turns.csv")
    assert len(turns) == len(planted) == 24
    assert (turns["speaker"] == planted["speaker"]).all()
    np.testing.assert_allclose(turns["onset_s"], planted["onset_s"], atol=0.05)
    np.testing.assert_allclose(turns["f0_mean_hz"], planted["f0_mean_hz"], rtol=0.05)
    record = json.loads((tmp_path / "voice.json").read_text())
    assert record["speakers"]["method"] == "channels" and record["audio"]["duration_s"] == pytest.approx(120, abs=0.1)
    assert record["n_turns"] == planted["speaker"].value_counts().to_dict()
    codebook = (ROOT / "docs" / "codebook.md").read_text()
    section = codebook.split("## voice.json", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{key}`" in section for key in record), [k for k in record if f"`{k}`" not in section]


def test_cli_voice_mono_with_channels_is_a_clear_error(shared_data, tmp_path, capsys):
    code = main(["voice", str(shared_data / "media" / "ami_dev00_2spk.wav"), "--speakers", "channels",
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "ami_dev00_2spk.wav" in err and "mono" in err and "--speakers auto" in err


def test_codebook_documents_voice_outputs(tmp_path):
    import re

    from dyadsync.features.voice import FEATURES, PROSODY_COLUMNS, TURN_COLUMNS

    codebook = (ROOT / "docs" / "codebook.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", codebook))
    assert "## prosody.parquet" in codebook and "## turns.csv" in codebook
    assert set(PROSODY_COLUMNS) | set(TURN_COLUMNS) | set(FEATURES) <= documented
    for name in ("f0_proximity", "f0_convergence", "f0_synchrony", "arousal_wcc"):
        assert name in documented
