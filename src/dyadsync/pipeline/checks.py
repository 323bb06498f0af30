"""Everything a session run can check before the long work, reported all at once.

A pipeline can be valid on its own and still not fit a recording: a synchrony window longer than the video, epochs
or minimum shifts that leave no room in it, ROIs outside the frame. :func:`check_session` finds every such problem
from the probed video alone (no frame decoded), and :func:`check_output_dir` whether the output folder can be
written. Each problem names the setting that fixes it, as written in the pipeline file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError, InputError
from ..features.persons import ROI
from ..io.video import VideoInfo
from .config import PipelineConfig


def _where(config: PipelineConfig) -> str:
    return str(config.source) if config.source else "the built-in pipeline"


def check_session(config: PipelineConfig, meta: VideoInfo, rois: list[ROI], *, with_events: bool) -> list[str]:
    """Problems of this pipeline on this video, each naming the key to change (empty: none).

    Parameters
    ----------
    config : PipelineConfig
    meta : VideoInfo
        The probed video (size and duration).
    rois : list of ROI
        The persons' regions.
    with_events : bool
        Whether coded events will be analysed (the moments settings are checked then).
    """
    problems = []
    for roi in rois:
        try:
            roi.to_pixels(meta.width, meta.height)
        except ConfigError as exc:
            problems.append(f"[persons] rois: {exc}")
    duration = meta.duration_s
    if not duration:
        return problems
    s, m = config.synchrony, config.moments
    stages = config.pipeline.stages
    if s.features and s.window_s > duration:
        problems.append(
            f"[synchrony] window_s = {s.window_s:g} s is longer than the video ({duration:.1f} s): no window fits; "
            f"set [synchrony] window_s below {duration:.1f}"
        )
    if not with_events or "moments" not in stages:
        return problems
    half = duration / 2
    if m.min_shift_s and m.min_shift_s >= half:
        problems.append(
            f"[moments] min_shift_s = {m.min_shift_s:g} s leaves no room for circular shifts of the event times in "
            f"a video of {duration:.1f} s: set [moments] min_shift_s below {half:.1f} (0 chooses it from the data)"
        )
    if m.surrogate_min_shift_s and m.surrogate_min_shift_s >= half:
        problems.append(
            f"[moments] surrogate_min_shift_s = {m.surrogate_min_shift_s:g} s leaves no room for the shifted-pair "
            f"surrogates of the peak threshold in a video of {duration:.1f} s: set [moments] surrogate_min_shift_s "
            f"below {half:.1f} (0 chooses it from the window and the session's length)"
        )
    return problems


def raise_problems(problems: list[str], config: PipelineConfig, video: Path) -> None:
    """One :class:`~dyadsync.errors.ConfigError` listing every problem, naming the pipeline file and the video."""
    if not problems:
        return
    listed = problems[0] if len(problems) == 1 else "; ".join(f"({k}) {p}" for k, p in enumerate(problems, 1))
    raise ConfigError(f"{_where(config)}: does not fit {video.name}: {listed}")


def check_output_dir(out: Path) -> None:
    """The output folder exists as a folder (or can be made) and can be written, else a one-line error.

    Raises
    ------
    InputError
        Naming the folder and what is wrong (a file of that name, no permission, a parent that is a file).
    """
    if out.exists() and not out.is_dir():
        raise InputError(out, "the output folder is a file; give a folder (it is created when missing)")
    parent = out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(out, f"cannot create the output folder: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(out, f"cannot write the output folder: no permission to write in {parent}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder ({exc.strerror or exc})") from None


__all__ = ["check_output_dir", "check_session", "raise_problems"]
