"""The public namespace of dyadsync.features: every extractor importable from the package, loaded lazily."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import dyadsync.features as features


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_every_public_name_resolves_and_is_listed():
    for name in features.__all__:
        value = getattr(features, name)
        assert not inspect.ismodule(value), name
        assert name in dir(features)
    with pytest.raises(AttributeError, match="no_such_extractor"):
        features.no_such_extractor  # noqa: B018


def test_import_loads_neither_numpy_nor_pandas():
    heavy = _run("import sys, dyadsync.features; print([m for m in ('numpy', 'pandas') if m in sys.modules])")
    assert heavy == "[]"


@pytest.mark.parametrize("first", ["import dyadsync.features.pose, dyadsync.features.face",
                                   "from dyadsync.pipeline import config",
                                   "import dyadsync.features.face"])
def test_pose_and_face_stay_the_extractors_whatever_was_imported_first(first):
    """The submodules ``pose`` and ``face`` share their names with the extractors: the package keeps the functions."""
    code = (f"{first}\nimport dyadsync.features as f\nfrom dyadsync.features import pose, face\n"
            "print(callable(pose), callable(face), pose.__module__, face.__module__, f.pose is pose)")
    assert _run(code) == "True True dyadsync.features.pose dyadsync.features.face True"


def test_the_extractors_of_the_design_are_exported():
    for name in ("motion_energy", "pose", "face", "pose_and_face", "voice_features", "analyse_voice", "pitch_track",
                 "intensity_track", "activity_from_channels", "activity_from_events", "activity_auto",
                 "assign_by_mouth", "ROI", "default_rois", "parse_rois", "roi_preview", "long_table", "to_wide",
                 "SCENE"):
        assert name in features.__all__, name


# --- bad arguments and unusable data raise dyadsync errors, never a bare ValueError / TypeError / KeyError


def _bad_calls():
    import numpy as np
    import pandas as pd

    from dyadsync.errors import AnalysisError, ConfigError
    from dyadsync.features import tracks, voice
    from dyadsync.features.vad import bridge_gaps

    y, sr = np.zeros(1600), 16000
    t = np.arange(0, 1, 0.01)
    ev = pd.DataFrame({"onset_s": [0.1], "offset_s": [0.5], "code": ["A"]})
    act = features.activity_from_events(ev, t, ["A", "B"])
    no_speaker = pd.DataFrame({"onset_s": [0.0], "offset_s": [1.0]})
    return [
        (ConfigError, lambda: features.pitch_track(y, sr, max_candidates=2.5)),
        (ConfigError, lambda: features.pitch_track(y, sr, voicing_threshold=-1)),
        (ConfigError, lambda: features.pitch_track("y", sr)),
        (ConfigError, lambda: features.intensity_track(y, sr, t0_s=None)),
        (ConfigError, lambda: features.voice_activity("loud")),
        (ConfigError, lambda: features.voice_activity(np.zeros(10), step_s=0)),
        (ConfigError, lambda: bridge_gaps(np.zeros(5, bool), 1.5)),
        (ConfigError, lambda: features.turn_table(5)),
        (AnalysisError, lambda: features.turn_table(pd.DataFrame({"time_s": [0.0]}))),
        (AnalysisError, lambda: voice.features_to_prosody(features.long_table(t, {("A", "x"): t}))),
        (AnalysisError, lambda: features.diarization_error_rate(no_speaker, no_speaker)),
        (ConfigError, lambda: features.diarization_error_rate(ev, ev, uem=(5.0, 1.0))),
        (ConfigError, lambda: features.activity_from_events(ev, t, ["A"])),
        (ConfigError, lambda: features.activity_from_events(ev, t, ["A", "B"], mapping={"A": "C"})),
        (AnalysisError, lambda: features.activity_from_events(ev.drop(columns="code"), t, ["A", "B"])),
        (AnalysisError, lambda: features.activity_from_channels(np.zeros((2, 5)), t, ["A", "B"])),
        (ConfigError, lambda: features.assign_by_mouth("clusters", pd.DataFrame(), ["A", "B"])),
        (ConfigError, lambda: features.activity_segments(act, bridge_s="long")),
        (ConfigError, lambda: features.activity_auto(y, sr, t, n_ceps=0)),
        (ConfigError, lambda: features.ROI("a", "left", 0, 0.5, 1)),
        (ConfigError, lambda: features.parse_rois(5)),
        (ConfigError, lambda: features.parse_rois({"left": 5, "right": [0.5, 0, 0.5, 1]})),
        (ConfigError, lambda: features.default_rois("ab")),
        (AnalysisError, lambda: features.head_region(np.ones(4))),
        (AnalysisError, lambda: features.long_table(np.arange(3.0), {("A", "f"): np.zeros(2)})),
        (AnalysisError, lambda: tracks.fill_short_gaps(np.arange(3.0), np.zeros(2), 0.5)),
        (ConfigError, lambda: features.motion_energy(None)),
        (ConfigError, lambda: features.motion_energy("x.mp4", background="wall")),
        (ConfigError, lambda: features.motion_energy("x.mp4", rois=[features.ROI("a", 0, 0, .5, 1)] * 2)),
        (ConfigError, lambda: features.motion_energy("x.mp4", background_pct="20")),
        (ConfigError, lambda: features.pose("x.mp4", min_visibility="high")),
        (ConfigError, lambda: features.face("x.mp4", head_scale="big")),
        (ConfigError, lambda: features.roi_preview("x.mp4", "p.png", head_scale=None)),
        (ConfigError, lambda: features.analyse_voice("x.mp4", persons=["A"])),
        (ConfigError, lambda: features.analyse_voice("x.mp4", channels=0)),
        (ConfigError, lambda: features.voice_features("x.mp4", speakrs="auto")),
    ]


@pytest.mark.parametrize("k", range(len(_bad_calls())))
def test_bad_arguments_raise_dyadsync_errors(k):
    error, call = _bad_calls()[k]
    with pytest.raises(error):
        call()


def test_the_lazy_table_and_the_static_imports_agree():
    """``__init__`` lists every public name twice: for lazy loading and, under TYPE_CHECKING, for static tools."""
    import ast

    tree = ast.parse(open(features.__file__, encoding="utf-8").read())
    guarded = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    static = {(("." * n.level) + (n.module or ""), a.name) for n in guarded.body for a in n.names}
    assert static == {(source, name) for name, source in features._SOURCES.items()}
    assert sorted(features.__all__) == sorted(features._SOURCES)
