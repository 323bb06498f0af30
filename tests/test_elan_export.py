"""Round trip with the coders' tools: choosing the codes (several coders' files, --tier, --code, free-text tiers left
out) and ``dyadsync export`` (ELAN and Praat files of a run), checked with independent readers: pympi-ling for ELAN,
praatio for Praat, and the rules of ELAN's own time-series CSV reader and configuration parser.

The sample session is run once (body_mea, ~6 s) with the coder's ELAN file ``tests/data/coder_session.eaf``
(controlled vocabularies, a dependent tier, a notes tier, a licence...) and a second coder's TextGrid.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from dyadsync.cli import main
from dyadsync.errors import DyadsyncWarning, InputError
from dyadsync.io.events import read_events, write_textgrid

pympi = pytest.importorskip("pympi")
DATA = ROOT / "tests" / "data"
TEMPLATE = DATA / "coder_session.eaf"
PLANTED = [(12.0, 25.0), (33.0, 45.0), (67.0, 81.0), (96.0, 108.0)]  # ground_truth.json: right follows left


def _cli(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def coded(tmp_path_factory, sample_video):
    """The sample run with two coders' files: anna's ELAN file (her notes tier among the tiers) and ben's TextGrid."""
    root = tmp_path_factory.mktemp("elan")
    anna = root / "anna_session.eaf"
    shutil.copy(TEMPLATE, anna)
    ben_events = pd.DataFrame({"onset_s": [13.0, 32.0, 69.0], "offset_s": [24.0, 46.0, 80.0], "code": "MoM",
                               "scheme": "MoM", "coder": "", "source": ""})
    ben = write_textgrid(ben_events, root / "ben.TextGrid", duration_s=120.0)
    out = root / "run"
    stderr = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(stderr):  # the command prints its warnings
        assert _cli("run", sample_video, "--codes", anna, ben, "--out", out, "-q") == 0
    return {"root": root, "anna": anna, "ben": ben, "out": out, "video": sample_video,
            "warnings": [line for line in stderr.getvalue().splitlines() if line.startswith("warning: ")]}


@pytest.fixture(scope="module")
def exported(coded):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        assert _cli("export", coded["out"], "-q") == 0
    folder = coded["out"] / "review"
    return {**coded, "folder": folder, "eaf": folder / "anna_session_dyadsync.eaf",
            "textgrid": folder / "anna_session_dyadsync.TextGrid", "tsconf": folder / "anna_session_dyadsync_tsconf.xml"}


# ------------------------------------------------------------------------------------------- choosing the codes


def test_notes_tier_left_out_with_a_warning_and_two_coders_agree(coded):
    notes = [w for w in coded["warnings"] if "'remarks' look like free text" in w]
    assert len(notes) == 1 and "anna_session.eaf" in notes[0]
    events = pd.read_parquet(coded["out"] / "events.parquet")
    assert "remarks" not in set(events["scheme"]) and "client seemed tired" not in " ".join(events["code"])
    mom = events[events["code"] == "MoM"]
    assert sorted(mom["coder"].unique()) == ["anna", "ben"]  # ben's TextGrid names no coder: its file name does
    agreement = pd.read_parquet(coded["out"] / "coder_agreement.parquet")
    row = agreement[agreement["code"] == "MoM"].iloc[0]
    assert {row["coder_a"], row["coder_b"]} == {"anna", "ben"} and (row["n_a"], row["n_b"]) in ((4, 3), (3, 4))
    # three of anna's four moments have a ben moment within the tolerance: F1 = 2*3 / (4+3)
    assert row["f1"] == pytest.approx(6 / 7) and 0.4 < row["kappa"] < 1


