"""The one shape of every feature table: long format with ``time_s``, ``person``, ``feature``, ``value``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import AnalysisError

#: ``person`` value of whole-frame quality measures (artefact flags), which belong to no person.
SCENE = "scene"

FEATURE_COLUMNS = ("time_s", "person", "feature", "value")


def long_table(times: np.ndarray, columns: Mapping[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    """Stack per-(person, feature) series sampled at ``times`` into the long feature table.

    Parameters
    ----------
    times : ndarray, shape (n,)
        Time of each sample in seconds.
    columns : mapping of (person, feature) to ndarray, shape (n,)

    Returns
    -------
    DataFrame
        Columns ``time_s`` (float64), ``person`` (category), ``feature`` (category), ``value`` (float64),
        sorted by person, feature, time.
    """
    times = np.asarray(times, dtype=float)
    parts = []
    for (person, feature), values in columns.items():
        values = np.asarray(values, dtype=float)
        if values.shape != times.shape:
            raise ValueError(f"{person}/{feature}: {values.shape[0]} values for {times.shape[0]} times")
        parts.append(pd.DataFrame({"time_s": times, "person": person, "feature": feature, "value": values}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("time_s", "value") else object) for c in FEATURE_COLUMNS})
    table = pd.concat(parts, ignore_index=True)
    table["person"] = table["person"].astype("category")
    table["feature"] = table["feature"].astype("category")
    return table


def to_wide(features: pd.DataFrame, feature: str | None = None) -> pd.DataFrame:
    """Pivot a long feature table to one column per (person, feature), indexed by ``time_s``.

    Parameters
    ----------
    features : DataFrame
        Long feature table.
    feature : str or None
        Keep only this feature; the columns are then just the persons.

    Returns
    -------
    DataFrame
        Index ``time_s``; columns a (person, feature) MultiIndex, or the persons when ``feature`` is given.
    """
    if feature is not None:
        sub = features[features["feature"] == feature]
        if sub.empty:
            known = sorted(map(str, features["feature"].unique()))
            raise AnalysisError(f"no feature {feature!r} in the table; it has: {', '.join(known)}")
        wide = sub.pivot_table(index="time_s", columns="person", values="value", observed=True, dropna=False)
        wide.columns = wide.columns.astype(str)
        wide.columns.name = None
        return wide
    wide = features.pivot_table(
        index="time_s", columns=["person", "feature"], values="value", observed=True, dropna=False
    )
    return wide


def concat_tables(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """One long feature table from several (categories re-derived over all of them)."""
    if len(tables) == 1:
        return tables[0]
    combined = pd.concat([t.astype({"person": str, "feature": str}) for t in tables], ignore_index=True)
    return combined.astype({"person": "category", "feature": "category"})
