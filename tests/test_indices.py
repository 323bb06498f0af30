"""SUSY-style segment indices against a literal transcription of SUSY's R loops, and planted coupling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dyadsync.errors import ConfigError
from dyadsync.synchrony.indices import susy


def r_ccf(x, y, lag_max):
    """R's ccf(x, y, lag.max): lag k estimates cor(x[t + k], y[t]); returns values for k = -lag_max..lag_max."""
    n = len(x)
    xm, ym = x.mean(), y.mean()
    c0 = math.sqrt(((x - xm) ** 2).sum() / n * ((y - ym) ** 2).sum() / n)
    out = []
    for k in range(-lag_max, lag_max + 1):
        s = 0.0
        for t in range(n):
            if 0 <= t + k < n:
                s += (x[t + k] - xm) * (y[t] - ym)
        out.append(s / n / c0 if c0 > 0 else math.nan)
    return np.array(out)


def susy_literal(a, b, segment, hz, maxlag):
    """SUSY's crosscor() for one pair, unrestricted surrogates, and its as.data.frame columns (R lag order)."""
    K, n_lags, rng_ = maxlag * hz, 2 * maxlag * hz + 1, segment * hz
    n_ep = round(len(a) / rng_ - 0.499999)
    eps = [(a[i * rng_:(i + 1) * rng_], b[i * rng_:(i + 1) * rng_]) for i in range(n_ep)]
    real_z, pseudo_z = np.zeros(n_lags), np.zeros(n_lags)
    real_zs, pseudo_zs = np.zeros(n_lags), np.zeros(n_lags)
    for i in range(n_ep):
        for h in range(n_ep):
            acf = r_ccf(eps[i][0], eps[h][1], K)
            if math.isnan(acf[0]):
                continue
            z = 0.5 * np.log((1 + acf) / (1 - acf))
            if i == h:
                real_z += np.abs(z)
                real_zs += z
            else:
                pseudo_z += np.abs(z)
                pseudo_zs += z
    real_z, real_zs = real_z / n_ep, real_zs / n_ep
    pseudo_z, pseudo_zs = pseudo_z / (n_ep * (n_ep - 1)), pseudo_zs / (n_ep * (n_ep - 1))
    es = lambda r, p: (r.mean() - p.mean()) / p.std(ddof=1)  # noqa: E731
    return {
        "Z": real_z.mean(), "Z-Pseudo": pseudo_z.mean(), "SD(Z)": real_z.std(ddof=1),
        "%>Pseudo": 100 * (real_z > pseudo_z).sum() / n_lags, "n(Segmente)": n_ep, "ES": es(real_z, pseudo_z),
        "Z(lead1)": real_z[:K].mean(), "Z(lead2)": real_z[K + 1:].mean(),
        "ES(lead1)": es(real_z[:K], pseudo_z[:K]), "ES(lead2)": es(real_z[K + 1:], pseudo_z[K + 1:]),
        "meanZ(in-phase)": real_zs[real_zs >= 0].mean(), "Anzahl(anti-phase)": (real_zs < 0).sum(),
        "Z(noAbs)": real_zs.mean(), "Z(Pseudo-noAbs)": pseudo_zs.mean(), "ES(noAbs)": es(real_zs, pseudo_zs),
        "profile": real_z,
    }


MAP = {"Z": "z", "Z-Pseudo": "z_pseudo", "SD(Z)": "z_sd", "%>Pseudo": "pct_above_pseudo", "n(Segmente)": "n_segments",
       "ES": "es", "Z(lead1)": "z_a_leads", "Z(lead2)": "z_b_leads", "ES(lead1)": "es_a_leads",
       "ES(lead2)": "es_b_leads", "meanZ(in-phase)": "z_inphase", "Anzahl(anti-phase)": "n_antiphase",
       "Z(noAbs)": "z_noabs", "Z(Pseudo-noAbs)": "z_pseudo_noabs", "ES(noAbs)": "es_noabs"}


def test_matches_literal_susy():
    rng = np.random.default_rng(0)
    a = np.convolve(rng.standard_normal(470), np.ones(4) / 4, "same")
    b = 0.6 * np.roll(a, 3) + rng.standard_normal(470)
    a[50] = np.nan  # dropped with its row, as SUSY's complete.cases
    res = susy(a, b, rate_hz=5, segment_s=12, max_lag_s=2)
    keep = np.isfinite(a)
    ref = susy_literal(a[keep], b[keep], segment=12, hz=5, maxlag=2)
    for susy_name, ours in MAP.items():
        assert res.indices[ours] == pytest.approx(ref[susy_name], rel=1e-10, abs=1e-12), susy_name
    # SUSY's lag k is cor(x[t + k], y[t]); dyadsync's lag L pairs A at t with B at t + L: L = -k.
    np.testing.assert_allclose(res.lag_profile["z"], ref["profile"][::-1], rtol=1e-10)
    assert res.indices["n_samples"] == 469 and res.params["n_dropped_missing"] == 1


def test_planted_coupling_and_independence():
    rng = np.random.default_rng(1)
    n, hz = 25 * 600, 25
    a = np.convolve(rng.standard_normal(n + 30), np.ones(10) / 10, "valid")[:n]
    b = np.roll(a, 15) + 0.5 * rng.standard_normal(n)  # B follows A by 0.6 s
    coupled = susy(a, b, rate_hz=hz, segment_s=30, max_lag_s=3)
    assert coupled.indices["es"] > 2 and coupled.indices["z_a_leads"] > coupled.indices["z_b_leads"]
    assert coupled.lag_profile["lag_s"].iloc[coupled.lag_profile["z"].argmax()] == pytest.approx(0.6)
    assert coupled.indices["n_segments"] == 20 and len(coupled.segments) == 20
    independent = susy(a, rng.permutation(b), rate_hz=hz, segment_s=30, max_lag_s=3)
    assert abs(independent.indices["es"]) < 2


def test_parameter_checks():
    x = np.arange(100.0)
    with pytest.raises(ConfigError, match="at least twice"):
        susy(x, x[::-1], rate_hz=1, segment_s=4, max_lag_s=3)
    with pytest.raises(ConfigError, match="half"):
        susy(x, x[::-1], rate_hz=1, segment_s=60, max_lag_s=3)
