"""Self-contained HTML reports: inline SVG figures and CSS, no scripts, no external resources, no video frames."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import __version__
from ..io.store import write_text
from . import figures
from .methods import moments_methods, results_paragraph, session_methods

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
                "global index": info.get("global_index", float("nan")),
                "mean synchrony": info.get("mean_sync", float("nan")),
                "windows": info.get("n_windows", 0),
                "masked artefact samples": info.get("preprocess", {}).get("n_masked_artefacts", 0),
            }
            for f, info in rec["synchrony"].items()
        ]
    )
    parts.append(_table(summary, left=("feature",)))
    if result.moment_tests is not None and len(result.moment_tests):
        parts.append("<h2>Moments: tests</h2>")
        parts.append(moments_tests_html(result.moment_tests))

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
            window = rec["pipeline"]["synchrony"]["window_s"]
            parts += moments_figures_html(result.moment_tables or {"moments": result.moments,
                                                                   "moment_tests": result.moment_tests},
                                          events, feature, window_s=window)
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


def write_batch_report(
    sessions: pd.DataFrame,
    failures: pd.DataFrame,
    batch_dir: str | Path,
    path: str | Path,
    *,
    notes: Sequence[str] = (),
) -> Path:
    """Write the batch report: overview with links to the session reports, across-dyad results, forest plots, QC,
    failures.

    Parameters
    ----------
    sessions : DataFrame
        ``sessions.csv`` of the batch.
    failures : DataFrame
        ``failures.csv`` of the batch.
    batch_dir : str or Path
        The batch folder (the dataset and the ``across/`` tables are read from it).
    path : str or Path
        Where to write the report; links to session reports are relative to it.
    notes : sequence of str
        What the across-dyad analyses skipped and why (``batch.json`` ``across.notes``).
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
    parts.append("<h2>Across sessions</h2>")
    parts += _batch_across_html(batch_dir / "across", notes)
    parts.append("<h2>Quality control</h2>")
    qc_cols = [c for c in sessions.columns if c in ("session", "n_warnings", "artefact_frames")
               or c.startswith(("detection_", "speech_", "missing_"))]
    parts.append(_table(sessions[qc_cols], left=("session",)))
    parts.append('<p class="meta">detection_STAGE_PERSON: share of analysed frames in which the pose or face '
                 "model found the person; speech_PERSON: share of the recording in which the person speaks; "
                 "artefact_frames: frames masked as scene artefacts (lighting jumps, camera moves); n_warnings: "
                 "warnings of the session run (see its report).</p>")
    if len(failures):
        parts.append("<h2>Failures</h2>")
        parts.append(_table(failures[["session", "stage", "error_type", "error"]], left=tuple(failures.columns)))
    return write_text(_page("dyadsync batch report", "\n".join(parts)), path)


def _batch_across_html(folder: Path, notes: Sequence[str]) -> list[str]:
    """The batch report's across-dyad sections, from the tables of ``OUT/across/`` (each optional)."""

    from ..pipeline.across import ACROSS_FILES

    def wide(table: str) -> str:  # wide tables scroll inside the page instead of overflowing it
        return f'<div style="overflow-x: auto">{table}</div>'

    def read(name: str) -> pd.DataFrame | None:
        f = folder / ACROSS_FILES[name]
        return pd.read_parquet(f) if f.is_file() else None

    parts = [f'<div class="warn">{html.escape(n)}</div>' for n in notes]
    combined = read("combined")
    if combined is not None:
        parts.append("<h3>Moments tests combined across dyads</h3>")
        parts.append("<p>Each session's statistic against its own surrogates as a z score, combined within dyads "
                     "and then across dyads (Stouffer); q: Benjamini-Hochberg over all rows.</p>")
        c = combined.copy()
        if "analysis" in c.columns:
            c["analysis"] = [ANALYSIS_LABELS.get(a, a) for a in c["analysis"]]
        parts.append(wide(_table(c, left=tuple(x for x in ("feature", "code", "analysis", "statistic_name",
                                                           "direction", "alternative") if x in c.columns))))
    mm = read("mixed_model")
    if mm is not None:
        parts.append("<h3>Epoch-level mixed model</h3>")
        parts.append("<p>Epoch means of synchrony in a linear mixed model with a random intercept per dyad "
                     "(statsmodels MixedLM); each level against its reference; q: Benjamini-Hochberg over all "
                     "contrasts.</p>")
        parts.append(wide(_table(mm, left=tuple(x for x in ("feature", "code", "factor", "term", "level",
                                                            "reference", "outcome", "model", "fit_notes")
                                                 if x in mm.columns))))
    grand = read("grand_average")
    if grand is not None:
        parts.append("<h3>Grand-average event-locked curves</h3>")
        for (feature, code), g in grand.groupby(["feature", "code"], sort=True):
            n = int(g["n_sessions"].max())
            parts.append(_figure(figures.event_locked_figure(g, f"{feature} around {code}: mean of {n} session(s)"),
                                 "Event-locked average of z-scored synchrony averaged over sessions; grey: 95% band "
                                 "around the sessions' mean null curve (from their null SDs, sessions independent).",
                                 f"grand-average-{feature}-{code}"))
    forest = read("forest")
    if forest is not None:
        parts.append("<h3>Forest plots: the event-locked test per session</h3>")
        for (feature, code), g in forest.groupby(["feature", "code"], sort=True):
            parts.append(_figure(figures.forest_figure(g, f"{feature} around {code}: excess z during the events"),
                                 "Each session's mean z during the events minus the mean under shifted events, with "
                                 "a 95% interval from the null SD; diamond: inverse-variance weighted combination.",
                                 f"forest-{feature}-{code}"))
    pseudo = read("pseudo_dyads")
    if pseudo is not None:
        parts.append("<h3>Real dyads against pseudo-dyads</h3>")
        parts.append("<p>Global synchrony index (mean of the windows x lags matrix) of each session's real dyad "
                     "against pseudo-dyads pairing person A of one session with person B of a session of another "
                     "dyad, each cut to the shorter of the two; d: Cohen's d (pooled SD); p: one-sided, real mean "
                     "among means of random pseudo-dyad subsets of the same size (+1 correction).</p>")
        parts.append(wide(_table(pseudo, left=("feature",))))
    return parts


