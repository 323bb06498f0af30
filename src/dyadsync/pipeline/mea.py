"""Synchrony of existing MEA files in batch: the engine behind ``dyadsync mea``.

Input is MEA text files (rMEA format) or folders of them; a folder's name is the group of the dyads in it (a
file given directly belongs to the group named after its folder). For each dyad: read and check the file,
optionally smooth and scale, compute windowed cross-lagged correlation (dyadsync's engine, or rMEA's exact
rules with ``rmea=True``), and write its windows x lags table. Then ``summary.csv`` with one row per dyad,
optionally pseudo-dyad surrogates (persons of different dyads paired, as rMEA's ``shuffle``) with per-dyad and
per-group comparisons, figures, a listing of the files that failed (the others still finish) and ``run.json``.
Every file is written atomically.
"""

from __future__ import annotations

import math
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from .._validate import check_positive
from ..errors import ConfigError, DyadsyncError, DyadsyncWarning, MEAFileError
from ..io.mea_files import read_mea_series
from ..io.store import atomic_path, write_csv, write_json
from ..synchrony import (
    WCC,
    compare,
    compare_groups,
    global_index,
    pseudo_dyad_pairs,
    summarize,
    windowed_cross_correlation,
)
from ..synchrony.rmea import lag_column_names, mea_ccf, mea_scale, mea_smooth
from .layout import MEA_FILES

#: File name endings read from an input folder (as rMEA's ``readMEA``).
MEA_SUFFIXES = (".txt", ".csv")

#: Per-window columns written after the lag columns of each dyad's table.
WINDOW_COLUMNS = ("all_lags", "a_leads", "b_leads", "lag0", "best_lag_s", "best_sync", "peak_lag_s", "peak_sync")


