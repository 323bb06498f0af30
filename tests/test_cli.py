"""The command line: one clear line per user error, exit status 2, nothing half-written."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from dyadsync.cli import main


def run(*args):
    return main([str(a) for a in args])


def nothing_but_the_failure_record(out):
    """A failed run writes no result: at most error.json, naming what went wrong."""
    import json

    names = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert names in ([], ["error.json"]), names
    if names:
        assert json.loads((out / "error.json").read_text())["error"]


def test_truncated_video(tmp_path, sample_video, sample_dir, capsys):
    cut = tmp_path / "session_cut.mp4"
    cut.write_bytes(sample_video.read_bytes()[:1_000_000])
    out = tmp_path / "out"
    assert run("run", cut, "--codes", sample_dir / "moments_of_meeting.csv", "--out", out, "--pipeline",
               ROOT / "pipelines" / "body_mea.toml") == 2
    err = capsys.readouterr().err
    assert "session_cut.mp4" in err and "truncated" in err
    # The codes pass validation only against the announced duration; no result was written.
    nothing_but_the_failure_record(out)


def test_events_past_the_end(tmp_path, sample_video, capsys):
    codes = tmp_path / "late_codes.csv"
    codes.write_text("onset,offset,code\n00:30,00:40,MoM\n02:30,02:45,MoM\n")
    out = tmp_path / "out"
    assert run("run", sample_video, "--codes", codes, "--out", out) == 2
    err = capsys.readouterr().err
    assert "late_codes.csv" in err and "line 3" in err and "after the end of the recording" in err
    nothing_but_the_failure_record(out)


def test_unknown_column(tmp_path, sample_video, capsys):
    codes = tmp_path / "codes.csv"
    codes.write_text("Anfang,Ende,Code\n30,40,MoM\n")
    assert run("run", sample_video, "--codes", codes, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert "codes.csv" in err and "no onset column" in err and "'Anfang'" in err


def test_unknown_pipeline_key_and_feature(tmp_path, sample_video, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[synchrony]\nwindow = 8\n")
    assert run("run", sample_video, "--out", tmp_path / "o", "--pipeline", bad) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "unknown key 'window'" in err and "window_s" in err
    bad.write_text('[synchrony]\nfeatures = ["motion_enrgy"]\n')
    assert run("run", sample_video, "--out", tmp_path / "o", "--pipeline", bad) == 2
    assert "unknown feature 'motion_enrgy' (did you mean 'motion_energy'?)" in capsys.readouterr().err


def test_video_without_audio_runs_and_says_so(tmp_path, make_video, capsys):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(25 * 12):
        img = np.full((72, 128), 90, np.uint8)
        for j, x0 in enumerate((16, 80)):
            x = x0 + int(6 * np.sin(i / (4 + j) + rng.uniform(0, 0.2)))
            img[20:60, x : x + 24] = 200
        frames.append(img)
    video = make_video("mute.mkv", frames)
    out = tmp_path / "out"
    pipeline = tmp_path / "short.toml"
    pipeline.write_text('[pipeline]\nstages = ["motion", "synchrony", "report"]\n[synchrony]\nwindow_s = 4\nmax_lag_s = 1\n')
    assert run("run", video, "--out", out, "--pipeline", pipeline) == 0
    captured = capsys.readouterr()
    assert "mute.mkv: no audio track" in captured.err
    assert (out / "report.html").is_file() and captured.out.strip().endswith("report.html")


def test_help_lists_the_run_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "run" in capsys.readouterr().out
