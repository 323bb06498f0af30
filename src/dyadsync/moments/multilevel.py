"""Across dyads: combined surrogate z (Stouffer), epoch-level mixed models, forest tables and FDR.

Every function takes tidy tables as the session analyses write them (one row per session and test, or per
epoch), with a ``dyad`` column (and ``session`` when dyads have several sessions), so that a batch of finished runs
can be analysed without recomputing anything.

* :func:`combine_sessions`: each session's statistic is compared with its *own* surrogates, giving a z score
  (``z_surrogate``: the probit of the mid-rank one-sided p, standard normal under the null); sessions of a dyad
  are combined first (Stouffer), then dyads (Stouffer, equal weights): ``Z = sum z_d / sqrt(D)``. The null
  hypothesis is that in no dyad are the events related to synchrony.
* :func:`epoch_mixed_model`: epoch means of synchrony (PRE, DURING, POST and random baseline epochs, or DURING
  epochs of several codes or modalities) in a linear mixed model with a random intercept per dyad (and a variance
  component per session when dyads have several sessions), statsmodels ``MixedLM``; one contrast per level against
  the reference level, Wald z tests.
* :func:`fdr_bh`: Benjamini-Hochberg q values over all contrasts; both functions above add ``q_value``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import AnalysisError
from ..stats import fdr_bh, p_from_z, stouffer

__all__ = ["across_dyads", "combine_sessions", "epoch_mixed_model", "fdr_bh", "forest_table", "grand_average"]

DEFAULT_BY = ("feature", "code", "analysis", "statistic_name", "direction")


def _groups(table: pd.DataFrame, by: Sequence[str]) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    cols = [c for c in by if c in table.columns]
    if not cols:
        return [((), table)]
    return [((k,) if not isinstance(k, tuple) else k, g) for k, g in table.groupby(cols, sort=False, dropna=False)]


def combine_sessions(
    tests: pd.DataFrame,
    *,
    by: Sequence[str] = DEFAULT_BY,
    z_column: str = "z_surrogate",
    dyad_column: str = "dyad",
) -> pd.DataFrame:
    """Combine per-session surrogate z scores across sessions within dyads, then across dyads (Stouffer).

    Parameters
    ----------
    tests : DataFrame
        One row per session and test, with ``z_column``, ``dyad_column`` (missing: every row its own dyad),
        ``statistic``, ``p_value`` and ``alternative`` (missing: ``"greater"``), plus the ``by`` columns.
    by : sequence of str
        Columns that identify a test (those present are used).
    z_column : str, default "z_surrogate"
    dyad_column : str, default "dyad"

    Returns
    -------
    DataFrame
        One row per test: the ``by`` columns, ``n_dyads``, ``n_sessions``, ``mean_statistic``,
        ``share_significant`` (sessions with p < .05), ``stouffer_z``, ``p_value`` (normal, in the direction of
        the test's ``alternative``), ``alternative``, ``q_value`` (Benjamini-Hochberg over all rows).
    """
    if z_column not in tests.columns:
        raise AnalysisError(f"the tests table has no {z_column!r} column; columns: {list(tests.columns)}")
    t = tests.copy()
    if dyad_column not in t.columns:
        t[dyad_column] = np.arange(len(t)).astype(str)
    rows = []
    cols = [c for c in by if c in t.columns]
    for key, g in _groups(t, cols):
        g = g[np.isfinite(g[z_column].astype(float))]
        if g.empty:
            continue
        per_dyad = g.groupby(dyad_column)[z_column].agg(lambda z: stouffer(z.to_numpy(float)))
        z = stouffer(per_dyad.to_numpy(float))
        alternative = str(g["alternative"].iloc[0]) if "alternative" in g.columns else "greater"
        rows.append({
            **dict(zip(cols, key)),
            "n_dyads": int(per_dyad.size),
            "n_sessions": int(len(g)),
            "mean_statistic": float(g["statistic"].astype(float).mean()) if "statistic" in g.columns else np.nan,
            "share_significant": float((g["p_value"].astype(float) < 0.05).mean()) if "p_value" in g.columns
            else np.nan,
            "stouffer_z": z,
            "p_value": p_from_z(z, alternative),
            "alternative": alternative,
        })
    out = pd.DataFrame(rows)
    if not out.empty:
        out["q_value"] = fdr_bh(out["p_value"].to_numpy())
    return out


def forest_table(
    tests: pd.DataFrame,
    *,
    analysis: str = "event_locked",
    statistic_name: str = "mean_z_during",
    by: Sequence[str] = ("feature", "code"),
    dyad_column: str = "dyad",
    level: float = 0.95,
) -> pd.DataFrame:
    """Per-session estimates with intervals and their combination, for a forest plot.

    The estimate of a session is its statistic minus the mean of its own null distribution (e.g. the excess of
    z-scored synchrony during the events over shifted events), with a ``level`` interval of +-z * null SD. The
    combined row (``dyad = "combined"``) is the inverse-variance weighted mean of the session estimates with its
    interval, and the Stouffer z and p of :func:`combine_sessions`.

    Returns
    -------
    DataFrame
        ``by`` columns, ``dyad``, ``session``, ``estimate``, ``ci_low``, ``ci_high``, ``weight``, ``p_value``.
    """
    sel = tests
    if "analysis" in tests.columns:
        sel = sel[sel["analysis"] == analysis]
    if "statistic_name" in tests.columns:
        sel = sel[sel["statistic_name"] == statistic_name]
    zq = float(stats.norm.isf((1 - level) / 2))
    rows = []
    cols = [c for c in by if c in sel.columns]
    for key, g in _groups(sel, cols):
        est = (g["statistic"] - g["null_mean"]).to_numpy(float)
        se = g["null_sd"].to_numpy(float)
        ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
        for i, (_, row) in enumerate(g.iterrows()):
            rows.append({
                **dict(zip(cols, key)),
                "dyad": str(row.get(dyad_column, i)),
                "session": str(row.get("session", row.get(dyad_column, i))),
                "estimate": est[i], "ci_low": est[i] - zq * se[i], "ci_high": est[i] + zq * se[i],
                "weight": 1 / se[i] ** 2 if ok[i] else np.nan, "p_value": float(row.get("p_value", np.nan)),
            })
        if ok.any():
            w = 1 / se[ok] ** 2
            mean = float(np.sum(w * est[ok]) / w.sum())
            half = zq / np.sqrt(w.sum())
            combined = combine_sessions(g, by=(), dyad_column=dyad_column) if "z_surrogate" in g.columns else None
            p = float(combined["p_value"].iloc[0]) if combined is not None and len(combined) else np.nan
            rows.append({**dict(zip(cols, key)), "dyad": "combined", "session": "combined", "estimate": mean,
                         "ci_low": mean - half, "ci_high": mean + half, "weight": float(w.sum()), "p_value": p})
    return pd.DataFrame(rows)


def epoch_mixed_model(
    epochs: pd.DataFrame,
    *,
    outcome: str = "mean_sync",
    factor: str = "epoch",
    reference: str | Mapping[str, str] = "random",
    by: Sequence[str] = ("feature", "code"),
    groups: str = "dyad",
    session: str | None = "session",
) -> pd.DataFrame:
    """Epoch-level linear mixed model: ``outcome ~ factor`` with a random intercept per dyad, one fit per ``by``.

    Parameters
    ----------
    epochs : DataFrame
        One row per epoch with ``outcome``, ``factor``, ``groups`` (dyad), optionally ``session`` and the ``by``
        columns (e.g. the epochs tables of :func:`dyadsync.moments.contrasts.epoch_contrasts` from many sessions,
        with ``dyad`` and ``session`` added).
    outcome : str, default "mean_sync"
        Column to model: ``mean_sync`` (synchrony as computed; differences between sessions go to the random
        effects) or ``mean_z`` (within-session z; every session then has mean 0, which makes its epochs negatively
        correlated and the model conservative).
    factor : str, default "epoch"
        Column whose levels are contrasted with ``reference`` (e.g. ``epoch``; ``code`` to compare event types;
        ``feature`` to compare modalities).
    reference : str or mapping, default "random"
        Reference level; or a mapping from each level to its own reference (e.g. ``{"pre": "random", "post":
        "random", "during": "random_during"}``), which fits one model per level on that level and its reference.
    by : sequence of str
        One model per combination of these columns (those present and not equal to ``factor``).
    groups : str, default "dyad"
        Random intercept per level of this column.
    session : str or None, default "session"
        When present and dyads have several sessions, a variance component per session within dyad.

    Returns
    -------
    DataFrame
        One row per contrast: the ``by`` columns, ``term`` (level vs reference), ``level``, ``reference``,
        ``estimate``, ``se``, ``z``, ``p_value``, ``ci_low``, ``ci_high``, ``n_epochs``, ``n_dyads``,
        ``n_sessions``, ``model`` (``mixedlm``; ``ols`` when there is a single dyad; OLS with dyad-clustered
        standard errors, saying why, when the mixed model cannot be fitted), ``converged``,
        ``group_var`` (random-intercept variance), ``fit_notes`` (the fitting's warnings, e.g. a variance
        estimated on the boundary at 0), ``q_value`` (Benjamini-Hochberg over all rows).

    Raises
    ------
    AnalysisError
        When a needed column is missing or the reference level is absent.
    """
    for col in (outcome, factor):
        if col not in epochs.columns:
            raise AnalysisError(f"the epochs table has no {col!r} column; columns: {list(epochs.columns)}")
    data = epochs.copy()
    if groups not in data.columns:
        data[groups] = "all"
    data = data[np.isfinite(data[outcome].astype(float))]
    data[factor] = data[factor].astype(str)
    cols = [c for c in by if c in data.columns and c != factor]
    rows = []
    for key, whole in _groups(data, cols):
        levels = sorted(set(whole[factor]))
        pairs = ([(lv, ref) for lv, ref in reference.items() if lv in levels and ref in levels]
                 if isinstance(reference, Mapping) else [(None, reference)])
        if not isinstance(reference, Mapping) and reference not in levels:
            raise AnalysisError(f"reference level {reference!r} of {factor!r} not found; levels: {levels}")
        for level_only, ref in pairs:
            g = whole if level_only is None else whole[whole[factor].isin([level_only, ref])]
            if g[factor].nunique() < 2:
                continue
            rows += _fit_contrasts(g, dict(zip(cols, key)), outcome, factor, ref, groups, session)
    out = pd.DataFrame(rows)
    if not out.empty:
        out["q_value"] = fdr_bh(out["p_value"].to_numpy())
    return out


def _fit_contrasts(
    g: pd.DataFrame, keys: dict[str, Any], outcome: str, factor: str, reference: str, groups: str,
    session: str | None,
) -> list[dict[str, Any]]:
    """One mixed model ``outcome ~ factor`` (random intercept per group); one row per level against ``reference``."""
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    rows = []
    g = g.rename(columns={outcome: "_y", factor: "_f", groups: "_g"}).reset_index(drop=True)
    formula = f"_y ~ C(_f, Treatment(reference={reference!r}))"
    n_dyads = g["_g"].nunique()
    n_sessions = g[session].nunique() if session and session in g.columns else n_dyads
    converged, group_var, model = True, np.nan, "mixedlm"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = None
        if n_dyads >= 2:
            vc = ({"session": "0 + C(" + session + ")"} if session and session in g.columns
                  and n_sessions > n_dyads else None)
            try:
                fit = smf.mixedlm(formula, g, groups="_g", re_formula="1", vc_formula=vc).fit(
                    reml=True, method=["lbfgs", "powell"])
            except (np.linalg.LinAlgError, ValueError) as exc:
                # a degenerate design (e.g. identical dyads): OLS with dyad-clustered standard errors instead
                fit = smf.ols(formula, g).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(g["_g"])[0]})
                model = f"ols, dyad-clustered SE (mixedlm failed: {exc})"
            else:
                converged = bool(getattr(fit, "converged", True))
                cov_re = np.asarray(fit.cov_re)
                group_var = float(cov_re[0, 0]) if cov_re.size else np.nan
        if fit is None:
            fit = smf.ols(formula, g).fit()
            model = "ols"
    notes = sorted({str(w.message).splitlines()[0] for w in caught
                    if issubclass(w.category, (ConvergenceWarning, UserWarning, RuntimeWarning))})
    ci = fit.conf_int()
    for term in fit.params.index:
        if not term.startswith("C(_f"):
            continue
        level = term.split("[T.")[-1].rstrip("]")
        rows.append({
            **keys,
            "factor": factor,
            "term": f"{level} vs {reference}",
            "level": level,
            "reference": reference,
            "estimate": float(fit.params[term]),
            "se": float(fit.bse[term]),
            "z": float(fit.tvalues[term]),
            "p_value": float(fit.pvalues[term]),
            "ci_low": float(ci.loc[term, 0]),
            "ci_high": float(ci.loc[term, 1]),
            "n_epochs": int(len(g)),
            "n_dyads": int(n_dyads),
            "n_sessions": int(n_sessions),
            "outcome": outcome,
            "model": model,
            "converged": converged,
            "group_var": group_var,
            "fit_notes": "; ".join(notes),
        })
    return rows


def grand_average(curves: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Event-locked curves averaged over sessions, with a normal-theory band from the sessions' null SDs.

    Parameters
    ----------
    curves : DataFrame
        The sessions' ``moments`` tables concatenated (``feature``, ``code``, ``rel_time_s``, ``mean_z``,
        ``null_mean``, ``null_sd``, ``session``).
    level : float, default 0.95

    Returns
    -------
    DataFrame
        Per feature, code and relative time: ``mean_z`` (average over sessions), ``null_mean``, ``null_low``,
        ``null_high`` (null mean +- z * sqrt(sum of null variances) / n, sessions being independent), ``n_sessions``.
    """
    zq = float(stats.norm.isf((1 - level) / 2))
    cols = [c for c in ("feature", "code") if c in curves.columns]
    g = curves.groupby([*cols, "rel_time_s"], sort=True)
    out = g.agg(mean_z=("mean_z", "mean"), null_mean=("null_mean", "mean"), n_sessions=("mean_z", "count"),
                var_sum=("null_sd", lambda s: float(np.nansum(np.asarray(s, float) ** 2)))).reset_index()
    half = zq * np.sqrt(out["var_sum"]) / out["n_sessions"].clip(lower=1)
    out["null_low"], out["null_high"] = out["null_mean"] - half, out["null_mean"] + half
    return out.drop(columns="var_sum")


def across_dyads(
    tests: pd.DataFrame, epochs: pd.DataFrame | None = None, curves: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Every across-dyad analysis of a set of sessions, from their concatenated tidy tables.

    Parameters
    ----------
    tests : DataFrame
        The sessions' ``moment_tests`` tables concatenated, with ``session`` and ``dyad`` columns.
    epochs : DataFrame or None
        The sessions' ``moment_epochs`` tables concatenated, with ``session`` and ``dyad`` columns.
    curves : DataFrame or None
        The sessions' ``moments`` tables (event-locked curves) concatenated.

    Returns
    -------
    dict of DataFrame
        ``combined`` (:func:`combine_sessions` over every test), ``forest`` (:func:`forest_table` of the
        event-locked test), ``grand_average`` (:func:`grand_average` of the curves), ``mixed_model``: PRE/DURING/POST against random baseline epochs per feature and code,
        and, when present, DURING epochs of every code against the first code (event types) and of every feature
        against the first feature (modalities), all in one table with ``q_value`` over all contrasts.
    """
    out = {"combined": combine_sessions(tests), "forest": forest_table(tests), "mixed_model": pd.DataFrame(),
           "grand_average": grand_average(curves) if curves is not None and len(curves) else pd.DataFrame()}
    if epochs is None or epochs.empty or epochs["dyad"].nunique() < 2:
        return out
    reference: str | dict[str, str] = "random"
    if "random_during" in set(epochs["epoch"]):
        reference = {"pre": "random", "during": "random_during", "post": "random"}
    models = [epoch_mixed_model(epochs, factor="epoch", reference=reference)]
    during = epochs[epochs["epoch"] == "during"]
    codes = sorted(during["code"].astype(str).unique())
    if len(codes) > 1:
        models.append(epoch_mixed_model(during, factor="code", reference=codes[0], by=("feature",), outcome="mean_z"))
    features = sorted(during["feature"].astype(str).unique()) if "feature" in during.columns else []
    if len(features) > 1:
        models.append(epoch_mixed_model(during, factor="feature", reference=features[0], by=("code",),
                                        outcome="mean_z"))
    table = pd.concat([m for m in models if len(m)], ignore_index=True) if any(len(m) for m in models) else pd.DataFrame()
    if len(table):
        table["q_value"] = fdr_bh(table["p_value"].to_numpy())
    out["mixed_model"] = table
    return out
