"""Synchrony engine: speed against rMEA 1.3.0's measured times, surrogate throughput, null rates, accuracy.

    .venv/bin/python benchmarks/bench_synchrony.py [--quick]

Bars (issue 4), each printed with the ratio:
- the 20 rMEA dyads (../shared/data/rmea) at window 60 s / step 30 s / lag 5 s: >= 20x faster than rMEA's 4.4 s;
- the same at 30 / 10 / 5 s: >= 20x faster than 7.8 s;
- 50 pseudo-dyads (rMEA's shuffle + MEAccf, README pipeline: smoothed, scaled, 30 / 10 / 5 s, signed):
  >= 20x faster than 21.6 s;
- 1000 circular-shift surrogates of a 50-minute session at 10 Hz (60 s windows, 1 s step, +-5 s lags): < 10 s;
- with no coupling, surrogate tests reject at 5% +- 2.5% (circular shift over 1000 seeds; segment shuffling and
  IAAFT over 200 seeds).

rMEA's times are the issue's measurements (R 4.2, single core). Same-run baselines are printed beside them: a
literal transcription of rMEA's R loops in NumPy (tests/rmea_literal.py) and a loop of single engine runs.
Times are the best of three runs, wall clock and CPU time of this process: on a shared machine the wall clock
grows with the load (printed), the CPU time much less.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from dyadsync.io.mea_files import read_mea_series
from dyadsync.synchrony import (
    circular_shift,
    compare,
    global_index,
    iaaft_surrogates,
    mea_ccf,
    mea_scale,
    mea_smooth,
    pseudo_dyad_pairs,
    rmea_summaries,
    segment_shuffle,
    windowed_cross_correlation,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "tests"))

RMEA_SECONDS = {"60/30/5": 4.4, "30/10/5": 7.8, "pseudo50": 21.6}


def timed(fn, repeats: int = 3) -> tuple[float, float, object]:
    """Best wall and CPU time of ``repeats`` runs, and the last result."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


def line(label: str, wall: float, cpu: float, reference: float | None = None, bar: str = "") -> None:
    ratio = ""
    if reference:
        ratio = f"  {reference / wall:6.1f}x faster than {reference:g} s (CPU: {reference / cpu:6.1f}x)"
    print(f"  {label:<44} wall {wall:7.3f} s  cpu {cpu:7.3f} s{ratio} {bar}")


def rmea_speed(quick: bool) -> None:
    files = sorted((SHARED / "rmea").glob("*/*.txt"))
    if len(files) != 20:
        print("  ../shared/data/rmea not found: rMEA speed skipped")
        return
    t_read, c_read, data = timed(lambda: [read_mea_series(f)[0] for f in files], 1)
    print(f"  reading the 20 files: wall {t_read:.3f} s, cpu {c_read:.3f} s (not included below)")
    for key, (win, inc) in (("60/30/5", (60, 30)), ("30/10/5", (30, 10))):
        wall_r, cpu_r, _ = timed(lambda: [mea_ccf(v[:, 0], v[:, 1], rate_hz=25, lag_s=5, window_s=win, step_s=inc)
                                          for v in data])
        line(f"20 dyads, rMEA mode, {key} s, z, abs", wall_r, cpu_r, RMEA_SECONDS[key], "(bar >= 20x)")
        wall, cpu, _ = timed(lambda: [windowed_cross_correlation(v[:, 0], v[:, 1], rate_hz=25, window_s=win,
                                                                 step_s=inc, max_lag_s=5) for v in data])
        line(f"20 dyads, dyadsync engine, {key} s", wall, cpu, RMEA_SECONDS[key])
        if not quick:
            import rmea_literal as lit

            wall_l, cpu_l, _ = timed(lambda: [lit.mea_ccf(v[:, 0], v[:, 1], 25, 5, win, inc) for v in data], 1)
            print(f"  {'  same-run baseline: literal R loops in NumPy':<44} wall {wall_l:7.3f} s  "
                  f"cpu {cpu_l:7.3f} s  (rMEA mode is {wall_l / wall_r:.0f}x faster)")

    prepared = [mea_scale(mea_smooth(v, rate_hz=25, window_s=0.5)) for v in data]

    def pseudo50() -> list:
        pairs = pseudo_dyad_pairs(20, n=50, seed=0)
        out = []
        for (d1, r1), (d2, r2) in pairs:
            x, y = prepared[d1][:, r1], prepared[d2][:, r2]
            keep = np.isfinite(x) & np.isfinite(y)
            out.append(mea_ccf(x[keep], y[keep], rate_hz=25, lag_s=5, window_s=30, step_s=10, absolute=False))
        return out

    wall, cpu, _ = timed(pseudo50)
    line("50 pseudo-dyads (shuffle + MEAccf 30/10/5, signed)", wall, cpu, RMEA_SECONDS["pseudo50"], "(bar >= 20x)")


