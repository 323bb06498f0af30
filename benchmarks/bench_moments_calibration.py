"""Calibration, power and latency recovery of every moments test, on simulated and real synchrony.

Prints, for each test:

* **false-positive rate** at alpha = .05 over >= 400 sessions in which the events are unrelated to synchrony
  (bar: within [2.5%, 7.5%]), on three kinds of synchrony: simulated (Gaussian, and skewed like absolute Fisher z)
  and real (windowed cross-correlation of the 20 rMEA psychotherapy intakes in ../shared/data, with random events).
  Each simulated session holds two features x two codes (each test runs four times per session); rates are pooled
  per test over these configurations, with their range. Tests marked "for comparison" are the alternatives dyadsync
  does not use (DyadSync's categoryPerm p, circular shifts for dial correlations), shown to justify the choice;
* for the across-dyad tests (Stouffer, mixed model), the rate over >= 400 simulated studies of 8 dyads x 2 sessions;
* **power**: share of >= 400 sessions with 0.5 SD bumps over 10 events in which each test detects the effect
  (bar for the event-locked test: >= 80%);
* **latency**: a 0.5 SD bump planted 10 s before 10 point events: per-session estimates (cluster centre of mass;
  median matched-peak latency), their median over sessions and the share within +-2 s (bar: recovered within +-2 s).

Run: ``.venv/bin/python benchmarks/bench_moments_calibration.py [--sessions 400] [--workers 2] [--quick]``.
Everything is seeded: the same command prints the same numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "rmea"
ALPHA = 0.05
N_NULL = 199  # shifts / random draws / permutations per test


def _params():
    from dyadsync.pipeline.config import PipelineConfig

    return dataclasses.replace(PipelineConfig().moments, n_shifts=N_NULL, n_random=N_NULL, min_events=1)


def _key(row: pd.Series) -> str:
    name = row["analysis"]
    if isinstance(row.get("direction"), str) and row["direction"]:
        name += f" ({row['direction']})"
    if isinstance(row.get("measure"), str) and row["measure"]:
        name += f" ({row['measure']})"
    return name


def _dial(rng: np.random.Generator, duration_s: float) -> pd.DataFrame:
    """Two raters' smooth 0-100 ratings at 1 Hz (AR(1), time constant 50 s), unrelated to anything."""
    from scipy.signal import lfilter

    t = np.arange(0, duration_s, 1.0)
    rows = []
    for rater in ("client", "therapist"):
        x = lfilter([1.0], [1.0, -0.98], rng.standard_normal(len(t) + 500))[500:]  # started in its stationary state
        x = 50 + 15 * x / x.std()
        rows.append(pd.DataFrame({"time_s": t, "rater": rater, "value": np.clip(x, 0, 100)}))
    return pd.concat(rows, ignore_index=True)


