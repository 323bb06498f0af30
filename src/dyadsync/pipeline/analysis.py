"""The part of a session run after feature extraction: synchrony of every feature, then the moments analyses.

:func:`analyse_features` works on any long feature table (extracted from a video, read from MEA files, simulated),
so that ``dyadsync run``, ``dyadsync moments``, the batch's across-dyad analyses and a developer's own script
compute synchrony the same way: :func:`prepare_feature` applies the pipeline's ``[preprocess]`` settings and
:func:`feature_synchrony` its ``[synchrony]`` settings.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError, DyadsyncWarning
from ..io.tables import feature_names
from ..moments.peaks import shifted_pair_synchrony
from ..moments.session import MomentsResult, analyse_moments
from ..preprocess import Pair, prepare_pair
from ..synchrony import WCC, global_index, summarize, windowed_cross_correlation
from ..synchrony.wcc import empty_sync_table, sync_table
from .config import PipelineConfig


def prepare_feature(features: pd.DataFrame, feature: str, config: PipelineConfig) -> Pair:
    """One feature of both persons on a regular grid, with the pipeline's ``[preprocess]`` settings.

    Raises
    ------
    AnalysisError
        When the feature or a person is missing, or a series has no finite value.
    """
    return prepare_pair(features, feature, config.persons.names, **dataclasses.asdict(config.preprocess))


def feature_synchrony(pair: Pair, config: PipelineConfig) -> WCC:
    """Windowed cross-lagged correlation of a prepared pair with the pipeline's ``[synchrony]`` settings."""
    return windowed_cross_correlation(pair.a, pair.b, rate_hz=pair.rate_hz, t0_s=float(pair.times_s[0]),
                                      **config.synchrony.wcc_kwargs())


def synchrony_failed(info: dict[str, Any]) -> bool:
    """Whether no synchrony series at all came out (every feature failed, or none was there to analyse)."""
    return not any("failed" not in i for i in info.values())


def synchrony_settings(config: PipelineConfig) -> tuple[Any, ...]:
    """Everything that decides a feature's synchrony besides its data: preprocessing and WCC settings."""
    s = config.synchrony
    return (*dataclasses.astuple(config.preprocess), *s.wcc_kwargs().values(), s.summary)


@dataclass
class Analysis:
    """Synchrony and moments computed from a feature table (see :func:`analyse_features`)."""

    synchrony: pd.DataFrame
    synchrony_lags: pd.DataFrame
    moments: pd.DataFrame | None
    moment_tests: pd.DataFrame | None
    info: dict[str, Any]
    moment_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    moments_info: dict[str, Any] | None = None


def analyse_features(
    features: pd.DataFrame, events: pd.DataFrame | None, config: PipelineConfig, *, turns: pd.DataFrame | None = None
) -> Analysis:
    """Synchrony of every configured feature and, when events are given, the moments analyses.

    This is the part of a session run after feature extraction, usable on any long feature table (for instance
    motion energy read from MEA files, or simulated series).

    Parameters
    ----------
    features : DataFrame
        Long feature table holding the configured features for both persons.
    events : DataFrame or None
        Events table; None skips the moments analyses.
    config : PipelineConfig
    turns : DataFrame or None
        The voice stage's turn table (:data:`dyadsync.features.voice.TURN_COLUMNS`); None computes it from the
        voice features of ``features`` when the pipeline has a voice stage.

    Returns
    -------
    Analysis
    """
    synchrony, lags_table, info = _synchrony_stage(features, config)
    vocal, vocal_info = _vocal_synchrony_stage(features, config, turns)
    if vocal is not None:
        synchrony = pd.concat([synchrony.astype({"feature": str}), vocal], ignore_index=True)
        synchrony["feature"] = synchrony["feature"].astype("category")
        for name, series in vocal.groupby("feature", sort=False):
            info[str(name)] = {
                "method": "windowed cross-lagged correlation of vocal arousal" if name == "arousal_wcc"
                else "turn-based entrainment (Levitan & Hirschberg 2011)",
                "global_index": float("nan"), "mean_sync": float(np.nanmean(series["sync"]))
                if series["sync"].notna().any() else float("nan"),
                "n_windows": int(series["sync"].notna().sum()), "preprocess": {},
                **{k: v for k, v in vocal_info.items() if k != "series"},
            }
    if events is None:
        return Analysis(synchrony, lags_table, None, None, info)
    result = _moments_stage(features, synchrony, events, config)
    return Analysis(synchrony, lags_table, result.tables["moments"], result.tables["moment_tests"], info,
                    moment_tables=result.tables, moments_info=result.info)


