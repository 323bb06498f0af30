"""Batch manifests: which sessions to process, with their files, roles and pipeline.

Three ways to name the sessions of a batch:

* a **CSV** manifest, one row per session (columns below; ``;`` separates several codes files, tiers or codes);
* a **TOML** manifest, with a ``[defaults]`` table and one ``[[session]]`` table per session (needed for
  per-session ROIs);
* a **folder** and a glob (``videos/*.mp4``): one session per video, named after the file, with the codes file
  of the same name (``.csv`` or ``.eaf``) beside it when there is one.

Columns / keys: ``id`` (required, unique), ``video`` (required), ``dyad`` (default: the id), ``session_number``,
``group``, ``audio`` (a separate audio file), ``codes`` (one or more files: several are several coders),
``tiers`` (the ELAN/TextGrid tiers to read), ``only_codes`` (the codes to analyse), ``pipeline`` (a TOML file;
default the batch's), ``persons`` (two names, ``;``-separated in CSV), ``rois`` (TOML only), ``roi_units``. A row's
``tiers`` and ``only_codes`` replace the batch's (``--tier``, ``--code``), which replace the pipeline's
``[moments] tiers`` and ``codes``. Paths are relative to the manifest. Everything is validated before any work
starts and *all* problems are reported at once.
"""

from __future__ import annotations

import csv
import glob as globmod
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validate import suggest
from ..errors import DyadsyncError, ManifestError
from ..io.textfile import read_text
from .config import PipelineConfig, config_from_dict, load_pipeline, with_selection
from .layout import relative_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KEYS = ("id", "video", "dyad", "session_number", "group", "audio", "codes", "tiers", "only_codes", "pipeline",
        "persons", "rois", "roi_units")
#: Other spellings accepted for CSV headers.
ALIASES = {"session": "id", "session_id": "id", "file": "video", "path": "video", "code": "codes",
           "codes_file": "codes", "session_no": "session_number", "number": "session_number"}


@dataclass
class SessionSpec:
    """One session of a batch, with absolute paths and its own pipeline configuration.

    Attributes
    ----------
    id : str
        Unique session id; names its output folder.
    video : Path
    dyad : str
        Dyad (therapist-patient pair) the session belongs to; sessions of one dyad share it.
    session_number : int or None
    group : str
        Free grouping label (e.g. condition), '' when not given.
    audio : Path or None
        Separate audio file.
    codes : list of Path
        Coded-events files (their events are combined).
    config : PipelineConfig
        The session's pipeline, with its persons and ROIs applied.
    """

    id: str
    video: Path
    dyad: str
    session_number: int | None = None
    group: str = ""
    audio: Path | None = None
    codes: list[Path] = field(default_factory=list)
    config: PipelineConfig = field(default_factory=PipelineConfig)

    def as_dict(self, base: Path | None = None) -> dict[str, Any]:
        """Plain record (for tables and logs); with ``base``, file paths relative to it (the manifest's folder)."""

        def path(p: Path) -> str:
            return str(p) if base is None else relative_path(p, base)

        return {
            "session": self.id,
            "dyad": self.dyad,
            "session_number": self.session_number,
            "group": self.group,
            "video": path(self.video),
            "audio": path(self.audio) if self.audio else "",
            "codes": ";".join(path(c) for c in self.codes),
            "pipeline": path(self.config.source) if self.config.source else "built-in",
        }


@dataclass
class Manifest:
    """A validated list of sessions (``source``: the manifest file or folder)."""

    sessions: list[SessionSpec]
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.sessions)

    @property
    def folder(self) -> Path | None:
        """The folder the manifest's relative paths are relative to (its own folder, or the folder of videos)."""
        if self.source is None:
            return None
        return self.source if self.source.is_dir() else self.source.parent


