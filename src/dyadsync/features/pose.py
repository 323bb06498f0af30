"""Body pose per person with MediaPipe Pose: landmarks, body-part speeds, overall body motion, trunk lean.

MediaPipe's legacy Pose (0.10.21, ``model_complexity=1``, the model inside the wheel) finds one person per image,
so it runs on each person's ROI; identity stays with the ROI (``left``/``right`` or the roles the session gives).
It runs in tracking mode without MediaPipe's own landmark smoothing (whose filter assumes 30 frames/s and would
delay the series). Speeds are normalised by the person's shoulder width (median over the video), so that persons
nearer to or farther from the camera are comparable: the unit is shoulder widths per second (SW/s).

Missing detections are NaN, never 0; gaps up to ``max_gap_s`` are interpolated, longer ones reported in the info
and as a :class:`~dyadsync.errors.DyadsyncWarning` (:mod:`dyadsync.features.tracks`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_array, check_positive, check_real
from ..errors import AnalysisError
from ._mediapipe import (
    POSE_LANDMARKS,
    Pass,
    Settings,
    check_parameters,
    pass_features,
    run_pass,
)
from .persons import ROI, resolve_rois
from .tracks import fill_short_gaps, speed

#: Per-person derived features of this extractor (landmark columns come on top when ``landmarks=True``).
FEATURES = (
    "pose_detected",
    "head_speed",
    "torso_speed",
    "left_wrist_speed",
    "right_wrist_speed",
    "body_motion",
    "trunk_lean_deg",
)

#: Landmarks averaged for ``body_motion``: nose, shoulders, elbows, wrists, hips.
BODY_LANDMARKS = ("nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
                  "right_wrist", "left_hip", "right_hip")

#: Default analysis rate, frames per second.
DEFAULT_RATE_HZ = 10.0
#: Default longest gap (s) filled by linear interpolation.
DEFAULT_MAX_GAP_S = 0.5
#: Default shortest stretch without detection (s) that is reported as a warning.
DEFAULT_WARN_GAP_S = 1.0

_I = {name: i for i, name in enumerate(POSE_LANDMARKS)}


def landmark_feature_names() -> list[str]:
    """Names of the landmark features: ``lm_<landmark>_x``, ``_y``, ``_z``, ``_visibility`` for the 33 landmarks."""
    return [f"lm_{name}_{c}" for name in POSE_LANDMARKS for c in ("x", "y", "z", "visibility")]


def pose_series(
    times_s: np.ndarray,
    landmarks: np.ndarray,
    *,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    min_visibility: float = 0.5,
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, Any]]:
    """Derived pose series of one person from per-frame landmarks.

    Parameters
    ----------
    times_s : ndarray, shape (n,)
        Frame times in seconds (may be irregular).
    landmarks : ndarray, shape (n, 33, 4)
        x, y (frame pixels), z (pixels, relative depth), visibility (0-1) per MediaPipe Pose landmark; NaN rows
        for frames without a pose.
    max_gap_s : float, default 0.5
        Interior gaps (frames without a pose) up to this long are interpolated linearly, longer ones stay NaN.
    min_visibility : float, default 0.5
        Wrist and body-motion landmarks below this visibility (in either of two consecutive frames) do not count.

    Returns
    -------
    series : dict of str to ndarray, shape (n,)
        ``pose_detected`` (0/1), ``head_speed``, ``torso_speed``, ``left_wrist_speed``, ``right_wrist_speed``,
        ``body_motion`` (all in shoulder widths per second) and ``trunk_lean_deg`` (degrees; NaN when either hip
        is less visible than ``min_visibility``, e.g. below the frame).
    filled : ndarray, shape (n, 33, 4)
        The landmarks with short gaps interpolated.
    info : dict
        ``shoulder_width_px`` (the median used for normalisation) and the number of interpolated frames.
    """
    n = check_array("times_s", times_s).size
    if check_array("landmarks", landmarks, ndim=3).shape != (n, 33, 4):
        raise AnalysisError(f"landmarks must have shape ({n}, 33, 4) for {n} times, got {np.shape(landmarks)}")
    check_positive("max_gap_s", max_gap_s, allow_zero=True)
    check_real("min_visibility", min_visibility)
    times_s = np.asarray(times_s, float)
    landmarks = np.asarray(landmarks, float)
    detected = np.isfinite(landmarks[:, 0, 0])
    lm = fill_short_gaps(times_s, landmarks, max_gap_s)
    xy, vis = lm[..., :2], lm[..., 3]
    shoulders = np.linalg.norm(xy[:, _I["left_shoulder"]] - xy[:, _I["right_shoulder"]], axis=1)
    sw = float(np.nanmedian(shoulders)) if np.isfinite(shoulders).any() else float("nan")

    def norm_speed(points: np.ndarray) -> np.ndarray:
        return speed(times_s, points) / sw

    ears = 0.5 * (xy[:, _I["left_ear"]] + xy[:, _I["right_ear"]])
    shoulder_mid = 0.5 * (xy[:, _I["left_shoulder"]] + xy[:, _I["right_shoulder"]])
    hip_mid = 0.5 * (xy[:, _I["left_hip"]] + xy[:, _I["right_hip"]])
    seen = vis >= min_visibility
    seen_both = np.zeros_like(seen)
    seen_both[1:] = seen[1:] & seen[:-1]
    wrists = {}
    for side in ("left", "right"):
        i = _I[f"{side}_wrist"]
        s = norm_speed(xy[:, i])
        s[~seen_both[:, i]] = np.nan
        wrists[side] = s
    idx = [_I[n] for n in BODY_LANDMARKS]
    parts = norm_speed(xy[:, idx])
    parts[~seen_both[:, idx]] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as they should
        body = np.nanmean(parts, axis=1)
    trunk = shoulder_mid - hip_mid
    lean = np.degrees(np.arctan2(trunk[:, 0], -trunk[:, 1]))
    hips = [_I["left_hip"], _I["right_hip"]]
    lean[~seen[:, hips].all(axis=1)] = np.nan  # hips out of the frame: MediaPipe's guess is no measurement
    series = {
        "pose_detected": detected.astype(float),
        "head_speed": norm_speed(ears),
        "torso_speed": norm_speed(shoulder_mid),
        "left_wrist_speed": wrists["left"],
        "right_wrist_speed": wrists["right"],
        "body_motion": body,
        "trunk_lean_deg": lean,
    }
    info = {
        "shoulder_width_px": sw,
        "n_interpolated": int((np.isfinite(lm[:, 0, 0]) & ~detected).sum()),
    }
    return series, lm, info


def pose(
    video: str | Path,
    *,
    rois: Sequence[ROI] | None = None,
    rate_hz: float | None = DEFAULT_RATE_HZ,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    min_visibility: float = 0.5,
    landmarks: bool = True,
    warn_gap_s: float = DEFAULT_WARN_GAP_S,
    min_detection_confidence: float = 0.5,
    min_tracking_confidence: float = 0.8,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Body pose of each person in a video at the analysis rate, with MediaPipe Pose on each person's ROI.

    Parameters
    ----------
    video : str or Path
        Video file.
    rois : sequence of ROI or None
        The persons' regions, A first; each must hold one person. None gives the left and right halves named
        ``left`` and ``right``.
    rate_hz : float or None, default 10
        Analysis rate in frames per second (stride decoding: every frame is decoded, only the first frame at or
        after each tick of a ``1 / rate_hz`` grid is analysed, at its true timestamp). None analyses every frame.
    max_gap_s : float, default 0.5
        Interior gaps up to this long (s) are interpolated linearly; longer ones stay NaN.
    min_visibility : float, default 0.5
        Landmarks less visible than this (MediaPipe's visibility, 0-1) do not count for the wrist speeds and the
        body motion.
    landmarks : bool, default True
        Also return the 33 landmarks (``lm_<name>_x``, ``_y`` in frame pixels, ``_z`` in pixels of relative
        depth, ``_visibility`` 0-1).
    warn_gap_s : float, default 1
        Stretches without a detected pose at least this long are listed in the info and warned about.
    min_detection_confidence : float, default 0.5
        MediaPipe's threshold for a new detection (0-1).
    min_tracking_confidence : float, default 0.8
        MediaPipe's threshold for keeping a tracked person or face (0-1). Below about 0.8, Pose can go on
        "tracking" a person for a second or two after they left the ROI.

    Returns
    -------
    features : DataFrame
        Long table (``time_s``, ``person``, ``feature``, ``value``) with, per person: ``pose_detected`` (0/1),
        ``head_speed``, ``torso_speed``, ``left_wrist_speed``, ``right_wrist_speed``, ``body_motion`` (shoulder
        widths per second), ``trunk_lean_deg`` (degrees) and, with ``landmarks=True``, the landmark columns.
    info : dict
        Method, parameters, ROIs in pixels, decoding statistics, per-person detection rate and time ranges
        without detection, shoulder widths, timings per stage.

    Raises
    ------
    VideoError
        For a missing, corrupt or truncated video.
    ConfigError
        For invalid parameters or ROIs outside the frame.

    Warns
    -----
    DyadsyncWarning
        For each person with stretches of at least ``warn_gap_s`` without a detected pose, naming them.

    Examples
    --------
    >>> from dyadsync.features import pose
    >>> table, info = pose("sample_data/dyad_session.mp4")  # doctest: +SKIP
    >>> info["detection"]["left"]["detection_rate"]  # doctest: +SKIP
    1.0
    """
    params = check_parameters(rate_hz=rate_hz, max_gap_s=max_gap_s, warn_gap_s=warn_gap_s,
                              min_visibility=min_visibility,
                              min_detection_confidence=min_detection_confidence,
                              min_tracking_confidence=min_tracking_confidence)
    rois = resolve_rois(rois)
    settings = Settings(pose=True, face=False, min_detection_confidence=min_detection_confidence,
                        min_tracking_confidence=min_tracking_confidence)
    result = run_pass(video, rois, rate_hz=params["rate_hz"], settings=settings)
    return pose_table(result, max_gap_s=max_gap_s, min_visibility=min_visibility, landmarks=landmarks,
                      warn_gap_s=warn_gap_s)


