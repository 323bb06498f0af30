"""``dyadsync export``: a finished run's synchrony back in the coders' tools, ELAN and Praat.

:func:`export_run` reads a run folder (through :func:`~dyadsync.pipeline.layout.load_run`) and writes, into
``review/`` inside it (or ``--into`` a folder that does not exist yet):

* ``<stem>_dyadsync.eaf``: a copy of the coder's own ELAN file (the run's ``.eaf`` codes file, or ``--eaf``) with
  every tier, linguistic type, controlled vocabulary, property and media descriptor kept, and added tiers per
  synchrony feature: ``dyadsync <feature> peaks`` (each peak an annotation as long as its width at half
  prominence, centred on it), ``dyadsync <feature> episodes`` (the runs above the surrogate threshold) and
  ``dyadsync <feature> leader`` (who leads in each episode). Without an ELAN codes file (``--new-eaf``, or codes
  in CSV, TextGrid, BORIS) a new file holds the run's codes and these tiers. The video is linked by its file URL,
  its location relative to the file, and its MIME type.
* time-series tracks for ELAN's Timeseries Viewer: ``<stem>_sync_<feature>.csv`` (synchrony and the peak
  threshold) and ``<stem>_<feature>.csv`` (the feature of both persons), configured by
  ``<stem>_dyadsync_tsconf.xml``; the ``.eaf`` links them all (see :mod:`dyadsync.io.elan_tracks`).
* ``<stem>_dyadsync.TextGrid``: the codes, episodes and who leads as interval tiers, peaks as point tiers.
* ``export.json``: the run it came from, the files with their SHA-256, the warnings.

An export never replaces the coder's file. Exporting again into ``review/`` replaces the files of the earlier
export only when nobody changed them since (their SHA-256 is in ``export.json``); a file edited in ELAN stops the
export with a message. :func:`export_batch` does the same for every finished session of a batch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ConfigError, DyadsyncError, DyadsyncWarning, InputError
from ..io.elan_tracks import Track, write_track_csv, write_tsconf
from ..io.events import EXPORT_TIER_PREFIX, empty_events, write_eaf, write_textgrid
from ..io.events.eaf import file_url
from ..io.store import write_json
from ..moments.peaks import episode_leaders
from .analysis import session_peaks
from .cache import file_sha256
from .config import PipelineConfig, config_from_dict
from .layout import (
    BATCH_FILES,
    EXPORT_DIR,
    EXPORT_RECORD,
    RUN_FILES,
    RunData,
    export_names,
    load_run,
    read_json,
    resolve_recorded,
)

#: The coder named on the tiers an export adds (their ``ANNOTATOR``).
EXPORT_ANNOTATOR = "dyadsync"
#: Annotation values of the added tiers (who leads: ``"<A> leads"``, ``"<B> leads"``, ``"in step"``, ``"lag
#: unclear"``, see :func:`dyadsync.moments.peaks.episode_leaders`).
PEAK_VALUE, EPISODE_VALUE = "peak", "episode"
#: Colours of the tracks in ELAN (RGB).
COLORS = {"sync": (0, 90, 200), "threshold": (200, 0, 0), "a": (0, 150, 60), "b": (230, 120, 0)}


def sync_tier(feature: str, what: str) -> str:
    """Name of an added tier: ``dyadsync <feature> peaks`` / ``episodes`` / ``leader``."""
    return f"{EXPORT_TIER_PREFIX}{feature} {what}"


@dataclass
class ExportResult:
    """What :func:`export_run` wrote: the folder, each file by kind, and the record written to ``export.json``."""

    out_dir: Path
    files: dict[str, Path]
    record: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def eaf(self) -> Path:
        return self.files["eaf"]

    @property
    def textgrid(self) -> Path:
        return self.files["textgrid"]


def export_run(
    run_dir: str | Path,
    *,
    into: str | Path | None = None,
    eaf: str | Path | None = None,
    new_eaf: bool = False,
    video: str | Path | None = None,
) -> ExportResult:
    """Export a finished run for review in ELAN and Praat (see the module docstring for the files).

    Parameters
    ----------
    run_dir : str or Path
        A folder written by ``dyadsync run`` (or a session folder of a batch).
    into : str, Path or None
        Folder to write into; it must not exist yet. None: ``review/`` inside the run folder.
    eaf : str, Path or None
        The coder's ELAN file to copy (default: the run's first ``.eaf`` codes file).
    new_eaf : bool, default False
        Write a new ELAN file (the run's codes and the synchrony tiers) instead of a copy.
    video : str, Path or None
        The session video, when it is no longer where the run found it.

    Returns
    -------
    ExportResult

    Raises
    ------
    InputError
        For a missing or unfinished run folder, an ``--into`` folder that exists, files of an earlier export
        changed since, or an ELAN file that cannot be found or read.
    """
    if eaf is not None and new_eaf:
        raise ConfigError("give either --eaf FILE (the ELAN file to copy) or --new-eaf, not both")
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    record = run.record
    config = config_from_dict({k: v for k, v in record.get("pipeline", {}).items() if k != "source"})
    caught: list[str] = []
    seen: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", DyadsyncWarning)
            result = _export(run, config, into, eaf, new_eaf, video)
    finally:
        # whatever happened, the warnings reach the caller (outside the recording context: no loop)
        for w in seen:
            if issubclass(w.category, DyadsyncWarning):
                caught.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result.warnings = caught
    result.record["warnings"] = caught
    write_json(result.record, result.out_dir / EXPORT_RECORD)
    return result


def _export(run: RunData, config: PipelineConfig, into: str | Path | None, eaf: str | Path | None, new_eaf: bool,
            video: str | Path | None) -> ExportResult:
    record, run_dir = run.record, run.run_dir
    inputs = record.get("inputs", {})
    persons = list(config.persons.names)
    duration = inputs.get("video", {}).get("duration_s")
    video_path = _video(Path(video) if video else None, inputs.get("video", {}).get("path"), run_dir)
    template = _template(eaf, new_eaf, inputs.get("codes", []), run_dir)
    stem = template.stem if template is not None else (video_path.stem if video_path else run_dir.name)
    peaks, episodes, peaks_from = _peaks(run, config)
    features = [str(f) for f in pd.unique(run.synchrony["feature"].astype(str))]
    names = export_names(stem, features)
    out, previous = _out_dir(run_dir, into)

    # --- the synchrony tiers, per feature
    sync_events, tier_counts = _sync_events(run.synchrony, peaks, episodes, persons, duration)
    codes = run.events if run.events is not None else empty_events()
    if template is not None:
        # the coder's own tiers are in the copy already; codes from the run's other files (other coders) are added
        codes = _by_coder(codes[~codes["source"].astype(str).str.startswith(f"{template.name} ")], always=True)
    else:
        codes = _by_coder(codes)

    # --- time-series tracks
    tracks = _tracks(run, config, features, peaks, episodes)
    files: dict[str, Path] = {}
    sources = []
    for kind, feature, table, feature_tracks in tracks:
        path = out / names[kind][feature]
        write_track_csv(table, path)
        files[f"{kind}:{feature}"] = path
        sources.append((file_url(path), table, feature_tracks))
    tsconf = out / names["tsconf"]
    write_tsconf(sources, tsconf)
    files["tsconf"] = tsconf
    linked = [tsconf, *(files[k] for k in files if ":" in k)]

    # --- ELAN and Praat
    eaf_path = out / names["eaf"]
    tiers = sync_events.drop(columns="peak_time_s")
    write_eaf(pd.concat([codes, tiers], ignore_index=True) if len(codes) else tiers, eaf_path,
              template=template, media_file=video_path.absolute() if video_path else None,
              linked_files=[p.absolute() for p in linked])
    files["eaf"] = eaf_path
    textgrid = out / names["textgrid"]
    points = sync_events.copy()  # in Praat, a peak is a point at its time
    is_peak = points["peak_time_s"].notna()
    points.loc[is_peak, "onset_s"] = points.loc[is_peak, "peak_time_s"]
    points.loc[is_peak, "offset_s"] = points.loc[is_peak, "peak_time_s"]
    points = points.drop(columns="peak_time_s")
    all_codes = _by_coder(run.events) if run.events is not None else empty_events()
    write_textgrid(pd.concat([all_codes, points], ignore_index=True) if len(all_codes) else points, textgrid,
                   duration_s=duration)
    files["textgrid"] = textgrid
    _remove_stale(out, previous, files)
    export_record = {
        "dyadsync_version": __version__,
        "command": "export",
        "run_dir": str(run_dir.absolute()),
        "run_key": record.get("key"),
        "template": str(template) if template is not None else None,
        "video": str(video_path) if video_path else None,
        "persons": persons,
        "features": features,
        "peaks_from": peaks_from,
        "tiers": tier_counts,
        "files": {p.name: file_sha256(p) for p in files.values()},
    }
    return ExportResult(out, files, export_record)


def _sync_events(
    synchrony: pd.DataFrame, peaks: pd.DataFrame, episodes: pd.DataFrame, persons: Sequence[str],
    duration: float | None,
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """The added tiers as one Events table, with the peak time of peak annotations in ``peak_time_s``."""
    end = float(duration) if duration is not None else math.inf
    rows, counts = [], {}
    for feature in pd.unique(synchrony["feature"].astype(str)):
        p = peaks[peaks["feature"].astype(str) == feature].sort_values("time_s", kind="stable")
        e = episodes[episodes["feature"].astype(str) == feature].sort_values("onset_s", kind="stable")
        s = synchrony[synchrony["feature"].astype(str) == feature].sort_values("time_s")
        step = float(np.median(np.diff(s["time_s"].to_numpy(float)))) if len(s) > 1 else 0.0
        for t, w in zip(p["time_s"].to_numpy(float), p["width_s"].to_numpy(float)):
            half = (w if np.isfinite(w) and w > 0 else step) / 2
            rows.append((max(0.0, t - half), min(end, t + half), PEAK_VALUE, sync_tier(feature, "peaks"), t))
        for on, off in zip(e["onset_s"].to_numpy(float), e["offset_s"].to_numpy(float)):
            rows.append((max(0.0, on), min(end, off), EPISODE_VALUE, sync_tier(feature, "episodes"), np.nan))
        leaders = episode_leaders(s["time_s"].to_numpy(float), s["best_lag_s"].to_numpy(float), e, persons)
        for on, off, label in zip(leaders["onset_s"], leaders["offset_s"], leaders["label"]):
            rows.append((max(0.0, on), min(end, off), label, sync_tier(feature, "leader"), np.nan))
        counts[feature] = {"peaks": int(len(p)), "episodes": int(len(e))}
    events = pd.DataFrame.from_records(rows, columns=["onset_s", "offset_s", "code", "scheme", "peak_time_s"])
    events["coder"] = EXPORT_ANNOTATOR
    events["source"] = "dyadsync export"
    return events[["onset_s", "offset_s", "code", "scheme", "coder", "source", "peak_time_s"]], counts


def _by_coder(events: pd.DataFrame, *, always: bool = False) -> pd.DataFrame:
    """Events whose scheme (or code) is shared by several coders, with the coder in the scheme: ``<scheme>
    (<coder>)`` (``always``: every event with a coder), so that each coder's events make their own tier."""
    ev = events.copy()
    scheme = ev["scheme"].astype(str).where(ev["scheme"].astype(str) != "", ev["code"].astype(str))
    coder = ev["coder"].fillna("").astype(str)
    shared = coder.groupby(scheme).transform("nunique") > 1
    rename = (coder != "") & (shared | always)
    ev.loc[rename, "scheme"] = scheme[rename] + " (" + coder[rename] + ")"
    return ev


def _peaks(run: RunData, config: PipelineConfig) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The run's peaks and episodes, or computed now (as the moments analyses would) when it has none."""
    peaks, episodes = run.table("sync_peaks"), run.table("sync_episodes")
    ran = bool({"peaks", "matching", "coincidence"} & set(config.moments.analyses))
    if peaks is not None and episodes is not None and (ran or len(peaks) or len(episodes)):
        return peaks, episodes, "run"
    if run.features is None:
        warnings.warn(f"{run.run_dir}: no {RUN_FILES['sync_peaks']} and no {RUN_FILES['features']} to compute "
                      "them from: the export has no peak, episode or leader tiers", DyadsyncWarning, stacklevel=3)
        empty = pd.DataFrame({"feature": [], "time_s": [], "width_s": []})
        return empty, pd.DataFrame({"feature": [], "onset_s": [], "offset_s": []}), "none"
    peaks, episodes = session_peaks(run.synchrony, run.features, config)
    return peaks, episodes, "computed by the export (the run analysed no codes)"


def _tracks(run: RunData, config: PipelineConfig, features: list[str], peaks: pd.DataFrame,
            episodes: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame, list[Track]]]:
    """(kind, feature, table, tracks) per CSV: each feature's synchrony with its threshold, and the feature's
    series for both persons."""
    a, b = config.persons.names
    out = []
    thresholds = run.record.get("moments", {}) or {}
    for feature in features:
        s = run.synchrony[run.synchrony["feature"].astype(str) == feature].sort_values("time_s")
        table = pd.DataFrame({"time_s": s["time_s"].to_numpy(float), "sync": s["sync"].to_numpy(float)})
        threshold = _threshold(feature, peaks, episodes, thresholds)
        tracks = [Track(f"{feature} synchrony", "sync", f"synchrony of {feature} between {a} and {b} (window "
                        "centres)", "", COLORS["sync"])]
        if np.isfinite(threshold):
            table["threshold"] = threshold
            values = np.append(table["sync"].to_numpy(float), threshold)
            finite = values[np.isfinite(values)]
            lo, hi = float(finite.min()), float(finite.max())
            pad = 0.05 * (hi - lo) if hi > lo else 1.0
            span = (round(lo - pad, 6), round(hi + pad, 6))
            tracks[0].value_range = span
            tracks.append(Track(f"{feature} threshold", "threshold", "peak threshold (surrogate quantile)", "",
                                COLORS["threshold"], span))
        out.append(("sync_csv", feature, table, tracks))
    if run.features is not None:
        present = set(run.features["feature"].astype(str).unique())
        for feature in features:
            if feature not in present:
                continue
            f = run.features[run.features["feature"].astype(str) == feature]
            wide = f.pivot_table(index="time_s", columns=f["person"].astype(str), values="value", aggfunc="first",
                                 dropna=False)
            if a not in wide.columns or b not in wide.columns:
                continue
            table = pd.DataFrame({"time_s": wide.index.to_numpy(float), a: wide[a].to_numpy(float),
                                  b: wide[b].to_numpy(float)})
            out.append(("feature_csv", feature, table, [
                Track(f"{feature} {a}", a, f"{feature} of {a}", "", COLORS["a"]),
                Track(f"{feature} {b}", b, f"{feature} of {b}", "", COLORS["b"]),
            ]))
    return out


