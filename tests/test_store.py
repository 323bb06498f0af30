from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from dyadsync.io.store import atomic_open, write_json, write_parquet


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path):
    target = tmp_path / "out" / "table.csv"
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half a row")
            raise RuntimeError("killed mid-write")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_failed_rewrite_keeps_the_previous_complete_file(tmp_path):
    target = tmp_path / "run.json"
    write_json({"a": 1}, target)
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("{broken")
            raise RuntimeError
    assert target.read_text().strip().startswith("{") and '"a": 1' in target.read_text()


def test_parquet_round_trip_and_usual_permissions(tmp_path):
    df = pd.DataFrame({"time_s": [0.0, 0.04], "value": [1.0, float("nan")]})
    path = write_parquet(df, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
