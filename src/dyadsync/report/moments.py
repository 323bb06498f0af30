"""The moments report (``dyadsync moments``) and the moments sections every report shares."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..io.store import write_text
from . import figures
from ._html import figure_html, page_html, table_html
from .methods import moments_methods, results_paragraph

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
    return intro + table_html(table, left=("feature", "code", "test", "effect size", "notes"))


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
        parts.append(figure_html(figures.event_locked_figure(curve, title, rows("moment_clusters", code)),
                             f"Event-locked average of z-scored synchrony around {code} onsets; dark grey: "
                             f"{test['band'] * 100:.0f}% pointwise band, light grey: simultaneous band (max "
                             f"statistic) of {test['n_shifts']} circular shifts of the event times; purple: "
                             "significant clusters.", "event-locked", prefix, feature, code))
        ep = rows("moment_epochs", code)
        if ep is not None:
            parts.append(figure_html(figures.contrasts_figure(ep, f"{feature}: epochs around {code}"),
                                 "Mean z of each PRE, DURING and POST epoch (purple) and of random baseline epochs "
                                 "away from the events (grey); bars: means.", "contrasts", prefix, feature, code))
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
                parts.append(figure_html(figures.peak_event_raster(pk, ev, corr, f"{feature}: synchrony peaks around {code}",
                                                               max_lag_s=lag, reference=reference),
                                     f"Top: synchrony peaks (ticks) around each event {reference} (one row per event). "
                                     "Bottom: peaks per event by lag, with the band of shifted events.",
                                     "raster", prefix, feature, code))
        f1 = rows("moment_f1", code)
        if f1 is not None:
            parts.append(figure_html(figures.f1_tolerance_figure(f1, f"{feature} / {code}: F1 vs tolerance"),
                                 "F1 of the optimal one-to-one matching of peaks and event onsets at each tolerance; "
                                 "grey: band of shifted events.", "f1", prefix, feature, code))
        matches = rows("moment_matches", code)
        m = sel[sel["analysis"] == "matching_latency"]
        if matches is not None and len(m):
            parts.append(figure_html(figures.latency_figure(matches, f"{feature} / {code}: signed latencies",
                                                        window_s=window_s, tolerance_s=float(m.iloc[0]["tolerance_s"])),
                                 "Peak time minus event onset for the matched pairs (negative: synchrony first); "
                                 "light band: less than half a synchrony window, not evidence of precedence.",
                                 "latency", prefix, feature, code))
    return parts


def across_figures_html(across: dict[str, pd.DataFrame] | Any, heading: str = "h2", prefix: str = "") -> list[str]:
    """The grand-average curves and forest plots of the across-dyad tables, one figure per feature and code."""
    parts = []
    grand = across.get("grand_average")
    if grand is not None and len(grand):
        parts.append(f"<{heading}>{prefix}Grand-average event-locked curves</{heading}>")
        for (feature, code), g in grand.groupby(["feature", "code"], sort=True):
            n = int(g["n_sessions"].max())
            parts.append(figure_html(figures.event_locked_figure(g, f"{feature} around {code}: mean of {n} session(s)"),
                                     "Event-locked average of z-scored synchrony averaged over sessions; grey: 95% "
                                     "band around the sessions' mean null curve (from their null SDs, sessions "
                                     "independent).", "grand-average", feature, code))
    forest = across.get("forest")
    if forest is not None and len(forest):
        parts.append(f"<{heading}>{prefix}Forest plots of the event-locked test per session</{heading}>")
        for (feature, code), g in forest.groupby(["feature", "code"], sort=True):
            parts.append(figure_html(figures.forest_figure(g, f"{feature} around {code}: excess z during the events"),
                                     "Each session's mean z during the events minus the mean under shifted events, "
                                     "with a 95% interval from the null SD; diamond: inverse-variance weighted "
                                     "combination.", "forest", feature, code))
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
             f"{__version__}.</p>", "<h2>Sessions</h2>", table_html(sessions, left=tuple(sessions.columns))]
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
        parts.append(table_html(c, left=tuple(x for x in ("feature", "code", "analysis", "statistic_name", "direction",
                                                      "alternative") if x in c.columns)))
    parts += across_figures_html(across, "h2", "Across dyads. ")
    mm = across.get("mixed_model")
    if mm is not None and len(mm):
        parts.append("<h2>Across dyads: epoch-level mixed model</h2>")
        parts.append("<p>Epoch means of synchrony in a linear mixed model with a random intercept per dyad "
                     "(statsmodels MixedLM); each level against the reference; q: Benjamini-Hochberg over all "
                     "contrasts.</p>")
        parts.append(table_html(mm, left=tuple(x for x in ("feature", "code", "factor", "term", "level", "reference",
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
                parts.append(figure_html(figures.dial_figure(dial[dial["session"] == session],
                                                         f"{session}: dial ratings"),
                                     "Dial ratings: each rater's mean per window (top) and their correlation in the "
                                     "window (bottom).", "dial", session))
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
    return write_text(page_html(title, "\n".join(parts)), path)
