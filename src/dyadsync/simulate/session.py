"""Write a whole simulated session to a folder: video with audio, coded moments, ground truth.

This is how ``sample_data/`` is made (see ``sample_data/make_sample.py``), and how tests and benchmarks make
sessions of any length.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..io.events import write_eaf, write_events_csv
from ..io.store import atomic_path, write_csv, write_json
from .dyad import simulate_dyad
from .render import Artefacts, render_dyad_video
from .voice import simulate_conversation, synthesize_voices

VIDEO_NAME = "dyad_session.mp4"


def write_session(
    out_dir: str | Path,
    *,
    duration_s: float = 120.0,
    fps: float = 25.0,
    lag_s: float = 0.8,
    episodes: Sequence[tuple[float, float]] | None = None,
    coupling: float = 1.0,
    artefacts: Artefacts = Artefacts(),
    absences: dict[str, Sequence[tuple[float, float]]] | None = None,
    audio: bool = True,
    sample_rate: int = 16000,
    width: int = 640,
    height: int = 360,
    seed: int = 0,
    video_name: str = VIDEO_NAME,
) -> dict[str, Any]:
    """Simulate a dyad and write its session files to ``out_dir``.

    Writes ``<video_name>`` (H.264/MP4, stereo AAC unless ``audio=False``), ``moments_of_meeting.csv`` (clock
    times ``mm:ss.fff``), ``moments_of_meeting.eaf`` (ELAN), ``planted_motion.csv`` (per frame and person: the
    planted parameters, the head centre in frame pixels, presence), ``planted_turns.csv`` and ``ground_truth.json``.

    Parameters
    ----------
    out_dir : str or Path
    duration_s, fps, lag_s, episodes, coupling, seed
        See :func:`dyadsync.simulate.simulate_dyad`.
    artefacts : Artefacts
        Planted lighting flickers and camera bumps.
    absences : dict or None
        Times when a person is out of the frame.
    audio : bool, default True
        Add the stereo conversation track.
    sample_rate : int, default 16000
        Audio sample rate, Hz.
    width, height : int
        Frame size, pixels.
    video_name : str
        File name of the video.

    Returns
    -------
    dict
        The ground truth as written to ``ground_truth.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dyad = simulate_dyad(duration_s=duration_s, rate_hz=fps, lag_s=lag_s, episodes=episodes, coupling=coupling,
                         seed=seed)
    persons = dyad.truth["persons"]
    times = dyad.parameters(persons[0]).index.to_numpy()
    turns = None
    sound = None
    if audio:
        turns = simulate_conversation(duration_s=duration_s, episodes=dyad.truth["episodes"], persons=persons,
                                      seed=seed + 1)
        sound = synthesize_voices(turns, duration_s=duration_s, sample_rate=sample_rate, persons=persons,
                                  seed=seed + 2)
    track = render_dyad_video(
        dyad, out / video_name, width=width, height=height, audio=sound, audio_rate=sample_rate,
        artefacts=artefacts, absences=absences, seed=seed + 3,
    )
    write_events_csv(dyad.events, out / "moments_of_meeting.csv", clock=True)
    write_eaf(dyad.events, out / "moments_of_meeting.eaf", media_file=video_name)
    motion = pd.concat([dyad.parameters(p).assign(person=p) for p in persons]).reset_index()
    motion = motion.merge(track[["time_s", "person", "head_center_x_px", "head_center_y_px", "present"]],
                          on=["time_s", "person"], how="left")
    cols = ["time_s", "person", "activity", *[c for c in motion.columns if c.endswith(("_px", "_deg"))],
            "planted_speed", "present"]
    write_csv(motion[cols].round(4), out / "planted_motion.csv")
    truth: dict[str, Any] = {
        "generator": f"dyadsync {__version__} dyadsync.simulate.write_session",
        "seed": seed,
        "video": {"file": video_name, "width": width, "height": height, "fps": fps, "duration_s": duration_s,
                  "codec": "h264 (libx264, yuv420p)", "persons_left_to_right": persons,
                  "rois": {persons[0]: [0.0, 0.0, 0.5, 1.0], persons[1]: [0.5, 0.0, 0.5, 1.0]}},
        "movement": dyad.truth,
        "artefacts": {**artefacts.as_dict(),
                      "frame_times_s": [round(float(t), 4) for t in times[artefacts.frames(times)]]},
        "absences": {p: [list(a) for a in v] for p, v in (absences or {}).items()},
        "moments_of_meeting": {"code": "MoM", "files": ["moments_of_meeting.csv", "moments_of_meeting.eaf"],
                               "times_s": dyad.truth["episodes"]},
        "files": {"planted_motion": "planted_motion.csv", "planted_turns": "planted_turns.csv" if audio else None},
    }
    if turns is not None:
        write_csv(turns.drop(columns=["syllables", "contour"]).round(4), out / "planted_turns.csv")
        truth["audio"] = {
            "sample_rate": sample_rate, "channels": {"0": persons[0], "1": persons[1]}, "codec": "aac",
            "crosstalk_db": -24.0, "noise_db": -60.0,
            "f0_hz": {persons[0]: 220.0, persons[1]: 130.0}, "converged_f0_hz": {persons[1]: 205.0},
            "pitch_convergence": f"turns of {persons[1]} starting inside an episode are spoken at 205 Hz "
                                 f"(vs 130 Hz elsewhere), near {persons[0]}'s 220 Hz",
            "n_turns": int(len(turns)),
        }
    write_json(truth, out / "ground_truth.json")
    return truth


