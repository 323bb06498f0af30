"""What the extractors of this package hand back: the long table of several persons and the head of the info dict.

The table format itself is :mod:`dyadsync.io.tables`; the ``(features, info)`` convention is described in
:mod:`dyadsync.features`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..io.tables import concat_tables, long_table
from ..io.video import DecodeStats, VideoInfo


def persons_table(parts: list[tuple[np.ndarray, dict[tuple[str, str], np.ndarray]]]) -> pd.DataFrame:
    """One long table from each person's ``(times, columns)``, as :func:`long_table` per person then joined.

    Persons analysed on the same frames (one MediaPipe pass) are stacked in one go, without the copy of joining.
    """
    if not parts:
        return long_table(np.zeros(0), {})
    if all(np.array_equal(parts[0][0], times) for times, _ in parts[1:]):
        return long_table(parts[0][0], {key: v for _, columns in parts for key, v in columns.items()})
    return concat_tables([long_table(times, columns) for times, columns in parts])


def video_info(
    method: str,
    parameters: Mapping[str, Any],
    rois_px: Mapping[str, list[int]],
    video: VideoInfo,
    decode: DecodeStats,
    rate_hz: float | None,
    *,
    model: str | None = None,
    regions_px: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The first entries of a video extractor's info dict, the same in every extractor and in this order.

    Parameters
    ----------
    method : str
        Name of the method (``motion_energy``, ``mediapipe_pose``, ...).
    parameters : mapping
        The parameters used.
    rois_px : mapping of person to [x0, y0, x1, y1]
        Each person's ROI in pixels, A first (its keys are the ``persons``).
    video : VideoInfo
        The video's properties.
    decode : DecodeStats
        Decoding statistics.
    rate_hz : float or None
        Analysis rate in frames per second (None: every frame).
    model : str or None
        Description of the model used, when there is one (written after ``version``).
    regions_px : mapping or None
        Further regions in pixels (a background ROI), written after ``rois_px``.

    Returns
    -------
    dict
        ``method``, ``version``, [``model``], ``parameters``, ``persons``, ``rois_px``, [``regions_px``'s keys],
        ``video``, ``decode``, ``rate_hz``; the extractor adds its own entries after these.
    """
    info: dict[str, Any] = {"method": method, "version": __version__}
    if model is not None:
        info["model"] = model
    info["parameters"] = dict(parameters)
    info["persons"] = list(rois_px)
    info["rois_px"] = dict(rois_px)
    info.update(regions_px or {})
    info["video"] = video.as_dict()
    info["decode"] = decode.as_dict()
    info["rate_hz"] = rate_hz
    return info
