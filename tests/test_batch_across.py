"""Across the sessions of a batch without videos: pseudo-dyads on simulated dyads with known coupling, QC summary."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dyadsync.pipeline.across import (
    SessionSeries,
    across_moments,
    pseudo_dyad_synchrony,
)
from dyadsync.pipeline.analysis import analyse_features
from dyadsync.pipeline.config import load_pipeline
from dyadsync.simulate import simulate_dyad


def _sessions(coupling: float, n: int = 5, duration_s: float = 60.0, dyads: list[str] | None = None):
    config = load_pipeline(None)
    out = []
    for i in range(n):
        sim = simulate_dyad(duration_s=duration_s, rate_hz=10.0, episodes=[(0.0, duration_s)], coupling=coupling,
                            persons=config.persons.names, seed=100 + i)
        features = sim.motion[sim.motion["feature"] == "planted_speed"].copy()
        features["feature"] = "motion_energy"
        gi = {f: info["global_index"] for f, info in analyse_features(features, None, config).info.items()}
        out.append(SessionSeries(f"s{i}", dyads[i] if dyads else f"d{i}", features, config, gi))
    return out


def test_real_dyads_with_planted_coupling_beat_pseudo_dyads():
    table, notes = pseudo_dyad_synchrony(_sessions(coupling=1.0), seed=7)
    assert notes == []
    row = table.set_index("feature").loc["motion_energy"]
    assert (row["n_real"], row["n_pseudo"], row["n_pseudo_possible"], row["n_dyads"]) == (5, 20, 20, 5)
    assert row["real_mean"] > row["pseudo_mean"] and row["d"] > 1
    assert row["p_value"] < 0.01


def test_uncoupled_dyads_are_like_pseudo_dyads():
    row = pseudo_dyad_synchrony(_sessions(coupling=0.0), seed=7)[0].iloc[0]
    assert row["p_value"] > 0.05 and abs(row["d"]) < 1.5


def test_pseudo_dyads_never_pair_sessions_of_one_dyad_and_are_reproducible():
    sessions = _sessions(coupling=1.0, n=4, duration_s=40.0, dyads=["a", "a", "b", "c"])
    first, _ = pseudo_dyad_synchrony(sessions, seed=3)
    again, _ = pseudo_dyad_synchrony(sessions, seed=3)
    pd.testing.assert_frame_equal(first, again)
    # 4 x 3 ordered pairs of sessions, less the 2 within dyad "a"
    assert first.iloc[0][["n_pseudo", "n_pseudo_possible", "n_dyads"]].tolist() == [10, 10, 3]
    capped, _ = pseudo_dyad_synchrony(sessions, seed=3, max_pairs=6)
    assert capped.iloc[0]["n_pseudo"] <= 6


def test_pseudo_dyads_need_two_dyads():
    table, notes = pseudo_dyad_synchrony(_sessions(coupling=1.0, n=2, duration_s=40.0, dyads=["a", "a"]), seed=1)
    assert table.empty and "at least 2 dyads" in notes[0]


def test_across_moments_without_codes_or_with_one_dyad():
    assert across_moments(None) == ({}, ["across-dyad moments analyses skipped: no complete session has coded "
                                         "events"])
    tests = pd.DataFrame({"feature": ["m", "m"], "code": ["MoM", "MoM"], "analysis": ["event_locked"] * 2,
                          "statistic_name": ["mean_z_during"] * 2, "statistic": [0.5, 0.7], "null_mean": [0.0, 0.1],
                          "null_sd": [0.2, 0.3], "z_surrogate": [1.5, 2.0], "p_value": [0.07, 0.02],
                          "session": ["s1", "s2"], "dyad": ["d", "d"]})
    epochs = pd.DataFrame({"feature": "m", "code": "MoM", "epoch": ["during", "random"] * 4, "mean_sync": np.arange(8.0),
                           "session": ["s1"] * 4 + ["s2"] * 4, "dyad": "d"})
    tables, notes = across_moments(tests, epochs)
    assert set(tables) == {"combined", "forest"}
    assert tables["combined"].iloc[0]["n_dyads"] == 1
    assert notes == ["mixed model not fitted: the epochs come from 1 dyad(s); it needs at least 2"]
    # epochs of two dyads without random baseline epochs: no model, but the other tables and a note
    no_baseline = epochs.assign(epoch="during", dyad=["d1"] * 4 + ["d2"] * 4)
    tables, notes = across_moments(tests.assign(dyad=["d1", "d2"]), no_baseline)
    assert set(tables) == {"combined", "forest"} and tables["combined"].iloc[0]["n_dyads"] == 2
    assert len(notes) == 1 and notes[0].startswith("mixed model not fitted: reference level 'random'")


def test_session_summary_reports_detection_and_speech_rates(tmp_path):
    from dyadsync.pipeline.batch_outputs import _session_summary

    record = {
        "inputs": {"video": {"duration_s": 100.0}},
        "warnings": ["one", "two"],
        "features": {
            "motion": {"n_artefact_frames": 3},
            "pose": {"detection": {"left": {"detection_rate": 0.9}, "right": {"detection_rate": 0.5}}},
            "face": {"detection": {"left": {"detection_rate": 0.8}, "right": {"detection_rate": 0.7}}},
            "voice": {"speaking_s": {"left": 40.0, "right": 25.0}},
        },
        "synchrony": {"motion_energy": {"global_index": 0.3}},
    }
    (tmp_path / "run.json").write_text(json.dumps(record))
    summary = _session_summary(tmp_path)
    assert summary == pytest.approx({
        "duration_s": 100.0, "n_warnings": 2, "artefact_frames": 3, "detection_pose_left": 0.9,
        "detection_pose_right": 0.5, "detection_face_left": 0.8, "detection_face_right": 0.7, "speech_left": 0.4,
        "speech_right": 0.25, "global_index_motion_energy": 0.3})