def _threshold(feature: str, peaks: pd.DataFrame, episodes: pd.DataFrame, moments: dict[str, Any]) -> float:
    for table in (peaks, episodes):
        if "threshold" in table and len(table):
            values = table.loc[table["feature"].astype(str) == feature, "threshold"]
            if len(values):
                return float(values.iloc[0])
    found = (moments.get("peaks") or {}).get(feature, {})
    return float(found.get("threshold", float("nan"))) if isinstance(found, dict) else float("nan")


def _video(given: Path | None, recorded: str | None, run_dir: Path) -> Path | None:
    """The session video: as given, or where the run found it (the record's path, relative to the run folder); a
    video that is not found is still linked, with a warning."""
    if given is not None:
        if not given.is_file():
            raise InputError(given, "video not found")
        return given
    if not recorded:
        return None
    path = resolve_recorded(recorded, run_dir)
    if path.is_file():
        return path
    warnings.warn(f"{path}: the run's video is not found; the ELAN file links it by this path (ELAN "
                  "then looks beside the file and asks). Give --video FILE to link it where it is now",
                  DyadsyncWarning, stacklevel=3)
    return path


def _template(eaf: str | Path | None, new_eaf: bool, codes: list[dict[str, Any]], run_dir: Path) -> Path | None:
    """The ELAN file to copy: the one given, else the run's first ``.eaf`` codes file; None for a new file."""
    if new_eaf:
        return None
    if eaf is not None:
        path = Path(eaf)
        if not path.is_file():
            raise InputError(path, "ELAN file not found")
        return path
    for entry in codes:
        path = Path(entry.get("path", ""))
        if path.suffix.lower() != ".eaf":
            continue
        found = resolve_recorded(str(path), run_dir)
        if not found.is_file():
            raise InputError(found, "the run's ELAN codes file is not found from here (moved?): give it with --eaf "
                             "FILE, or --new-eaf for a new ELAN file linked to the video")
        if entry.get("sha256") and file_sha256(found) != entry["sha256"]:
            warnings.warn(f"{found}: changed since the run; the copy shows its codes as they are now, which may "
                          "differ from those analysed", DyadsyncWarning, stacklevel=3)
        return found
    return None


