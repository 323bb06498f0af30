"""Figures of synchrony and moments, as matplotlib Figures (saved as SVG for reports, PNG/SVG for papers).

Every function takes tidy tables as written by the pipeline and returns a ``matplotlib.figure.Figure``; none
draws a video frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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
    fig, (ax,) = _figure(9.0, 3.2)
    t, lag = grid.columns.to_numpy(), grid.index.to_numpy()
    im = ax.imshow(
        grid.to_numpy(),
        aspect="auto",
        origin="lower",
        extent=(t[0], t[-1], lag[0], lag[-1]),
        cmap="magma",
        interpolation="nearest",
    )
    if events is not None:
        for on, off in zip(events["onset_s"], events["offset_s"]):
            ax.axvline(on, color="white", lw=0.8, ls="--")
            ax.axvline(off, color="white", lw=0.8, ls=":")
    ax.axhline(0, color="white", lw=0.5, alpha=0.6)
    ax.set_xlabel("window centre (s)")
    ax.set_ylabel("lag (s)")
    ax.set_title(f"{feature}: correlation by window and lag (dashed: event onsets)", loc="left", fontsize=10)
    fig.colorbar(im, ax=ax, label="value", pad=0.01)
    return fig


def event_locked_figure(curve: pd.DataFrame, title: str) -> "Figure":
    """Event-locked average of z-scored synchrony with its circular-shift null band."""
    fig, (ax,) = _figure(6.0, 3.2)
    x = curve["rel_time_s"]
    ax.fill_between(x, curve["null_low"], curve["null_high"], color="#bbbbbb", alpha=0.6, lw=0, label="null band")
    ax.plot(x, curve["null_mean"], color="#888888", lw=0.8)
    ax.plot(x, curve["mean_z"], color="#b5179e", lw=1.6, label="event-locked mean")
    ax.axvline(0, color=EVENT_COLOUR, lw=1.5)
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xlabel("time from event onset (s)")
    ax.set_ylabel("synchrony (z within session)")
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
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
            runs = np.diff(np.concatenate([[0], (ok == flag).astype(int), [0]]))
            for s0, s1 in zip(np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)):
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

    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]
