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

What the workers compute from a face mesh is :mod:`dyadsync.features.face_geometry`; how the per-frame tracks are
checked and gaps filled afterwards is :mod:`dyadsync.features.tracks`. :func:`pass_features` turns the per-person
series of a pass into the ``(features, info)`` of the pose and face extractors.
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
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._parallel import max_threads, release_memory
from .._validate import check_path, check_positive
from ..errors import AnalysisError, ConfigError, DyadsyncWarning, InputError
from ..io.video import DecodeStats, VideoInfo, iter_frames, probe_video
from ._output import persons_table, video_info
from .face_geometry import FACE_COLUMNS, camera_matrix, face_measurements
from .persons import ROI, head_region
from .tracks import detection_summary

#: The 33 landmarks of MediaPipe Pose, in the model's order. "left"/"right" are the person's own sides.
POSE_LANDMARKS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
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
        self.camera = camera_matrix(meta.width, meta.height)
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
            row = face_measurements(mesh, self.prev_mesh, self.camera, self.settings.head_pose)
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

    def track(self) -> PersonTrack:
        blend = self.blend_rows.get() if self.blend_rows is not None else None
        return PersonTrack(self.times.get(), self.pose_rows.get(), self.face_rows.get(), self.sources.get(),
                           dict(self.timings), blend)


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
    meta = probe_video(check_path("video", video))
    boxes = {r.name: r.to_pixels(meta.width, meta.height) for r in rois}
    duration = meta.duration_s or (meta.n_frames or 0) / meta.fps or 60.0
    capacity = int(duration * min(rate_hz or meta.fps, meta.fps)) + 16  # stride decoding never exceeds the fps
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


def check_parameters(
    *,
    rate_hz: float | None,
    max_gap_s: float,
    warn_gap_s: float,
    min_visibility: float,
    min_detection_confidence: float,
    min_tracking_confidence: float,
) -> dict[str, Any]:
    """Check the parameters the pose and face extractors share; ``rate_hz``, ``max_gap_s``, ``warn_gap_s`` as floats.

    Raises
    ------
    ConfigError
        For a rate that is not positive, a negative gap, or a visibility or confidence outside 0-1.
    """
    out = {
        "rate_hz": None if rate_hz is None else check_positive("rate_hz", rate_hz),
        "max_gap_s": check_positive("max_gap_s", max_gap_s, allow_zero=True),
        "warn_gap_s": check_positive("warn_gap_s", warn_gap_s, allow_zero=True),
    }
    for name, value in (("min_visibility", min_visibility), ("min_detection_confidence", min_detection_confidence),
                        ("min_tracking_confidence", min_tracking_confidence)):
        try:
            inside = 0.0 <= float(value) <= 1.0
        except (TypeError, ValueError):
            inside = False
        if not inside:
            raise ConfigError(f"{name} must be between 0 and 1, got {value!r}")
    return out


def pass_features(
    result: Pass,
    persons: Mapping[str, tuple[dict[tuple[str, str], np.ndarray], np.ndarray, dict[str, Any]]],
    *,
    what: str,
    warn_gap_s: float,
    method: str,
    model: str,
    parameters: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ``(features, info)`` of a pose or face extractor from the per-person series of one pass.

    Parameters
    ----------
    result : Pass
    persons : mapping of person to (columns, detected, extra)
        Per person, in the pass's order: the feature columns (``{(person, feature): values}`` on the person's
        track times), the frames with a detection (bool), and the person's entry of ``per_person`` in the info.
    what : str
        What was detected (``pose``, ``face``), for the detection report.
    warn_gap_s : float
        Stretches without detection at least this long (s) are listed in the info and warned about.
    method, model : str
        Name of the method and description of the model, for the info.
    parameters : dict
        The extractor's parameters; the analysis rate and MediaPipe's confidences are added.

    Warns
    -----
    DyadsyncWarning
        For each person with stretches of at least ``warn_gap_s`` without a detection, naming them.
    """
    tables, detection, per_person = [], {}, {}
    for person, (columns, detected, extra) in persons.items():
        times_s = result.tracks[person].times_s
        tables.append((times_s, columns))
        detection[person], message = detection_summary(times_s, detected, what, person, warn_gap_s, result.meta.path)
        if message:
            warnings.warn(message, DyadsyncWarning, stacklevel=4)  # the caller of pose(), face(), pose_and_face()
        per_person[person] = extra
    settings = result.settings
    parameters = {"rate_hz": result.rate_hz, **parameters,
                  "min_detection_confidence": settings.min_detection_confidence,
                  "min_tracking_confidence": settings.min_tracking_confidence}
    rois_px = {p: list(b) for p, b in result.boxes.items()}
    info = video_info(method, parameters, rois_px, result.meta, result.decode, result.rate_hz, model=model)
    info.update({"detection": detection, "per_person": per_person, "timings": result.timings})
    return persons_table(tables), info
