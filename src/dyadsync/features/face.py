"""Face per person with MediaPipe Face Mesh: head pose, head movement and facial expressivity.

Faces are small in a two-person shot, so the Face Mesh (MediaPipe 0.10.21 ``solutions.face_mesh``, refined
landmarks) runs on a square head region derived from the person's pose (MediaPipe Pose on the person's ROI),
upscaled to ``head_crop_px`` pixels. When no pose is found, the last head region is reused for up to a second,
then the whole ROI is searched. Head pose (yaw, pitch, roll) comes from ``cv2.solvePnP`` with a generic adult
face model (:data:`dyadsync.features._mediapipe.FACE_MODEL_MM`); expressivity measures are distances between
mesh landmarks divided by the inter-ocular distance (IOD, outer eye corners, in 3-D), so that they do not depend
on the size of the face in the image.

Missing detections are NaN, never 0; gaps up to ``max_gap_s`` are interpolated, longer ones reported in the info
and as a :class:`~dyadsync.errors.DyadsyncWarning` (:mod:`dyadsync.features.tracks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_array, check_option, check_positive
from ..errors import AnalysisError, ConfigError
from ._mediapipe import (
    BLENDSHAPES,
    Pass,
    Settings,
    blendshape_feature,
    check_parameters,
    pass_features,
    run_pass,
)
from .face_geometry import FACE_COLUMNS, euler_to_rotation
from .persons import ROI, resolve_rois
from .pose import DEFAULT_MAX_GAP_S, DEFAULT_RATE_HZ, DEFAULT_WARN_GAP_S, pose_table
from .tracks import fill_short_gaps, speed

#: Per-person features of this extractor.
FEATURES = (
    "face_detected",
    "head_yaw_deg",
    "head_pitch_deg",
    "head_roll_deg",
    "head_angular_speed",
    "face_speed",
    "mouth_opening",
    "smile_width",
    "brow_raise",
    "eye_openness",
    "blink",
    "face_motion",
)

#: A frame counts as a blink when the eye openness falls below this share of the person's median openness.
BLINK_FRACTION = 0.5

_C = {name: i for i, name in enumerate(FACE_COLUMNS)}


def face_series(
    times_s: np.ndarray, rows: np.ndarray, *, max_gap_s: float = DEFAULT_MAX_GAP_S
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Face features of one person from the per-frame measurements of the MediaPipe pass.

    Parameters
    ----------
    times_s : ndarray, shape (n,)
        Frame times in seconds.
    rows : ndarray, shape (n, 11)
        Per-frame measurements in the order of :data:`dyadsync.features.face_geometry.FACE_COLUMNS`; NaN rows for
        frames without a face.
    max_gap_s : float, default 0.5
        Interior gaps up to this long are interpolated linearly.

    Returns
    -------
    series : dict of str to ndarray, shape (n,)
        See :data:`FEATURES` and ``docs/methods/pose_face.md`` for meaning and units.
    info : dict
        Median inter-ocular distance in pixels, median eye openness, interpolated frame count.
    """
    n = check_array("times_s", times_s).size
    if check_array("rows", rows, ndim=2).shape != (n, len(FACE_COLUMNS)):
        raise AnalysisError(f"rows must have shape ({n}, {len(FACE_COLUMNS)}) for {n} times, got {np.shape(rows)}")
    check_positive("max_gap_s", max_gap_s, allow_zero=True)
    times_s = np.asarray(times_s, float)
    rows = np.asarray(rows, float)
    detected = np.isfinite(rows[:, _C["yaw_deg"]])
    r = fill_short_gaps(times_s, rows, max_gap_s)
    yaw, pitch, roll = r[:, _C["yaw_deg"]], r[:, _C["pitch_deg"]], r[:, _C["roll_deg"]]
    iod = float(np.nanmedian(r[:, _C["iod_px"]])) if np.isfinite(r[:, _C["iod_px"]]).any() else float("nan")
    angular = np.full(len(times_s), np.nan)
    rots = [None if not np.isfinite([y, p, q]).all() else euler_to_rotation(y, p, q) for y, p, q in zip(yaw, pitch, roll)]
    for k in range(1, len(times_s)):
        if rots[k] is not None and rots[k - 1] is not None:
            rel = rots[k] @ rots[k - 1].T
            angle = np.degrees(np.arccos(np.clip((np.trace(rel) - 1.0) / 2.0, -1.0, 1.0)))
            angular[k] = angle / (times_s[k] - times_s[k - 1])
    dt = np.full(len(times_s), np.nan)
    dt[1:] = np.diff(times_s)
    openness = r[:, _C["eye_openness"]]
    median_open = float(np.nanmedian(openness)) if np.isfinite(openness).any() else float("nan")
    blink = np.where(np.isfinite(openness), (openness < BLINK_FRACTION * median_open).astype(float), np.nan)
    series = {
        "face_detected": detected.astype(float),
        "head_yaw_deg": yaw,
        "head_pitch_deg": pitch,
        "head_roll_deg": roll,
        "head_angular_speed": angular,
        "face_speed": speed(times_s, r[:, [_C["center_x_px"], _C["center_y_px"]]]) / iod,
        "mouth_opening": r[:, _C["mouth_opening"]],
        "smile_width": r[:, _C["smile_width"]],
        "brow_raise": r[:, _C["brow_raise"]],
        "eye_openness": openness,
        "blink": blink,
        "face_motion": r[:, _C["face_motion"]] / dt,
    }
    info = {
        "iod_px": iod,
        "eye_openness_median": median_open,
        "n_interpolated": int((np.isfinite(r[:, _C["yaw_deg"]]) & ~detected).sum()),
    }
    return series, info


