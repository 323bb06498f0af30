"""All moments analyses of one session, as tidy tables: the part of a run after synchrony.

:func:`analyse_moments` takes the session's synchrony table (one row per window and feature), its Events table
and the ``[moments]`` parameters of the pipeline, and returns every table of :data:`MOMENT_TABLES`. Each test row
carries its parameters and seed, and the tables of many sessions concatenate (add ``session`` and ``dyad``
columns) into the inputs of :mod:`dyadsync.moments.multilevel`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError, DyadsyncError, DyadsyncWarning
from ..stats import fdr_bh
from .agreement import coder_agreement, consensus_events
from .coincidence import event_coincidence
from .compare import compare_event_groups, compare_modalities
from .contrasts import EPOCH_COLUMNS, epoch_contrasts
from .epochs import CLUSTER_COLUMNS, event_locked_average
from .matching import MATCH_COLUMNS, peak_event_matching
from .params import ANALYSES, MomentsParams
from .peaks import EPISODE_COLUMNS, PEAK_COLUMNS, synchrony_peaks

#: Tables of a session's moments analyses, in the order they are written (a run folder stores each as
#: ``<name>.parquet``: :mod:`dyadsync.pipeline.layout`).
MOMENT_TABLES = (
    "moments",
    "moment_tests",
    "moment_clusters",
    "moment_epochs",
    "sync_peaks",
    "sync_episodes",
    "moment_matches",
    "moment_f1",
    "moment_correlogram",
    "coder_agreement",
    "coder_f1",
)

#: Leading columns of the tests table (the rest follow in the order the analyses add them).
TEST_COLUMNS = ("feature", "code", "analysis", "statistic_name", "statistic", "p_value", "q_value", "z_surrogate",
                "null_mean", "null_sd", "null_q", "z_vs_null", "above_band", "alternative", "n_events")

_EMPTY = {
    "moment_clusters": ("feature", "code", *CLUSTER_COLUMNS),
    "moment_epochs": ("feature", *EPOCH_COLUMNS),
    "sync_peaks": ("feature", *PEAK_COLUMNS),
    "sync_episodes": ("feature", *EPISODE_COLUMNS),
    "moment_matches": ("feature", "code", *MATCH_COLUMNS),
    "moment_f1": ("feature", "code", "tolerance_s", "n_matched", "precision", "recall", "f1", "null_mean",
                  "null_low", "null_high", "p_value"),
    "moment_correlogram": ("feature", "code", "lag_s", "count", "rate_per_event", "null_mean", "null_low",
                           "null_high"),
    "coder_agreement": ("code", "coder_a", "coder_b", "n_a", "n_b", "kappa", "psa", "nsa", "f1", "tolerance_s",
                        "bin_s", "fleiss_kappa", "n_coders"),
    "coder_f1": ("code", "coder_a", "coder_b", "tolerance_s", "n_matched", "f1"),
}


@dataclass
class MomentsResult:
    """Tables of :func:`analyse_moments` (keys of :data:`MOMENT_TABLES`) and a record of what was done."""

    tables: dict[str, pd.DataFrame]
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def analysis_units(events: pd.DataFrame, coders: str = "consensus", *, duration_s: float | None = None,
                   tolerance_s: float = 15.0) -> list[tuple[str, pd.DataFrame]]:
    """The sets of events analysed as one "code": one per code; with several coders, their consensus (default),
    all their events pooled, or each coder separately (``"each"``: units named ``code [coder]``)."""
    units = []
    for code, ev in events.groupby("code", sort=True):
        n_coders = ev["coder"].nunique()
        if n_coders < 2 or coders == "pooled":
            units.append((str(code), ev))
        elif coders == "each":
            units += [(f"{code} [{c}]", e) for c, e in ev.groupby("coder", sort=True)]
        else:
            end = duration_s if duration_s is not None else float(ev["offset_s"].max()) + 1.0
            units.append((str(code), consensus_events(ev, duration_s=end, tolerance_s=tolerance_s)))
    return units


def analyse_moments(
    synchrony: pd.DataFrame,
    events: pd.DataFrame,
    params: MomentsParams | None = None,
    *,
    window_s: float | Mapping[str, float] | None = None,
    surrogate_sync: Mapping[str, Sequence[np.ndarray]] | None = None,
    duration_s: float | None = None,
) -> MomentsResult:
    """Run the configured moments analyses on one session.

    Parameters
    ----------
    synchrony : DataFrame
        ``time_s`` (window centres, regular), ``feature``, ``sync``: the pipeline's synchrony table.
    events : DataFrame
        Events table (see :mod:`dyadsync.io.events`).
    params : MomentsParams or None
        The analyses' parameters (a pipeline's ``[moments]`` section is one); None: the defaults.
    window_s : float, mapping of feature to float, or None
        Synchrony window per feature, s (guard-rail on precedence; default peak distance).
    surrogate_sync : mapping of feature to list of ndarray, or None
        Surrogate synchrony per feature for the peak threshold; without it the peak-based analyses (peaks,
        matching, coincidence) are skipped with a warning.
    duration_s : float or None
        Length of the recording, s (coder agreement bins).

    Returns
    -------
    MomentsResult
    """
    params = MomentsParams() if params is None else params
    analyses = list(params.analyses)
    unknown = [a for a in analyses if a not in ANALYSES]
    if unknown:
        raise AnalysisError(f"unknown moments analyses {unknown}; choose from {list(ANALYSES)}")
    seed = int(params.seed)
    min_events = int(params.min_events)
    n_shifts = int(params.n_shifts)
    tolerance = float(params.tolerance_s)
    end = duration_s if duration_s is not None else float(synchrony["time_s"].max())
    units = analysis_units(events, params.coders, duration_s=end, tolerance_s=tolerance)
    out: dict[str, list[pd.DataFrame]] = {k: [] for k in MOMENT_TABLES}
    tests: list[dict[str, Any]] = []
    info: dict[str, Any] = {"analyses": analyses, "units": [u for u, _ in units], "peaks": {}, "skipped": []}
    features = [str(f) for f in pd.unique(synchrony["feature"].astype(str))]
    series = {}
    for feature in features:
        s = synchrony[synchrony["feature"].astype(str) == feature].sort_values("time_s")
        series[feature] = (s["time_s"].to_numpy(float), s["sync"].to_numpy(float))
    win = {f: (window_s.get(f) if isinstance(window_s, Mapping) else window_s) for f in features}

    def skip(what: str, exc: Exception) -> None:
        msg = f"{what}: {exc}"
        info["skipped"].append(msg)
        warnings.warn(f"moments analysis skipped, {msg}", DyadsyncWarning, stacklevel=3)

    for feature in features:
        t, v = series[feature]
        peaks = None
        if {"peaks", "matching", "coincidence"} & set(analyses):
            sur = None if surrogate_sync is None else surrogate_sync.get(feature)
            if sur is None:
                skip(f"{feature} peaks", AnalysisError("no surrogate synchrony for the peak threshold"))
            else:
                dist = float(params.peak_distance_s) or None
                peaks = synchrony_peaks(
                    t, v, surrogate_values=sur, quantile=float(params.peak_quantile),
                    prominence_sd=float(params.peak_prominence_sd), distance_s=dist, window_s=win[feature],
                    min_episode_s=float(params.min_episode_s),
                )
                info["peaks"][feature] = peaks.info
                out["sync_peaks"].append(peaks.peaks.assign(feature=feature))
                out["sync_episodes"].append(peaks.episodes.assign(feature=feature))
        for k, (code, ev) in enumerate(units):
            on = ev["onset_s"].to_numpy(float)
            off = ev["offset_s"].to_numpy(float)
            label = f"{feature} / {code}"
            unit_seed = seed + 7919 * k
            if "event_locked" in analyses:
                try:
                    res = event_locked_average(
                        t, v, on, off, tmin_s=float(params.tmin_s), tmax_s=float(params.tmax_s),
                        test_window_s=tuple(params.test_window_s) or None, n_shifts=n_shifts,
                        min_shift_s=float(params.min_shift_s) or None, band=float(params.band),
                        alternative=params.alternative, cluster_alpha=float(params.cluster_alpha),
                        window_s=win[feature], min_events=min_events, seed=unit_seed,
                    )
                except DyadsyncError as exc:
                    skip(f"{label} event-locked", exc)
                else:
                    out["moments"].append(res.curve.assign(feature=feature, code=code))
                    out["moment_clusters"].append(res.clusters.assign(feature=feature, code=code))
                    tests += _event_locked_rows(res.test, feature, code)
            if "contrasts" in analyses:
                try:
                    c = epoch_contrasts(
                        t, v, on, off, exclude_onsets_s=events["onset_s"].to_numpy(float),
                        exclude_offsets_s=events["offset_s"].to_numpy(float), epoch_s=float(params.epoch_s),
                        n_shifts=n_shifts, n_random=int(params.n_random), n_baseline=int(params.n_baseline),
                        exclude_margin_s=float(params.exclude_margin_s), alternative=params.alternative,
                        min_events=min_events, code=code, seed=unit_seed + 1,
                    )
                except DyadsyncError as exc:
                    skip(f"{label} epoch contrasts", exc)
                else:
                    out["moment_epochs"].append(c.epochs.assign(feature=feature))
                    tests += [{"feature": feature, "code": code, **row} for row in c.table.to_dict("records")]
            ref = {"onset": on, "centre": (on + off) / 2, "offset": off}[params.event_reference]
            if peaks is not None and ("matching" in analyses or "coincidence" in analyses):
                if "matching" in analyses:
                    m = peak_event_matching(
                        peaks.times_s, ref, series_start_s=float(t[0]), series_end_s=float(t[-1]),
                        tolerance_s=tolerance, tolerances_s=list(params.tolerances_s), n_shifts=n_shifts,
                        band=float(params.band), window_s=win[feature], seed=unit_seed + 2,
                    )
                    out["moment_matches"].append(m.matches.assign(feature=feature, code=code))
                    out["moment_f1"].append(m.curve.assign(feature=feature, code=code))
                    tests += [{"feature": feature, "code": code, **row, "event_reference": params.event_reference}
                              for row in m.tests]
                if "coincidence" in analyses:
                    co = event_coincidence(
                        peaks.times_s, ref, series_start_s=float(t[0]), series_end_s=float(t[-1]),
                        delta_s=float(params.coincidence_window_s),
                        tau_s=float(params.coincidence_delay_s), n_shifts=n_shifts,
                        max_lag_s=float(params.correlogram_max_lag_s),
                        bin_s=float(params.correlogram_bin_s), band=float(params.band),
                        seed=unit_seed + 3,
                    )
                    out["moment_correlogram"].append(co.correlogram.assign(feature=feature, code=code))
                    tests += [{"feature": feature, "code": code, **row, "event_reference": params.event_reference}
                              for row in co.tests]
        if "compare" in analyses:
            tests += _comparisons(t, v, events, units, feature, params, seed, skip)
    if "compare" in analyses and len(features) > 1:
        tests += _modality_comparisons(series, units, features, params, seed, skip)
    if "agreement" in analyses and (events.groupby("code")["coder"].nunique() > 1).any():
        try:
            agreement, f1 = coder_agreement(events, duration_s=end, bin_s=float(params.agreement_bin_s),
                                            tolerance_s=tolerance, tolerances_s=list(params.tolerances_s))
        except DyadsyncError as exc:
            skip("coder agreement", exc)
        else:
            out["coder_agreement"].append(agreement)
            out["coder_f1"].append(f1)
    tables = {name: _frame(name, frames) for name, frames in out.items()}
    tables["moment_tests"] = _tests_table(tests)
    return MomentsResult(tables=tables, info=info)


def _front(df: pd.DataFrame, first: Sequence[str]) -> pd.DataFrame:
    cols = [c for c in first if c in df.columns]
    return df[cols + [c for c in df.columns if c not in cols]]


def _frame(name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        cols = _EMPTY.get(name, ("feature", "code"))
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    table = pd.concat(frames, ignore_index=True)
    return _front(table, ("feature", "code"))


def _tests_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TEST_COLUMNS if c != "q_value"})
    table = pd.DataFrame(rows)
    table["q_value"] = fdr_bh(table["p_value"].to_numpy(float))
    for col in ("warnings", "precedence", "test_window", "direction", "group_a", "group_b", "epoch", "centrality",
                "measure", "event_reference"):
        if col in table.columns:
            table[col] = table[col].fillna("").astype(str)
    if "seed" in table.columns:
        table["seed"] = table["seed"].astype("Int64")
    return _front(table, TEST_COLUMNS)


def _event_locked_rows(test: dict[str, Any], feature: str, code: str) -> list[dict[str, Any]]:
    """The event-locked result as three test rows: mean during the events, max statistic, cluster mass."""
    base = {"feature": feature, "code": code, **test}
    shared = {k: v for k, v in base.items() if k not in (
        "statistic", "statistic_name", "p_value", "z_surrogate", "null_mean", "null_sd", "null_q", "z_vs_null",
        "above_band", "analysis")}
    own = ("max_statistic", "max_q", "p_max", "z_surrogate_max", "cluster_mass", "p_cluster", "z_surrogate_cluster")
    mean_row = {k: v for k, v in base.items() if k not in (*own, "latency_s", "precedence")}
    max_row = {**{k: v for k, v in shared.items() if k not in ("latency_s", "precedence")},
               "analysis": "event_locked_max", "statistic_name": "max_studentised_deviation",
               "statistic": test["max_statistic"], "p_value": test["p_max"], "z_surrogate": test["z_surrogate_max"],
               "null_q": test["max_q"]}
    cluster_row = {**shared, "analysis": "event_locked_cluster", "statistic_name": "max_cluster_mass",
                   "statistic": test["cluster_mass"], "p_value": test["p_cluster"],
                   "z_surrogate": test["z_surrogate_cluster"]}
    for row in (max_row, cluster_row):
        for k in own:
            row.pop(k, None)
    return [mean_row, max_row, cluster_row]


def _comparisons(
    t: np.ndarray, v: np.ndarray, events: pd.DataFrame, units: list[tuple[str, pd.DataFrame]], feature: str,
    params: MomentsParams, seed: int, skip: Callable[[str, Exception], None],
) -> list[dict[str, Any]]:
    rows = []
    min_events = int(params.min_events)
    n = int(params.n_shifts)
    epoch_s = float(params.epoch_s)
    pooled = pd.concat([ev.assign(code=code) for code, ev in units], ignore_index=True)
    codes = [c for c, ev in units if len(ev) >= 2]
    for i, (a, b) in enumerate(itertools.combinations(codes, 2)):
        try:
            r = compare_event_groups(t, v, pooled, by="code", a=a, b=b, epoch_s=epoch_s, n_permutations=n, seed=seed + 31 * i)
        except DyadsyncError as exc:
            skip(f"{feature} compare {a} vs {b}", exc)
            continue
        rows.append({"feature": feature, "code": f"{a} vs {b}", **r,
                     "too_few_events": bool(min(r["n_a"], r["n_b"]) < min_events)})
    for j, (code, ev) in enumerate(events.groupby("code", sort=True)):
        coders = sorted(ev["coder"].unique())
        for i, (a, b) in enumerate(itertools.combinations(coders, 2)):
            try:
                r = compare_event_groups(t, v, ev, by="coder", a=a, b=b, epoch_s=epoch_s, n_permutations=n,
                                   pair_within_s=float(params.tolerance_s), seed=seed + 37 * i + 101 * j)
            except DyadsyncError as exc:
                skip(f"{feature} compare coders {a} vs {b}", exc)
                continue
            rows.append({"feature": feature, "code": str(code), **r})
    return rows


def _modality_comparisons(
    series: dict[str, tuple[np.ndarray, np.ndarray]], units: list[tuple[str, pd.DataFrame]], features: list[str],
    params: MomentsParams, seed: int, skip: Callable[[str, Exception], None],
) -> list[dict[str, Any]]:
    rows = []
    for i, (fa, fb) in enumerate(itertools.combinations(features, 2)):
        ta, va = series[fa]
        tb, vb = series[fb]
        if len(ta) != len(tb) or not np.allclose(ta, tb):
            # Different grids: put B on A's grid (window centres differ only by rounding for the same windows).
            vb = np.interp(ta, tb, vb, left=np.nan, right=np.nan)
        for k, (code, ev) in enumerate(units):
            try:
                r = compare_modalities(ta, va, vb, ev["onset_s"].to_numpy(float), ev["offset_s"].to_numpy(float),
                                       feature_a=fa, feature_b=fb, epoch_s=float(params.epoch_s),
                                       n_shifts=int(params.n_shifts), seed=seed + 53 * i + 7 * k)
            except DyadsyncError as exc:
                skip(f"compare {fa} vs {fb} at {code}", exc)
                continue
            rows.append({"feature": f"{fa} vs {fb}", "code": code, **r})
    return rows
