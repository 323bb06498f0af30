"""``dyadsync mea``: existing MEA files in batch, bad files listed while the others finish."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from dyadsync.cli import main
from dyadsync.features import long_table
from dyadsync.io.mea_files import read_mea_series, write_mea
from dyadsync.synchrony import windowed_cross_correlation
from dyadsync.synchrony.rmea import mea_ccf

REQUIRED = ["dyad", "group", "grand_mean", "lag0_mean", "a_leads_mean", "b_leads_mean", "n_windows"]
PSEUDO = ["pseudo_n", "pseudo_mean", "pseudo_d", "pseudo_percentile", "pseudo_p"]


def run(*args):
    return main([str(a) for a in args])


def write_bad_files(folder):
    folder.mkdir(parents=True, exist_ok=True)
    rows = "\n".join(f"{i % 7 * 100} {i % 5 * 90}" for i in range(2000))
    (folder / "uneven.txt").write_text('"pat" "th"\n' + rows + "\n3 4 5\n" + rows + "\n")
    (folder / "letters.txt").write_text('"pat" "th"\n' + rows + "\n12 abc\n")
    (folder / "still.txt").write_text('"pat" "th"\n' + "\n".join(f"0 {i % 9}" for i in range(2000)) + "\n")
    (folder / "short.txt").write_text('"pat" "th"\n' + "\n".join(f"{i % 4} {i % 9}" for i in range(500)) + "\n")


def problems(out):
    table = pd.read_csv(out / "failures.csv")
    return {pd.io.common.os.path.basename(f): p for f, p in zip(table["file"], table["problem"])}


@pytest.mark.shared
def test_rmea_batch_with_bad_files_and_pseudo_dyads(shared_data, tmp_path, capsys):
    normal, dropout = tmp_path / "normal", tmp_path / "dropout"
    for folder, names in ((normal, ["200_01", "201_01"]), (dropout, ["100_01", "101_01"])):
        folder.mkdir()
        for name in names:
            shutil.copy(shared_data / "rmea" / folder.name / f"{name}.txt", folder)
    write_bad_files(tmp_path / "bad")
    out = tmp_path / "out"
    status = run("mea", normal, dropout, tmp_path / "bad", "--fps", 25, "--window", 60, "--step", 30,
                 "--max-lag", 5, "--rmea", "--pseudo", "all", "--seed", 3, "--no-figures", "--out", out)
    assert status == 1  # some files failed, the others were analysed
    err = capsys.readouterr().err
    assert "4 file(s) could not be analysed" in err and "failures.csv" in err
    found = problems(out)
    assert set(found) == {"uneven.txt", "letters.txt", "still.txt", "short.txt"}
    assert "line 2002 has 3 values" in found["uneven.txt"]
    assert "line 2002: 'abc' is not a number" in found["letters.txt"]
    assert "'pat' column is all zero" in found["still.txt"]
    assert "shorter than one window of 60 s" in found["short.txt"] and "lag that rMEA adds" in found["short.txt"]
    assert all(str(tmp_path / "bad") in f for f in pd.read_csv(out / "failures.csv")["file"])

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["dyad"]) == ["200_01", "201_01", "100_01", "101_01"]
    assert list(summary["group"]) == ["normal", "normal", "dropout", "dropout"]
    assert set(REQUIRED + PSEUDO) <= set(summary.columns)
    v, _ = read_mea_series(normal / "200_01.txt")
    wcc = mea_ccf(v[:, 0], v[:, 1], rate_hz=25, lag_s=5, window_s=60, step_s=30)
    assert summary["grand_mean"].iloc[0] == pytest.approx(np.nanmean(wcc.values), abs=1e-12)
    assert (summary["n_windows"] == 18).all() and (summary["pseudo_n"] == 24).all()  # C(8,2) - 4 real pairs

    table = pd.read_csv(out / "dyads" / "200_01.csv")
    assert table.shape[0] == 18 and "lag-4.96" in table.columns and "lag5" in table.columns
    np.testing.assert_allclose(table.loc[:, "lag-5":"lag5"].to_numpy(), wcc.values, atol=1e-12)
    assert list(table.columns[:4]) == ["window", "start_s", "end_s", "time_s"]

    pseudo = pd.read_csv(out / "pseudo.csv")
    assert len(pseudo) == 24 and not ((pseudo["a_dyad"] == pseudo["b_dyad"])
                                      & (pseudo["a_person"] != pseudo["b_person"])).any()
    groups = pd.read_csv(out / "groups.csv")
    assert list(groups["group"]) == ["normal", "dropout", "all"]
    assert ((groups["p"] > 0) & (groups["p"] <= 1)).all()
    record = json.loads((out / "run.json").read_text())
    assert record["engine"] == "rmea" and record["n_failed"] == 4 and record["options"]["seed"] == 3
    assert "seconds" not in record and json.loads((out / "timings.json").read_text())["seconds"] > 0
    assert not list(out.rglob("*.tmp"))


def simulated_mea_folder(folder, rng, n_dyads, coupled):
    folder.mkdir(parents=True)
    for i in range(n_dyads):
        n = 25 * 240
        kernel = np.exp(-np.arange(40) / 8.0)
        a = np.convolve(rng.gamma(1.0, 400, n + 40), kernel, "valid")[:n]
        b = np.convolve(rng.gamma(1.0, 400, n + 40), kernel, "valid")[:n]
        if coupled:
            b = 0.5 * b + 0.8 * np.roll(a, 20)
        t = np.arange(n) / 25
        write_mea(long_table(t, {("pat", "motion_energy"): a, ("th", "motion_energy"): b}),
                  folder / f"{folder.name}_{i:02d}.txt", persons=["pat", "th"])


def test_default_engine_batch_on_simulated_dyads_with_figures(tmp_path):
    rng = np.random.default_rng(0)
    simulated_mea_folder(tmp_path / "coupled", rng, 4, coupled=True)
    simulated_mea_folder(tmp_path / "independent", rng, 4, coupled=False)
    out = tmp_path / "out"
    assert run("mea", tmp_path / "coupled", tmp_path / "independent", "--fps", 25, "--window", 30, "--step", 10,
               "--max-lag", 2, "--smooth", 0.5, "--scale", "--pseudo", 40, "--out", out, "-q") == 0
    summary = pd.read_csv(out / "summary.csv")
    coupled = summary[summary["group"] == "coupled"]
    independent = summary[summary["group"] == "independent"]
    assert (coupled["pseudo_p"] < 0.05).all() and (independent["pseudo_p"] > 0.05).mean() >= 0.75
    assert (coupled["peak_lag_median_s"] - 0.8).abs().max() <= 0.04 + 1e-9  # planted: B follows A by 0.8 s
    groups = pd.read_csv(out / "groups.csv").set_index("group")
    assert groups.loc["coupled", "cohens_d"] > 2 and groups.loc["coupled", "p"] < 0.01
    v, _ = read_mea_series(tmp_path / "independent" / "independent_00.txt")
    assert len(pd.read_csv(out / "pseudo.csv")) == 40
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "lag_profile.png" in figures and "distribution.png" in figures and len(figures) == 10
    assert pd.read_csv(out / "failures.csv").empty
    documented = set(re.findall(r"`([a-z0-9_]+)`", (ROOT / "docs" / "codebook.md").read_text()))
    for name in ("summary", "pseudo", "groups", "failures"):
        assert set(pd.read_csv(out / f"{name}.csv").columns) <= documented, name
    table = pd.read_csv(out / "dyads" / "coupled_00.csv")
    assert {c for c in table.columns if not c.startswith("lag")} <= documented
    wcc = windowed_cross_correlation(v[:, 0], v[:, 1], rate_hz=25, window_s=30, step_s=10, max_lag_s=2)
    assert summary["n_windows"].iloc[-1] == len(wcc.values)


def test_bad_options_and_inputs_stop_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    write_bad_files(tmp_path / "bad")
    assert run("mea", tmp_path / "bad" / "still.txt", "--fps", 25, "--window", 10, "--max-lag", 10, "--out", out) == 2
    assert "--max-lag (10 s) must be shorter than --window (10 s)" in capsys.readouterr().err
    assert run("mea", tmp_path / "nothing_here", "--fps", 25, "--out", out) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert not out.exists()
    assert run("mea", tmp_path / "bad" / "still.txt", "--fps", 29.97, "--rmea", "--out", out) == 2
    assert "--rmea needs whole frames" in capsys.readouterr().err
    assert run("mea", tmp_path / "bad" / "still.txt", tmp_path / "bad" / "short.txt", "--fps", 25, "--out", out) == 2
    assert "none of the 2 MEA file(s) could be analysed" in capsys.readouterr().err
    assert (out / "failures.csv").exists()
