"""ELAN ``.eaf`` files: tiers become schemes, the tier's annotator the coder; several coders as tiers or as files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..._validate import suggest
from ...errors import DyadsyncWarning, EventsError
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
    events, all_tiers = read_eaf_tiers(path)
    if tiers is None:
        return events
    wanted = list(tiers)
    unknown = [t for t in wanted if t not in all_tiers]
    if unknown:
        raise EventsError(
            path, f"unknown tier(s) {unknown}{suggest(unknown[0], all_tiers)}; tiers in this file: {show_cells(all_tiers, limit=20)}"
        )
    return events[events["scheme"].isin(wanted)].reset_index(drop=True)


def read_eaf_tiers(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Every annotation of an ELAN file as an (unvalidated) Events table, and the names of all its tiers (also the
    empty ones), in file order. See :func:`read_eaf`."""
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
    return (events_table(records) if records else empty_events()), all_tiers


def _parse(path: Path, *, keep_comments: bool = False) -> Any:
    """The root element of an ELAN file, parsed safely; every refusal a one-line EventsError naming the file.

    ``keep_comments`` keeps XML comments and processing instructions in the tree (for a copy of the file)."""
    import xml.etree.ElementTree as StdET

    from defusedxml import (
        DefusedXmlException,
        EntitiesForbidden,
        ExternalReferenceForbidden,
    )
    from defusedxml import ElementTree as ET

    raw = read_bytes(path, error=EventsError)
    refuse_binary(raw, path, error=EventsError, what="an ELAN .eaf file (XML text)")
    try:
        if not keep_comments:
            return ET.fromstring(raw)
        parser = ET.DefusedXMLParser(target=StdET.TreeBuilder(insert_comments=True, insert_pis=True))
        parser.feed(raw)
        return parser.close()
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


# ------------------------------------------------------------------------------------------------------ writing

#: MIME types ELAN gives media files (the constants of its ``MediaDescriptor``), by suffix; other videos get
#: ``video/*`` and other sounds ``audio/*``, as in ELAN.
MEDIA_MIME_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".qt": "video/quicktime",
                    ".mpg": "video/mpeg", ".mpeg": "video/mpeg", ".wav": "audio/x-wav"}