def _vocal_synchrony_stage(
    features: pd.DataFrame, config: PipelineConfig, turns: pd.DataFrame | None
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """Vocal synchrony series (entrainment, arousal) when the feature table holds the voice features."""
    from ..features.voice import features_to_prosody, turn_table
    from ..synchrony.entrainment import vocal_synchrony

    if "voice" not in config.pipeline.stages or "f0_st" not in feature_names(features):
        return None, {}
    v = config.voice
    prosody = features_to_prosody(features)
    if turns is None:
        turns = turn_table(prosody, bridge_s=v.bridge_s, min_pause_s=v.min_pause_s)
    return vocal_synchrony(
        prosody, config.persons.names, turns=turns, features=v.entrainment, measures=v.measures,
        window_turns=v.window_turns, step_s=v.step_s, arousal=v.arousal, arousal_window_s=v.arousal_window_s,
        arousal_max_lag_s=v.arousal_max_lag_s, duration_s=float(features["time_s"].max()),
    )


def _synchrony_stage(
    features: pd.DataFrame, config: PipelineConfig
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Windowed cross-lagged synchrony of every configured feature present in the table.

    Returns the synchrony table, the per-lag table and the info per feature. A feature whose synchrony cannot be
    computed (:class:`~dyadsync.errors.AnalysisError`, e.g. no finite value for one person) is left out with a
    :class:`~dyadsync.errors.DyadsyncWarning`; its info is ``{"failed": message, "error_type": name}``, as for a
    failed feature stage.
    """
    s = config.synchrony
    persons = config.persons.names
    rows, lag_rows, info = [], [], {}
    present = feature_names(features)
    for feature in s.features:
        if feature not in present:
            # its stage was skipped (a warning says why)
            continue
        try:
            pair = prepare_feature(features, feature, config)
            wcc = feature_synchrony(pair, config)
        except AnalysisError as exc:
            # One feature without usable data (e.g. a face never detected for one person) must not cost the
            # other features' synchrony: it is left out, with a warning and a record in run.json.
            warnings.warn(f"synchrony of {feature} skipped: {exc}", DyadsyncWarning, stacklevel=2)
            info[feature] = {"failed": str(exc), "error_type": type(exc).__name__}
            continue
        table = sync_table(summarize(wcc, summary=s.summary), feature, persons)
        rows.append(table)
        n_w, n_l = wcc.values.shape
        lag_rows.append(
            pd.DataFrame(
                {
                    "time_s": np.repeat(wcc.times_s, n_l),
                    "feature": feature,
                    "lag_s": np.tile(wcc.lags_s, n_w),
                    "value": wcc.values.ravel(),
                }
            )
        )
        info[feature] = {
            "preprocess": pair.info,
            "wcc": wcc.params,
            "global_index": global_index(wcc),
            "mean_sync": float(np.nanmean(table["sync"])),
            "n_windows": int(n_w),
        }
    if not rows:
        empty = empty_sync_table()
        lags_empty = pd.DataFrame({"time_s": pd.Series(dtype=float), "feature": pd.Series(dtype=object),
                                   "lag_s": pd.Series(dtype=float), "value": pd.Series(dtype=float)})
        return empty, lags_empty, info
    synchrony = pd.concat(rows, ignore_index=True)
    lags_table = pd.concat(lag_rows, ignore_index=True)
    for t in (synchrony, lags_table):
        t["feature"] = t["feature"].astype("category")
    return synchrony, lags_table, info


def _moments_stage(
    features: pd.DataFrame, synchrony: pd.DataFrame, events: pd.DataFrame, config: PipelineConfig
) -> MomentsResult:
    """Every configured moments analysis (:func:`dyadsync.moments.session.analyse_moments`)."""
    m = config.moments
    surrogates, records = None, {}
    if {"peaks", "matching", "coincidence"} & set(m.analyses):
        surrogates, records = surrogate_synchrony(features, config)
    window = {f: config.synchrony.window_s for f in config.synchrony.features}
    result = analyse_moments(synchrony, events, m, window_s=window, surrogate_sync=surrogates)
    result.info["surrogates"] = records
    return result


def session_peaks(
    synchrony: pd.DataFrame, features: pd.DataFrame, config: PipelineConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synchrony peaks and episodes of every feature with surrogates, as ``analyse_moments`` finds them (the
    ``sync_peaks`` and ``sync_episodes`` tables), for a run that had no codes to analyse."""
    from ..moments.peaks import EPISODE_COLUMNS, PEAK_COLUMNS, synchrony_peaks

    m = config.moments
    surrogates, _ = surrogate_synchrony(features, config)
    peaks, episodes = [], []
    for feature, sync in synchrony.groupby(synchrony["feature"].astype(str), sort=False):
        if feature not in surrogates:
            continue
        s = sync.sort_values("time_s")
        found = synchrony_peaks(s["time_s"].to_numpy(float), s["sync"].to_numpy(float),
                                surrogate_values=surrogates[feature], quantile=float(m.peak_quantile),
                                prominence_sd=float(m.peak_prominence_sd),
                                distance_s=float(m.peak_distance_s) or None, window_s=config.synchrony.window_s,
                                min_episode_s=float(m.min_episode_s))
        peaks.append(found.peaks.assign(feature=feature))
        episodes.append(found.episodes.assign(feature=feature))
    cols_p, cols_e = ["feature", *PEAK_COLUMNS], ["feature", *EPISODE_COLUMNS]
    return (pd.concat(peaks, ignore_index=True)[cols_p] if peaks else pd.DataFrame(columns=cols_p),
            pd.concat(episodes, ignore_index=True)[cols_e] if episodes else pd.DataFrame(columns=cols_e))


def surrogate_synchrony(
    features: pd.DataFrame, config: PipelineConfig
) -> tuple[dict[str, list[np.ndarray]], dict[str, Any]]:
    """Synchrony of shifted-pair surrogates per feature, with the run's preprocessing and window parameters.

    Used for the synchrony-peak threshold (``[moments] n_surrogates`` pairs, person B circularly shifted against A
    by at least ``surrogate_min_shift_s``, default two windows or 10% of the session). Features absent from the
    table are left out; a feature that cannot be prepared (no finite value) is recorded as
    ``{"failed": message, "error_type": name}`` and left out.
    """
    s, m = config.synchrony, config.moments
    out, records = {}, {}
    present = feature_names(features)
    for k, feature in enumerate(s.features):
        if feature not in present:
            continue
        try:
            pair = prepare_feature(features, feature, config)
        except AnalysisError as exc:
            # the synchrony stage has already left this feature out, with a warning
            records[feature] = {"failed": str(exc), "error_type": type(exc).__name__}
            continue
        out[feature], records[feature] = shifted_pair_synchrony(
            pair.a, pair.b, rate_hz=pair.rate_hz, n_surrogates=m.n_surrogates,
            min_shift_s=m.surrogate_min_shift_s or None, summary=s.summary, seed=m.seed + 104729 * (k + 1),
            **s.wcc_kwargs(),
        )
    return out, records
