"""The session report: one run's synchrony, moments and quality control, from its record and tables."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..io.store import write_text
from . import figures
from ._html import figure_html, page_html, table_html
from .methods import session_methods
from .moments import moments_figures_html, moments_tests_html


def _detection_qc(tables: Mapping[str, pd.DataFrame], rec: dict[str, Any], persons: list[str]) -> list[str]:
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
        table_html(pd.DataFrame(rows), left=("person", "extractor", "time ranges without detection")),
        figure_html(figures.detection_qc(tables["features"], persons),
                "Pose and face detection per analysed frame and person.", "qc-detection"),
    ]


def write_session_report(record: dict[str, Any], tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write the session report (synchrony timeline, lag heatmap, event-locked averages, QC) atomically.

    Parameters
    ----------
    record : dict
        The run record (as in ``run.json``: inputs, pipeline, features, synchrony, warnings).
    tables : mapping of str to DataFrame
        The run's tables by name: ``features``, ``synchrony``, ``synchrony_lags``, and when codes were analysed
        ``events`` and the moments tables (``moments``, ``moment_tests``, ...); a missing table leaves its
        sections out.
    path : str or Path
        Where to write the report.
    """
    rec = record
    persons = rec["pipeline"]["persons"]["names"]
    title = rec["pipeline"]["report"]["title"]
    moment_tests = tables.get("moment_tests")
    synchrony, lags = tables["synchrony"], tables["synchrony_lags"]
    video = rec["inputs"]["video"]
    parts = [
        f"<h1>{html.escape(title)}</h1>",
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
                "global index": info.get("global_index", float("nan")),
                "mean synchrony": info.get("mean_sync", float("nan")),
                "windows": info.get("n_windows", 0),
                "masked artefact samples": info.get("preprocess", {}).get("n_masked_artefacts", 0),
            }
            for f, info in rec["synchrony"].items()
        ]
    )
    parts.append(table_html(summary, left=("feature",)))
    if moment_tests is not None and len(moment_tests):
        parts.append("<h2>Moments: tests</h2>")
        parts.append(moments_tests_html(moment_tests))

    events = tables.get("events")
    for feature in synchrony["feature"].unique():
        feature = str(feature)
        parts.append(f"<h2>Synchrony: {html.escape(feature)}</h2>")
        parts.append(figure_html(figures.synchrony_timeline(synchrony, feature, events, persons=persons),
                             "Synchrony per window (top; shaded: coded moments) and the lag of the best "
                             "correlation (bottom).", "timeline", feature))
        if (lags["feature"].astype(str) == feature).any():
            parts.append(figure_html(figures.lag_heatmap(lags, feature, events),
                                 "Correlation for every window (x) and lag (y).", "heatmap", feature))
        if tables.get("moments") is not None:
            window = rec["pipeline"]["synchrony"]["window_s"]
            parts += moments_figures_html(tables, events, feature, window_s=window)
    parts.append("<h2>Quality control</h2>")
    if "motion" in rec["features"]:
        parts.append(figure_html(figures.motion_qc(tables["features"], persons, events),
                             "Motion energy per person; dotted lines: frames flagged as camera motion or lighting "
                             "artefacts (masked before synchrony).", "qc-motion"))
    if "pose" in rec["features"] or "face" in rec["features"]:
        parts.extend(_detection_qc(tables, rec, persons))
    parts.append("<h2>Methods</h2>")
    parts.append(f"<p>{html.escape(session_methods(rec, moment_tests))}</p>")
    parts.append("<details><summary>All parameters</summary><pre>"
                 f"{html.escape(json.dumps(rec['pipeline'], indent=2))}</pre></details>")
    return write_text(page_html(title, "\n".join(parts)), path)
