"""Every events format: hand-written examples read as meant, files we write read back, bad files named clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dyadsync.errors import DyadsyncWarning, EventsError
from dyadsync.io.dial import read_dial
from dyadsync.io.events import (
    EVENT_COLUMNS,
    detect_format,
    read_events,
    write_boris,
    write_eaf,
    write_events_csv,
    write_textgrid,
)

DATA = Path(__file__).parent / "data"
COLS = ["onset_s", "offset_s", "code", "scheme"]


@pytest.fixture
def events() -> pd.DataFrame:
    return pd.DataFrame({
        "onset_s": [1.25, 30.0, 61.5, 70.0, 3723.25],
        "offset_s": [4.5, 30.0, 75.25, 80.0, 3730.0],
        "code": ["MoM", "laugh", "MoM", 'repair "open"', "IM-action"],
        "scheme": ["moments", "affect", "moments", "alliance", "im"],
        "coder": "",
        "source": "",
    })


def test_praat_textgrid_short_format_hand_written():
    ev = read_events(DATA / "short_format.TextGrid")
    assert list(ev.columns) == list(EVENT_COLUMNS)
    # empty intervals are gaps, not events; point tiers give point events (an empty mark takes the tier name)
    assert ev[["onset_s", "offset_s", "code", "scheme"]].values.tolist() == [
        [12.5, 12.5, "both laugh", "laughs"],
        [61.5, 75.25, "MoM", "moments"],
        [99.0, 99.0, "laughs", "laughs"],
        [190.0, 300.5, 'rupture "withdrawal"', "moments"],
    ]
    assert ev["source"].iloc[1] == "short_format.TextGrid tier 'moments' interval 2"
    assert len(read_events(DATA / "short_format.TextGrid", tiers=["laughs"])) == 2
    with pytest.raises(EventsError, match=r"unknown tier\(s\) \['moment'\] \(did you mean 'moments'\?\)"):
        read_events(DATA / "short_format.TextGrid", tiers=["moment"])


def test_real_praat_textgrid_agrees_with_praatio(shared_data):
    """A TextGrid written by Praat (Parselmouth's test data) read by us and by praatio, an independent reader."""
    tgio = pytest.importorskip("praatio.textgrid")
    path = shared_data / "media" / "parselmouth_the_north_wind_and_the_sun.TextGrid"
    ev = read_events(path, free_text="keep")  # every tier, also the words (free text) of 'syllable nuclei'
    with pytest.warns(DyadsyncWarning, match=r"'syllable nuclei' look like free text .*6 annotation\(s\), 6 different"):
        default = read_events(path)
    assert set(default["scheme"]) == set(ev["scheme"]) - {"syllable nuclei"}
    tg = tgio.openTextgrid(str(path), includeEmptyIntervals=False)
    theirs = []
    for name in tg.tierNames:
        for entry in tg.getTier(name).entries:
            start, end = (entry[0], entry[1]) if len(entry) == 3 else (entry[0], entry[0])
            theirs.append((round(start, 9), round(end, 9), entry[-1], name))
    ours = [(round(a, 9), round(b, 9), c, s) for a, b, c, s in ev[COLS].itertuples(index=False)]
    assert sorted(ours) == sorted(theirs) and len(ours) == 21


def test_textgrid_we_write_reads_back_and_praatio_reads_it(tmp_path, events):
    path = write_textgrid(events, tmp_path / "s01.TextGrid", duration_s=3800)
    back = read_events(path)
    pd.testing.assert_frame_equal(back[COLS], events[COLS])
    tgio = pytest.importorskip("praatio.textgrid")
    tg = tgio.openTextgrid(str(path), includeEmptyIntervals=False)
    assert set(tg.tierNames) == {"moments", "affect", "alliance", "im"}
    assert [e.label for e in tg.getTier("alliance").entries] == ['repair "open"']


def test_textgrid_overlapping_intervals_go_to_extra_tiers(tmp_path, events):
    ev = events.copy()
    ev.loc[3, "scheme"] = "moments"  # 70-80 s overlaps 61.5-75.25 s
    back = read_events(write_textgrid(ev, tmp_path / "x.TextGrid"))
    assert sorted(back["scheme"].unique()) == ["affect", "im", "moments", "moments (2)"]
    np.testing.assert_allclose(back["onset_s"], ev["onset_s"])


def test_boris_aggregated_export_hand_written():
    ev = read_events(DATA / "boris_aggregated.tsv")
    assert detect_format(DATA / "boris_aggregated.tsv") == "boris_aggregated"
    assert ev[COLS].values.tolist() == [
        [61.5, 75.25, "moment of meeting", "therapist"],
        [190.0, 201.04, "rupture (withdrawal)", "client"],
        [1203.4, 1203.4, "laugh", "affect"],  # no focal subject: the behavioural category
    ]
    assert ev["source"].tolist()[0] == "boris_aggregated.tsv line 2"


def test_boris_tabular_export_pairs_start_and_stop():
    ev = read_events(DATA / "boris_tabular.csv")
    assert detect_format(DATA / "boris_tabular.csv") == "boris_tabular"
    assert ev[COLS].values.tolist() == [
        [12.25, 30.75, "moment of meeting", "therapist"],
        [20.0, 20.0, "laugh", "client"],
        [600.0, 640.5, "rupture (confrontation)", "client"],
    ]
    assert ev["source"].iloc[0] == "boris_tabular.csv lines 12-14"


def test_boris_problems_name_file_and_line(tmp_path):
    text = (DATA / "boris_tabular.csv").read_text().splitlines()
    bad = tmp_path / "unpaired.csv"
    bad.write_text("\n".join(text[:-1]) + "\n")  # the last STOP is missing
    with pytest.raises(EventsError, match=r"unpaired.csv: line 15: START of 'rupture \(confrontation\)' has no STOP"):
        read_events(bad)
    two = tmp_path / "two_obs.tsv"
    lines = (DATA / "boris_aggregated.tsv").read_text().splitlines()
    two.write_text("\n".join([*lines, lines[1].replace("s01", "s02", 1)]) + "\n")
    with pytest.raises(EventsError, match=r"2 observations \['s01', 's02'\]; pass observation="):
        read_events(two)
    assert len(read_events(two, observation="s02")) == 1


def test_boris_files_we_write_read_back(tmp_path, events):
    for kind in ("aggregated", "tabular"):
        back = read_events(write_boris(events, tmp_path / f"{kind}.tsv", kind=kind, observation="s01"))
        pd.testing.assert_frame_equal(back[COLS], events[COLS])


def test_innovative_moment_sheets_semicolon_mm_ss():
    ev = read_events(DATA / "im_sheet_italian.csv")  # as DyadSync's examples: start;end;livello;tipo;...
    assert list(ev["code"]) == ["reflection", "reflection", "action", "reconceptualization"]
    np.testing.assert_allclose(ev["onset_s"], [580.0, 980.0, 1221.0, 3723.5])
    np.testing.assert_allclose(ev["offset_s"], [596.0, 996.0, 1226.0, 3750.0])


def test_csv_hh_mm_ss_fff_point_events():
    ev = read_events(DATA / "hms_points.csv")
    np.testing.assert_allclose(ev["onset_s"], [62.25, 600.0, 3605.5])
    assert (ev["offset_s"] == ev["onset_s"]).all() and list(ev["coder"]) == ["A", "A", "A"]


def test_semicolon_clock_csv_we_write_reads_back(tmp_path, events):
    path = write_events_csv(events, tmp_path / "im.csv", clock=True, sep=";")
    assert path.read_text().splitlines()[1].startswith("00:01.250;00:04.500;MoM")
    pd.testing.assert_frame_equal(read_events(path)[COLS], events[COLS])


def test_several_coders_as_files_and_as_tiers(tmp_path, events):
    a = write_eaf(events, tmp_path / "coder_anna.eaf")
    b = write_textgrid(events.iloc[:3], tmp_path / "coder_ben.TextGrid")
    both = read_events([a, b])
    assert sorted(both["coder"].unique()) == ["coder_anna", "coder_ben"]
    assert len(both) == len(events) + 3 and both["onset_s"].is_monotonic_increasing
    named = read_events([a, b], coder=["A", "B"])
    assert sorted(named["coder"].unique()) == ["A", "B"]
    with pytest.raises(EventsError, match=r"unknown code\(s\) \['MOM'\]"):
        read_events([a, b], codes=["MOM"])
    tiers = read_events(DATA / "two_coders.eaf", tiers=["MoM_coder1", "MoM_coder2"])
    assert set(tiers["coder"]) == {"coder1", "coder2"}


def test_validation_names_file_and_row(tmp_path):
    late = tmp_path / "late.TextGrid"
    write_textgrid(pd.DataFrame({"onset_s": [10.0, 500.0], "offset_s": [20.0, 510.0], "code": ["MoM", "MoM"],
                                 "scheme": ["m", "m"], "coder": "", "source": ""}), late)
    with pytest.raises(EventsError, match=r"late.TextGrid tier 'm' interval 4: event at 500.000 s"):
        read_events(late, duration_s=300)
    with pytest.warns(DyadsyncWarning, match="overlap"):
        read_events(_write(tmp_path / "o.tsv", "onset\toffset\tcode\n1\t10\tMoM\n5\t12\tMoM\n"))
    with pytest.raises(EventsError, match=r"broken.TextGrid: not a readable TextGrid"):
        read_events(_write(tmp_path / "broken.TextGrid", 'File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = 0\n'
                                                           'xmax = 9\ntiers? <exists>\nsize = 1\nitem []:\n  item [1]:\n'
                                                           '    class = "IntervalTier"\n    name = "x"\n    xmin = 0\n'
                                                           '    xmax = 9\n    intervals: size = 1\n    intervals [1]:\n'
                                                           '      xmin = 0\n      xmax = oops\n'))
    with pytest.raises(EventsError, match="tiers= applies to ELAN and TextGrid"):
        read_events(DATA / "hms_points.csv", tiers=["x"])


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_dial_ratings_reader(tmp_path):
    dial = read_dial(DATA / "dial_ratings.csv")
    assert list(dial.columns) == ["time_s", "rater", "value"]
    client = dial[dial["rater"] == "client"]["value"].tolist()
    assert client == [50.0, 52.0, 55.0, 60.0, 61.5]  # "61,5": a decimal comma in a semicolon file
    assert np.isnan(dial[(dial["rater"] == "therapist") & (dial["time_s"] == 2)]["value"].item())
    with pytest.raises(EventsError, match=r"line 3: rating 120 of 'client' is outside the scale 0-100"):
        read_dial(_write(tmp_path / "d.csv", "time,client\n0,50\n1,120\n"))
    with pytest.raises(EventsError, match=r"line 3: time 0.000 s of 'client' does not come after 1.000 s"):
        read_dial(_write(tmp_path / "d.csv", "time,client\n1,50\n0,60\n"))
    long = read_dial(_write(tmp_path / "l.csv", "time,rater,value\n0,client,10\n0,therapist,20\n1,client,30\n"))
    assert long.groupby("rater").size().to_dict() == {"client": 2, "therapist": 1}


@pytest.mark.parametrize("writer", ["csv", "csv_clock", "eaf", "boris"])
def test_writers_round_to_the_nearest_millisecond_never_truncate(tmp_path, writer):
    """A time a hair below a whole millisecond (3 s computed as 2.9999999999999996) must be written as 3.000 s, not
    2.999 s: truncation would move every such event one millisecond early, and a grid sample early downstream."""
    from dyadsync.io.events import format_time

    below = np.nextafter(3.0, 0.0)
    ev = pd.DataFrame({"onset_s": [below, 59.9996], "offset_s": [np.nextafter(4.5, 0.0), 60.0004], "code": "MoM",
                       "scheme": "", "coder": "", "source": ""})
    if writer == "eaf":
        path = write_eaf(ev, tmp_path / "r.eaf")
    elif writer == "boris":
        path = write_boris(ev, tmp_path / "r.tsv")
    else:
        path = write_events_csv(ev, tmp_path / "r.csv", clock=writer == "csv_clock")
    back = read_events(path)
    np.testing.assert_array_equal(back["onset_s"], [3.0, 60.0])
    np.testing.assert_array_equal(back["offset_s"], [4.5, 60.0])
    assert format_time(below) == "00:03.000" and format_time(59.9996) == "01:00.000"
