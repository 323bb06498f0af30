"""Vocal synchrony: turn-based entrainment (Levitan & Hirschberg 2011) and windowed vocal-arousal synchrony.

People rarely talk at once, so frame-by-frame correlation of two voices has nothing to correlate. Vocal
synchrony is measured instead

* **between adjacent turns** (:func:`turn_exchanges`, :func:`entrainment_series`): at each change of speaker,
  the turn-level feature (f0 mean in semitones, intensity, articulation rate) of the turn that ends and of the
  turn that answers it. Over a sliding window of ``window_turns`` exchanges: *proximity* = minus the mean
  absolute difference between the two (higher = more alike), *convergence* = Pearson correlation of the
  proximity with time (positive = becoming more alike), *synchrony* = Pearson correlation of A's and B's values
  across the exchanges (moving up and down together);
* **of vocal arousal** (:func:`arousal_synchrony`): each person's arousal (mean of z-scored f0 in semitones and
  z-scored intensity over their voiced frames) is smoothed, held through their silences, and correlated between
  the persons in windows with lags (windowed cross-lagged correlation), keeping only windows where **both**
  speak at least ``min_speech_s``.

Both give a series on a regular time grid with the columns of ``synchrony.parquet`` (``time_s``, ``feature``,
``sync``...), so they flow into the same moments analyses as movement synchrony.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_option, check_positive
from ..errors import AnalysisError, ConfigError
from ._corr import count, number, two_persons
from .wcc import (
    SYNC_COLUMNS as SYNC_COLUMNS,  # re-exported: the columns of the tables made here
)
from .wcc import empty_sync_table, summarize, sync_table, windowed_cross_correlation

#: Turn-table columns that entrainment can use, by short name.
TURN_FEATURES = {"f0": "f0_mean_st", "intensity": "intensity_mean_db", "rate": "articulation_rate_syl_s"}

MEASURES = ("proximity", "convergence", "synchrony")

#: Prosody-table columns the arousal series need.
AROUSAL_COLUMNS = ("time_s", "speaker", "voiced", "f0_st", "intensity_db")


def turn_exchanges(turns: pd.DataFrame, persons: Sequence[str], feature: str) -> pd.DataFrame:
    """Adjacent turn pairs with a change of speaker, oriented as (person A's value, person B's value).

    Parameters
    ----------
    turns : DataFrame
        Turn table (``speaker``, ``onset_s``, ``offset_s`` and the feature column).
    persons : two str
        Person A and B.
    feature : str
        A turn-table column (``f0_mean_st``...) or a short name in :data:`TURN_FEATURES`.

    Returns
    -------
    DataFrame
        ``time_s`` (onset of the answering turn), ``first`` (who spoke first), ``a_value``, ``b_value``,
        ``difference`` (B - A), ``proximity`` (-|B - A|).
    """
    if not isinstance(feature, str):
        raise ConfigError(f"feature must be a name, got {feature!r}")
    persons = two_persons(persons)
    col = TURN_FEATURES.get(feature, feature)
    _table("turn", turns, ("speaker", "onset_s", col))
    tt = turns.sort_values("onset_s").reset_index(drop=True)
    tt = tt[tt["speaker"].astype(str).isin(list(persons))].reset_index(drop=True)
    rows = []
    for i in range(1, len(tt)):
        prev, cur = tt.iloc[i - 1], tt.iloc[i]
        if str(prev["speaker"]) == str(cur["speaker"]):
            continue
        va, vb = (prev[col], cur[col]) if str(prev["speaker"]) == persons[0] else (cur[col], prev[col])
        if not (np.isfinite(va) and np.isfinite(vb)):
            continue
        rows.append({"time_s": float(cur["onset_s"]), "first": str(prev["speaker"]), "a_value": float(va),
                     "b_value": float(vb), "difference": float(vb - va), "proximity": -abs(float(vb - va))})
    return pd.DataFrame(rows, columns=["time_s", "first", "a_value", "b_value", "difference", "proximity"])


def entrainment_series(
    turns: pd.DataFrame,
    persons: Sequence[str],
    *,
    feature: str = "f0",
    window_turns: int = 4,
    step_s: float = 1.0,
    duration_s: float | None = None,
    min_pairs: int = 4,
) -> pd.DataFrame:
    """Proximity, convergence and synchrony of one turn-level feature over a sliding window of exchanges.

    Parameters
    ----------
    turns : DataFrame
        Turn table.
    persons : two str
    feature : str, default "f0"
        ``f0`` (mean f0 in semitones), ``intensity`` (mean intensity, dB), ``rate`` (articulation rate) or a
        turn-table column.
    window_turns : int, default 4
        Exchanges per window: at each grid time, the ``window_turns`` exchanges nearest to it.
    step_s : float, default 1.0
        Spacing of the regular output grid, s.
    duration_s : float or None
        Length of the session: the grid runs from 0 to it (None: to the last exchange).
    min_pairs : int, default 4
        Fewest exchanges for the correlation measures (convergence, synchrony).

    Returns
    -------
    DataFrame
        ``time_s``, ``window_start_s``, ``window_end_s`` (times of the first and last exchange in the window),
        ``proximity``, ``convergence``, ``synchrony``, ``n_pairs``. Times before the first exchange and after the
        last are NaN.
    """
    step_s = check_positive("step_s", step_s)
    if count("window_turns", window_turns, minimum=0) < 1:
        raise AnalysisError(f"window_turns must be at least 1, got {window_turns}")
    min_pairs = count("min_pairs", min_pairs, minimum=0)
    duration_s = None if duration_s is None else number("duration_s", duration_s)
    ex = turn_exchanges(turns, persons, feature)
    end = duration_s if duration_s is not None else (float(ex["time_s"].max()) if len(ex) else 0.0)
    grid = np.arange(0.0, end + 1e-9, step_s)
    out = {k: np.full(grid.size, np.nan) for k in ("window_start_s", "window_end_s", *MEASURES)}
    n_pairs = np.zeros(grid.size, dtype=np.int64)
    if len(ex) >= 1:
        et = ex["time_s"].to_numpy()
        w = min(window_turns, len(ex))
        inside = (grid >= et[0]) & (grid <= et[-1])
        pos = np.searchsorted(et, grid)
        first = np.clip(pos - w // 2, 0, len(ex) - w)
        for g in np.flatnonzero(inside):
            sl = slice(first[g], first[g] + w)
            win = ex.iloc[sl]
            out["window_start_s"][g] = win["time_s"].iloc[0]
            out["window_end_s"][g] = win["time_s"].iloc[-1]
            out["proximity"][g] = win["proximity"].mean()
            n_pairs[g] = len(win)
            if len(win) >= min_pairs:
                out["convergence"][g] = _pearson(win["time_s"].to_numpy(), win["proximity"].to_numpy())
                out["synchrony"][g] = _pearson(win["a_value"].to_numpy(), win["b_value"].to_numpy())
    return pd.DataFrame({"time_s": grid, **out, "n_pairs": n_pairs})


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def vocal_arousal(prosody: pd.DataFrame, persons: Sequence[str]) -> pd.DataFrame:
    """Per-frame vocal arousal of each person: mean of their z-scored f0 (semitones) and z-scored intensity.

    Each person is z-scored against their own voiced frames, so arousal is relative to the person's usual voice.

    Returns
    -------
    DataFrame
        ``time_s`` index, one column per person; NaN where the person is not voicing.
    """
    _table("prosody", prosody, AROUSAL_COLUMNS)
    cols = {}
    times = None
    for person in two_persons(persons):
        grp = prosody[prosody["speaker"].astype(str) == person].sort_values("time_s")
        if grp.empty:
            raise AnalysisError(f"no prosody for {person!r}")
        times = grp["time_s"].to_numpy(float) if times is None else times
        st = grp["f0_st"].to_numpy(float)
        db = np.where(grp["voiced"].to_numpy(bool), grp["intensity_db"].to_numpy(float), np.nan)
        z = []
        for v in (st, db):
            ok = np.isfinite(v)
            sd = np.std(v[ok]) if ok.sum() > 1 else 0.0
            z.append((v - np.mean(v[ok])) / sd if sd > 0 else np.full(v.shape, np.nan))
        cols[person] = (z[0] + z[1]) / 2
    return pd.DataFrame(cols, index=pd.Index(times, name="time_s"))


def arousal_synchrony(
    prosody: pd.DataFrame,
    persons: Sequence[str],
    *,
    window_s: float = 30.0,
    step_s: float = 1.0,
    max_lag_s: float = 5.0,
    smooth_s: float = 2.0,
    min_speech_s: float = 3.0,
) -> pd.DataFrame:
    """Windowed cross-lagged correlation of the two persons' vocal arousal, in windows where both speak.

    Parameters
    ----------
    prosody : DataFrame
        Prosody table (``time_s``, ``speaker``, ``voiced``, ``f0_st``, ``intensity_db``).
    persons : two str
    window_s, step_s, max_lag_s : float, default 30, 1, 5
        Windowed cross-lagged correlation parameters, s.
    smooth_s : float, default 2
        Each person's arousal is averaged over their voiced frames within this span, then held (carried
        forward) through their silences.
    min_speech_s : float, default 3
        A window counts only when each person voices at least this long in it; others are NaN.

    Returns
    -------
    DataFrame
        The :func:`~dyadsync.synchrony.summarize` columns (signed Fisher z, ``sync`` = value at the best lag).
    """
    check_positive("smooth_s", smooth_s, allow_zero=True)
    check_positive("min_speech_s", min_speech_s, allow_zero=True)
    ar = vocal_arousal(prosody, persons)
    t = ar.index.to_numpy(float)
    if t.size < 2:
        raise AnalysisError("prosody too short for arousal synchrony")
    rate = 1.0 / float(np.median(np.diff(t)))
    width = max(1, int(round(smooth_s * rate)))
    filled = {}
    for p in persons:
        s = ar[p]
        smoothed = s.rolling(width, center=True, min_periods=1).mean().where(s.notna())
        filled[p] = smoothed.ffill().bfill().to_numpy(float)
    wcc = windowed_cross_correlation(filled[persons[0]], filled[persons[1]], rate_hz=rate, window_s=window_s,
                                     step_s=step_s, max_lag_s=max_lag_s, fisher_z=True, absolute=False,
                                     min_valid=0.8, t0_s=float(t[0]))
    table = summarize(wcc, summary="best")
    voiced = np.stack([ar[p].notna().to_numpy() for p in persons], axis=1).astype(float)
    csum = np.vstack([np.zeros((1, 2)), np.cumsum(voiced, axis=0)])
    start = np.searchsorted(t, table["window_start_s"].to_numpy() - 1e-9)
    stop = np.searchsorted(t, table["window_end_s"].to_numpy() + 1e-9)
    speech = (csum[stop] - csum[start]) / rate
    ok = (speech >= min_speech_s).all(axis=1)
    cols = ["sync", "best_lag_s", "best_sync", "lag0", "a_leads", "b_leads", "all_lags"]
    table.loc[~ok, cols] = np.nan
    return table


def vocal_synchrony(
    prosody: pd.DataFrame,
    persons: Sequence[str],
    *,
    turns: pd.DataFrame | None = None,
    features: Sequence[str] = ("f0", "intensity"),
    measures: Sequence[str] = MEASURES,
    window_turns: int = 4,
    step_s: float = 1.0,
    arousal: bool = True,
    arousal_window_s: float = 30.0,
    arousal_max_lag_s: float = 5.0,
    duration_s: float | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All vocal synchrony series in the shape of ``synchrony.parquet``, for the moments analyses.

    Parameters
    ----------
    prosody : DataFrame
        Prosody table.
    persons : two str
    turns : DataFrame or None
        Turn table (computed from ``prosody`` when None).
    features : sequence of str, default ("f0", "intensity")
        Turn-level features for entrainment (:data:`TURN_FEATURES`).
    measures : sequence of str
        Which of proximity, convergence, synchrony.
    window_turns, step_s : see :func:`entrainment_series`.
    arousal : bool, default True
        Add the windowed arousal synchrony (feature ``arousal_wcc``).
    arousal_window_s, arousal_max_lag_s : float
        See :func:`arousal_synchrony`.
    duration_s : float or None
        Session length (grid end).

    Returns
    -------
    table : DataFrame
        Columns :data:`SYNC_COLUMNS`; ``feature`` is ``<feature>_<measure>`` (``f0_proximity``...) or
        ``arousal_wcc``.
    info : dict
        Parameters, number of exchanges, mean of each series.
    """
    from ..features.voice import PROSODY_COLUMNS, turn_table

    for m in _names("measures", measures):
        check_option("measure", m, MEASURES)
    persons = two_persons(persons)
    count("window_turns", window_turns, minimum=0)
    check_positive("step_s", step_s)
    if duration_s is not None:
        number("duration_s", duration_s)
    if not isinstance(arousal, (bool, np.bool_)):
        raise ConfigError(f"arousal must be True or False, got {arousal!r}")
    if turns is None:
        turns = turn_table(_table("prosody", prosody, PROSODY_COLUMNS))
    elif arousal:
        _table("prosody", prosody, AROUSAL_COLUMNS)
    if duration_s is None:
        duration_s = float(prosody["time_s"].max()) if len(prosody) else 0.0
    parts, info = [], {"window_turns": window_turns, "step_s": step_s, "series": {}}
    for feat in _names("features", features):
        check_option("entrainment feature", feat, tuple(TURN_FEATURES))
        series = entrainment_series(turns, persons, feature=feat, window_turns=window_turns, step_s=step_s,
                                    duration_s=duration_s)
        info["n_exchanges"] = int(len(turn_exchanges(turns, persons, feat)))
        for m in measures:
            name = f"{feat}_{m}"
            parts.append(_as_sync(series["time_s"], name, persons, series["window_start_s"], series["window_end_s"],
                                  series[m], 100.0 * series["n_pairs"] / window_turns))
            info["series"][name] = {"mean": _nanmean(series[m])}
    if arousal:
        try:
            table = arousal_synchrony(prosody, persons, window_s=arousal_window_s, step_s=step_s,
                                      max_lag_s=arousal_max_lag_s)
            table = sync_table(table, "arousal_wcc", persons)
            parts.append(table)
            info["series"]["arousal_wcc"] = {"mean": _nanmean(table["sync"]), "window_s": arousal_window_s,
                                             "max_lag_s": arousal_max_lag_s}
        except AnalysisError as exc:
            info["series"]["arousal_wcc"] = {"skipped": str(exc)}
    if not parts:
        return empty_sync_table(), info
    return pd.concat(parts, ignore_index=True), info


def _nanmean(x: Any) -> float:
    v = np.asarray(x, dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def _as_sync(times: Any, name: str, persons: Sequence[str], start: Any, end: Any, sync: Any,
             valid_pct: Any) -> pd.DataFrame:
    summaries = pd.DataFrame({"time_s": np.asarray(times, float), "window_start_s": np.asarray(start, float),
                              "window_end_s": np.asarray(end, float), "sync": np.asarray(sync, float),
                              "valid_pct": np.asarray(valid_pct, float)})
    return sync_table(summaries, name, list(persons))


def _names(name: str, value: Any) -> tuple[str, ...]:
    """A sequence of option names (not one bare string), else a ConfigError."""
    if isinstance(value, str) or not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{name} must be a list of names, got {value!r}")
    return tuple(value)


def _table(name: str, frame: Any, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` if it is a DataFrame with every one of ``columns``, else an AnalysisError saying what is missing."""
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError(f"the {name} table must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AnalysisError(f"the {name} table has no column {', '.join(map(repr, missing))}")
    return frame
