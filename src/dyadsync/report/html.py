"""Self-contained HTML reports: inline SVG figures and CSS, no scripts, no external resources, no video frames."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import __version__
from ..io.store import write_text
from . import figures
from .methods import session_methods

if TYPE_CHECKING:
    from ..pipeline.config import PipelineConfig
    from ..pipeline.session import SessionResult

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0; background: #fafafa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f3f3f3; }
td.l, th.l { text-align: left; }
figure { margin: 12px 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #555; }
.warn { background: #fff6e0; border-left: 4px solid #f2b134; padding: 6px 10px; margin: 4px 0; font-size: 13px; }
.yes { color: #1b7f3b; font-weight: 600; } .no { color: #888; }
details pre { font-size: 11px; background: #f6f6f6; padding: 8px; overflow-x: auto; }
"""


def _table(df: pd.DataFrame, left: tuple[str, ...] = (), raw: dict[str, list[str]] | None = None) -> str:
    """An HTML table; ``raw`` gives ready-made (escaped) HTML for some columns, one entry per row."""
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in df.columns)
    rows = []
    for i, (_, row) in enumerate(df.iterrows()):
        cells = []
        for c in df.columns:
            v = row[c]
            if raw and c in raw:
                text = raw[c][i]
            elif isinstance(v, float) and np.isnan(v):
                text = ""
            elif isinstance(v, float):
                text = f"{v:.3g}" if abs(v) < 1e-3 and v != 0 else f"{v:.3f}"
            else:
                text = html.escape(str(v))
            cells.append(f'<td class="{"l" if c in left else ""}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(fig: Any, caption: str, fig_id: str) -> str:
    return (
        f'<figure id="{fig_id}" class="figure">{figures.to_svg(fig)}'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )


def _detection_qc(result: "SessionResult", rec: dict[str, Any], persons: list[str]) -> list[str]:
    """QC panel of the MediaPipe stages: detection rate per person and the time ranges without detection."""
    rows = []
    for stage in ("pose", "face"):
        info = rec["features"].get(stage)
        if not info:
            continue
        for person, d in info["detection"].items():
            ranges = d["no_detection_s"]
            rows.append({
                "person": person,
                "extractor": stage,
                "detected (% of analysed frames)": d["detection_rate"] * 100,
                "frames": d["n_frames"],
                "time ranges without detection": ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in ranges[:20])
                + (f" (+{len(ranges) - 20} more)" if len(ranges) > 20 else "") or "none",
            })
    gap = max((rec["features"][s]["parameters"]["warn_gap_s"] for s in ("pose", "face") if s in rec["features"]),
              default=0)
    return [
        f"<p>Pose and face detection. Time ranges without detection list stretches of at least {gap:g} s; "
        "features are NaN there (short gaps are interpolated, see the methods).</p>",
        _table(pd.DataFrame(rows), left=("person", "extractor", "time ranges without detection")),
        _figure(figures.detection_qc(result.features, persons),
                "Pose and face detection per analysed frame and person.", "qc-detection"),
    ]


