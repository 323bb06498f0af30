"""rMEA-compatible mode against rMEA's real output, and against a literal transcription of rMEA's R code.

rMEA's own output exists here for one dyad (``../shared/data/rmea_reference``). The literal transcription in
``rmea_literal.py`` is first checked against that output; it then stands in for rMEA on the other 19 dyads and
on the smoothing + scaling pipeline, where no R is available to produce a reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rmea_literal as lit
from dyadsync.errors import AnalysisError, ConfigError
from dyadsync.io.mea_files import read_mea_series
from dyadsync.synchrony.rmea import (
    lag_column_names,
    mea_ccf,
    mea_scale,
    mea_smooth,
    rmea_summaries,
)

REFERENCE = "normal_200_01_ccf_w60_i30_l5_fisherz_abs.csv"
NUMERIC = ["all_lags", "s1_lead", "s2_lead", "lag_zero", "s1_lead_0", "s2_lead_0", "bestLag", "grandAver"]


@pytest.fixture(scope="module")
def reference(shared_data):
    table = pd.read_csv(shared_data / "rmea_reference" / REFERENCE)
    values, _ = read_mea_series(shared_data / "rmea" / "normal" / "200_01.txt")
    return table, values


@pytest.fixture(scope="module")
def dyads(shared_data):
    files = sorted((shared_data / "rmea").glob("*/*.txt"))
    assert len(files) == 20
    return {f.stem: read_mea_series(f)[0] for f in files}


@pytest.mark.shared
def test_literal_transcription_reproduces_rmea_output(reference):
    table, v = reference
    ccf = lit.mea_ccf(v[:, 0], v[:, 1], 25, 5, 60, 30)
    np.testing.assert_allclose(ccf, table.iloc[:, :251].to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.shared
def test_engine_reproduces_rmea_output_to_1e9(reference):
    table, v = reference
    wcc = mea_ccf(v[:, 0], v[:, 1], rate_hz=25, lag_s=5, window_s=60, step_s=30)
    assert lag_column_names(wcc.lags_s) == list(table.columns[:251])
    assert wcc.values.shape == (18, 251)
    np.testing.assert_allclose(wcc.values, table.iloc[:, :251].to_numpy(), rtol=0, atol=1e-9)
    summaries = rmea_summaries(wcc)
    for column in NUMERIC:
        np.testing.assert_allclose(summaries[column], table[column], rtol=0, atol=1e-9, err_msg=column)
    assert list(summaries["win_start"]) == list(table["winTimes.start"])
    assert list(summaries["win_end"]) == list(table["winTimes.end"])


def _compare(fast, slow, atol):
    assert fast.shape == slow.shape
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=atol, equal_nan=True)


@pytest.mark.shared
def test_all_20_dyads_raw_match_literal_rmea_to_1e9(dyads):
    """Raw series, window 60 s, step 30 s, lag 5 s, Fisher z, absolute (the issue's first setting)."""
    for name, v in dyads.items():
        wcc = mea_ccf(v[:, 0], v[:, 1], rate_hz=25, lag_s=5, window_s=60, step_s=30)
        slow = lit.mea_ccf(v[:, 0], v[:, 1], 25, 5, 60, 30)
        _compare(wcc.values, slow, 1e-9)
        grand = np.nanmean(slow)
        assert rmea_summaries(wcc)["grandAver"].iloc[0] == pytest.approx(grand, abs=1e-9), name


@pytest.mark.shared
def test_all_20_dyads_smoothed_scaled_signed_match_literal_rmea_to_1e6(dyads):
    """MEAsmooth (0.5 s) then MEAscale, window 30 s, step 10 s, lag 5 s, Fisher z, signed (rMEA's README)."""
    for name, v in dyads.items():
        smooth = mea_smooth(v, rate_hz=25, window_s=0.5)
        slow_smooth = np.column_stack([lit.mea_smooth(v[:, j], 25, 0.5) for j in range(2)])
        np.testing.assert_array_equal(smooth, slow_smooth, err_msg=name)  # whole pixel counts: exact
        scaled = mea_scale(smooth)
        slow_scaled = np.column_stack([lit.mea_scale(slow_smooth[:, j]) for j in range(2)])
        np.testing.assert_allclose(scaled, slow_scaled, rtol=1e-12)
        wcc = mea_ccf(scaled[:, 0], scaled[:, 1], rate_hz=25, lag_s=5, window_s=30, step_s=10, absolute=False)
        slow = lit.mea_ccf(slow_scaled[:, 0], slow_scaled[:, 1], 25, 5, 30, 10, abs_=False)
        _compare(wcc.values, slow, 1e-6)
        assert (wcc.values < 0).any(), "signed values keep their sign"


def _awkward_pair(rng, n=3000):
    """Integer MEA-like series with every case rMEA's rules treat specially."""
    a = np.round(np.abs(rng.normal(0, 800, n)) * (rng.random(n) < 0.7))
    b = np.round(0.6 * np.roll(a, 7) + np.abs(rng.normal(0, 500, n)) * (rng.random(n) < 0.6))
    a[200:260] = np.nan  # a few missing values: complete pairs per lag
    b[900:1900] = np.nan  # more than half of some windows missing: whole window missing
    a[2000:2400] = 0  # a person not moving: constant ranges
    b[2000:2400] = 0
    b[2500:2800] = a[2500:2800]  # identical stretch: pairs that do not differ
    a[2950:] = 3.0
    return a, b


@pytest.mark.parametrize("seed", [0, 1])
def test_rules_for_missing_constant_and_identical_values_match_literal(seed):
    rng = np.random.default_rng(seed)
    a, b = _awkward_pair(rng)
    for win, inc, lag, z, ab in ((12, 4, 2, True, True), (8, 2, 1, False, False), (10, 5, 0, True, False)):
        wcc = mea_ccf(a, b, rate_hz=10, lag_s=lag, window_s=win, step_s=inc, fisher_z=z, absolute=ab)
        slow = lit.mea_ccf(a, b, 10, lag, win, inc, r2z=z, abs_=ab)
        _compare(wcc.values, slow, 1e-9)
        assert np.isnan(slow).all(axis=1).any() and np.isfinite(slow).any()


def test_identical_series_are_missing_not_one():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 1000, 600).astype(float)
    wcc = mea_ccf(a, a.copy(), rate_hz=10, lag_s=1, window_s=10, step_s=10, fisher_z=False, absolute=False)
    zero = wcc.values[:, 10]
    assert np.isnan(zero).all()  # rMEA: fewer than two differing pairs -> NA
    assert np.isfinite(wcc.values[:, 0]).all()


