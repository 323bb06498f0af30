"""Pose + face for both persons at 10 Hz on a 640x360 dyad: time per stage and the ratio to real time.

    .venv/bin/python benchmarks/bench_pose_face.py [VIDEO] [--seconds S] [--rate HZ]

Bar (issue 5): pose + face for both people at 10 Hz on a 640x360 dyad at >= 2x real time on a 2-core machine
(a 60-minute session in <= 30 minutes). Printed: the wall-clock time of the whole pass and its ratio to the
video's duration, the busy time of each stage (decode in the main thread; crop, pose, face and features in each
person's worker thread, which run in parallel), the same-run single-thread baseline of the two persons one after
the other, and the machine's load while measuring (other processes share the cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cut(video: Path, seconds: float, out: Path) -> Path:
    """The first ``seconds`` of ``video``, re-muxed without re-encoding (keeps the codec and frame size)."""
    import av

    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        vin = src.streams.video[0]
        vout = dst.add_stream_from_template(vin)
        for packet in src.demux(vin):
            if packet.dts is None:
                continue
            if packet.pts is not None and float(packet.pts * vin.time_base) >= seconds:
                break
            packet.stream = vout
            dst.mux(packet)
    return out


def main() -> None:
    from dyadsync.features import default_rois
    from dyadsync.features._mediapipe import Settings, run_pass
    from dyadsync.features.face import face_table
    from dyadsync.features.pose import pose_table
    from dyadsync.io.video import probe_video

    parser = argparse.ArgumentParser()
    parser.add_argument("video", nargs="?", type=Path, default=ROOT / "sample_data" / "dyad_session.mp4")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of video to process (s)")
    parser.add_argument("--rate", type=float, default=10.0, help="analysis rate (frames/s)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        video = _cut(args.video, args.seconds, Path(tmp) / "cut.mp4")
        meta = probe_video(video)
        duration = meta.duration_s or args.seconds
        settings = Settings()
        load0 = os.getloadavg()[0]

        # memory: the peak after a pass over a third of the video, then after the whole one (flat = equal)
        short = _cut(args.video, args.seconds / 3, Path(tmp) / "short.mp4")
        run_pass(short, default_rois(), rate_hz=args.rate, settings=settings)
        rss_short = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # same-run baseline: one person after the other, one thread at a time
        serial = 0.0
        for roi in default_rois():
            t = time.perf_counter()
            run_pass(video, [roi], rate_hz=args.rate, settings=settings)
            serial += time.perf_counter() - t

        t, cpu = time.perf_counter(), time.process_time()
        result = run_pass(video, default_rois(), rate_hz=args.rate, settings=settings)
        t_pass = time.perf_counter() - t
        cpu_pass = time.process_time() - cpu
        t = time.perf_counter()
        pose_table(result)
        face_table(result)
        t_tables = time.perf_counter() - t
        total = t_pass + t_tables
        load1 = os.getloadavg()[0]
        rss_long = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n = len(result.tracks["left"].times_s)
    timings = result.timings
    print(f"video: {args.video.name}, first {duration:.1f} s, {meta.width}x{meta.height} at {meta.fps:g} fps; "
          f"{n} frames analysed per person at {args.rate:g} Hz; {os.cpu_count()} cores; load average "
          f"{load0:.1f} before, {load1:.1f} after")
    print(f"{'stage':<28}{'time (s)':>10}{'ms/frame':>10}")
    print(f"{'model set-up':<28}{timings['setup_s']:10.2f}")
    print(f"{'decode (main thread)':<28}{timings['decode_s']:10.2f}{timings['decode_s'] / n * 1000:10.1f}")
    for person, stages in timings["per_person"].items():
        for stage in ("crop_s", "pose_s", "face_s", "features_s"):
            label = f"{stage[:-2]} ({person})"
            print(f"{label:<28}{stages[stage]:10.2f}{stages[stage] / n * 1000:10.1f}")
    print(f"{'feature tables':<28}{t_tables:10.2f}")
    print(f"both persons, two threads: {total:.2f} s for {duration:.1f} s of video = {duration / total:.2f}x real "
          f"time (bar >= 2x; a 60-min session in {60 * total / duration:.0f} min)")
    cores = min(2, os.cpu_count() or 1)
    print(f"CPU time of the pass (all threads): {cpu_pass:.2f} s; on {cores} otherwise idle cores the pass needs at "
          f"least {cpu_pass / cores:.2f} s = at most {duration / (cpu_pass / cores + t_tables):.2f}x real time")
    print(f"peak memory (RSS): {rss_short:.0f} MB after a {args.seconds / 3:.0f} s pass, {rss_long:.0f} MB after the "
          f"{args.seconds:.0f} s passes")
    print(f"same-run baseline, one person after the other: {serial:.2f} s = {duration / serial:.2f}x real time; "
          f"parallel speed-up {serial / t_pass:.2f}x")


if __name__ == "__main__":
    main()