_AUDIO_SUFFIXES = (".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".wma")
#: MIME types of linked secondary files (ELAN's ``LinkedFileDescriptor``): time-series CSV and configuration XML.
LINKED_MIME_TYPES = {".xml": "text/xml", ".csv": "text/plain", ".txt": "text/plain", ".tsv": "text/plain"}

#: Linguistic type of the tiers dyadsync adds to a copy of an ELAN file (time-aligned, no vocabulary).
ADDED_TIER_TYPE = "dyadsync"


def file_url(path: str | Path) -> str:
    """A file's absolute location as ELAN writes it in ``MEDIA_URL`` and ``LINK_URL``: ``file:///`` and the absolute
    path with forward slashes (``file:///home/me/session 1.mp4``, ``file:///C:/data/s1.mp4``).

    ELAN does not percent-decode these URLs (it strips ``file:`` and opens the rest as a path), so the path is
    written as it is, not percent-encoded.
    """
    return "file:///" + Path(os.path.abspath(path)).as_posix().lstrip("/")


def relative_url(path: str | Path, base_dir: str | Path) -> str | None:
    """``path`` relative to the folder ``base_dir`` as ELAN writes ``RELATIVE_MEDIA_URL`` (``./name``,
    ``../videos/name``); None when there is no relative path (another drive)."""
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base_dir))
    except ValueError:
        return None
    rel = Path(rel).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def media_mime_type(path: str | Path) -> str:
    """The MIME type ELAN records for a media file, from its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix in MEDIA_MIME_TYPES:
        return MEDIA_MIME_TYPES[suffix]
    return "audio/*" if suffix in _AUDIO_SUFFIXES else "video/*"


def write_eaf(
    events: pd.DataFrame,
    path: str | Path,
    *,
    template: str | Path | None = None,
    media_file: str | Path | None = None,
    linked_files: Sequence[str | Path] = (),
    tier_type: str | None = None,
    author: str = "dyadsync",
    date: str = "2026-01-01T00:00:00+00:00",
) -> Path:
    """Write an Events table as ELAN tiers: a new ``.eaf`` file, or a copy of ``template`` with the tiers added.

    Every scheme (the code when the scheme is empty) becomes a tier whose annotations are its events (value: the
    code; the coder the tier's ``ANNOTATOR``); when one scheme has several coders each gets a tier
    ``<scheme>_<coder>``. An ELAN tier cannot hold overlapping annotations: events overlapping an earlier one go
    to ``<name> (2)``, ``<name> (3)``... Times are rounded to the nearest millisecond.

    With a ``template`` (the coder's own file) everything in it is kept as it was: tiers, annotations, linguistic
    types, controlled vocabularies, languages, locales, properties, media and linked-file descriptors, comments.
    The new tiers, time slots and annotations get identifiers the file does not use yet (and its
    ``lastUsedAnnotationId`` property follows), their linguistic type is :data:`ADDED_TIER_TYPE`, and a new tier
    whose name the file already uses is renamed ``<name> (2)`` with a warning. ``path`` must differ from
    ``template``.

    Parameters
    ----------
    events : DataFrame
        Events table (``onset_s``, ``offset_s``, ``code``, ``scheme``, ``coder``).
    path : str or Path
        The file to write (atomically).
    template : str, Path or None
        An ELAN file to copy the new tiers into; None writes a new document.
    media_file : str, Path or None
        The recording: a relative path is taken relative to the folder of ``path``. Recorded as ELAN does: its
        absolute file URL (:func:`file_url`), its location relative to the new file and its MIME type. With a
        template that has media descriptors already, theirs are kept and this is not added.
    linked_files : sequence of path
        Secondary files to link (``LINKED_FILE_DESCRIPTOR``: time-series CSV files and their ``_tsconf.xml``),
        relative paths taken relative to the folder of ``path``.
    tier_type : str or None
        Linguistic type of the new tiers (default: ``default-lt`` in a new document, :data:`ADDED_TIER_TYPE` in a
        copy).
    author, date : str
        Header attributes of a new document (a template keeps its own); fixed defaults keep the output
        reproducible.

    Returns
    -------
    Path

    Raises
    ------
    EventsError
        When the template cannot be read (see :func:`read_eaf`), or ``path`` is the template itself.
    """
    import xml.etree.ElementTree as ET

    path = Path(path)
    base = path.parent
    if template is not None:
        template = Path(template)
        if path.exists() and template.exists() and os.path.samefile(path, template):
            raise EventsError(path, "is the template itself: a copy with added tiers never replaces the coder's file")
        root = _parse(template, keep_comments=True)
        if root.tag != "ANNOTATION_DOCUMENT":
            raise EventsError(template, f"not an ELAN file: root element is <{root.tag}>, not <ANNOTATION_DOCUMENT>")
        read_eaf_tiers(template)  # the same checks as reading it (time units, slots, references)
        unit = _indent_unit(root)
        tier_type = tier_type or ADDED_TIER_TYPE
    else:
        root = ET.Element("ANNOTATION_DOCUMENT", {
            "AUTHOR": author, "DATE": date, "FORMAT": "3.0", "VERSION": "3.0",
            "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation":
                "http://www.mpi.nl/tools/elan/EAFv3.0.xsd"})
        ET.SubElement(root, "HEADER", {"MEDIA_FILE": "", "TIME_UNITS": "milliseconds"})
        ET.SubElement(root, "TIME_ORDER")
        unit = ""  # indented as a whole below
        tier_type = tier_type or "default-lt"
    doc = _Document(root, unit, template)
    header = doc.child("HEADER", after=("LICENSE",))
    if template is not None:
        _relink(header, template, base, media_file)
    if media_file is not None and header.find("MEDIA_DESCRIPTOR") is None:
        media = base / media_file
        attrs = {"MEDIA_URL": file_url(media), "MIME_TYPE": media_mime_type(media)}
        rel = relative_url(media, base)
        if rel:
            attrs["RELATIVE_MEDIA_URL"] = rel
        doc.insert(header, ET.Element("MEDIA_DESCRIPTOR", attrs), after=("MEDIA_DESCRIPTOR",))
    linked = {d.get("LINK_URL") for d in header.iter("LINKED_FILE_DESCRIPTOR")}
    for f in linked_files:
        target = base / f
        url = file_url(target)
        if url in linked:
            continue
        if url.endswith("_tsconf.xml") and any(str(u).endswith("_tsconf.xml") for u in linked):
            warnings.warn(f"{template}: already links a time-series configuration; ELAN reads only the first, so "
                          f"{Path(f).name} is linked but its tracks may not show", DyadsyncWarning, stacklevel=2)
        attrs = {"LINK_URL": url, "MIME_TYPE": LINKED_MIME_TYPES.get(target.suffix.lower(), "unknown")}
        rel = relative_url(target, base)
        if rel:
            attrs["RELATIVE_LINK_URL"] = rel
        doc.insert(header, ET.Element("LINKED_FILE_DESCRIPTOR", attrs), after=("MEDIA_DESCRIPTOR",
                                                                                "LINKED_FILE_DESCRIPTOR"))
    time_order = doc.child("TIME_ORDER", after=("LICENSE", "HEADER"))
    _ensure_type(doc, tier_type)
    tiers = _tier_groups(events)
    existing = {t.get("TIER_ID", "") for t in root.iter("TIER")}
    slot_ids = doc.ids("TIME_SLOT", "TIME_SLOT_ID", "ts")
    ann_ids = doc.ids(("ALIGNABLE_ANNOTATION", "REF_ANNOTATION"), "ANNOTATION_ID", "a", doc.last_used_annotation())
    for name, coder, rows in tiers:
        tier_id = name
        k = 2
        while tier_id in existing:
            tier_id = f"{name} ({k})"
            k += 1
        if tier_id != name:
            warnings.warn(f"{template}: already has a tier {name!r}; the new one is {tier_id!r}", DyadsyncWarning,
                          stacklevel=2)
        existing.add(tier_id)
        attrs = {"ANNOTATOR": coder} if coder else {}
        attrs.update({"LINGUISTIC_TYPE_REF": tier_type, "TIER_ID": tier_id})
        tier = ET.Element("TIER", attrs)
        for onset, offset, code in rows:
            t1, t2 = next(slot_ids), next(slot_ids)
            doc.insert(time_order, ET.Element("TIME_SLOT", {"TIME_SLOT_ID": t1, "TIME_VALUE": str(_ms(onset))}))
            doc.insert(time_order, ET.Element("TIME_SLOT", {"TIME_SLOT_ID": t2, "TIME_VALUE": str(_ms(offset))}))
            ann = ET.SubElement(ET.SubElement(tier, "ANNOTATION"), "ALIGNABLE_ANNOTATION",
                                {"ANNOTATION_ID": next(ann_ids), "TIME_SLOT_REF1": t1, "TIME_SLOT_REF2": t2})
            ET.SubElement(ann, "ANNOTATION_VALUE").text = str(code)
        doc.insert(root, tier, after=("LICENSE", "HEADER", "TIME_ORDER", "TIER"))
    doc.set_last_used_annotation(header, ann_ids.last)
    if template is None:
        ET.indent(root, space="    ")
    text = ET.tostring(root, encoding="unicode")
    with atomic_open(path) as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n' + (_prolog(template) if template else "") + text + "\n")
    return path


def _relink(header: Any, template: Path, base: Path, media_file: str | Path | None) -> None:
    """Point the copy's media and linked-file descriptors at the files the template links, from the copy's folder.

    A relative URL is relative to the file that holds it, so the template's would point elsewhere from the copy.
    Each descriptor's file is found as ELAN finds it (its URL, then its relative URL from the template's folder,
    then its name beside the template); when found, its ``MEDIA_URL``/``LINK_URL`` becomes that file's URL, its
    relative URL is taken from the copy's folder and a missing MIME type is added. A media file found nowhere
    whose name is the recording's (``media_file``) is pointed at the recording. Every other attribute stays.
    """
    here = template.parent
    for tag, url_key, rel_key in (("MEDIA_DESCRIPTOR", "MEDIA_URL", "RELATIVE_MEDIA_URL"),
                                  ("LINKED_FILE_DESCRIPTOR", "LINK_URL", "RELATIVE_LINK_URL")):
        for d in header.iter(tag):
            url, rel = d.get(url_key, ""), d.get(rel_key)
            target = _locate(url, rel, here)
            if target is None and tag == "MEDIA_DESCRIPTOR" and media_file is not None:
                recording = base / media_file
                name = url.replace("\\", "/").rsplit("/", 1)[-1]
                if name and name == recording.name and recording.is_file():
                    target = recording
            if target is None:
                warnings.warn(f"{template}: {url or rel!r} (linked by the file) is not found from here; the copy links "
                              "it as the file does", DyadsyncWarning, stacklevel=3)
                if rel and rel.startswith(("./", "../")):  # still relative to where the template is
                    moved = relative_url(here / rel, base)
                    if moved:
                        d.set(rel_key, moved)
                continue
            d.set(url_key, file_url(target))
            moved = relative_url(target, base)
            if moved:
                d.set(rel_key, moved)
            if not d.get("MIME_TYPE"):
                d.set("MIME_TYPE", media_mime_type(target) if tag == "MEDIA_DESCRIPTOR"
                      else LINKED_MIME_TYPES.get(target.suffix.lower(), "unknown"))


def _locate(url: str, rel: str | None, here: Path) -> Path | None:
    """The file an ELAN URL names, looked for as ELAN does: the URL's path, the relative URL from ``here`` (the
    folder of the file holding it), the bare name in ``here``."""
    path = url[5:] if url.startswith("file:") else url
    path = path.replace("\\", "/")
    if path.startswith("///"):
        path = path[2:]
    if len(path) > 2 and path[0] == "/" and path[2] == ":":  # /C:/... (a Windows path in a file URL)
        path = path[1:]
    candidates = []
    if path:
        candidates.append(Path(path) if Path(path).is_absolute() else here / path)
    if rel:
        candidates.append(here / (rel[5:] if rel.startswith("file:") else rel))
    if path:
        candidates.append(here / path.rsplit("/", 1)[-1])
    return next((c for c in candidates if c.is_file()), None)


def _prolog(template: Path) -> str:
    """The comments between a file's XML declaration and its root element (the parsed tree holds no prolog)."""
    import re

    try:
        head = template.read_bytes()[:65536].decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
    at = head.find("<ANNOTATION_DOCUMENT")
    if at < 0:
        return ""
    prolog = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", head[:at])
    return prolog if re.fullmatch(r"(\s*<!--.*?-->\s*)*", prolog, re.S) else ""


