"""How long the moments analyses take on a 50-minute session, as a ratio to computing its synchrony.

A simulated 50-minute dyad at 25 Hz (the frame rate of session videos) with 10 coded moments goes through the
built-in body_mea synchrony (8-s windows, 0.4-s steps, lags up to 3 s) and then through every moments analysis with
the default parameters (1000 shifts or draws per test, 19 shifted-pair surrogates for the peak threshold). Prints
both times and their ratio (measured in the same run, so the ratio does not depend on the machine's speed).

Run: ``.venv/bin/python benchmarks/bench_moments_speed.py``.
"""

from __future__ import annotations

import time
import warnings

from dyadsync.pipeline import config_from_dict
from dyadsync.pipeline.analysis import _moments_stage, _synchrony_stage
from dyadsync.simulate import simulate_dyad


def main() -> None:
    warnings.simplefilter("ignore")
    dyad = simulate_dyad(duration_s=3000, rate_hz=25, n_episodes=10, episode_s=(20, 40), seed=1)
    feats = dyad.motion[dyad.motion["feature"] == "planted_speed"].copy()
    feats["feature"] = "motion_energy"
    config = config_from_dict({})
    t = time.perf_counter()
    synchrony, _, _ = _synchrony_stage(feats, config)
    sync_s = time.perf_counter() - t
    t = time.perf_counter()
    result = _moments_stage(feats, synchrony, dyad.events, config)
    moments_s = time.perf_counter() - t
    n_tests = len(result.tables["moment_tests"])
    print(f"50-min session at 25 Hz, {len(dyad.events)} moments: synchrony {sync_s:.2f} s; all moments analyses "
          f"({n_tests} tests, incl. 19 surrogate synchrony series) {moments_s:.2f} s; ratio {moments_s / sync_s:.1f}")


if __name__ == "__main__":
    main()