def face(
    video: str | Path,
    *,
    rois: Sequence[ROI] | None = None,
    rate_hz: float | None = DEFAULT_RATE_HZ,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    warn_gap_s: float = DEFAULT_WARN_GAP_S,
    head_crop_px: int = 192,
    head_scale: float = 2.0,
    head_pose: str = "pnp",
    blendshapes_model: str | Path | None = None,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.8,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Head pose, head movement and facial expressivity of each person, with MediaPipe Face Mesh.

    Parameters
    ----------
    video : str or Path
        Video file.
    rois : sequence of ROI or None
        The persons' regions, A first. None gives the left and right halves named ``left`` and ``right``. A
        single ROI (one face) is fine.
    rate_hz : float or None, default 10
        Analysis rate in frames per second (stride decoding); None analyses every frame.
    max_gap_s : float, default 0.5
        Interior gaps up to this long (s) are interpolated linearly; longer ones stay NaN.
    warn_gap_s : float, default 1
        Stretches without a detected face at least this long are listed in the info and warned about.
    head_crop_px : int, default 192
        Side of the upscaled head region given to the Face Mesh, pixels (the mesh model's input is 192).
    head_scale : float, default 2
        Side of the head region in head widths (from the pose: ears, eyes, shoulders).
    head_pose : {"pnp", "procrustes"}, default "pnp"
        How yaw, pitch and roll are estimated: ``"pnp"`` fits the generic face model to the mesh's 2-D image
        points with ``cv2.solvePnP`` (perspective camera, focal length = the frame's larger side); ``"procrustes"``
        fits it rigidly to the mesh's 3-D landmarks, which is much less noisy in pitch and yaw when faces are
        small (see ``docs/methods/pose_face.md``).
    blendshapes_model : str, Path or None
        Path of a MediaPipe ``face_landmarker.task`` model file that you obtained yourself (never downloaded):
        adds the 52 face blendshape scores (``bs_<name>``, 0-1) from MediaPipe's FaceLandmarker, run on the same
        head region. None: no blendshapes.
    min_detection_confidence : float, default 0.5
        MediaPipe's threshold for a new detection (0-1).
    min_tracking_confidence : float, default 0.8
        MediaPipe's threshold for keeping a tracked person or face (0-1). Below about 0.8, Pose can go on
        "tracking" a person for a second or two after they left the ROI.

    Returns
    -------
    features : DataFrame
        Long table (``time_s``, ``person``, ``feature``, ``value``); per person the features in
        :data:`FEATURES`: ``face_detected`` (0/1), ``head_yaw_deg``, ``head_pitch_deg``, ``head_roll_deg``
        (degrees), ``head_angular_speed`` (degrees/s), ``face_speed`` (IOD/s), ``mouth_opening``,
        ``smile_width``, ``brow_raise`` (IOD), ``eye_openness`` (ratio), ``blink`` (0/1), ``face_motion``
        (IOD/s).
    info : dict
        Method, parameters, ROIs, decoding statistics, per-person detection rate and time ranges without
        detection, where the mesh looked (head region from the pose, or the ROI), timings per stage.

    Raises
    ------
    VideoError
        For a missing, corrupt or truncated video.
    ConfigError
        For invalid parameters or ROIs outside the frame.

    Warns
    -----
    DyadsyncWarning
        For each person with stretches of at least ``warn_gap_s`` without a detected face, naming them.

    Examples
    --------
    >>> from dyadsync.features import face
    >>> table, info = face("sample_data/dyad_session.mp4")  # doctest: +SKIP
    >>> table[table.feature == "mouth_opening"].pivot(index="time_s", columns="person", values="value")  # doctest: +SKIP
    """
    result = _face_pass(video, rois, rate_hz, max_gap_s, warn_gap_s, 0.5, head_crop_px, head_scale, head_pose,
                        blendshapes_model, min_detection_confidence, min_tracking_confidence, pose=False)
    return face_table(result, max_gap_s=max_gap_s, warn_gap_s=warn_gap_s)


def pose_and_face(
    video: str | Path,
    *,
    rois: Sequence[ROI] | None = None,
    rate_hz: float | None = DEFAULT_RATE_HZ,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    warn_gap_s: float = DEFAULT_WARN_GAP_S,
    min_visibility: float = 0.5,
    landmarks: bool = True,
    head_crop_px: int = 192,
    head_scale: float = 2.0,
    head_pose: str = "pnp",
    blendshapes_model: str | Path | None = None,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.8,
) -> tuple[tuple[pd.DataFrame, dict[str, Any]], tuple[pd.DataFrame, dict[str, Any]]]:
    """Pose and face features in one pass over the video (the face needs the pose anyway).

    Parameters are those of :func:`dyadsync.features.pose.pose` and :func:`face`.

    Returns
    -------
    (pose_features, pose_info), (face_features, face_info)
        As returned by :func:`~dyadsync.features.pose.pose` and :func:`face`.
    """
    result = _face_pass(video, rois, rate_hz, max_gap_s, warn_gap_s, min_visibility, head_crop_px, head_scale,
                        head_pose, blendshapes_model, min_detection_confidence, min_tracking_confidence, pose=True)
    pose_out = pose_table(result, max_gap_s=max_gap_s, min_visibility=min_visibility, landmarks=landmarks,
                          warn_gap_s=warn_gap_s)
    return pose_out, face_table(result, max_gap_s=max_gap_s, warn_gap_s=warn_gap_s)


def _face_pass(video: str | Path, rois: Sequence[ROI] | None, rate_hz: float | None, max_gap_s: float,
               warn_gap_s: float, min_visibility: float, head_crop_px: int, head_scale: float, head_pose: str,
               blendshapes_model: str | Path | None, det: float, track: float, *, pose: bool) -> Pass:
    """Check the parameters of :func:`face` / :func:`pose_and_face` and run the MediaPipe pass."""
    params = check_parameters(rate_hz=rate_hz, max_gap_s=max_gap_s, warn_gap_s=warn_gap_s,
                              min_visibility=min_visibility,
                              min_detection_confidence=det, min_tracking_confidence=track)
    if isinstance(head_crop_px, bool) or not isinstance(head_crop_px, (int, np.integer)) or head_crop_px < 64:
        raise ConfigError(f"head_crop_px must be a whole number of pixels >= 64, got {head_crop_px!r}")
    if isinstance(head_scale, bool) or not isinstance(head_scale, Real) or not 1.0 <= float(head_scale) <= 6.0:
        raise ConfigError(f"head_scale must be between 1 and 6 head widths, got {head_scale!r}")
    check_option("head_pose", head_pose, ("pnp", "procrustes"))
    settings = Settings(pose=pose, face=True, min_detection_confidence=det, min_tracking_confidence=track,
                        head_crop_px=int(head_crop_px), head_scale=float(head_scale), head_pose=head_pose,
                        blendshapes_model=str(blendshapes_model) if blendshapes_model else None)
    rois = resolve_rois(rois)
    return run_pass(video, rois, rate_hz=params["rate_hz"], settings=settings)


def face_table(
    result: Pass, *, max_gap_s: float = DEFAULT_MAX_GAP_S, warn_gap_s: float = DEFAULT_WARN_GAP_S
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Face feature table and info from a MediaPipe pass (see :func:`face`); warns about long detection gaps."""
    persons = {}
    for person, track in result.tracks.items():
        series, extra = face_series(track.times_s, track.face, max_gap_s=max_gap_s)
        columns = {(person, name): v for name, v in series.items()}
        if track.blendshapes is not None:
            scores = fill_short_gaps(track.times_s, track.blendshapes, max_gap_s)
            for k, name in enumerate(BLENDSHAPES):
                columns[(person, blendshape_feature(name))] = scores[:, k]
        src = track.head_source
        extra["mesh_input_pct"] = {
            "head_region_from_pose": float(np.mean(src == 1) * 100) if len(src) else float("nan"),
            "last_head_region": float(np.mean(src == 2) * 100) if len(src) else float("nan"),
            "whole_roi": float(np.mean(src == 3) * 100) if len(src) else float("nan"),
        }
        persons[person] = (columns, series["face_detected"] > 0, extra)
    s = result.settings
    parameters = {"max_gap_s": max_gap_s, "warn_gap_s": warn_gap_s, "head_crop_px": s.head_crop_px,
                  "head_scale": s.head_scale, "head_pose": s.head_pose, "blink_fraction": BLINK_FRACTION,
                  "blendshapes_model": s.blendshapes_model}
    model = ("mediapipe 0.10.21 solutions.face_mesh, refine_landmarks=True, tracking mode, on head regions from "
             "solutions.pose (model_complexity=1); head pose: "
             + ("cv2.solvePnP with a generic face model" if s.head_pose == "pnp"
                else "rigid 3-D fit of a generic face model"))
    return pass_features(result, persons, what="face", warn_gap_s=warn_gap_s, method="mediapipe_face_mesh",
                         model=model, parameters=parameters)