def test_smoothing_edges_by_hand():
    """25 fps, 0.5 s: sum of 12 samples (6 before, 5 after) / 12.5; fewer at the start; 0 near the end."""
    x = np.arange(1.0, 31.0)
    out = mea_smooth(x, rate_hz=25, window_s=0.5)
    assert out[0] == pytest.approx(sum(range(1, 7)) / 12.5)  # t=1: samples 1..6
    assert out[9] == pytest.approx(sum(range(4, 16)) / 12.5)  # t=10: samples 4..15
    assert np.all(out[-5:] == 0) and out[-6] == pytest.approx(sum(range(19, 31)) / 12.5)
    y = x.copy()
    y[14] = np.nan
    out = mea_smooth(y, rate_hz=25, window_s=0.5)
    assert np.isnan(out[14]) and out[13] == 0 and out[20] == 0 and out[21] != 0


def test_scale_divides_by_sd_without_centring():
    x = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, 6.0], [7.0, 4.0]])
    out = mea_scale(x)
    np.testing.assert_allclose(out[:, 0], x[:, 0] / np.std(x[:, 0], ddof=1))
    np.testing.assert_allclose(out[[0, 2, 3], 1], [1.0, 3.0, 2.0])


def test_windows_and_errors():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 1000))
    wcc = mea_ccf(a, b, rate_hz=10, lag_s=2, window_s=20, step_s=7)
    assert len(wcc.values) == int(np.ceil((1000 - 200 - 20 + 1) / 70))
    np.testing.assert_allclose(wcc.starts_s, np.arange(len(wcc.values)) * 7)
    np.testing.assert_allclose(wcc.ends_s - wcc.starts_s, 21.9)
    with pytest.raises(ConfigError, match="whole samples"):
        mea_ccf(a, b, rate_hz=25, lag_s=0.1, window_s=20, step_s=7)
    with pytest.raises(AnalysisError, match="shorter than one window"):
        mea_ccf(a[:200], b[:200], rate_hz=10, lag_s=2, window_s=20, step_s=7)
    summary = rmea_summaries(mea_ccf(a, b, rate_hz=10, lag_s=0, window_s=20, step_s=10))
    assert summary["s1_lead"].isna().all() and summary["bestLag"].eq(0).all()
