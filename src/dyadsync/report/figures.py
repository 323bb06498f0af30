"""Figures of synchrony and moments, as matplotlib Figures (saved as SVG for reports, PNG/SVG for papers).

Every function takes tidy tables as written by the pipeline and returns a ``matplotlib.figure.Figure``; none
draws a video frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._arrays import true_runs

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EVENT_COLOUR = "#f2b134"
A_COLOUR, B_COLOUR = "#2a6f97", "#c44536"


def _figure(width: float = 9.0, height: float = 3.0, nrows: int = 1, sharex: bool = True) -> tuple["Figure", np.ndarray]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, axes


def _shade_events(ax: object, events: pd.DataFrame | None, label: bool = True) -> None:
    if events is None or events.empty:
        return
    for i, (on, off) in enumerate(zip(events["onset_s"], events["offset_s"])):
        width = max(off - on, 0.0)
        if width > 0:
            ax.axvspan(on, off, color=EVENT_COLOUR, alpha=0.3, lw=0, label="coded moments" if (label and i == 0) else None)
        else:
            ax.axvline(on, color=EVENT_COLOUR, lw=1.5, label="coded moments" if (label and i == 0) else None)


def _decimate(times: np.ndarray, values: np.ndarray, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Keep the envelope of long series for plotting: the maximum of each of ``max_points`` bins."""
    if len(times) <= max_points:
        return times, values
    bins = np.array_split(np.arange(len(times)), max_points)
    t = np.array([times[b[0]] for b in bins])
    with np.errstate(invalid="ignore"):
        v = np.array([np.nanmax(values[b]) if np.isfinite(values[b]).any() else np.nan for b in bins])
    return t, v


def synchrony_timeline(
    synchrony: pd.DataFrame, feature: str, events: pd.DataFrame | None = None, *, persons: Sequence[str] = ("A", "B")
) -> "Figure":
    """Synchrony (per-window summary) and best lag over time, with coded moments shaded.

    Parameters
    ----------
    synchrony : DataFrame
        The pipeline's synchrony table.
    feature : str
        Which feature's synchrony to draw.
    events : DataFrame or None
        Events table to shade.
    persons : two str
        Names of A and B, for the lag axis label.
    """
    s = synchrony[synchrony["feature"] == feature]
    fig, (ax1, ax2) = _figure(9.0, 4.2, nrows=2)
    _shade_events(ax1, events)
    ax1.plot(s["time_s"], s["sync"], color="#333333", lw=1.0, label="synchrony")
    ax1.set_ylabel("synchrony (z)")
    ax1.set_title(f"{feature}: windowed cross-lagged synchrony", loc="left", fontsize=10)
    ax1.legend(loc="upper right", fontsize=8, frameon=False)
    _shade_events(ax2, events, label=False)
    ax2.scatter(s["time_s"], s["best_lag_s"], s=4, color="#333333")
    ax2.axhline(0, color="#999999", lw=0.8)
    ax2.set_ylabel(f"best lag (s)\n+ : {persons[1]} follows")
    ax2.set_xlabel("time (s)")
    return fig


def lag_heatmap(lags: pd.DataFrame, feature: str, events: pd.DataFrame | None = None) -> "Figure":
    """Windows x lags heatmap of the correlation values (time on x, lag on y)."""
    sub = lags[lags["feature"] == feature]
    grid = sub.pivot_table(index="lag_s", columns="time_s", values="value", observed=True, dropna=False)
    return wcc_heatmap(
        grid.to_numpy().T,
        grid.columns.to_numpy(),
        grid.index.to_numpy(),
        title=f"{feature}: correlation by window and lag (dashed: event onsets)",
        events=events,
    )


