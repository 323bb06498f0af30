"""Across the sessions of a batch: the across-dyad moments analyses and pseudo-dyad surrogates.

Both work on what finished sessions wrote (their tables, features and ``run.json``), so nothing of a session is
recomputed except the pseudo-dyads' synchrony, which by nature exists in no single session.

* :func:`across_moments`: :func:`dyadsync.moments.multilevel.across_dyads` on the sessions' ``moment_tests``,
  ``moment_epochs`` and ``moments`` tables concatenated (with ``session`` and ``dyad`` columns).
* :func:`pseudo_dyad_synchrony`: per synchrony feature, the real dyads' global synchrony index against that of
  pseudo-dyads, person A of one session paired with person B of a session of another dyad (Bernieri et al. 1988;
  Ramseyer & Tschacher 2010; rMEA's ``shuffle`` with ``keepRoles``), each pair cut to the shorter of its two
  series and analysed with the session's own preprocessing and windowed cross-correlation parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError, DyadsyncError
from ..io.tables import feature_names
from ..moments.multilevel import across_dyads
from ..synchrony import compare_groups, pseudo_dyads
from .analysis import prepare_feature, synchrony_settings
from .config import PipelineConfig

#: Tables of :func:`across_moments`, as :func:`dyadsync.moments.multilevel.across_dyads` names them.
ACROSS_MOMENTS = ("combined", "forest", "grand_average", "mixed_model")

#: At most this many pseudo-dyads per feature (drawn at random, seeded, when there are more possible pairs).
MAX_PSEUDO_DYADS = 1000

#: Columns of the pseudo-dyad table.
PSEUDO_COLUMNS = ("feature", "n_sessions", "n_dyads", "real_mean", "pseudo_mean", "d", "percentile", "p_value",
                  "n_real", "n_pseudo", "n_pseudo_possible", "seed")


@dataclass
class SessionSeries:
    """What pseudo-dyads need of one finished session.

    Attributes
    ----------
    session, dyad : str
    features : DataFrame or Path
        The session's long feature table (``time_s``, ``person``, ``feature``, ``value``), or its Parquet file
        (read when needed, only the synchrony features and the artefact flags, so that a batch holds one
        session's table at a time).
    config : PipelineConfig
        The pipeline the session ran with (its persons, preprocessing and synchrony parameters).
    global_index : dict of str to float
        The real dyad's global synchrony index per feature (``run.json`` ``synchrony.<feature>.global_index``).
    """

    session: str
    dyad: str
    features: pd.DataFrame | Path
    config: PipelineConfig
    global_index: dict[str, float] = field(default_factory=dict)


def across_moments(
    tests: pd.DataFrame | None, epochs: pd.DataFrame | None = None, curves: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The across-dyad moments analyses of a batch, and notes on what could not be computed.

    Parameters
    ----------
    tests, epochs, curves : DataFrame or None
        The complete sessions' ``moment_tests``, ``moment_epochs`` and ``moments`` tables concatenated, each with
        ``session`` and ``dyad`` columns (as in the batch dataset).

    Returns
    -------
    tables : dict of DataFrame
        The non-empty tables among :data:`ACROSS_MOMENTS` (see :func:`dyadsync.moments.multilevel.across_dyads`);
        empty when no session has coded events.
    notes : list of str
        Why a table is missing (no codes; a single dyad, so no mixed model).
    """
    if tests is None or tests.empty:
        return {}, ["across-dyad moments analyses skipped: no complete session has coded events"]
    notes: list[str] = []
    epochs = epochs if epochs is not None and len(epochs) else None
    try:
        tables = across_dyads(tests, epochs, curves)
    except AnalysisError as exc:  # the epochs do not fit a model (e.g. no random baseline epoch in any session)
        tables = across_dyads(tests, None, curves)
        notes.append(f"mixed model not fitted: {exc}")
    else:
        if tables["mixed_model"].empty:
            n_dyads = epochs["dyad"].nunique() if epochs is not None else 0
            notes.append("mixed model not fitted: " + (f"the epochs come from {n_dyads} dyad(s); it needs at "
                                                        "least 2" if epochs is not None
                                                        else "no session has epoch contrasts (moment_epochs)"))
    return {k: tables[k] for k in ACROSS_MOMENTS if len(tables[k])}, notes


def pseudo_dyad_synchrony(
    sessions: Sequence[SessionSeries], *, seed: int, max_pairs: int = MAX_PSEUDO_DYADS
) -> tuple[pd.DataFrame, list[str]]:
    """Real dyads' global synchrony against pseudo-dyads formed across sessions, per feature.

    For each windowed-cross-correlation feature of the sessions' pipelines, every session's pair of series is
    prepared as the session run prepared it (:func:`dyadsync.preprocess.prepare_pair`); pseudo-dyads pair person
    A of one session with person B of another (:func:`dyadsync.synchrony.surrogates.pseudo_dyads`,
    ``keep_roles=True``), pairs of two sessions of the same dyad left out, and their global indices are compared
    with the real sessions' (:func:`dyadsync.synchrony.surrogates.compare_groups`).

    Parameters
    ----------
    sessions : sequence of SessionSeries
        The complete sessions, in batch order.
    seed : int
        Seeds the draw of pseudo-dyads (when more than ``max_pairs`` are possible) and the random subsets of
        :func:`compare_groups`; feature ``k`` (0-based, in pipeline order) uses ``seed + 104729 * (k + 1)``.
    max_pairs : int, default :data:`MAX_PSEUDO_DYADS`
        At most this many pseudo-dyads per feature.

    Returns
    -------
    table : DataFrame
        One row per feature with the columns of :data:`PSEUDO_COLUMNS`: ``real_mean`` and ``pseudo_mean``
        (global index: mean of the windows x lags matrix, Fisher z units when the pipeline uses ``fisher_z``),
        ``d`` (Cohen's d, pooled SD, positive when real dyads are more synchronous), ``percentile`` and one-sided
        ``p_value`` of the real mean among means of random pseudo-dyad subsets of the same size, ``n_real``
        (sessions), ``n_pseudo`` (pseudo-dyads analysed), ``n_pseudo_possible``.
    notes : list of str
        Features or sessions left out, and why.
    """
    notes: list[str] = []
    order: list[str] = []
    for s in sessions:
        order += [f for f in s.config.synchrony.features if f not in order]
    # One pass over the sessions, each feature table read and dropped in turn: only the prepared pairs are kept.
    prepared: dict[str, list[tuple[SessionSeries, Any]]] = {f: [] for f in order}
    params: dict[str, tuple[Any, ...]] = {}
    for s in sessions:
        wanted = [f for f in s.config.synchrony.features
                  if s.global_index.get(f) is not None and np.isfinite(s.global_index[f])]
        if not wanted:
            continue
        features = (s.features if isinstance(s.features, pd.DataFrame)
                    else pd.read_parquet(s.features, filters=[("feature", "in", [*wanted, "artefact"])]))
        present = feature_names(features)
        for feature in wanted:
            if feature not in present:
                continue
            try:
                pair = prepare_feature(features, feature, s.config)
            except DyadsyncError as exc:
                notes.append(f"pseudo-dyads of {feature}: session {s.session} left out: {exc}")
                continue
            key = (*synchrony_settings(s.config), round(float(pair.rate_hz), 6))
            if params.setdefault(feature, key) != key:
                notes.append(f"pseudo-dyads of {feature}: session {s.session} left out: its sampling rate or "
                             "synchrony parameters differ from the first session's")
                continue
            prepared[feature].append((s, pair))
        del features
    rows = []
    for k, feature in enumerate(order):
        usable = prepared[feature]
        dyads = [s.dyad for s, _ in usable]
        if len(set(dyads)) < 2:
            notes.append(f"pseudo-dyads of {feature} skipped: they need complete sessions of at least 2 dyads, "
                         f"got {len(set(dyads))}")
            continue
        cfg = usable[0][0].config.synchrony
        n_possible = sum(dyads[i] != dyads[j] for i in range(len(dyads)) for j in range(len(dyads)))
        n_all = len(dyads) * (len(dyads) - 1)
        feature_seed = seed + 104729 * (k + 1)
        rng = np.random.default_rng(feature_seed)
        result = pseudo_dyads(
            [(pair.a, pair.b) for _, pair in usable], rate_hz=usable[0][1].rate_hz, window_s=cfg.window_s,
            step_s=cfg.step_s, max_lag_s=cfg.max_lag_s, keep_roles=True,
            n_surrogates=max_pairs if n_all > max_pairs else None, seed=rng, summary=cfg.summary,
            fisher_z=cfg.fisher_z, absolute=cfg.absolute, min_valid=cfg.min_valid,
        )
        keep = [i for i, ((d1, _), (d2, _)) in enumerate(result.labels) if dyads[d1] != dyads[d2]]
        real = [s.global_index[feature] for s, _ in usable]
        stats = compare_groups(real, result.global_index[keep], seed=rng)
        rows.append({
            "feature": feature, "n_sessions": len(usable), "n_dyads": len(set(dyads)),
            "real_mean": stats["real_mean"], "pseudo_mean": stats["null_mean"], "d": stats["d"],
            "percentile": stats["percentile"], "p_value": stats["p"], "n_real": int(stats["n_real"]),
            "n_pseudo": int(stats["n_null"]), "n_pseudo_possible": int(n_possible), "seed": feature_seed,
        })
    return pd.DataFrame(rows, columns=list(PSEUDO_COLUMNS)), notes