def _ms(seconds: float) -> int:
    return int(round(float(seconds) * 1000))


def _tier_groups(events: pd.DataFrame) -> list[tuple[str, str, list[tuple[float, float, str]]]]:
    """(tier name, coder, [(onset, offset, code)]) per tier: one per scheme (or code) and coder, overlapping events
    in extra lanes ``<name> (2)``..."""
    ev = events.sort_values(["onset_s", "offset_s"], kind="stable")
    names = ev["scheme"].where(ev["scheme"].astype(str).astype(bool), ev["code"]).astype(str)
    coders = ev["coder"].fillna("").astype(str) if "coder" in ev else pd.Series("", index=ev.index)
    out = []
    for name in dict.fromkeys(names):
        of_name = names == name
        who = list(dict.fromkeys(coders[of_name]))
        for coder in who:
            rows = ev[of_name & (coders == coder)]
            label = name if len(who) == 1 else f"{name}_{coder}" if coder else name
            lanes: list[list[tuple[float, float, str]]] = []
            for on, off, code in zip(rows["onset_s"], rows["offset_s"], rows["code"]):
                lane = next((lane for lane in lanes if _ms(lane[-1][1]) <= _ms(on)), None)
                if lane is None:
                    lanes.append([(float(on), float(off), str(code))])
                else:
                    lane.append((float(on), float(off), str(code)))
            for k, lane in enumerate(lanes):
                out.append((label if k == 0 else f"{label} ({k + 1})", coder, lane))
    return out


