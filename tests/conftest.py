"""Shared fixtures: paths to the sample and to ../shared/data, and small videos made with known content."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_video() -> Path:
    return SAMPLE / "dyad_session.mp4"


@pytest.fixture(scope="session")
def ground_truth() -> dict:
    return json.loads((SAMPLE / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not beside this clone (real recordings for tests live there)")
    return SHARED


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, sample_video):
    """The body_mea pipeline run once on the sample, shared by the end-to-end tests."""
    from dyadsync.pipeline import run_session

    out = tmp_path_factory.mktemp("sample_run")
    return run_session(sample_video, out, codes=SAMPLE / "moments_of_meeting.csv",
                       pipeline=ROOT / "pipelines" / "body_mea.toml")


@pytest.fixture(scope="session")
def multimodal_run(tmp_path_factory, sample_video):
    """The multimodal pipeline (motion, MediaPipe pose and face) run once on the sample, shared by the tests."""
    from dyadsync.pipeline import run_session

    out = tmp_path_factory.mktemp("multimodal_run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_session(sample_video, out, codes=SAMPLE / "moments_of_meeting.csv",
                           pipeline=ROOT / "pipelines" / "multimodal.toml")


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    *,
    fps: float = 25.0,
    codec: str = "ffv1",
    pix_fmt: str = "gray",
    pts: Iterable[int] | None = None,
    time_base: Fraction | None = None,
    audio: np.ndarray | None = None,
    audio_rate: int = 16000,
    options: dict[str, str] | None = None,
) -> Path:
    """Write frames (2-D grey or 3-D RGB uint8) to a video; ``ffv1``/``gray`` is lossless, so pixel values survive.

    ``pts`` with ``time_base`` gives explicit (e.g. variable) timestamps.
    """
    import av

    frames = list(frames)
    container = av.open(str(path), mode="w", options=options or {})
    stream = container.add_stream(codec, rate=Fraction(str(fps)).limit_denominator(1001))
    h, w = frames[0].shape[:2]
    stream.width, stream.height, stream.pix_fmt = w, h, pix_fmt
    if time_base is not None:
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
    astream = None
    if audio is not None:
        astream = container.add_stream("aac", rate=audio_rate)
        astream.layout = "stereo" if audio.shape[0] == 2 else "mono"
    pts_list = list(pts) if pts is not None else list(range(len(frames)))
    for img, p in zip(frames, pts_list):
        fmt = "gray" if img.ndim == 2 else "rgb24"
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format=fmt)
        vf.pts = p
        if time_base is not None:
            vf.time_base = time_base
        for packet in stream.encode(vf):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    if astream is not None:
        block = 1024
        for i in range(0, audio.shape[1] - block + 1, block):
            af = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(audio[:, i : i + block].astype(np.float32)), format="fltp", layout=astream.layout.name
            )
            af.sample_rate = audio_rate
            af.pts = i
            for packet in astream.encode(af):
                container.mux(packet)
        for packet in astream.encode(None):
            container.mux(packet)
    container.close()
    return path


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_video(name, frames, **kwargs)`` writes a video into the test's temporary folder."""

    def make(name: str, frames: Iterable[np.ndarray], **kwargs: object) -> Path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return write_video(tmp_path / name, frames, **kwargs)

    return make


def textured_background(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A static grey image with sharp-edged rectangles (texture against which camera motion shows)."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w), 110, np.uint8)
    for _ in range(40):
        y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
        img[y : y + rng.integers(4, 20), x : x + rng.integers(4, 20)] = rng.integers(20, 240)
    return img


def moving_blocks(n: int) -> list[np.ndarray]:
    """``n`` small grey frames (48 x 64) in which a bright block (left) and a dark one (right) sway independently."""
    bg = textured_background(48, 64)
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        img = bg.copy()
        x = 10 + int(5 * np.sin(i / 7)) + rng.integers(0, 2)
        img[10:30, x : x + 8] = 250
        y = 40 + int(5 * np.sin(i / 5 + 1))
        img[10:30, y : y + 8] = 20
        frames.append(img)
    return frames
