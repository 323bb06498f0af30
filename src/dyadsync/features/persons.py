"""Who is who in the frame: per-person regions of interest (ROIs) and their names (roles).

A dyad has two persons. By convention the first one is person A and the second person B: a positive synchrony
lag always means that B follows A. By default A is the left half of the frame (named ``left``) and B the right
half (``right``); a session can give them roles instead (``patient``, ``therapist``) and place the ROIs anywhere,
in pixels or as fractions of the frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._validate import check_array, check_names, check_option, check_positive, check_real
from ..errors import AnalysisError, ConfigError

#: Default person names, in A, B order.
DEFAULT_PERSONS = ("left", "right")


@dataclass(frozen=True)
class ROI:
    """A rectangular region of the frame belonging to one person.

    Attributes
    ----------
    name : str
        Person id written to every output (``left``, ``right``, ``patient``, ...).
    x, y : float
        Top-left corner, in pixels or as a fraction of frame width/height (see ``units``).
    width, height : float
        Size, in the same units.
    units : {"fraction", "px"}
        Whether the numbers are fractions of the frame (0-1) or pixels.
    """

    name: str
    x: float
    y: float
    width: float
    height: float
    units: str = "fraction"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"an ROI needs a person name, got {self.name!r}")
        for field_name in ("x", "y", "width", "height"):
            check_real(f"ROI {self.name!r} {field_name}", getattr(self, field_name))
        check_option(f"ROI {self.name!r} units", self.units, ("fraction", "px"))
        if self.width <= 0 or self.height <= 0:
            raise ConfigError(f"ROI {self.name!r} must have a positive width and height, got {self.width}x{self.height}")
        if self.x < 0 or self.y < 0:
            raise ConfigError(f"ROI {self.name!r} must start inside the frame, got x={self.x}, y={self.y}")
        if self.units == "fraction" and (self.x + self.width > 1 + 1e-9 or self.y + self.height > 1 + 1e-9):
            raise ConfigError(
                f"ROI {self.name!r} extends past the frame: x+width={self.x + self.width:g}, "
                f"y+height={self.y + self.height:g} (fractions must stay within 0-1)"
            )

    def to_pixels(self, frame_width: int, frame_height: int) -> tuple[int, int, int, int]:
        """Integer pixel box ``(x0, y0, x1, y1)`` (x1, y1 exclusive) clipped to the frame.

        Raises
        ------
        ConfigError
            When the box lies outside the frame or is empty after clipping.
        """
        if self.units == "fraction":
            x0, x1 = self.x * frame_width, (self.x + self.width) * frame_width
            y0, y1 = self.y * frame_height, (self.y + self.height) * frame_height
        else:
            x0, x1, y0, y1 = self.x, self.x + self.width, self.y, self.y + self.height
        box = (
            max(0, int(round(x0))),
            max(0, int(round(y0))),
            min(frame_width, int(round(x1))),
            min(frame_height, int(round(y1))),
        )
        if box[2] <= box[0] or box[3] <= box[1]:
            raise ConfigError(
                f"ROI {self.name!r} ({self.x}, {self.y}, {self.width}, {self.height} {self.units}) lies outside "
                f"the {frame_width}x{frame_height} frame"
            )
        return box


def default_rois(names: Sequence[str] = DEFAULT_PERSONS) -> list[ROI]:
    """Left and right halves of the frame, named after ``names`` (A = left, B = right)."""
    names = check_names("person names", names)
    if len(names) != 2:
        raise ConfigError(f"a dyad has two persons, got {len(names)} names: {list(names)}")
    return [ROI(names[0], 0.0, 0.0, 0.5, 1.0), ROI(names[1], 0.5, 0.0, 0.5, 1.0)]


def resolve_rois(rois: Sequence[ROI] | None) -> list[ROI]:
    """The persons' ROIs an extractor was given, or the default left and right halves for None.

    Raises
    ------
    ConfigError
        For anything but a sequence of :class:`ROI`, or two ROIs of one name.
    """
    if rois is None:
        return default_rois(DEFAULT_PERSONS)
    out = list(rois) if isinstance(rois, Iterable) and not isinstance(rois, (str, bytes, ROI)) else None
    if out is None or not all(isinstance(r, ROI) for r in out):
        raise ConfigError(f"rois must be a sequence of ROI, got {rois!r}")
    names = [r.name for r in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"ROI names must be unique, got {names}")
    return out


def parse_rois(
    spec: Mapping[str, Any] | None,
    names: Sequence[str] = DEFAULT_PERSONS,
    *,
    units: str = "fraction",
) -> list[ROI]:
    """Build the two persons' ROIs from a config mapping ``{name: [x, y, width, height]}``.

    Parameters
    ----------
    spec : mapping or None
        ``{person: [x, y, width, height]}`` or ``{person: {"x":..., "y":..., "width":..., "height":...}}``.
        None or empty gives the default left/right halves.
    names : sequence of str
        The two person names in A, B order; ``spec`` must name exactly these.
    units : {"fraction", "px"}
        Units of the numbers in ``spec``.

    Returns
    -------
    list of ROI
        In A, B order.
    """
    names = check_names("person names", names)
    if spec is not None and not isinstance(spec, Mapping):
        raise ConfigError(f"ROIs must be given as {{person: [x, y, width, height]}}, got {spec!r}")
    if not spec:
        return default_rois(names)
    unknown = sorted(set(spec) - set(names))
    missing = [n for n in names if n not in spec]
    if unknown or missing:
        raise ConfigError(
            f"ROIs must be given for exactly the persons {names}; unknown: {unknown or 'none'}, "
            f"missing: {missing or 'none'}"
        )
    rois = []
    for name in names:
        box = spec[name]
        if isinstance(box, Mapping):
            try:
                values = [box["x"], box["y"], box["width"], box["height"]]
            except KeyError as exc:
                raise ConfigError(f"ROI {name!r} lacks {exc.args[0]!r} (need x, y, width, height)") from None
        elif isinstance(box, (str, bytes)) or not isinstance(box, Iterable):
            raise ConfigError(f"ROI {name!r} must be [x, y, width, height], got {box!r}")
        else:
            values = list(box)
        if len(values) != 4:
            raise ConfigError(f"ROI {name!r} must be [x, y, width, height], got {box!r}")
        try:
            x, y, w, h = (float(v) for v in values)
        except (TypeError, ValueError):
            raise ConfigError(f"ROI {name!r} must hold four numbers, got {box!r}") from None
        rois.append(ROI(name, x, y, w, h, units))
    return rois


#: Pose landmarks of the head (MediaPipe Pose indices 0-10: nose, eyes, ears, mouth corners).
HEAD_LANDMARKS = tuple(range(11))


def head_region(
    landmarks: Any, *, scale: float = 2.0, min_visibility: float = 0.5
) -> tuple[float, float, float] | None:
    """Square head region of one person, derived from the person's MediaPipe pose landmarks.

    The centre is the mean of the nose and the two ears; the size is ``scale`` times the head's width, taken as
    the largest of the ear-to-ear distance, twice the distance of the outer eye corners and 0.4 shoulder widths
    (so that a head turned in profile, whose ears overlap, keeps a sensible region).

    Parameters
    ----------
    landmarks : array-like, shape (33, 4)
        Pose landmarks: x, y in frame pixels, z, visibility (0-1); NaN when no pose was found.
    scale : float, default 2
        Side of the region in head widths.
    min_visibility : float, default 0.5
        The head landmarks' mean visibility must reach this, else there is no region.

    Returns
    -------
    (centre_x_px, centre_y_px, side_px) or None
    """
    import numpy as np

    check_positive("scale", scale)
    check_real("min_visibility", min_visibility)
    lm = check_array("landmarks", landmarks, ndim=2).astype(float)
    if lm.shape[0] < 13 or lm.shape[1] < 4:
        raise AnalysisError(f"landmarks must be MediaPipe's 33 pose landmarks x (x, y, z, visibility), got {lm.shape}")
    head = lm[list(HEAD_LANDMARKS)]
    if not np.isfinite(head).all() or head[:, 3].mean() < min_visibility:
        return None
    nose, ear_l, ear_r = lm[0, :2], lm[7, :2], lm[8, :2]
    eye_l, eye_r = lm[3, :2], lm[6, :2]
    width = max(float(np.linalg.norm(ear_l - ear_r)), 2.0 * float(np.linalg.norm(eye_l - eye_r)))
    if np.isfinite(lm[11:13, :2]).all():
        width = max(width, 0.4 * float(np.linalg.norm(lm[11, :2] - lm[12, :2])))
    if not width > 0:
        return None
    centre = (nose + ear_l + ear_r) / 3.0
    return float(centre[0]), float(centre[1]), scale * width