def rmea_accuracy(quick: bool) -> None:
    reference = SHARED / "rmea_reference" / "normal_200_01_ccf_w60_i30_l5_fisherz_abs.csv"
    if not reference.exists():
        print("  ../shared/data/rmea_reference not found: accuracy skipped")
        return
    import pandas as pd

    table = pd.read_csv(reference)
    v = read_mea_series(SHARED / "rmea" / "normal" / "200_01.txt")[0]
    wcc = mea_ccf(v[:, 0], v[:, 1], rate_hz=25, lag_s=5, window_s=60, step_s=30)
    err = np.nanmax(np.abs(wcc.values - table.iloc[:, :251].to_numpy()))
    summaries = rmea_summaries(wcc)
    err_s = max(np.nanmax(np.abs(summaries[c] - table[c])) for c in
                ("all_lags", "s1_lead", "s2_lead", "lag_zero", "s1_lead_0", "s2_lead_0", "bestLag", "grandAver"))
    print(f"  rMEA's own output, dyad 200_01: max |difference| {err:.1e} (matrix), {err_s:.1e} (summaries); bar 1e-9")
    if quick:
        return
    import rmea_literal as lit

    worst_raw = worst_smooth = 0.0
    for f in sorted((SHARED / "rmea").glob("*/*.txt")):
        v = read_mea_series(f)[0]
        fast = mea_ccf(v[:, 0], v[:, 1], rate_hz=25, lag_s=5, window_s=60, step_s=30).values
        worst_raw = max(worst_raw, np.nanmax(np.abs(fast - lit.mea_ccf(v[:, 0], v[:, 1], 25, 5, 60, 30))))
        s = mea_scale(mea_smooth(v, rate_hz=25))
        ls = np.column_stack([lit.mea_scale(lit.mea_smooth(v[:, j], 25)) for j in range(2)])
        fast = mea_ccf(s[:, 0], s[:, 1], rate_hz=25, lag_s=5, window_s=30, step_s=10, absolute=False).values
        slow = lit.mea_ccf(ls[:, 0], ls[:, 1], 25, 5, 30, 10, abs_=False)
        worst_smooth = max(worst_smooth, np.nanmax(np.abs(fast - slow)))
    print(f"  literal R transcription, all 20 dyads: raw 60/30/5 z abs {worst_raw:.1e} (bar 1e-9); "
          f"smoothed + scaled 30/10/5 signed {worst_smooth:.1e} (bar 1e-6)")


