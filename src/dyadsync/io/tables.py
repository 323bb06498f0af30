"""The one shape of every feature table: long format with ``time_s``, ``person``, ``feature``, ``value``.

Feature extractors write it, MEA files are read into it, preprocessing and synchrony read from it, and a run
folder's ``features.parquet`` holds it (see docs/codebook.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

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
        Columns ``time_s`` (float64), ``person`` (category), ``feature`` (category), ``value`` (float64); the
        rows of each (person, feature) in turn, in the order of ``columns``, each over ``times``.
    """
    times = np.asarray(times, dtype=float)
    if not columns:
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("time_s", "value") else object) for c in FEATURE_COLUMNS})
    n = times.shape[0]
    values = np.empty(n * len(columns))
    for k, ((person, feature), column) in enumerate(columns.items()):
        column = np.asarray(column, dtype=float)
        if column.shape != times.shape:
            raise AnalysisError(f"{person}/{feature}: {column.shape[0]} values for {n} times")
        values[k * n : (k + 1) * n] = column
    # person and feature are built as categorical codes, one small integer per row: a 30-minute pose table has
    # ~2.5 million rows per person, whose strings would need several hundred MB on the way.
    table = {"time_s": np.tile(times, len(columns))}
    for col, labels in (("person", [key[0] for key in columns]), ("feature", [key[1] for key in columns])):
        categories = sorted(set(labels))
        code = {label: i for i, label in enumerate(categories)}
        dtype = np.int8 if len(categories) < 128 else np.int16 if len(categories) < 32768 else np.int32
        codes = np.repeat(np.array([code[label] for label in labels], dtype=dtype), n)
        table[col] = pd.Categorical.from_codes(codes, categories=categories)
    table["value"] = values
    return pd.DataFrame(table, columns=list(FEATURE_COLUMNS), copy=False)


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
    """One long feature table from several: ``person`` and ``feature`` stay categorical (categories united).

    The category columns are recoded, never turned into strings: a 30-minute multimodal session has ~8 million
    rows, whose strings would cost several hundred MB.
    """
    if len(tables) == 1:
        return tables[0]
    combined = pd.concat([t.drop(columns=["person", "feature"]) for t in tables], ignore_index=True)
    for col in ("person", "feature"):
        parts = [t[col] if isinstance(t[col].dtype, pd.CategoricalDtype) else t[col].astype("category")
                 for t in tables]
        united = union_categoricals([part.array for part in parts], sort_categories=True)
        combined[col] = pd.Categorical.from_codes(united.codes, dtype=pd.CategoricalDtype(united.categories))
    return combined[[c for c in tables[0].columns]]


def feature_names(features: pd.DataFrame) -> set[str]:
    """Names of the features present in a long feature table (computed on the categories, not on every row)."""
    if not len(features):
        return set()
    return {str(f) for f in pd.unique(features["feature"])}
