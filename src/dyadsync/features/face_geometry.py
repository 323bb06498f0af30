"""Geometry of one face from its MediaPipe Face Mesh landmarks: head pose, shape change, expressivity measures.

Pure NumPy (and ``cv2.solvePnP``): no MediaPipe here. :func:`face_measurements` turns one frame's mesh into the
row of :data:`FACE_COLUMNS` that the MediaPipe engine keeps per frame and :mod:`dyadsync.features.face` builds
its features from. Head pose (yaw, pitch, roll) fits a generic adult face model (:data:`FACE_MODEL_MM`) to the
mesh, either to its 2-D image points (``cv2.solvePnP``, perspective camera) or rigidly to its 3-D landmarks
(Procrustes); the change of the face's shape between frames is what is left after removing a similarity
transform (Umeyama, 1991). See ``docs/methods/pose_face.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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

#: Per-frame face measurements (:func:`face_measurements`; the columns of the engine's ``PersonTrack.face``).
FACE_COLUMNS = (
    "yaw_deg", "pitch_deg", "roll_deg", "center_x_px", "center_y_px", "iod_px", "mouth_opening", "smile_width",
    "brow_raise", "eye_openness", "face_motion",
)

#: The face model's points (mm) and the Face Mesh landmark of each, as arrays for the fits.
_MODEL_POINTS = np.array([m[1:] for m in FACE_MODEL_MM], float)
_MODEL_INDEX = [m[0] for m in FACE_MODEL_MM]


def camera_matrix(width: int, height: int) -> np.ndarray:
    """Pinhole camera matrix of a frame (pixels): focal length the frame's larger side, centre the frame's centre.

    The true focal length is unknown; with faces small in the frame the angles depend little on it.
    """
    f = max(width, height)
    return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], float)


def face_measurements(
    mesh: np.ndarray, prev_mesh: np.ndarray | None, camera: np.ndarray, method: str = "pnp"
) -> np.ndarray:
    """Head pose and expressivity of one face: one row of :data:`FACE_COLUMNS`.

    Parameters
    ----------
    mesh : ndarray, shape (478, 3)
        Face Mesh landmarks of this frame: x, y in frame pixels, z in pixels of relative depth.
    prev_mesh : ndarray, shape (478, 3), or None
        The mesh of the previous analysed frame (None: no face there), for ``face_motion``.
    camera : ndarray, shape (3, 3)
        Camera matrix (:func:`camera_matrix`).
    method : {"pnp", "procrustes"}
        Head-pose estimation, see :func:`head_pose`.

    Returns
    -------
    ndarray, shape (11,)
        Yaw, pitch, roll (degrees), face centre x, y (pixels), inter-ocular distance (IOD, outer eye corners,
        3-D, pixels), mouth opening, smile width, brow raise (IOD), eye openness (ratio), face motion (IOD per
        frame); all NaN when the IOD is not positive.
    """
    m = MESH

    def d(i: str, j: str) -> float:
        return float(np.linalg.norm(mesh[m[i]] - mesh[m[j]]))

    yaw, pitch, roll = head_pose(mesh, _MODEL_POINTS, _MODEL_INDEX, camera, method)
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
    if prev_mesh is not None:
        motion = nonrigid_displacement(prev_mesh[:468], mesh[:468]) / iod
    centre = mesh[:468, :2].mean(axis=0)
    return np.array([
        yaw, pitch, roll, centre[0], centre[1], iod, d("lip_upper_inner", "lip_lower_inner") / iod,
        d("mouth_r", "mouth_l") / iod, brow / iod, openness, motion,
    ])


def _kabsch(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rotation between centred point sets (Kabsch): ``x @ rot`` best matches ``y`` (``rot @ y_i``
    matches ``x_i``), a proper rotation (no reflection); and the singular values with the reflection's sign."""
    u, s, vt = np.linalg.svd(x.T @ y)
    d = np.diag([1.0] * (x.shape[1] - 1) + [np.sign(np.linalg.det(u @ vt)) or 1.0])
    return u @ d @ vt, s * np.diag(d)


def rigid_rotation(model: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Least-squares rotation taking centred ``model`` points onto centred ``points`` (Kabsch; scale ignored)."""
    return _kabsch(points - points.mean(axis=0), model - model.mean(axis=0))[0]


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
    p, c = prev - prev.mean(axis=0), cur - cur.mean(axis=0)
    rot, singular = _kabsch(c, p)
    var = (c**2).sum()
    scale = singular.sum() / var if var > 0 else 1.0
    aligned = scale * c @ rot
    return float(np.linalg.norm(aligned - p, axis=1).mean())