@dataclass
class MEAOptions:
    """Parameters of a batch run (the ``dyadsync mea`` options).

    Attributes
    ----------
    rate_hz : float
        Frame rate of the MEA files, in Hz (the files do not say).
    window_s, step_s, max_lag_s : float
        Window length, step between windows and largest lag, in seconds.
    rmea : bool
        rMEA 1.3.0's exact rules (forward windows, its missing-value rules, its smoothing) instead of dyadsync's.
    signed : bool
        Keep the sign of the correlations (rMEA's ``ABS = FALSE``).
    fisher_z : bool
        Fisher's z of the correlations (rMEA's ``r2Z``).
    smooth_s : float
        Moving-average width in seconds before correlating (0: none; rMEA's ``MEAsmooth`` uses 0.5).
    scale : bool
        Divide each series by its standard deviation (rMEA's ``MEAscale``).
    pseudo : int or None
        Number of pseudo-dyads (0: none; None: all cross pairs).
    keep_roles : bool
        Pseudo-dyads pair only A with B.
    seed : int
        Seed of the draw of pseudo-dyads and of the group tests.
    figures : bool
        Write figures.
    min_valid : float
        dyadsync engine: share of valid pairs a window needs.
    """

    rate_hz: float
    window_s: float = 60.0
    step_s: float = 30.0
    max_lag_s: float = 5.0
    rmea: bool = False
    signed: bool = False
    fisher_z: bool = True
    smooth_s: float = 0.0
    scale: bool = False
    pseudo: int | None = 0
    keep_roles: bool = False
    seed: int = 0
    figures: bool = True
    min_valid: float = 0.8

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a parameter out of range, before any file is read."""
        check_positive("--fps", self.rate_hz)
        check_positive("--window", self.window_s)
        check_positive("--step", self.step_s)
        check_positive("--max-lag", self.max_lag_s, allow_zero=True)
        check_positive("--smooth", self.smooth_s, allow_zero=True)
        if self.max_lag_s >= self.window_s:
            raise ConfigError(f"--max-lag ({self.max_lag_s:g} s) must be shorter than --window ({self.window_s:g} s)")
        if self.pseudo is not None and self.pseudo < 0:
            raise ConfigError(f"--pseudo must be a positive number or 'all', got {self.pseudo}")
        if self.rmea:
            for name, value in (("--window", self.window_s), ("--step", self.step_s), ("--max-lag", self.max_lag_s)):
                n = value * self.rate_hz
                if abs(n - round(n)) > 1e-9 * max(1.0, n):
                    raise ConfigError(
                        f"{name} {value:g} s is {n:g} frames at {self.rate_hz:g} fps; --rmea needs whole frames"
                    )
            if self.smooth_s and self.smooth_s * self.rate_hz < 1:
                raise ConfigError(f"--smooth {self.smooth_s:g} s is shorter than one frame at {self.rate_hz:g} fps")


@dataclass
class Dyad:
    """One MEA file as analysed: its series after preprocessing and its synchrony."""

    name: str
    group: str
    path: Path
    a: np.ndarray
    b: np.ndarray
    persons: list[str]
    wcc: WCC
    windows: pd.DataFrame


@dataclass
class MEABatchResult:
    """What a batch run wrote and found.

    Attributes
    ----------
    out_dir : Path
    summary : DataFrame
        One row per analysed dyad (``summary.csv``).
    failures : DataFrame
        ``file``, ``group``, ``problem`` per file that could not be analysed (``failures.csv``).
    pseudo : DataFrame or None
        One row per pseudo-dyad (``pseudo.csv``).
    groups : DataFrame or None
        Real dyads against pseudo-dyads per group (``groups.csv``).
    files : list of Path
        Every file written.
    """

    out_dir: Path
    summary: pd.DataFrame
    failures: pd.DataFrame
    pseudo: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)


def find_mea_inputs(inputs: Sequence[str | Path]) -> tuple[list[tuple[Path, str]], list[dict[str, str]]]:
    """Expand files and folders into (file, group) pairs; inputs that do not exist become failures.

    Parameters
    ----------
    inputs : sequence of str or Path
        MEA files, or folders whose ``.txt``/``.csv`` files are read (not recursively).

    Returns
    -------
    files : list of (Path, str)
        Each file with its group: the name of the folder it is in.
    failures : list of dict
        ``file``, ``group``, ``problem`` for inputs that are missing or empty folders.
    """
    files: list[tuple[Path, str]] = []
    failures: list[dict[str, str]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in MEA_SUFFIXES)
            if not found:
                failures.append({"file": str(path), "group": path.name, "problem": "folder holds no .txt or .csv file"})
            files.extend((p, path.resolve().name) for p in found)
        elif path.is_file():
            files.append((path, path.resolve().parent.name))
        else:
            failures.append({"file": str(path), "group": "", "problem": "no such file or folder"})
    return files, failures


def run_mea_batch(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    options: MEAOptions,
    *,
    progress: Callable[[str], None] | None = None,
) -> MEABatchResult:
    """Synchrony of every dyad in ``inputs``, written to ``out_dir``; bad files are listed, the rest finish.

    Parameters
    ----------
    inputs : sequence of str or Path
        MEA files or folders (a folder's name is the group of its dyads).
    out_dir : str or Path
        Output folder (created). Written: ``dyads/<dyad>.csv`` (windows x lags table with window times and
        per-window summaries), ``summary.csv``, ``failures.csv``, ``run.json``, with pseudo-dyads also
        ``pseudo.csv`` and ``groups.csv``, and ``figures/`` unless figures are off.
    options : MEAOptions
    progress : callable or None
        Called with one line of text per step.

    Returns
    -------
    MEABatchResult

    Raises
    ------
    ConfigError
        For bad options (before anything is read).
    DyadsyncError
        When no dyad at all could be analysed.
    """
    options.validate()
    say = progress or (lambda msg: None)
    out = Path(out_dir)
    started = time.perf_counter()
    files, failures = find_mea_inputs(inputs)
    if not files and failures:
        problems = "; ".join(f"{f['file']}: {f['problem']}" for f in failures)
        raise MEAFileError(None, f"no MEA file to analyse ({problems})")
    names = _dyad_names(files)
    dyads: list[Dyad] = []
    written: list[Path] = []
    for (path, group), name in zip(files, names):
        try:
            dyad = _analyse(path, group, name, options)
        except DyadsyncError as exc:
            problem = str(exc)
            prefix = f"{path}: "
            problem = problem[len(prefix) :] if problem.startswith(prefix) else problem
            failures.append({"file": str(path), "group": group, "problem": problem})
            say(f"failed: {path}: {failures[-1]['problem']}")
            continue
        dyads.append(dyad)
        written.append(write_csv(_dyad_table(dyad), out / MEA_FILES["dyads_dir"] / f"{name}.csv"))
        say(f"{name} ({group}): {len(dyad.windows)} windows, grand mean {global_index(dyad.wcc):.4f}")
    failures_table = pd.DataFrame(failures, columns=["file", "group", "problem"])
    written.append(write_csv(failures_table, out / MEA_FILES["failures"]))
    if not dyads:
        raise MEAFileError(None, f"none of the {len(files)} MEA file(s) could be analysed; see {out / 'failures.csv'}")
    summary = pd.DataFrame([_summary_row(d) for d in dyads])
    rng = np.random.default_rng(options.seed)
    pseudo_table = groups_table = None
    pseudo_wccs: list[WCC] = []
    if options.pseudo != 0:
        if len(dyads) < 2:
            warnings.warn("pseudo-dyads need at least two dyads; none were formed", DyadsyncWarning, stacklevel=2)
        else:
            pseudo_table, pseudo_wccs = _pseudo(dyads, options, rng, say)
            null = pseudo_table["grand_mean"].to_numpy()
            stats = [compare(g, null) for g in summary["grand_mean"]]
            summary["pseudo_n"] = [s["n"] for s in stats]
            summary["pseudo_mean"] = [s["null_mean"] for s in stats]
            summary["pseudo_sd"] = [s["null_sd"] for s in stats]
            summary["pseudo_d"] = [s["d"] for s in stats]
            summary["pseudo_percentile"] = [s["percentile"] for s in stats]
            summary["pseudo_p"] = [s["p"] for s in stats]
            groups_table = _groups(summary, null, rng)
            written.append(write_csv(pseudo_table, out / MEA_FILES["pseudo"]))
            written.append(write_csv(groups_table, out / MEA_FILES["groups"]))
    written.append(write_csv(summary, out / MEA_FILES["summary"]))
    if options.figures:
        written.extend(_figures(dyads, pseudo_wccs, summary, groups_table, out, options))
    record = {
        "dyadsync_version": __version__,
        "python": platform.python_version(),
        "command": "mea",
        "options": asdict(options),
        "engine": "rmea" if options.rmea else "dyadsync",
        "inputs": [str(p) for p in inputs],
        "n_dyads": len(dyads),
        "n_failed": len(failures_table),
        "n_pseudo": 0 if pseudo_table is None else len(pseudo_table),
        "lag_convention": "positive lag: B (second column) follows A (first column)",
    }
    written.append(write_json(record, out / MEA_FILES["run"]))
    # the wall time varies from run to run: kept out of run.json so identical inputs give identical records
    written.append(write_json({"seconds": round(time.perf_counter() - started, 3)}, out / MEA_FILES["timings"]))
    return MEABatchResult(out, summary, failures_table, pseudo_table, groups_table, written)


def _dyad_names(files: list[tuple[Path, str]]) -> list[str]:
    stems = [p.stem for p, _ in files]
    return [f"{g}_{p.stem}" if stems.count(p.stem) > 1 else p.stem for p, g in files]


def _prepare(values: np.ndarray, options: MEAOptions) -> np.ndarray:
    """Smoothing and scaling: rMEA's own with ``rmea``, else dyadsync's centred moving average."""
    if options.smooth_s > 0:
        if options.rmea:
            values = mea_smooth(values, rate_hz=options.rate_hz, window_s=options.smooth_s)
        else:
            from ..preprocess import moving_average

            values = moving_average(values, max(1, int(round(options.smooth_s * options.rate_hz))))
    if options.scale:
        values = mea_scale(values)
    return values


def _engine(a: np.ndarray, b: np.ndarray, options: MEAOptions) -> WCC:
    if options.rmea:
        return mea_ccf(a, b, rate_hz=options.rate_hz, lag_s=options.max_lag_s, window_s=options.window_s,
                       step_s=options.step_s, fisher_z=options.fisher_z, absolute=not options.signed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadsyncWarning)
        return windowed_cross_correlation(a, b, rate_hz=options.rate_hz, window_s=options.window_s,
                                          step_s=options.step_s, max_lag_s=options.max_lag_s,
                                          fisher_z=options.fisher_z, absolute=not options.signed,
                                          min_valid=options.min_valid)


def _analyse(path: Path, group: str, name: str, options: MEAOptions) -> Dyad:
    values, info = read_mea_series(path, allow_constant=False)
    n = len(values)
    need = options.window_s + (options.max_lag_s if options.rmea else 0.0)
    if n / options.rate_hz < need - 1e-9:
        extra = f" plus the {options.max_lag_s:g} s lag that rMEA adds to each window" if options.rmea else ""
        raise MEAFileError(
            path,
            f"{n} frames ({n / options.rate_hz:.1f} s at {options.rate_hz:g} fps) are shorter than one window of "
            f"{options.window_s:g} s{extra}; use a shorter --window (or check --fps)",
        )
    values = _prepare(values, options)
    try:
        wcc = _engine(values[:, 0], values[:, 1], options)
    except DyadsyncError as exc:
        raise MEAFileError(path, str(exc)) from None
    if not np.isfinite(wcc.values).any():
        raise MEAFileError(path, "no window has a correlation (too many missing or constant values)")
    return Dyad(name, group, path, values[:, 0], values[:, 1], info["persons"], wcc, summarize(wcc))


def _dyad_table(dyad: Dyad) -> pd.DataFrame:
    wcc, w = dyad.wcc, dyad.windows
    head = pd.DataFrame(
        {"window": np.arange(1, len(w) + 1), "start_s": wcc.starts_s, "end_s": wcc.ends_s, "time_s": wcc.times_s}
    )
    lags = pd.DataFrame(wcc.values, columns=lag_column_names(wcc.lags_s))
    return pd.concat([head, lags, w[list(WINDOW_COLUMNS)].reset_index(drop=True)], axis=1)


def _means(wcc: WCC, windows: pd.DataFrame) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {
            "grand_mean": global_index(wcc),
            "lag0_mean": float(np.nanmean(windows["lag0"])),
            "a_leads_mean": float(np.nanmean(windows["a_leads"])),
            "b_leads_mean": float(np.nanmean(windows["b_leads"])),
        }


def _summary_row(d: Dyad) -> dict[str, Any]:
    w = d.windows
    return {
        "dyad": d.name,
        "group": d.group,
        "file": str(d.path),
        "person_a": d.persons[0],
        "person_b": d.persons[1],
        "n_samples": len(d.a),
        "duration_s": len(d.a) / d.wcc.rate_hz,
        "n_windows": len(w),
        "n_windows_valid": int(np.isfinite(d.wcc.values).any(axis=1).sum()),
        **_means(d.wcc, w),
        "best_lag_median_s": float(w["best_lag_s"].median()),
        "peak_lag_median_s": float(w["peak_lag_s"].median()),
    }


def _pseudo(
    dyads: list[Dyad], options: MEAOptions, rng: np.random.Generator, say: Callable[[str], None]
) -> tuple[pd.DataFrame, list[WCC]]:
    total = len(pseudo_dyad_pairs(len(dyads), keep_roles=options.keep_roles))
    n = None if options.pseudo is None or options.pseudo >= total else options.pseudo
    pairs = pseudo_dyad_pairs(len(dyads), keep_roles=options.keep_roles, n=n, seed=rng)
    say(f"pseudo-dyads: {len(pairs)} of {total} possible pairs of persons from different dyads")
    rows, wccs = [], []
    for i, ((d1, r1), (d2, r2)) in enumerate(pairs, start=1):
        x = (dyads[d1].a, dyads[d1].b)[r1]
        y = (dyads[d2].a, dyads[d2].b)[r2]
        m = min(len(x), len(y))
        x, y = x[:m], y[:m]
        if options.rmea:  # rMEA's shuffle: na.omit on the pair, so missing rows close up
            keep = np.isfinite(x) & np.isfinite(y)
            x, y = x[keep], y[keep]
        row: dict[str, Any] = {
            "pseudo": i,
            "a_dyad": dyads[d1].name,
            "a_person": dyads[d1].persons[r1],
            "b_dyad": dyads[d2].name,
            "b_person": dyads[d2].persons[r2],
            "n_samples": len(x),
        }
        try:
            wcc = _engine(x, y, options)
        except DyadsyncError as exc:
            row.update({"grand_mean": math.nan, "lag0_mean": math.nan, "a_leads_mean": math.nan,
                        "b_leads_mean": math.nan, "problem": str(exc)})
            rows.append(row)
            continue
        wccs.append(wcc)
        row.update(_means(wcc, summarize(wcc)))
        row["problem"] = ""
        rows.append(row)
    return pd.DataFrame(rows), wccs


def _groups(summary: pd.DataFrame, null: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    labels = list(dict.fromkeys(summary["group"]))
    for label in labels + (["all"] if len(labels) > 1 else []):
        sub = summary if label == "all" else summary[summary["group"] == label]
        stats = compare_groups(sub["grand_mean"].to_numpy(), null, seed=rng)
        rows.append(
            {
                "group": label,
                "n_dyads": stats["n_real"],
                "n_pseudo": stats["n_null"],
                "grand_mean": stats["real_mean"],
                "pseudo_mean": stats["null_mean"],
                "cohens_d": stats["d"],
                "percentile": stats["percentile"],
                "p": stats["p"],
            }
        )
    return pd.DataFrame(rows)


def _figures(
    dyads: list[Dyad],
    pseudo_wccs: list[WCC],
    summary: pd.DataFrame,
    groups: pd.DataFrame | None,
    out: Path,
    options: MEAOptions,
) -> list[Path]:
    from ..report import figures as figs

    written = []
    for d in dyads:
        fig = figs.wcc_heatmap(d.wcc.values, d.wcc.times_s, d.wcc.lags_s, title=f"{d.name} ({d.group})",
                               signed=options.signed)
        written.append(_save(fig, out / MEA_FILES["figures_dir"] / f"{d.name}_heatmap.png"))
    if pseudo_wccs:
        profiles: dict[str, np.ndarray] = {}
        for d in dyads:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                profiles.setdefault(d.group, []).append(np.nanmean(d.wcc.values, axis=0))  # type: ignore[attr-defined]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            pseudo_profiles = np.vstack([np.nanmean(w.values, axis=0) for w in pseudo_wccs])
        real_profiles = {g: np.vstack(p) for g, p in profiles.items()}
        fig = figs.lag_profile_figure(real_profiles, pseudo_profiles, dyads[0].wcc.lags_s)
        written.append(_save(fig, out / MEA_FILES["figures_dir"] / "lag_profile.png"))
        real = {g: summary.loc[summary["group"] == g, "grand_mean"].to_numpy() for g in real_profiles}
        d_values = {} if groups is None else dict(zip(groups["group"], groups["cohens_d"]))
        fig = figs.global_index_distribution(real, np.array([global_index(w) for w in pseudo_wccs]), d_values)
        written.append(_save(fig, out / MEA_FILES["figures_dir"] / "distribution.png"))
    return written


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path