def _indent_unit(root: Any) -> str:
    """The indentation step of a parsed file ('' for one without line breaks between elements)."""
    text = root.text or ""
    if "\n" not in text:
        return ""
    return text.rsplit("\n", 1)[1] or ""


def _ensure_type(doc: _Document, type_id: str) -> None:
    """Add a time-alignable linguistic type ``type_id`` unless the file has one of that name."""
    import xml.etree.ElementTree as ET

    if any(lt.get("LINGUISTIC_TYPE_ID") == type_id for lt in doc.root.iter("LINGUISTIC_TYPE")):
        return
    doc.insert(doc.root, ET.Element("LINGUISTIC_TYPE", {"GRAPHIC_REFERENCES": "false", "LINGUISTIC_TYPE_ID": type_id,
                                                        "TIME_ALIGNABLE": "true"}),
               after=("LICENSE", "HEADER", "TIME_ORDER", "TIER", "LINGUISTIC_TYPE"))


class _Ids:
    """Identifiers ``<prefix><n>`` a document does not use yet, in increasing order."""

    def __init__(self, prefix: str, used: set[str], start: int) -> None:
        self.prefix, self.used, self.n, self.last = prefix, used, start, start

    def __iter__(self) -> _Ids:
        return self

    def __next__(self) -> str:
        while True:
            self.n += 1
            candidate = f"{self.prefix}{self.n}"
            if candidate not in self.used:
                self.used.add(candidate)
                self.last = self.n
                return candidate


