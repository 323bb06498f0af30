"""Audio from any media file with PyAV: the session video's own sound track, or a separate audio file.

PyAV's wheel carries FFmpeg, so any codec, sample rate and channel layout FFmpeg decodes can be read without a
system ffmpeg. Samples come back as float32 in -1..1, one row per channel, at the file's own sample rate unless
a rate is asked for explicitly (and then the resampling is recorded in :class:`Audio`).

A file with no audio stream, or whose sound is digital silence, raises :class:`~dyadsync.errors.NoAudioError`
naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import check_option, check_positive
from ..errors import NoAudioError
from ._clock import time_origin_s

#: Peak level (dB re full scale) below which a whole track counts as silent.
SILENCE_DBFS = -70.0


@dataclass(frozen=True)
class Audio:
    """Decoded sound.

    Attributes
    ----------
    samples : ndarray, shape (n_channels, n_samples), float32
        Samples in -1..1 (full scale), channel 0 first (left of a stereo layout).
    sample_rate : int
        Hz, of ``samples``.
    path : Path or None
        File it came from.
    start_s : float
        Time of the first sample in seconds from the file's time zero, the earliest start of its audio and video
        streams (see :mod:`dyadsync.io._clock`): the session's time axis, shared with the video frames.
    source_rate : int
        Sample rate in the file, Hz (differs from ``sample_rate`` only when resampling was asked for).
    layout : str
        Channel layout in the file (``mono``, ``stereo``, ``5.1``...).
    codec : str
        Audio codec in the file.
    """

    samples: np.ndarray
    sample_rate: int
    path: Path | None = None
    start_s: float = 0.0
    source_rate: int = 0
    layout: str = ""
    codec: str = ""

    @property
    def n_channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.samples.shape[1] / self.sample_rate

    def mono(self) -> np.ndarray:
        """The channels averaged into one, shape (n_samples,), float32."""
        return self.samples.mean(axis=0, dtype=np.float64).astype(np.float32)

    def as_dict(self) -> dict[str, Any]:
        """What the run record needs to know about this sound (no samples)."""
        return {
            "path": None if self.path is None else str(self.path),
            "codec": self.codec,
            "layout": self.layout,
            "channels": self.n_channels,
            "source_rate_hz": self.source_rate,
            "sample_rate_hz": self.sample_rate,
            "resampled": self.source_rate != self.sample_rate,
            "start_s": self.start_s,
            "duration_s": self.duration_s,
        }


def read_audio(
    path: str | Path,
    *,
    stream: int = 0,
    sample_rate: int | None = None,
    on_silent: str = "raise",
) -> Audio:
    """Decode the sound of a media file (video or audio) into a float32 array.

    Parameters
    ----------
    path : str or Path
        Any container FFmpeg reads: MP4/MOV/MKV/AVI video with a sound track, WAV, FLAC, MP3, M4A, OGG...
    stream : int, default 0
        Which audio stream (0 = the first) when the file has several.
    sample_rate : int or None, default None
        Resample to this rate (Hz) while decoding; None keeps the file's rate. Resampling is recorded in the
        returned :class:`Audio` (``source_rate`` vs ``sample_rate``), never done silently.
    on_silent : {"raise", "ignore"}, default "raise"
        A track whose peak stays below :data:`SILENCE_DBFS` (digital silence, a muted microphone) raises
        :class:`NoAudioError`; ``"ignore"`` returns it.

    Returns
    -------
    Audio

    Raises
    ------
    NoAudioError
        When the file is missing or unreadable, has no audio stream (or not the one asked for), no sound could be
        decoded, or the track is silent.
    """
    import av

    check_option("on_silent", on_silent, ("raise", "ignore"))
    if sample_rate is not None:
        sample_rate = int(check_positive("sample_rate", sample_rate))
    path = Path(path)
    if not path.exists():
        raise NoAudioError(path, "file not found")
    if path.is_dir():
        raise NoAudioError(path, "is a directory, not a media file")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise NoAudioError(path, f"cannot be opened as a media file ({exc.strerror or exc})") from None
    try:
        streams = list(container.streams.audio)
        if not streams:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
            raise NoAudioError(
                path,
                f"has no audio stream (it holds {kinds}); voice features need a sound track: give the session's "
                "audio as a separate file (--audio / [voice] audio) or leave the voice stage out",
            )
        if not 0 <= stream < len(streams):
            raise NoAudioError(path, f"has {len(streams)} audio stream(s); stream {stream} does not exist")
        st = streams[stream]
        cc = st.codec_context
        source_rate = int(cc.sample_rate or 0)
        layout = cc.layout.name if cc.layout is not None else ""
        n_channels = int(cc.channels or 0)
        target = sample_rate or source_rate
        resampler = av.AudioResampler(format="fltp", layout=layout or None, rate=target) if target else None
        known_s = (float(st.duration * st.time_base) if st.duration is not None and st.time_base is not None
                   else container.duration / 1e6 if container.duration else 60.0)
        chunks = _SampleBuffer(int((known_s + 1.0) * (target or 48000)))
        start_s: float | None = None
        origin = time_origin_s(container)

        def take(frames: Any) -> None:
            for f in frames:
                chunks.append(f.to_ndarray())

        try:
            for frame in container.decode(st):
                if start_s is None:
                    if frame.pts is not None and frame.time_base is not None:
                        start_s = 0.0 if origin is None else max(0.0, float(frame.pts * frame.time_base) - origin)
                    else:
                        start_s = 0.0
                    if resampler is None:
                        target = int(frame.sample_rate)
                        source_rate = source_rate or target
                        resampler = av.AudioResampler(format="fltp", layout=frame.layout.name, rate=target)
                take(resampler.resample(frame))
            if resampler is not None:
                take(resampler.resample(None))
        except av.error.FFmpegError as exc:
            done = chunks.n / max(1, target or 1)
            raise NoAudioError(
                path, f"audio decoding failed after {done:.2f} s ({exc.strerror or exc}): the file is corrupt"
            ) from None
    finally:
        container.close()
    if not chunks.n:
        raise NoAudioError(path, f"audio stream {stream} ({cc.name}) holds no decodable sound")
    samples = chunks.result()
    if n_channels and samples.shape[0] != n_channels and samples.shape[0] == 1:
        n_channels = 1
    audio = Audio(
        samples=samples,
        sample_rate=int(target),
        path=path,
        start_s=float(start_s or 0.0),
        source_rate=int(source_rate or target),
        layout=layout or f"{samples.shape[0]} channels",
        codec=str(cc.name),
    )
    if on_silent == "raise":
        check_not_silent(audio)
    return audio


class _SampleBuffer:
    """Decoded sound, collected into one preallocated float32 array (channels x samples) that grows when needed.

    Collecting thousands of small decoded frames and joining them at the end needs the sound twice over and
    leaves the process's heap fragmented (a 30-minute stereo track at 16 kHz held ~700 MB more than its 230 MB);
    sized from the stream's duration, the buffer is filled in place.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = max(capacity, 1024)
        self.data: np.ndarray | None = None
        self.n = 0

    def append(self, chunk: np.ndarray) -> None:
        if chunk.ndim == 1:
            chunk = chunk[None, :]
        if self.data is None:
            self.data = np.empty((chunk.shape[0], self.capacity), np.float32)
        k = chunk.shape[1]
        if self.n + k > self.data.shape[1]:
            grown = np.empty((self.data.shape[0], max(self.n + k, int(self.data.shape[1] * 1.5))), np.float32)
            grown[:, : self.n] = self.data[:, : self.n]
            self.data = grown
        self.data[:, self.n : self.n + k] = chunk
        self.n += k

    def result(self) -> np.ndarray:
        assert self.data is not None
        if self.n < 0.99 * self.data.shape[1]:  # far too large (unknown duration): keep only the sound
            return self.data[:, : self.n].copy()
        return self.data[:, : self.n]


def check_not_silent(audio: Audio, *, channel: int | None = None, threshold_dbfs: float = SILENCE_DBFS) -> None:
    """Raise :class:`NoAudioError` when the sound (or one channel of it) never rises above ``threshold_dbfs``.

    Parameters
    ----------
    audio : Audio
    channel : int or None
        Check only this channel; None checks all channels together.
    threshold_dbfs : float, default -70
        Peak level, dB re full scale.
    """
    x = audio.samples if channel is None else audio.samples[channel]
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 10 ** (threshold_dbfs / 20):
        level = "digital silence" if peak == 0 else f"peak {20 * np.log10(peak):.1f} dBFS"
        which = "the sound track" if channel is None else f"channel {channel} of the sound track"
        raise NoAudioError(
            audio.path,
            f"{which} is silent ({level} over {audio.duration_s:.1f} s, threshold {threshold_dbfs:.0f} dBFS): "
            "no speech to analyse; check that the right audio stream and microphone were recorded",
        )
