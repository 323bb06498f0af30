"""dyadsync.io's own namespace: the readers a developer needs, loaded on first use so that the import stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dyadsync.io as io_pkg


def test_import_dyadsync_io_loads_no_reader():
    code = "import sys, dyadsync.io; print(sorted(m for m in ('pandas', 'numpy', 'av', 'typing') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", io_pkg.__all__)
def test_every_exported_name_is_the_module_s_own(name):
    module = __import__(f"dyadsync.io.{io_pkg._LAZY[name]}", fromlist=[name])
    assert getattr(io_pkg, name) is getattr(module, name)
    assert name in dir(io_pkg)


def test_the_export_list_is_complete_and_unknown_names_fail():
    assert sorted(io_pkg.__all__) == sorted(io_pkg._LAZY)
    with pytest.raises(AttributeError, match="no attribute 'read_nothing'"):
        io_pkg.read_nothing  # noqa: B018