def write_session_report(result: "SessionResult", config: "PipelineConfig", path: str | Path) -> Path:
    """Write the session report (synchrony timeline, lag heatmap, event-locked averages, QC) atomically."""
    rec = result.record
    persons = config.persons.names
    video = rec["inputs"]["video"]
    parts = [
        f"<h1>{html.escape(config.report.title)}</h1>",
        f'<p class="meta">Video <b>{html.escape(Path(video["path"]).name)}</b>: '
        f'{video["duration_s"]:.1f} s, {video["width"]}x{video["height"]}, {video["fps"]:.3f} fps. '
        f"Persons: A = <b>{html.escape(persons[0])}</b>, B = <b>{html.escape(persons[1])}</b> "
        f"(a positive lag means {html.escape(persons[1])} follows {html.escape(persons[0])}). "
        f"Pipeline: {html.escape(rec['pipeline']['source'])}. dyadsync {__version__}.</p>",
    ]
    if rec["warnings"]:
        parts.append("<h2>Warnings</h2>")
        parts += [f'<div class="warn">{html.escape(w)}</div>' for w in rec["warnings"]]

    parts.append("<h2>Summary</h2>")
    summary = pd.DataFrame(
        [
            {
                "feature": f,
                "global index": info["global_index"],
                "mean synchrony": info["mean_sync"],
                "windows": info["n_windows"],
                "masked artefact samples": info["preprocess"].get("n_masked_artefacts", 0),
            }
            for f, info in rec["synchrony"].items()
        ]
    )
    parts.append(_table(summary, left=("feature",)))
    if result.moment_tests is not None:
        t = result.moment_tests
        tests = pd.DataFrame(
            {
                "feature": t["feature"],
                "code": t["code"],
                "events": t["n_events"],
                "mean z during events": t["statistic"],
                "null 95th pct": t["null_q"],
                "p": t["p_value"],
                "above null band": ["yes" if v else "no" for v in t["above_band"]],
            }
        )
        parts.append("<p>Event-locked test: mean within-session z-scored synchrony during the coded events, "
                     "against circular shifts of the event times.</p>")
        parts.append(_table(tests, left=("feature", "code", "above null band")))

    events = result.events
    for feature in result.synchrony["feature"].unique():
        feature = str(feature)
        parts.append(f"<h2>Synchrony: {html.escape(feature)}</h2>")
        parts.append(_figure(figures.synchrony_timeline(result.synchrony, feature, events, persons=persons),
                             "Synchrony per window (top; shaded: coded moments) and the lag of the best "
                             "correlation (bottom).", f"timeline-{feature}"))
        if (result.synchrony_lags["feature"].astype(str) == feature).any():
            parts.append(_figure(figures.lag_heatmap(result.synchrony_lags, feature, events),
                                 "Correlation for every window (x) and lag (y).", f"heatmap-{feature}"))
        if result.moments is not None:
            for code, curve in result.moments[result.moments["feature"] == feature].groupby("code", sort=True):
                test = result.moment_tests[(result.moment_tests["feature"] == feature)
                                           & (result.moment_tests["code"] == code)].iloc[0]
                title = f"{feature} around {code} (n = {test['n_events']}, p = {test['p_value']:.3f})"
                parts.append(_figure(figures.event_locked_figure(curve, title),
                                     f"Event-locked average of z-scored synchrony around {code} onsets; grey: "
                                     f"{test['band'] * 100:.0f}% pointwise band of {test['n_shifts']} circular "
                                     "shifts of the event times.", f"event-locked-{feature}-{code}"))
    parts.append("<h2>Quality control</h2>")
    if "motion" in rec["features"]:
        parts.append(_figure(figures.motion_qc(result.features, persons, events),
                             "Motion energy per person; dotted lines: frames flagged as camera motion or lighting "
                             "artefacts (masked before synchrony).", "qc-motion"))
    if "pose" in rec["features"] or "face" in rec["features"]:
        parts.extend(_detection_qc(result, rec, persons))
    parts.append("<h2>Methods</h2>")
    parts.append(f"<p>{html.escape(session_methods(rec, result.moment_tests))}</p>")
    parts.append("<details><summary>All parameters</summary><pre>"
                 f"{html.escape(json.dumps(rec['pipeline'], indent=2))}</pre></details>")
    return write_text(_page(config.report.title, "\n".join(parts)), path)


def write_batch_report(sessions: pd.DataFrame, failures: pd.DataFrame, batch_dir: str | Path, path: str | Path) -> Path:
    """Write the batch report: overview with links to the session reports, forest plots, QC, failures.

    Parameters
    ----------
    sessions : DataFrame
        ``sessions.csv`` of the batch.
    failures : DataFrame
        ``failures.csv`` of the batch.
    batch_dir : str or Path
        The batch folder (the dataset is read from it).
    path : str or Path
        Where to write the report; links to session reports are relative to it.
    """
    batch_dir = Path(batch_dir)
    counts = sessions["status"].value_counts()
    n_complete, n_partial, n_failed = (int(counts.get(k, 0)) for k in ("complete", "partial", "failed"))
    parts = [
        "<h1>dyadsync batch report</h1>",
        f'<p class="meta">{len(sessions)} session(s): {n_complete} complete, {n_partial} complete except a failed '
        f"stage, {n_failed} failed. dyadsync {__version__}.</p>",
        "<h2>Sessions</h2>",
    ]
    cols = [c for c in sessions.columns if c in ("session", "dyad", "session_number", "group", "status", "duration_s")
            or c.startswith(("global_index_", "p_"))]
    overview = sessions[cols].copy()
    links = []
    for _, row in sessions.iterrows():
        name = html.escape(str(row["session"]))
        links.append(f'<a href="{html.escape(str(row["report"]))}">{name}</a>' if row.get("report") else name)
    parts.append(_table(overview, left=("session", "dyad", "group", "status"), raw={"session": links}))
    parts.append('<p class="meta">p_FEATURE_CODE: p of the event-locked test of each session (circular shifts of '
                 "its own codes); global_index_FEATURE: mean of the windows x lags matrix.</p>")
    tests_dir = batch_dir / "dataset" / "moment_tests"
    if tests_dir.is_dir():
        tests = pd.read_parquet(tests_dir)
        tests["session"] = tests["session"].astype(str)
        parts.append("<h2>Across sessions</h2>")
        for (feature, code), grp in tests.groupby(["feature", "code"], sort=True):
            parts.append(_figure(figures.forest_plot(grp, f"{feature} around {code}"),
                                 "Each session's event-locked statistic as z against its own circular-shift null; "
                                 "diamond: Stouffer's combination across sessions (sessions weighted equally).",
                                 f"forest-{feature}-{code}"))
    parts.append("<h2>Quality control</h2>")
    qc_cols = [c for c in sessions.columns if c in ("session", "n_warnings", "artefact_frames")
               or c.startswith(("detection_", "missing_"))]
    parts.append(_table(sessions[qc_cols], left=("session",)))
    if len(failures):
        parts.append("<h2>Failures</h2>")
        parts.append(_table(failures[["session", "stage", "error_type", "error"]], left=tuple(failures.columns)))
    return write_text(_page("dyadsync batch report", "\n".join(parts)), path)