# ------------------------------------------------------------------------------------------------------ moments

#: How each analysis is named in the reports.
ANALYSIS_LABELS = {
    "event_locked": "event-locked: mean z during events",
    "event_locked_max": "event-locked: max statistic",
    "event_locked_cluster": "event-locked: cluster mass",
    "contrast_pre": "PRE vs random epochs",
    "contrast_during": "DURING vs random epochs",
    "contrast_post": "POST vs random epochs",
    "matching_f1": "peak/event matching F1",
    "matching_latency": "median peak latency (s)",
    "coincidence_precursor": "precursor coincidence rate",
    "coincidence_trigger": "trigger coincidence rate",
    "compare_code": "difference between codes",
    "compare_coder": "difference between coders",
    "compare_modality": "difference between modalities",
    "dial_synchrony": "dial rating vs synchrony (rho)",
}


def moments_tests_html(tests: pd.DataFrame) -> str:
    """The moments tests as an HTML table, one row per feature, code and test, with guard-rail notes."""
    t = tests
    def col(name: str, default: object = "") -> pd.Series:
        return t[name] if name in t.columns else pd.Series([default] * len(t), index=t.index)

    label = [ANALYSIS_LABELS.get(a, a) + (f" ({d.replace('_', ' ')})" if d else "") + (f": {m}" if m else "")
             for a, d, m in zip(t["analysis"], col("direction").fillna(""), col("measure").fillna(""))]
    effect = [f"d = {d:.2f}, δ = {c:.2f}" if isinstance(d, float) and np.isfinite(d) else ""
              for d, c in zip(col("cohens_d", np.nan), col("cliffs_delta", np.nan))]
    notes = []
    for prec, warn in zip(col("precedence").fillna(""), col("warnings").fillna("")):
        notes.append("; ".join(x for x in (prec, warn) if x))
    table = pd.DataFrame({
        "feature": t["feature"], "code": t["code"], "test": label, "events": col("n_events", np.nan),
        "statistic": t["statistic"], "null mean": col("null_mean", np.nan), "p": t["p_value"],
        "q (FDR)": col("q_value", np.nan), "effect size": effect, "notes": notes,
    })
    intro = ("<p>Every test compares the observed statistic with its own null distribution (circular shifts of the "
             "event times, random epochs of uncoded time, or label permutations): p = (1 + null values at least as "
             "extreme) / (1 + null values); q: Benjamini-Hochberg over all tests of this table. Notes give the "
             "guard-rails: too few events, overlapping epochs, events near the edges, and whether a latency is "
             "evidence of precedence.</p>")
    return intro + _table(table, left=("feature", "code", "test", "effect size", "notes"))


