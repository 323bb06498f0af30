"""Property-based tests of the event readers (hypothesis): every accepted time form and its near-misses, and codes
files of every dialect and structure written by independent writers (Python's csv module, praatio, plain XML
templates for ELAN) read back with the same times (within 1 ms) and codes.

Examples are few per test (the whole file runs in seconds); a failure prints the smallest example that breaks.
"""

from __future__ import annotations

import csv
import io
import tempfile
import warnings
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dyadsync.errors import DyadsyncWarning, EventsError
from dyadsync.io.events import format_time, parse_time, read_events

FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MAX_MS = 10 * 3600 * 1000  # ten hours
millis = st.integers(min_value=0, max_value=MAX_MS)


def _read(path: Path, **kwargs):
    kwargs.setdefault("free_text", "keep")  # random values look like free text: these tests are about reading
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)  # overlapping events are legal and warned about
        return read_events(path, **kwargs)


# ------------------------------------------------------------------------------------------------ time strings


@st.composite
def written_time(draw):
    """(text, seconds): one time written in one of the accepted forms, as a coder or a spreadsheet would."""
    ms = draw(millis)
    whole, frac = divmod(ms, 1000)
    # a fraction written with fewer digits is another (truncated) time: the expected value is what the text says
    digits = draw(st.sampled_from([3, 2, 1, 0]))
    frac_text = f"{frac:03d}"[:digits] if digits else ""
    value = whole + (int(frac_text) / 10 ** len(frac_text) if frac_text else 0.0)
    point = draw(st.sampled_from([".", ","]))
    tail = f"{point}{frac_text}" if frac_text else draw(st.sampled_from(["", point]))
    form = draw(st.sampled_from(["seconds", "m:ss", "h:mm:ss"]))
    if form == "seconds":
        text = f"{whole}{tail}"
    elif form == "m:ss":
        m, s = divmod(whole, 60)
        text = f"{m:0{draw(st.integers(1, 3))}d}:{s:02d}{tail}"
    else:
        h, rem = divmod(whole, 3600)
        m, s = divmod(rem, 60)
        text = f"{h:0{draw(st.integers(1, 2))}d}:{m:02d}:{s:02d}{tail}"
    pad = draw(st.sampled_from(["", " ", "\t", "  "]))
    return pad + text + pad[::-1], value


@FEW
@given(written_time())
def test_every_accepted_time_form_parses_to_its_seconds(case):
    text, seconds = case
    assert parse_time(text) == pytest.approx(seconds, abs=1e-9)


@FEW
@given(st.floats(min_value=0, max_value=MAX_MS / 1000, allow_nan=False))
def test_format_time_reads_back_to_the_millisecond(seconds):
    assert parse_time(format_time(seconds)) == pytest.approx(round(seconds, 3), abs=5e-7)