def wcc_heatmap(
    values: np.ndarray,
    times_s: np.ndarray,
    lags_s: np.ndarray,
    *,
    title: str = "",
    signed: bool = False,
    events: pd.DataFrame | None = None,
) -> "Figure":
    """Windows x lags heatmap of a windowed cross-correlation (rMEA's ``MEAheatmap``): time on x, lag on y.

    Parameters
    ----------
    values : ndarray, shape (n_windows, n_lags)
    times_s : ndarray, shape (n_windows,)
        Window times (s).
    lags_s : ndarray, shape (n_lags,)
        Lags (s; positive: B follows A).
    title : str
    signed : bool, default False
        Signed values: a diverging colour scale centred on 0.
    events : DataFrame or None
        Events whose onsets (dashed) and offsets (dotted) are marked.
    """
    fig, (ax,) = _figure(9.0, 3.2)
    v = np.asarray(values, dtype=float).T
    t, lag = np.asarray(times_s, dtype=float), np.asarray(lags_s, dtype=float)
    extent = (t[0], t[-1] if len(t) > 1 else t[0] + 1, lag[0], lag[-1] if len(lag) > 1 else lag[0] + 1)
    if signed:
        top = float(np.nanmax(np.abs(v))) if np.isfinite(v).any() else 1.0
        im = ax.imshow(v, aspect="auto", origin="lower", extent=extent, cmap="RdBu_r", vmin=-top, vmax=top,
                       interpolation="nearest")
    else:
        im = ax.imshow(v, aspect="auto", origin="lower", extent=extent, cmap="magma", interpolation="nearest")
    if events is not None:
        for on, off in zip(events["onset_s"], events["offset_s"]):
            ax.axvline(on, color="white", lw=0.8, ls="--")
            ax.axvline(off, color="white", lw=0.8, ls=":")
    ax.axhline(0, color="white" if not signed else "black", lw=0.5, alpha=0.6)
    ax.set_xlabel("window time (s)")
    ax.set_ylabel("lag (s)\n+ : B follows A")
    ax.set_title(title, loc="left", fontsize=10)
    fig.colorbar(im, ax=ax, label="value", pad=0.01)
    return fig


