"""Agreement between coders of the same moments, and a consensus event set.

Question: do two (or more) coders mark the same moments, and which moments do they agree on?

Method: time is cut into bins of ``bin_s`` (default 1 s); a bin is coded by a coder when any of their events of
the code overlaps it (a point event marks its bin). For each pair of coders: **Cohen's kappa** on the bins,
**positive specific agreement** PSA = 2a / (2a + b + c) (agreement on coded bins, which kappa dilutes when codes are
rare) and negative specific agreement NSA = 2d / (2d + b + c) (Cicchetti & Feinstein 1990), and **event-matching
F1** of the coders' onsets (optimal one-to-one matching within a tolerance, as for peaks and events) over a range
of tolerances. With more than two coders, **Fleiss' kappa** over all of them. The **consensus event set** keeps the
bins coded by at least ``min_coders`` coders (default: a majority) and merges consecutive bins into events; point
events are grouped when they lie within ``tolerance_s`` of each other, and a group coded by enough coders becomes a
consensus event at the median onset.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._arrays import true_runs
from .._validate import check_positive
from ..errors import AnalysisError
from .matching import TOLERANCES_S, matching_scores, optimal_pairs


def bin_events(events: pd.DataFrame, *, duration_s: float, bin_s: float = 1.0) -> np.ndarray:
    """Boolean array of ``ceil(duration_s / bin_s)`` bins: True where an event overlaps the bin."""
    n = int(np.ceil(check_positive("duration_s", duration_s) / check_positive("bin_s", bin_s)))
    coded = np.zeros(n + 1, dtype=int)
    on = np.clip(np.floor(events["onset_s"].to_numpy(float) / bin_s).astype(int), 0, n)
    off_t = events["offset_s"].to_numpy(float)
    # An interval covers the bins it overlaps; a point event (or an interval ending on a bin edge) its own bin.
    off = np.clip(np.maximum(np.ceil(off_t / bin_s).astype(int), on + 1), 0, n)
    np.add.at(coded, on, 1)
    np.add.at(coded, off, -1)
    return np.cumsum(coded)[:n] > 0


def cohens_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary codings of the same bins (NaN when chance agreement is 1)."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    po = float(np.mean(a == b))
    pa, pb = a.mean(), b.mean()
    pe = pa * pb + (1 - pa) * (1 - pb)
    return float((po - pe) / (1 - pe)) if pe < 1 else float("nan")


def specific_agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Positive and negative specific agreement of two binary codings: 2a/(2a+b+c) and 2d/(2d+b+c)."""
    a = np.asarray(a, bool)
    b = np.asarray(b, bool)
    both = int(np.sum(a & b))
    neither = int(np.sum(~a & ~b))
    disagree = int(np.sum(a != b))
    psa = 2 * both / (2 * both + disagree) if (both + disagree) else float("nan")
    nsa = 2 * neither / (2 * neither + disagree) if (neither + disagree) else float("nan")
    return float(psa), float(nsa)


def fleiss_kappa(codings: np.ndarray) -> float:
    """Fleiss' kappa of binary codings, shape (n_bins, n_coders)."""
    x = np.asarray(codings, bool)
    n_bins, k = x.shape
    if k < 2 or n_bins == 0:
        return float("nan")
    ones = x.sum(axis=1)
    counts = np.column_stack([k - ones, ones]).astype(float)
    p_j = counts.sum(axis=0) / (n_bins * k)
    p_i = (np.sum(counts**2, axis=1) - k) / (k * (k - 1))
    pe = float(np.sum(p_j**2))
    return float((p_i.mean() - pe) / (1 - pe)) if pe < 1 else float("nan")


