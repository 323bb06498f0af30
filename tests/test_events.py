from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dyadsync.errors import DyadsyncWarning, EventsError
from dyadsync.io.events import (
    EVENT_COLUMNS,
    format_time,
    parse_time,
    read_events,
    write_eaf,
    write_events_csv,
)

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "text, seconds",
    [("83.5", 83.5), ("01:23.5", 83.5), ("1:23", 83.0), ("1:02:03.250", 3723.25), ("0:00:07", 7.0), ("12,5", 12.5)],
)
def test_parse_time(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text, why",
    [("1:75", "below 60"), ("abc", ""), ("1:2:3:4", ""), ("", "empty"), ("1:5:00", "two digits"), ("1:5", "two digits"),
     ("-5", "negative"), ("-0:30", "negative"), ("nan", ""), ("inf", ""), ("1e3", ""), ("+5", ""), ("1_000", ""),
     ("1.2.3", ""), (float("nan"), "finite"), (-1.0, "not negative")],
)
def test_parse_time_rejects(text, why):
    """Only the documented forms are times: a near-miss is an error (an EventsError, which readers give a file and
    line), never a silently different number."""
    with pytest.raises(EventsError, match=why):
        parse_time(text)


def test_format_time_round_trips():
    for s in (0.0, 59.999, 83.5, 3723.25):
        assert parse_time(format_time(s)) == pytest.approx(s)


