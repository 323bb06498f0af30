"""dyadsync.synchrony's public API: every name importable from the package, loaded lazily."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import dyadsync.synchrony as sync

#: Public functions and classes of the synchrony modules that the package does not export, and why.
NOT_EXPORTED = {
    "wcc.check_summary": "validator of the summary option, for configuration code",
    "indices.segment_ccf": "SUSY's per-segment building block (R's ccf for every pair of segments)",
}


def test_every_exported_name_resolves_and_is_listed():
    for name in sync.__all__:
        module = importlib.import_module(f"dyadsync.synchrony.{sync._EXPORTS[name]}")
        assert getattr(sync, name) is getattr(module, name)
    assert set(sync.__all__) <= set(dir(sync))
    namespace: dict = {}
    exec("from dyadsync.synchrony import *", namespace)
    assert set(sync.__all__) <= set(namespace)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        sync.nothing_here  # noqa: B018


def test_the_package_exports_every_public_function_of_its_modules():
    missing = []
    for module_name in sync._MODULES:
        module = importlib.import_module(f"dyadsync.synchrony.{module_name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and name not in sync.__all__:
                missing.append(f"{module_name}.{name}")
    assert sorted(missing) == sorted(NOT_EXPORTED)


def test_import_is_lazy():
    """``import dyadsync.synchrony`` costs nothing until a function is used (pandas and scipy load then)."""
    code = ("import sys, dyadsync.synchrony as s; print(sorted(m for m in ('pandas', 'scipy') if m in sys.modules));"
            "s.windowed_cross_correlation; print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True"]
