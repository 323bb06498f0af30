"""Package-wide rules: a light import, one exception hierarchy, seeded randomness only, documented public API."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import dyadsync
from dyadsync import errors

SRC = Path(dyadsync.__file__).parent


def test_import_dyadsync_is_light():
    code = (
        "import sys, dyadsync, dyadsync.features, dyadsync.synchrony, dyadsync.moments, dyadsync.io.events;"
        "heavy = [m for m in ('mediapipe', 'librosa', 'dask', 'cv2', 'av', 'matplotlib', 'sklearn') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported at import time: {out.stdout.strip()}"


def test_every_error_derives_from_one_root():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Exception)]
    assert len(classes) >= 5
    for cls in classes:
        if cls is errors.DyadsyncWarning:
            assert issubclass(cls, UserWarning)
        else:
            assert issubclass(cls, errors.DyadsyncError), cls


def test_input_errors_name_their_file():
    exc = errors.VideoError("/data/s01.mp4", "truncated")
    assert str(exc) == "/data/s01.mp4: truncated" and exc.path == Path("/data/s01.mp4")


def _source_files():
    return sorted(SRC.rglob("*.py"))


def test_no_global_numpy_random_state():
    """Randomness goes through a numpy Generator the caller can seed; np.random.<function> is forbidden."""
    allowed = {"default_rng", "Generator", "SeedSequence", "PCG64"}
    offenders = []
    for path in _source_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "random"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id in ("np", "numpy")
                and node.attr not in allowed
            ):
                offenders.append(f"{path.name}:{node.lineno} np.random.{node.attr}")
        assert "import random" not in path.read_text(), path
    assert not offenders, offenders


def _public_functions():
    for mod_info in pkgutil.walk_packages([str(SRC)], prefix="dyadsync."):
        if mod_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod_info.name)
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue
            yield f"{module.__name__}.{name}", obj


def test_public_functions_are_typed_and_documented():
    missing = []
    for qualname, fn in _public_functions():
        sig = inspect.signature(fn)
        untyped = [p for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
        if untyped or sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{qualname}: missing type annotations")
        if not inspect.getdoc(fn):
            missing.append(f"{qualname}: no docstring")
    assert not missing, "\n".join(missing)


def test_freed_memory_goes_back_to_the_system_between_stages():
    """Many small arrays freed with a few survivors scattered among them leave glibc's heap fragmented; a worker
    that does not trim it keeps that memory for the rest of its sessions."""
    import numpy as np
    import pytest

    from dyadsync._parallel import release_memory

    if not sys.platform.startswith("linux"):
        pytest.skip("resident memory read from /proc")

    def resident_mb() -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20

    arrays = [np.ones(256) for _ in range(100_000)]  # 2 KB each (200 MB): from the heap, not mmap
    survivors = arrays[::100]
    del arrays
    before = resident_mb()
    release_memory()
    assert before - resident_mb() > 100
    assert all(a.sum() == 256 for a in survivors)
