"""The MediaPipe engine behind :mod:`dyadsync.features.pose` and :mod:`dyadsync.features.face`.

One pass over the video serves both extractors. The main thread decodes frames at the analysis rate (stride
decoding) and hands each one, by reference, to one worker thread per person through a small bounded queue; each
worker crops its person's ROI, runs MediaPipe Pose on it, derives a head region from the pose, upscales it and
runs the Face Mesh on it. MediaPipe releases the GIL while its graphs run, so the persons are processed in
parallel on the available cores; memory stays flat with video length (a few frames in flight, and a few numbers
per frame and person kept).

Only MediaPipe 0.10.21's legacy solutions with models inside the wheel are used: ``solutions.pose.Pose`` with
``model_complexity=1`` (0 and 2 would download models) and ``solutions.face_mesh.FaceMesh`` with refined
landmarks. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._arrays import true_runs
from .._parallel import max_threads, release_memory
from ..errors import AnalysisError, ConfigError, InputError
from ..io.video import DecodeStats, VideoInfo, iter_frames, probe_video
from .persons import ROI, head_region

#: The 33 landmarks of MediaPipe Pose, in the model's order. "left"/"right" are the person's own sides.
POSE_LANDMARKS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
_P = {name: i for i, name in enumerate(POSE_LANDMARKS)}

#: Generic adult face model for head pose (solvePnP), in millimetres. Axes as the camera sees a face looking into
#: it: x to the image's right (the person's left), y down, z away from the camera (into the head); origin between
#: the eyes. Values are rounded adult anthropometric means (Farkas, 1994): biocular width (outer eye corners)
#: 90 mm, intercanthal width 32 mm, mouth width 50 mm, eye line to nose tip 45 mm, to subnasale 55 mm, to mouth
#: corners 75 mm, to menton (chin) 115 mm; nose tip 22 mm in front of the eye-corner plane. Only the relative
#: geometry matters: the scale cancels in the angles. Each entry: (Face Mesh landmark index, x, y, z).
FACE_MODEL_MM = (
    (33, -45.0, 0.0, 12.0),    # right eye, outer corner (image left)
    (133, -16.0, 0.0, 4.0),    # right eye, inner corner
    (362, 16.0, 0.0, 4.0),     # left eye, inner corner
    (263, 45.0, 0.0, 12.0),    # left eye, outer corner (image right)
    (1, 0.0, 45.0, -22.0),     # nose tip (pronasale)
    (2, 0.0, 55.0, -8.0),      # subnasale
    (61, -25.0, 75.0, 6.0),    # right mouth corner
    (291, 25.0, 75.0, 6.0),    # left mouth corner
    (152, 0.0, 115.0, 2.0),    # chin (menton)
)

#: Face Mesh landmark indices used by the expressivity measures.
MESH = {
    "eye_r_outer": 33, "eye_r_inner": 133, "eye_l_inner": 362, "eye_l_outer": 263,
    "lid_r_upper": 159, "lid_r_lower": 145, "lid_l_upper": 386, "lid_l_lower": 374,
    "brow_r": 105, "brow_l": 334, "lip_upper_inner": 13, "lip_lower_inner": 14,
    "mouth_r": 61, "mouth_l": 291,
}

#: Per-frame face measurements kept by a worker (columns of ``PersonTrack.face``).
FACE_COLUMNS = (
    "yaw_deg", "pitch_deg", "roll_deg", "center_x_px", "center_y_px", "iod_px", "mouth_opening", "smile_width",
    "brow_raise", "eye_openness", "face_motion",
)

#: MediaPipe FaceLandmarker's 52 face blendshapes (ARKit names), written as ``bs_<snake_case>`` features.
BLENDSHAPES = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
_BS = {name: i for i, name in enumerate(BLENDSHAPES)}


def blendshape_feature(name: str) -> str:
    """Feature name of a blendshape: ``browDownLeft`` -> ``bs_brow_down_left``, ``_neutral`` -> ``bs_neutral``."""
    return "bs_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name.lstrip("_")).lower()


#: Head landmarks must have at least this mean visibility for the pose's head region to be trusted.
HEAD_VISIBILITY = 0.5
#: Without a trusted pose, the last head region is reused for at most this long before falling back to the ROI.
HEAD_MEMORY_S = 1.0

_LOG_LOCK = threading.Lock()


def quiet_mediapipe() -> None:
    """Turn down MediaPipe's, absl's and TensorFlow Lite's log output (call before the first MediaPipe import)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover - absl comes with mediapipe
        pass


