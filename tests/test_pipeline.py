"""End to end on the bundled sample: planted lag and moments of meeting recovered; null dyads stay quiet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from dyadsync.io.events import read_events
from dyadsync.pipeline import RUN_FILES, config_from_dict, load_pipeline
from dyadsync.pipeline.analysis import analyse_features
from dyadsync.simulate import simulate_dyad


def test_outputs_exist_with_documented_columns(sample_run):
    out = sample_run.out_dir
    for name in ("features.parquet", "synchrony.parquet", "moments.parquet", "moment_tests.parquet", "report.html",
                 "run.json", "events.parquet", "synchrony_lags.parquet"):
        assert (out / name).is_file(), name
    sync = pd.read_parquet(out / "synchrony.parquet")
    assert {"time_s", "feature", "sync", "best_lag_s", "person_a", "person_b", "lag0", "a_leads", "b_leads"} <= set(sync.columns)
    feats = pd.read_parquet(out / "features.parquet")
    assert list(feats.columns) == ["time_s", "person", "feature", "value"]
    assert not list(out.glob(".*.tmp"))
    record = json.loads((out / "run.json").read_text())
    assert set(record["outputs"]) == set(RUN_FILES.values())
    # The only warnings are the moments guard-rails: the sample has 4 moments (fewer than 5) in 2 minutes, too
    # short for 60-s epochs of uncoded time and 15-s matching tolerances; nothing else (no artefact, no data
    # problem) is reported.
    assert any("only 4 event(s)" in w for w in record["warnings"])
    guard = ("event(s)", "epoch", "uncoded time", "takes few values", "rates take few values")
    assert all(any(g in w for g in guard) for w in record["warnings"]), record["warnings"]


def test_planted_lag_recovered_in_episodes(sample_run, ground_truth):
    sync = sample_run.synchrony
    half = sample_run.record["synchrony"]["motion_energy"]["wcc"]["window_s"] / 2
    lag = ground_truth["movement"]["lag_s"]
    for on, off in ground_truth["movement"]["episodes"]:
        # windows lying wholly inside the episode
        inside = sync[(sync.time_s - half >= on) & (sync.time_s + half <= off)]
        assert len(inside) >= 5
        assert (np.abs(inside["best_lag_s"] - lag) <= 0.1).all(), (on, off, inside["best_lag_s"].tolist())


def test_event_locked_average_above_null_band(sample_run):
    test = sample_run.moment_tests.iloc[0]
    assert test["code"] == "MoM" and test["n_events"] == 4
    assert test["above_band"] and test["statistic"] > test["null_q"] and test["p_value"] < 0.01
    curve = sample_run.moments
    during = curve[(curve.rel_time_s >= 4) & (curve.rel_time_s <= 8)]
    assert (during["mean_z"] > during["null_high"]).all()


def test_report_is_self_contained_and_has_its_figures(sample_run):
    from dyadsync.report._html import element_id

    html = sample_run.report.read_text()
    ids = [element_id("timeline", "motion_energy"), element_id("heatmap", "motion_energy"),
           element_id("event-locked", "", "motion_energy", "MoM"), element_id("qc-motion")]
    for fig_id in ids:
        assert f'id="{fig_id}"' in html
    assert html.count("<svg") >= 4
    # no scripts, no external resources, no embedded photographs (the heatmap is an embedded PNG of numbers)
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)
    assert "image/jpeg" not in html


def _null_session(seed, config):
    d = simulate_dyad(duration_s=600, rate_hz=10, coupling=0.0, n_episodes=6, episode_s=(10, 15), seed=seed)
    feats = d.motion[d.motion.feature == "planted_speed"].copy()
    feats["feature"] = "motion_energy"
    return analyse_features(feats, d.events, config)


def test_no_coupling_rarely_passes_the_band():
    """Simulated dyads with no coupling: the moments test is above its band in at most 10% of 20 seeds."""
    config = config_from_dict({"moments": {"n_shifts": 199}})
    above = [bool(_null_session(seed, config).moment_tests["above_band"].iloc[0]) for seed in range(20)]
    assert sum(above) <= 2, above


def test_coupled_simulation_passes_the_band():
    config = config_from_dict({"moments": {"n_shifts": 199}})
    d = simulate_dyad(duration_s=600, rate_hz=10, coupling=1.0, n_episodes=6, episode_s=(10, 15), seed=1)
    feats = d.motion[d.motion.feature == "planted_speed"].copy()
    feats["feature"] = "motion_energy"
    result = analyse_features(feats, d.events, config)
    assert result.moment_tests["above_band"].iloc[0]


def test_body_mea_toml_spells_out_the_defaults():
    from dyadsync.pipeline.config import PipelineConfig

    assert load_pipeline(ROOT / "pipelines" / "body_mea.toml").as_dict() == PipelineConfig().as_dict()


def test_sample_eaf_gives_the_same_moments(sample_run, tmp_path, sample_video, sample_dir):
    ev = read_events(sample_dir / "moments_of_meeting.eaf")
    pd.testing.assert_frame_equal(
        ev[["onset_s", "offset_s", "code"]], sample_run.events[["onset_s", "offset_s", "code"]]
    )


def _small_session(make_video, tmp_path):
    """A 30-s moving-blocks video at 10 fps, a codes file fitting it, and a fast motion-only pipeline."""
    from conftest import moving_blocks

    frames = moving_blocks(300)
    video = make_video("small.mkv", frames, fps=10.0)
    codes = tmp_path / "codes.csv"
    codes.write_text("onset,offset,code\n5,8,MoM\n14,17,MoM\n22,25,MoM\n")
    config = config_from_dict({"pipeline": {"stages": ["motion", "synchrony", "moments"]},
                               "synchrony": {"window_s": 4, "step_s": 0.5, "max_lag_s": 1},
                               "moments": {"analyses": ["event_locked"], "n_shifts": 19, "tmin_s": -2,
                                           "tmax_s": 4, "epoch_s": 2}})
    return video, codes, config


def test_rerun_without_codes_removes_the_earlier_moment_files(make_video, tmp_path):
    import warnings

    from dyadsync.moments.session import MOMENT_TABLES
    from dyadsync.pipeline import run_session

    video, codes, config = _small_session(make_video, tmp_path)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_session(video, out, codes=codes, pipeline=config)
        for name in ("moments.parquet", "moment_tests.parquet", "events.parquet"):
            assert (out / name).is_file(), name
        (out / "report.html").write_text("stale")  # the pipeline has no report stage
        run_session(video, out, pipeline=config)
    record = json.loads((out / "run.json").read_text())
    left = {p.name for p in out.iterdir()}
    assert left == set(record["outputs"]), left ^ set(record["outputs"])
    assert not left & {*(f"{t}.parquet" for t in MOMENT_TABLES), "events.parquet", "report.html"}


def test_a_feature_without_data_is_left_out_and_the_others_go_on():
    """A feature all-NaN for one person: a warning naming it, a failure record, the other feature's results."""
    from dyadsync.errors import DyadsyncWarning

    d = simulate_dyad(duration_s=300, rate_hz=10, coupling=1.0, n_episodes=4, episode_s=(10, 15), seed=3)
    motion = d.motion[d.motion.feature == "planted_speed"].astype({"feature": str, "person": str})
    motion["feature"] = "motion_energy"
    broken = motion.assign(feature="motion_energy_pct")
    broken.loc[broken["person"] == broken["person"].iloc[-1], "value"] = np.nan
    feats = pd.concat([motion, broken], ignore_index=True).astype({"feature": "category", "person": "category"})
    persons = sorted(motion["person"].unique())
    config = config_from_dict({"persons": {"names": persons},
                               "synchrony": {"features": ["motion_energy_pct", "motion_energy"]},
                               "moments": {"analyses": ["event_locked", "peaks"], "n_shifts": 19,
                                           "n_surrogates": 5}})
    with pytest.warns(DyadsyncWarning, match="synchrony of motion_energy_pct skipped: .*no finite value"):
        result = analyse_features(feats, d.events, config)
    assert set(result.synchrony["feature"].astype(str)) == {"motion_energy"}
    assert set(result.synchrony_lags["feature"].astype(str)) == {"motion_energy"}
    failed = result.info["motion_energy_pct"]
    assert set(failed) == {"failed", "error_type"} and failed["error_type"] == "AnalysisError"
    assert "no finite value" in failed["failed"]
    assert result.info["motion_energy"]["n_windows"] > 0
    assert set(result.moment_tests["feature"].astype(str)) == {"motion_energy"}
    assert result.moments_info["surrogates"]["motion_energy_pct"]["error_type"] == "AnalysisError"


