"""The examples in the README run as written, and the docs name every output column the code writes."""

from __future__ import annotations

import os
import re

import pandas as pd

from conftest import ROOT


def test_readme_python_example_runs(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 5
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    table = namespace["summarize"](namespace["wcc"])
    assert len(table) > 100 and table["best_lag_s"].notna().all()


def test_readme_shows_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set-up: two commands\n.*?```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert os.access(ROOT / ".ci" / "run", os.X_OK)


def test_codebook_documents_every_written_column(sample_run):
    from dyadsync.pipeline.layout import RUN_FILES as OUTPUTS

    codebook = (ROOT / "docs" / "codebook.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", codebook))
    for name in ("features", "synchrony", "synchrony_lags", "moments", "moment_tests", "events"):
        assert f"## {OUTPUTS[name]}" in codebook, name
        table = pd.read_parquet(sample_run.out_dir / OUTPUTS[name])
        assert set(table.columns) <= documented, (name, set(table.columns) - documented)
    features = pd.read_parquet(sample_run.out_dir / OUTPUTS["features"])
    assert set(features["feature"].astype(str)) <= documented