def lag_profile_figure(
    real: dict[str, np.ndarray], pseudo: np.ndarray | None, lags_s: np.ndarray
) -> "Figure":
    """Mean synchrony per lag of real dyads per group against pseudo-dyads (rMEA's ``MEAlagplot``).

    Parameters
    ----------
    real : dict of str to ndarray, shape (n_dyads, n_lags)
        Each group's dyads' lag profiles (mean over windows per lag).
    pseudo : ndarray, shape (n_pseudo, n_lags), or None
        Pseudo-dyads' lag profiles.
    lags_s : ndarray, shape (n_lags,)
    """
    fig, (ax,) = _figure(6.5, 3.4)
    palette = ["#2a6f97", "#c44536", "#6a994e", "#bc6c25", "#7b2cbf", "#3d405b"]
    if pseudo is not None and len(pseudo):
        m, se = _mean_se(pseudo)
        ax.fill_between(lags_s, m - 1.96 * se, m + 1.96 * se, color="#999999", alpha=0.3, lw=0)
        ax.plot(lags_s, m, color="#555555", lw=1.4, ls="--", label=f"pseudo-dyads (n={len(pseudo)})")
    for i, (group, profiles) in enumerate(real.items()):
        m, se = _mean_se(profiles)
        colour = palette[i % len(palette)]
        ax.fill_between(lags_s, m - 1.96 * se, m + 1.96 * se, color=colour, alpha=0.2, lw=0)
        ax.plot(lags_s, m, color=colour, lw=1.6, label=f"{group} (n={len(profiles)})")
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_xlabel("lag (s)   + : B follows A")
    ax.set_ylabel("mean synchrony")
    ax.set_title("Synchrony by lag: real dyads against pseudo-dyads (95% CI)", loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def global_index_distribution(
    real: dict[str, np.ndarray], pseudo: np.ndarray | None, cohens_d: dict[str, float] | None = None
) -> "Figure":
    """Distribution of global synchrony indices of real dyads per group and of pseudo-dyads (``MEAdistplot``).

    Parameters
    ----------
    real : dict of str to ndarray
        Each group's dyads' global indices.
    pseudo : ndarray or None
        Pseudo-dyads' global indices.
    cohens_d : dict of str to float or None
        Cohen's d of each group against the pseudo-dyads, shown in the legend.
    """
    fig, (ax,) = _figure(6.5, 3.4)
    palette = ["#2a6f97", "#c44536", "#6a994e", "#bc6c25", "#7b2cbf", "#3d405b"]
    samples = [np.asarray(v, dtype=float) for v in real.values()]
    if pseudo is not None:
        samples.append(np.asarray(pseudo, dtype=float))
    finite = np.concatenate([s[np.isfinite(s)] for s in samples]) if samples else np.array([0.0])
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.15 * (hi - lo) if hi > lo else 0.1
    grid = np.linspace(lo - pad, hi + pad, 300)
    if pseudo is not None:
        _density(ax, grid, np.asarray(pseudo, dtype=float), "#555555", f"pseudo-dyads (n={len(pseudo)})", ls="--")
    for i, (group, values) in enumerate(real.items()):
        d = (cohens_d or {}).get(group)
        label = f"{group} (n={len(values)})" + (f", d = {d:.2f}" if d is not None and np.isfinite(d) else "")
        _density(ax, grid, np.asarray(values, dtype=float), palette[i % len(palette)], label)
    ax.set_xlabel("global synchrony index (grand mean of windows x lags)")
    ax.set_ylabel("density")
    ax.set_title("Global synchrony: real dyads against pseudo-dyads (Cohen's d)", loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def _mean_se(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.asarray(rows, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.isfinite(rows).sum(axis=0)
        m = np.nanmean(rows, axis=0) if np.isfinite(rows).any() else np.full(rows.shape[1], np.nan)
        sd = np.nanstd(rows, axis=0, ddof=1) if rows.shape[0] > 1 else np.zeros(rows.shape[1])
        return m, np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), 0.0)


def _density(ax: object, grid: np.ndarray, values: np.ndarray, colour: str, label: str, ls: str = "-") -> None:
    values = values[np.isfinite(values)]
    if len(values) >= 2 and np.ptp(values) > 0:
        from scipy.stats import gaussian_kde

        ax.plot(grid, gaussian_kde(values)(grid), color=colour, lw=1.6, ls=ls, label=label)
    for i, v in enumerate(values):
        ax.axvline(v, ymax=0.06, color=colour, lw=0.8, label=None if len(values) >= 2 else (label if i == 0 else None))


def event_locked_figure(curve: pd.DataFrame, title: str, clusters: pd.DataFrame | None = None) -> "Figure":
    """Event-locked average of z-scored synchrony with its circular-shift null bands and significant clusters.

    Light grey: the simultaneous (max-statistic) band, when the curve has it; darker grey: the pointwise band;
    shaded in purple: clusters with p < .05 (``clusters`` as in ``moment_clusters.parquet``).
    """
    fig, (ax,) = _figure(6.0, 3.2)
    x = curve["rel_time_s"]
    if "null_max_low" in curve.columns:
        ax.fill_between(x, curve["null_max_low"], curve["null_max_high"], color="#dddddd", alpha=0.7, lw=0,
                        label="simultaneous band")
    ax.fill_between(x, curve["null_low"], curve["null_high"], color="#bbbbbb", alpha=0.6, lw=0, label="pointwise band")
    if clusters is not None and len(clusters):
        for i, row in enumerate(clusters[clusters["p_value"] < 0.05].itertuples()):
            ax.axvspan(row.start_s, row.end_s, color="#b5179e", alpha=0.12, lw=0,
                       label="significant cluster" if i == 0 else None)
    ax.plot(x, curve["null_mean"], color="#888888", lw=0.8)
    ax.plot(x, curve["mean_z"], color="#b5179e", lw=1.6, label="event-locked mean")
    ax.axvline(0, color=EVENT_COLOUR, lw=1.5)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xlabel("time from event onset (s)")
    ax.set_ylabel("synchrony (z within session)")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def peak_event_raster(matches_or_peaks: pd.DataFrame, events: pd.DataFrame, correlogram: pd.DataFrame | None,
                      title: str, *, max_lag_s: float = 60.0, reference: str = "onset") -> "Figure":
    """Raster of synchrony peaks around each event (one row per event), with the cross-correlogram below.

    Parameters
    ----------
    matches_or_peaks : DataFrame
        Synchrony peaks (``time_s``) of the feature.
    events : DataFrame
        The events (``onset_s``) of the code.
    correlogram : DataFrame or None
        ``moment_correlogram`` rows of the feature and code (``lag_s``, ``rate_per_event``, null band).
    title : str
    max_lag_s : float
        Range of the x axis, s.
    reference : {"onset", "centre", "offset"}
        The event time the peaks are related to.
    """
    fig, (ax1, ax2) = _figure(6.0, 4.4, nrows=2)
    peaks = np.sort(matches_or_peaks["time_s"].to_numpy(float))
    on, off = events["onset_s"].to_numpy(float), events["offset_s"].to_numpy(float)
    onsets = np.sort({"onset": on, "centre": (on + off) / 2, "offset": off}[reference])
    for i, on in enumerate(onsets):
        d = peaks - on
        d = d[np.abs(d) <= max_lag_s]
        ax1.scatter(d, np.full(len(d), i + 1), marker="|", s=60, color="#333333")
    ax1.axvline(0, color=EVENT_COLOUR, lw=1.5)
    ax1.set_ylabel("event")
    ax1.set_ylim(0.3, len(onsets) + 0.7)
    ax1.set_title(title, loc="left", fontsize=10)
    if correlogram is not None and len(correlogram):
        c = correlogram.sort_values("lag_s")
        width = float(np.median(np.diff(c["lag_s"]))) if len(c) > 1 else 1.0
        ax2.fill_between(c["lag_s"], c["null_low"], c["null_high"], step="mid", color="#bbbbbb", alpha=0.6, lw=0,
                         label="shifted events (band)", zorder=1)
        ax2.plot(c["lag_s"], c["null_mean"], drawstyle="steps-mid", color="#888888", lw=0.8, zorder=2)
        ax2.bar(c["lag_s"], c["rate_per_event"], width=width * 0.6, color="#b5179e", alpha=0.8,
                label="peaks per event", zorder=3)
        ax2.legend(loc="upper right", fontsize=8, frameon=False)
    ax2.axvline(0, color=EVENT_COLOUR, lw=1.5)
    ax2.set_xlim(-max_lag_s, max_lag_s)
    ax2.set_xlabel(f"peak time minus event {reference} (s); negative: synchrony first")
    ax2.set_ylabel("peaks / event")
    return fig


def f1_tolerance_figure(curve: pd.DataFrame, title: str) -> "Figure":
    """F1 of peak/event matching against the tolerance, with the band of shifted events."""
    fig, (ax,) = _figure(5.0, 3.0)
    c = curve.sort_values("tolerance_s")
    ax.fill_between(c["tolerance_s"], c["null_low"], c["null_high"], color="#bbbbbb", alpha=0.6, lw=0,
                    label="shifted events (band)")
    ax.plot(c["tolerance_s"], c["null_mean"], color="#888888", lw=0.8)
    ax.plot(c["tolerance_s"], c["f1"], "o-", color="#b5179e", lw=1.6, ms=4, label="observed F1")
    ax.set_xlabel("tolerance (s)")
    ax.set_ylabel("F1")
    ax.set_ylim(0, 1)
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig


def latency_figure(matches: pd.DataFrame, title: str, *, window_s: float | None = None,
                   tolerance_s: float | None = None) -> "Figure":
    """Distribution of signed latencies (peak minus event) of the matched pairs.

    The band of +-half a synchrony window is shaded: a latency inside it is not evidence of precedence.
    """
    fig, (ax,) = _figure(5.0, 3.0)
    lat = matches["latency_s"].to_numpy(float)
    lim = tolerance_s if tolerance_s else (float(np.nanmax(np.abs(lat))) if len(lat) else 1.0)
    if window_s:
        ax.axvspan(-window_s / 2, window_s / 2, color="#eeeeee", lw=0, label="|lead| < half window")
    if len(lat):
        ax.hist(lat, bins=np.linspace(-lim, lim, 13), color="#555555", label="matched pairs")
        ax.axvline(float(np.median(lat)), color="#b5179e", lw=1.6, label=f"median {np.median(lat):+.1f} s")
    ax.axvline(0, color=EVENT_COLOUR, lw=1.5)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel("peak minus event (s); negative: synchrony first")
    ax.set_ylabel("pairs")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def contrasts_figure(epochs: pd.DataFrame, title: str) -> "Figure":
    """Mean z-scored synchrony of every PRE, DURING and POST epoch, beside the random baseline epochs."""
    fig, (ax,) = _figure(5.0, 3.0)
    order = [e for e in ("random", "pre", "during", "post") if e in set(epochs["epoch"])]
    rng = np.random.default_rng(0)  # jitter only
    for i, name in enumerate(order):
        v = epochs.loc[epochs["epoch"] == name, "mean_z"].to_numpy(float)
        v = v[np.isfinite(v)]
        colour = "#999999" if name == "random" else "#b5179e"
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(v)), v, s=12, color=colour, alpha=0.7)
        if len(v):
            ax.hlines(np.mean(v), i - 0.25, i + 0.25, color="black", lw=1.6)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xticks(range(len(order)), [o.upper() if o != "random" else "random\n(baseline)" for o in order])
    ax.set_ylabel("epoch mean (z within session)")
    ax.set_title(title, loc="left", fontsize=10)
    return fig


