from __future__ import annotations

import numpy as np
import pytest

from dyadsync.errors import DyadsyncWarning, MEAFileError
from dyadsync.features import to_wide
from dyadsync.io.mea_files import read_mea, write_mea


@pytest.mark.shared
def test_reads_real_rmea_files(shared_data):
    path = shared_data / "rmea" / "normal" / "200_01.txt"
    me, info = read_mea(path, rate_hz=25)
    wide = to_wide(me, "motion_energy")
    assert info["persons"] == ["pat", "th"] and info["n_samples"] == 15000
    assert list(wide.iloc[0]) == [1550, 6948] and list(wide.iloc[3]) == [2303, 5162]
    assert wide.index[-1] == pytest.approx(14999 / 25)


def test_round_trip(tmp_path):
    from dyadsync.features import long_table

    rng = np.random.default_rng(0)
    values = rng.integers(0, 20000, size=(500, 2)).astype(float)
    values[0] = np.nan
    table = long_table(np.arange(500) / 25, {("pat", "motion_energy"): values[:, 0], ("th", "motion_energy"): values[:, 1]})
    path = write_mea(table, tmp_path / "d.txt", persons=["pat", "th"])
    assert path.read_text().splitlines()[:2] == ['"pat" "th"', "NA NA"]
    back, info = read_mea(path, rate_hz=25)
    np.testing.assert_array_equal(to_wide(back, "motion_energy").to_numpy(), values)


@pytest.mark.parametrize(
    "content, match",
    [
        ('"pat" "th"\n1 2\n3\n', "line 3 has 1 values"),
        ('"pat" "th"\n1 2\n3 x7\n', "line 3: 'x7' is not a number"),
        ('"pat" "th"\n', "no data rows"),
        ("", "empty"),
        ('"a" "b" "c"\n1 2 3\n', "header names 3 columns"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, content, match):
    path = tmp_path / "bad_dyad.txt"
    path.write_text(content)
    with pytest.raises(MEAFileError, match=match) as err:
        read_mea(path, rate_hz=25)
    assert "bad_dyad.txt" in str(err.value)


def test_all_zero_series_warns(tmp_path):
    path = tmp_path / "still.txt"
    path.write_text('"pat" "th"\n' + "0 5\n0 7\n0 1\n")
    with pytest.warns(DyadsyncWarning, match="'pat' column is all zero"):
        read_mea(path, rate_hz=25)