def simulated_session(seed: int, bump_sd: float = 0.0, marginal: str = "gaussian") -> dict[str, float]:
    """One simulated session with two codes, two coders, two modalities and dial ratings; p value of every test."""
    from dyadsync.moments.dial import dial_synchrony
    from dyadsync.moments.session import analyse_moments
    from dyadsync.simulate import simulate_synchrony

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(seed)
    a = simulate_synchrony(seed=rng, n_events=16, event_s=(20, 40), min_gap_s=60, bump_sd=bump_sd,
                           marginal=marginal, feature="body")
    b = simulate_synchrony(seed=rng, events=a.events[["onset_s", "offset_s"]].to_numpy(), marginal=marginal,
                           feature="head")
    ev = a.events.copy()
    ev["code"] = rng.permutation(np.repeat(["MoM", "IM"], len(ev) // 2))  # two codes at random moments
    # a second coder of the moments of meeting: the same moments, jittered, one missed
    mom = ev[ev["code"] == "MoM"]
    second = mom.iloc[1:].copy()
    jitter = rng.uniform(-4, 4, len(second))
    second["onset_s"] += jitter
    second["offset_s"] += jitter
    second["coder"] = "coder2"
    ev = pd.concat([ev, second], ignore_index=True)
    sync = pd.concat([a.synchrony, b.synchrony], ignore_index=True)
    surrogates = {f: [simulate_synchrony(seed=rng, n_events=1, marginal=marginal).values for _ in range(3)]
                  for f in ("body", "head")}
    result = analyse_moments(sync, ev, _params(), window_s=8.0, surrogate_sync=surrogates, duration_s=3000.0)
    tests = result.tables["moment_tests"]
    out = {f"{r['feature']}|{r['code']}|{_key(r)}": float(r["p_value"]) for _, r in tests.iterrows()}
    dial = dial_synchrony(_dial(rng, 3000.0), a.times_s, a.values, n_shifts=N_NULL, seed=seed)
    out.update({f"dial_synchrony ({m})": float(p) for m, p in zip(dial["measure"], dial["p_value"])})
    out.update({f"dial_synchrony, circular-shift p ({m}) [for comparison]": float(p)
                for m, p in zip(dial["measure"], dial["p_shift"])})
    for _, r in tests[tests["analysis"].str.startswith("contrast_")].iterrows():
        out[f"{r['feature']}|{r['code']}|{r['analysis']}, categoryPerm p [for comparison]"] = float(r["p_random_epochs"])
    return out


def power_session(seed: int) -> dict[str, float]:
    """10 events with a 0.5 SD bump over each: p value of every test of the moments of meeting."""
    from dyadsync.moments.session import analyse_moments
    from dyadsync.simulate import simulate_synchrony

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(seed)
    s = simulate_synchrony(seed=rng, n_events=10, bump_sd=0.5)
    surrogates = {"simulated": [simulate_synchrony(seed=rng, n_events=1).values for _ in range(3)]}
    params = dataclasses.replace(_params(), analyses=["event_locked", "contrasts", "peaks", "matching",
                                                      "coincidence"])
    tests = analyse_moments(s.synchrony, s.events, params, window_s=8.0, surrogate_sync=surrogates).tables[
        "moment_tests"]
    return {_key(r): float(r["p_value"]) for _, r in tests.iterrows()}


def latency_session(seed: int) -> dict[str, float]:
    """A 0.5 SD bump of 10 s planted 10 s before each of 10 point events: the latency estimates."""
    from dyadsync.moments.session import analyse_moments
    from dyadsync.simulate import simulate_synchrony

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(seed)
    s = simulate_synchrony(seed=rng, n_events=10, event_s=(0, 0), bump_sd=0.5, bump_offset_s=-10.0, bump_s=10.0)
    surrogates = {"simulated": [simulate_synchrony(seed=rng, n_events=1).values for _ in range(3)]}
    params = dataclasses.replace(_params(), analyses=["event_locked", "peaks", "matching"])
    res = analyse_moments(s.synchrony, s.events, params, window_s=8.0, surrogate_sync=surrogates)
    t = res.tables["moment_tests"].set_index("analysis")
    curve = res.tables["moments"]
    return {
        "cluster_latency_s": float(t.loc["event_locked_cluster", "latency_s"]),
        "cluster_p": float(t.loc["event_locked_cluster", "p_value"]),
        "max_p": float(t.loc["event_locked_max", "p_value"]),
        "matching_latency_s": float(t.loc["matching_latency", "statistic"]),
        "curve": curve["mean_z"].to_numpy().tolist(),
        "rel": curve["rel_time_s"].to_numpy().tolist(),
    }


def real_series() -> list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]]:
    """Synchrony of the 20 real rMEA intakes (8-s windows, 0.4-s steps, +-3 s lags), with shifted-pair surrogates."""
    from dyadsync.io.mea_files import read_mea
    from dyadsync.moments.peaks import shifted_pair_synchrony
    from dyadsync.preprocess import prepare_pair
    from dyadsync.synchrony import summarize, windowed_cross_correlation

    out = []
    wcc = dict(window_s=8.0, step_s=0.4, max_lag_s=3.0)
    for k, path in enumerate(sorted(SHARED.glob("*/*.txt"))):
        feats, _ = read_mea(path, rate_hz=25)
        persons = list(dict.fromkeys(feats["person"].astype(str)))[:2]
        pair = prepare_pair(feats, "motion_energy", persons, smooth_s=0.5)
        res = windowed_cross_correlation(pair.a, pair.b, rate_hz=pair.rate_hz, **wcc)
        s = summarize(res)
        sur, _ = shifted_pair_synchrony(pair.a, pair.b, rate_hz=pair.rate_hz, n_surrogates=5, seed=k, **wcc)
        out.append((s["time_s"].to_numpy(), s["sync"].to_numpy(), sur))
    return out


_REAL: list | None = None