@st.composite
def near_miss(draw):
    """A string that looks like a time but is not one of the accepted forms."""
    a, b, c = draw(st.integers(0, 99)), draw(st.integers(0, 99)), draw(st.integers(0, 99))
    kind = draw(st.sampled_from(["ss>=60", "mm>=60", "one digit", "negative", "dots", "empty", "four fields",
                                 "exponent", "sign", "nan/inf", "spaces inside", "letters"]))
    if kind == "ss>=60":
        return f"{a}:{draw(st.integers(60, 99))}" + draw(st.sampled_from(["", ".5"]))
    if kind == "mm>=60":
        return f"{a}:{draw(st.integers(60, 99))}:{b % 60:02d}"
    if kind == "one digit":
        d = draw(st.integers(0, 9))
        return draw(st.sampled_from([f"{a}:{d}", f"{a}:{d}:{b % 60:02d}", f"{a}:{b % 60:02d}:{d}", f"{a}:{d}.5"]))
    if kind == "negative":
        return "-" + draw(written_time())[0].strip()
    if kind == "dots":
        return f"{a}.{b}.{c}"
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "\t"]))
    if kind == "four fields":
        return f"{a}:{b:02d}:{c:02d}:{a:02d}"
    if kind == "exponent":
        return f"{a}e{draw(st.integers(0, 3))}"
    if kind == "sign":
        return "+" + str(a)
    if kind == "nan/inf":
        return draw(st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity"]))
    if kind == "spaces inside":
        return f"{a}: {b:02d}"
    return draw(st.sampled_from(["ten", "1:2x", "1h30", "00:12.000s", "12 s"]))


@FEW
@given(near_miss())
def test_near_misses_are_refused_not_read_as_another_number(text):
    with pytest.raises(EventsError, match="not a (valid clock )?time"):
        parse_time(text)


@FEW
@given(st.text(max_size=20))
def test_any_text_is_a_valid_time_or_an_events_error(text):
    """Never another exception, never a NaN, negative or infinite time."""
    try:
        value = parse_time(text)
    except EventsError:
        return
    assert 0 <= value < float("inf")


# ------------------------------------------------------------------------------------------------ CSV dialects

CODE_CHARS = st.characters(codec="latin-1", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
codes = st.text(CODE_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def event_rows(draw, min_size=1, max_size=8):
    """(onset_ms, offset_ms, code) of a few events."""
    n = draw(st.integers(min_size, max_size))
    rows = []
    for _ in range(n):
        onset = draw(st.integers(0, 3 * 3600 * 1000))
        rows.append((onset, onset + draw(st.integers(0, 600_000)), draw(codes)))
    return rows


def _clock(ms: int, comma: bool, hours: bool) -> str:
    """m:ss.fff or h:mm:ss.fff, written here and not by dyadsync's format_time."""
    s, frac = divmod(ms, 1000)
    m, s = divmod(s, 60)
    text = f"{m // 60}:{m % 60:02d}:{s:02d}.{frac:03d}" if hours else f"{m:02d}:{s:02d}.{frac:03d}"
    return text.replace(".", ",") if comma else text


@FILES
@given(
    rows=event_rows(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    clock=st.sampled_from([None, "m:ss", "h:mm:ss"]),
    decimal_comma=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    header=st.sampled_from([("onset", "offset", "code"), ("Start", "End", "Type"), ("begin_time", "stop", "label"),
                            ("start", "end", "tipo")]),
)
def test_csv_dialects_written_by_the_csv_module_read_back(rows, delimiter, quoting, clock, decimal_comma, encoding,
                                                          newline, header):
    """Separators, quoting, decimal commas, BOMs, UTF-16 with and without BOM, Latin-1, CRLF: same events."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    for onset, offset, code in rows:
        if clock:
            cells = [_clock(t, decimal_comma, clock == "h:mm:ss") for t in (onset, offset)]
        else:
            cells = [f"{onset / 1000:.3f}", f"{offset / 1000:.3f}"]
            if decimal_comma:
                cells = [c.replace(".", ",") for c in cells]
        writer.writerow([*cells, code])
    data = buf.getvalue().encode(encoding)
    if encoding == "latin-1":  # Latin-1 bytes that also happen to be UTF-8 cannot be told apart by anyone
        try:
            data.decode("utf-8")
            assume(data.isascii())
        except UnicodeDecodeError:
            pass
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "codes.csv"
        path.write_bytes(data)
        ev = _read(path)
    expected = sorted((on / 1000, off / 1000, code) for on, off, code in rows)
    got = list(zip(ev["onset_s"], ev["offset_s"], ev["code"]))
    assert [g[2] for g in got] == [e[2] for e in expected]
    for (on, off, _), (gon, goff, _) in zip(expected, got):
        assert abs(gon - on) < 1e-6 and abs(goff - off) < 1e-6


# ------------------------------------------------------------------------------------------------ ELAN structures

XML_TEXT = st.characters(exclude_categories=("Cc", "Cs", "Co", "Zl", "Zp"), exclude_characters="\ufffe\uffff")
values = st.text(XML_TEXT, max_size=10)
tier_names = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=8)


@st.composite
def elan_document(draw):
    """(xml text, expected events): tiers of time-aligned annotations, some with a child tier of references."""
    names = draw(st.lists(tier_names, min_size=1, max_size=3, unique=True))
    slots: list[tuple[str, int]] = []
    tiers_xml, expected = [], []
    aid = 0
    for name in names:
        annotator = draw(st.sampled_from(["", "anna", "ben"]))
        anns, refs = [], []
        for onset, offset, _ in draw(event_rows(min_size=0, max_size=5)):
            aid += 1
            slots += [(f"ts{len(slots) + 1}", onset), (f"ts{len(slots) + 2}", offset)]
            value = draw(values)
            anns.append(
                f'<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a{aid}" TIME_SLOT_REF1="{slots[-2][0]}" '
                f'TIME_SLOT_REF2="{slots[-1][0]}"><ANNOTATION_VALUE>{escape(value)}</ANNOTATION_VALUE>'
                "</ALIGNABLE_ANNOTATION></ANNOTATION>"
            )
            expected.append((onset, offset, value.strip() or name, name, annotator))
            if draw(st.booleans()):  # a reference annotation on a child tier inherits these times
                ref_value = draw(values)
                refs.append(
                    f'<ANNOTATION><REF_ANNOTATION ANNOTATION_ID="r{aid}" ANNOTATION_REF="a{aid}">'
                    f"<ANNOTATION_VALUE>{escape(ref_value)}</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>"
                )
                expected.append((onset, offset, ref_value.strip() or f"{name}_ref", f"{name}_ref", annotator))
        who = f" ANNOTATOR={quoteattr(annotator)}" if annotator else ""
        tiers_xml.append(f'<TIER LINGUISTIC_TYPE_REF="lt"{who} TIER_ID={quoteattr(name)}>{"".join(anns)}</TIER>')
        tiers_xml.append(f'<TIER LINGUISTIC_TYPE_REF="sym"{who} PARENT_REF={quoteattr(name)} '
                         f'TIER_ID={quoteattr(name + "_ref")}>{"".join(refs)}</TIER>')
    order = draw(st.permutations(slots))  # ELAN orders slots by time; a reader must not rely on any order
    slot_xml = "".join(f'<TIME_SLOT TIME_SLOT_ID="{sid}" TIME_VALUE="{ms}"/>' for sid, ms in order)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" DATE="2026-01-01T00:00:00+00:00" '
        'FORMAT="3.0" VERSION="3.0"><HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>'
        f"<TIME_ORDER>{slot_xml}</TIME_ORDER>{''.join(tiers_xml)}"
        '<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="lt" TIME_ALIGNABLE="true"/>'
        '<LINGUISTIC_TYPE CONSTRAINTS="Symbolic_Association" LINGUISTIC_TYPE_ID="sym" TIME_ALIGNABLE="false"/>'
        '<CONSTRAINT DESCRIPTION="" STEREOTYPE="Symbolic_Association"/></ANNOTATION_DOCUMENT>\n'
    )
    return xml, expected


def _same_events(ev, expected):
    got = sorted(zip((ev["onset_s"] * 1000).round().astype(int), (ev["offset_s"] * 1000).round().astype(int),
                     ev["code"], ev["scheme"], ev["coder"]))
    assert got == sorted(expected)
    # within 1 ms of what the file says, not only after rounding
    assert all(abs(a * 1000 - round(a * 1000)) < 1e-6 for a in [*ev["onset_s"], *ev["offset_s"]])


@FILES
@given(elan_document())
def test_elan_files_from_an_xml_template_read_back(doc):
    xml, expected = doc
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "codes.eaf"
        path.write_text(xml, encoding="utf-8")
        ev = _read(path)
    _same_events(ev, expected)


# ------------------------------------------------------------------------------------------------ TextGrid structures


@st.composite
def textgrid_tiers(draw):
    """Interval and point tiers: (kind, name, entries) with times in whole milliseconds."""
    tiers = []
    for name in draw(st.lists(tier_names, min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()):
            bounds = sorted(set(draw(st.lists(st.integers(1, 3_600_000), min_size=1, max_size=8))))
            edges = [0, *bounds]
            entries = [(a, b, draw(values)) for a, b in zip(edges[:-1], edges[1:])]
            tiers.append(("interval", name, entries))
        else:
            times = sorted(set(draw(st.lists(st.integers(0, 3_600_000), max_size=6))))
            tiers.append(("point", name, [(t, t, draw(values)) for t in times]))
    return tiers


@FILES
@given(tiers=textgrid_tiers(), fmt=st.sampled_from(["long_textgrid", "short_textgrid"]),
       encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be"]))
def test_textgrids_written_by_praatio_read_back(tiers, fmt, encoding):
    """praatio (an independent writer) in both text formats, re-encoded as UTF-16 with and without BOM."""
    textgrid = pytest.importorskip("praatio.textgrid")
    end = max([1, *(b for _, _, entries in tiers for _, b, _ in entries)]) / 1000 + 1
    tg = textgrid.Textgrid()
    expected = []
    for kind, name, entries in tiers:
        if kind == "interval":
            tier = textgrid.IntervalTier(name, [(a / 1000, b / 1000, t) for a, b, t in entries], 0, end)
            expected += [(a, b, t.strip(), name, "") for a, b, t in entries if t.strip()]
        else:
            tier = textgrid.PointTier(name, [(a / 1000, t) for a, _, t in entries], 0, end)
            expected += [(a, a, t.strip() or name, name, "") for a, _, t in entries]
        tg.addTier(tier)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "codes.TextGrid"
        tg.save(str(path), format=fmt, includeBlankSpaces=True, reportingMode="silence")
        path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
        ev = _read(path)
    _same_events(ev, expected)


# ------------------------------------------------------------------------------------------------ any bytes at all


@st.composite
def mangled_file(draw):
    """A valid codes, dial or MEA file with bytes cut, replaced or inserted: what a broken copy or a wrong export
    gives."""
    valid = draw(st.sampled_from([
        b"onset;offset;code\n00:01;00:04;MoM\n1:02:03,5;1:02:09;rupture\n",
        b'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 10\ntiers? <exists>\nsize = 1\n'
        b'item []:\n    item [1]:\n        class = "TextTier"\n        name = "m"\n        xmin = 0\n        xmax = 10\n'
        b'        points: size = 1\n        points [1]:\n            number = 2.5\n            mark = "MoM"\n',
        b'<?xml version="1.0"?><ANNOTATION_DOCUMENT><HEADER TIME_UNITS="milliseconds"/><TIME_ORDER>'
        b'<TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="1000"/><TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="2000"/>'
        b'</TIME_ORDER><TIER TIER_ID="t"><ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" '
        b'TIME_SLOT_REF2="ts2"><ANNOTATION_VALUE>MoM</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION></TIER>'
        b"</ANNOTATION_DOCUMENT>",
        b"SPEAKER s 1 0.5 2.0 <NA> <NA> A <NA> <NA>\nSPEAKER s 1 3.0 1.5 <NA> <NA> B <NA> <NA>\n",
        b"Behavior\tStart (s)\tStop (s)\tBehavior type\nMoM\t1.5\t4\tSTATE\nlaugh\t6\tNA\tPOINT\n",
    ]))
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        what = draw(st.sampled_from(["cut", "replace", "insert"]))
        chunk = draw(st.binary(min_size=1, max_size=6))
        if what == "cut":
            del data[at:at + len(chunk)]
        elif what == "replace":
            data[at:at + len(chunk)] = chunk
        else:
            data[at:at] = chunk
    return bytes(data)


@FILES
@given(data=mangled_file(), suffix=st.sampled_from([".csv", ".txt", ".eaf", ".TextGrid", ".rttm", ".tsv"]))
def test_a_mangled_file_is_read_or_refused_in_one_line(data, suffix):
    """Whatever the bytes, the readers return a table or raise an InputError naming the file: never another
    exception, and never a NaN, infinite or negative time."""
    from dyadsync.errors import InputError, MEAFileError
    from dyadsync.io.dial import read_dial
    from dyadsync.io.mea_files import read_mea_series

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"codes{suffix}"
        path.write_bytes(data)
        try:
            ev = _read(path)
        except EventsError as exc:
            assert exc.path == path and "\n" not in str(exc)
        else:
            times = ev[["onset_s", "offset_s"]].to_numpy(float)
            assert (times >= 0).all() and (times < float("inf")).all()
        for reader, error in ((read_dial, EventsError), (read_mea_series, MEAFileError)):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DyadsyncWarning)
                    reader(path)
            except InputError as exc:
                assert isinstance(exc, error) and exc.path == path and "\n" not in str(exc)


# ------------------------------------------------------------------------------------ ELAN files we write (pympi)


@st.composite
def coded_events(draw, max_size=12):
    """An Events table of interval and point events (times in whole ms), a few schemes and coders, overlaps
    allowed: what a coder, or dyadsync's own synchrony tiers, can hold."""
    rows = []
    for _ in range(draw(st.integers(0, max_size))):
        onset = draw(st.integers(0, 600_000))
        offset = onset + draw(st.sampled_from([0, draw(st.integers(1, 90_000))]))
        rows.append((onset / 1000, offset / 1000, draw(st.sampled_from(["MoM", "rupture", "peak", "IM é"])),
                     draw(st.sampled_from(["", "moments", "new tier"])), draw(st.sampled_from(["", "anna", "ben"])),
                     ""))
    return pd.DataFrame.from_records(rows, columns=["onset_s", "offset_s", "code", "scheme", "coder", "source"])


def _pympi(path: Path):
    pympi = pytest.importorskip("pympi")
    return pympi.Elan.Eaf(str(path))


def _annotations(eaf, tiers):
    return sorted((a, b, v) for t in tiers for a, b, v, *_ in eaf.get_annotation_data_for_tier(t))


@FILES
@given(coded_events())
def test_elan_files_we_write_are_valid_for_elan_and_read_back_by_pympi(events):
    """pympi (an independent reader) finds every event once, no tier with overlapping annotations (ELAN forbids
    them: overlapping events go to extra tiers), and our reader gives back the same times and codes."""
    from dyadsync.io.events import write_eaf

    with tempfile.TemporaryDirectory() as tmp:
        path = write_eaf(events, Path(tmp) / "w.eaf", media_file="s.mp4")
        eaf = _pympi(path)
        back = _read(path)
    tiers = list(eaf.get_tier_names())
    for tier in tiers:
        spans = sorted((a, b) for a, b, *_ in eaf.get_annotation_data_for_tier(tier))
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:])), tier
    want = sorted((round(a * 1000), round(b * 1000), c) for a, b, c in zip(events["onset_s"], events["offset_s"],
                                                                             events["code"]))
    assert _annotations(eaf, tiers) == want
    assert sorted(zip((back["onset_s"] * 1000).round().astype(int), (back["offset_s"] * 1000).round().astype(int),
                      back["code"])) == want
    media = eaf.media_descriptors[0]
    assert media["MEDIA_URL"].startswith("file:///") and media["MEDIA_URL"].endswith("/s.mp4")
    assert (media["RELATIVE_MEDIA_URL"], media["MIME_TYPE"]) == ("./s.mp4", "video/mp4")


@FILES
@given(doc=elan_document(), events=coded_events())
def test_tiers_added_to_an_elan_file_leave_it_unchanged(doc, events):
    """A copy with added tiers: pympi reads every original tier, annotation and linguistic type unchanged, and the new
    tiers hold the events."""
    from dyadsync.io.events import write_eaf

    xml, _ = doc
    # as ELAN writes it (pympi needs the schema location)
    xml = xml.replace("<ANNOTATION_DOCUMENT ", '<ANNOTATION_DOCUMENT xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                      'xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd" ', 1)
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "coder.eaf"
        template.write_text(xml, encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DyadsyncWarning)
            path = write_eaf(events, Path(tmp) / "copy.eaf", template=template)
        before, after = _pympi(template), _pympi(path)
        assert template.read_text(encoding="utf-8") == xml  # the coder's file is untouched
    old = list(before.get_tier_names())
    for tier in old:
        assert after.get_annotation_data_for_tier(tier) == before.get_annotation_data_for_tier(tier)
        assert after.tiers[tier][2] == before.tiers[tier][2]
    for lt, attrs in before.linguistic_types.items():
        assert after.linguistic_types[lt] == attrs
    new = [t for t in after.get_tier_names() if t not in old]
    want = sorted((round(a * 1000), round(b * 1000), c) for a, b, c in zip(events["onset_s"], events["offset_s"],
                                                                             events["code"]))
    assert _annotations(after, new) == want
    ids = [a for t in after.tiers.values() for a in [*t[0], *t[1]]]
    assert len(ids) == len(set(ids))  # no identifier used twice


# ------------------------------------------------------------------------------- ELAN time-series CSV files


@FILES
@given(st.lists(st.tuples(st.integers(0, 10_000_000), st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")))),
                min_size=2, max_size=40, unique_by=lambda r: r[0]))
def test_track_csv_reads_back_under_elans_csv_rules(rows):
    """ELAN's CSVReader: '#' lines skipped, the delimiter counted most often among tab, ';' and ',', a time with a
    decimal point read as seconds, values by Java's Float.parseFloat (which reads 'NaN')."""
    from dyadsync.io.elan_tracks import write_track_csv

    rows = sorted(rows)
    table = pd.DataFrame({"time_s": [t / 1000 for t, _ in rows], "v": [v for _, v in rows]})
    with tempfile.TemporaryDirectory() as tmp:
        lines = write_track_csv(table, Path(tmp) / "t.csv").read_text().splitlines()
    data = [line for line in lines if line and not line.startswith("#")]
    counts = {d: sum(len(line.split(d)) - 1 for line in data[:10]) for d in ("\t", ";", ",")}
    assert max(counts, key=counts.get) == "," and counts[","] > max(counts["\t"], counts[";"])
    cells = [line.split(",") for line in data]
    assert all("." in c[0] and ":" not in c[0] for c in cells)
    assert [round(float(c[0]) * 1000) for c in cells] == [t for t, _ in rows]
    got = np.array([float(c[1]) for c in cells])
    np.testing.assert_allclose(got, table["v"], rtol=5e-6, atol=1e-300, equal_nan=True)


# ------------------------------------------------------------------------------------- free text is not a code


@FEW
@given(codes=st.lists(st.text(XML_TEXT, min_size=1, max_size=60).filter(str.strip), min_size=1, max_size=8),
       repeat=st.integers(2, 4))
def test_a_tier_whose_values_repeat_is_codes_never_free_text(codes, repeat):
    from dyadsync.io.events import free_text_schemes

    values = [c.strip() for c in codes] * repeat
    ev = pd.DataFrame({"onset_s": range(len(values)), "offset_s": range(len(values)), "code": values,
                       "scheme": "moments", "coder": "", "source": ""})
    assert free_text_schemes(ev) == {}


@FEW
@given(st.lists(st.text(XML_TEXT, min_size=1, max_size=12).map(str.strip).filter(bool), min_size=5, max_size=12,
                unique=True))
def test_many_different_values_are_free_text_left_out_unless_selected(values):
    from dyadsync.io.events import free_text_schemes, write_eaf

    ev = pd.DataFrame({"onset_s": [10.0 * i for i in range(len(values))], "offset_s": [10.0 * i + 5 for i in
                       range(len(values))], "code": values, "scheme": "words", "coder": "", "source": ""})
    assert free_text_schemes(ev) == {"words": (len(values), len(values))}
    codes = ev.assign(code="MoM", scheme="moments")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_eaf(pd.concat([ev, codes]), Path(tmp) / "t.eaf")
        with pytest.warns(DyadsyncWarning, match=r"'words' look like free text"):
            default = read_events(path)
        selected = read_events(path, tiers=["words", "moments"])
    assert set(default["scheme"]) == {"moments"} and len(default) == len(values)
    assert sorted(selected["code"]) == sorted([*values, *["MoM"] * len(values)])