def remux_session(
    src: str | Path,
    dst: str | Path,
    *,
    start_s: float = 0.0,
    duration_s: float | None = None,
    repeat: int = 1,
    audio: bool = True,
    delay_s: dict[str, float] | None = None,
) -> Path:
    """Cut and/or loop a session video without re-encoding (packets are copied, timestamps shifted).

    Makes test and benchmark sessions of any length from the sample in seconds: a cut starts at the first
    keyframe at or after ``start_s`` (which becomes time 0); ``repeat`` appends the selection that many times.

    Parameters
    ----------
    src, dst : str or Path
        Source video and the ``.mp4`` to write (atomically).
    start_s : float, default 0
        Start of the cut in seconds (snapped forward to a video keyframe).
    duration_s : float or None
        Length of the cut; None runs to the end.
    repeat : int, default 1
        How many times the selection is played one after the other.
    audio : bool, default True
        Keep the sound track (False makes a video without audio).
    delay_s : dict of {"video", "audio"} -> float, or None
        Start a stream's timestamps this many seconds late (e.g. ``{"video": 1.0}``: a file whose picture starts
        1 s after its sound, as some cameras and remuxes write them); its content stays aligned in presentation
        time.

    Returns
    -------
    Path
    """
    import math

    import av

    end_s = math.inf if duration_s is None else start_s + duration_s
    delay_s = dict(delay_s or {})
    kinds = ("video", "audio") if audio else ("video",)

    def selected(container: Any) -> Any:
        streams = [s for s in container.streams if s.type in kinds]
        started: set[int] = set()
        for packet in container.demux(streams):
            if packet.dts is None:
                continue
            s = packet.stream
            t = float((packet.pts if packet.pts is not None else packet.dts) * s.time_base)
            if s.type == "video" and s.index not in started:
                if t < start_s - 1e-9 or not packet.is_keyframe:
                    continue
                started.add(s.index)
            if start_s - 1e-9 <= t < end_s - 1e-9:
                yield packet

    first: dict[int, int] = {}
    end: dict[int, int] = {}
    with av.open(str(src)) as inp:
        for p in selected(inp):
            i = p.stream.index
            first.setdefault(i, p.dts)
            end[i] = max(end.get(i, p.dts), p.dts + (p.duration or 0))
    with atomic_path(dst) as tmp:
        out = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
        streams: dict[int, Any] = {}
        for rep in range(repeat):
            with av.open(str(src)) as inp:
                for s in inp.streams:
                    if s.type in kinds and s.index not in streams:
                        streams[s.index] = out.add_stream_from_template(s)
                for p in selected(inp):
                    i = p.stream.index
                    # The cut's start becomes 0; each repeat follows the previous one without a gap.
                    shift = rep * (end[i] - first[i]) - int(round(start_s / p.stream.time_base))
                    shift += int(round(delay_s.get(p.stream.type, 0.0) / p.stream.time_base))
                    pts = p.pts if p.pts is not None else p.dts
                    p.dts += shift
                    p.pts = pts + shift
                    p.stream = streams[i]
                    out.mux(p)
        out.close()
    return Path(dst)