def forest_figure(forest: pd.DataFrame, title: str) -> "Figure":
    """Forest plot: each session's estimate with its interval, and the combined estimate (diamond)."""
    rows = forest.reset_index(drop=True)
    fig, (ax,) = _figure(6.0, 0.9 + 0.28 * len(rows))
    y = np.arange(len(rows))[::-1]
    for yi, row in zip(y, rows.itertuples()):
        combined = row.dyad == "combined"
        ax.hlines(yi, row.ci_low, row.ci_high, color="black" if combined else "#555555", lw=1.2)
        ax.plot(row.estimate, yi, "D" if combined else "s", color="#b5179e" if combined else "#333333",
                ms=8 if combined else 4)
    ax.axvline(0, color="#999999", lw=0.8)
    labels = [("combined" if r.dyad == "combined" else (r.session if r.session != r.dyad else r.dyad))
              for r in rows.itertuples()]
    ax.set_yticks(y, labels)
    ax.set_xlabel("excess over shifted events (z)")
    ax.set_title(title, loc="left", fontsize=10)
    return fig


def dial_figure(congruence: pd.DataFrame, title: str) -> "Figure":
    """Dial ratings over time: each rater's mean rating per window (top) and their windowed correlation (bottom)."""
    fig, (ax1, ax2) = _figure(9.0, 3.8, nrows=2)
    means = [c for c in congruence.columns if c.startswith("mean_") and c != "mean_abs_diff"]
    for col, colour in zip(means, (A_COLOUR, B_COLOUR)):
        ax1.plot(congruence["time_s"], congruence[col], color=colour, lw=1.2, label=col[len("mean_"):])
    ax1.set_ylabel("rating")
    ax1.set_title(title, loc="left", fontsize=10)
    ax1.legend(loc="upper right", fontsize=8, frameon=False)
    ax2.plot(congruence["time_s"], congruence["r"], color="#333333", lw=1.0)
    ax2.axhline(0, color="#999999", lw=0.6)
    ax2.set_ylim(-1.05, 1.05)
    ax2.set_ylabel("r between raters")
    ax2.set_xlabel("time (s)")
    return fig


