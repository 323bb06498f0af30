"""Generated methods text: what was done, with the parameters actually used and the references to cite."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

REFERENCES = {
    "mea": "Ramseyer, F., & Tschacher, W. (2011). Nonverbal synchrony in psychotherapy: Coordinated body movement "
    "reflects relationship quality and outcome. Journal of Consulting and Clinical Psychology, 79(3), 284-295.",
    "wclc": "Boker, S. M., Xu, M., Rotondo, J. L., & King, K. (2002). Windowed cross-correlation and peak picking "
    "for the analysis of variability in the association between behavioral time series. Psychological Methods, "
    "7(3), 338-355.",
    "pitch": "Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency and the "
    "harmonics-to-noise ratio of a sampled sound. Proceedings of the Institute of Phonetic Sciences, 17, 97-110.",
    "nuclei": "de Jong, N. H., & Wempe, T. (2009). Praat script to detect syllable nuclei and measure speech rate "
    "automatically. Behavior Research Methods, 41(2), 385-390.",
    "entrainment": "Levitan, R., & Hirschberg, J. (2011). Measuring acoustic-prosodic entrainment with respect to "
    "multiple levels and dimensions. Proceedings of Interspeech 2011, 3081-3084.",
    "arousal": "Imel, Z. E., Barco, J. S., Brown, H. J., Baucom, B. R., Baer, J. S., Kircher, J. C., & Atkins, D. C. "
    "(2014). The association of therapist empathy and synchrony in vocally encoded arousal. Journal of Counseling "
    "Psychology, 61(1), 146-153.",
    "blazepose": "Bazarevsky, V., Grishchenko, I., Raveendran, K., Zhu, T., Zhang, F., & Grundmann, M. (2020). "
    "BlazePose: On-device real-time body pose tracking. arXiv:2006.10204.",
    "facemesh": "Kartynnik, Y., Ablavatski, A., Grishchenko, I., & Grundmann, M. (2019). Real-time facial surface "
    "geometry from monocular video on mobile GPUs. arXiv:1907.06724.",
    "moments": "Stern, D. N., et al. (1998). Non-interpretive mechanisms in psychoanalytic therapy: The 'something "
    "more' than interpretation. International Journal of Psycho-Analysis, 79, 903-921.",
}

#: References of the moments toolkit, cited by :func:`moments_methods` when the analysis was run.
MOMENTS_REFERENCES = {
    "permutation": "Phipson, B., & Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical "
    "Applications in Genetics and Molecular Biology, 9(1), Article 39.",
    "surrogates": "Moulder, R. G., Boker, S. M., Ramseyer, F., & Tschacher, W. (2018). Determining synchrony between "
    "behavioral time series: An application of surrogate data generation for establishing falsifiable "
    "null-hypotheses. Psychological Methods, 23(4), 757-773.",
    "cluster": "Maris, E., & Oostenveld, R. (2007). Nonparametric statistical testing of EEG- and MEG-data. Journal "
    "of Neuroscience Methods, 164(1), 177-190.",
    "categoryperm": "Kleinbub, J. R. DyadSync: an R package for the analysis of dyadic physiological and movement "
    "synchrony (categoryPerm). https://github.com/kleinbub/DyadSync",
    "cliff": "Cliff, N. (1993). Dominance statistics: Ordinal analyses to answer ordinal questions. Psychological "
    "Bulletin, 114(3), 494-509.",
    "eca": "Donges, J. F., Schleussner, C.-F., Siegmund, J. F., & Donner, R. V. (2016). Event coincidence analysis for "
    "quantifying statistical interrelationships between event time series. The European Physical Journal Special "
    "Topics, 225(3), 471-487.",
    "assignment": "Kuhn, H. W. (1955). The Hungarian method for the assignment problem. Naval Research Logistics "
    "Quarterly, 2(1-2), 83-97.",
    "kappa": "Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and Psychological "
    "Measurement, 20(1), 37-46.",
    "psa": "Cicchetti, D. V., & Feinstein, A. R. (1990). High agreement but low kappa: II. Resolving the paradoxes. "
    "Journal of Clinical Epidemiology, 43(6), 551-558.",
    "stouffer": "Stouffer, S. A., Suchman, E. A., DeVinney, L. C., Star, S. A., & Williams, R. M. (1949). The American "
    "Soldier: Adjustment during Army Life (Vol. 1). Princeton University Press.",
    "fdr": "Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: A practical and powerful "
    "approach to multiple testing. Journal of the Royal Statistical Society: Series B, 57(1), 289-300.",
    "statsmodels": "Seabold, S., & Perktold, J. (2010). statsmodels: Econometric and statistical modeling with "
    "Python. Proceedings of the 9th Python in Science Conference, 92-96.",
}


def _mediapipe_methods(p: dict[str, Any]) -> list[str]:
    """Sentences on the pose and face stages, when the pipeline ran them."""
    stages = p["pipeline"]["stages"]
    out = []
    if "pose" in stages:
        po = p["pose"]
        out.append(
            f"Body pose was tracked per person with MediaPipe Pose (BlazePose, Bazarevsky et al., 2020; mediapipe "
            f"0.10.21, model complexity 1) on each person's region at {po['rate_hz']:g} frames/s; speeds of the "
            "head (ear midpoint), torso (shoulder midpoint), wrists and the mean over upper-body landmarks were "
            "normalised by the person's median shoulder width, and trunk lean is the angle of the hip-to-shoulder "
            f"line from vertical. Frames without a pose were missing; gaps up to {po['max_gap_s']:g} s were "
            "interpolated linearly."
        )
    if "face" in stages:
        fa = p["face"]
        how = ("cv2.solvePnP with a generic adult face model" if fa["head_pose"] == "pnp"
               else "a rigid 3-D (Procrustes) fit of a generic adult face model to the mesh")
        out.append(
            f"Faces were tracked with MediaPipe Face Mesh (Kartynnik et al., 2019; refined landmarks) on a head "
            f"region derived from each person's pose, upscaled to {fa['head_crop_px']} pixels. Head yaw, pitch and "
            f"roll were estimated by {how}; head angular speed from the rotation between consecutive frames; mouth "
            "opening, smile width and brow raise as landmark distances divided by the inter-ocular distance; eye "
            "openness as the eyelid gap over eye width; facial motion as the landmark displacement per second "
            "left after removing head motion (similarity alignment), in inter-ocular distances. Gaps up to "
            f"{fa['max_gap_s']:g} s were interpolated."
        )
    return out


def session_methods(record: dict[str, Any], tests: pd.DataFrame | None) -> str:
    """One paragraph describing a session run, from its run record (``run.json``) and its moment tests.

    Only what ran is described, and only the references of what ran are cited.
    """
    p = record["pipeline"]
    m, pre, s = p["motion"], p["preprocess"], p["synchrony"]
    persons = p["persons"]["names"]
    stages = p["pipeline"]["stages"]
    features = record.get("features", {})
    text: list[str] = []
    cited: list[str] = []
    if "motion" in stages:
        masked = " and treated as missing" if pre["mask_artefacts"] else " (and kept: masking was switched off)"
        text.append(
            f"Body movement was quantified with Motion Energy Analysis (Ramseyer & Tschacher, 2011) in dyadsync "
            f"{record['dyadsync_version']}: for each person's region of interest ({persons[0]}, {persons[1]}), the "
            f"number of pixels whose grey level changed by more than {m['threshold']:g} between consecutive frames. "
            f"Frames with lighting changes or camera motion were flagged{masked}."
        )
        cited.append("mea")
    mediapipe = _mediapipe_methods(p)
    text += mediapipe
    if "pose" in stages:
        cited.append("blazepose")
    if "face" in stages:
        cited.append("facemesh")
    voice = features.get("voice")
    if "voice" in stages and voice and "failed" not in voice:
        v = p["voice"]
        text.append(
            f"Speech was attributed to the persons by {voice['speakers']['method']} and analysed at 100 Hz per person: "
            f"f0 with Boersma's (1993) autocorrelation method ({v['floor_hz']:g}-{v['ceiling_hz']:g} Hz, Praat's "
            "default costs), intensity as Praat's, and syllable nuclei for speech and articulation rate (de Jong & "
            f"Wempe, 2009). Turn-level {', '.join(v['entrainment'])} entrainment ({', '.join(v['measures'])}; "
            f"Levitan & Hirschberg, 2011) was computed over sliding windows of {v['window_turns']} exchanges"
            + (f", and vocal-arousal synchrony (Imel et al., 2014) in {v['arousal_window_s']:g} s windows where both "
               "persons spoke." if v["arousal"] else ".")
        )
        cited += ["pitch", "nuclei", "entrainment"] + (["arousal"] if v["arousal"] else [])
    if s["features"]:
        smooth = f"smoothed with a {pre['smooth_s']:g} s moving average and " if pre["smooth_s"] else ""
        transform = ("Fisher z-transformed" if s["fisher_z"] else "Pearson") + (
            ", absolute values" if s["absolute"] else ", signed"
        )
        summary = {"best": "the maximum over lags", "mean": "the mean over lags",
                   "lag0": "the value at lag 0"}[s["summary"]]
        text.append(
            f"The series were {smooth}analysed with windowed cross-lagged correlation (Boker et al., 2002): windows "
            f"of {s['window_s']:g} s stepping by {s['step_s']:g} s, lags up to +-{s['max_lag_s']:g} s ({transform}); "
            f"each window was summarised by {summary}, stamped at the window centre."
        )
        cited.append("wclc")
    refs = [REFERENCES[k] for k in cited]
    if tests is not None and not tests.empty:
        moments_text, moments_refs = moments_methods(p["moments"], tests, window_s=s["window_s"])
        text.append(moments_text)
        text.append(results_paragraph(tests))
        refs += [REFERENCES["moments"], *moments_refs]
    text.append("References: " + " ".join(dict.fromkeys(refs)))
    return " ".join(text)


def _used(tests: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return tests[tests["analysis"].astype(str).str.startswith(prefix)] if "analysis" in tests.columns else tests.iloc[:0]


def moments_methods(params: dict[str, Any], tests: pd.DataFrame, *, window_s: float | None = None
                    ) -> tuple[str, list[str]]:
    """Methods text of the moments analyses that were run, with the parameters used, and their references.

    Parameters
    ----------
    params : dict
        The ``[moments]`` parameters (as in ``run.json``'s ``pipeline.moments``).
    tests : DataFrame
        The moments tests table (``moment_tests.parquet``); only analyses present in it are described.
    window_s : float or None
        The synchrony window, s (for the precedence guard-rail).

    Returns
    -------
    (str, list of str)
        The paragraph and the references it cites.
    """
    mo = params
    text, refs = [], [MOMENTS_REFERENCES["permutation"]]
    el = _used(tests, "event_locked")
    if len(el):
        t0 = el.iloc[0]
        alternative = str(t0.get("alternative") or mo.get("alternative", "greater"))
        text.append(
            f"Synchrony was z-scored within the session and averaged from {mo['tmin_s']:g} to {mo['tmax_s']:g} s "
            f"around event onsets. Null distributions came from {int(t0['n_shifts'])} circular shifts of all event "
            f"times of a session together (minimum shift {t0['min_shift_s']:.1f} s, seed {mo['seed']}), which keep "
            "the number, durations and spacing of the events and the autocorrelation of synchrony. Three tests used "
            f"them: the mean z during the events ({t0['test_window']}), the maximum studentised deviation of the "
            f"event-locked curve over the whole epoch (which also gives a simultaneous {mo['band'] * 100:g}% band), "
            f"and a cluster-mass test (clusters of consecutive times {_cluster_threshold(alternative, mo['cluster_alpha'])}; "
            "Maris & Oostenveld, 2007); "
            "p = (1 + shifts at least as extreme) / (1 + shifts) (Phipson & Smyth, 2010); "
            f"{_alternative_words(alternative, mo['band'])}."
        )
        refs.append(MOMENTS_REFERENCES["cluster"])
    if len(_used(tests, "contrast_")):
        text.append(
            f"PRE ({mo['epoch_s']:g} s before onset), DURING (onset to offset) and POST ({mo['epoch_s']:g} s after "
            f"offset) epochs were each summarised by their mean z and compared with {mo['n_random']} sets of random "
            "epochs of the same durations drawn from uncoded time (as DyadSync's categoryPerm), with Cohen's d and "
            "Cliff's delta (Cliff, 1993) against all random epochs."
        )
        refs += [MOMENTS_REFERENCES["categoryperm"], MOMENTS_REFERENCES["cliff"]]
    if len(_used(tests, "matching")) or len(_used(tests, "coincidence")):
        half = f" ({window_s / 2:g} s)" if window_s else ""
        text.append(
            f"Synchrony peaks were local maxima above the {mo['peak_quantile']:g} quantile of synchrony computed on "
            f"{mo['n_surrogates']} surrogate pairs (one person's series circularly shifted against the other's; "
            f"Moulder et al., 2018), with a prominence of at least {mo['peak_prominence_sd']:g} SD and at least "
            f"{'one synchrony window' if not mo['peak_distance_s'] else str(mo['peak_distance_s']) + ' s'} apart; "
            f"synchrony episodes were runs above that threshold lasting at least {mo['min_episode_s']:g} s."
        )
        refs.append(MOMENTS_REFERENCES["surrogates"])
    if len(_used(tests, "matching")):
        text.append(
            f"Peaks were matched one-to-one to event {mo.get('event_reference', 'onset')}s within "
            f"{mo['tolerance_s']:g} s by optimal assignment "
            "(Kuhn, 1955), giving precision, recall and F1 (also over tolerances of "
            f"{', '.join(f'{t:g}' for t in mo['tolerances_s'])} s), and the signed latency of each pair (peak minus "
            "event time; negative: synchrony first); F1 and the median latency were compared with shifted events (ties "
            "with the discrete F1 counted half, mid-p). A lead "
            f"shorter than half the synchrony window{half} was not taken as evidence of precedence."
        )
        refs.append(MOMENTS_REFERENCES["assignment"])
    if len(_used(tests, "coincidence")):
        text.append(
            f"Event coincidence analysis (Donges et al., 2016; window {mo['coincidence_window_s']:g} s, delay "
            f"{mo['coincidence_delay_s']:g} s) gave precursor and trigger coincidence rates in both directions (peaks "
            "before events, events before peaks), tested against shifted events (mid-p)."
        )
        refs.append(MOMENTS_REFERENCES["eca"])
    if len(_used(tests, "compare_")):
        text.append(
            "Event types and coders were compared by permuting the labels among their events, modalities by "
            "shifting the events against both synchrony series together."
        )
    return " ".join(text), refs


def _fmt_p(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}"


def _pct(q: float) -> str:
    """A percentile as an ordinal: 95 -> "95th", 2.5 -> "2.5th", 1 -> "1st"."""
    text = f"{q:g}"
    if "." in text or text.endswith(("11", "12", "13")):
        return text + "th"
    return text + {"1": "st", "2": "nd", "3": "rd"}.get(text[-1], "th")


def _cluster_threshold(alternative: str, cluster_alpha: float) -> str:
    """Where cluster-forming times lie, in words, for the test's alternative and ``cluster_alpha``."""
    a = cluster_alpha * 100
    if alternative == "greater":
        return f"above the pointwise {_pct(100 - a)} null percentile"
    if alternative == "less":
        return f"below the pointwise {_pct(a)} null percentile"
    return f"below the pointwise {_pct(a / 2)} or above the {_pct(100 - a / 2)} null percentile"


def _alternative_words(alternative: str, band: float) -> str:
    """The direction of the event-locked tests and the band of the mean test, in words."""
    b = band * 100
    if alternative == "greater":
        return (f"the tests were one-sided (synchrony higher during the events), and the mean test was held against "
                f"the {_pct(b)} percentile of its null distribution")
    if alternative == "less":
        return (f"the tests were one-sided (synchrony lower during the events), and the mean test was held against "
                f"the {_pct(100 - b)} percentile of its null distribution")
    return (f"the tests were two-sided, and the mean test was held against the {_pct((100 - b) / 2)} to "
            f"{_pct((100 + b) / 2)} percentiles of its null distribution")


def results_paragraph(tests: pd.DataFrame) -> str:
    """One sentence per feature and code with the main results of the moments tests (for a results section)."""
    out = []
    for (feature, code), g in tests.groupby(["feature", "code"], sort=False):
        by = {a: r for a, r in zip(g["analysis"], g.to_dict("records"))}
        parts = []
        if "event_locked" in by:
            r = by["event_locked"]
            parts.append(f"mean z during the events {r['statistic']:.2f} (null {r['null_mean']:.2f}, "
                         f"{_fmt_p(r['p_value'])})")
        if "event_locked_cluster" in by:
            r = by["event_locked_cluster"]
            extra = ""
            if isinstance(r.get("latency_s"), float) and np.isfinite(r["latency_s"]):
                extra = f", centred at {r['latency_s']:+.1f} s ({r['precedence']})"
            parts.append(f"largest cluster {_fmt_p(r['p_value'])}{extra}")
        if "contrast_during" in by:
            r = by["contrast_during"]
            parts.append(f"DURING vs random epochs d = {r['cohens_d']:.2f}, Cliff's delta = {r['cliffs_delta']:.2f} "
                         f"({_fmt_p(r['p_value'])})")
        if "matching_f1" in by:
            r = by["matching_f1"]
            parts.append(f"peak/event F1 = {r['statistic']:.2f} at {r['tolerance_s']:g} s (null "
                         f"{r['null_mean']:.2f}, {_fmt_p(r['p_value'])})")
        if "matching_latency" in by and np.isfinite(by["matching_latency"]["statistic"]):
            r = by["matching_latency"]
            parts.append(f"median latency {r['statistic']:+.1f} s ({r['precedence']})")
        if parts:
            n = int(g["n_events"].dropna().iloc[0]) if g["n_events"].notna().any() else 0
            out.append(f"{feature} around {code} (n = {n}): " + "; ".join(parts) + ".")
    return " ".join(out)
