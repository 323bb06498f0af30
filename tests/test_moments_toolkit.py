"""The moments toolkit: each analysis against hand-worked cases, external references and planted effects."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from dyadsync.errors import AnalysisError, DyadsyncWarning
from dyadsync.moments import event_locked_average
from dyadsync.moments.agreement import (
    bin_events,
    coder_agreement,
    cohens_kappa,
    consensus_events,
    fleiss_kappa,
    specific_agreement,
)
from dyadsync.moments.coincidence import coincidence_rates, event_coincidence, poisson_p
from dyadsync.moments.compare import compare_event_groups, compare_modalities
from dyadsync.moments.contrasts import epoch_contrasts
from dyadsync.moments.dial import dial_congruence, dial_segments, dial_synchrony
from dyadsync.moments.guards import (
    FOLLOWS,
    NOT_EVIDENCE,
    PRECEDES,
    event_checks,
    precedence,
)
from dyadsync.moments.matching import match_events, matching_scores, peak_event_matching
from dyadsync.moments.multilevel import (
    across_dyads,
    combine_sessions,
    epoch_mixed_model,
)
from dyadsync.moments.peaks import (
    shifted_pair_synchrony,
    surrogate_threshold,
    synchrony_peaks,
)
from dyadsync.moments.session import MOMENT_TABLES, analyse_moments
from dyadsync.pipeline.config import PipelineConfig
from dyadsync.simulate import simulate_synchrony
from dyadsync.stats import cliffs_delta, cohens_d, fdr_bh, permutation_test, stouffer


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        yield


def params(**kw):
    return dataclasses.replace(PipelineConfig().moments, **{"n_shifts": 199, "n_random": 199, **kw})


# ---------------------------------------------------------------------------------------------------- helpers


def test_permutation_p_and_mid_rank_z():
    null = np.arange(1, 100, dtype=float)  # 99 values
    t = permutation_test(100.0, null)
    assert t["p_value"] == pytest.approx(1 / 100) and t["z_surrogate"] > 2.3
    assert permutation_test(50.0, null)["z_surrogate"] == pytest.approx(0.0, abs=1e-9)
    assert permutation_test(0.0, null, "less")["p_value"] == pytest.approx(1 / 100)
    assert permutation_test(50.0, null, "two-sided")["p_value"] == pytest.approx(1.0)


def test_effect_sizes_against_their_definitions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1, 1, 30), rng.normal(0, 2, 50)
    pooled = np.sqrt((29 * a.var(ddof=1) + 49 * b.var(ddof=1)) / 78)
    assert cohens_d(a, b) == pytest.approx((a.mean() - b.mean()) / pooled)
    brute = np.mean(np.sign(a[:, None] - b[None, :]))
    assert cliffs_delta(a, b) == pytest.approx(brute)
    assert cliffs_delta(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0


def test_fdr_matches_statsmodels_and_stouffer_by_hand():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.001, 0.04, 0.03, 0.5, np.nan, 0.2])
    q = fdr_bh(p)
    ok = np.isfinite(p)
    np.testing.assert_allclose(q[ok], multipletests(p[ok], method="fdr_bh")[1])
    assert np.isnan(q[4])
    assert stouffer(np.array([1.0, 2.0, 3.0])) == pytest.approx(6 / np.sqrt(3))


def test_guard_rails():
    assert precedence(-10.0, 8.0) == PRECEDES and precedence(6.0, 8.0) == FOLLOWS
    assert precedence(-3.9, 8.0) == NOT_EVIDENCE  # a lead shorter than half the window is not precedence
    checks = event_checks(np.array([5.0, 100.0, 120.0, 590.0]), np.array([5.0, 110.0, 125.0, 590.0]),
                          series_start_s=4.0, series_end_s=596.0, tmin_s=-30, tmax_s=30, min_events=5)
    assert checks == {"n_events": 4, "too_few_events": True, "n_near_edge": 2, "n_overlapping_epochs": 1,
                      "min_events": 5}


# ------------------------------------------------------------------------------------------------- event-locked


def test_cluster_test_finds_the_planted_bump_where_it_was_planted():
    s = simulate_synchrony(n_events=10, event_s=(0, 0), bump_sd=1.5, bump_offset_s=-15, bump_s=10, seed=4)
    res = event_locked_average(s.times_s, s.values, s.events["onset_s"], tmin_s=-40, tmax_s=40, n_shifts=499,
                               window_s=8, seed=1)
    best = res.clusters.sort_values("p_value").iloc[0]
    assert best["p_value"] < 0.01 and best["start_s"] < -15 < best["end_s"]
    assert res.test["latency_s"] == pytest.approx(-15, abs=2.5) and res.test["precedence"] == PRECEDES
    assert res.test["p_max"] < 0.05
    c = res.curve
    assert ((c["null_max_high"] >= c["null_high"]) | c["null_high"].isna()).all()  # simultaneous band is wider
    assert set(res.curve["cluster"]) >= {0, int(best["cluster"])}


def test_null_event_locked_curve_rarely_leaves_the_simultaneous_band():
    outside = 0
    for seed in range(40):
        s = simulate_synchrony(duration_s=1500, n_events=6, seed=100 + seed)
        res = event_locked_average(s.times_s, s.values, s.events["onset_s"], s.events["offset_s"], n_shifts=199,
                                   seed=seed)
        c = res.curve
        outside += bool((c["mean_z"] > c["null_max_high"]).any())
    assert outside <= 6  # binomial(40, 0.05): P(X >= 7) < 0.5%


# ---------------------------------------------------------------------------------------------- epoch contrasts


def test_epoch_contrasts_find_the_during_bump_only():
    s = simulate_synchrony(n_events=10, bump_sd=1.0, ramp_s=1.0, seed=7)
    res = epoch_contrasts(s.times_s, s.values, s.events["onset_s"], s.events["offset_s"], n_random=499, seed=2,
                          code="MoM")
    t = res.table.set_index("epoch")
    assert t.loc["during", "p_value"] < 0.01 and t.loc["during", "cohens_d"] > 0.8
    assert t.loc["during", "cliffs_delta"] > 0.4
    assert t.loc["pre", "p_value"] > 0.01 and t.loc["post", "p_value"] > 0.01
    ep = res.epochs
    assert set(ep["epoch"]) == {"pre", "during", "post", "random", "random_during"} and (ep["code"] == "MoM").all()
    # the DURING baseline has the DURING epochs' durations
    durations = lambda e: sorted(np.round(ep.loc[ep.epoch == e, "end_s"] - ep.loc[ep.epoch == e, "start_s"]))  # noqa: E731
    assert set(durations("random_during")) <= set(durations("during"))
    rand = ep[ep["epoch"] == "random"].sort_values("start_s")
    assert (rand["start_s"].to_numpy()[1:] > rand["end_s"].to_numpy()[:-1]).all()  # baseline epochs do not overlap
    for on, off in zip(s.events["onset_s"], s.events["offset_s"]):  # ... and keep one epoch away from events
        assert ((rand["end_s"] < on - 59) | (rand["start_s"] > off + 59)).all()


def test_epoch_contrasts_need_room():
    s = simulate_synchrony(duration_s=300, n_events=2, event_s=(20, 30), min_gap_s=30, margin_s=30, seed=1)
    with pytest.raises(AnalysisError, match="uncoded time"):
        epoch_contrasts(s.times_s, s.values, s.events["onset_s"], s.events["offset_s"], epoch_s=200, n_random=50)


# -------------------------------------------------------------------------------------------------------- peaks


def test_peaks_and_episodes_where_planted():
    t = np.arange(0, 600, 0.5)
    x = np.zeros_like(t)
    for centre in (100.0, 300.0, 450.0):
        x += np.exp(-0.5 * ((t - centre) / 4.0) ** 2)
    x += 0.01 * np.random.default_rng(0).standard_normal(len(t))
    surrogates = [0.05 * np.random.default_rng(k).standard_normal(len(t)) for k in range(5)]
    res = synchrony_peaks(t, x, surrogate_values=surrogates, window_s=8)
    np.testing.assert_allclose(res.peaks["time_s"], [100.0, 300.0, 450.0], atol=1.0)
    assert res.info["threshold"] == pytest.approx(np.quantile(np.concatenate(surrogates), 0.95))
    assert len(res.episodes) == 3 and (res.episodes["duration_s"] > 5).all()
    assert (np.abs(res.episodes["peak_time_s"] - [100, 300, 450]) <= 1).all()
    with pytest.raises(AnalysisError, match="threshold or surrogate"):
        synchrony_peaks(t, x)


def test_shifted_pair_surrogates_destroy_the_coupling():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(3000)
    b = np.roll(a, 5) + 0.3 * rng.standard_normal(3000)  # B follows A by 5 samples
    sur, rec = shifted_pair_synchrony(a, b, rate_hz=10, n_surrogates=5, window_s=8, step_s=2, max_lag_s=1,
                                      fisher_z=False, seed=1)
    from dyadsync.synchrony import summarize, windowed_cross_correlation

    real = summarize(windowed_cross_correlation(a, b, rate_hz=10, window_s=8, step_s=2, max_lag_s=1, fisher_z=False))
    assert real["sync"].median() > 0.8 and surrogate_threshold(sur) < 0.6
    assert min(rec["shifts_s"]) >= rec["min_shift_s"] and len(sur) == 5
    # each surrogate is the engine's synchrony of A with B rotated by the recorded shift
    k = int(round(rec["shifts_s"][2] * 10))
    rolled = summarize(windowed_cross_correlation(a, np.roll(b, k), rate_hz=10, window_s=8, step_s=2, max_lag_s=1,
                                                  fisher_z=False))
    np.testing.assert_allclose(sur[2], rolled["sync"].to_numpy(), atol=1e-9)


# ----------------------------------------------------------------------------------------------------- matching


def test_matching_by_hand():
    m = match_events(np.array([10.0, 20.0, 50.0]), np.array([12.0, 48.0, 100.0]), tolerance_s=5)
    assert m[["event_time_s", "peak_time_s", "latency_s"]].values.tolist() == [[12, 10, -2], [48, 50, 2]]
    assert matching_scores(len(m), 3, 3) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_matching_is_optimal_not_greedy():
    # greedy nearest-first pairs 13 with 14 and leaves 17 alone; the optimal matching pairs both events
    m = match_events(np.array([10.0, 14.0]), np.array([13.0, 17.0]), tolerance_s=4)
    assert len(m) == 2 and m["latency_s"].tolist() == [-3.0, -3.0]


def test_matching_recovers_a_planted_lead():
    rng = np.random.default_rng(5)
    events = np.sort(rng.uniform(100, 2900, 12))
    peaks = np.sort(np.concatenate([events - 9.0 + rng.normal(0, 0.5, 12), rng.uniform(0, 3000, 8)]))
    res = peak_event_matching(peaks, events, series_start_s=0, series_end_s=3000, tolerance_s=15, n_shifts=299,
                              window_s=8, seed=0)
    f1, lat = res.tests
    assert f1["p_value"] < 0.01 and f1["recall"] == 1.0
    assert lat["statistic"] == pytest.approx(-9.0, abs=1.0) and lat["precedence"] == PRECEDES
    curve = res.curve.set_index("tolerance_s")
    assert curve.loc[5.0, "f1"] < curve.loc[10.0, "f1"]  # the lead of 9 s needs a tolerance of about 9 s


# -------------------------------------------------------------------------------------------------- coincidence


def test_coincidence_rates_by_brute_force():
    rng = np.random.default_rng(2)
    a, b = np.sort(rng.uniform(0, 1000, 40)), np.sort(rng.uniform(0, 1000, 15))
    delta, tau = 20.0, 5.0
    precursor = np.mean([np.any((a >= tb - tau - delta) & (a <= tb - tau)) for tb in b])
    trigger = np.mean([np.any((b >= ta + tau) & (b <= ta + tau + delta)) for ta in a])
    assert coincidence_rates(a, b, delta_s=delta, tau_s=tau) == pytest.approx((precursor, trigger))
    # Donges et al.: K ~ Binomial(N_B, 1 - (1 - dT / (T - tau))^N_A)
    from scipy import stats

    prob = 1 - (1 - delta / (1000 - tau)) ** 40
    assert poisson_p(9, 15, 40, delta, tau, 1000) == pytest.approx(stats.binom.sf(8, 15, prob))


def test_coincidence_detects_peaks_before_events():
    rng = np.random.default_rng(9)
    events = np.sort(rng.uniform(100, 2900, 12))
    peaks = np.sort(np.concatenate([events - 8.0, rng.uniform(0, 3000, 30)]))
    res = event_coincidence(peaks, events, series_start_s=0, series_end_s=3000, delta_s=10, n_shifts=299, seed=1)
    by = {(t["direction"], t["analysis"]): t for t in res.tests}
    assert by[("peaks_before_events", "coincidence_precursor")]["statistic"] == 1.0
    assert by[("peaks_before_events", "coincidence_precursor")]["p_value"] < 0.01
    c = res.correlogram
    assert c.loc[c["rate_per_event"].idxmax(), "lag_s"] == pytest.approx(-10, abs=2.5)


# ---------------------------------------------------------------------------------------------------- compare


def test_compare_event_types_and_modalities():
    s = simulate_synchrony(n_events=16, bump_sd=0.0, seed=11)
    ev = s.events.copy()
    ev["code"] = np.where(np.arange(16) % 2 == 0, "MoM", "IM")
    v = s.values.copy()
    for on, off in zip(ev.loc[ev.code == "MoM", "onset_s"], ev.loc[ev.code == "MoM", "offset_s"]):
        v[(s.times_s >= on) & (s.times_s <= off)] += 1.5
    r = compare_event_groups(s.times_s, v, ev, by="code", a="MoM", b="IM", n_permutations=499, seed=1)
    assert r["p_value"] < 0.01 and r["statistic"] > 0.8 and r["n_a"] == 8
    other = simulate_synchrony(events=ev[["onset_s", "offset_s"]].to_numpy(), seed=12).values
    m = compare_modalities(s.times_s, v, other, ev.loc[ev.code == "MoM", "onset_s"], ev.loc[ev.code == "MoM", "offset_s"],
                           n_shifts=299, seed=2)
    assert m["p_value"] < 0.01 and m["statistic"] > 0.5
    with pytest.raises(AnalysisError, match="no event"):
        compare_event_groups(s.times_s, v, ev, by="code", a="MoM", b="rupture", n_permutations=10)


# ------------------------------------------------------------------------------------------------- multilevel


def _study(effect: float, seed: int):
    rng = np.random.default_rng(seed)
    tests, epochs = [], []
    for d in range(8):
        level = rng.normal(0, 0.3)
        for s in range(2):
            sim = simulate_synchrony(seed=rng, n_events=8, bump_sd=effect)
            v = sim.values + level
            on, off = sim.events["onset_s"], sim.events["offset_s"]
            el = event_locked_average(sim.times_s, v, on, off, n_shifts=99, seed=d * 10 + s)
            tests.append({**el.test, "feature": "body", "code": "MoM", "dyad": f"d{d}", "session": f"d{d}s{s}"})
            c = epoch_contrasts(sim.times_s, v, on, off, n_random=19, seed=d * 10 + s, code="MoM")
            epochs.append(c.epochs.assign(feature="body", dyad=f"d{d}", session=f"d{d}s{s}"))
    return pd.DataFrame(tests), pd.concat(epochs, ignore_index=True)


def test_across_dyads_find_a_planted_effect():
    tests, epochs = _study(0.5, seed=1)
    across = across_dyads(tests, epochs)
    comb = across["combined"]
    assert comb.loc[comb["analysis"] == "event_locked", "p_value"].item() < 0.001
    mm = across["mixed_model"].set_index("level")
    assert mm.loc["during", "p_value"] < 0.001 and mm.loc["during", "ci_low"] < 0.5 * 1.0
    assert mm.loc["during", "estimate"] == pytest.approx(0.45, abs=0.2)  # bump 0.5 minus its ramps
    assert mm.loc["during", "model"] == "mixedlm" and mm.loc["during", "n_dyads"] == 8
    assert "q_value" in mm.columns
    forest = across["forest"]
    combined = forest[forest["dyad"] == "combined"].iloc[0]
    rows = forest[forest["dyad"] != "combined"]
    w = rows["weight"].to_numpy()
    assert combined["estimate"] == pytest.approx(np.sum(w * rows["estimate"]) / w.sum())
    assert len(rows) == 16


def test_stouffer_combines_sessions_within_dyads_first():
    t = pd.DataFrame({"analysis": "event_locked", "statistic_name": "m", "statistic": 0.0, "p_value": 0.5,
                      "z_surrogate": [1.0, 1.0, 2.0], "dyad": ["a", "a", "b"]})
    out = combine_sessions(t)
    za = 2 / np.sqrt(2)
    assert out["stouffer_z"].item() == pytest.approx((za + 2.0) / np.sqrt(2))
    assert out["n_dyads"].item() == 2 and out["n_sessions"].item() == 3


def test_mixed_model_single_dyad_falls_back_to_ols_and_reference_must_exist():
    _, epochs = _study(0.0, seed=2)
    one = epochs[epochs["dyad"] == "d0"]
    mm = epoch_mixed_model(one)
    assert set(mm["model"]) == {"ols"}
    with pytest.raises(AnalysisError, match="reference level 'baseline'"):
        epoch_mixed_model(epochs, reference="baseline")


# ------------------------------------------------------------------------------------------------- agreement


def test_kappa_and_fleiss_against_sklearn_and_statsmodels():
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    rng = np.random.default_rng(0)
    a = rng.random(500) < 0.2
    b = np.where(rng.random(500) < 0.8, a, rng.random(500) < 0.2)
    c = np.where(rng.random(500) < 0.7, a, rng.random(500) < 0.2)
    assert cohens_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    x = np.column_stack([a, b, c])
    table = np.column_stack([(~x).sum(axis=1), x.sum(axis=1)])
    assert fleiss_kappa(x) == pytest.approx(sm_fleiss(table))
    both, neither, diff = np.sum(a & b), np.sum(~a & ~b), np.sum(a != b)
    assert specific_agreement(a, b) == pytest.approx((2 * both / (2 * both + diff), 2 * neither / (2 * neither + diff)))


def test_coder_agreement_and_consensus():
    ev = pd.DataFrame({
        "onset_s": [10.0, 100.0, 200.0, 11.0, 102.0, 400.0, 9.5, 99.0],
        "offset_s": [20.0, 110.0, 210.0, 21.0, 112.0, 410.0, 19.0, 108.0],
        "code": "MoM", "scheme": "", "coder": ["A", "A", "A", "B", "B", "B", "C", "C"], "source": "",
    })
    assert bin_events(ev[ev.coder == "A"], duration_s=30, bin_s=1.0)[[9, 10, 19, 20]].tolist() == [False, True,
                                                                                                   True, False]
    agreement, curve = coder_agreement(ev, duration_s=500)
    ab = agreement[(agreement.coder_a == "A") & (agreement.coder_b == "B")].iloc[0]
    assert ab["f1"] == pytest.approx(2 * 2 / 6) and ab["n_coders"] == 3
    assert 0 < ab["kappa"] < 1 and ab["psa"] > ab["kappa"] * 0.5
    assert curve["f1"].is_monotonic_increasing or curve.groupby(["coder_a", "coder_b"])["f1"].apply(
        lambda f: f.is_monotonic_increasing).all()
    cons = consensus_events(ev, duration_s=500)
    assert cons[["onset_s", "offset_s"]].values.tolist() == [[10.0, 20.0], [100.0, 110.0]]
    assert (cons["coder"] == "consensus").all()
    with pytest.raises(AnalysisError, match="two coders"):
        coder_agreement(ev[ev.coder == "A"], duration_s=500)


# ------------------------------------------------------------------------------------------------------ dial


def _dial(seed: int, n: int = 1200, follow: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    from scipy.signal import lfilter

    client = lfilter([1.0], [1.0, -0.97], rng.standard_normal(n))
    client = 50 + 12 * client / client.std()
    therapist = 0.7 * client + 0.3 * (50 + 12 * rng.standard_normal(n)) if follow is None else follow
    t = np.arange(n, dtype=float)
    return pd.concat([pd.DataFrame({"time_s": t, "rater": "client", "value": np.clip(client, 0, 100)}),
                      pd.DataFrame({"time_s": t, "rater": "therapist", "value": np.clip(therapist, 0, 100)})])


def test_dial_congruence_segments_and_relation_to_synchrony():
    d = _dial(1)
    same = d.copy()
    same.loc[same.rater == "therapist", "value"] = same.loc[same.rater == "client", "value"].to_numpy()
    over_time, summary = dial_congruence(same, window_s=60, step_s=10)
    assert summary["r"] == pytest.approx(1.0) and summary["ccc"] == pytest.approx(1.0)
    assert summary["mean_abs_diff"] == 0.0 and np.allclose(over_time["r"].dropna(), 1.0)
    # planted segments: client rates 90 from 300 to 360 s
    seg = d.copy()
    seg.loc[(seg.rater == "client") & seg.time_s.between(300, 360), "value"] = 99.0
    ev = dial_segments(seg, high=95, low=1, min_duration_s=10)
    high = ev[ev.code == "dial_high_client"]
    assert high[["onset_s", "offset_s"]].values.tolist() == [[300.0, 360.0]]
    # synchrony that follows the client's rating; and synchrony that does not
    client = d[d.rater == "client"]["value"].to_numpy()
    t = np.arange(0, 1200, 0.5)
    related = np.interp(t, np.arange(1200.0), client) + np.random.default_rng(2).normal(0, 5, len(t))
    r = dial_synchrony(d, t, related, n_shifts=199, seed=1).set_index("measure")
    assert r.loc["client", "statistic"] > 0.5 and r.loc["client", "p_value"] < 0.05
    null_p = [dial_synchrony(d, t, np.random.default_rng(s).standard_normal(len(t)), n_shifts=99,
                             seed=s).set_index("measure").loc["client", "p_value"] for s in range(4, 9)]
    assert sum(p < 0.05 for p in null_p) <= 1, null_p


# -------------------------------------------------------------------------------------------- session driver


def test_session_tables_parameters_and_reproducibility():
    s = simulate_synchrony(duration_s=1500, n_events=6, bump_sd=0.8, seed=21)
    ev = s.events.copy()
    extra = ev.iloc[:3].copy()
    extra["coder"], extra["onset_s"] = "coder2", extra["onset_s"] + 1
    ev = pd.concat([ev, extra], ignore_index=True)
    surrogates = {"simulated": [simulate_synchrony(duration_s=1500, n_events=1, seed=k).values for k in range(3)]}
    a = analyse_moments(s.synchrony, ev, params(), window_s=8, surrogate_sync=surrogates, duration_s=1500)
    b = analyse_moments(s.synchrony, ev, params(), window_s=8, surrogate_sync=surrogates, duration_s=1500)
    assert set(a.tables) == set(MOMENT_TABLES)
    pd.testing.assert_frame_equal(a["moment_tests"], b["moment_tests"])
    tests = a["moment_tests"]
    expected = {"event_locked", "event_locked_max", "event_locked_cluster", "contrast_pre", "contrast_during",
                "contrast_post", "matching_f1", "matching_latency", "coincidence_precursor", "coincidence_trigger",
                "compare_coder"}
    assert expected <= set(tests["analysis"])
    assert list(tests.columns[:5]) == ["feature", "code", "analysis", "statistic_name", "statistic"]
    assert tests["seed"].notna().all() and tests["q_value"].between(0, 1).all()
    assert len(a["coder_agreement"]) == 1 and a["coder_agreement"]["coder_b"].item() == "simulation"
    # the two coders' moments are analysed as their consensus: three events
    assert tests.loc[tests.analysis == "event_locked", "n_events"].item() == 3
    each = analyse_moments(s.synchrony, ev, params(coders="each", analyses=["event_locked"]), window_s=8)
    assert set(each["moment_tests"]["code"]) == {"MoM [coder2]", "MoM [simulation]"}


def test_without_surrogates_the_peak_analyses_are_skipped_with_a_warning():
    s = simulate_synchrony(duration_s=1200, n_events=5, seed=2)
    with pytest.warns(DyadsyncWarning, match="no surrogate synchrony"):
        r = analyse_moments(s.synchrony, s.events, params(), window_s=8)
    assert "matching_f1" not in set(r["moment_tests"]["analysis"]) and r["sync_peaks"].empty


# -------------------------------------------------------------------------------- calibration (small version)


def test_calibration_small_version_of_the_benchmark():
    """Events unrelated to synchrony: no test rejects much more than 5% (40 sessions here; 400 in the benchmark)."""
    rejections: dict[str, int] = {}
    n = 40
    p = params(n_shifts=99, n_random=99, analyses=["event_locked", "contrasts", "peaks", "matching", "coincidence"])
    for seed in range(n):
        s = simulate_synchrony(duration_s=1500, n_events=6, seed=500 + seed)
        sur = {"simulated": [simulate_synchrony(duration_s=1500, n_events=1, seed=10_000 + seed).values]}
        tests = analyse_moments(s.synchrony, s.events, p, window_s=8, surrogate_sync=sur)["moment_tests"]
        for _, row in tests.iterrows():
            key = row["analysis"] + (f" {row['direction']}" if isinstance(row.get("direction"), str) else "")
            rejections[key] = rejections.get(key, 0) + int(row["p_value"] < 0.05)
    assert len(rejections) == 12
    assert max(rejections.values()) <= 6, rejections  # binomial(40, .05): P(X >= 7) < 0.5% per test
    assert 0.01 <= sum(rejections.values()) / (n * len(rejections)) <= 0.09, rejections


def test_power_and_latency_small_version_of_the_benchmark():
    """0.5 SD bumps over 10 events: the event-locked test finds most; a bump 10 s before point events is found there."""
    p = params(n_shifts=199, analyses=["event_locked"])
    found = 0
    for seed in range(20):
        s = simulate_synchrony(n_events=10, bump_sd=0.5, seed=700 + seed)
        found += analyse_moments(s.synchrony, s.events, p, window_s=8)["moment_tests"]["p_value"].iloc[0] < 0.05
    assert found >= 13, found  # the benchmark measures about 85% over 400 sessions
    curves = []
    for seed in range(20):
        s = simulate_synchrony(n_events=10, event_s=(0, 0), bump_sd=0.5, bump_offset_s=-10, bump_s=10,
                               seed=900 + seed)
        curves.append(analyse_moments(s.synchrony, s.events, p, window_s=8)["moments"])
    grand = np.mean([c["mean_z"].to_numpy() for c in curves], axis=0)
    rel = curves[0]["rel_time_s"].to_numpy()
    excess = np.clip(grand - np.median(grand), 0, None)
    assert np.sum(rel * excess) / excess.sum() == pytest.approx(-10, abs=2)
