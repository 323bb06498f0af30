"""The moments analyses on finished runs (folders written by ``dyadsync run``), for one or many sessions.

``dyadsync moments RUN_DIR... --codes FILE... --out DIR`` calls :func:`analyse_runs`: every session's synchrony
(``synchrony.parquet``), features (``features.parquet``, for the surrogate peak threshold) and parameters
(``run.json``) are read back, its coded events are read (or taken from the run's ``events.parquet``), the
moments analyses run per session, and the across-dyad analyses combine them. A session that fails (a missing file,
codes that do not fit) is reported and skipped; the others still finish. Every output is written atomically.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from .._validate import suggest
from ..errors import ConfigError, DyadsyncError, DyadsyncWarning, InputError
from ..io.dial import read_dial
from ..io.events import empty_events, read_events
from ..io.store import write_csv, write_json, write_parquet
from ..io.textfile import show_cells
from ..moments.dial import dial_congruence, dial_segments, dial_synchrony
from ..moments.multilevel import across_dyads
from ..moments.session import MOMENT_TABLES, analyse_moments
from .analysis import surrogate_synchrony
from .config import PipelineConfig, config_from_dict, load_pipeline, with_selection
from .layout import DIAL_FILES, FIGURES_DIR, MOMENTS_FILES, RUN_FILES, load_run

log = logging.getLogger("dyadsync")

@dataclass
class MomentsBatch:
    """Result of :func:`analyse_runs`: per-session tables (concatenated, with ``session`` and ``dyad``), the
    across-dyad tables, one row per session, and the files written."""

    tables: dict[str, pd.DataFrame]
    across: dict[str, pd.DataFrame]
    sessions: pd.DataFrame
    written: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _config(record: dict[str, Any], pipeline: str | Path | None, tiers: Sequence[str] | None = None,
            only_codes: Sequence[str] | None = None) -> PipelineConfig:
    """The pipeline a run used (from its record), with the ``[moments]`` section of ``pipeline`` when given, and the
    tiers and codes selected on the command line."""
    data = {k: v for k, v in record["pipeline"].items() if k != "source"}
    config = config_from_dict(data)
    if pipeline is not None:
        config.moments = load_pipeline(pipeline).moments
    return with_selection(config, tiers=tiers, codes=only_codes)


def pair_codes(run_dirs: Sequence[Path], codes: Sequence[str | Path] | None) -> list[list[Path] | None]:
    """Which codes file(s) belong to which run: one per run in order, several for a single run (one per coder),
    or comma-separated lists per run; None: the run's own ``events.parquet``.

    Raises
    ------
    ConfigError
        When the numbers do not pair up.
    """
    if not codes:
        return [None] * len(run_dirs)
    groups = [[Path(p) for p in str(c).split(",") if p] for c in codes]
    if len(run_dirs) == 1:
        return [[p for g in groups for p in g]]
    if len(groups) != len(run_dirs):
        raise ConfigError(
            f"{len(run_dirs)} run folders but {len(codes)} --codes entries: give one codes file per run folder, in "
            "the same order (several coders' files of one session joined by commas), or none to use each run's "
            "events.parquet"
        )
    return groups


def analyse_runs(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    codes: Sequence[str | Path] | None = None,
    dial: Sequence[str | Path] | None = None,
    raters: Sequence[str] = ("client", "therapist"),
    dyads: Sequence[str] | None = None,
    pipeline: str | Path | None = None,
    csv: bool = False,
    report: bool = True,
    max_session_figures: int = 6,
    progress: Callable[[str], None] | None = None,
    tiers: Sequence[str] | None = None,
    only_codes: Sequence[str] | None = None,
) -> MomentsBatch:
    """Run the moments analyses on finished runs and combine them across dyads.

    Parameters
    ----------
    run_dirs : sequence of path
        Folders written by ``dyadsync run``.
    out_dir : path
        Output folder (created).
    codes : sequence of path or None
        Coded events per run (see :func:`pair_codes`); None uses each run's ``events.parquet``.
    dial : sequence of path or None
        Continuous dial ratings per run, in order (see :func:`dyadsync.io.dial.read_dial`): their congruence, their
        high/low segments (analysed like coded moments) and their relation to synchrony are added.
    raters : two str, default ("client", "therapist")
        The two raters of the dial files.
    dyads : sequence of str or None
        Dyad of each run (sessions of one dyad share a label); None: each run its own dyad, named after its folder.
    pipeline : path or None
        A pipeline TOML whose ``[moments]`` section replaces the runs' own moments parameters.
    csv : bool, default False
        Also write every table as CSV.
    report : bool, default True
        Write ``moments_report.html``.
    max_session_figures : int, default 6
        Draw each session's figures in the report only up to this many sessions (beyond, the report keeps the
        across-dyad figures and every table).
    progress : callable or None
        Called with a short message per session.
    tiers, only_codes : sequence of str or None
        Read only these ELAN/TextGrid tiers (for a run's own ``events.parquet``: keep only events of these
        schemes) and analyse only these codes; they replace ``[moments] tiers`` and ``codes``.

    Returns
    -------
    MomentsBatch

    Raises
    ------
    ConfigError
        For codes or dyads that do not pair with the run folders, or when every session failed.
    """
    run_dirs = [Path(r) for r in run_dirs]
    if not run_dirs:
        raise ConfigError("no run folder given")
    say = progress or (lambda msg: log.info(msg))
    code_files = pair_codes(run_dirs, codes)
    if dial is not None and len(dial) != len(run_dirs):
        raise ConfigError(f"{len(run_dirs)} run folders but {len(dial)} --dial files; give one per run folder")
    dial_files = [Path(d) for d in dial] if dial is not None else [None] * len(run_dirs)
    if dyads is not None and len(dyads) != len(run_dirs):
        raise ConfigError(f"{len(run_dirs)} run folders but {len(dyads)} dyad labels; give one per run folder")
    names = _unique([r.resolve().name for r in run_dirs])
    dyad_of = list(dyads) if dyads is not None else names
    out = Path(out_dir)
    per: dict[str, list[pd.DataFrame]] = {k: [] for k in [*MOMENT_TABLES, "events", *DIAL_FILES]}
    sessions, caught, params_used, window = [], [], None, None
    for run_dir, files, dial_file, name, dyad in zip(run_dirs, code_files, dial_files, names, dyad_of):
        say(f"moments: {name}")
        row = {"session": name, "dyad": dyad, "run_dir": str(run_dir),
               "codes": ", ".join(p.name for p in files) if files else "events.parquet of the run",
               "n_events": 0, "status": "ok"}
        try:
            with warnings.catch_warnings(record=True) as records:
                warnings.simplefilter("always", DyadsyncWarning)
                tables, events, config = _one_session(run_dir, files, pipeline, dial_file, raters, tiers, only_codes)
            for w in records:
                if issubclass(w.category, DyadsyncWarning):
                    caught.append(f"{name}: {w.message}")
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        except DyadsyncError as exc:
            row["status"] = f"failed: {exc}"
            caught.append(f"{name}: {exc}")
            warnings.warn(f"{name}: {exc}; session skipped", DyadsyncWarning, stacklevel=2)
            sessions.append(row)
            continue
        params_used = params_used or dataclasses.asdict(config.moments)
        window = window or config.synchrony.window_s
        row["n_events"] = int(len(events))
        sessions.append(row)
        for key, table in tables.items():
            per[key].append(table.assign(session=name, dyad=dyad))
        per["events"].append(events.assign(session=name, dyad=dyad))
    session_table = pd.DataFrame(sessions)
    if (session_table["status"] != "ok").all():
        raise ConfigError("every session failed: " + "; ".join(session_table["status"]))
    tables = {k: _concat(v) for k, v in per.items()}
    across = across_dyads(tables["moment_tests"], tables["moment_epochs"], tables["moments"])
    written = []
    for key, table in [("sessions", session_table), ("events", tables["events"]), *[(k, across[k]) for k in
                       ("combined", "forest", "grand_average", "mixed_model")]]:
        written.append(_save(table, out / MOMENTS_FILES[key], csv))
    for key in MOMENT_TABLES:
        written.append(_save(tables[key], out / RUN_FILES[key], csv))
    if dial is not None:
        for key, fname in DIAL_FILES.items():
            written.append(_save(tables[key], out / fname, csv))
    written += _write_figures(across, tables, out / FIGURES_DIR, max_session_figures)
    if report:
        from ..report import write_moments_report

        write_moments_report(session_table, tables, across, params_used or {}, out / MOMENTS_FILES["report"],
                             warnings_=caught, window_s=window, max_session_figures=max_session_figures)
        written.append(MOMENTS_FILES["report"])
    record = {
        "dyadsync_version": __version__,
        "command": "moments",
        "sessions": sessions,
        "moments": params_used,
        "pipeline_override": str(pipeline) if pipeline else None,
        "warnings": caught,
        "outputs": [*written, MOMENTS_FILES["record"]],
    }
    write_json(record, out / MOMENTS_FILES["record"])
    return MomentsBatch(tables=tables, across=across, sessions=session_table, written=record["outputs"],
                        warnings=caught)


def _one_session(
    run_dir: Path, files: list[Path] | None, pipeline: str | Path | None, dial_file: Path | None = None,
    raters: Sequence[str] = ("client", "therapist"), tiers: Sequence[str] | None = None,
    only_codes: Sequence[str] | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, PipelineConfig]:
    run = load_run(run_dir)
    config = _config(run.record, pipeline, tiers, only_codes)
    duration = run.record.get("inputs", {}).get("video", {}).get("duration_s")
    m = config.moments
    if files:
        events = read_events(files if len(files) > 1 else files[0], duration_s=duration, codes=m.codes or None,
                             tiers=m.tiers or None, on_outside=m.on_outside)
    elif run.events is not None:
        events = _select(run.events, run_dir, m.tiers, m.codes)
    elif dial_file is not None:
        events = empty_events()
    else:
        raise InputError(run_dir, "no events.parquet in the run and no --codes for it")
    dial_tables: dict[str, pd.DataFrame] = {}
    if dial_file is not None:
        dial_tables, segments = _dial(dial_file, run.synchrony, raters, config)
        events = pd.concat([events, segments], ignore_index=True) if len(events) else segments
    if events.empty:
        raise InputError(run_dir, "no coded events to analyse")
    surrogates = None
    m = config.moments
    if {"peaks", "matching", "coincidence"} & set(m.analyses):
        if run.features is None:
            warnings.warn(f"{run_dir}: no features.parquet, so no surrogate synchrony: peak analyses skipped",
                          DyadsyncWarning, stacklevel=2)
        else:
            surrogates, _ = surrogate_synchrony(run.features, config)
    window = {f: config.synchrony.window_s for f in config.synchrony.features}
    result = analyse_moments(run.synchrony, events, m, window_s=window, surrogate_sync=surrogates,
                             duration_s=duration)
    tables = dict(result.tables)
    if dial_tables:
        tables["moment_tests"] = pd.concat([tables["moment_tests"], dial_tables.pop("dial_tests")],
                                           ignore_index=True)
        tables.update(dial_tables)
    return tables, events, config


def _select(events: pd.DataFrame, run_dir: Path, tiers: Sequence[str], codes: Sequence[str]) -> pd.DataFrame:
    """A run's own events restricted to the selected schemes (tiers) and codes; an unknown one is an error."""
    for what, column, wanted in (("tier", "scheme", tiers), ("code", "code", codes)):
        if not wanted:
            continue
        present = sorted(events[column].astype(str).unique())
        unknown = [w for w in wanted if w not in present]
        if unknown:
            raise InputError(run_dir / RUN_FILES["events"], f"unknown {what}(s) {unknown}{suggest(unknown[0], present)}; "
                             f"{what}s in this run's events: {show_cells(present, limit=20) or 'none'}")
        events = events[events[column].astype(str).isin(list(wanted))]
    return events.reset_index(drop=True)


