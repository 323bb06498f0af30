"""Batches: resumable after kill -9 with byte-identical results, fault-isolated, on local processes and Dask."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SAMPLE
from dyadsync.pipeline import read_dataset, run_batch
from dyadsync.report._html import element_id
from dyadsync.simulate.session import remux_session

CLIP_S = 60.0
STARTS = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0)
FAST_PIPELINE = """
[moments]
n_shifts = 199
tmin_s = -10
tmax_s = 10
epoch_s = 5
"""


@pytest.fixture(scope="module")
def clips(tmp_path_factory, ground_truth):
    """Six 60-s sessions cut from the sample (no re-encoding), each with its moments of meeting."""
    folder = tmp_path_factory.mktemp("clips")
    (folder / "fast.toml").write_text(FAST_PIPELINE)
    rows = []
    for i, start in enumerate(STARTS, start=1):
        sid = f"s{i:02d}"
        remux_session(SAMPLE / "dyad_session.mp4", folder / f"{sid}.mp4", start_s=start, duration_s=CLIP_S)
        lines = ["onset,offset,code"]
        for on, off in ground_truth["movement"]["episodes"]:
            a, b = max(on, start) - start, min(off, start + CLIP_S) - start
            if b - a >= 4:
                lines.append(f"{a:.2f},{b:.2f},MoM")
        (folder / f"{sid}.csv").write_text("\n".join(lines) + "\n")
        rows.append(f"{sid},d{(i + 1) // 2},{i},g,{sid}.mp4,{sid}.csv,fast.toml")
    (folder / "manifest.csv").write_text("id,dyad,session_number,group,video,codes,pipeline\n" + "\n".join(rows) + "\n")
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    skip = {"timings.json", "batch_timings.json"}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip and ".cache" not in p.parts}


@pytest.fixture(scope="module")
def uninterrupted(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    result = run_batch(clips / "manifest.csv", out, workers=2, quiet=True)
    return out, result


def test_batch_outputs(uninterrupted):
    out, result = uninterrupted
    assert [o.status for o in result.outcomes] == ["done"] * 6
    sessions = pd.read_csv(out / "sessions.csv")
    assert list(sessions["session"]) == [f"s{i:02d}" for i in range(1, 7)] and (sessions["status"] == "complete").all()
    assert pd.read_csv(out / "failures.csv").empty
    sync = read_dataset(out, "synchrony")
    assert set(sync["session"].astype(str)) == set(sessions["session"])
    assert {"dyad", "session_number", "group", "time_s", "sync", "best_lag_s"} <= set(sync.columns)
    for sid in sessions["session"]:
        assert (out / "sessions" / sid / "report.html").is_file()
        assert not (out / "sessions" / sid / ".progress.json").exists()
    html = (out / "batch_report.html").read_text()
    assert 'href="sessions/s01/report.html"' in html and f'id="{element_id("forest", "motion_energy", "MoM")}"' in html
    assert not list(out.rglob(".*.tmp"))


def test_across_dyad_files_match_the_multilevel_analyses_of_the_dataset(uninterrupted):
    from dyadsync.moments.multilevel import across_dyads

    out, _ = uninterrupted
    record = json.loads((out / "batch.json").read_text())["across"]
    names = ["across_dyads", "forest", "grand_average", "mixed_model", "pseudo_dyads"]
    assert sorted(p.stem for p in (out / "across").iterdir()) == names, record
    assert record["files"] == [f"across/{n}.parquet" for n in names]

    def table(name):
        t = read_dataset(out, name)
        return t.astype({c: str for c in t.columns if isinstance(t[c].dtype, pd.CategoricalDtype)})

    expected = across_dyads(table("moment_tests"), table("moment_epochs"), table("moments"))
    for name, file in (("combined", "across_dyads"), ("forest", "forest"), ("grand_average", "grand_average"),
                       ("mixed_model", "mixed_model")):
        got = pd.read_parquet(out / "across" / f"{file}.parquet")
        assert len(got) and list(got.columns) == list(expected[name].columns), name
        keys = [c for c in got.columns if got[c].dtype == object]
        pd.testing.assert_frame_equal(got.sort_values(keys).reset_index(drop=True),
                                      expected[name].sort_values(keys).reset_index(drop=True), check_dtype=False)
    assert (pd.read_parquet(out / "across" / "across_dyads.parquet")["q_value"].between(0, 1)).all()
    mixed = pd.read_parquet(out / "across" / "mixed_model.parquet")
    assert (mixed["n_dyads"] == 3).all()
    codebook = (ROOT / "docs" / "codebook.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", codebook))
    for name in names:
        assert f"**{name}.parquet**" in codebook, name
        columns = set(pd.read_parquet(out / "across" / f"{name}.parquet").columns)
        assert columns <= documented, (name, columns - documented)
    assert set(pd.read_csv(out / "sessions.csv").columns) <= documented | {"global_index_motion_energy",
                                                                           "p_motion_energy_MoM"}


def test_pseudo_dyads_pair_persons_of_different_dyads(uninterrupted):
    out, _ = uninterrupted
    pseudo = pd.read_parquet(out / "across" / "pseudo_dyads.parquet")
    row = pseudo.set_index("feature").loc["motion_energy"]
    # 6 sessions of 3 dyads: A of each session with B of the 4 sessions of the other dyads
    assert (row["n_sessions"], row["n_dyads"], row["n_real"], row["n_pseudo"], row["n_pseudo_possible"]) == (
        6, 3, 6, 24, 24)
    sessions = pd.read_csv(out / "sessions.csv")
    assert row["real_mean"] == pytest.approx(sessions["global_index_motion_energy"].mean(), abs=1e-3)
    assert 0 < row["p_value"] <= 1 and pd.notna(row["d"])


def test_rerun_skips_complete_sessions(clips, uninterrupted):
    out, _ = uninterrupted
    before = {p: p.stat().st_mtime_ns for p in (out / "sessions").rglob("*.parquet")}
    pseudo = out / "across" / "pseudo_dyads.parquet"
    pseudo_mtime = pseudo.stat().st_mtime_ns
    result = run_batch(clips / "manifest.csv", out, workers=2, quiet=True)
    assert [o.status for o in result.outcomes] == ["skipped"] * 6
    assert {p: p.stat().st_mtime_ns for p in (out / "sessions").rglob("*.parquet")} == before
    assert pseudo.stat().st_mtime_ns == pseudo_mtime  # same sessions: the pseudo-dyads are not recomputed


def _batch_command(clips, out):
    return [sys.executable, "-m", "dyadsync.cli", "batch", str(clips / "manifest.csv"), "--out", str(out),
            "--workers", "2", "--quiet"]


def test_killed_at_ten_random_moments_then_resumed_is_byte_identical(clips, uninterrupted, tmp_path_factory):
    """kill -9 at random moments (while decoding, computing, writing a table, the report, the dataset...), then
    resume: every result and batch.json byte-identical to an uninterrupted batch; complete sessions untouched."""
    reference, _ = uninterrupted
    out = tmp_path_factory.mktemp("killed")  # beside the reference: the same relative input paths
    rng = np.random.default_rng(20261201)
    kills, finished = 0, {}
    while kills < 10:
        proc = subprocess.Popen(_batch_command(clips, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 5.0))
        if proc.poll() is not None:  # finished before the kill: start again from an empty folder
            shutil.rmtree(out)
            out.mkdir()
            continue
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        done_now = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("sessions/*/run.json")}
        # a session complete at one kill stays complete, untouched, at the next
        assert all(done_now.get(sid) == mtime for sid, mtime in finished.items()), (finished, done_now)
        finished = done_now
        time.sleep(0.3)  # the workers, killed with their parent, go
    result = run_batch(clips / "manifest.csv", out, workers=2, quiet=True)
    status = {o.session: o.status for o in result.outcomes}
    assert all(status[s] == "skipped" for s in finished), status
    assert all(o.status in ("done", "skipped") for o in result.outcomes)
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".dyadsync-partial"))
    assert _files(out) == _files(reference)


def test_a_second_batch_into_the_same_folder_refuses(clips, uninterrupted, tmp_path_factory):
    reference, _ = uninterrupted
    out = tmp_path_factory.mktemp("twice")
    first = subprocess.Popen(_batch_command(clips, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out / ".dyadsync.lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(_batch_command(clips, out), capture_output=True, text=True)
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert "in use by another dyadsync batch" in second.stderr and f"process {first.pid}" in second.stderr
    assert first.wait(timeout=300) == 0
    assert _files(out) == _files(reference)


def test_a_stale_lock_of_a_killed_batch_is_taken_over(clips, tmp_path):
    from dyadsync.pipeline.lock import FolderLock

    out = tmp_path / "stale"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with FolderLock(out):  # written by this process; make it look like the sleeping one's, then kill that one
        pass
    import json
    import socket

    import psutil
    (out / ".dyadsync.lock").write_text(json.dumps({"pid": proc.pid, "host": socket.gethostname(),
                                                    "process_started": psutil.Process(proc.pid).create_time()}))
    with pytest.raises(Exception, match="in use by another dyadsync"):
        FolderLock(out).__enter__()
    proc.kill()
    proc.wait()
    with FolderLock(out) as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert not (out / ".dyadsync.lock").exists()


def test_stale_partitions_and_across_files_are_removed(clips, uninterrupted, tmp_path):
    import shutil

    out = tmp_path / "rerun"
    shutil.copytree(uninterrupted[0], out)
    (out / "across" / "from_an_old_version.parquet").write_bytes(b"old")
    bad = tmp_path / "bad.csv"
    bad.write_text("start;stop\n00:05;xx\n")
    # s02 now fails (its codes changed), s05 and s06 are gone from the manifest, s01 is its dyad's only session
    rows = (clips / "manifest.csv").read_text().splitlines()
    kept = [r.replace("fast.toml", str(clips / "fast.toml")).replace(",s0", f",{clips}/s0") for r in rows[1:5]]
    kept[1] = kept[1].replace(f"{clips}/s02.csv", str(bad))
    manifest = tmp_path / "m.csv"
    manifest.write_text(rows[0] + "\n" + "\n".join(kept) + "\n")
    result = run_batch(manifest, out, workers=2, quiet=True)
    assert [o.status for o in result.outcomes] == ["skipped", "failed", "skipped", "skipped"]
    for name in ("synchrony", "moment_tests", "moment_epochs", "features"):
        parts = {p.name for p in (out / "dataset" / name).iterdir()}
        assert parts <= {"session=s01", "session=s03", "session=s04"}, (name, parts)
        assert set(read_dataset(out, name)["session"].astype(str)) == {p.split("=")[1] for p in parts}
        if name != "moment_epochs":
            assert len(parts) == 3, (name, parts)
    assert not (out / "across" / "from_an_old_version.parquet").exists()
    combined = pd.read_parquet(out / "across" / "across_dyads.parquet")
    assert (combined["n_sessions"] <= 3).all() and (combined["n_dyads"] <= 2).all()
    pseudo = pd.read_parquet(out / "across" / "pseudo_dyads.parquet").iloc[0]
    assert (pseudo["n_sessions"], pseudo["n_dyads"], pseudo["n_pseudo"]) == (3, 2, 4)
    # only s01 left: nothing across dyads, and the stale files go
    manifest.write_text(rows[0] + "\n" + kept[0] + "\n")
    run_batch(manifest, out, workers=2, quiet=True)
    assert sorted(p.name for p in (out / "dataset" / "synchrony").iterdir()) == ["session=s01"]
    assert not (out / "across" / "pseudo_dyads.parquet").exists()
    assert not (out / "across" / "mixed_model.parquet").exists()
    notes = json.loads((out / "batch.json").read_text())["across"]["notes"]
    assert any(n.startswith("mixed model not fitted") for n in notes), notes
    assert any("pseudo-dyads skipped" in n for n in notes), notes
    assert "pseudo-dyads skipped" in (out / "batch_report.html").read_text()


def test_bad_sessions_fail_alone(clips, tmp_path, capsys):
    from dyadsync.cli import main

    truncated = tmp_path / "truncated.mp4"
    data = (clips / "s01.mp4").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    bad_codes = tmp_path / "bad_codes.csv"
    bad_codes.write_text("start;stop\n00:05;xx\n")
    mute = remux_session(clips / "s04.mp4", tmp_path / "mute.mp4", audio=False)
    body_and_voice = tmp_path / "body_voice.toml"
    body_and_voice.write_text('[pipeline]\nstages = ["motion", "voice", "synchrony", "moments", "report"]\n'
                              + FAST_PIPELINE)
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "id,video,codes,pipeline\n"
        f"good1,{clips / 's01.mp4'},{clips / 's01.csv'},{body_and_voice}\n"
        f"cut,{truncated},,{body_and_voice}\n"
        f"badcodes,{clips / 's02.mp4'},{bad_codes},{body_and_voice}\n"
        f"mute,{mute},{clips / 's04.csv'},{body_and_voice}\n"
        f"good2,{clips / 's03.mp4'},{clips / 's03.csv'},{body_and_voice}\n"
    )
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "--out", str(out), "--workers", "2", "--quiet"]) == 1
    failures = pd.read_csv(out / "failures.csv")
    assert set(failures["session"]) == {"cut", "badcodes", "mute"}
    why = dict(zip(failures["session"], failures["error"]))
    assert "truncated" in why["cut"] and "truncated.mp4" in why["cut"]
    assert "bad_codes.csv" in why["badcodes"] and "line 2" in why["badcodes"]
    assert "mute.mp4" in why["mute"] and "no audio" in why["mute"]
    assert dict(zip(failures["session"], failures["stage"]))["mute"] == "voice"
    status = dict(zip(*pd.read_csv(out / "sessions.csv")[["session", "status"]].to_numpy().T))
    assert status == {"good1": "complete", "cut": "failed", "badcodes": "failed", "mute": "partial",
                      "good2": "complete"}
    for sid in ("good1", "good2", "mute"):  # the mute session keeps its movement results
        assert (out / "sessions" / sid / "run.json").is_file()
    assert (out / "sessions" / "mute" / "synchrony.parquet").is_file()
    assert "failed" in capsys.readouterr().err
    # A failure is remembered: not retried unless asked, or unless its input changes.
    again = run_batch(manifest, out, workers=2, quiet=True)
    assert {o.session: (o.status, o.carried_over) for o in again.failed} == {
        "cut": ("failed", True), "badcodes": ("failed", True)}
    bad_codes.write_text("onset,offset,code\n5,9,MoM\n")
    fixed = run_batch(manifest, out, workers=2, quiet=True, retry_failed=True)
    assert {o.session for o in fixed.failed} == {"cut"}
    assert not fixed.failed[0].carried_over


def crash_or_run(spec, out, cache_root, conn):
    """Child process target for the crash test: session "boom" dies as a segfaulting library would."""
    if spec.id == "boom":
        os.kill(os.getpid(), signal.SIGKILL)
    from dyadsync.pipeline.batch import _child

    _child(spec, out, cache_root, conn)


def test_a_crashing_worker_fails_only_its_session(clips, tmp_path):
    from dyadsync.pipeline.batch import _run_local
    from dyadsync.pipeline.manifest import load_manifest

    manifest = tmp_path / "m.csv"
    manifest.write_text("id,video\n" + f"ok,{clips / 's01.mp4'}\n" + f"boom,{clips / 's02.mp4'}\n")
    specs = load_manifest(manifest).sessions
    results = {r["session"]: r for r in _run_local(specs, tmp_path, tmp_path / ".cache", 2, lambda: None,
                                                   target=crash_or_run)}
    assert results["ok"]["status"] == "done"
    assert results["boom"]["status"] == "failed" and results["boom"]["error_type"] == "WorkerCrash"
    assert "signal 9" in results["boom"]["error"]
    assert json.loads((tmp_path / "sessions" / "boom" / "error.json").read_text())["error_type"] == "WorkerCrash"


def test_dask_local_cluster_gives_the_same_results(clips, uninterrupted, tmp_path, tmp_path_factory):
    pytest.importorskip("distributed")
    reference, _ = uninterrupted
    manifest = tmp_path / "m.csv"
    rows = (clips / "manifest.csv").read_text().splitlines()
    manifest.write_text("\n".join(rows[:3]).replace("fast.toml", str(clips / "fast.toml"))
                        .replace(",s0", f",{clips}/s0") + "\n")
    out = tmp_path_factory.mktemp("dask")
    result = run_batch(manifest, out, dask_local=2, quiet=True)
    assert [o.status for o in result.outcomes] == ["done", "done"]
    assert result.record["engine"] == "dask local x2"
    for sid in ("s01", "s02"):
        for name in ("synchrony.parquet", "moment_tests.parquet", "report.html", "run.json"):
            assert (out / "sessions" / sid / name).read_bytes() == (reference / "sessions" / sid / name).read_bytes()


def test_sample_manifest_batch_report(tmp_path):
    from dyadsync.cli import main

    assert main(["batch", str(SAMPLE / "manifest.csv"), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert (tmp_path / "b" / "batch_report.html").is_file()
    record = json.loads((tmp_path / "b" / "batch.json").read_text())
    assert record["n_complete"] == 1 and record["n_failed"] == 0
    assert json.loads((tmp_path / "b" / "batch_timings.json").read_text())["n_done"] == 1


def test_a_real_cluster_in_another_folder_gives_the_same_results(clips, uninterrupted, tmp_path_factory):
    """A scheduler and two workers started as their own processes, in a folder of their own: the manifest's
    relative paths must reach them as absolute ones; results byte-identical to the local pool's."""
    pytest.importorskip("distributed")
    import socket

    reference, _ = uninterrupted
    elsewhere = tmp_path_factory.mktemp("cluster_cwd")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False", "PYTHONPATH": os.pathsep.join(sys.path)}
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], cwd=elsewhere,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                           "--nthreads", "1", "--no-dashboard"], cwd=elsewhere, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        out = tmp_path_factory.mktemp("cluster")
        # the batch's own working folder is the clips' parent: the manifest is given by a relative path
        cwd = os.getcwd()
        os.chdir(clips.parent)
        try:
            result = run_batch(Path(clips.name) / "manifest.csv", out, scheduler=address, quiet=True)
        finally:
            os.chdir(cwd)
        assert [o.status for o in result.outcomes] == ["done"] * 6, [o.error for o in result.outcomes]
        assert _files(out) == _files(reference)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_a_worker_that_cannot_see_an_input_names_it_and_itself(clips, tmp_path):
    from dyadsync.pipeline.batch import process_session
    from dyadsync.pipeline.manifest import load_manifest

    (tmp_path / "m.csv").write_text(f"id,video\ns1,{clips / 's01.mp4'}\n")
    spec = load_manifest(tmp_path / "m.csv").sessions[0]
    spec.video = tmp_path / "only-on-the-client.mp4"  # as a worker on another machine would see it
    (tmp_path / "out").mkdir()
    outcome = process_session(spec, tmp_path / "out", tmp_path / "cache")
    assert outcome["status"] == "failed" and outcome["error_type"] == "InputError"
    assert "only-on-the-client.mp4" in outcome["error"] and "not found on" in outcome["error"]
    assert "same absolute paths" in outcome["error"]
    missing_out = process_session(spec, tmp_path / "elsewhere", tmp_path / "cache")
    assert "output folder is not there" in missing_out["error"] and not (tmp_path / "elsewhere").exists()
