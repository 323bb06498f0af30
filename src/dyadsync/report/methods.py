"""Generated methods text: what was done, with the parameters actually used and the references to cite."""

from __future__ import annotations

from typing import Any

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
    """One paragraph describing a session run, from its run record (``run.json``) and its moment tests."""
    p = record["pipeline"]
    m, pre, s = p["motion"], p["preprocess"], p["synchrony"]
    persons = p["persons"]["names"]
    stages = p["pipeline"]["stages"]
    text = [] if "motion" not in stages else [
        f"Body movement was quantified with Motion Energy Analysis (Ramseyer & Tschacher, 2011) in dyadsync "
        f"{record['dyadsync_version']}: for each person's region of interest ({persons[0]}, {persons[1]}), the number "
        f"of pixels whose grey level changed by more than {m['threshold']:g} between consecutive frames. Frames with "
        f"lighting changes or camera motion were flagged and treated as missing.",
    ]
    voice = record.get("features", {}).get("voice")
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
    text += _mediapipe_methods(p)
    smooth = f"smoothed with a {pre['smooth_s']:g} s moving average and " if pre["smooth_s"] else ""
    transform = ("Fisher z-transformed" if s["fisher_z"] else "Pearson") + (
        ", absolute values" if s["absolute"] else ", signed"
    )
    summary = {"peak": "the maximum over lags", "mean": "the mean over lags", "lag0": "the value at lag 0"}[s["summary"]]
    if s["features"]:
        text.append(
            f"The series were {smooth}analysed with windowed cross-lagged correlation (Boker et al., 2002): windows "
            f"of {s['window_s']:g} s stepping by {s['step_s']:g} s, lags up to +-{s['max_lag_s']:g} s ({transform}); "
            f"each window was summarised by {summary}, stamped at the window centre."
        )
    if tests is not None and not tests.empty:
        mo = p["moments"]
        t0 = tests.iloc[0]
        text.append(
            f"Synchrony was z-scored within the session and averaged from {mo['tmin_s']:g} to {mo['tmax_s']:g} s "
            f"around event onsets. The mean z during the events ({t0['test_window']}) was compared with "
            f"{int(t0['n_shifts'])} circular shifts of all event times together (minimum shift {t0['min_shift_s']:.1f} s, "
            f"seed {t0['seed']}); p = (1 + shifts at least as extreme) / (1 + shifts)."
        )
        for _, row in tests.iterrows():
            text.append(
                f"{row['feature']} around {row['code']} (n = {row['n_events']}): mean z = {row['statistic']:.2f} "
                f"vs. null mean {row['null_mean']:.2f} (95th percentile {row['null_q']:.2f}), p = {row['p_value']:.3f}."
            )
    stages = p["pipeline"]["stages"]
    cited = [k for k in REFERENCES if not ((k == "blazepose" and "pose" not in stages and "face" not in stages)
                                           or (k == "facemesh" and "face" not in stages))]
    text.append("References: " + " ".join(REFERENCES[k] for k in cited))
    return " ".join(text)
