"""Video decoding with PyAV: true frame timestamps, optional analysis rate, clear errors for bad files.

PyAV's wheel carries FFmpeg, so no system ffmpeg is needed. Frames stream one at a time: memory does not grow
with the length of the video.
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._parallel import max_threads
from ..errors import DyadsyncWarning, VideoError
from ._clock import time_origin_s

#: Fraction of the frames announced by the container that must be decoded before a file counts as complete.
COMPLETE_FRACTION = 0.98

#: Relative spread of frame intervals above which a video is reported as variable frame rate.
VFR_TOLERANCE = 0.25

_FRAME_PROGRESS: contextvars.ContextVar[Callable[[float], None] | None] = contextvars.ContextVar(
    "dyadsync_frame_progress", default=None
)


@contextlib.contextmanager
def frame_progress(callback: Callable[[float], None]) -> Iterator[None]:
    """Within the block, :func:`iter_frames` reports its progress (fraction 0-1 of the announced frames).

    Used by the batch runner to show how far each session's current stage has come.
    """
    token = _FRAME_PROGRESS.set(callback)
    try:
        yield
    finally:
        _FRAME_PROGRESS.reset(token)


@dataclass(frozen=True)
class AudioStreamInfo:
    """One audio stream of a media file."""

    index: int
    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video file, read without decoding it.

    Attributes
    ----------
    path : Path
    width, height : int
        Frame size in pixels.
    fps : float
        Average frame rate in frames per second (the container's value; see ``vfr`` in the decoded frames' info).
    n_frames : int or None
        Number of frames announced by the container, if it says.
    duration_s : float or None
        Duration of the video stream in seconds, if known.
    codec : str
        Video codec name.
    audio : list of AudioStreamInfo
        Audio streams (empty when the file has none).
    """

    path: Path
    width: int
    height: int
    fps: float
    n_frames: int | None
    duration_s: float | None
    codec: str
    audio: list[AudioStreamInfo] = field(default_factory=list)

    @property
    def has_audio(self) -> bool:
        """True when the file has at least one audio stream."""
        return bool(self.audio)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form for run records (JSON)."""
        return {
            "path": str(self.path),
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "duration_s": self.duration_s,
            "codec": self.codec,
            "audio": [a.__dict__ for a in self.audio],
        }


@dataclass
class DecodeStats:
    """Filled in while frames are decoded: how many, at which times, and whether the rate was constant."""

    n_decoded: int = 0
    n_yielded: int = 0
    first_time_s: float | None = None
    last_time_s: float | None = None
    min_interval_s: float = np.inf
    max_interval_s: float = 0.0
    n_nonmonotonic: int = 0

    @property
    def vfr(self) -> bool:
        """True when frame intervals vary by more than :data:`VFR_TOLERANCE` of the shortest one."""
        if self.n_decoded < 3 or not np.isfinite(self.min_interval_s):
            return False
        return bool(self.max_interval_s > (1 + VFR_TOLERANCE) * self.min_interval_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_decoded": self.n_decoded,
            "n_yielded": self.n_yielded,
            "first_time_s": self.first_time_s,
            "last_time_s": self.last_time_s,
            "min_interval_s": None if not np.isfinite(self.min_interval_s) else self.min_interval_s,
            "max_interval_s": self.max_interval_s,
            "vfr": self.vfr,
        }


def _open(path: Path) -> Any:
    import av

    if not path.exists():
        raise VideoError(path, "file not found")
    if path.is_dir():
        raise VideoError(path, "is a directory, not a video file")
    try:
        return av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(
            path,
            f"cannot be opened as a video ({exc.strerror or exc}); the file may be truncated (an MP4 whose index "
            "was never written), corrupt, or not a video",
        ) from None


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's size, frame rate, duration and audio streams without decoding frames.

    Parameters
    ----------
    path : str or Path
        Video file (any container and codec FFmpeg reads).

    Returns
    -------
    VideoInfo

    Raises
    ------
    VideoError
        When the file is missing, cannot be opened, or has no video stream.
    """
    path = Path(path)
    with _open(path) as container:
        if not container.streams.video:
            raise VideoError(path, "has no video stream")
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        if not rate:
            raise VideoError(path, "the container gives no frame rate for the video stream")
        duration = None
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        audio = []
        for a in container.streams.audio:
            a_dur = float(a.duration * a.time_base) if a.duration is not None and a.time_base else None
            audio.append(
                AudioStreamInfo(
                    index=a.index,
                    codec=a.codec_context.name,
                    sample_rate=int(a.codec_context.sample_rate or 0),
                    channels=int(a.codec_context.channels or 0),
                    duration_s=a_dur,
                )
            )
        return VideoInfo(
            path=path,
            width=int(vs.codec_context.width),
            height=int(vs.codec_context.height),
            fps=float(rate),
            n_frames=int(vs.frames) if vs.frames else None,
            duration_s=duration,
            codec=vs.codec_context.name,
            audio=audio,
        )


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes
    ----------
    index : int
        Position of the frame among all decoded frames (0-based), whatever the analysis rate.
    time_s : float
        Presentation time in seconds from the file's time zero, the earliest start of its audio and video streams
        (see :mod:`dyadsync.io._clock`): the video may start later than 0 when its sound starts first.
    image : ndarray
        ``(height, width)`` uint8 luma (grey) image, or ``(height, width, 3)`` uint8 RGB when ``color=True``.
    """

    index: int
    time_s: float
    image: np.ndarray


def iter_frames(
    path: str | Path,
    *,
    color: bool = False,
    rate_hz: float | None = None,
    stats: DecodeStats | None = None,
    check_complete: bool = True,
) -> Iterator[Frame]:
    """Decode a video frame by frame, yielding grey (luma) or RGB images at their true timestamps.

    Parameters
    ----------
    path : str or Path
        Video file.
    color : bool, default False
        False gives the luma plane (grey levels 0-255 as coded in the file, no conversion); True gives RGB.
    rate_hz : float or None, default None
        Analysis rate in frames per second. None yields every frame. Otherwise every frame is still decoded (the
        codec needs them), but only the first frame at or after each tick of a ``1 / rate_hz`` grid is converted
        and yielded; the yielded times are the frames' true timestamps, not the grid.
    stats : DecodeStats or None
        Filled in as frames are decoded (count, first and last time, frame interval range, variable frame rate).
    check_complete : bool, default True
        Raise :class:`VideoError` at the end when fewer frames were decoded than the container announced (a
        truncated file).

    Yields
    ------
    Frame

    Raises
    ------
    VideoError
        When the file cannot be opened, decoding fails part-way (corrupt data) or the file is truncated.
    """
    import av

    path = Path(path)
    stats = stats if stats is not None else DecodeStats()
    container = _open(path)
    try:
        if not container.streams.video:
            raise VideoError(path, "has no video stream")
        stream = container.streams.video[0]
        threads = max_threads()
        if threads > 1:
            stream.thread_type = "AUTO"
            stream.thread_count = threads
        announced = int(stream.frames) if stream.frames else None
        time_base = stream.time_base
        origin = time_origin_s(container)
        step = None if rate_hz is None else 1.0 / float(rate_hz)
        next_tick = 0.0
        prev_time: float | None = None
        report = _FRAME_PROGRESS.get()
        try:
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                if origin is None:
                    origin = float(frame.pts * time_base)
                t = float(frame.pts * time_base) - origin
                index = stats.n_decoded
                stats.n_decoded += 1
                if report is not None and announced and index % 50 == 0:
                    report(min(1.0, index / announced))
                if stats.first_time_s is None:
                    stats.first_time_s = t
                if prev_time is not None:
                    dt = t - prev_time
                    if dt <= 0:
                        stats.n_nonmonotonic += 1
                    else:
                        stats.min_interval_s = min(stats.min_interval_s, dt)
                        stats.max_interval_s = max(stats.max_interval_s, dt)
                prev_time = t
                stats.last_time_s = t
                if step is not None:
                    if t + 1e-9 < next_tick:
                        continue
                    next_tick = (np.floor(t / step + 1e-9) + 1) * step
                stats.n_yielded += 1
                yield Frame(index=index, time_s=t, image=_to_array(frame, color))
        except av.error.FFmpegError as exc:
            at = f"after {stats.last_time_s:.2f} s" if stats.last_time_s is not None else "at the first frame"
            raise VideoError(path, f"decoding failed {at} ({exc.strerror or exc}): the file is corrupt") from None
        if check_complete and announced and stats.n_decoded < COMPLETE_FRACTION * announced:
            got = f"{stats.last_time_s:.2f} s" if stats.last_time_s is not None else "0 s"
            raise VideoError(
                path,
                f"truncated: the container announces {announced} frames but only {stats.n_decoded} could be "
                f"decoded (video stops at {got}); re-export or re-copy the file",
            )
        if stats.n_decoded == 0:
            raise VideoError(path, "no frame could be decoded")
        if stats.vfr:
            warnings.warn(
                f"{path}: variable frame rate (frame intervals from {stats.min_interval_s * 1000:.1f} to "
                f"{stats.max_interval_s * 1000:.1f} ms); values are kept at their true timestamps and put on a "
                "regular grid before synchrony",
                DyadsyncWarning,
                stacklevel=2,
            )
    finally:
        container.close()


def _to_array(frame: Any, color: bool) -> np.ndarray:
    if color:
        return frame.to_ndarray(format="rgb24")
    fmt = frame.format.name
    if fmt.startswith(("yuv", "yuvj", "nv12", "nv21", "gray")) and not fmt.startswith("yuva"):
        # The first plane of these formats is luma: take it as it is, without a colour conversion.
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8)
        bytes_per_px = 2 if ("10" in fmt or "12" in fmt or "16" in fmt) else 1
        if bytes_per_px == 1:
            return buf.reshape(frame.height, plane.line_size)[:, : frame.width].copy()
    return frame.to_ndarray(format="gray")