class _Document:
    """An ELAN document being added to: inserting elements in schema order, keeping the file's indentation."""

    def __init__(self, root: Any, unit: str, template: Path | None) -> None:
        self.root, self.unit, self.template = root, unit, template
        self.depth = {id(root): 0}
        self._index(root, 0)

    def _index(self, elem: Any, depth: int) -> None:
        for child in elem:
            self.depth[id(child)] = depth + 1
            self._index(child, depth + 1)

    def child(self, tag: str, *, after: Sequence[str]) -> Any:
        """The root's child ``tag``, created (after the children ``after``) when the file has none."""
        import xml.etree.ElementTree as ET

        found = self.root.find(tag)
        if found is None:
            found = ET.Element(tag)
            self.insert(self.root, found, after=after)
        return found

    def insert(self, parent: Any, elem: Any, *, after: Sequence[str] = ()) -> None:
        """Insert ``elem`` into ``parent`` after its last child whose tag is in ``after`` (else first), with the
        indentation of the file."""
        import xml.etree.ElementTree as ET

        children = list(parent)
        at = 0 if after else len(children)
        for i, c in enumerate(children):
            if c.tag in after:
                at = i + 1
        depth = self.depth[id(parent)] + 1
        if self.unit:
            inner = "\n" + self.unit * depth
            outer = "\n" + self.unit * (depth - 1)
            if len(elem):
                ET.indent(elem, space=self.unit, level=depth)
            if not children:
                parent.text = inner
                elem.tail = outer
            elif at == 0:
                elem.tail = inner
                parent.text = inner
            else:
                prev = children[at - 1]
                elem.tail = prev.tail
                prev.tail = inner
        parent.insert(at, elem)
        self.depth[id(elem)] = depth
        self._index(elem, depth)

    def ids(self, tags: str | tuple[str, ...], attr: str, prefix: str, floor: int = 0) -> _Ids:
        tags = (tags,) if isinstance(tags, str) else tags
        used = {e.get(attr, "") for t in tags for e in self.root.iter(t)}
        numbers = [int(u[len(prefix):]) for u in used if u.startswith(prefix) and u[len(prefix):].isdigit()]
        return _Ids(prefix, used, max([floor, *numbers]))

    def last_used_annotation(self) -> int:
        for prop in self.root.iter("PROPERTY"):
            if prop.get("NAME") == "lastUsedAnnotationId" and (prop.text or "").strip().isdigit():
                return int(prop.text.strip())
        return 0

    def set_last_used_annotation(self, header: Any, last: int) -> None:
        """Raise the file's ``lastUsedAnnotationId`` property to ``last`` (ELAN numbers new annotations from it)."""
        import xml.etree.ElementTree as ET

        for prop in header.iter("PROPERTY"):
            if prop.get("NAME") == "lastUsedAnnotationId":
                if not (prop.text or "").strip().isdigit() or int(prop.text.strip()) < last:
                    prop.text = str(last)
                return
        prop = ET.Element("PROPERTY", {"NAME": "lastUsedAnnotationId"})
        prop.text = str(last)
        self.insert(header, prop, after=("MEDIA_DESCRIPTOR", "LINKED_FILE_DESCRIPTOR", "PROPERTY"))
