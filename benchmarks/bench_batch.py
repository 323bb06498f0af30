"""Batch scaling and worker memory.

    .venv/bin/python benchmarks/bench_batch.py [--pipeline pipelines/multimodal.toml] [--sessions 8]
        [--session-s 40] [--long-minutes 30 (0: skip)] (--sessions 0 skips part 1)

1. The same 8 sessions on a Dask LocalCluster of 1 worker and of 2 workers (single-threaded workers, fresh
   output folders, so nothing is cached): prints both wall times and the speed-up (bar: >= 1.7x on 2 cores).
2. One 30-minute session (the sample looped 15 times, without re-encoding, with its moments of meeting repeated
   in each loop, so every stage runs) in a fresh worker process: prints the worker's peak resident memory (bar:
   < 1.5 GB).

The default is the main job, the multimodal pipeline (motion energy, pose, face, voice; about 30 s of one core
per 40-s session; the 30-minute session took 22 minutes here). With ``pipelines/body_mea.toml`` a 40-s session
takes about 2 s, and the batch's serial part (starting the cluster, the across-session results and the batch
report, about 3 s) bounds the speed-up below 1.7x on 8 sessions; use longer sessions (``--session-s 120``) to
measure the scaling of the sessions themselves.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "dyad_session.mp4"


def make_sessions(folder: Path, n: int, pipeline: Path, duration_s: float) -> Path:
    from dyadsync.simulate.session import remux_session

    rows = []
    for i in range(n):
        start = (i * 10.0) % max(10.0, 120.0 - duration_s)
        video = folder / f"s{i + 1:02d}.mp4"
        remux_session(SAMPLE, video, start_s=start, duration_s=duration_s)
        rows.append(f"s{i + 1:02d},{video},{pipeline}")
    manifest = folder / "manifest.csv"
    manifest.write_text("id,video,pipeline\n" + "\n".join(rows) + "\n")
    return manifest


def time_batch(manifest: Path, out: Path, workers: int) -> float:
    from dyadsync.pipeline.batch import run_batch

    t = time.perf_counter()
    result = run_batch(manifest, out, dask_local=workers, quiet=True, progress=False)
    elapsed = time.perf_counter() - t
    assert not result.failed, [o.error for o in result.failed]
    return elapsed


def long_codes(folder: Path, repeat: int) -> Path:
    """The sample's moments of meeting, repeated with each loop of the sample (times in seconds)."""
    from dyadsync.io.events import read_events

    events = read_events(ROOT / "sample_data" / "moments_of_meeting.csv")
    rows = [f"{on + 120.0 * k:.3f},{off + 120.0 * k:.3f},{code}" for k in range(repeat)
            for on, off, code in zip(events["onset_s"], events["offset_s"], events["code"])]
    path = folder / "long_codes.csv"
    path.write_text("onset,offset,code\n" + "\n".join(rows) + "\n")
    return path


def _worker(video: str, out: str, pipeline: str, codes: str) -> None:
    import os

    from dyadsync._parallel import single_threaded_env
    from dyadsync.pipeline.batch import process_session
    from dyadsync.pipeline.config import load_pipeline
    from dyadsync.pipeline.manifest import SessionSpec

    os.environ.update(single_threaded_env())
    warnings.simplefilter("ignore")  # the looped session's overlapping epochs are warned about at length
    spec = SessionSpec(id="long", video=Path(video), dyad="long", codes=[Path(codes)],
                       config=load_pipeline(pipeline))
    outcome = process_session(spec, out, Path(out) / ".cache")
    if outcome["status"] != "done":
        raise SystemExit(outcome["error"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipeline", type=Path, default=ROOT / "pipelines" / "multimodal.toml")
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--session-s", type=float, default=40.0, help="length of each batch session (s)")
    parser.add_argument("--long-minutes", type=int, default=30, help="0 skips the memory run")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.sessions > 0:
            manifest = make_sessions(tmp, args.sessions, args.pipeline.resolve(), args.session_s)
            t1 = time_batch(manifest, tmp / "one", 1)
            t2 = time_batch(manifest, tmp / "two", 2)
            print(f"{args.sessions} sessions of {args.session_s:g} s, pipeline {args.pipeline.name}, "
                  "Dask LocalCluster")
            print(f"  1 worker   {t1:7.1f} s")
            print(f"  2 workers  {t2:7.1f} s   speed-up {t1 / t2:.2f}x (bar >= 1.7x)")

        if args.long_minutes <= 0:
            return
        from dyadsync.simulate.session import remux_session

        long_video = tmp / "long.mp4"
        repeat = max(1, args.long_minutes // 2)
        remux_session(SAMPLE, long_video, repeat=repeat)
        codes = long_codes(tmp, repeat)
        ctx = mp.get_context("spawn")
        t = time.perf_counter()
        worker_args = (str(long_video), str(tmp / "long"), str(args.pipeline.resolve()), str(codes))
        proc = ctx.Process(target=_worker, args=worker_args)
        proc.start()
        proc.join()
        elapsed = time.perf_counter() - t
        if proc.exitcode != 0:
            sys.exit(f"the long session failed (exit code {proc.exitcode})")
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{args.long_minutes}-minute session, one single-threaded worker: {elapsed:.0f} s "
              f"({args.long_minutes * 60 / elapsed:.1f}x real time), peak memory {peak_mb:.0f} MB (bar < 1536 MB)")


if __name__ == "__main__":
    main()
