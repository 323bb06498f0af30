"""Bad input files given to the readers (issue 14): each is refused with one line that names the file and the
problem, as an InputError subclass (so the CLI prints it and exits 2), never a traceback; a few odd but valid ones
(UTF-16 without byte-order mark, Latin-1) are read.

Each case is (id, reader, file name, content, error class, what the message must say).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dyadsync.errors import EventsError, InputError, MEAFileError
from dyadsync.io.dial import read_dial
from dyadsync.io.events import read_events
from dyadsync.io.mea_files import read_mea_series

SRC = Path(__file__).resolve().parents[1] / "src"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"

MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(range(256)) * 4
XLSX = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"[Content_Types].xml" + bytes(200)
XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
GARBAGE = bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8))


def _eaf(slots: str, ann: str = 'TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2"', doctype: str = "", body: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<ANNOTATION_DOCUMENT><HEADER TIME_UNITS="milliseconds"/>'
        f"<TIME_ORDER>{slots}</TIME_ORDER><TIER TIER_ID=\"MoM\"><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID=\"a1\" "
        f"{ann}><ANNOTATION_VALUE>MoM{body}</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER>"
        "</ANNOTATION_DOCUMENT>\n"
    ).encode()


SLOTS = '<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="1000"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="{}"/>'
BOMB = '<!DOCTYPE d [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
XXE = '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
PARAM_XXE = '<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'

TEXTGRID = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = {end}
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "moments"
        xmin = 0
        xmax = {end}
        intervals: size = 2
        intervals [1]:
            xmin = 0
            xmax = 2.5
            text = "MoM"
        intervals [2]:
            xmin = 2.5
            xmax = {end}
            text = ""
"""

MEA_HEAD = '"pat" "th"\n'
MEA_ROWS = "".join(f"{(7 * i) % 13} {(5 * i) % 11}\n" for i in range(20))

