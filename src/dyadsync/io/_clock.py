"""The session clock: one time zero for every stream of a media file.

Containers give each stream its own start time; a camera's remux or an MPEG-TS recording may start the video
at 1.4 s and the sound at 1.3 s. dyadsync measures every time of a file from the **earliest start time of its
audio and video streams** (FFmpeg's container start time), so a frame and a sound presented together by a player
get the same session time, and movement, voice and coded events stay aligned.
"""

from __future__ import annotations

from typing import Any


def time_origin_s(container: Any) -> float | None:
    """The file's time zero in seconds of presentation time, or None when no stream says when it starts.

    Parameters
    ----------
    container : av.container.InputContainer
        An open PyAV container.

    Returns
    -------
    float or None
        The earliest ``start_time`` of the audio and video streams (s); else the container's start time; else None
        (the reader then takes its first timestamp as zero).
    """
    starts = [
        float(s.start_time * s.time_base)
        for s in container.streams
        if s.type in ("audio", "video") and s.start_time is not None and s.time_base is not None
    ]
    if starts:
        return min(starts)
    if container.start_time is not None:
        return container.start_time / 1_000_000
    return None
