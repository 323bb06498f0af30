"""The simulator plants what its truth says."""

from __future__ import annotations

import numpy as np
import pytest

from dyadsync.simulate import PARAMETERS, coupling_envelope, simulate_dyad


def test_inside_episodes_b_copies_a_mirrored_and_late():
    d = simulate_dyad(duration_s=90, rate_hz=25, lag_s=0.8, episodes=[(20, 40), (60, 75)], seed=3)
    a, b = d.parameters("left"), d.parameters("right")
    t = a.index.to_numpy()
    lag = int(0.8 * 25)
    inside = np.flatnonzero((t >= 22) & (t <= 38))
    for name, (_, sign) in PARAMETERS.items():
        np.testing.assert_allclose(b[name].to_numpy()[inside], sign * a[name].to_numpy()[inside - lag], atol=1e-9)
    outside = (t < 15) | ((t > 45) & (t < 55)) | (t > 80)
    r = np.corrcoef(a["head_y_px"].to_numpy()[:-lag][outside[lag:]], b["head_y_px"].to_numpy()[lag:][outside[lag:]])[0, 1]
    assert abs(r) < 0.3
    assert d.truth["episodes"] == [[20.0, 40.0], [60.0, 75.0]]
    assert list(d.events["onset_s"]) == [20.0, 60.0] and set(d.events["code"]) == {"MoM"}


def test_no_coupling_means_independent_persons():
    d = simulate_dyad(duration_s=60, coupling=0.0, n_episodes=1, seed=4)
    a, b = d.parameters("left"), d.parameters("right")
    assert abs(np.corrcoef(a["roll_deg"], b["roll_deg"])[0, 1]) < 0.3
    assert d.truth["coupling"] == 0.0


def test_same_seed_same_dyad():
    a = simulate_dyad(duration_s=60, n_episodes=1, seed=9).motion
    b = simulate_dyad(duration_s=60, n_episodes=1, seed=9).motion
    c = simulate_dyad(duration_s=60, n_episodes=1, seed=10).motion
    assert a.equals(b) and not a.equals(c)


def test_impossible_episode_request_is_a_clear_error():
    from dyadsync.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot place 4 episodes"):
        simulate_dyad(duration_s=30, n_episodes=4)


def test_random_episodes_do_not_overlap():
    d = simulate_dyad(duration_s=300, n_episodes=6, episode_s=(10, 20), seed=1)
    ep = np.array(d.truth["episodes"])
    assert len(ep) == 6 and (ep[1:, 0] - ep[:-1, 1] >= 20).all()
    assert (ep[:, 0] >= 10).all() and (ep[:, 1] <= 290).all()


def test_coupling_envelope_is_smooth_and_bounded():
    t = np.arange(0, 30, 0.04)
    w = coupling_envelope(t, [(10, 20)], ramp_s=1.0, strength=0.7)
    assert w.max() == pytest.approx(0.7) and w.min() == 0
    assert np.abs(np.diff(w)).max() < 0.1
    assert w[(t > 11) & (t < 19)].min() == pytest.approx(0.7)