def load_manifest(
    source: str | Path,
    *,
    pipeline: str | Path | PipelineConfig | None = None,
    glob: str = "*.mp4",
    tiers: list[str] | None = None,
    only_codes: list[str] | None = None,
) -> Manifest:
    """Read and validate a manifest (CSV, TOML, or a folder of videos).

    Parameters
    ----------
    source : str or Path
        A ``.csv`` or ``.toml`` manifest, or a folder (then ``glob`` picks the videos).
    pipeline : str, Path, PipelineConfig or None
        Default pipeline for sessions that do not name one (None: the built-in ``body_mea``).
    glob : str, default "*.mp4"
        Pattern of the video files when ``source`` is a folder (relative to it; ``**`` recurses).
    tiers, only_codes : list of str or None
        The ELAN/TextGrid tiers to read and the codes to analyse in every session (a row's own ``tiers`` and
        ``only_codes`` replace them); None keeps the pipelines' ``[moments] tiers`` and ``codes``.

    Returns
    -------
    Manifest

    Raises
    ------
    ManifestError
        Listing every problem found: unreadable manifest, unknown columns or keys, missing ids or videos,
        duplicate ids, files that do not exist, invalid pipelines.
    """
    source = Path(source)
    if source.is_dir():
        rows, base = _rows_from_folder(source, glob), source
    elif not source.exists():
        raise ManifestError(source, "manifest not found")
    elif source.suffix.lower() == ".toml":
        rows, base = _rows_from_toml(source), source.parent
    elif source.suffix.lower() in (".csv", ".tsv", ".txt"):
        rows, base = _rows_from_csv(source), source.parent
    else:
        raise ManifestError(source, f"unknown manifest format {source.suffix!r}: use .csv, .toml or a folder")

    default_config = pipeline if isinstance(pipeline, PipelineConfig) else None
    problems: list[str] = []
    if default_config is None:
        try:
            default_config = load_pipeline(pipeline)
        except DyadsyncError as exc:
            problems.append(f"default pipeline: {exc}")
            default_config = PipelineConfig()
    configs: dict[str, PipelineConfig] = {}
    sessions: list[SessionSpec] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        unknown = [k for k in row if k not in KEYS]
        for k in unknown:
            problems.append(f"{where}: unknown column {k!r}{suggest(k, KEYS)}; columns are {', '.join(KEYS)}")
        sid = str(row.get("id") or "").strip()
        if not sid:
            problems.append(f"{where}: no session id")
            continue
        if sid in seen:
            problems.append(f"{where}: duplicate session id {sid!r} (also {seen[sid]})")
            continue
        seen[sid] = where
        if any(c in sid for c in "/\\:") or sid in (".", ".."):
            problems.append(f"{where}: session id {sid!r} cannot name a folder (no '/', '\\' or ':')")
            continue
        video = _path(row.get("video"), base)
        if video is None:
            problems.append(f"{where}: session {sid!r} has no video")
        elif not video.is_file():
            problems.append(f"{where}: session {sid!r}: video {video} not found")
        audio = _path(row.get("audio"), base)
        if audio is not None and not audio.is_file():
            problems.append(f"{where}: session {sid!r}: audio {audio} not found")
        codes = [_path(c, base) for c in _list(row.get("codes"))]
        for c in codes:
            if c is not None and not c.is_file():
                problems.append(f"{where}: session {sid!r}: codes file {c} not found")
        config = default_config
        if row.get("pipeline"):
            p = _path(row["pipeline"], base)
            key = str(p)
            if key not in configs:
                try:
                    configs[key] = load_pipeline(p)
                except DyadsyncError as exc:
                    problems.append(f"{where}: session {sid!r}: {exc}")
                    configs[key] = default_config
            config = configs[key]
        try:
            config = _with_persons(config, row)
            if audio is not None:
                config = _with_audio(config, audio)
            row_tiers, row_codes = _list(row.get("tiers")) or None, _list(row.get("only_codes")) or None
            config = with_selection(config, tiers=row_tiers if row_tiers is not None else tiers,
                                    codes=row_codes if row_codes is not None else only_codes)
        except DyadsyncError as exc:
            problems.append(f"{where}: session {sid!r}: {exc}")
        number = row.get("session_number")
        if number not in (None, ""):
            try:
                number = int(number)
            except (TypeError, ValueError):
                problems.append(f"{where}: session {sid!r}: session_number {number!r} is not a whole number")
                number = None
        else:
            number = None
        sessions.append(
            SessionSpec(
                id=sid,
                video=video if video is not None else Path(),
                dyad=str(row.get("dyad") or sid),
                session_number=number,
                group=str(row.get("group") or ""),
                audio=audio,
                codes=[c for c in codes if c is not None],
                config=config,
            )
        )
    if not rows:
        problems.append("no sessions")
    if problems:
        # one line, every problem in it (numbered when there are several), so a batch stops before any work
        listed = problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + "; ".join(
            f"({k}) {p}" for k, p in enumerate(problems, 1))
        raise ManifestError(source, listed)
    return Manifest(sessions=sessions, source=source)