def motion_qc(features: pd.DataFrame, persons: Sequence[str], events: pd.DataFrame | None = None) -> "Figure":
    """Motion energy (% of ROI) per person over time, with artefact frames marked."""
    fig, (ax,) = _figure(9.0, 2.8)
    _shade_events(ax, events)
    for person, colour in zip(persons, (A_COLOUR, B_COLOUR)):
        sub = features[(features["person"] == person) & (features["feature"] == "motion_energy_pct")]
        t, v = _decimate(sub["time_s"].to_numpy(), sub["value"].to_numpy())
        ax.plot(t, v, lw=0.6, color=colour, label=person)
    flags = features[(features["person"] == "scene") & (features["feature"] == "artefact") & (features["value"] > 0)]
    for i, t in enumerate(flags["time_s"].to_numpy()[:500]):
        ax.axvline(t, color="black", lw=0.8, ls=":", label="artefact (masked)" if i == 0 else None)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("moving pixels (% of ROI)")
    ax.set_title("Motion energy per person", loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False, ncol=3)
    return fig


def save_figure(fig: "Figure", path: str | Path) -> Path:
    """Save a figure atomically; the format follows the suffix (``.svg``, ``.png`` at 200 dpi, ``.pdf``)."""
    from ..io.store import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "svg", dpi=200)
    return path


def detection_qc(features: pd.DataFrame, persons: Sequence[str]) -> "Figure":
    """Pose and face detection over time per person: one row per person and extractor, gaps in red.

    Parameters
    ----------
    features : DataFrame
        Long feature table holding ``pose_detected`` and/or ``face_detected`` (0/1 per analysed frame).
    persons : sequence of str
        Person names, A first.
    """
    rows = [(p, f) for p in persons for f in ("pose_detected", "face_detected")
            if ((features["person"] == p) & (features["feature"] == f)).any()]
    fig, (ax,) = _figure(9.0, 0.5 + 0.45 * max(1, len(rows)))
    for k, (person, feat) in enumerate(rows):
        sub = features[(features["person"] == person) & (features["feature"] == feat)].sort_values("time_s")
        t, v = sub["time_s"].to_numpy(), sub["value"].to_numpy()
        if len(t) == 0:
            continue
        step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        edges = np.append(t, t[-1] + step)
        ok = v > 0
        for flag, colour in ((True, "#8fbf8f"), (False, "#c44536")):
            for s0, s1 in zip(*true_runs(ok == flag)):
                ax.broken_barh([(edges[s0], edges[s1] - edges[s0])], (k - 0.35, 0.7), color=colour, lw=0)
    ax.set_yticks(range(len(rows)), [f"{p}: {f.split('_')[0]}" for p, f in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    ax.set_title("Detection per analysed frame (green: found, red: not found)", loc="left", fontsize=10)
    return fig


def to_svg(fig: "Figure") -> str:
    """The figure as an inline SVG string (no XML header), for self-contained HTML."""
    import io

    import matplotlib

    buf = io.StringIO()
    # No date and fixed element ids: the same figure gives the same bytes, run after run.
    with matplotlib.rc_context({"svg.hashsalt": "dyadsync"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]
