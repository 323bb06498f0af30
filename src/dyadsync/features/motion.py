"""Motion Energy Analysis (MEA): changed pixels per person, frame by frame.

Method (Ramseyer & Tschacher 2011; Ramseyer 2020): each frame is compared with the one before in grey scale; a
pixel counts as moving when its grey level changed by more than a noise threshold; a person's motion energy is
the number of moving pixels in that person's region of interest (ROI). With a static camera, everything that
changes is movement, except camera motion and lighting changes, which are flagged as artefacts (and masked
before synchrony by the pipeline's default):

* lighting: the mean grey level of the frame jumps, or a large share of all pixels changes at once;
* camera motion: the *sentinel* pixels change together. Sentinels are pixels with visible texture (edges of
  furniture, pictures, door frames) that have rarely changed over the last ``quiet_s`` seconds: the static
  background. A person moving does not touch them; the camera moving shifts all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_path, check_positive
from ..errors import ConfigError
from ..io.tables import SCENE, long_table
from ..io.video import DecodeStats, iter_frames, probe_video
from ._output import video_info
from .persons import ROI, resolve_rois

#: Per-person features of this extractor.
FEATURES = ("motion_energy", "motion_energy_pct")

#: Default noise threshold in grey levels (0-255): a change must exceed it for a pixel to count as moving.
DEFAULT_THRESHOLD = 10
#: Default share of all pixels (percent) that must change at once for a frame to be flagged as an artefact.
DEFAULT_ARTEFACT_PCT = 50.0
#: Default share of the sentinel (static, textured background) pixels that must change for camera motion.
DEFAULT_CAMERA_PCT = 25.0
#: Sentinel pixels: gradient magnitude (grey levels per pixel) above this counts as texture.
SENTINEL_GRADIENT = 24.0
#: Sentinel pixels: changed in at most this share of recent frames.
SENTINEL_QUIET = 0.02
#: Fewer sentinels than this share of the frame (percent) leaves camera-motion detection off for the frame.
SENTINEL_MIN_PCT = 0.2
#: Default jump of the frame's mean grey level (grey levels) flagged as a lighting change.
DEFAULT_LUMA_JUMP = 8.0


def motion_energy(
    video: str | Path,
    *,
    rois: Sequence[ROI] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    artefact_pct: float = DEFAULT_ARTEFACT_PCT,
    luma_jump: float = DEFAULT_LUMA_JUMP,
    camera_pct: float = DEFAULT_CAMERA_PCT,
    quiet_s: float = 10.0,
    background: ROI | None = None,
    background_pct: float = 20.0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Motion energy of each person in a video, one value per frame at the frame's true timestamp.

    Parameters
    ----------
    video : str or Path
        Video file (static camera).
    rois : sequence of ROI or None
        The persons' regions, A first. None gives the left and right halves named ``left`` and ``right``.
    threshold : float, default 10
        Noise threshold in grey levels: a pixel is moving when ``|g_t - g_{t-1}| > threshold``.
    artefact_pct : float, default 50
        A frame is flagged as an artefact (lighting, a large camera move) when more than this percentage of all
        its pixels changed at once.
    luma_jump : float, default 8
        A frame is also flagged when the frame's mean grey level moved by more than this many grey levels.
    camera_pct : float, default 25
        A frame is flagged as camera motion when more than this percentage of the sentinel pixels (textured,
        and quiet over the last ``quiet_s`` seconds) changed.
    quiet_s : float, default 10
        Memory of the per-pixel change rate that decides which pixels are quiet background, in seconds.
    background : ROI or None
        Optional region that only ever shows background (a wall): a frame is also flagged when more than
        ``background_pct`` percent of it changed.
    background_pct : float, default 20
        See ``background``.

    Returns
    -------
    features : DataFrame
        Long table with columns ``time_s`` (float s), ``person``, ``feature``, ``value``. Per person:
        ``motion_energy`` (moving pixels, count) and ``motion_energy_pct`` (% of the ROI's pixels). For
        ``person == "scene"``: ``scene_changed_pct`` (% of all pixels), ``sentinel_changed_pct`` (% of the
        sentinel pixels; NaN while there are too few), ``luma_mean`` (mean grey level 0-255) and ``artefact``
        (1.0 for a flagged frame, else 0.0). The first frame has no predecessor: its motion values
        are NaN.
    info : dict
        Method, parameters, ROI boxes in pixels, the video's properties, decoding statistics (frame count, frame
        rate, variable frame rate) and the number of artefact frames.

    Raises
    ------
    VideoError
        For a missing, corrupt or truncated video.
    ConfigError
        For invalid parameters or ROIs outside the frame.

    Examples
    --------
    >>> from dyadsync.features import motion_energy
    >>> me, info = motion_energy("sample_data/dyad_session.mp4")  # doctest: +SKIP
    >>> me[me.feature == "motion_energy"].pivot(index="time_s", columns="person", values="value")  # doctest: +SKIP
    """
    import cv2

    threshold = check_positive("threshold", threshold, allow_zero=True)
    artefact_pct = check_positive("artefact_pct", artefact_pct)
    luma_jump = check_positive("luma_jump", luma_jump)
    camera_pct = check_positive("camera_pct", camera_pct)
    quiet_s = check_positive("quiet_s", quiet_s)
    check_positive("background_pct", background_pct)
    if background is not None and not isinstance(background, ROI):
        raise ConfigError(f"background must be an ROI or None, got {background!r}")
    rois = resolve_rois(rois)
    meta = probe_video(check_path("video", video))
    boxes = [r.to_pixels(meta.width, meta.height) for r in rois]
    bg_box = background.to_pixels(meta.width, meta.height) if background is not None else None
    areas = np.array([(x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in boxes], dtype=float)
    n_pixels = meta.width * meta.height

    capacity = max(16, (meta.n_frames or int((meta.duration_s or 60) * meta.fps)) + 16)
    times = np.empty(capacity)
    counts = np.empty((capacity, len(rois)))
    scene = np.empty(capacity)
    luma = np.empty(capacity)
    bg = np.empty(capacity)
    sentinel = np.empty(capacity)
    stats = DecodeStats()
    prev = diff = mask = change_rate = sentinels = None
    alpha = 1.0 / max(1.0, quiet_s * meta.fps)
    refresh = max(1, int(round(quiet_s * meta.fps / 4)))
    n = 0
    thr = int(np.floor(threshold))  # integer grey levels: diff > threshold  <=>  diff > floor(threshold)
    for frame in iter_frames(video, stats=stats):
        img = frame.image
        if n == capacity:
            capacity *= 2
            times, counts, scene, luma, bg, sentinel = (
                np.resize(a, (capacity, *a.shape[1:])) for a in (times, counts, scene, luma, bg, sentinel)
            )
        times[n] = frame.time_s
        luma[n] = cv2.mean(img)[0]
        if prev is None:
            counts[n] = scene[n] = bg[n] = sentinel[n] = np.nan
            diff = np.empty_like(img)
            mask = np.empty_like(img)
            change_rate = np.zeros(img.shape, np.float32)
        else:
            cv2.absdiff(img, prev, dst=diff)
            cv2.threshold(diff, thr, 1, cv2.THRESH_BINARY, dst=mask)
            for j, (x0, y0, x1, y1) in enumerate(boxes):
                counts[n, j] = cv2.countNonZero(mask[y0:y1, x0:x1])
            scene[n] = cv2.countNonZero(mask) * 100.0 / n_pixels
            if bg_box is not None:
                x0, y0, x1, y1 = bg_box
                bg[n] = cv2.countNonZero(mask[y0:y1, x0:x1]) * 100.0 / ((x1 - x0) * (y1 - y0))
            else:
                bg[n] = np.nan
            # Camera motion: do the quiet, textured background pixels change together?
            if n % refresh == 1 and n >= 2 * meta.fps:
                sentinels = _sentinels(img, change_rate, 1.0 - (1.0 - alpha) ** (n - 1))
            if sentinels is not None:
                sentinel[n] = cv2.mean(mask, mask=sentinels)[0] * 100.0
            else:
                sentinel[n] = np.nan
            cv2.accumulateWeighted(mask, change_rate, alpha)
        prev = img
        n += 1

    times, counts, scene, luma, bg, sentinel = (a[:n] for a in (times, counts, scene, luma, bg, sentinel))
    luma_step = np.abs(np.diff(luma, prepend=np.nan))
    with np.errstate(invalid="ignore"):
        artefact = (scene > artefact_pct) | (luma_step > luma_jump) | (bg > background_pct) | (sentinel > camera_pct)
    columns: dict[tuple[str, str], np.ndarray] = {}
    for j, roi in enumerate(rois):
        columns[(roi.name, "motion_energy")] = counts[:, j]
        columns[(roi.name, "motion_energy_pct")] = counts[:, j] * 100.0 / areas[j]
    columns[(SCENE, "scene_changed_pct")] = scene
    columns[(SCENE, "sentinel_changed_pct")] = sentinel
    columns[(SCENE, "luma_mean")] = luma
    columns[(SCENE, "artefact")] = artefact.astype(float)
    table = long_table(times, columns)
    artefact_times = times[artefact]
    parameters = {
        "threshold": threshold,
        "artefact_pct": artefact_pct,
        "luma_jump": luma_jump,
        "camera_pct": camera_pct,
        "quiet_s": quiet_s,
        "background_pct": background_pct if background is not None else None,
    }
    info = video_info("motion_energy", parameters, {r.name: list(b) for r, b in zip(rois, boxes)}, meta, stats,
                      meta.fps, regions_px={"background_px": list(bg_box) if bg_box is not None else None})
    info.update({
        "n_frames": n,
        "n_artefact_frames": int(artefact.sum()),
        "artefact_times_s": [round(float(t), 4) for t in artefact_times[:1000]],
    })
    return table, info


def _sentinels(img: np.ndarray, change_rate: np.ndarray, filled: float) -> np.ndarray | None:
    """Mask (uint8) of textured pixels that have rarely changed recently, or None when there are too few.

    ``change_rate`` is an exponential moving average started at zero; ``filled`` (the weight its memory has
    accumulated so far) corrects it for that start, so that sentinels are usable after a few seconds.
    """
    import cv2
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    textured = cv2.magnitude(gx, gy) > SENTINEL_GRADIENT * 4  # a 3x3 Sobel scales gradients by 4
    quiet = change_rate < SENTINEL_QUIET * filled
    # Keep only pixels whose neighbours are quiet too: the border of a moving person is not background.
    quiet = cv2.erode(quiet.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    mask = (textured & quiet).astype(np.uint8)
    if mask.mean() * 100.0 < SENTINEL_MIN_PCT:
        return None
    return mask