#: The real stderr while it is captured (for progress bars), else None.
_real_stderr: Any = None

#: Lines of MediaPipe's, absl's and TF Lite's C++ logging (written straight to file descriptor 2).
_NOISE = re.compile(r"^([IWE]\d{4} \d\d:\d\d:\d\d|INFO: |WARNING: All log messages before absl|"
                    r"WARNING: Logging before InitGoogleLogging)")
_capture_depth = 0


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Hold back MediaPipe's C++ log lines on stderr while MediaPipe runs; everything else is passed on after.

    MediaPipe and TF Lite print straight to file descriptor 2 (not through Python), so descriptor 2 is pointed at
    a temporary file; when the block ends, the lines that are not MediaPipe log noise are written to stderr.
    Nested uses (in the same process) capture once.
    """
    global _capture_depth, _real_stderr
    with _LOG_LOCK:
        _capture_depth += 1
        outer = _capture_depth == 1
    if not outer:
        try:
            yield
        finally:
            with _LOG_LOCK:
                _capture_depth -= 1
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (some notebook set-ups): nothing to capture
        saved = None
    sink = tempfile.TemporaryFile() if saved is not None else None
    try:
        if sink is not None:
            _real_stderr = os.fdopen(os.dup(saved), "w", buffering=1)
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        if sink is not None:
            os.dup2(saved, 2)
            os.close(saved)
            _real_stderr.close()
            _real_stderr = None
            sink.seek(0)
            kept = [line for line in sink.read().decode("utf-8", "replace").splitlines() if not _NOISE.match(line)]
            sink.close()
            if kept:
                print("\n".join(kept), file=sys.stderr)
        with _LOG_LOCK:
            _capture_depth -= 1


@dataclass(frozen=True)
class Settings:
    """What the workers run and with which MediaPipe parameters."""

    pose: bool = True
    face: bool = True
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.8
    head_crop_px: int = 192
    head_scale: float = 2.0
    head_pose: str = "pnp"
    blendshapes_model: str | None = None


@dataclass
class PersonTrack:
    """Raw per-frame results of one person (filled by a worker).

    Attributes
    ----------
    times_s : ndarray, shape (n,)
    pose : ndarray, shape (n, 33, 4), float32
        x, y (frame pixels), z (pixels, depth relative to the hips, negative towards the camera) and visibility
        (0-1) of each pose landmark; NaN when no pose was found.
    face : ndarray, shape (n, len(FACE_COLUMNS))
        Per-frame face measurements (see :data:`FACE_COLUMNS`); NaN when no face was found.
    head_source : ndarray, shape (n,), int8
        Where the face mesh looked: 1 the head region from the pose, 2 the last head region, 3 the whole ROI,
        0 nowhere (face not requested).
    blendshapes : ndarray, shape (n, 52), or None
        FaceLandmarker blendshape scores (0-1) in the order of :data:`BLENDSHAPES`, when a model was given.
    """

    times_s: np.ndarray
    pose: np.ndarray
    face: np.ndarray
    head_source: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    blendshapes: np.ndarray | None = None


class _Growing:
    """A float array that grows along its first axis."""

    def __init__(self, shape: tuple[int, ...], capacity: int, dtype: Any = np.float64) -> None:
        self.fill = np.nan if np.issubdtype(dtype, np.floating) else 0
        self.data = np.full((capacity, *shape), self.fill, dtype)
        self.n = 0

    def append(self, row: Any) -> None:
        if self.n == len(self.data):
            grown = np.full((2 * len(self.data), *self.data.shape[1:]), self.fill, self.data.dtype)
            grown[: self.n] = self.data
            self.data = grown
        self.data[self.n] = row
        self.n += 1

    def get(self) -> np.ndarray:
        return self.data[: self.n].copy()


def landmarks_px(landmarks: Sequence[Any], box: tuple[int, int, int, int]) -> np.ndarray:
    """MediaPipe Pose landmarks of a person's crop, in frame pixels.

    Parameters
    ----------
    landmarks : sequence of 33 MediaPipe landmarks
        ``x``, ``y`` as fractions of the crop, ``z`` as a fraction of its width, ``visibility`` 0-1.
    box : (x0, y0, x1, y1)
        The crop's box in the frame, pixels.

    Returns
    -------
    ndarray, shape (33, 4), float32
        x, y in frame pixels, z in pixels of relative depth, visibility.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return np.array([(q.x * w + x0, q.y * h + y0, q.z * w, q.visibility) for q in landmarks], np.float32)


