"""The batch report: every session of a batch, the across-dyad results and quality control."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .. import __version__
from ..io.store import write_text
from ._html import page_html, table_html
from .moments import ANALYSIS_LABELS, across_figures_html


def write_batch_report(
    sessions: pd.DataFrame,
    failures: pd.DataFrame,
    across: Mapping[str, pd.DataFrame],
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
    across : mapping of str to DataFrame
        The batch's across-dyad tables that exist: ``combined``, ``mixed_model``, ``grand_average``, ``forest``,
        ``pseudo_dyads``.
    path : str or Path
        Where to write the report; links to session reports are relative to it.
    notes : sequence of str
        What the across-dyad analyses skipped and why (``batch.json`` ``across.notes``).
    """
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
    parts.append(table_html(overview, left=("session", "dyad", "group", "status"), raw={"session": links}))
    parts.append('<p class="meta">p_FEATURE_CODE: p of the event-locked test of each session (circular shifts of '
                 "its own codes); global_index_FEATURE: mean of the windows x lags matrix.</p>")
    parts.append("<h2>Across sessions</h2>")
    parts += _batch_across_html(across, notes)
    parts.append("<h2>Quality control</h2>")
    qc_cols = [c for c in sessions.columns if c in ("session", "n_warnings", "artefact_frames")
               or c.startswith(("detection_", "speech_", "missing_"))]
    parts.append(table_html(sessions[qc_cols], left=("session",)))
    parts.append('<p class="meta">detection_STAGE_PERSON: share of analysed frames in which the pose or face '
                 "model found the person; speech_PERSON: share of the recording in which the person speaks; "
                 "artefact_frames: frames masked as scene artefacts (lighting jumps, camera moves); n_warnings: "
                 "warnings of the session run (see its report).</p>")
    if len(failures):
        parts.append("<h2>Failures</h2>")
        parts.append(table_html(failures[["session", "stage", "error_type", "error"]], left=tuple(failures.columns)))
    return write_text(page_html("dyadsync batch report", "\n".join(parts)), path)


def _batch_across_html(across: Mapping[str, pd.DataFrame], notes: Sequence[str]) -> list[str]:
    """The batch report's across-dyad sections (each table optional)."""

    def wide(html_table: str) -> str:  # wide tables scroll inside the page instead of overflowing it
        return f'<div style="overflow-x: auto">{html_table}</div>'

    read = across.get

    parts = [f'<div class="warn">{html.escape(n)}</div>' for n in notes]
    combined = read("combined")
    if combined is not None:
        parts.append("<h3>Moments tests combined across dyads</h3>")
        parts.append("<p>Each session's statistic against its own surrogates as a z score, combined within dyads "
                     "and then across dyads (Stouffer); q: Benjamini-Hochberg over all rows.</p>")
        c = combined.copy()
        if "analysis" in c.columns:
            c["analysis"] = [ANALYSIS_LABELS.get(a, a) for a in c["analysis"]]
        parts.append(wide(table_html(c, left=tuple(x for x in ("feature", "code", "analysis", "statistic_name",
                                                           "direction", "alternative") if x in c.columns))))
    mm = read("mixed_model")
    if mm is not None:
        parts.append("<h3>Epoch-level mixed model</h3>")
        parts.append("<p>Epoch means of synchrony in a linear mixed model with a random intercept per dyad "
                     "(statsmodels MixedLM); each level against its reference; q: Benjamini-Hochberg over all "
                     "contrasts.</p>")
        parts.append(wide(table_html(mm, left=tuple(x for x in ("feature", "code", "factor", "term", "level",
                                                            "reference", "outcome", "model", "fit_notes")
                                                 if x in mm.columns))))
    parts += across_figures_html(across, "h3")
    pseudo = read("pseudo_dyads")
    if pseudo is not None:
        parts.append("<h3>Real dyads against pseudo-dyads</h3>")
        parts.append("<p>Global synchrony index (mean of the windows x lags matrix) of each session's real dyad "
                     "against pseudo-dyads pairing person A of one session with person B of a session of another "
                     "dyad, each cut to the shorter of the two; d: Cohen's d (pooled SD); p: one-sided, real mean "
                     "among means of random pseudo-dyad subsets of the same size (+1 correction).</p>")
        parts.append(wide(table_html(pseudo, left=("feature",))))
    return parts