def real_session(seed: int) -> dict[str, float]:
    """Real synchrony of one of the 20 intakes (10 min) with 8 random events of 5-15 s: every p value.

    Parameters for 10-minute sessions: 15-s epochs, 10-s tolerance and coincidence window (the intakes have about
    16 synchrony peaks in 10 minutes)."""
    from dyadsync.moments.session import analyse_moments
    from dyadsync.simulate.synchrony import place_events

    global _REAL
    warnings.simplefilter("ignore")
    if _REAL is None:
        _REAL = real_series()
    t, v, sur = _REAL[seed % len(_REAL)]
    rng = np.random.default_rng(seed)
    spans = place_events(rng, 8, float(t[-1]), length_s=(5, 15), min_gap_s=25, margin_s=30)
    ev = pd.DataFrame({"onset_s": spans[:, 0], "offset_s": spans[:, 1], "code": "MoM", "scheme": "", "coder": "",
                       "source": ""})
    sync = pd.DataFrame({"time_s": t, "feature": "motion_energy", "sync": v})
    params = dataclasses.replace(_params(), epoch_s=15.0, tmin_s=-15.0, tmax_s=15.0, n_baseline=5, tolerance_s=10.0,
                                 coincidence_window_s=10.0, correlogram_max_lag_s=30.0, correlogram_bin_s=3.0,
                                 analyses=["event_locked", "contrasts", "peaks", "matching", "coincidence"])
    tests = analyse_moments(sync, ev, params, window_s=8.0, surrogate_sync={"motion_energy": sur}).tables[
        "moment_tests"]
    return {_key(r): float(r["p_value"]) for _, r in tests.iterrows()}


def study(seed: int) -> dict[str, float]:
    """8 dyads x 2 sessions, events unrelated to synchrony, dyads differing in mean synchrony: across-dyad p values."""
    from dyadsync.moments import event_locked_average
    from dyadsync.moments.contrasts import epoch_contrasts
    from dyadsync.moments.multilevel import across_dyads
    from dyadsync.simulate import simulate_synchrony

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(seed)
    tests, epochs = [], []
    for d in range(8):
        level = rng.normal(0, 0.3)
        for s in range(2):
            sim = simulate_synchrony(seed=rng, n_events=8)
            v = sim.values + level
            on, off = sim.events["onset_s"].to_numpy(), sim.events["offset_s"].to_numpy()
            el = event_locked_average(sim.times_s, v, on, off, n_shifts=199, seed=int(rng.integers(1 << 31)))
            tests.append({**el.test, "feature": "body", "code": "MoM", "dyad": f"d{d}", "session": f"d{d}s{s}"})
            c = epoch_contrasts(sim.times_s, v, on, off, n_random=19, n_shifts=19, seed=int(rng.integers(1 << 31)),
                                code="MoM")
            epochs.append(c.epochs.assign(feature="body", dyad=f"d{d}", session=f"d{d}s{s}"))
    across = across_dyads(pd.DataFrame(tests), pd.concat(epochs, ignore_index=True))
    out = {"stouffer (event_locked)": float(across["combined"]["p_value"].iloc[0])}
    for _, r in across["mixed_model"].iterrows():
        out[f"mixed model {r['term']}"] = float(r["p_value"])
    return out


def run(fn, seeds, workers: int) -> list:
    if workers <= 1:
        return [fn(s) for s in seeds]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(fn, seeds, chunksize=4))


def rates(results: list[dict[str, float]], pool: bool = False) -> pd.DataFrame:
    """Rejection rate per test; with ``pool``, per test *type* over its configurations ("feature|code|test" keys:
    two features x two codes per simulated session), with the range over configurations."""
    table = pd.DataFrame(results)
    rej = table < ALPHA
    if not pool:
        n = table.notna().sum()
        return pd.DataFrame({"n": n, "rate": rej.sum() / n}).sort_index()
    kind = {c: c.split("|")[-1] for c in table.columns}
    rows = {}
    for test in sorted(set(kind.values())):
        cols = [c for c in table.columns if kind[c] == test]
        n = int(table[cols].notna().sum().sum())
        per = [rej[c].sum() / table[c].notna().sum() for c in cols]
        rows[test] = {"n": n, "rate": rej[cols].sum().sum() / n, "lo": min(per), "hi": max(per), "k": len(cols)}
    return pd.DataFrame(rows).T