class _Person:
    """One person's MediaPipe graphs and per-frame state; processes frames in its worker thread."""

    def __init__(self, box: tuple[int, int, int, int], meta: VideoInfo, settings: Settings, capacity: int) -> None:
        import mediapipe as mp

        self.box = box
        self.settings = settings
        self.meta = meta
        self.times = _Growing((), capacity)
        self.pose_rows = _Growing((33, 4), capacity, np.float32)
        self.face_rows = _Growing((len(FACE_COLUMNS),), capacity)
        self.sources = _Growing((), capacity, np.int8)
        self.timings = {"crop_s": 0.0, "pose_s": 0.0, "face_s": 0.0, "features_s": 0.0}
        self.last_head: tuple[float, float, float] | None = None
        self.last_head_t = -np.inf
        self.prev_mesh: np.ndarray | None = None
        f = max(meta.width, meta.height)
        self.camera = np.array([[f, 0, meta.width / 2], [0, f, meta.height / 2], [0, 0, 1]], float)
        self.model_pts = np.array([m[1:] for m in FACE_MODEL_MM], float)
        self.model_idx = [m[0] for m in FACE_MODEL_MM]
        conf = {"min_detection_confidence": settings.min_detection_confidence,
                "min_tracking_confidence": settings.min_tracking_confidence}
        with silenced_stderr():
            # Tracking mode, no MediaPipe smoothing: its filter assumes 30 frames/s and would delay the series.
            self.pose = (mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=False,
                                                enable_segmentation=False, **conf)
                         if settings.pose or settings.face else None)
            self.mesh = (mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                                         refine_landmarks=True, **conf)
                         if settings.face else None)
            self.roi_mesh: Any = None
            self.landmarker: Any = None
            self.blend_rows: _Growing | None = None
            self.last_ms = -1
            if settings.face and settings.blendshapes_model:
                from mediapipe.tasks.python import BaseOptions
                from mediapipe.tasks.python.vision import (
                    FaceLandmarker,
                    FaceLandmarkerOptions,
                    RunningMode,
                )

                options = FaceLandmarkerOptions(
                    base_options=BaseOptions(model_asset_path=str(settings.blendshapes_model)),
                    running_mode=RunningMode.VIDEO, num_faces=1, output_face_blendshapes=True,
                    min_face_detection_confidence=settings.min_detection_confidence,
                    min_tracking_confidence=settings.min_tracking_confidence)
                self.landmarker = FaceLandmarker.create_from_options(options)
                self.blend_rows = _Growing((len(BLENDSHAPES),), capacity)
            # Warm the graphs up on a blank image, so that their start-up messages fall in the silenced block.
            x0, y0, x1, y1 = box
            if self.pose is not None:
                self.pose.process(np.zeros((y1 - y0, x1 - x0, 3), np.uint8))
            if self.mesh is not None:
                n = settings.head_crop_px
                self.mesh.process(np.zeros((n, n, 3), np.uint8))

    def close(self) -> None:
        for graph in (self.pose, self.mesh, self.roi_mesh, self.landmarker):
            if graph is not None:
                graph.close()

    # --- one frame
    def process(self, t: float, image: np.ndarray) -> None:
        import cv2

        x0, y0, x1, y1 = self.box
        c = time.perf_counter()
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        self.timings["crop_s"] += time.perf_counter() - c
        landmarks = np.full((33, 4), np.nan, np.float32)
        if self.pose is not None:
            p = time.perf_counter()
            res = self.pose.process(crop)
            self.timings["pose_s"] += time.perf_counter() - p
            if res.pose_landmarks is not None:
                landmarks = landmarks_px(res.pose_landmarks.landmark, self.box)
        self.times.append(t)
        self.pose_rows.append(landmarks)
        if self.mesh is None:
            self.face_rows.append(np.nan)
            self.sources.append(0)
            return

        # --- head region: from this pose, else the last one for a moment, else the whole ROI
        c = time.perf_counter()
        region = head_region(landmarks, scale=self.settings.head_scale, min_visibility=HEAD_VISIBILITY)
        if region is not None:
            source = 1
            self.last_head, self.last_head_t = region, t
        elif self.last_head is not None and t - self.last_head_t <= HEAD_MEMORY_S:
            source, region = 2, self.last_head
        else:
            source = 3
        if source in (1, 2):
            cx, cy, side = region
            n = self.settings.head_crop_px
            a = n / side
            warp = np.array([[a, 0.0, n / 2 - a * cx], [0.0, a, n / 2 - a * cy]])
            head = cv2.warpAffine(image, warp, (n, n), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            graph = self.mesh
        else:
            warp = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
            head = crop
            if self.roi_mesh is None:
                import mediapipe as mp

                with silenced_stderr():
                    self.roi_mesh = mp.solutions.face_mesh.FaceMesh(
                        static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                        min_detection_confidence=self.settings.min_detection_confidence,
                        min_tracking_confidence=self.settings.min_tracking_confidence)
            graph = self.roi_mesh
        self.timings["crop_s"] += time.perf_counter() - c
        f = time.perf_counter()
        res = graph.process(head)
        self.timings["face_s"] += time.perf_counter() - f
        c = time.perf_counter()
        row = np.full(len(FACE_COLUMNS), np.nan)
        if res.multi_face_landmarks:
            hh, hw = head.shape[:2]
            mesh = np.array([(q.x * hw, q.y * hh, q.z * hw) for q in res.multi_face_landmarks[0].landmark])
            a = warp[0, 0]
            mesh[:, 0] = (mesh[:, 0] - warp[0, 2]) / a
            mesh[:, 1] = (mesh[:, 1] - warp[1, 2]) / a
            mesh[:, 2] /= a
            row = self._face_row(mesh)
            self.prev_mesh = mesh
        else:
            self.prev_mesh = None
        self.face_rows.append(row)
        self.sources.append(source)
        self.timings["features_s"] += time.perf_counter() - c
        if self.landmarker is not None:
            self._blendshapes(t, head)

    def _blendshapes(self, t: float, head: np.ndarray) -> None:
        """Blendshape scores of the face in the head region (MediaPipe FaceLandmarker, video mode)."""
        import mediapipe as mp

        f = time.perf_counter()
        ms = max(int(round(t * 1000)), self.last_ms + 1)  # the task needs strictly increasing timestamps
        self.last_ms = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(head))
        res = self.landmarker.detect_for_video(image, ms)
        row = np.full(len(BLENDSHAPES), np.nan)
        if res.face_blendshapes:
            for cat in res.face_blendshapes[0]:
                k = _BS.get(cat.category_name or "")
                if k is not None:
                    row[k] = cat.score
        self.blend_rows.append(row)
        self.timings["face_s"] += time.perf_counter() - f

    def _face_row(self, mesh: np.ndarray) -> np.ndarray:
        """Head pose and expressivity of one face (mesh in frame pixels, shape (478, 3))."""
        m = MESH

        def d(i: str, j: str) -> float:
            return float(np.linalg.norm(mesh[m[i]] - mesh[m[j]]))

        yaw, pitch, roll = head_pose(mesh, self.model_pts, self.model_idx, self.camera, self.settings.head_pose)
        iod = d("eye_r_outer", "eye_l_outer")
        if iod <= 0:
            return np.full(len(FACE_COLUMNS), np.nan)
        eye_r = np.linalg.norm(mesh[m["eye_r_outer"]] - mesh[m["eye_r_inner"]])
        eye_l = np.linalg.norm(mesh[m["eye_l_outer"]] - mesh[m["eye_l_inner"]])
        openness = 0.5 * (d("lid_r_upper", "lid_r_lower") / eye_r + d("lid_l_upper", "lid_l_lower") / eye_l)
        centre_r = 0.5 * (mesh[m["eye_r_outer"]] + mesh[m["eye_r_inner"]])
        centre_l = 0.5 * (mesh[m["eye_l_outer"]] + mesh[m["eye_l_inner"]])
        brow = 0.5 * (np.linalg.norm(mesh[m["brow_r"]] - centre_r) + np.linalg.norm(mesh[m["brow_l"]] - centre_l))
        motion = np.nan
        if self.prev_mesh is not None:
            motion = nonrigid_displacement(self.prev_mesh[:468], mesh[:468]) / iod
        centre = mesh[:468, :2].mean(axis=0)
        return np.array([
            yaw, pitch, roll, centre[0], centre[1], iod, d("lip_upper_inner", "lip_lower_inner") / iod,
            d("mouth_r", "mouth_l") / iod, brow / iod, openness, motion,
        ])

    def track(self) -> PersonTrack:
        blend = self.blend_rows.get() if self.blend_rows is not None else None
        return PersonTrack(self.times.get(), self.pose_rows.get(), self.face_rows.get(), self.sources.get(),
                           dict(self.timings), blend)