CASES = [
    # --- ELAN
    ("eaf-xml-bomb", "events", "bomb.eaf", _eaf(SLOTS.format(2000), doctype=BOMB, body="&lol2;"), EventsError,
     r"refused: it declares the XML entity 'lol'.*XML bomb"),
    ("eaf-external-entity", "events", "xxe.eaf", _eaf(SLOTS.format(2000), doctype=XXE, body="&xxe;"), EventsError,
     r"refused: it declares an external entity 'xxe' \(pointing to 'file:///etc/passwd'\).*external-entity attack"),
    ("eaf-external-parameter-entity", "events", "pxxe.eaf", _eaf(SLOTS.format(2000), doctype=PARAM_XXE),
     EventsError, r"refused: it declares an external entity 'p'"),
    ("eaf-time-with-decimal-point", "events", "ms.eaf", _eaf(SLOTS.format("2000.5")), EventsError,
     r"time slot 'ts2' has TIME_VALUE '2000.5': ELAN times are whole milliseconds"),
    ("eaf-time-in-seconds", "events", "sec.eaf", _eaf(SLOTS.format("2.5")), EventsError,
     r"TIME_VALUE '2.5': ELAN times are whole milliseconds \(61.5 s is written 61500\)"),
    ("eaf-negative-time", "events", "neg.eaf", _eaf(SLOTS.format("-20")), EventsError, r"'-20': negative"),
    ("eaf-time-not-a-number", "events", "nan.eaf", _eaf(SLOTS.format("soon")), EventsError,
     r"'soon', which is not a number of milliseconds"),
    ("eaf-undefined-time-slot", "events", "slot.eaf", _eaf(SLOTS.format(2000), ann='TIME_SLOT_REF1="ts1" '
     'TIME_SLOT_REF2="ts9"'), EventsError, r"annotation a1 .* refers to time slot 'ts9', which .* does not define"),
    ("eaf-video-renamed", "events", "video.eaf", MP4, EventsError, r"is an MP4/MOV video, not an ELAN \.eaf file"),
    ("eaf-not-xml", "events", "text.eaf", b"MoM at 1:20\n", EventsError, r"not a readable ELAN file \(XML error"),
    ("eaf-other-xml", "events", "svg.eaf", b"<svg/>", EventsError, r"root element is <svg>"),
    # --- CSV given something that is not text
    ("csv-video", "events", "codes.csv", MP4, EventsError, r"is an MP4/MOV video, not a text file of codes"),
    ("csv-xlsx-workbook", "events", "codes.csv", XLSX, EventsError, r"is a ZIP archive \(an Excel \.xlsx or OpenDocument workbook\?\), not a text file of codes .*; save the sheet as CSV"),
    ("csv-xls-workbook", "events", "codes.csv", XLS, EventsError, r"Excel \.xls workbook"),
    ("csv-random-bytes", "events", "codes.csv", GARBAGE, EventsError, r"is a binary file"),
    ("txt-pdf", "events", "codes.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", EventsError, r"a PDF document"),
    ("csv-bad-utf16-bom", "events", "codes.csv", b"\xff\xfe" + "onset,code\n".encode("utf-16-le") + b"\x00\xd8",
     EventsError, r"starts like UTF-16 text .* but is not valid UTF-16"),
    ("csv-unclosed-quote", "events", "codes.csv", b'onset,code\n1,"MoM\n' + b"x" * 140_000 + b"\n", EventsError,
     r"not a readable CSV file \(field larger than field limit.*never closed"),
    # --- CSV cells
    ("csv-empty-offset", "events", "codes.csv", b"onset,offset,code\n1,4,MoM\n3,,MoM\n9,12,MoM\n", EventsError,
     r"line 3: the end \('offset'\) is empty while other rows have one \(1 row\(s\) without an end: line\(s\) 3\)"),
    ("csv-na-offset", "events", "codes.csv", b"start;end;tipo\n00:01;00:04;MoM\n00:03;NA;MoM\n", EventsError,
     r"line 3: the end \('end'\) is empty"),
    ("csv-empty-duration", "events", "codes.csv", b"time,duration,label\n5,2.5,a\n9,,b\n", EventsError,
     r"line 3: the end \('duration'\) is empty"),
    ("csv-time-one-digit-minutes", "events", "codes.csv", b"onset,code\n1:5:00,MoM\n", EventsError,
     r"line 2: onset: '1:5:00' is not a time .*two digits"),
    ("csv-time-seconds-60", "events", "codes.csv", b"onset,code\n1:60,MoM\n", EventsError,
     r"line 2: onset: '1:60' is not a valid clock time"),
    ("csv-time-negative", "events", "codes.csv", b"onset,code\n-5,MoM\n", EventsError,
     r"line 2: onset: '-5' is not a time .*cannot be negative"),
    ("csv-time-nan", "events", "codes.csv", b"onset,code\nnan,MoM\n", EventsError, r"line 2: onset: 'nan' is not a time"),
    ("csv-time-two-dots", "events", "codes.csv", b"onset,offset,code\n1,1.2.3,MoM\n", EventsError,
     r"line 2: offset: '1.2.3' is not a time"),
    ("csv-time-empty-onset", "events", "codes.csv", b"onset,code\n,MoM\n", EventsError,
     r"line 2: onset: '' is not a time .*the cell is empty"),
    ("csv-header-only", "events", "codes.csv", b"onset,offset,code\n", EventsError, r"no events"),
    # --- TextGrid, RTTM, BORIS
    ("textgrid-binary-praat", "events", "codes.TextGrid", b"ooBinaryFile\x08TextGrid" + bytes(40), EventsError,
     r"is a binary Praat file, not a Praat TextGrid \(text format\); in Praat, save it with 'Save as text file'"),
    ("textgrid-number-out-of-range", "events", "codes.TextGrid", TEXTGRID.format(end="1e999").encode(), EventsError,
     r"not a readable TextGrid: xmax is out of range"),
    ("textgrid-truncated", "events", "codes.TextGrid", TEXTGRID.format(end=10).encode()[:300], EventsError,
     r"not a readable TextGrid: it ends early"),
    ("rttm-nan-onset", "events", "turns.rttm", b"SPEAKER s 1 nan 2.0 <NA> <NA> A <NA> <NA>\n", EventsError,
     r"line 1: onset 'nan' / duration '2.0' are not seconds"),
    ("boris-bad-time", "events", "boris.tsv", b"Behavior\tStart (s)\tStop (s)\nMoM\t1:5\t9\n", EventsError,
     r"line 2: Start \(s\): '1:5' is not a time"),
    # --- MEA files
    ("mea-inf", "mea", "dyad_inf.txt", (MEA_HEAD + MEA_ROWS + "Inf 3\n" + MEA_ROWS).encode(), MEAFileError,
     r"line 22: 'Inf' is not a finite number \(1 infinite value\(s\).*rMEA's readMEA stops on one too"),
    ("mea-minus-inf", "mea", "dyad_minf.txt", (MEA_HEAD + MEA_ROWS + "4 -inf\n").encode(), MEAFileError,
     r"line 22: '-inf' is not a finite number"),
    ("mea-negative", "mea", "dyad_neg.txt", (MEA_HEAD + "3 4\n-12 5\n" + MEA_ROWS).encode(), MEAFileError,
     r"line 3: '-12' is negative \(1 negative value\(s\).*counts moving pixels"),
    ("mea-centred-export", "mea", "dyad_scaled.txt", (MEA_HEAD + "-0.51 0.2\n1.3 -0.7\n0.1 0.4\n").encode(),
     MEAFileError, r"line 2: '-0.51' is negative \(2 negative value\(s\).*centred or standardised"),
    ("mea-video", "mea", "dyad.txt", MP4, MEAFileError, r"is an MP4/MOV video, not an MEA text file"),
    ("mea-underscore-number", "mea", "dyad_us.txt", (MEA_HEAD + "1_000 3\n" + MEA_ROWS).encode(), MEAFileError,
     r"line 2: '1_000' is not a number"),
    ("mea-text-cell", "mea", "dyad_x.txt", (MEA_HEAD + MEA_ROWS + "3 x7\n").encode(), MEAFileError,
     r"line 22: 'x7' is not a number"),
    # --- dial ratings
    ("dial-video", "dial", "dial.csv", MP4, EventsError, r"is an MP4/MOV video, not a CSV of dial ratings"),
    ("dial-inf-rating", "dial", "dial.csv", b"time,client\n0,50\n1,inf\n", EventsError,
     r"line 3: rating 'inf' of 'client' is not a number"),
    ("dial-negative-time", "dial", "dial.csv", b"time,client\n-1,50\n1,55\n", EventsError,
     r"line 2: time: '-1' is not a time .*cannot be negative"),
    ("dial-empty-rater", "dial", "dial.csv", b"time,rater,value\n0,client,50\n1,,55\n", EventsError,
     r"line 3: empty rater"),
    ("dial-out-of-scale", "dial", "dial.csv", b"time;client\n0;50\n1;101\n", EventsError,
     r"line 3: rating 101 of 'client' is outside the scale 0-100"),
]

