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