def rigid_rotation(model: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Least-squares rotation taking centred ``model`` points onto centred ``points`` (Kabsch; scale ignored)."""
    a = model - model.mean(axis=0)
    b = points - points.mean(axis=0)
    u, _, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    return u @ d @ vt


def head_pose(
    mesh: np.ndarray, model: np.ndarray, index: Sequence[int], camera: np.ndarray, method: str = "pnp"
) -> tuple[float, float, float]:
    """Yaw, pitch and roll (degrees) of a face from its mesh landmarks and a generic face model.

    Parameters
    ----------
    mesh : ndarray, shape (478, 3)
        Face Mesh landmarks: x, y in frame pixels, z in pixels of relative depth.
    model : ndarray, shape (k, 3)
        Generic face model points (mm), axes as in :data:`FACE_MODEL_MM`.
    index : sequence of k int
        Mesh landmark of each model point.
    camera : ndarray, shape (3, 3)
        Camera matrix (pixels).
    method : {"pnp", "procrustes"}
        ``"pnp"``: ``cv2.solvePnP`` (Levenberg-Marquardt on the reprojection error of the model's points in the
        image, perspective camera), started from the rigid 3-D fit, which keeps it away from the mirrored
        solution that 2-D points of a small face allow. ``"procrustes"``: the rigid 3-D fit alone (model points
        onto the mesh's 3-D landmarks, as MediaPipe's own face-geometry module does), less noisy on small faces.
    """
    import cv2

    pts = mesh[list(index)]
    rot = rigid_rotation(model, pts)
    if method == "procrustes":
        return rotation_to_euler(rot)
    image = np.ascontiguousarray(pts[:, :2], dtype=float)
    f = camera[0, 0]
    width = float(np.linalg.norm(pts[3, :2] - pts[0, :2]))
    if not width > 0:
        return (np.nan, np.nan, np.nan)
    z = f * float(np.linalg.norm(model[3] - model[0])) / width
    cx, cy = image.mean(axis=0)
    tvec = np.array([[(cx - camera[0, 2]) * z / f], [(cy - camera[1, 2]) * z / f], [z]])
    rvec = cv2.Rodrigues(rot)[0]
    ok, rvec, tvec = cv2.solvePnP(model, image, camera, None, rvec=rvec, tvec=tvec, useExtrinsicGuess=True,
                                  flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok or float(tvec[2, 0]) <= 0:
        return (np.nan, np.nan, np.nan)
    return rotation_to_euler(cv2.Rodrigues(rvec)[0])


def rotation_to_euler(rot: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees of a head rotation (face model to camera coordinates).

    The rotation is decomposed as ``R = Rz(roll) @ Ry(-yaw) @ Rx(-pitch)`` (camera axes: x right, y down, z
    forward), so that rotating the image in-plane by an angle adds exactly that angle to the roll. Signs: yaw > 0
    when the nose turns towards the image's right, pitch > 0 when it turns up, roll > 0 when the head tilts
    clockwise on screen.
    """
    rot = np.asarray(rot, float)
    phi = np.arcsin(np.clip(-rot[2, 0], -1.0, 1.0))
    psi = np.arctan2(rot[2, 1], rot[2, 2])
    gamma = np.arctan2(rot[1, 0], rot[0, 0])
    return float(-np.degrees(phi)), float(-np.degrees(psi)), float(np.degrees(gamma))


def euler_to_rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Inverse of :func:`rotation_to_euler`: the 3x3 rotation matrix of yaw, pitch and roll in degrees."""
    phi, psi, gamma = np.radians([-yaw_deg, -pitch_deg, roll_deg])
    cz, sz = np.cos(gamma), np.sin(gamma)
    cy, sy = np.cos(phi), np.sin(phi)
    cx, sx = np.cos(psi), np.sin(psi)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    return rz @ ry @ rx


def nonrigid_displacement(prev: np.ndarray, cur: np.ndarray) -> float:
    """Mean landmark displacement between two point sets after removing a similarity transform (head motion).

    ``cur`` is aligned onto ``prev`` by the least-squares rotation, scale and translation (Umeyama, 1991); what
    is left is the change of the face's shape (expression), in the units of ``prev``.
    """
    mp_, mc = prev.mean(axis=0), cur.mean(axis=0)
    p, c = prev - mp_, cur - mc
    u, s, vt = np.linalg.svd(c.T @ p)
    sign = np.sign(np.linalg.det(u @ vt)) or 1.0
    d = np.diag([1.0] * (prev.shape[1] - 1) + [sign])
    rot = u @ d @ vt
    var = (c**2).sum()
    scale = (s * np.diag(d)).sum() / var if var > 0 else 1.0
    aligned = scale * c @ rot
    return float(np.linalg.norm(aligned - p, axis=1).mean())


@dataclass
class Pass:
    """Everything one pass over a video produced."""

    tracks: dict[str, PersonTrack]
    meta: VideoInfo
    decode: DecodeStats
    boxes: dict[str, tuple[int, int, int, int]]
    rate_hz: float | None
    settings: Settings
    timings: dict[str, Any]


def run_pass(
    video: str | Path,
    rois: Sequence[ROI],
    *,
    rate_hz: float | None,
    settings: Settings,
) -> Pass:
    """Decode ``video`` once at ``rate_hz`` and run Pose and/or Face Mesh for every person in parallel.

    Raises
    ------
    VideoError
        For a missing, corrupt or truncated video.
    ConfigError
        For ROIs outside the frame or invalid settings.
    AnalysisError
        When MediaPipe fails on a frame.
    """
    quiet_mediapipe()
    if not rois:
        raise ConfigError("no ROI given: pose and face need at least one person's region")
    names = [r.name for r in rois]
    if len(set(names)) != len(names):
        raise ConfigError(f"ROI names must be unique, got {names}")
    if settings.head_crop_px < 64:
        raise ConfigError(f"head_crop_px must be at least 64 pixels, got {settings.head_crop_px}")
    if settings.blendshapes_model:
        model = Path(settings.blendshapes_model)
        if not model.is_file() or model.suffix != ".task":
            raise InputError(model, "is not a MediaPipe .task model file; give the path of a face_landmarker.task "
                             "you obtained yourself (dyadsync never downloads models), or leave it empty")
    meta = probe_video(video)
    boxes = {r.name: r.to_pixels(meta.width, meta.height) for r in rois}
    duration = meta.duration_s or (meta.n_frames or 0) / meta.fps or 60.0
    capacity = int(duration * (rate_hz or meta.fps)) + 16
    with silenced_stderr():
        result = _run(video, meta, boxes, capacity, rate_hz, settings)
    release_memory()  # the closed graphs' arenas and the decoded frames, before the feature tables are built
    return result


def _progress(total: int, what: str) -> Any:
    """A progress bar on the real stderr when it is a terminal (tqdm), else a silent stand-in."""
    from tqdm import tqdm

    out = _real_stderr if _real_stderr is not None else sys.stderr
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tqdm(total=max(total, 1), desc=what, unit="frame", file=out, disable=not tty, leave=False,
                mininterval=1.0)


def _run(video: str | Path, meta: VideoInfo, boxes: dict[str, tuple[int, int, int, int]], capacity: int,
         rate_hz: float | None, settings: Settings) -> Pass:
    started = time.perf_counter()
    persons = {name: _Person(box, meta, settings, capacity) for name, box in boxes.items()}
    setup_s = time.perf_counter() - started
    errors: dict[str, BaseException] = {}

    def feed(name: str, item: tuple[float, np.ndarray]) -> None:
        if name in errors:
            return  # a dead worker keeps draining, so that the decoder never blocks on it
        try:
            persons[name].process(*item)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors[name] = exc

    # One thread per person (MediaPipe releases the GIL) when the session may use several cores; a batch worker
    # limited to one core (DYADSYNC_THREADS=1) processes the persons in turn, so that its sessions run side by
    # side without oversubscribing the cores.
    threaded = max_threads() > 1 and len(persons) > 1
    queues = {name: queue.Queue(maxsize=4) for name in persons} if threaded else {}

    def work(name: str) -> None:
        q = queues[name]
        while (item := q.get()) is not None:
            feed(name, item)

    threads = [threading.Thread(target=work, args=(n,), name=f"dyadsync-{n}", daemon=True) for n in queues]
    for th in threads:
        th.start()
    stats = DecodeStats()
    decode_s = 0.0
    frames = iter_frames(video, color=True, rate_hz=rate_hz, stats=stats)
    progress = _progress(capacity - 16, "pose" if not settings.face else "pose + face")
    try:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            decode_s += time.perf_counter() - t0
            if frame is None or errors:
                break
            for name in persons:
                if threaded:
                    queues[name].put((frame.time_s, frame.image))
                else:
                    feed(name, (frame.time_s, frame.image))
            progress.update(1)
    finally:
        progress.close()
        for q in queues.values():
            q.put(None)
        for th in threads:
            th.join()
        for p in persons.values():
            p.close()
    if errors:
        name, exc = next(iter(errors.items()))
        raise AnalysisError(f"{video}: MediaPipe failed on person {name!r}: {exc}") from exc
    wall = time.perf_counter() - started
    tracks = {name: p.track() for name, p in persons.items()}
    timings: dict[str, Any] = {
        "setup_s": setup_s,
        "decode_s": decode_s,
        "wall_s": wall,
        "per_person": {name: tr.timings for name, tr in tracks.items()},
    }
    return Pass(tracks, meta, stats, boxes, rate_hz, settings, timings)


# --- shared post-processing of the per-frame tracks


def fill_short_gaps(times_s: np.ndarray, values: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Linearly interpolate interior runs of NaN lasting at most ``max_gap_s`` seconds, column by column.

    A run's duration is the number of missing samples times the median sample interval. Runs at the start or the
    end of a series, and longer runs, stay NaN.

    Parameters
    ----------
    times_s : ndarray, shape (n,)
    values : ndarray, shape (n,) or (n, ...)
    max_gap_s : float

    Returns
    -------
    ndarray
        A copy of ``values`` with the short gaps filled.
    """
    out = np.array(values, dtype=float, copy=True)
    n = len(times_s)
    if max_gap_s <= 0 or n < 3:
        return out
    step = float(np.median(np.diff(times_s)))
    max_len = int(np.floor(max_gap_s / step + 1e-9))
    if max_len < 1:
        return out
    flat = out.reshape(n, -1)
    for j in range(flat.shape[1]):
        col = flat[:, j]
        nan = np.isnan(col)
        if not nan.any() or nan.all():
            continue
        for s, e in zip(*true_runs(nan)):
            if e - s <= max_len and s > 0 and e < n:
                col[s:e] = np.interp(times_s[s:e], times_s[[s - 1, e]], col[[s - 1, e]])
    return out


def missing_ranges(times_s: np.ndarray, detected: np.ndarray, min_s: float = 0.0) -> list[tuple[float, float]]:
    """Time ranges without detection, ``[(start_s, end_s), ...]``, lasting at least ``min_s`` seconds.

    A range starts at the first analysed frame without detection and ends at the next analysed frame (with a
    detection), or one sample interval after the last frame when the video ends without one.
    """
    times_s = np.asarray(times_s, float)
    if len(times_s) == 0:
        return []
    step = float(np.median(np.diff(times_s))) if len(times_s) > 1 else 0.0
    out = []
    for s, e in zip(*true_runs(~np.asarray(detected, bool))):
        end = times_s[e] if e < len(times_s) else times_s[-1] + step
        if end - times_s[s] >= min_s - 1e-9:
            out.append((round(float(times_s[s]), 3), round(float(end), 3)))
    return out


def speed(times_s: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Speed of a point (or of each of several points) between consecutive samples, per second.

    ``xy`` has shape (n, 2) or (n, k, 2); the result (n,) or (n, k) holds the distance moved since the previous
    sample divided by the time between them, stamped at the later sample; the first sample is NaN.
    """
    xy = np.asarray(xy, float)
    out = np.full(xy.shape[:-1], np.nan)
    if len(xy) > 1:
        dt = np.diff(np.asarray(times_s, float)).reshape((-1,) + (1,) * (xy.ndim - 2))
        out[1:] = np.linalg.norm(np.diff(xy, axis=0), axis=-1) / dt
    return out


def detection_summary(
    times_s: np.ndarray, detected: np.ndarray, what: str, person: str, warn_gap_s: float, video: Path
) -> tuple[dict[str, Any], str | None]:
    """Detection rate and the ranges without detection of one person, and the warning text when there are any."""
    detected = np.asarray(detected, bool)
    ranges = missing_ranges(times_s, detected, warn_gap_s)
    summary = {
        "detection_rate": float(detected.mean()) if len(detected) else float("nan"),
        "n_frames": int(len(detected)),
        "n_detected": int(detected.sum()),
        "no_detection_s": [list(r) for r in ranges],
    }
    message = None
    if ranges:
        shown = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in ranges[:10])
        more = f" and {len(ranges) - 10} more" if len(ranges) > 10 else ""
        message = (
            f"{video}: no {what} found for person {person!r} from {shown}{more} (detected in "
            f"{summary['detection_rate'] * 100:.1f}% of analysed frames); {what} features are NaN there"
        )
    return summary, message


def pass_info(result: Pass, method: str, model: str, parameters: dict[str, Any], detection: dict[str, Any],
              per_person: dict[str, Any]) -> dict[str, Any]:
    """The info dict of a pose or face table made from one pass: method, parameters, ROIs, decoding, QC, timings."""
    from .. import __version__

    return {
        "method": method,
        "version": __version__,
        "model": model,
        "parameters": {
            "rate_hz": result.rate_hz,
            **parameters,
            "min_detection_confidence": result.settings.min_detection_confidence,
            "min_tracking_confidence": result.settings.min_tracking_confidence,
        },
        "persons": list(result.tracks),
        "rois_px": {p: list(b) for p, b in result.boxes.items()},
        "video": result.meta.as_dict(),
        "decode": result.decode.as_dict(),
        "rate_hz": result.rate_hz,
        "detection": detection,
        "per_person": per_person,
        "timings": result.timings,
    }


def report_detection(result: Pass, person: str, times_s: np.ndarray, detected: np.ndarray, what: str,
                     warn_gap_s: float) -> dict[str, Any]:
    """Detection summary of one person (see :func:`detection_summary`), warning about long gaps."""
    import warnings

    from ..errors import DyadsyncWarning

    summary, message = detection_summary(times_s, detected, what, person, warn_gap_s, result.meta.path)
    if message:
        warnings.warn(message, DyadsyncWarning, stacklevel=4)
    return summary