def _csv(tmp_path, text, name="codes.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_seconds_and_clock_times(tmp_path):
    ev = read_events(_csv(tmp_path, "onset,offset,code\n12.5,20,MoM\n01:10.0,01:22.5,MoM\n"))
    assert list(ev.columns) == list(EVENT_COLUMNS)
    np.testing.assert_allclose(ev["onset_s"], [12.5, 70.0])
    np.testing.assert_allclose(ev["offset_s"], [20.0, 82.5])
    assert ev["source"].iloc[1] == "codes.csv line 3"


def test_semicolon_csv_as_innovative_moment_coding_writes_it():
    ev = read_events(DATA / "im_coding.csv")
    assert list(ev["code"]) == ["IM-reflection", "IM-action"]
    np.testing.assert_allclose(ev["onset_s"], [130.0, 3903.5])
    np.testing.assert_allclose(ev["offset_s"], [165.0, 3930.0])
    assert list(ev["coder"]) == ["JR", "JR"]


def test_duration_column_and_point_events(tmp_path):
    ev = read_events(_csv(tmp_path, "time,duration,label\n5,2.5,a\n9,0,b\n"))
    np.testing.assert_allclose(ev["offset_s"], [7.5, 9.0])
    # no end column, or an end column left empty throughout: point events
    for text in ("time,label\n5,a\n9,b\n", "time,offset,label\n5,,a\n9,NA,b\n"):
        ev = read_events(_csv(tmp_path, text))
        np.testing.assert_allclose(ev["offset_s"], ev["onset_s"])


@pytest.mark.parametrize("text", ["onset,offset,code\n1,4,MoM\n3,,MoM\n", "onset,offset,code\n1,4,MoM\n3,NA,MoM\n",
                                  "time,duration,label\n5,2.5,a\n9,,b\n"])
def test_an_empty_end_among_filled_ones_is_an_error_naming_the_row(tmp_path, text):
    """Read as a point event, a forgotten end would silently shorten that event's epochs and matches."""
    with pytest.raises(EventsError, match=r"codes.csv: line 3: the end \('(offset|duration)'\) is empty") as err:
        read_events(_csv(tmp_path, text))
    assert "write the onset again" in str(err.value)


def test_unknown_column_names_the_file_and_lists_columns(tmp_path):
    path = _csv(tmp_path, "when,what\n1,MoM\n")
    with pytest.raises(EventsError, match="no onset column") as err:
        read_events(path)
    assert "codes.csv" in str(err.value) and "'when'" in str(err.value)
    with pytest.raises(EventsError, match="column 'Beginn' .* not in the header"):
        read_events(path, columns={"onset": "Beginn"})
    fixed = read_events(path, columns={"onset": "when", "code": "what"})
    assert list(fixed["code"]) == ["MoM"]


def test_event_past_the_end_is_an_error_naming_file_row_and_time(tmp_path):
    path = _csv(tmp_path, "onset,offset,code\n10,20,MoM\n130,140,MoM\n")
    with pytest.raises(EventsError) as err:
        read_events(path, duration_s=120.0)
    msg = str(err.value)
    assert "codes.csv" in msg and "line 3" in msg and "130.000 s" in msg and "120.000 s" in msg
    with pytest.warns(DyadsyncWarning, match="dropped"):
        kept = read_events(path, duration_s=120.0, on_outside="warn")
    assert len(kept) == 1
    assert len(read_events(path, duration_s=120.0, on_outside="drop")) == 1


def test_event_ending_after_the_recording_is_clipped(tmp_path):
    path = _csv(tmp_path, "onset,offset,code\n110,125,MoM\n")
    with pytest.warns(DyadsyncWarning, match="clipped"):
        ev = read_events(path, duration_s=120.0)
    assert ev["offset_s"].iloc[0] == 120.0


def test_bad_rows(tmp_path):
    with pytest.raises(EventsError, match="line 2: offset 5.000 s is before onset 10.000 s"):
        read_events(_csv(tmp_path, "onset,offset,code\n10,5,MoM\n"))
    with pytest.raises(EventsError, match="line 3: onset: 'ten'"):
        read_events(_csv(tmp_path, "onset,code\n1,MoM\nten,MoM\n"))
    with pytest.raises(EventsError, match="no events"):
        read_events(_csv(tmp_path, "onset,code\n"))
    with pytest.raises(EventsError, match="unknown events format"):
        read_events(_csv(tmp_path, "x", name="codes.xlsx"))


def test_unknown_code_is_an_error_with_a_suggestion(tmp_path):
    path = _csv(tmp_path, "onset,code\n1,MoM\n5,rupture\n")
    with pytest.raises(EventsError, match=r"unknown code\(s\) \['MOM'\] \(did you mean 'MoM'\?\)"):
        read_events(path, codes=["MOM"])
    assert list(read_events(path, codes=["rupture"])["code"]) == ["rupture"]


def test_overlapping_events_warn(tmp_path):
    with pytest.warns(DyadsyncWarning, match="overlap"):
        read_events(_csv(tmp_path, "onset,offset,code\n1,10,MoM\n5,12,MoM\n"))


def test_hand_written_elan_file():
    # its notes tier (one remark, "both laugh") is free text, not a code: left out by default, with a warning
    with pytest.warns(DyadsyncWarning, match=r"'notes_coder1' look like free text .*1 annotation\(s\), 1 different"):
        default = read_events(DATA / "two_coders.eaf")
    assert set(default["scheme"]) == {"MoM_coder1", "MoM_coder2"}
    ev = read_events(DATA / "two_coders.eaf", free_text="keep")
    by_source = ev.set_index("source")
    assert set(ev["scheme"]) == {"MoM_coder1", "notes_coder1", "MoM_coder2"}
    selected = read_events(DATA / "two_coders.eaf", tiers=["notes_coder1"])  # selected: read, no warning
    assert list(selected["code"]) == ["both laugh"]
    a1 = by_source.loc["two_coders.eaf annotation a1"]
    assert (a1["onset_s"], a1["offset_s"], a1["code"], a1["coder"]) == (61.5, 75.25, "MoM", "coder1")
    # an empty annotation value takes the tier name; a reference annotation inherits its parent's times
    assert by_source.loc["two_coders.eaf annotation a2", "code"] == "MoM_coder1"
    a3 = by_source.loc["two_coders.eaf annotation a3"]
    assert (a3["onset_s"], a3["code"]) == (61.5, "both laugh")
    assert by_source.loc["two_coders.eaf annotation a4", "coder"] == "coder2"
    only = read_events(DATA / "two_coders.eaf", tiers=["MoM_coder2"])
    assert len(only) == 1
    with pytest.raises(EventsError, match="unknown tier"):
        read_events(DATA / "two_coders.eaf", tiers=["MoM_coder3"])


def test_broken_elan_file(tmp_path):
    path = tmp_path / "broken.eaf"
    path.write_text("<ANNOTATION_DOCUMENT><TIER>")
    with pytest.raises(EventsError, match="broken.eaf: not a readable ELAN file"):
        read_events(path)


def test_csv_and_elan_round_trips(tmp_path):
    ev = pd.DataFrame(
        {
            "onset_s": [1.25, 30.0, 61.5],
            "offset_s": [4.5, 30.0, 75.25],
            "code": ["MoM", "rupture", "MoM"],
            "scheme": ["moments", "alliance", "moments"],
            "coder": ["A", "B", "A"],
            "source": "",
        }
    )
    cols = ["onset_s", "offset_s", "code", "scheme", "coder"]
    for clock in (False, True):
        back = read_events(write_events_csv(ev, tmp_path / f"ev{clock}.csv", clock=clock))
        pd.testing.assert_frame_equal(back[cols], ev[cols])
    back = read_events(write_eaf(ev, tmp_path / "ev.eaf", media_file="s01.mp4"))
    pd.testing.assert_frame_equal(back[cols], ev[cols])


def test_sample_codes_agree_with_ground_truth(sample_dir, ground_truth):
    truth = np.array(ground_truth["moments_of_meeting"]["times_s"])
    for name in ("moments_of_meeting.csv", "moments_of_meeting.eaf"):
        ev = read_events(sample_dir / name, duration_s=ground_truth["video"]["duration_s"])
        np.testing.assert_allclose(ev[["onset_s", "offset_s"]].to_numpy(), truth)
        assert set(ev["code"]) == {"MoM"}
