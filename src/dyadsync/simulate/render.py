"""Render a simulated dyad as a video of two photographed people, animated with the planted movement.

The person is the astronaut portrait that ships inside scikit-image (Eileen Collins, NASA, public domain), cut
out once with MediaPipe's bundled selfie-segmentation model; person B is the mirrored copy. Each frame, each
person's cut-out is warped by two affine transforms taken from the simulated parameters: the upper body sways and
leans about the hips, and the head additionally moves and rolls about the neck, blended smoothly into the body
below the chin. The background is a static, softly textured wall, so that with a static camera every changed
pixel is the persons' movement - except where artefacts are planted on purpose (a lighting flicker, a camera
bump), and except while a person is planted as absent (out of the frame).

Nothing here is downloaded: the photograph and the segmentation model are inside installed packages.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io.store import atomic_path
from .dyad import SimulatedDyad

#: Where the neck and the head centre are in the 512x512 astronaut photograph (pixels, x then y).
_NECK_XY = (222.0, 182.0)
_HEAD_XY = (222.0, 100.0)
#: Columns of the photograph kept for the person (the model rocket behind her is left out).
_CROP_X = (10, 470)


@dataclass(frozen=True)
class Artefacts:
    """Planted recording artefacts.

    Attributes
    ----------
    flickers : sequence of (time_s, duration_s, gain)
        Lighting flickers: the whole frame's brightness multiplied by ``gain`` for ``duration_s``.
    bumps : sequence of (time_s, duration_s, dx_px, dy_px)
        Camera bumps: the whole frame shifted by ``(dx, dy)`` pixels for ``duration_s``.
    """

    flickers: Sequence[tuple[float, float, float]] = ()
    bumps: Sequence[tuple[float, float, int, int]] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "flickers": [dict(zip(("time_s", "duration_s", "gain"), f)) for f in self.flickers],
            "bumps": [dict(zip(("time_s", "duration_s", "dx_px", "dy_px"), b)) for b in self.bumps],
        }

    def frames(self, times_s: np.ndarray) -> np.ndarray:
        """Boolean mask of the frames whose image differs from the previous one because of an artefact."""
        hit = np.zeros(len(times_s), bool)
        for t, d, *_ in [*self.flickers, *self.bumps]:
            inside = (times_s >= t - 1e-9) & (times_s < t + d - 1e-9)
            # The artefact changes the image when it starts and again when it ends.
            idx = np.flatnonzero(inside)
            if len(idx):
                hit[idx[0]] = True
                if idx[-1] + 1 < len(hit):
                    hit[idx[-1] + 1] = True
        return hit


@functools.lru_cache(maxsize=4)
def person_cutout(height: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float], tuple[float, float]]:
    """The photographed person scaled to ``height`` pixels: RGB, alpha (0-1), neck and head centre (x, y)."""
    import cv2
    import mediapipe as mp
    import skimage.data

    photo = skimage.data.astronaut()  # 512x512 RGB, bundled with scikit-image
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        mask = seg.process(photo).segmentation_mask
    alpha = (mask > 0.5).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(alpha, connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if n > 1 else 0
    alpha = (labels == largest).astype(np.float32)
    x0, x1 = _CROP_X
    rgb, alpha = photo[:, x0:x1], alpha[:, x0:x1]
    scale = height / photo.shape[0]
    size = (int(round(rgb.shape[1] * scale)), height)
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    alpha = cv2.GaussianBlur(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), (0, 0), 0.8)
    neck = ((_NECK_XY[0] - x0) * scale, _NECK_XY[1] * scale)
    head = ((_HEAD_XY[0] - x0) * scale, _HEAD_XY[1] * scale)
    return rgb, np.clip(alpha, 0, 1), neck, head


def _background(width: int, height: int, seed: int) -> np.ndarray:
    """A static room: a warm grey wall with a soft texture, a framed picture between the two people, a shelf and
    the edges of a door frame - the kind of structure against which camera motion shows."""
    import cv2

    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height)[:, None]
    base = np.stack([196 - 18 * y, 188 - 20 * y, 172 - 22 * y], axis=-1) * np.ones((1, width, 1))
    texture = cv2.GaussianBlur(rng.standard_normal((height, width)).astype(np.float32), (0, 0), 12)
    base += 6 * (texture / texture.std())[..., None]
    base[int(0.9 * height) :] *= 0.75
    u = width / 640
    # Framed picture: dark frame, a light mount and a few soft colour fields inside.
    x0, y0, x1, y1 = int(268 * u), int(22 * u), int(372 * u), int(104 * u)
    cv2.rectangle(base, (x0, y0), (x1, y1), (70, 52, 40), thickness=-1)
    cv2.rectangle(base, (x0 + 6, y0 + 6), (x1 - 6, y1 - 6), (228, 224, 214), thickness=-1)
    for _ in range(5):
        cx, cy = rng.integers(x0 + 14, x1 - 14), rng.integers(y0 + 14, y1 - 14)
        colour = tuple(float(c) for c in rng.integers(60, 200, 3))
        cv2.circle(base, (int(cx), int(cy)), int(rng.integers(6, 14)), colour, thickness=-1)
    # A shelf and the vertical edges of a door frame at both sides.
    cv2.rectangle(base, (int(250 * u), int(128 * u)), (int(390 * u), int(134 * u)), (120, 96, 76), thickness=-1)
    for x in (int(6 * u), int(628 * u)):
        cv2.rectangle(base, (x, 0), (x + int(6 * u), height), (150, 140, 128), thickness=-1)
    return np.clip(base, 0, 255).astype(np.float32)


def _affine(angle_deg: float, pivot: tuple[float, float], tx: float, ty: float) -> np.ndarray:
    """3x3 matrix: rotate by ``angle_deg`` (clockwise on screen) about ``pivot``, then translate."""
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    px, py = pivot
    return np.array([[c, -s, px - c * px + s * py + tx], [s, c, py - s * px - c * py + ty], [0, 0, 1]])


class _PersonLayer:
    """One person's cut-out on a canvas of one half of the frame, warped per frame."""

    def __init__(self, canvas_w: int, canvas_h: int, mirrored: bool, scale: float) -> None:
        rgb, alpha, neck, head = person_cutout(int(round(canvas_h * scale)))
        if mirrored:
            rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
            neck = (rgb.shape[1] - 1 - neck[0], neck[1])
            head = (rgb.shape[1] - 1 - head[0], head[1])
        h, w = alpha.shape
        ox = int(round((canvas_w - w) / 2))
        oy = int(round(canvas_h - h + 0.06 * canvas_h))  # seated: the lap falls below the frame
        self.rgba = np.zeros((canvas_h, canvas_w, 4), np.float32)
        # Paste the cut-out at (ox, oy), clipped to the canvas on every side.
        cx0, cy0 = max(0, ox), max(0, oy)
        cx1, cy1 = min(canvas_w, ox + w), min(canvas_h, oy + h)
        self.rgba[cy0:cy1, cx0:cx1, :3] = rgb[cy0 - oy : cy1 - oy, cx0 - ox : cx1 - ox]
        self.rgba[cy0:cy1, cx0:cx1, 3] = alpha[cy0 - oy : cy1 - oy, cx0 - ox : cx1 - ox]
        self.rgba[..., :3] *= self.rgba[..., 3:4]  # premultiplied alpha: blends cleanly when warped
        self.neck = (neck[0] + ox, neck[1] + oy)
        self.head = (head[0] + ox, head[1] + oy)
        self.hips = (canvas_w / 2, canvas_h * 1.15)
        grid_y, grid_x = np.mgrid[0:canvas_h, 0:canvas_w].astype(np.float32)
        self.grid = np.stack([grid_x.ravel(), grid_y.ravel(), np.ones(grid_x.size, np.float32)])
        # Head weight by height in the cut-out: 1 above the chin, 0 below the collar, a cosine ramp between.
        top, bottom = self.neck[1] - 0.05 * canvas_h, self.neck[1] + 0.04 * canvas_h
        ramp = np.clip((bottom - grid_y) / (bottom - top), 0, 1)
        self.head_weight = (0.5 - 0.5 * np.cos(np.pi * ramp)).astype(np.float32)
        self.shape = (canvas_h, canvas_w)

    def transforms(self, p: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        body = _affine(p["lean_deg"], self.hips, p["body_x_px"], p["body_y_px"])
        head = _affine(p["roll_deg"], self.neck, p["head_x_px"], p["head_y_px"])
        return body, body @ head

    def head_position(self, p: pd.Series) -> tuple[float, float]:
        """Planted position of the head centre on the canvas, in pixels."""
        _, full = self.transforms(p)
        x, y, _ = full @ np.array([*self.head, 1.0])
        return float(x), float(y)

    def render(self, p: pd.Series) -> np.ndarray:
        import cv2

        body, full = self.transforms(p)
        inv_body = np.linalg.inv(body)[:2] @ self.grid
        inv_full = np.linalg.inv(full)[:2] @ self.grid
        h, w = self.shape
        wb = cv2.remap(self.head_weight, *(m.reshape(h, w) for m in inv_body.astype(np.float32)), cv2.INTER_LINEAR)
        wb = wb.ravel()
        mx = (wb * inv_full[0] + (1 - wb) * inv_body[0]).reshape(h, w).astype(np.float32)
        my = (wb * inv_full[1] + (1 - wb) * inv_body[1]).reshape(h, w).astype(np.float32)
        return cv2.remap(self.rgba, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def render_dyad_video(
    dyad: SimulatedDyad,
    path: str | Path,
    *,
    width: int = 640,
    height: int = 360,
    audio: np.ndarray | None = None,
    audio_rate: int | None = None,
    artefacts: Artefacts = Artefacts(),
    absences: dict[str, Sequence[tuple[float, float]]] | None = None,
    person_scale: float = 1.0,
    crf: int = 26,
    seed: int = 0,
) -> pd.DataFrame:
    """Write a simulated dyad as an H.264/MP4 video (with an AAC audio track when ``audio`` is given).

    Parameters
    ----------
    dyad : SimulatedDyad
        Movement to animate; its rate becomes the frame rate.
    path : str or Path
        Output ``.mp4`` (written atomically).
    width, height : int, default 640, 360
        Frame size in pixels; person A fills the left half, person B the right half.
    audio : ndarray, shape (channels, samples), or None
        Audio to mux (float, -1..1).
    audio_rate : int or None
        Its sample rate in Hz.
    artefacts : Artefacts
        Lighting flickers and camera bumps to plant.
    absences : dict of person -> list of (start_s, end_s), or None
        Times when a person is out of the frame (not drawn).
    person_scale : float, default 1
        Height of the photographed person relative to the frame height.
    crf : int, default 26
        x264 constant rate factor (quality; lower is better and bigger).
    seed : int
        Seed of the background texture.

    Returns
    -------
    DataFrame
        Planted head track per frame: ``time_s``, ``person``, ``head_center_x_px``, ``head_center_y_px`` (head
        centre in frame pixels), ``roll_deg``, ``present`` (0/1).
    """
    import av

    persons = dyad.truth["persons"]
    fps = Fraction(str(dyad.truth["rate_hz"])).limit_denominator(1001)
    half = width // 2
    layers = [_PersonLayer(half, height, mirrored=(i == 1), scale=person_scale) for i in range(2)]
    params = [dyad.parameters(p) for p in persons]
    times = params[0].index.to_numpy()
    bg = _background(width, height, seed)
    absences = absences or {}
    track = []
    path = Path(path)
    with atomic_path(path) as tmp:
        container = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        vstream = container.add_stream("libx264", rate=fps)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = {"crf": str(crf), "preset": "slow", "tune": "film"}
        astream = None
        if audio is not None:
            astream = container.add_stream("aac", rate=int(audio_rate))
            astream.layout = "stereo" if audio.shape[0] == 2 else "mono"
            astream.bit_rate = 64000 * audio.shape[0]
        audio_pos = 0
        chunk = 1024
        for i, t in enumerate(times):
            frame = bg.copy()
            for j, (layer, person) in enumerate(zip(layers, persons)):
                p = params[j].iloc[i]
                present = not any(a <= t < b for a, b in absences.get(person, ()))
                hx, hy = layer.head_position(p)
                track.append((t, person, hx + j * half, hy, p["roll_deg"], float(present)))
                if not present:
                    continue
                rgba = layer.render(p)
                region = frame[:, j * half : (j + 1) * half]
                region *= 1 - rgba[..., 3:4]
                region += rgba[..., :3]
            for ft, fd, gain in artefacts.flickers:
                if ft <= t < ft + fd:
                    frame *= gain
            for bt, bd, dx, dy in artefacts.bumps:
                if bt <= t < bt + bd:
                    frame = np.roll(frame, (dy, dx), axis=(0, 1))
            vf = av.VideoFrame.from_ndarray(np.clip(frame, 0, 255).astype(np.uint8), format="rgb24")
            vf.pts = i
            for packet in vstream.encode(vf):
                container.mux(packet)
            if astream is not None:
                until = int(round((t + 1 / float(fps)) * audio_rate))
                while audio_pos + chunk <= min(until, audio.shape[1]):
                    _mux_audio(container, astream, audio[:, audio_pos : audio_pos + chunk], audio_pos, audio_rate)
                    audio_pos += chunk
        if astream is not None:
            while audio_pos < audio.shape[1]:
                block = audio[:, audio_pos : audio_pos + chunk]
                if block.shape[1] < chunk:
                    block = np.pad(block, ((0, 0), (0, chunk - block.shape[1])))
                _mux_audio(container, astream, block, audio_pos, audio_rate)
                audio_pos += chunk
            for packet in astream.encode(None):
                container.mux(packet)
        for packet in vstream.encode(None):
            container.mux(packet)
        container.close()
    return pd.DataFrame(
        track, columns=["time_s", "person", "head_center_x_px", "head_center_y_px", "roll_deg", "present"]
    )


def _mux_audio(container: Any, stream: Any, block: np.ndarray, pos: int, rate: int) -> None:
    import av

    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(block.astype(np.float32)), format="fltp", layout=stream.layout.name
    )
    frame.sample_rate = rate
    frame.pts = pos
    for packet in stream.encode(frame):
        container.mux(packet)
