"""Bad input to the application (issue 14): pipeline files, media, output folders and manifests.

Each case runs the real command (``dyadsync run`` or ``dyadsync batch``, in-process) against a folder that already
holds a complete result, and checks that it stops with exit status 2, one ``error:`` line naming the file and the
problem, no traceback, and that every earlier file of the folder is byte-identical afterwards (a failed run adds
only its ``error.json``). The readers' own cases (codes in every format, MEA files, dial ratings) are in
tests/test_bad_inputs_io.py; together they are over a hundred.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLE, write_video
from dyadsync.cli import main

FAST = """
[moments]
n_shifts = 199
n_random = 199
tmin_s = -5
tmax_s = 5
epoch_s = 4
analyses = ["event_locked", "contrasts"]
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 20-s clip of the sample with its codes, a fast pipeline, and a finished run and batch of them."""
    from dyadsync.pipeline import run_batch, run_session
    from dyadsync.simulate.session import remux_session

    folder = tmp_path_factory.mktemp("inputs")
    clip = folder / "clip.mp4"
    remux_session(SAMPLE / "dyad_session.mp4", clip, start_s=20.0, duration_s=20.0)
    (folder / "codes.csv").write_text("onset,offset,code\n4,8,MoM\n12,15,MoM\n")
    (folder / "fast.toml").write_text(FAST)
    run = folder / "run"
    run_session(clip, run, codes=folder / "codes.csv", pipeline=folder / "fast.toml")
    (folder / "manifest.csv").write_text("id,dyad,video,codes,pipeline\ns1,d1,clip.mp4,codes.csv,fast.toml\n")
    batch = folder / "batch"
    run_batch(folder / "manifest.csv", batch, workers=1, quiet=True, progress=False)
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fails_cleanly(capsys, argv: list[str], names: list[str], says: str) -> str:
    status = main([str(a) for a in argv])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert status == 2, err
    assert len(errors) == 1, err
    assert "Traceback" not in err
    line = errors[0]
    for name in names:
        assert name in line, (name, line)
    assert says.lower() in line.lower(), (says, line)
    return line


# ------------------------------------------------------------------------------------------- pipeline files

PIPELINES = [
    # (id, file content (str, or bytes), what the message must say)
    ("invalid-toml", "[synchrony\nwindow_s = 8\n", "not valid TOML"),
    ("unknown-section", "[synchrony]\nwindow_s = 8\n[colour]\nred = 1\n", "unknown section [colour]"),
    ("unknown-key", "[synchrony]\nwindow = 8\n", "unknown key 'window'"),
    ("close-match", "[synchrony]\nwindow_ss = 8\n", "did you mean 'window_s'"),
    ("string-for-number", '[synchrony]\nwindow_s = "eight"\n', "must be a number"),
    ("bool-for-number", "[synchrony]\nwindow_s = true\n", "must be a number"),
    ("float-for-int", "[moments]\nn_shifts = 199.5\n", "whole number"),
    ("list-for-number", "[synchrony]\nwindow_s = [8]\n", "must be a number"),
    ("section-not-table", "synchrony = 3\n", "must be a table"),
    ("negative-window", "[synchrony]\nwindow_s = -8\n", "window_s > 0"),
    ("lag-longer-than-window", "[synchrony]\nwindow_s = 4\nmax_lag_s = 5\n", "max_lag_s < window_s"),
    ("zero-step", "[synchrony]\nstep_s = 0\n", "step_s > 0"),
    ("min-valid-zero", "[synchrony]\nmin_valid = 0\n", "min_valid"),
    ("bad-summary", '[synchrony]\nsummary = "median"\n', "summary must be one of"),
    ("unknown-stage", '[pipeline]\nstages = ["motion", "gaze"]\n', "stages entry"),
    ("unknown-feature", '[synchrony]\nfeatures = ["head_speed"]\n', "unknown feature 'head_speed'"),
    ("empty-features", "[synchrony]\nfeatures = []\n", "features is empty"),
    ("three-persons", '[persons]\nnames = ["a", "b", "c"]\n', "two different names"),
    ("same-persons", '[persons]\nnames = ["a", "a"]\n', "two different names"),
    ("bad-roi-units", '[persons]\nroi_units = "cm"\n', "roi_units must be one of"),
    ("bad-scale", '[preprocess]\nscale = "minmax"\n', "scale must be one of"),
    ("negative-smoothing", "[preprocess]\nsmooth_s = -1\n", "smooth_s"),
    ("bad-alternative", '[moments]\nalternative = "bigger"\n', "alternative must be one of"),
    ("too-few-shifts", "[moments]\nn_shifts = 5\n", "n_shifts must be at least 19"),
    ("epoch-without-zero", "[moments]\ntmin_s = 5\ntmax_s = 10\n", "must contain 0"),
    ("bad-test-window", "[moments]\ntest_window_s = [5, 1]\n", "test_window_s"),
    ("zero-epoch", "[moments]\nepoch_s = 0\n", "epoch_s must be > 0"),
    ("cluster-alpha", "[moments]\ncluster_alpha = 2\n", "cluster_alpha must be between 0 and 1"),
    ("unknown-analysis", '[moments]\nanalyses = ["event_locked", "granger"]\n', "analyses entry"),
    ("bad-coders", '[moments]\ncoders = "majority"\n', "coders must be one of"),
    ("negative-tolerances", "[moments]\ntolerances_s = [5, -1]\n", "tolerances_s"),
    ("bad-on-outside", '[moments]\non_outside = "ignore"\n', "on_outside must be one of"),
    ("same-channels", '[pipeline]\nstages = ["motion", "voice", "synchrony"]\n[voice]\nchannels = [0, 0]\n',
     "two different channel numbers"),
    ("floor-above-ceiling", '[pipeline]\nstages = ["motion", "voice", "synchrony"]\n[voice]\nfloor_hz = 700\n',
     "floor_hz < ceiling_hz"),
    ("pose-rate-zero", "[pose]\nrate_hz = 0\n", "rate_hz must be > 0"),
    ("bad-head-pose", '[face]\nhead_pose = "gaze"\n', "head_pose must be one of"),
    ("tiny-head-crop", "[face]\nhead_crop_px = 10\n", "head_crop_px must be at least 64"),
    ("confidence-above-one", "[pose]\nmin_detection_confidence = 1.5\n", "between 0 and 1"),
    ("background-three-values", "[motion]\nbackground = [0, 0, 10]\n", "background must be [x, y, width, height]"),
    ("binary-pipeline", b"\x89PNG\r\n\x1a\n" + bytes(300), "a PNG image"),
    ("window-longer-than-video", "[synchrony]\nwindow_s = 25\nmax_lag_s = 3\n", "longer than the video"),
    ("min-shift-no-room", "[moments]\nmin_shift_s = 15\n", "min_shift_s"),
    ("surrogate-shift-no-room", '[moments]\nanalyses = ["peaks"]\nsurrogate_min_shift_s = 15\n',
     "surrogate_min_shift_s"),
    ("roi-outside-frame", '[persons]\nroi_units = "px"\n[persons.rois]\nleft = [0, 0, 100, 100]\n'
     "right = [5000, 0, 100, 100]\n", "outside the"),
]


@pytest.mark.parametrize("case", PIPELINES, ids=[c[0] for c in PIPELINES])
def test_bad_pipeline_file(case, inputs, tmp_path, capsys):
    name, content, says = case
    pipeline = tmp_path / f"{name}.toml"
    pipeline.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "run"
    shutil.copytree(inputs / "run", out)
    before = _snapshot(out)
    _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--codes", inputs / "codes.csv", "--pipeline", pipeline,
                            "--out", out], [pipeline.name], says)
    after = _snapshot(out)
    assert {k: v for k, v in after.items() if k != "error.json"} == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le"])
def test_pipeline_files_in_other_encodings_are_read(encoding, inputs, tmp_path):
    """A pipeline saved with a byte-order mark or as UTF-16 (Windows editors) is read as what it says."""
    from dyadsync.pipeline import load_pipeline

    text = FAST + "[synchrony]\nwindow_s = 6.5\n"
    path = tmp_path / "p.toml"
    path.write_bytes(text.encode(encoding))  # "utf-16-le": no byte-order mark
    config = load_pipeline(path)
    assert config.synchrony.window_s == 6.5 and config.moments.n_shifts == 199


def test_missing_pipeline_file_and_folder(inputs, tmp_path, capsys):
    _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--pipeline", tmp_path / "nope.toml", "--out", tmp_path / "o"],
                   ["nope.toml"], "not found")
    _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--pipeline", tmp_path, "--out", tmp_path / "o"],
                   [tmp_path.name], "it is a folder")


# ---------------------------------------------------------------------------------------------------- media


def _media(kind: str, folder: Path, inputs: Path) -> tuple[Path, str]:
    """A bad media file of ``kind`` and what the message must say about it."""
    if kind == "missing":
        return folder / "missing.mp4", "not found"
    if kind == "folder":
        (folder / "video.mp4").mkdir()
        return folder / "video.mp4", ""
    if kind == "empty":
        (folder / "empty.mp4").write_bytes(b"")
        return folder / "empty.mp4", ""
    if kind == "text":
        (folder / "notes.mp4").write_text("these are my session notes, not a video\n" * 20)
        return folder / "notes.mp4", ""
    if kind == "truncated":
        (folder / "cut.mp4").write_bytes((inputs / "clip.mp4").read_bytes()[:150_000])
        return folder / "cut.mp4", ""
    if kind == "image":
        (folder / "still.mp4").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
        return folder / "still.mp4", ""
    if kind == "audio-only":
        import av

        path = folder / "sound.mp4"
        with av.open(str(path), "w") as c:
            s = c.add_stream("aac", rate=16000)
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 16000), np.float32), format="fltp", layout="mono")
            frame.sample_rate = 16000
            for p in [*s.encode(frame), *s.encode()]:
                c.mux(p)
        return path, "video"
    if kind in ("black", "grey"):
        level = 0 if kind == "black" else 128
        path = folder / f"{kind}.mkv"
        write_video(path, (np.full((120, 160), level, np.uint8) for _ in range(25 * 12)), fps=25.0)
        return path, "never changes"
    raise ValueError(kind)


MEDIA = ["missing", "folder", "empty", "text", "truncated", "image", "audio-only", "black", "grey"]


@pytest.mark.parametrize("kind", MEDIA)
def test_bad_media(kind, inputs, tmp_path, capsys):
    video, says = _media(kind, tmp_path, inputs)
    out = tmp_path / "run"
    shutil.copytree(inputs / "run", out)
    before = _snapshot(out)
    pipeline = tmp_path / "p.toml"
    pipeline.write_text("[synchrony]\nwindow_s = 4\nmax_lag_s = 1\n")
    _fails_cleanly(capsys, ["run", video, "--pipeline", pipeline, "--out", out], [video.name], says)
    after = _snapshot(out)
    assert {k: v for k, v in after.items() if k != "error.json"} == before


# ------------------------------------------------------------------------------------------- output folders


def test_out_is_a_file(inputs, tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me\n")
    _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--out", target], [target.name], "is a file")
    assert target.read_text() == "keep me\n"


def test_out_below_a_file(inputs, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--out", tmp_path / "file" / "run"], ["file"], "is a file")


def test_out_that_cannot_be_made(inputs, capsys):
    _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--out", "/proc/dyadsync-results"], ["dyadsync-results"],
                   "cannot")


def test_batch_out_is_a_file(inputs, tmp_path, capsys):
    target = tmp_path / "batch.txt"
    target.write_text("keep me\n")
    _fails_cleanly(capsys, ["batch", inputs / "manifest.csv", "--out", target], [target.name], "is a file")
    assert target.read_text() == "keep me\n"


# -------------------------------------------------------------------------------------------------- manifests

MANIFESTS = [
    # (id, file name, content, what the message must say)
    ("empty", "m.csv", "", "empty"),
    ("unknown-column", "m.csv", "id,video,colour\ns1,clip.mp4,red\n", "unknown column 'colour'"),
    ("no-id", "m.csv", "id,video\n,clip.mp4\n", "no session id"),
    ("duplicate-id", "m.csv", "id,video\ns1,clip.mp4\ns1,clip.mp4\n", "duplicate session id"),
    ("id-with-slash", "m.csv", "id,video\na/b,clip.mp4\n", "cannot name a folder"),
    ("missing-video", "m.csv", "id,video\ns1,gone.mp4\n", "gone.mp4 not found"),
    ("no-video", "m.csv", "id,video\ns1,\n", "has no video"),
    ("missing-codes", "m.csv", "id,video,codes\ns1,clip.mp4,gone.csv\n", "codes file"),
    ("missing-audio", "m.csv", "id,video,audio\ns1,clip.mp4,gone.wav\n", "audio"),
    ("bad-session-number", "m.csv", "id,video,session_number\ns1,clip.mp4,first\n", "not a whole number"),
    ("bad-pipeline", "m.csv", "id,video,pipeline\ns1,clip.mp4,bad.toml\n", "unknown key"),
    ("too-many-cells", "m.csv", "id,video\ns1,clip.mp4,extra\n", "more cells than the header"),
    ("toml-invalid", "m.toml", "[[session]\nid = 's1'\n", "not valid TOML"),
    ("toml-unknown-table", "m.toml", "[sessions]\nid = 's1'\n", "unknown table"),
    ("toml-sessions-not-list", "m.toml", "session = 3\n", "[[session]] tables"),
    ("unknown-extension", "m.xlsx", "id,video\n", "unknown manifest format"),
    ("binary", "m.csv", b"PK\x03\x04" + bytes(300), "ZIP archive"),
]


@pytest.mark.parametrize("case", MANIFESTS, ids=[c[0] for c in MANIFESTS])
def test_bad_manifest(case, inputs, tmp_path, capsys):
    name, fname, content, says = case
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(inputs / "clip.mp4", folder / "clip.mp4")
    (folder / "bad.toml").write_text("[synchrony]\nwindow = 3\n")
    manifest = folder / fname
    manifest.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "batch"
    shutil.copytree(inputs / "batch", out)
    before = _snapshot(out)
    _fails_cleanly(capsys, ["batch", manifest, "--out", out, "--quiet"], [fname], says)
    assert _snapshot(out) == before


def test_missing_manifest(tmp_path, capsys):
    _fails_cleanly(capsys, ["batch", tmp_path / "nope.csv", "--out", tmp_path / "b"], ["nope.csv"], "not found")


@pytest.mark.parametrize("option", [["--workers", "0"], ["--workers", "-2"], ["--dask-local", "0"]])
def test_bad_engine_options(option, inputs, tmp_path, capsys):
    out = tmp_path / "batch"
    shutil.copytree(inputs / "batch", out)
    before = _snapshot(out)
    _fails_cleanly(capsys, ["batch", inputs / "manifest.csv", "--out", out, *option], [option[0]],
                   "whole number of at least 1")
    assert _snapshot(out) == before


def test_count_of_cases():
    """The issue asks for at least 100 bad-input cases over media, codes, pipelines, manifests, MEA files and output
    folders: these with the readers' cases."""
    import test_bad_inputs_io as io_cases

    readers = len(io_cases.CASES)
    here = len(PIPELINES) + 3 + 1 + len(MEDIA) + 4 + len(MANIFESTS) + 1 + 3
    assert readers + here >= 100, (readers, here)


def test_every_problem_before_any_decoding_at_once(inputs, tmp_path, capsys):
    """A pipeline that does not fit the video and codes past its end: both named in the one error line."""
    pipeline = tmp_path / "p.toml"
    pipeline.write_text("[synchrony]\nwindow_s = 25\nmax_lag_s = 3\n")
    codes = tmp_path / "late.csv"
    codes.write_text("onset,offset,code\n4,8,MoM\n40,45,MoM\n")
    line = _fails_cleanly(capsys, ["run", inputs / "clip.mp4", "--codes", codes, "--pipeline", pipeline,
                                   "--out", tmp_path / "o"], ["p.toml", "late.csv"], "(2)")
    assert "window_s" in line and "after the end of the recording" in line
