"""ELAN ``.eaf`` files: tiers become schemes, the tier's annotator the coder; several coders as tiers or as files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..._validate import suggest
from ...errors import EventsError
from ..store import atomic_open
from ..textfile import read_bytes, refuse_binary, show_cells
from .table import empty_events, events_table


def read_eaf(path: str | Path, tiers: Iterable[str] | None = None) -> pd.DataFrame:
    """Read an ELAN ``.eaf`` file into an (unvalidated) Events table; :func:`read_events` is the usual entry point.

    Each annotation is an event: its value the code (the tier name when empty), the tier the scheme, the tier's
    ``ANNOTATOR`` (or ``PARTICIPANT``) the coder. Reference annotations inherit the times of the time-aligned
    annotation they refer to. The XML is parsed with defusedxml: entity declarations and external references are
    refused.

    Parameters
    ----------
    path : str or Path
    tiers : iterable of str or None
        Read only these tiers (all when None); an unknown tier is an error.

    Returns
    -------
    DataFrame
        Events table in file order; ``source`` is ``"<file> annotation <id>"``.

    Raises
    ------
    EventsError
        For a file that is not readable ELAN XML, unsupported time units, an unknown tier, or an annotation
        without times.
    """
    path = Path(path)
    root = _parse(path)
    if root.tag != "ANNOTATION_DOCUMENT":
        raise EventsError(path, f"not an ELAN file: root element is <{root.tag}>, not <ANNOTATION_DOCUMENT>")
    header = root.find("HEADER")
    units = header.get("TIME_UNITS", "milliseconds") if header is not None else "milliseconds"
    if units != "milliseconds":
        raise EventsError(path, f"TIME_UNITS {units!r} is not supported (ELAN writes milliseconds)")
    slots: dict[str, float | None] = {}
    for ts in root.iter("TIME_SLOT"):
        sid, v = ts.get("TIME_SLOT_ID", ""), ts.get("TIME_VALUE")
        slots[sid] = None if v is None else _milliseconds(path, sid, v) / 1000.0
    all_tiers = [t.get("TIER_ID", "") for t in root.iter("TIER")]
    wanted = list(tiers) if tiers is not None else all_tiers
    unknown = [t for t in wanted if t not in all_tiers]
    if unknown:
        raise EventsError(
            path, f"unknown tier(s) {unknown}{suggest(unknown[0], all_tiers)}; tiers in this file: {show_cells(all_tiers, limit=20)}"
        )
    spans: dict[str, tuple[float, float]] = {}
    parents = {a.get("ANNOTATION_ID", ""): a.get("ANNOTATION_REF", "") for a in root.iter("REF_ANNOTATION")}
    records: list[tuple[Any, ...]] = []
    # First pass: time-aligned annotations (any tier), so that reference annotations can inherit their times.
    for tier in root.iter("TIER"):
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            aid = ann.get("ANNOTATION_ID", "")
            refs = (ann.get("TIME_SLOT_REF1", ""), ann.get("TIME_SLOT_REF2", ""))
            undefined = [r for r in refs if r not in slots]
            if undefined:
                raise EventsError(
                    path, f"annotation {aid} on tier {tier.get('TIER_ID')!r} refers to time slot {undefined[0]!r}, "
                    "which the file's TIME_ORDER does not define"
                )
            t1, t2 = slots[refs[0]], slots[refs[1]]
            if t1 is None or t2 is None:
                raise EventsError(path, f"annotation {aid} on tier {tier.get('TIER_ID')!r} is not time-aligned")
            spans[aid] = (t1, t2)
    for tier in root.iter("TIER"):
        tid = tier.get("TIER_ID", "")
        if tid not in wanted:
            continue
        coder = tier.get("ANNOTATOR") or tier.get("PARTICIPANT") or ""
        for ann in tier.iter():
            if ann.tag not in ("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"):
                continue
            aid = ann.get("ANNOTATION_ID", "")
            ref = aid if ann.tag == "ALIGNABLE_ANNOTATION" else ann.get("ANNOTATION_REF", "")
            seen = set()
            while ref and ref not in spans and ref not in seen:
                seen.add(ref)
                ref = parents.get(ref, "")
            if ref not in spans:
                raise EventsError(path, f"annotation {aid} on tier {tid!r} refers to no time-aligned annotation")
            value_el = ann.find("ANNOTATION_VALUE")
            value = (value_el.text or "").strip() if value_el is not None else ""
            onset, offset = spans[ref]
            records.append((onset, offset, value or tid, tid, coder, f"{path.name} annotation {aid}"))
    if not records:
        return empty_events()
    return events_table(records)


def _parse(path: Path) -> Any:
    """The root element of an ELAN file, parsed safely; every refusal a one-line EventsError naming the file."""
    from defusedxml import (
        DefusedXmlException,
        EntitiesForbidden,
        ExternalReferenceForbidden,
    )
    from defusedxml import ElementTree as ET

    raw = read_bytes(path, error=EventsError)
    refuse_binary(raw, path, error=EventsError, what="an ELAN .eaf file (XML text)")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as exc:
        raise EventsError(path, f"not a readable ELAN file (XML error: {exc})") from None
    except EntitiesForbidden as exc:
        if exc.sysid or exc.pubid:
            raise EventsError(
                path, f"refused: it declares an external entity {exc.name!r} (pointing to {_short(exc.sysid or exc.pubid)}) "
                "that would pull another file or a web address into it (an XML external-entity attack); ELAN files "
                "declare no entities. Nothing was read: export the annotations again from ELAN"
            ) from None
        raise EventsError(
            path, f"refused: it declares the XML entity {exc.name!r}; entities can expand a small file into gigabytes "
            "(an 'XML bomb') and ELAN files never declare them. Nothing was read: export the annotations again from "
            "ELAN"
        ) from None
    except ExternalReferenceForbidden as exc:
        raise EventsError(
            path, f"refused: it refers to an external resource ({_short(exc.sysid or exc.pubid)}) that would pull another "
            "file or a web address into it; ELAN files refer to none. Nothing was read: export the annotations again "
            "from ELAN"
        ) from None
    except DefusedXmlException as exc:  # DTDs, other constructs ELAN never writes
        raise EventsError(path, f"refused: XML construct an ELAN file never holds ({type(exc).__name__}: {exc})") from None


def _short(text: str | None, limit: int = 80) -> str:
    text = repr(text or "")
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _milliseconds(path: Path, slot: str, value: str) -> int:
    """A TIME_VALUE as whole milliseconds (what ELAN writes), or an EventsError that says what is wrong with it."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    where = f"time slot {slot!r} has TIME_VALUE {value!r}"
    try:
        number = float(text)
    except ValueError:
        raise EventsError(path, f"{where}, which is not a number of milliseconds") from None
    if number < 0:
        raise EventsError(path, f"{where}: negative; ELAN times are milliseconds from the start of the media")
    raise EventsError(
        path, f"{where}: ELAN times are whole milliseconds (61.5 s is written 61500), without a decimal point or "
        "exponent; the file was not saved by ELAN or was edited by hand. Round the value to whole milliseconds (or "
        "open and save the file in ELAN)"
    )


