"""``dyadsync moments`` on finished run folders: one or many sessions, across dyads, failures isolated."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from dyadsync.cli import main
from dyadsync.io.events import write_eaf, write_events_csv
from dyadsync.io.store import write_json, write_parquet
from dyadsync.pipeline import config_from_dict
from dyadsync.pipeline.analysis import analyse_features
from dyadsync.report._html import element_id
from dyadsync.simulate import simulate_dyad

FAST = {"n_shifts": 99, "n_random": 99, "n_surrogates": 3, "epoch_s": 20.0, "n_baseline": 5, "tmin_s": -20.0,
        "tmax_s": 20.0}


def make_run(folder, seed, coupling=1.0, duration_s=600.0):
    """A run folder as `dyadsync run` leaves it (without the video work): features, synchrony, run.json."""
    d = simulate_dyad(duration_s=duration_s, rate_hz=10, coupling=coupling, n_episodes=6, episode_s=(10, 15),
                      seed=seed)
    feats = d.motion[d.motion["feature"] == "planted_speed"].copy()
    feats["feature"] = "motion_energy"
    config = config_from_dict({"moments": FAST})
    analysis = analyse_features(feats, None, config)
    folder.mkdir(parents=True)
    write_parquet(feats, folder / "features.parquet")
    write_parquet(analysis.synchrony, folder / "synchrony.parquet")
    write_json({"pipeline": {"source": "test", **config.as_dict()},
                "inputs": {"video": {"duration_s": duration_s}}}, folder / "run.json")
    return d.events


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    out = []
    for i, coupling in enumerate((1.0, 1.0, 1.0)):
        events = make_run(root / f"s{i + 1}", seed=40 + i, coupling=coupling)
        codes = write_events_csv(events, root / f"s{i + 1}_codes.csv", clock=True)
        out.append((root / f"s{i + 1}", codes, events))
    toml = root / "fast.toml"
    toml.write_text("[moments]\n" + "".join(f"{k} = {v}\n" for k, v in FAST.items()))
    return root, out, toml


def test_many_sessions_across_dyads(runs, tmp_path, capsys):
    root, sessions, toml = runs
    args = ["moments", *[s[0] for s in sessions], "--codes", *[s[1] for s in sessions], "--dyads", "A", "A", "B",
            "--out", tmp_path / "out", "--pipeline", toml, "--csv", "-q", "--session-figures", "0"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(a) for a in args]) == 0
    out = tmp_path / "out"
    assert capsys.readouterr().out.strip().endswith("moments_report.html")
    record = json.loads((out / "moments_run.json").read_text())
    for name in record["outputs"]:
        assert (out / name).is_file(), name
    assert not list(out.glob(".*.tmp"))
    assert (out / "moment_tests.csv").is_file()
    assert (out / "figures" / "forest_motion_energy_MoM.svg").is_file()
    assert (out / "figures" / "grand_average_motion_energy_MoM.png").read_bytes()[:4] == b"\x89PNG"
    sessions_table = pd.read_parquet(out / "sessions.parquet")
    assert sessions_table["status"].tolist() == ["ok"] * 3 and sessions_table["dyad"].tolist() == ["A", "A", "B"]
    tests = pd.read_parquet(out / "moment_tests.parquet")
    assert set(tests["session"]) == {"s1", "s2", "s3"}
    combined = pd.read_parquet(out / "across_dyads.parquet")
    el = combined[combined["analysis"] == "event_locked"].iloc[0]
    assert el["n_dyads"] == 2 and el["n_sessions"] == 3 and el["p_value"] < 0.01  # planted imitation episodes
    mm = pd.read_parquet(out / "mixed_model.parquet")
    assert {"pre vs random", "during vs random_during", "post vs random"} == set(mm["term"])
    assert mm.set_index("level").loc["during", "estimate"] > 0 and mm["q_value"].notna().all()
    html = (out / "moments_report.html").read_text()
    assert f'id="{element_id("forest", "motion_energy", "MoM")}"' in html and f'id="{element_id("grand-average", "motion_energy", "MoM")}"' in html
    assert f'id="{element_id("event-locked", "s2-", "motion_energy", "MoM")}"' not in html and "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "References:" in html and "Maris" in html


def test_a_failing_session_does_not_stop_the_others(runs, tmp_path, capsys):
    root, sessions, toml = runs
    late = tmp_path / "late.csv"
    late.write_text("onset,offset,code\n00:30,00:40,MoM\n20:00,20:10,MoM\n")  # 20 min: after the 10-min session
    args = ["moments", sessions[0][0], sessions[1][0], "--codes", sessions[0][1], late, "--out", tmp_path / "o",
            "--pipeline", toml, "-q", "--no-report"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(a) for a in args]) == 1
    status = pd.read_parquet(tmp_path / "o" / "sessions.parquet").set_index("session")["status"]
    assert status["s1"] == "ok" and "late.csv" in status["s2"] and "line 3" in status["s2"]
    assert not (tmp_path / "o" / "moments_report.html").exists()
    assert "late.csv" in json.loads((tmp_path / "o" / "moments_run.json").read_text())["warnings"][-1]


def test_usage_errors(runs, tmp_path, capsys):
    root, sessions, toml = runs
    assert main([str(a) for a in ["moments", sessions[0][0], sessions[1][0], "--codes", sessions[0][1],
                                  sessions[1][1], sessions[2][1], "--out", tmp_path / "o"]]) == 2
    assert "2 run folders but 3 --codes entries" in capsys.readouterr().err
    assert main([str(a) for a in ["moments", tmp_path / "nope", "--out", tmp_path / "o"]]) == 2
    assert "run folder not found" in capsys.readouterr().err


def test_dial_ratings_of_a_session(runs, tmp_path):
    root, sessions, toml = runs
    folder, codes, events = sessions[0]
    t = np.arange(0, 600, 1.0)
    high = np.zeros_like(t, dtype=bool)
    for on, off in zip(events["onset_s"], events["offset_s"]):  # both rate the moments of meeting high
        high |= (t >= on) & (t <= off)
    rng = np.random.default_rng(1)
    client = np.clip(45 + 40 * high + rng.normal(0, 3, len(t)), 0, 100)
    therapist = np.clip(50 + 35 * high + rng.normal(0, 3, len(t)), 0, 100)
    dial = tmp_path / "dial.csv"
    pd.DataFrame({"time": t, "client": client.round(1), "therapist": therapist.round(1)}).to_csv(dial, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(x) for x in ["moments", folder, "--codes", codes, "--dial", dial, "--out", tmp_path / "o",
                                      "--pipeline", toml, "-q", "--no-report"]]) == 0
    summary = pd.read_parquet(tmp_path / "o" / "dial_summary.parquet")
    assert summary["r"].item() > 0.9 and summary["ccc"].item() > 0.8
    tests = pd.read_parquet(tmp_path / "o" / "moment_tests.parquet")
    rel = tests[tests["analysis"] == "dial_synchrony"].set_index("measure")
    assert rel.loc["client", "statistic"] > 0.1 and rel.loc["client", "p_value"] < 0.05, rel  # synchrony at the moments
    both = tests[(tests["code"] == "dial_high_both") & (tests["analysis"] == "event_locked")]
    assert len(both) == 1 and both["p_value"].item() < 0.05  # the high segments are the moments: same effect


def test_one_session_two_coders_as_files(runs, tmp_path):
    root, sessions, toml = runs
    folder, _, events = sessions[0]
    events = events.assign(coder="")  # the files do not say who coded: the file names do
    a = write_eaf(events, tmp_path / "anna.eaf")
    jittered = events.copy()
    jittered[["onset_s", "offset_s"]] += np.random.default_rng(0).uniform(-2, 2, (len(events), 1))
    b = write_events_csv(jittered.iloc[1:], tmp_path / "ben.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(x) for x in ["moments", folder, "--codes", a, b, "--out", tmp_path / "o", "--pipeline",
                                      toml, "-q"]]) == 0
    html = (tmp_path / "o" / "moments_report.html").read_text()
    for fig in ("event-locked", "contrasts", "raster", "f1", "latency"):
        assert f'id="{element_id(fig, "s1-", "motion_energy", "MoM")}"' in html, fig
    agreement = pd.read_parquet(tmp_path / "o" / "coder_agreement.parquet")
    row = agreement.iloc[0]
    assert (row["coder_a"], row["coder_b"]) == ("anna", "ben") and row["f1"] == pytest.approx(2 * 5 / 11)
    assert row["kappa"] > 0.6
    tests = pd.read_parquet(tmp_path / "o" / "moment_tests.parquet")
    assert "compare_coder" in set(tests["analysis"])