def _path(value: Any, base: Path) -> Path | None:
    if value is None or str(value).strip() == "":
        return None
    p = Path(str(value).strip()).expanduser()
    # Absolute, so that a worker in another working folder (a Dask cluster) finds the same file.
    return p if p.is_absolute() else (base.resolve() / p)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(";") if v.strip()]


def _with_persons(config: PipelineConfig, row: dict[str, Any]) -> PipelineConfig:
    """The session's config: the pipeline's, with the row's persons, ROIs and ROI units applied."""
    persons = _list(row.get("persons"))
    rois = row.get("rois")
    units = row.get("roi_units")
    if not (persons or rois or units):
        return config
    data = config.as_dict()
    if persons:
        data["persons"]["names"] = persons
    if rois:
        data["persons"]["rois"] = rois
    if units:
        data["persons"]["roi_units"] = units
    if persons and not rois and config.persons.rois:
        data["persons"]["rois"] = {}
    new = config_from_dict(data)
    new.source = config.source
    return new


def _with_audio(config: PipelineConfig, audio: Path) -> PipelineConfig:
    """The session's config with its separate audio file as the voice stage's input."""
    data = config.as_dict()
    data["voice"]["audio"] = str(audio)
    new = config_from_dict(data)
    new.source = config.source
    return new


def _rows_from_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    text = read_text(path, error=ManifestError, what="a manifest (CSV or TOML text)")
    lines = text.splitlines()
    if not lines:
        raise ManifestError(path, "manifest is empty")
    try:
        delimiter = csv.Sniffer().sniff(lines[0], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    rows = []
    for lineno, raw in enumerate(reader, start=2):
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        row = {}
        for k, v in raw.items():
            if k is None:
                raise ManifestError(path, f"line {lineno} has more cells than the header")
            key = k.strip().lower().replace(" ", "_")
            row[ALIASES.get(key, key)] = v.strip() if isinstance(v, str) else v
        rows.append((f"{path.name} line {lineno}", row))
    return rows


def _rows_from_toml(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = tomllib.loads(read_text(path, error=ManifestError, what="a manifest (CSV or TOML text)"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, f"not valid TOML ({exc})") from None
    unknown = [k for k in data if k not in ("defaults", "session")]
    if unknown:
        raise ManifestError(path, f"unknown table(s) {unknown}; a manifest has [defaults] and [[session]] tables")
    defaults = data.get("defaults", {})
    sessions = data.get("session", [])
    if not isinstance(sessions, list):
        raise ManifestError(path, "sessions must be [[session]] tables")
    rows = []
    for i, s in enumerate(sessions, start=1):
        rows.append((f"{path.name} [[session]] #{i}", {**defaults, **s}))
    return rows


def _rows_from_folder(folder: Path, pattern: str) -> list[tuple[str, dict[str, Any]]]:
    videos = sorted(Path(p) for p in globmod.glob(str(folder / pattern), recursive=True) if Path(p).is_file())
    rows = []
    for v in videos:
        row: dict[str, Any] = {"id": v.stem, "video": str(v)}
        for ext in (".csv", ".eaf", ".TextGrid", ".textgrid"):
            codes = v.with_suffix(ext)
            if codes.is_file():
                row["codes"] = str(codes)
                break
        rows.append((str(v.relative_to(folder)), row))
    if not rows:
        raise ManifestError(folder, f"no video matches {pattern!r} in this folder")
    return rows