def coder_agreement(
    events: pd.DataFrame,
    *,
    duration_s: float,
    bin_s: float = 1.0,
    tolerance_s: float = 15.0,
    tolerances_s: Sequence[float] = TOLERANCES_S,
    codes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairwise agreement of the coders of each code.

    Parameters
    ----------
    events : DataFrame
        Events table with a ``coder`` column holding at least two coders for a code.
    duration_s : float
        Length of the recording, s.
    bin_s : float, default 1
        Bin width for kappa and specific agreement, s.
    tolerance_s : float, default 15
        Tolerance of the F1 reported in the agreement table, s.
    tolerances_s : sequence of float
        Tolerances of the F1 curve, s.
    codes : sequence of str or None
        Codes to assess; None: every code with two or more coders.

    Returns
    -------
    (DataFrame, DataFrame)
        The agreement table, one row per code and pair of coders (``code``, ``coder_a``, ``coder_b``, ``n_a``,
        ``n_b``, ``kappa``, ``psa``, ``nsa``, ``f1``, ``tolerance_s``, ``bin_s``, ``fleiss_kappa``, ``n_coders``),
        and the F1-vs-tolerance curves (``code``, ``coder_a``, ``coder_b``, ``tolerance_s``, ``n_matched``,
        ``f1``).

    Raises
    ------
    AnalysisError
        When no code has two coders.
    """
    tols = sorted(set(float(t) for t in tolerances_s) | {float(tolerance_s)})
    rows, curve = [], []
    wanted = list(codes) if codes is not None else sorted(events["code"].unique())
    for code in wanted:
        ev = events[events["code"] == code]
        coders = sorted(c for c in ev["coder"].unique())
        if len(coders) < 2:
            continue
        binned = {c: bin_events(ev[ev["coder"] == c], duration_s=duration_s, bin_s=bin_s) for c in coders}
        fleiss = fleiss_kappa(np.column_stack([binned[c] for c in coders]))
        for ca, cb in itertools.combinations(coders, 2):
            on_a = np.sort(ev.loc[ev["coder"] == ca, "onset_s"].to_numpy(float))
            on_b = np.sort(ev.loc[ev["coder"] == cb, "onset_s"].to_numpy(float))
            psa, nsa = specific_agreement(binned[ca], binned[cb])
            f1_main = float("nan")
            for tol in tols:
                m = len(optimal_pairs(on_a, on_b, tol)[0])
                f1 = matching_scores(m, len(on_a), len(on_b))[2]
                curve.append({"code": code, "coder_a": ca, "coder_b": cb, "tolerance_s": tol, "n_matched": m,
                              "f1": f1})
                if tol == tolerance_s:
                    f1_main = f1
            rows.append({
                "code": code, "coder_a": ca, "coder_b": cb, "n_a": len(on_a), "n_b": len(on_b),
                "kappa": cohens_kappa(binned[ca], binned[cb]), "psa": psa, "nsa": nsa, "f1": f1_main,
                "tolerance_s": float(tolerance_s), "bin_s": bin_s, "fleiss_kappa": fleiss, "n_coders": len(coders),
            })
    if not rows:
        raise AnalysisError("coder agreement needs a code marked by at least two coders (column 'coder')")
    return pd.DataFrame(rows), pd.DataFrame(curve)


def consensus_events(
    events: pd.DataFrame,
    *,
    duration_s: float,
    bin_s: float = 1.0,
    min_coders: int | None = None,
    tolerance_s: float = 15.0,
) -> pd.DataFrame:
    """The events at least ``min_coders`` coders agree on, per code, as an Events table (coder ``consensus``).

    Parameters
    ----------
    events : DataFrame
        Events table with a ``coder`` column.
    duration_s : float
        Length of the recording, s.
    bin_s : float, default 1
        Bin width for interval events, s.
    min_coders : int or None
        Coders needed; None: a majority (more than half of the code's coders).
    tolerance_s : float, default 15
        Point events within this distance of each other are the same moment, s.

    Returns
    -------
    DataFrame
        Events table; ``scheme`` says how many coders were required, ``source`` which coders agreed.
    """
    rows = []
    for code, ev in events.groupby("code", sort=True):
        coders = sorted(ev["coder"].unique())
        need = min_coders if min_coders is not None else len(coders) // 2 + 1
        points = bool(np.all(ev["offset_s"].to_numpy(float) <= ev["onset_s"].to_numpy(float)))
        if points:
            rows += _consensus_points(ev, code, need, tolerance_s)
            continue
        counts = np.sum([bin_events(ev[ev["coder"] == c], duration_s=duration_s, bin_s=bin_s) for c in coders],
                        axis=0)
        agreed = counts >= need
        for a, b in zip(*true_runs(agreed)):
            rows.append((a * bin_s, min(b * bin_s, duration_s), code, f"consensus of >= {need} coders", "consensus",
                         f"bins {a}-{b - 1} ({', '.join(map(str, coders))})"))
    out = pd.DataFrame.from_records(rows, columns=["onset_s", "offset_s", "code", "scheme", "coder", "source"])
    return out.sort_values(["onset_s", "code"]).reset_index(drop=True)


def _consensus_points(ev: pd.DataFrame, code: str, need: int, tolerance_s: float) -> list[tuple]:
    ev = ev.sort_values("onset_s")
    t = ev["onset_s"].to_numpy(float)
    who = ev["coder"].to_numpy()
    rows, i = [], 0
    while i < len(t):
        j = i
        while j + 1 < len(t) and t[j + 1] - t[i] <= tolerance_s:
            j += 1
        group = set(who[i : j + 1])
        if len(group) >= need:
            mid = float(np.median(t[i : j + 1]))
            rows.append((mid, mid, code, f"consensus of >= {need} coders", "consensus",
                         f"{j - i + 1} marks by {', '.join(sorted(map(str, group)))}"))
        i = j + 1
    return rows
