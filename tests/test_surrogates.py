"""Surrogates: the fast circular shift equals the engine on shifted series; null rate; pseudo-dyads; stats."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from dyadsync.errors import AnalysisError
from dyadsync.stats import cohens_d
from dyadsync.synchrony import (
    circular_shift,
    compare,
    compare_groups,
    global_index,
    iaaft,
    iaaft_surrogates,
    pseudo_dyad_pairs,
    pseudo_dyads,
    segment_shuffle,
    shuffle_segments,
    summarize,
    windowed_cross_correlation,
)

KW = dict(rate_hz=10, window_s=6, step_s=2, max_lag_s=1.5)
COLUMN = {"best": "best_sync", "mean": "all_lags", "lag0": "lag0"}


def smooth_noise(rng, n, tau=5.0):
    kernel = np.exp(-np.arange(int(5 * tau)) / tau)
    return np.convolve(rng.standard_normal(n + len(kernel)), kernel, "valid")[:n]


def coupled_pair(rng, n=900, lag=4):
    a = smooth_noise(rng, n) * 50 + 300
    b = np.roll(a, lag) + rng.standard_normal(n) * 20 + 100
    return a, b


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("summary", ["best", "mean", "lag0"])
@pytest.mark.parametrize("n_surrogates", [25, None])  # few: gathered per surrogate; all: sliding over offsets
def test_circular_shift_equals_engine_on_rolled_series(missing, summary, n_surrogates):
    rng = np.random.default_rng(0)
    a, b = coupled_pair(rng)
    if missing:
        a[100:130] = np.nan
        b[rng.choice(len(b), 40, replace=False)] = np.nan
    res = circular_shift(a, b, seed=1, n_surrogates=n_surrogates, min_shift_s=3,
                         summary=summary, matrices=n_surrogates is not None, chunk=7, **KW)
    shifts = res.params["shifts_samples"]
    assert res.labels == [k / 10 for k in shifts] and min(shifts) >= 30 and max(shifts) <= 870
    check = range(len(shifts)) if n_surrogates else np.linspace(0, len(shifts) - 1, 12).astype(int)
    for k in check:
        wcc = windowed_cross_correlation(a, np.roll(b, shifts[k]), **KW)
        if res.values is not None:
            np.testing.assert_allclose(res.values[k], wcc.values, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(res.window_sync[k], summarize(wcc)[COLUMN[summary]], atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(res.lag_profile[k], np.nanmean(wcc.values, axis=0), atol=1e-12)
        assert res.global_index[k] == pytest.approx(global_index(wcc), abs=1e-12)


def test_circular_shift_is_seeded_and_detects_planted_coupling():
    rng = np.random.default_rng(2)
    a, b = coupled_pair(rng)
    one = circular_shift(a, b, seed=7, n_surrogates=99, **KW)
    two = circular_shift(a, b, seed=7, n_surrogates=99, **KW)
    other = circular_shift(a, b, seed=8, n_surrogates=99, **KW)
    np.testing.assert_array_equal(one.global_index, two.global_index)
    assert one.labels != other.labels
    stats = compare(global_index(windowed_cross_correlation(a, b, **KW)), one.global_index)
    assert stats["p"] == pytest.approx(1 / 100) and stats["percentile"] == 100 and stats["d"] > 3
    assert one.threshold(95).shape == one.window_sync.shape[1:]


def test_circular_shift_null_rejects_at_nominal_rate():
    """Independent persons: the circular-shift test rejects at 5% +- 2.5% over 300 seeds (a benchmark runs 1000)."""
    kw = dict(rate_hz=2, window_s=30, step_s=5, max_lag_s=2)
    rejections = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        a, b = smooth_noise(rng, 1200, tau=2.0), smooth_noise(rng, 1200, tau=2.0)
        real = global_index(windowed_cross_correlation(a, b, **kw))
        null = circular_shift(a, b, seed=rng, n_surrogates=99, summary="lag0", **kw)
        rejections += compare(real, null.global_index)["p"] <= 0.05
    assert 0.025 <= rejections / 300 <= 0.075, rejections / 300


def test_circular_shift_errors():
    a = np.sin(np.arange(200.0))
    with pytest.raises(AnalysisError, match="only 81 distinct shifts"):
        circular_shift(a, a[::-1].copy(), seed=0, n_surrogates=1000, **KW)
    with pytest.raises(AnalysisError, match="leaves no circular shift"):
        circular_shift(a[:100], a[:100], seed=0, **KW)


def test_shuffle_segments_breaks_every_original_pairing():
    rng = np.random.default_rng(3)
    a, b = np.arange(105.0), np.arange(105.0) + 1000
    sa, sb = shuffle_segments(a, b, segment_samples=10, seed=rng)
    assert len(sa) == len(sb) == 100  # incomplete tail dropped
    np.testing.assert_array_equal(np.sort(sa), a[:100])
    seg_a, seg_b = sa.reshape(10, 10)[:, 0] // 10, (sb.reshape(10, 10)[:, 0] - 1000) // 10
    assert np.all(seg_a != seg_b) and sorted(seg_a) == list(range(10))


def test_segment_shuffle_and_iaaft_results():
    rng = np.random.default_rng(4)
    a, b = coupled_pair(rng, n=600)
    real = global_index(windowed_cross_correlation(a, b, **KW))
    for res in (
        segment_shuffle(a, b, seed=5, n_surrogates=30, **KW),
        iaaft_surrogates(a, b, seed=5, n_surrogates=20, n_iter=50, **KW),
    ):
        assert res.n == len(res.global_index) and np.isfinite(res.global_index).all()
        assert compare(real, res.global_index)["p"] < 0.05
        assert res.window_sync.shape[1] == len(windowed_cross_correlation(a, b, **KW).values)


def test_iaaft_keeps_values_spectrum_and_gaps():
    rng = np.random.default_rng(6)
    x = smooth_noise(rng, 2048) ** 2  # skewed, autocorrelated
    y = iaaft(x, seed=1)
    np.testing.assert_array_equal(np.sort(y), np.sort(x))
    sx, sy = np.abs(np.fft.rfft(x))[1:], np.abs(np.fft.rfft(y))[1:]
    assert np.corrcoef(sx, sy)[0, 1] > 0.95
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.2
    x[10:20] = np.nan
    y = iaaft(x, seed=1)
    assert np.array_equal(np.isnan(y), np.isnan(x))


def test_pseudo_dyad_pairs_follow_rmea_shuffle():
    pairs = pseudo_dyad_pairs(20)
    assert len(pairs) == 760  # rMEA's README: "50 / 760 possible combinations"
    persons = [(d, 0) for d in range(20)] + [(d, 1) for d in range(20)]
    assert pairs == [(p, q) for p, q in combinations(persons, 2) if not (p[0] == q[0] and p[1] != q[1])]
    roles = pseudo_dyad_pairs(20, keep_roles=True)
    assert len(roles) == 20 * 19 and all(p[1] == 0 and q[1] == 1 and p[0] != q[0] for p, q in roles)
    drawn = pseudo_dyad_pairs(20, n=50, seed=0)
    assert len(drawn) == 50 == len(set(drawn)) and set(drawn) <= set(pairs)
    assert drawn == pseudo_dyad_pairs(20, n=50, seed=0)


def test_pseudo_dyads_are_cut_to_the_shorter_series():
    rng = np.random.default_rng(7)
    series = [coupled_pair(rng, n=n) for n in (700, 650, 800)]
    res = pseudo_dyads(series, keep_roles=True, **KW)
    assert res.n == 6 and res.method == "pseudo_dyad"
    (d1, r1), (d2, r2) = res.labels[0]
    x, y = series[d1][r1], series[d2][r2]
    m = min(len(x), len(y))
    assert res.global_index[0] == pytest.approx(global_index(windowed_cross_correlation(x[:m], y[:m], **KW)))


def test_compare_and_effect_sizes():
    null = np.arange(1.0, 100.0)  # 99 values
    assert compare(1000.0, null)["p"] == pytest.approx(1 / 100)
    assert compare(50.0, null)["p"] == pytest.approx(51 / 100)
    assert compare(50.0, null)["percentile"] == pytest.approx(49.5 / 99 * 100)
    assert math.isnan(compare(1.0, [])["p"])
    x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0, 7.0])
    pooled = math.sqrt((3 * x.var(ddof=1) + 4 * y.var(ddof=1)) / 7)
    assert cohens_d(x, y) == pytest.approx((x.mean() - y.mean()) / pooled)
    assert cohens_d(y, x) == pytest.approx(-cohens_d(x, y))
    group = compare_groups(y + 10, x, seed=0, n_draws=999)
    assert group["p"] == pytest.approx(1 / 1000) and group["d"] > 0 and group["n_real"] == 5


@pytest.mark.parametrize("make", [
    lambda a, b, seed: circular_shift(a, b, seed=seed, n_surrogates=9, **KW),
    lambda a, b, seed: segment_shuffle(a, b, seed=seed, n_surrogates=3, **KW),
    lambda a, b, seed: iaaft_surrogates(a, b, seed=seed, n_surrogates=2, n_iter=10, **KW),
    lambda a, b, seed: pseudo_dyads([(a, b), (b[:800], a[:800]), (a[:850], b[:850])], n_surrogates=3, seed=seed, **KW),
])
def test_one_randomness_convention_int_or_generator(make):
    """seed=int is a new Generator seeded with it; a Generator is used as it is (the caller's stream goes on)."""
    a, b = coupled_pair(np.random.default_rng(9), n=900)
    by_int, by_generator = make(a, b, 11), make(a, b, np.random.default_rng(11))
    np.testing.assert_array_equal(by_int.global_index, by_generator.global_index)
    assert by_int.labels == by_generator.labels
    assert by_int.params["seed"] == 11 and by_generator.params["seed"] is None  # a Generator has no seed to record
    stream = np.random.default_rng(11)
    first, second = make(a, b, stream), make(a, b, stream)
    np.testing.assert_array_equal(first.global_index, by_int.global_index)
    assert not np.array_equal(first.global_index, second.global_index)  # the second call drew new numbers


def test_seeded_subsets_and_draws():
    assert pseudo_dyad_pairs(20, n=50, seed=3) == pseudo_dyad_pairs(20, n=50, seed=np.random.default_rng(3))
    assert pseudo_dyad_pairs(20, n=50, seed=3) != pseudo_dyad_pairs(20, n=50, seed=4)
    x, y = np.arange(5.0), np.arange(40.0) / 7
    assert compare_groups(x, y, seed=2, n_draws=99) == compare_groups(x, y, seed=np.random.default_rng(2), n_draws=99)
    a = np.arange(200.0)
    np.testing.assert_array_equal(iaaft(a, seed=5), iaaft(a, seed=np.random.default_rng(5)))
    assert shuffle_segments(a, a, segment_samples=20, seed=5)[0].tolist() == \
        shuffle_segments(a, a, segment_samples=20, seed=np.random.default_rng(5))[0].tolist()