def moments_figures_html(tables: dict[str, pd.DataFrame], events: pd.DataFrame | None, feature: str, *,
                         window_s: float | None = None, prefix: str = "") -> list[str]:
    """Figures of one feature's moments analyses for every code: event-locked average with bands and clusters,
    epoch contrasts, raster of peaks around the events with the cross-correlogram, F1 vs tolerance, latencies."""
    parts = []
    curves = tables.get("moments")
    tests = tables.get("moment_tests")
    if curves is None or tests is None:
        return parts

    def rows(name: str, code: str) -> pd.DataFrame | None:
        t = tables.get(name)
        if t is None or t.empty or "feature" not in t.columns:
            return None
        sel = t[(t["feature"].astype(str) == feature) & (t["code"].astype(str) == code)] if "code" in t.columns else \
            t[t["feature"].astype(str) == feature]
        return sel if len(sel) else None

    for code, curve in curves[curves["feature"].astype(str) == feature].groupby("code", sort=True):
        code = str(code)
        sel = tests[(tests["feature"].astype(str) == feature) & (tests["code"].astype(str) == code)]
        el = sel[sel["analysis"] == "event_locked"]
        if el.empty:
            continue
        test = el.iloc[0]
        title = f"{feature} around {code} (n = {test['n_events']}, p = {test['p_value']:.3f})"
        parts.append(_figure(figures.event_locked_figure(curve, title, rows("moment_clusters", code)),
                             f"Event-locked average of z-scored synchrony around {code} onsets; dark grey: "
                             f"{test['band'] * 100:.0f}% pointwise band, light grey: simultaneous band (max "
                             f"statistic) of {test['n_shifts']} circular shifts of the event times; purple: "
                             "significant clusters.", f"{prefix}event-locked-{feature}-{code}"))
        ep = rows("moment_epochs", code)
        if ep is not None:
            parts.append(_figure(figures.contrasts_figure(ep, f"{feature}: epochs around {code}"),
                                 "Mean z of each PRE, DURING and POST epoch (purple) and of random baseline epochs "
                                 "away from the events (grey); bars: means.", f"{prefix}contrasts-{feature}-{code}"))
        peaks = tables.get("sync_peaks")
        if peaks is not None and len(peaks) and events is not None:
            pk = peaks[peaks["feature"].astype(str) == feature]
            ev = events[events["code"].astype(str) == code] if code in set(events["code"].astype(str)) else None
            if ev is not None and len(ev):
                ref_rows = sel[sel["analysis"] == "matching_f1"]
                reference = str(ref_rows["event_reference"].iloc[0]) if len(ref_rows) and \
                    "event_reference" in ref_rows.columns else "onset"
                corr = rows("moment_correlogram", code)
                lag = float(corr["lag_s"].abs().max()) if corr is not None else 60.0
                parts.append(_figure(figures.peak_event_raster(pk, ev, corr, f"{feature}: synchrony peaks around {code}",
                                                               max_lag_s=lag, reference=reference),
                                     f"Top: synchrony peaks (ticks) around each event {reference} (one row per event). "
                                     "Bottom: peaks per event by lag, with the band of shifted events.",
                                     f"{prefix}raster-{feature}-{code}"))
        f1 = rows("moment_f1", code)
        if f1 is not None:
            parts.append(_figure(figures.f1_tolerance_figure(f1, f"{feature} / {code}: F1 vs tolerance"),
                                 "F1 of the optimal one-to-one matching of peaks and event onsets at each tolerance; "
                                 "grey: band of shifted events.", f"{prefix}f1-{feature}-{code}"))
        matches = rows("moment_matches", code)
        m = sel[sel["analysis"] == "matching_latency"]
        if matches is not None and len(m):
            parts.append(_figure(figures.latency_figure(matches, f"{feature} / {code}: signed latencies",
                                                        window_s=window_s, tolerance_s=float(m.iloc[0]["tolerance_s"])),
                                 "Peak time minus event onset for the matched pairs (negative: synchrony first); "
                                 "light band: less than half a synchrony window, not evidence of precedence.",
                                 f"{prefix}latency-{feature}-{code}"))
    return parts