READERS = {"events": read_events, "mea": lambda p: read_mea_series(p), "dial": read_dial}


@pytest.mark.parametrize("case_id, reader, name, content, error, problem", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_file_and_problem(tmp_path, case_id, reader, name, content, error, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as err:
        READERS[reader](path)
    message = str(err.value)
    assert isinstance(err.value, InputError) and err.value.path == path
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message, message
    assert re.search(problem, message), f"{problem!r} not in {message!r}"


@pytest.mark.parametrize("reader", ["events", "mea", "dial"])
def test_a_folder_or_a_missing_file_is_named(tmp_path, reader):
    error = MEAFileError if reader == "mea" else EventsError
    folder = tmp_path / ("codes.csv" if reader != "mea" else "dyad.txt")
    folder.mkdir()
    with pytest.raises(error, match=r"is a folder"):
        READERS[reader](folder)
    with pytest.raises(error, match=r"file not found"):
        READERS[reader](tmp_path / "nowhere.csv")


# ------------------------------------------------------------------------------------------------ odd but readable


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig"])
def test_textgrid_in_utf16_without_bom_is_read(tmp_path, encoding):
    path = tmp_path / "codes.TextGrid"
    path.write_bytes(TEXTGRID.format(end=10).replace('"MoM"', '"Moment ü Ā 一"').encode(encoding))
    ev = read_events(path)
    assert list(ev["code"]) == ["Moment ü Ā 一"] and (ev["onset_s"].iloc[0], ev["offset_s"].iloc[0]) == (0.0, 2.5)


@pytest.mark.parametrize("encoding", ["utf-16-le", "latin-1"])
def test_csv_dial_and_mea_in_other_encodings_are_read(tmp_path, encoding):
    codes = tmp_path / "codes.csv"
    codes.write_bytes("onset;offset;code\n1,5;4;réparation\n".encode(encoding))
    assert list(read_events(codes)["code"]) == ["réparation"]
    dial = tmp_path / "dial.csv"
    dial.write_bytes("time;thérapeute\n0;50\n1;NA\n2;52,5\n".encode(encoding))
    table = read_dial(dial)
    assert table["rater"].unique().tolist() == ["thérapeute"]
    np.testing.assert_array_equal(table["value"], [50.0, np.nan, 52.5])
    mea = tmp_path / "dyad.txt"
    mea.write_bytes((MEA_HEAD + "NA 3\nNaN 4\n" + MEA_ROWS).encode(encoding))
    values, _ = read_mea_series(mea)
    assert values.shape == (22, 2) and np.isnan(values[:2, 0]).all()


def test_an_end_column_empty_throughout_means_point_events(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_bytes(b"onset,offset,code\n1,,MoM\n3,,MoM\n")
    ev = read_events(path)
    np.testing.assert_array_equal(ev["offset_s"], ev["onset_s"])


def test_an_external_dtd_is_not_fetched(tmp_path):
    """A DOCTYPE that names an external DTD is parsed without loading it (no file or network access)."""
    path = tmp_path / "dtd.eaf"
    path.write_bytes(_eaf(SLOTS.format(2000), doctype='<!DOCTYPE ANNOTATION_DOCUMENT SYSTEM "file:///nonexistent.dtd">\n'))
    assert list(read_events(path)["code"]) == ["MoM"]


# ------------------------------------------------------------------------------------------------ through the CLI


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-m", "dyadsync.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


CLI_CASES = ["eaf-xml-bomb", "eaf-time-with-decimal-point", "csv-video", "csv-empty-offset", "textgrid-binary-praat"]


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_run_with_bad_codes_exits_2_with_one_line(tmp_path, case_id):
    _, _, name, content, _, problem = next(c for c in CASES if c[0] == case_id)
    codes = tmp_path / name
    codes.write_bytes(content)
    done = _cli("run", str(SAMPLE / "dyad_session.mp4"), "--codes", str(codes), "--out", str(tmp_path / "out"), "-q",
                cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and name in errors[0], done.stderr
    assert re.search(problem, errors[0]), errors[0]


@pytest.mark.parametrize("case_id", ["mea-inf", "mea-negative", "mea-video"])
def test_mea_with_a_bad_file_exits_2_naming_it(tmp_path, case_id):
    _, _, name, content, _, problem = next(c for c in CASES if c[0] == case_id)
    (tmp_path / name).write_bytes(content)
    done = _cli("mea", str(tmp_path / name), "--fps", "25", "--window", "0.4", "--step", "0.2", "--max-lag", "0.08",
                "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    failed = [ln for ln in done.stderr.splitlines() if "failed:" in ln]
    assert len(failed) == 1 and name in failed[0], done.stderr
    assert re.search(problem, failed[0]), failed[0]
    assert name in (tmp_path / "out" / "failures.csv").read_text()