def test_tier_and_code_selection_on_the_command_line(coded, tmp_path):
    out = tmp_path / "sel"
    stderr = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(stderr):
        assert _cli("run", coded["video"], "--codes", coded["anna"], coded["ben"], "--tier", "MoM", "remarks",
                    "--out", out, "-q") == 0
    events = pd.read_parquet(out / "events.parquet")
    assert set(events["scheme"]) == {"MoM", "remarks"}  # selected: the notes tier is read, and no warning says
    assert "free text" not in stderr.getvalue()
    record = pd.read_json(out / "run.json", typ="series")
    assert record["pipeline"]["moments"]["tiers"] == ["MoM", "remarks"]
    out2 = tmp_path / "code"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _cli("run", coded["video"], "--codes", coded["anna"], "--code", "rupture", "MoM", "--out", out2,
                    "-q") == 0
    assert set(pd.read_parquet(out2 / "events.parquet")["code"]) == {"rupture", "MoM"}


def test_unknown_tier_or_code_is_one_line_naming_what_is_there(coded, tmp_path, capsys):
    assert _cli("run", coded["video"], "--codes", coded["anna"], coded["ben"], "--tier", "MOM", "--out",
                tmp_path / "x", "-q") == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unknown tier(s) ['MOM']" in err and "did you mean 'MoM'" in err and "'remarks'" in err
    assert _cli("run", coded["video"], "--codes", coded["anna"], "--code", "repair", "--out", tmp_path / "y",
                "-q") == 2
    assert "unknown code(s) ['repair']" in capsys.readouterr().err


def test_moments_selects_tiers_and_codes_of_finished_runs(coded, tmp_path):
    from dyadsync.pipeline.moments_runs import analyse_runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = analyse_runs([coded["out"]], tmp_path / "m", only_codes=["MoM"], report=False)
        assert set(batch.tables["events"]["code"]) == {"MoM"}
        again = analyse_runs([coded["out"]], tmp_path / "m2", codes=[coded["anna"]], tiers=["rupture"],
                             report=False)
    assert list(again.tables["events"]["code"]) == ["rupture"]
    with pytest.raises(Exception, match=r"unknown tier\(s\) \['nope'\]"):
        analyse_runs([coded["out"]], tmp_path / "m3", tiers=["nope"], report=False)


def test_manifest_and_pipeline_select_tiers_and_codes(tmp_path, sample_video):
    from dyadsync.pipeline.config import load_pipeline
    from dyadsync.pipeline.manifest import load_manifest

    toml = tmp_path / "p.toml"
    toml.write_text('[moments]\ntiers = ["MoM"]\ncodes = ["MoM"]\n')
    assert (load_pipeline(toml).moments.tiers, load_pipeline(toml).moments.codes) == (["MoM"], ["MoM"])
    shutil.copy(TEMPLATE, tmp_path / "a.eaf")
    (tmp_path / "m.csv").write_text(f"id,video,codes,tiers,only_codes\ns1,{sample_video},a.eaf,MoM;rupture,\n"
                                    f"s2,{sample_video},a.eaf,,rupture\n")
    man = load_manifest(tmp_path / "m.csv", pipeline=toml, tiers=["rupture"], only_codes=["MoM"])
    s1, s2 = man.sessions
    assert (s1.config.moments.tiers, s1.config.moments.codes) == (["MoM", "rupture"], ["MoM"])  # the row wins
    assert (s2.config.moments.tiers, s2.config.moments.codes) == (["rupture"], ["rupture"])


# ---------------------------------------------------------------------------------------------------- the export


def _ann(eaf, tier):
    return eaf.get_annotation_data_for_tier(tier)