def show(title: str, table: pd.DataFrame, lo: float | None = 0.025, hi: float | None = 0.075) -> bool:
    print(f"\n== {title}")
    ok_all = True
    for name, row in table.iterrows():
        ok = (lo is None or row["rate"] >= lo) and (hi is None or row["rate"] <= hi)
        ok_all &= bool(ok) or "for comparison" in name
        extra = ""
        if "k" in row and row["k"] > 1:
            extra = f"  [{int(row['k'])} configurations: {row['lo'] * 100:.1f}-{row['hi'] * 100:.1f}%]"
        print(f"  {name:<58s} {row['rate'] * 100:6.1f}%  (n = {int(row['n'])}){extra}"
              f"{'' if ok else '  <-- outside the bar'}")
    return ok_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="60 sessions per condition (a smoke run)")
    parser.add_argument("--conditions", nargs="+", default=["simulated", "real", "across", "power", "latency"],
                        choices=["simulated", "real", "across", "power", "latency"], help="which parts to run")
    args = parser.parse_args()
    todo = set(args.conditions)
    n = 60 if args.quick else args.sessions
    started = time.perf_counter()
    verdicts = {}
    for title, fn, offset, kwargs in [
        ("null, simulated synchrony (Gaussian)", simulated_session, 0, {}),
        ("null, simulated synchrony (skewed, like absolute Fisher z)", simulated_session, 10_000, {"marginal": "abs"}),
    ] if "simulated" in todo else []:
        f = fn if not kwargs else _Partial(fn, **kwargs)
        verdicts[title] = show(f"false-positive rate at alpha = .05: {title}",
                               rates(run(f, range(offset, offset + n), args.workers), pool=True))
    if "real" not in todo:
        pass
    elif SHARED.is_dir():
        verdicts["real"] = show("false-positive rate at alpha = .05: null, real synchrony (20 rMEA intakes, random "
                                "events)", rates(run(real_session, range(20_000, 20_000 + n), args.workers)))
    else:
        print("\n(real synchrony skipped: ../shared/data/rmea is absent)")
    if "across" in todo:
        verdicts["across"] = show("false-positive rate at alpha = .05: across dyads (8 dyads x 2 sessions per study)",
                                  rates(run(study, range(30_000, 30_000 + n), args.workers)))
    if "power" in todo:
        power = rates(run(power_session, range(40_000, 40_000 + n), args.workers))
        show("power: 0.5 SD bumps over 10 events per session (bar: event_locked >= 80%)", power, lo=None, hi=None)
        verdicts["power"] = bool(power.loc["event_locked", "rate"] >= 0.8)
    if "latency" in todo:
        verdicts["latency"] = latency(n, args.workers)
    print(f"\nbars met: {verdicts}")
    print(f"({n} sessions per condition, {N_NULL} null draws per test; {time.perf_counter() - started:.0f} s)")


def latency(n: int, workers: int) -> bool:
    """Recovery of the planted lead of 10 s; prints the estimates and returns whether the bar is met."""
    lat = run(latency_session, range(50_000, 50_000 + n), workers)
    cl = np.array([r["cluster_latency_s"] for r in lat])
    detected = np.array([r["cluster_p"] < ALPHA for r in lat])
    ml = np.array([r["matching_latency_s"] for r in lat])
    grand = np.mean([r["curve"] for r in lat], axis=0)
    rel = np.array(lat[0]["rel"])
    excess = np.clip(grand - np.median(grand), 0, None)
    centre = float(np.sum(rel * excess) / excess.sum())
    print("\n== latency: 0.5 SD bump of 10 s planted 10 s before 10 point events per session (truth: -10 s)")
    print(f"  cluster test detects the bump in {detected.mean() * 100:.1f}% of sessions")
    print(f"  cluster centre of mass, detected sessions: median {np.nanmedian(cl[detected]):+.2f} s, IQR "
          f"{np.nanpercentile(cl[detected], 25):+.2f} to {np.nanpercentile(cl[detected], 75):+.2f} s, within +-2 s in "
          f"{np.mean(np.abs(cl[detected] + 10) <= 2) * 100:.1f}% of them")
    print(f"  median matched-peak latency (all sessions): median {np.nanmedian(ml):+.2f} s, within +-2 s in "
          f"{np.mean(np.abs(ml + 10) <= 2) * 100:.1f}% of sessions")
    print(f"  grand-average curve over all sessions: centre of mass of the excess {centre:+.2f} s, peak at "
          f"{rel[np.argmax(grand)]:+.1f} s")
    return bool(abs(np.nanmedian(cl[detected]) + 10) <= 2)


class _Partial:
    """A picklable partial (for the process pool)."""

    def __init__(self, fn, **kwargs):
        self.fn, self.kwargs = fn, kwargs

    def __call__(self, seed):
        return self.fn(seed, **self.kwargs)


if __name__ == "__main__":
    main()