def pose_table(
    result: Pass,
    *,
    max_gap_s: float = DEFAULT_MAX_GAP_S,
    min_visibility: float = 0.5,
    landmarks: bool = True,
    warn_gap_s: float = DEFAULT_WARN_GAP_S,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Pose feature table and info from a MediaPipe pass (see :func:`pose`); warns about long detection gaps."""
    persons = {}
    for person, track in result.tracks.items():
        series, filled, extra = pose_series(track.times_s, track.pose, max_gap_s=max_gap_s,
                                            min_visibility=min_visibility)
        columns = {(person, name): values for name, values in series.items()}
        if landmarks:
            flat = filled.reshape(len(track.times_s), -1)
            for k, name in enumerate(landmark_feature_names()):
                columns[(person, name)] = flat[:, k]
        persons[person] = (columns, series["pose_detected"] > 0, extra)
    parameters = {"max_gap_s": max_gap_s, "min_visibility": min_visibility, "landmarks": landmarks,
                  "warn_gap_s": warn_gap_s}
    return pass_features(result, persons, what="pose", warn_gap_s=warn_gap_s, method="mediapipe_pose",
                         model="mediapipe 0.10.21 solutions.pose, model_complexity=1, tracking mode, no landmark "
                         "smoothing", parameters=parameters)
