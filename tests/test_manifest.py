from __future__ import annotations

import pytest

from conftest import SAMPLE
from dyadsync.errors import ManifestError
from dyadsync.pipeline.manifest import load_manifest


def _write(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def files(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "codes").mkdir()
    for name in ("a", "b"):
        (tmp_path / "videos" / f"{name}.mp4").write_bytes(b"x")
        (tmp_path / "codes" / f"{name}.csv").write_text("onset,code\n1,MoM\n")
    return tmp_path


def test_csv_manifest_with_relative_paths(files):
    m = load_manifest(_write(files / "m.csv", "id,dyad,session_number,group,video,codes\n"
                                            "s1,d1,1,ctrl,videos/a.mp4,codes/a.csv\n"
                                            "s2,d1,2,ctrl,videos/b.mp4,codes/a.csv;codes/b.csv\n"))
    assert [s.id for s in m.sessions] == ["s1", "s2"]
    s2 = m.sessions[1]
    assert s2.video == files / "videos" / "b.mp4" and s2.codes == [files / "codes" / "a.csv", files / "codes" / "b.csv"]
    assert (s2.dyad, s2.session_number, s2.group) == ("d1", 2, "ctrl")


def test_toml_manifest_with_roles_and_rois(files):
    m = load_manifest(_write(files / "m.toml", """
[defaults]
persons = ["patient", "therapist"]
[[session]]
id = "s1"
video = "videos/a.mp4"
codes = ["codes/a.csv"]
rois = { patient = [0, 0, 300, 360], therapist = [340, 0, 300, 360] }
roi_units = "px"
[[session]]
id = "s2"
video = "videos/b.mp4"
"""))
    s1, s2 = m.sessions
    assert s1.config.persons.names == ["patient", "therapist"] and s1.config.persons.roi_units == "px"
    assert s1.config.persons.rois["therapist"] == [340, 0, 300, 360]
    assert s2.config.persons.names == ["patient", "therapist"] and s2.config.persons.rois == {}
    assert s2.dyad == "s2" and s2.codes == []


def test_folder_of_videos_finds_codes_beside_them(tmp_path):
    for name in ("s01", "s02"):
        (tmp_path / f"{name}.mp4").write_bytes(b"x")
    (tmp_path / "s01.csv").write_text("onset,code\n1,MoM\n")
    m = load_manifest(tmp_path)
    assert [s.id for s in m.sessions] == ["s01", "s02"]
    assert m.sessions[0].codes == [tmp_path / "s01.csv"] and m.sessions[1].codes == []


def test_every_problem_is_reported_at_once(files):
    _write(files / "bad.toml", "[synchrony]\nwindow = 3\n")
    text = ("id,video,codes,pipeline,colour\n"
            "s1,videos/a.mp4,codes/missing.csv,,red\n"
            "s1,videos/b.mp4,,,\n"
            "s3,videos/nope.mp4,,,\n"
            "s4,videos/a.mp4,,bad.toml,\n"
            ",videos/a.mp4,,,\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(_write(files / "m.csv", text))
    msg = str(err.value)
    for expected in ("unknown column 'colour'", "codes file", "missing.csv not found", "duplicate session id 's1'",
                     "nope.mp4 not found", "unknown key 'window'", "line 6: no session id"):
        assert expected in msg, expected
    assert msg.startswith(str(files / "m.csv")) and "10 problems: (1) " in msg and "\n" not in msg


def test_bad_manifest_files(tmp_path):
    with pytest.raises(ManifestError, match="not found"):
        load_manifest(tmp_path / "none.csv")
    with pytest.raises(ManifestError, match="unknown manifest format"):
        load_manifest(_write(tmp_path / "m.xlsx", "x"))
    with pytest.raises(ManifestError, match="no video matches"):
        load_manifest(tmp_path)


def test_the_sample_manifest_is_valid():
    m = load_manifest(SAMPLE / "manifest.csv")
    assert len(m) >= 1 and all(s.video.is_file() for s in m.sessions)
    assert m.sessions[0].config.source.name == "body_mea.toml" and m.sessions[0].codes