def write_eaf(
    events: pd.DataFrame,
    path: str | Path,
    *,
    media_file: str = "",
    author: str = "dyadsync",
    date: str = "2026-01-01T00:00:00+00:00",
) -> Path:
    """Write an Events table as an ELAN 3.0 ``.eaf`` file: one tier per scheme (or code when scheme is empty).

    Parameters
    ----------
    events : DataFrame
        Events table; ``code`` becomes the annotation value, ``coder`` the tier's annotator.
    path : str or Path
    media_file : str
        Media file name recorded in the header (relative, so that no absolute path leaks into the file).
    author, date : str
        Header attributes; fixed defaults keep the output reproducible.
    """
    from xml.sax.saxutils import escape, quoteattr

    ev = events.reset_index(drop=True)
    tier_of = ev["scheme"].where(ev["scheme"].astype(bool), ev["code"]).astype(str)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<ANNOTATION_DOCUMENT AUTHOR={quoteattr(author)} DATE={quoteattr(date)} FORMAT="3.0" VERSION="3.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">',
        '    <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds">',
    ]
    if media_file:
        lines.append(f'        <MEDIA_DESCRIPTOR MEDIA_URL={quoteattr(media_file)} RELATIVE_MEDIA_URL={quoteattr("./" + media_file)}/>')
    lines += ['    </HEADER>', '    <TIME_ORDER>']
    for i, row in ev.iterrows():
        lines.append(f'        <TIME_SLOT TIME_SLOT_ID="ts{2 * i + 1}" TIME_VALUE="{int(round(row.onset_s * 1000))}"/>')
        lines.append(f'        <TIME_SLOT TIME_SLOT_ID="ts{2 * i + 2}" TIME_VALUE="{int(round(row.offset_s * 1000))}"/>')
    lines.append('    </TIME_ORDER>')
    for tier in dict.fromkeys(tier_of):
        rows = ev[tier_of == tier]
        coder = next((c for c in rows["coder"] if c), "")
        attrs = f'LINGUISTIC_TYPE_REF="default-lt" TIER_ID={quoteattr(tier)}'
        if coder:
            attrs = f"ANNOTATOR={quoteattr(coder)} " + attrs
        lines.append(f"    <TIER {attrs}>")
        for i, row in rows.iterrows():
            lines += [
                "        <ANNOTATION>",
                f'            <ALIGNABLE_ANNOTATION ANNOTATION_ID="a{i + 1}" TIME_SLOT_REF1="ts{2 * i + 1}" '
                f'TIME_SLOT_REF2="ts{2 * i + 2}">',
                f"                <ANNOTATION_VALUE>{escape(str(row.code))}</ANNOTATION_VALUE>",
                "            </ALIGNABLE_ANNOTATION>",
                "        </ANNOTATION>",
            ]
        lines.append("    </TIER>")
    lines += [
        '    <LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>',
        "</ANNOTATION_DOCUMENT>",
        "",
    ]
    with atomic_open(path) as fh:
        fh.write("\n".join(lines))
    return Path(path)
