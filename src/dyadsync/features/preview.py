"""ROI preview: one annotated frame showing each person's ROI, pose skeleton and head region.

This is the only output of dyadsync that ever contains a video frame, and it is written only on request: use it
to check the ROIs of a new camera set-up before a batch run. The head region drawn is the one the face extractor
would use (same pose model, same rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validate import check_path, check_positive, check_real
from ..errors import ConfigError
from ._mediapipe import HEAD_VISIBILITY, landmarks_px, quiet_mediapipe, silenced_stderr
from .persons import ROI, head_region, resolve_rois


def roi_preview(
    video: str | Path,
    out: str | Path,
    *,
    rois: Sequence[ROI] | None = None,
    time_s: float | None = None,
    head_scale: float = 2.0,
) -> dict[str, Any]:
    """Write one annotated frame (PNG) showing each person's ROI, pose skeleton and head region.

    Parameters
    ----------
    video : str or Path
        Session video.
    out : str or Path
        PNG file to write (atomically).
    rois : sequence of ROI or None
        The persons' regions; None gives the left and right halves.
    time_s : float or None
        Time of the frame in seconds; None takes the middle of the video.
    head_scale : float, default 2
        Side of the drawn head regions in head widths (as the face stage's ``head_scale``).

    Returns
    -------
    dict
        ``time_s`` of the frame drawn, and per person the ROI box and head region in pixels (None: no pose).

    Raises
    ------
    VideoError
        For an unreadable video.
    ConfigError
        For ROIs outside the frame or a time outside the video.
    """
    import cv2

    from ..io.store import atomic_path
    from ..io.video import iter_frames, probe_video

    check_path("out", out)
    check_positive("head_scale", head_scale)
    if time_s is not None:
        check_real("time_s", time_s)
    meta = probe_video(check_path("video", video))
    rois = resolve_rois(rois)
    duration = meta.duration_s or 0.0
    t = duration / 2 if time_s is None else float(time_s)
    if t < 0 or (duration and t > duration):
        raise ConfigError(f"{video}: time {t:g} s is outside the video (0-{duration:g} s)")
    frame = None
    for f in iter_frames(video, color=True, check_complete=False):
        frame = f
        if f.time_s >= t - 1e-6:
            break
    if frame is None:  # pragma: no cover - iter_frames raises for videos without frames
        raise ConfigError(f"{video}: no frame at {t:g} s")
    image, found = annotate_frame(frame.image, rois, head_scale=head_scale)
    out = Path(out)
    with atomic_path(out) as tmp:
        ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        Path(tmp).write_bytes(data.tobytes())
    return {"time_s": frame.time_s, "persons": found, "path": str(out)}


def annotate_frame(image: np.ndarray, rois: Sequence[ROI], *, head_scale: float = 2.0) -> tuple[np.ndarray, dict]:
    """Draw the persons' ROIs, their pose skeletons and head regions on a copy of one RGB frame.

    Parameters
    ----------
    image : ndarray, shape (height, width, 3), uint8
        RGB frame.
    rois : sequence of ROI
    head_scale : float, default 2
        Side of the head regions in head widths.

    Returns
    -------
    (ndarray, dict)
        The annotated image and, per person, the ROI box and head region in pixels (None when no pose).
    """
    import cv2
    import mediapipe as mp

    quiet_mediapipe()
    h, w = image.shape[:2]
    out = image.copy()
    colours = [(42, 111, 151), (196, 69, 54), (80, 150, 60), (150, 80, 160)]
    found: dict[str, Any] = {}
    with silenced_stderr(), mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        for k, roi in enumerate(rois):
            x0, y0, x1, y1 = box = roi.to_pixels(w, h)
            colour = colours[k % len(colours)]
            cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), colour, 2)
            cv2.putText(out, roi.name, (x0 + 6, y0 + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour, 2, cv2.LINE_AA)
            res = pose.process(np.ascontiguousarray(image[y0:y1, x0:x1]))
            region = None
            if res.pose_landmarks is not None:
                lm = landmarks_px(res.pose_landmarks.landmark, box)
                for a, b in mp.solutions.pose.POSE_CONNECTIONS:
                    if lm[a, 3] > 0.5 and lm[b, 3] > 0.5:
                        cv2.line(out, (int(lm[a, 0]), int(lm[a, 1])), (int(lm[b, 0]), int(lm[b, 1])), colour, 1,
                                 cv2.LINE_AA)
                region = head_region(lm, scale=head_scale, min_visibility=HEAD_VISIBILITY)
            if region is not None:
                cx, cy, side = region
                cv2.rectangle(out, (int(cx - side / 2), int(cy - side / 2)), (int(cx + side / 2), int(cy + side / 2)),
                              (240, 200, 40), 2)
                cv2.putText(out, "head", (int(cx - side / 2), max(12, int(cy - side / 2) - 4)),
                            cv2.FONT_HERSHEY_SIMPLEX, 0.45, (240, 200, 40), 1, cv2.LINE_AA)
            else:
                cv2.putText(out, "no pose found", (x0 + 6, y0 + 44), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour, 1,
                            cv2.LINE_AA)
            found[roi.name] = {"roi_px": [x0, y0, x1, y1],
                               "head_region_px": None if region is None else [round(v, 1) for v in region]}
    return out, found