def test_exported_eaf_keeps_everything_of_the_coders_file(exported):
    before, after = pympi.Elan.Eaf(str(TEMPLATE)), pympi.Elan.Eaf(str(exported["eaf"]))
    for tier in before.get_tier_names():
        assert _ann(after, tier) == _ann(before, tier), tier  # times, values (and parents of reference tiers)
        assert after.tiers[tier][2] == before.tiers[tier][2], tier  # tier attributes: type, annotator, parent...
    # annotations keep their vocabulary references (CVE_REF), which pympi does not report
    cve = {a.get("ANNOTATION_ID"): a.get("CVE_REF") for a in ET.parse(TEMPLATE).iter() if a.get("CVE_REF")}
    cve_after = {a.get("ANNOTATION_ID"): a.get("CVE_REF") for a in ET.parse(exported["eaf"]).iter() if a.get("CVE_REF")}
    assert cve_after == cve and len(cve) == 9
    assert after.controlled_vocabularies == before.controlled_vocabularies
    for lt, attrs in before.linguistic_types.items():
        assert after.linguistic_types[lt] == attrs
    for what in ("languages", "locales", "constraints", "licenses", "external_refs", "lexicon_refs"):
        assert getattr(after, what) == getattr(before, what), what
    props_before, props_after = dict(before.properties), dict(after.properties)
    last = props_after.pop("lastUsedAnnotationId")
    assert props_after == {k: v for k, v in props_before.items() if k != "lastUsedAnnotationId"}
    ids = [int(a.get("ANNOTATION_ID")[1:]) for a in ET.parse(exported["eaf"]).iter()
           if a.tag in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION")]
    assert int(last) == max(ids) and len(ids) == len(set(ids))  # ELAN numbers new annotations from it
    assert (after.adocument["AUTHOR"], after.adocument["DATE"]) == ("anna", "2025-11-20T14:02:11+01:00")
    assert "<!-- Hand-written in the shape ELAN 6 saves" in exported["eaf"].read_text()


def test_exported_eaf_links_the_video_as_elan_does(exported):
    before, after = pympi.Elan.Eaf(str(TEMPLATE)), pympi.Elan.Eaf(str(exported["eaf"]))
    assert len(after.media_descriptors) == len(before.media_descriptors) == 1
    media, original = after.media_descriptors[0], before.media_descriptors[0]
    # the coder's Windows path does not exist here: the copy links the run's video of the same name
    url = urlparse(media["MEDIA_URL"])
    assert url.scheme == "file" and Path(url.path).resolve() == exported["video"].resolve()
    assert Path(media["MEDIA_URL"][len("file:"):].replace("///", "/", 1)).is_file()  # as ELAN reads it
    rel = exported["eaf"].parent / media["RELATIVE_MEDIA_URL"]
    assert media["RELATIVE_MEDIA_URL"].startswith(("./", "../")) and rel.resolve() == exported["video"].resolve()
    assert media["MIME_TYPE"] == "video/mp4" and media["TIME_ORIGIN"] == original["TIME_ORIGIN"]


def test_new_tiers_hold_peaks_with_their_width_episodes_and_who_leads(exported):
    after = pympi.Elan.Eaf(str(exported["eaf"]))
    peaks = pd.read_parquet(exported["out"] / "sync_peaks.parquet")
    episodes = pd.read_parquet(exported["out"] / "sync_episodes.parquet")
    assert len(peaks) >= 3 and len(episodes) >= 3
    got = _ann(after, "dyadsync motion_energy peaks")
    want = [(max(0, t - w / 2) * 1000, min(120, t + w / 2) * 1000) for t, w in zip(peaks["time_s"], peaks["width_s"])]
    assert len(got) == len(want)
    for (a, b, value), (x, y) in zip(got, want):
        assert abs(a - x) <= 1 and abs(b - y) <= 1 and value == "peak" and b - a > 1000  # width, not a point
    eps = _ann(after, "dyadsync motion_energy episodes")
    assert [(round(a), round(b)) for a, b, _ in eps] == [(round(a * 1000), round(b * 1000))
                                                        for a, b in zip(episodes["onset_s"], episodes["offset_s"])]
    # every episode lies in a planted imitation episode, where the right person follows the left one by 0.8 s
    for a, b, _ in eps:
        assert any(lo - 2 <= a / 1000 and b / 1000 <= hi + 2 for lo, hi in PLANTED), (a, b)
    leaders = _ann(after, "dyadsync motion_energy leader")
    assert [(a, b) for a, b, _ in leaders] == [(a, b) for a, b, _ in eps]
    assert {v for _, _, v in leaders} == {"left leads"}
    assert after.tiers["dyadsync motion_energy peaks"][2]["ANNOTATOR"] == "dyadsync"
    # the second coder's codes are there too, on a tier of their own
    assert [(a, b) for a, b, _ in _ann(after, "MoM (ben)")] == [(13000, 24000), (32000, 46000), (69000, 80000)]


def test_exported_tiers_read_back_as_codes_with_the_same_times(exported):
    tiers = ["dyadsync motion_energy peaks", "dyadsync motion_energy episodes", "dyadsync motion_energy leader"]
    back = read_events(exported["eaf"], tiers=tiers)
    after = pympi.Elan.Eaf(str(exported["eaf"]))
    for tier in tiers:
        ours = back[back["scheme"] == tier][["onset_s", "offset_s"]].to_numpy() * 1000
        theirs = np.array([(a, b) for a, b, _ in _ann(after, tier)], float)
        np.testing.assert_allclose(np.sort(ours, axis=0), np.sort(theirs, axis=0), atol=1e-6)
    episodes = pd.read_parquet(exported["out"] / "sync_episodes.parquet")
    ep = back[back["scheme"] == tiers[1]]
    np.testing.assert_allclose(ep[["onset_s", "offset_s"]].to_numpy(), episodes[["onset_s", "offset_s"]], atol=1e-3)
    # unselected, the synchrony tiers are not codes: they are left out, and said so
    with pytest.warns(DyadsyncWarning, match="hold synchrony written by `dyadsync export`"):
        default = read_events(exported["eaf"])
    assert not default["scheme"].str.startswith("dyadsync ").any()


def test_textgrid_read_by_praatio_has_the_same_times(exported):
    textgrid = pytest.importorskip("praatio.textgrid")
    tg = textgrid.openTextgrid(str(exported["textgrid"]), includeEmptyIntervals=False)
    peaks = pd.read_parquet(exported["out"] / "sync_peaks.parquet")
    episodes = pd.read_parquet(exported["out"] / "sync_episodes.parquet")
    points = tg.getTier("dyadsync motion_energy peaks")
    assert isinstance(points, textgrid.PointTier)
    np.testing.assert_allclose([p.time for p in points.entries], peaks["time_s"], atol=1e-9)
    intervals = tg.getTier("dyadsync motion_energy episodes")
    assert isinstance(intervals, textgrid.IntervalTier)
    np.testing.assert_allclose([(e.start, e.end) for e in intervals.entries],
                               episodes[["onset_s", "offset_s"]].to_numpy(), atol=1e-9)
    assert {e.label for e in tg.getTier("dyadsync motion_energy leader").entries} == {"left leads"}
    anna = [(e.start, e.end) for e in tg.getTier("MoM (anna)").entries]
    assert anna == [(12.0, 25.0), (33.0, 45.0), (67.0, 81.0), (96.0, 108.0)]
    assert [(e.start, e.end) for e in tg.getTier("MoM (ben)").entries] == [(13.0, 24.0), (32.0, 46.0), (69.0, 80.0)]
    assert tg.maxTimestamp == pytest.approx(120.0)
    back = read_events(exported["textgrid"], tiers=["dyadsync motion_energy peaks"])
    np.testing.assert_allclose(back["onset_s"], peaks["time_s"], atol=1e-9)


# ------------------------------------------------------------------- ELAN time series: ELAN's own reading rules


def _elan_csv(path: Path) -> tuple[str, list[list[str]]]:
    """Split a CSV the way ELAN's CSVReader does: lines empty or starting with '#' skipped, the delimiter the one
    of tab, semicolon, comma counted most often in the first ten lines."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    counts = {d: sum(len(line.split(d)) - 1 for line in lines[:10]) for d in ("\t", ";", ",")}
    best = max(counts, key=counts.get)
    assert sorted(counts.values())[-1] > sorted(counts.values())[-2], counts  # ELAN needs a strict winner
    return best, [line.split(best) for line in lines]


def _elan_times_ms(cells: list[str]) -> np.ndarray:
    """ELAN's time format detection over the first 20 rows: ':' -> h:m:s, '.' or ',' -> seconds, else ms."""
    head = cells[:20]
    assert all("." in c and ":" not in c for c in head), head  # seconds with a decimal point
    return np.array([round(float(c) * 1000) for c in cells], float)


def test_time_series_files_follow_elans_format_and_are_linked(exported):
    root = ET.parse(exported["tsconf"]).getroot()
    assert root.tag == "timeseries" and root.get("version") == "1.0" and root.get("date")
    eaf = ET.parse(exported["eaf"]).getroot()
    links = {d.get("LINK_URL"): d for d in eaf.iter("LINKED_FILE_DESCRIPTOR")}
    # ELAN finds the configuration among the linked files by its suffix; it is named after the .eaf as ELAN names it
    conf = [u for u in links if u.endswith("_tsconf.xml")]
    assert len(conf) == 1 and links[conf[0]].get("MIME_TYPE") == "text/xml"
    assert exported["tsconf"].name == exported["eaf"].name[: -len(".eaf")] + "_tsconf.xml"
    for url, d in links.items():
        target = exported["eaf"].parent / d.get("RELATIVE_LINK_URL")
        assert Path(urlparse(url).path).resolve() == target.resolve() and target.is_file()
    names = set()
    sync = pd.read_parquet(exported["out"] / "synchrony.parquet")
    features = pd.read_parquet(exported["out"] / "features.parquet")
    sources = root.findall("tracksource")
    assert len(sources) == 2
    for source in sources:
        url = source.get("source-url")
        assert url in links and links[url].get("MIME_TYPE") == "text/plain"  # ELAN pairs them by this URL
        assert source.get("sample-type") in ("Continuous Rate", "Discontinuous Rate")
        provider = {p.get("key"): p.get("value") for p in source.findall("property")}["provider"]
        assert provider == "mpi.eudico.client.annotator.timeseries.csv.CSVServiceProvider"
        delimiter, rows = _elan_csv(Path(urlparse(url).path))
        assert delimiter == ","
        time_col = int(source.get("time-column"))
        times = _elan_times_ms([r[time_col] for r in rows])
        for track in source.findall("track"):
            name = track.get("name")
            assert name not in names and track.get("derivative") == "0"
            names.add(name)
            pos = track.find("sample-position/pos")
            col, lo, hi = int(pos.get("col")), float(track.find("range").get("min")), float(track.find("range").get("max"))
            values = np.array([float(r[col]) for r in rows])  # Java's Float.parseFloat reads 'NaN'
            assert lo < np.nanmin(values) <= np.nanmax(values) < hi
            assert all(0 <= int(c) <= 255 for c in track.find("color").text.split(","))
            if name == "motion_energy synchrony":
                s = sync[sync["feature"] == "motion_energy"].sort_values("time_s")
                np.testing.assert_allclose(times, s["time_s"] * 1000, atol=0.5)
                np.testing.assert_allclose(values, s["sync"], rtol=1e-5, equal_nan=True)
            if name == "motion_energy right":
                f = features[(features["feature"] == "motion_energy") & (features["person"] == "right")]
                np.testing.assert_allclose(times, f["time_s"] * 1000, atol=0.5)
                np.testing.assert_allclose(values, f["value"], rtol=1e-5, equal_nan=True)
    assert names == {"motion_energy synchrony", "motion_energy threshold", "motion_energy left", "motion_energy right"}


# ------------------------------------------------------------------------------------- never overwriting a file


def test_export_never_replaces_the_coders_file_or_an_edited_export(exported, tmp_path):
    assert exported["anna"].read_bytes() == TEMPLATE.read_bytes()  # the coder's file is as it was
    with pytest.raises(InputError, match="already exists: --into takes a folder that does not exist yet"):
        from dyadsync.pipeline.export import export_run

        export_run(exported["out"], into=tmp_path)
    # again into review/: the earlier export is replaced (nobody changed it) ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        before = exported["eaf"].read_bytes()
        export_run(exported["out"])
        assert exported["eaf"].read_bytes() == before
        # ... but not once someone saved it in ELAN
        edited = exported["eaf"].read_text().replace("</ANNOTATION_DOCUMENT>", "<!-- edited --></ANNOTATION_DOCUMENT>")
        exported["eaf"].write_text(edited)
        with pytest.raises(InputError, match="changed since dyadsync exported it"):
            export_run(exported["out"])
        assert exported["eaf"].read_text() == edited
        into = tmp_path / "new"
        result = export_run(exported["out"], into=into)
    assert result.eaf.parent == into
    first, second = pympi.Elan.Eaf(str(exported["eaf"])), pympi.Elan.Eaf(str(result.eaf))
    assert {t: _ann(second, t) for t in second.get_tier_names()} == {t: _ann(first, t) for t in first.get_tier_names()}


def test_new_eaf_linked_to_the_video_when_asked(exported, tmp_path):
    from dyadsync.pipeline.export import export_run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        result = export_run(exported["out"], into=tmp_path / "n", new_eaf=True)
    eaf = pympi.Elan.Eaf(str(result.eaf))
    events = pd.read_parquet(exported["out"] / "events.parquet")
    # the analysed codes of both coders, each coder on a tier of their own
    assert [(a, b) for a, b, _ in _ann(eaf, "MoM (anna)")] == [(12000, 25000), (33000, 45000), (67000, 81000),
                                                                (96000, 108000)]
    n_codes = sum(len(_ann(eaf, t)) for t in eaf.get_tier_names() if not t.startswith("dyadsync "))
    assert n_codes == len(events)
    media = eaf.media_descriptors[0]
    assert urlparse(media["MEDIA_URL"]).scheme == "file" and media["MIME_TYPE"] == "video/mp4"
    assert (result.eaf.parent / media["RELATIVE_MEDIA_URL"]).resolve() == exported["video"].resolve()


def test_export_of_a_batch_exports_every_finished_session(exported, tmp_path, capsys):
    batch = tmp_path / "batch"
    shutil.copytree(exported["out"], batch / "sessions" / "s1", ignore=shutil.ignore_patterns("review"))
    (batch / "sessions" / "s2").mkdir()  # unfinished: no run.json
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        # the run records its inputs relative to its folder: moved away from them, it cannot find the coder's file
        assert _cli("export", "--batch", batch, "-q") == 2
        assert "anna_session.eaf: the run's ELAN codes file is not found" in capsys.readouterr().err
        shutil.copy(TEMPLATE, batch / "sessions" / "anna_session.eaf")  # where the moved run looks for it
        assert _cli("export", "--batch", batch, "--into", tmp_path / "all", "-q") == 0
    assert (tmp_path / "all" / "s1" / "anna_session_dyadsync.eaf").is_file()
    assert not (tmp_path / "all" / "s2").exists()
    assert _cli("export", "--batch", batch, exported["out"]) == 2
    assert "give a RUN_DIR or --batch OUT" in capsys.readouterr().err


def test_export_of_a_run_without_codes_computes_its_peaks(tmp_path, sample_video):
    from dyadsync.pipeline.export import export_run

    out = tmp_path / "nocodes"
    assert _cli("run", sample_video, "--out", out, "-q") == 0
    assert not (out / "sync_peaks.parquet").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        result = export_run(out)
    assert result.record["peaks_from"].startswith("computed")
    eaf = pympi.Elan.Eaf(str(result.eaf))
    eps = _ann(eaf, "dyadsync motion_energy episodes")
    assert len(eps) >= 3 and all(any(lo - 2 <= a / 1000 and b / 1000 <= hi + 2 for lo, hi in PLANTED)
                                 for a, b, _ in eps)
    assert result.eaf.name == "dyad_session_dyadsync.eaf"  # named after the video: no coder's file