def _dial(
    path: Path, synchrony: pd.DataFrame, raters: Sequence[str], config: PipelineConfig
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Dial ratings of one session: congruence over time and overall, high/low segments (returned as events to
    analyse like coded moments) and their relation to each feature's synchrony."""
    dial = read_dial(path, raters=raters)
    over_time, summary = dial_congruence(dial, raters=raters)
    segments = dial_segments(dial, raters=raters)
    tests = []
    m = config.moments
    for k, (feature, sync) in enumerate(synchrony.groupby(synchrony["feature"].astype(str), sort=False)):
        rel = dial_synchrony(dial, sync["time_s"].to_numpy(float), sync["sync"].to_numpy(float), raters=raters,
                             n_shifts=m.n_shifts, seed=m.seed + 271 * (k + 1))
        tests.append(rel.assign(feature=feature, code="dial"))
    return {"dial_congruence": over_time, "dial_summary": pd.DataFrame([summary]),
            "dial_tests": pd.concat(tests, ignore_index=True)}, segments


def _write_figures(across: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame], folder: Path,
                   max_session_figures: int) -> list[str]:
    """Figures for papers, as SVG and PNG: the grand-average curve and the forest plot per feature and code, and
    each session's event-locked average (up to ``max_session_figures`` sessions)."""
    from ..report import figures

    written = []

    def save(fig: Any, name: str) -> None:
        for suffix in (".svg", ".png"):
            figures.save_figure(fig, folder / f"{name}{suffix}")
            written.append(f"{FIGURES_DIR}/{name}{suffix}")

    def safe(text: object) -> str:
        return "".join(c if c.isalnum() or c in "-_" else "_" for c in str(text))

    grand, forest = across.get("grand_average"), across.get("forest")
    if grand is not None and len(grand):
        for (feature, code), g in grand.groupby(["feature", "code"], sort=False):
            save(figures.event_locked_figure(g, f"{feature} around {code}: mean of {int(g['n_sessions'].max())} "
                                                f"session(s)"), f"grand_average_{safe(feature)}_{safe(code)}")
    if forest is not None and len(forest):
        for (feature, code), g in forest.groupby(["feature", "code"], sort=False):
            save(figures.forest_figure(g, f"{feature} around {code}: excess z during the events"),
                 f"forest_{safe(feature)}_{safe(code)}")
    curves, clusters = tables.get("moments"), tables.get("moment_clusters")
    if curves is not None and len(curves) and curves["session"].nunique() <= max_session_figures:
        for (session, feature, code), c in curves.groupby(["session", "feature", "code"], sort=False):
            cl = None
            if clusters is not None and len(clusters):
                cl = clusters[(clusters["session"] == session) & (clusters["feature"] == feature)
                              & (clusters["code"] == code)]
            save(figures.event_locked_figure(c, f"{session}: {feature} around {code}", cl),
                 f"event_locked_{safe(session)}_{safe(feature)}_{safe(code)}")
    return written


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"session": [], "dyad": []})


def _save(table: pd.DataFrame, path: Path, csv: bool) -> str:
    write_parquet(table, path)
    if csv:
        write_csv(table, path.with_suffix(".csv"))
    return path.name


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out