def test_every_synchrony_table_has_the_same_columns():
    """An empty and a full synchrony table have the columns of synchrony.parquet (vocal ones: test_voice)."""
    from dyadsync.synchrony.wcc import SYNC_COLUMNS

    d = simulate_dyad(duration_s=120, rate_hz=10, coupling=1.0, n_episodes=2, episode_s=(10, 15), seed=4)
    feats = d.motion[d.motion.feature == "planted_speed"].copy()
    feats["feature"] = "motion_energy"
    persons = sorted(feats["person"].astype(str).unique())
    full = analyse_features(feats, None, config_from_dict({"persons": {"names": persons}})).synchrony
    empty = analyse_features(feats.iloc[:0], None, config_from_dict({"persons": {"names": persons}})).synchrony
    assert list(full.columns) == list(empty.columns) == list(SYNC_COLUMNS)
    assert {"peak_lag_s", "peak_sync"} <= set(empty.columns) and full["peak_sync"].notna().any()


def test_run_json_records_inputs_relative_to_the_run_folder(sample_run, sample_video):
    """A run folder can be shared: its record says where the inputs are relative to it, never on this machine."""
    import json

    from dyadsync.pipeline.layout import resolve_recorded

    record = json.loads((sample_run.out_dir / "run.json").read_text())
    for path in [record["inputs"]["video"]["path"], record["pipeline"]["source"],
                 *[c["path"] for c in record["inputs"]["codes"]]]:
        assert not Path(path).is_absolute(), path
    assert resolve_recorded(record["inputs"]["video"]["path"], sample_run.out_dir) == sample_video.resolve()
    html = sample_run.report.read_text()
    for folder in (ROOT, sample_run.out_dir):  # absolute paths of this machine: none (relative ones may pass by)
        assert not re.search(r"(?<!\.\.)" + re.escape(str(folder)), html), folder