def write_moments_report(
    sessions: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    across: dict[str, pd.DataFrame],
    params: dict[str, Any],
    path: str | Path,
    *,
    title: str = "dyadsync moments report",
    warnings_: list[str] | None = None,
    window_s: float | None = None,
    max_session_figures: int = 6,
) -> Path:
    """Write the report of a moments analysis over one or many sessions (self-contained HTML), atomically.

    Parameters
    ----------
    sessions : DataFrame
        One row per session (``session``, ``dyad``, ``run_dir``, ``codes``, ``n_events``, ``status``).
    tables : dict of DataFrame
        The sessions' moments tables concatenated, with ``session`` and ``dyad`` columns.
    across : dict of DataFrame
        Across-dyad tables: ``combined`` (Stouffer), ``forest``, ``mixed_model`` (any may be empty).
    params : dict
        The ``[moments]`` parameters used.
    path : str or Path
    title : str
    warnings_ : list of str or None
        Warnings to show.
    window_s : float or None
        The synchrony window, s.
    max_session_figures : int, default 6
        Draw per-session figures only up to this many sessions.
    """
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="meta">{len(sessions)} session(s) of {sessions["dyad"].nunique()} dyad(s). dyadsync '
             f"{__version__}.</p>", "<h2>Sessions</h2>", _table(sessions, left=tuple(sessions.columns))]
    if warnings_:
        parts.append("<h2>Warnings</h2>")
        parts += [f'<div class="warn">{html.escape(w)}</div>' for w in warnings_]
    combined = across.get("combined")
    if combined is not None and len(combined):
        parts.append("<h2>Across dyads: combined surrogate z (Stouffer)</h2>")
        parts.append("<p>Each session's statistic against its own surrogates as a z score, combined within dyads and "
                     "then across dyads (Stouffer); q: Benjamini-Hochberg over all rows.</p>")
        c = combined.copy()
        c["analysis"] = [ANALYSIS_LABELS.get(a, a) for a in c["analysis"]]
        parts.append(_table(c, left=tuple(x for x in ("feature", "code", "analysis", "statistic_name", "direction",
                                                      "alternative") if x in c.columns)))
    grand = across.get("grand_average")
    if grand is not None and len(grand):
        parts.append("<h2>Across dyads: grand-average event-locked curve</h2>")
        for key, g in grand.groupby(["feature", "code"], sort=False):
            n = int(g["n_sessions"].max())
            parts.append(_figure(figures.event_locked_figure(g, f"{key[0]} around {key[1]}: mean of {n} session(s)"),
                                 "Event-locked average of z-scored synchrony averaged over sessions; grey: 95% band "
                                 "around the sessions' mean null curve (from their null SDs, sessions independent).",
                                 f"grand-average-{key[0]}-{key[1]}"))
    forest = across.get("forest")
    if forest is not None and len(forest):
        parts.append("<h2>Across dyads: forest plot</h2>")
        for key, g in forest.groupby(["feature", "code"], sort=False):
            parts.append(_figure(figures.forest_figure(g, f"{key[0]} around {key[1]}: excess z during the events"),
                                 "Each session's mean z during the events minus the mean under shifted events, with "
                                 "a 95% interval from the null SD; diamond: inverse-variance weighted combination.",
                                 f"forest-{key[0]}-{key[1]}"))
    mm = across.get("mixed_model")
    if mm is not None and len(mm):
        parts.append("<h2>Across dyads: epoch-level mixed model</h2>")
        parts.append("<p>Epoch means of synchrony in a linear mixed model with a random intercept per dyad "
                     "(statsmodels MixedLM); each level against the reference; q: Benjamini-Hochberg over all "
                     "contrasts.</p>")
        parts.append(_table(mm, left=tuple(x for x in ("feature", "code", "factor", "term", "level", "reference",
                                                       "outcome", "model") if x in mm.columns)))
    tests = tables.get("moment_tests")
    if tests is not None and len(tests):
        parts.append("<h2>Per session</h2>")
        for session, g in tests.groupby("session", sort=False):
            parts.append(f"<h3>{html.escape(str(session))}</h3>")
            parts.append(moments_tests_html(g))
            if len(sessions) > max_session_figures:
                continue
            dial = tables.get("dial_congruence")
            if dial is not None and len(dial) and "session" in dial.columns and (dial["session"] == session).any():
                parts.append(_figure(figures.dial_figure(dial[dial["session"] == session],
                                                         f"{session}: dial ratings"),
                                     "Dial ratings: each rater's mean per window (top) and their correlation in the "
                                     "window (bottom).", f"{session}-dial"))
            sub = {k: (v[v["session"] == session] if "session" in v.columns else v) for k, v in tables.items()}
            ev = sub.get("events")
            for feature in pd.unique(g["feature"].astype(str)):
                if " vs " in feature:
                    continue
                parts += moments_figures_html(sub, ev, feature, window_s=window_s, prefix=f"{session}-")
        parts.append("<h2>Methods</h2>")
        text, refs = moments_methods(params, tests, window_s=window_s)
        parts.append(f"<p>{html.escape(text)}</p>")
        parts.append(f"<p>{html.escape(results_paragraph(tests))}</p>")
        parts.append("<p>References: " + html.escape(" ".join(refs)) + "</p>")
    parts.append("<details><summary>All parameters</summary><pre>"
                 f"{html.escape(json.dumps(params, indent=2, default=str))}</pre></details>")
    return write_text(_page(title, "\n".join(parts)), path)