def _out_dir(run_dir: Path, into: str | Path | None) -> tuple[Path, dict[str, Any]]:
    """The export folder and the record of an earlier export into it ({} for a new folder)."""
    if into is not None:
        into = Path(into)
        if into.exists():
            raise InputError(into, "already exists: --into takes a folder that does not exist yet (an export never "
                             "replaces files)")
        into.mkdir(parents=True)
        return into, {}
    out = run_dir / EXPORT_DIR
    if not out.exists():
        out.mkdir()
        return out, {}
    previous = read_json(out / EXPORT_RECORD)
    written = previous.get("files", {}) if isinstance(previous.get("files"), dict) else {}
    if not previous and any(out.iterdir()):
        raise InputError(out, "exists and holds files that dyadsync export did not write: move them, or export "
                         "--into a new folder")
    for name, sha in written.items():
        path = out / name
        if path.is_file() and file_sha256(path) != sha:
            raise InputError(path, "changed since dyadsync exported it (edited in ELAN or Praat?), so it is not "
                             "replaced: move it away (or save your work under another name), or export --into a "
                             "new folder")
    for path in out.iterdir():
        if path.is_file() and path.name not in written and path.name != EXPORT_RECORD:
            raise InputError(path, "was not written by dyadsync export, so the export does not replace it: move "
                             "it, or export --into a new folder")
    return out, previous


