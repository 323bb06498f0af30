"""Motion energy throughput against bare decoding of the same file, measured in the same run.

    .venv/bin/python benchmarks/bench_motion_energy.py [VIDEO]

Bar (issue 3): motion energy runs at >= 50% of the throughput of bare decoding.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import av

from dyadsync.features import motion_energy
from dyadsync.io.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]


def bare_decode(path: Path) -> int:
    """Decode every frame with the same decoder settings, touching nothing: the floor for any analysis."""
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            n += 1
    return n


def luma_only(path: Path) -> int:
    return sum(1 for _ in iter_frames(path))


def best_of(fn, path: Path, repeats: int = 3) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(path)
        times.append(time.perf_counter() - t)
        n = out if isinstance(out, int) else out[1]["n_frames"]
    return min(times), n


def main() -> None:
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "sample_data" / "dyad_session.mp4"
    warnings.simplefilter("ignore")
    t_dec, n = best_of(bare_decode, video)
    t_luma, _ = best_of(luma_only, video)
    t_me, n_me = best_of(motion_energy, video)
    assert n == n_me
    print(f"video: {video.name}, {n} frames (best of 3 runs each)")
    print(f"bare decoding         {t_dec:6.2f} s  {n / t_dec:7.0f} frames/s")
    print(f"decode + luma plane   {t_luma:6.2f} s  {n / t_luma:7.0f} frames/s  ratio {t_dec / t_luma:.2f}")
    print(f"motion energy         {t_me:6.2f} s  {n / t_me:7.0f} frames/s  ratio {t_dec / t_me:.2f} (bar >= 0.50)")


if __name__ == "__main__":
    main()