def session(rng: np.random.Generator, n: int, follow: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two motion-like series (bursty, autocorrelated); B follows A by ``follow`` samples when not 0."""
    kernel = np.exp(-np.arange(30) / 6.0)
    a = np.convolve(rng.gamma(0.8, 1.0, n + 30), kernel, "valid")[:n]
    b = np.convolve(rng.gamma(0.8, 1.0, n + 30), kernel, "valid")[:n]
    if follow:
        b = b + 0.5 * np.roll(a, follow)
    return a, b


def surrogate_speed() -> None:
    rng = np.random.default_rng(0)
    a, b = session(rng, 50 * 60 * 10)
    kw = dict(rate_hz=10, window_s=60, step_s=1, max_lag_s=5)
    wall1, cpu1, _ = timed(lambda: windowed_cross_correlation(a, b, **kw))
    print(f"  one engine run on the session (2941 windows x 101 lags): wall {wall1:.3f} s, cpu {cpu1:.3f} s; "
          f"a loop of 1000 would take ~{1000 * wall1:.0f} s")
    for summary in ("peak", "mean"):
        wall, cpu, res = timed(lambda: circular_shift(a, b, seed=1, n_surrogates=1000,
                                                      summary=summary, **kw), 2)
        line(f"1000 circular shifts (summary '{summary}')", wall, cpu, None,
             f"(bar < 10 s; {1000 * wall1 / wall:.0f}x the loop)")
    wall, cpu, res = timed(lambda: circular_shift(a, b, seed=1, n_surrogates=None, **kw), 1)
    line(f"all {res.n} circular shifts >= 60 s (exhaustive null)", wall, cpu)


def null_rates(quick: bool) -> None:
    kw = dict(rate_hz=2, window_s=30, step_s=5, max_lag_s=2)
    common = dict(n_surrogates=99, summary="lag0", **kw)
    kinds = {
        "circular shift": (1000 if not quick else 300, lambda a, b, rng: circular_shift(a, b, seed=rng, **common)),
        "segment shuffle": (
            200 if not quick else 50, lambda a, b, rng: segment_shuffle(a, b, seed=rng, segment_s=60, **common)
        ),
        "IAAFT": (200 if not quick else 50, lambda a, b, rng: iaaft_surrogates(a, b, seed=rng, n_iter=50, **common)),
    }
    for name, (seeds, make) in kinds.items():
        t = time.perf_counter()
        rejected = 0
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            a, b = session(rng, 1200)
            real = global_index(windowed_cross_correlation(a, b, **kw))
            rejected += compare(real, make(a, b, rng).global_index)["p"] <= 0.05
        rate = rejected / seeds
        se = np.sqrt(0.05 * 0.95 / seeds)
        ok = "ok" if abs(rate - 0.05) <= 0.025 else "OUT OF BAR"
        print(f"  {name:<16} {seeds:5d} independent dyads, 99 surrogates each: rejection rate {100 * rate:5.2f}% "
              f"(nominal 5% +- 2.5%, binomial SE {100 * se:.2f}%) {ok}  [{time.perf_counter() - t:.1f} s]")
    # Pseudo-dyads: each of 20 independent dyads against 200 pseudo-dyads formed from the other sessions.
    t = time.perf_counter()
    rejected = tests = 0
    reps = 50 if not quick else 10
    for rep in range(reps):
        rng = np.random.default_rng(20_000 + rep)
        pairs_data = [session(rng, 1200) for _ in range(20)]
        real = [global_index(windowed_cross_correlation(a, b, **kw)) for a, b in pairs_data]
        pairs = pseudo_dyad_pairs(20, n=200, seed=rng)
        null = [global_index(windowed_cross_correlation(pairs_data[d1][r1], pairs_data[d2][r2], **kw))
                for (d1, r1), (d2, r2) in pairs]
        rejected += sum(compare(g, null)["p"] <= 0.05 for g in real)
        tests += len(real)
    print(f"  {'pseudo-dyads':<16} {tests:5d} independent dyads (20 per study, {reps} studies), 200 pseudo-dyads: "
          f"rejection rate {100 * rejected / tests:5.2f}%  [{time.perf_counter() - t:.1f} s]")
    # Power on coupled dyads, for contrast.
    hits = 0
    for seed in range(100):
        rng = np.random.default_rng(10_000 + seed)
        a, b = session(rng, 1200, follow=2)
        real = global_index(windowed_cross_correlation(a, b, **kw))
        null = circular_shift(a, b, seed=rng, n_surrogates=99, summary="lag0", **kw).global_index
        hits += compare(real, null)["p"] <= 0.05
    print(f"  circular shift on 100 weakly coupled dyads (B = B + A/2 one second later): rejection rate {hits}%")


def main() -> None:
    quick = "--quick" in sys.argv
    warnings.simplefilter("ignore")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start; numpy {np.__version__}; single-threaded code")
    print("rMEA-compatible mode and engine speed (rMEA 1.3.0 times from the issue):")
    rmea_speed(quick)
    print("accuracy:")
    rmea_accuracy(quick)
    print("circular-shift surrogates, 50-minute session at 10 Hz, 60 s windows, 1 s step, +-5 s lags:")
    surrogate_speed()
    print("surrogate tests without coupling (global index, p <= 0.05 with the +1 correction):")
    null_rates(quick)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