def _remove_stale(out: Path, previous: dict[str, Any], files: dict[str, Path]) -> None:
    """Files of the earlier export that this one did not write again (e.g. a feature no longer analysed)."""
    now = {p.name for p in files.values()}
    for name in (previous.get("files") or {}):
        if name not in now:
            (out / name).unlink(missing_ok=True)


def export_batch(batch_dir: str | Path, *, into: str | Path | None = None) -> tuple[list[ExportResult], list[str]]:
    """Export every finished session of a batch folder (into each session's ``review/``, or ``into/<session>/``).

    Returns
    -------
    (results, failures)
        One result per exported session; one message per session that could not be exported (the others are).

    Raises
    ------
    InputError
        When the folder holds no finished session, or ``into`` exists.
    ConfigError
        When no session could be exported.
    """
    batch_dir = Path(batch_dir)
    sessions = batch_dir / BATCH_FILES["sessions_dir"]
    if not sessions.is_dir():
        raise InputError(batch_dir, f"no {BATCH_FILES['sessions_dir']}/ folder: not a folder written by `dyadsync "
                         "batch`")
    done = sorted(d for d in sessions.iterdir() if (d / RUN_FILES["run"]).is_file())
    if not done:
        raise InputError(batch_dir, "no finished session to export")
    if into is not None:
        into = Path(into)
        if into.exists():
            raise InputError(into, "already exists: --into takes a folder that does not exist yet")
        into.mkdir(parents=True)
    results, failures = [], []
    for folder in done:
        try:
            results.append(export_run(folder, into=None if into is None else into / folder.name))
        except DyadsyncError as exc:
            failures.append(f"{folder.name}: {exc}")
            warnings.warn(f"{folder.name}: {exc}; not exported", DyadsyncWarning, stacklevel=2)
    if not results:
        raise ConfigError("no session could be exported: " + "; ".join(failures))
    return results, failures


__all__ = ["ExportResult", "export_batch", "export_run", "sync_tier"]
