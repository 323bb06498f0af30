"""MediaPipe pose and face: planted head motion and lag recovered, real faces found, rotation followed, absences
honest (NaN and a warning), and the geometry behind the features exact on constructed input.

MediaPipe runs on the sample once per test session (the ``multimodal_run`` fixture); the other MediaPipe tests use
short clips.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from dyadsync.errors import ConfigError, DyadsyncWarning
from dyadsync.features import ROI, face, pose_and_face, tracks
from dyadsync.features import _mediapipe as engine
from dyadsync.features import face_geometry as geometry
from dyadsync.features.face import FEATURES as FACE_FEATURES
from dyadsync.features.persons import head_region
from dyadsync.features.pose import FEATURES as POSE_FEATURES
from dyadsync.features.pose import pose_series
from dyadsync.pipeline import config_from_dict, load_pipeline
from dyadsync.report._html import element_id


def _series(features: pd.DataFrame, person: str, feature: str) -> tuple[np.ndarray, np.ndarray]:
    sub = features[(features["person"] == person) & (features["feature"] == feature)].sort_values("time_s")
    return sub["time_s"].to_numpy(), sub["value"].to_numpy()


def _r(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


# --- the sample: planted head motion, lag and roll


def test_pose_and_face_found_in_nearly_every_frame(multimodal_run):
    for stage in ("pose", "face"):
        detection = multimodal_run.record["features"][stage]["detection"]
        for person in ("left", "right"):
            assert detection[person]["n_frames"] >= 1190  # 120 s at 10 Hz
            assert detection[person]["detection_rate"] >= 0.95, (stage, person, detection[person])


def test_analysis_rate_is_10_hz_with_true_timestamps(multimodal_run):
    t, _ = _series(multimodal_run.features, "left", "head_speed")
    assert abs(len(t) / 120.0 - 10.0) < 0.1
    # stride decoding keeps the frames' own timestamps: multiples of 1/25 s
    assert np.allclose(t * 25, np.round(t * 25), atol=1e-6)


@pytest.mark.parametrize("feature", ["head_speed", "face_speed"])
def test_head_motion_follows_the_planted_head_motion(multimodal_run, sample_dir, feature):
    """Head motion = speed of the head centre. The planted head centre (frame pixels, every frame) is differenced
    over the same analysed frames as the measured one, so that both are speeds over the same intervals."""
    planted = pd.read_csv(sample_dir / "planted_motion.csv")
    for person in ("left", "right"):
        t, measured = _series(multimodal_run.features, person, feature)
        p = planted[planted["person"] == person].set_index(np.round(planted.loc[planted.person == person, "time_s"] * 25).astype(int))
        xy = p.loc[np.round(t * 25).astype(int), ["head_center_x_px", "head_center_y_px"]].to_numpy()
        truth = np.r_[np.nan, np.linalg.norm(np.diff(xy, axis=0), axis=1) / np.diff(t)]
        assert _r(measured, truth) >= 0.9, (person, feature, _r(measured, truth))


def test_head_roll_follows_the_planted_roll(multimodal_run, sample_dir):
    planted = pd.read_csv(sample_dir / "planted_motion.csv")
    for person in ("left", "right"):
        t, roll = _series(multimodal_run.features, person, "head_roll_deg")
        p = planted[planted["person"] == person]
        truth = p["roll_deg"].to_numpy()[np.round(t * 25).astype(int)]
        assert _r(roll, truth) >= 0.85, person


def test_planted_lag_recovered_from_head_motion_synchrony(multimodal_run, ground_truth):
    """In every planted episode, the lag of the best correlation (median over the windows inside it) is the
    planted 0.8 s within one sample at 10 Hz."""
    sync = multimodal_run.synchrony
    sync = sync[sync["feature"] == "head_speed"]
    half = multimodal_run.record["synchrony"]["head_speed"]["wcc"]["window_s"] / 2
    lag = ground_truth["movement"]["lag_s"]
    assert multimodal_run.record["synchrony"]["head_speed"]["preprocess"]["rate_hz"] == pytest.approx(10.0)
    for on, off in ground_truth["movement"]["episodes"]:
        inside = sync[(sync.time_s - half >= on) & (sync.time_s + half <= off)]
        assert len(inside) >= 5
        assert abs(inside["best_lag_s"].median() - lag) <= 0.1 + 1e-9, (on, off, inside["best_lag_s"].tolist())


def test_mouth_opening_is_a_per_person_feature_in_the_long_table(multimodal_run):
    f = multimodal_run.features
    sub = f[f["feature"] == "mouth_opening"]
    assert set(sub["person"].astype(str)) == {"left", "right"}
    assert list(f.columns) == ["time_s", "person", "feature", "value"]
    assert sub["value"].between(0, 2).all()


def test_report_has_the_detection_qc_panel(multimodal_run):
    html = multimodal_run.report.read_text()
    assert f'id="{element_id("qc-detection")}"' in html and "time ranges without detection" in html
    for feature in ("head_speed", "body_motion", "face_motion"):
        assert f'id="{element_id("timeline", feature)}"' in html
    assert "image/jpeg" not in html and "<script" not in html
    assert "BlazePose" in html and "Face Mesh" in html


def test_codebook_documents_every_pose_and_face_feature(multimodal_run):
    codebook = (ROOT / "docs" / "codebook.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", codebook))
    written = set(multimodal_run.features["feature"].astype(str))
    landmark = {f for f in written if f.startswith("lm_")}
    assert len(landmark) == 33 * 4
    assert "lm_<landmark>_x" in codebook
    assert written - landmark <= documented, written - landmark - documented
    timings = json.loads((multimodal_run.out_dir / "timings.json").read_text())
    assert timings["pose_detail"]["per_person"]["left"]["pose_s"] > 0


# --- a person who leaves the frame


@pytest.fixture(scope="module")
def absent_session(tmp_path_factory):
    from dyadsync.simulate.session import write_session

    out = tmp_path_factory.mktemp("absent")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_session(out, duration_s=30.0, fps=10.0, episodes=[(3.0, 8.0)], absences={"right": [(10.0, 20.0)]},
                      audio=False, seed=5)
    return out


def test_person_leaving_the_frame_gives_nan_and_a_warning(absent_session, tmp_path):
    from dyadsync.pipeline import run_session

    with pytest.warns(DyadsyncWarning) as caught:
        result = run_session(absent_session / "dyad_session.mp4", tmp_path / "out",
                             pipeline=ROOT / "pipelines" / "multimodal.toml")
    messages = [str(w.message) for w in caught]
    for what in ("pose", "face"):
        hits = [m for m in messages if f"no {what} found for person 'right'" in m]
        assert hits, messages
        lo, hi = map(float, re.search(r"from (\d+\.\d)-(\d+\.\d) s", hits[0]).groups())
        assert abs(lo - 10.0) <= 0.3 and abs(hi - 20.0) <= 0.3, hits[0]
        assert not [m for m in messages if f"no {what} found for person 'left'" in m]
        det = result.record["features"][what]["detection"]
        assert det["left"]["detection_rate"] >= 0.95
        (a, b), = det["right"]["no_detection_s"]
        assert abs(a - 10.0) <= 0.3 and abs(b - 20.0) <= 0.3
        assert 0.6 <= det["right"]["detection_rate"] <= 0.7
    f = result.features
    right = f[(f["person"] == "right") & f["feature"].isin(POSE_FEATURES + FACE_FEATURES)]
    gone = right[(right.time_s >= 10.3) & (right.time_s < 19.7)]
    flags = gone["feature"].isin(["pose_detected", "face_detected"])
    assert (gone.loc[flags, "value"] == 0).all()
    assert gone.loc[~flags, "value"].isna().all()  # NaN, never 0
    present = right[(right.time_s > 21) & right["feature"].isin(["head_speed", "mouth_opening"])]
    assert present["value"].notna().mean() > 0.95
    assert "10.0-20.0 s" in result.report.read_text() or "10.1-20.0 s" in result.report.read_text()


def test_run_json_is_byte_identical_for_identical_inputs(tmp_path):
    """Wall-clock timings of the MediaPipe pass go to timings.json, never into run.json."""
    from dyadsync.pipeline import run_session
    from dyadsync.simulate.session import write_session

    outs = [tmp_path / "one", tmp_path / "two"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_session(tmp_path / "in", duration_s=12.0, fps=10.0, episodes=[(3.0, 8.0)], audio=False, seed=6)
        for out in outs:
            run_session(tmp_path / "in" / "dyad_session.mp4", out, pipeline=ROOT / "pipelines" / "multimodal.toml")
    assert (outs[0] / "run.json").read_bytes() == (outs[1] / "run.json").read_bytes()

    def keys(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                yield k
                yield from keys(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from keys(v)

    record = json.loads((outs[0] / "run.json").read_text())
    assert not [k for k in keys(record) if k in ("timings", "wall_s", "setup_s", "decode_s", "pose_s", "face_s")]
    timings = json.loads((outs[0] / "timings.json").read_text())
    for stage in ("pose", "face"):
        assert timings[f"{stage}_detail"]["wall_s"] > 0 and timings[f"{stage}_s"] >= 0


def test_identity_stays_with_the_roi_and_its_role(sample_video, make_video):
    """Roles name the persons; swapping the ROIs swaps whose series is whose."""
    frames = _clip_frames(sample_video, 15)
    video = make_video("short.mkv", frames, fps=10.0, pix_fmt="yuv444p")
    therapist_left = [ROI("patient", 320, 0, 320, 360, "px"), ROI("therapist", 0, 0, 320, 360, "px")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (table, info), (face_table, face_info) = pose_and_face(video, rois=therapist_left, rate_hz=None)
    assert list(info["detection"]) == list(face_info["detection"]) == ["patient", "therapist"]
    assert set(table["person"].astype(str)) == set(face_table["person"].astype(str)) == {"patient", "therapist"}
    assert info["rois_px"]["therapist"] == [0, 0, 320, 360]
    # the therapist's nose is in the left half of the frame, the patient's in the right half
    nose_x = {p: np.nanmedian(_series(table, p, "lm_nose_x")[1]) for p in ("patient", "therapist")}
    assert nose_x["therapist"] < 320 < nose_x["patient"]


# --- real faces


def _clip_frames(path, n, rate_hz=10.0):
    from dyadsync.io.video import iter_frames

    frames = []
    for fr in iter_frames(path, color=True, rate_hz=rate_hz):
        frames.append(fr.image)
        if len(frames) == n:
            break
    return frames


@pytest.fixture(scope="module")
def pexels_roll(shared_data, tmp_path_factory):
    """Roll of the real face clip, as recorded and rotated in-plane clockwise by known angles."""
    import cv2

    from conftest import write_video

    clip = shared_data / "media" / "pyfeat_WolfgangLanger_Pexels_face.mp4"
    frames = _clip_frames(clip, 60)
    h, w = frames[0].shape[:2]
    out = tmp_path_factory.mktemp("rotated")
    rolls = {}
    for angle in (0.0, -20.0, 12.0):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)  # OpenCV's positive angle is anticlockwise
        rotated = [cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REPLICATE) for f in frames]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            video = write_video(out / f"rot{angle:+.0f}.mkv", rotated, fps=10.0, pix_fmt="yuv444p")
        table, info = face(video, rois=[ROI("face", 0, 0, 1, 1)], rate_hz=None)
        assert info["detection"]["face"]["detection_rate"] >= 0.95, (angle, info["detection"])
        rolls[angle] = _series(table, "face", "head_roll_deg")[1]
    return rolls


@pytest.mark.parametrize("name", ["pyfeat_WolfgangLanger_Pexels_face.mp4", "pyfeat_single_face_talking.mp4"])
def test_real_faces_are_found(shared_data, name):
    table, info = face(shared_data / "media" / name, rois=[ROI("face", 0, 0, 1, 1)], rate_hz=10)
    assert info["detection"]["face"]["detection_rate"] >= 0.95
    _, mouth = _series(table, "face", "mouth_opening")
    assert np.isfinite(mouth).mean() >= 0.95


@pytest.mark.parametrize("angle", [-20.0, 12.0])
def test_roll_follows_an_in_plane_rotation(pexels_roll, angle):
    diff = pexels_roll[angle] - pexels_roll[0.0]
    ok = np.isfinite(diff)
    assert ok.mean() >= 0.95
    assert abs(np.median(diff[ok]) - angle) <= 3.0
    assert np.mean(np.abs(diff[ok] - angle) <= 3.0) >= 0.9, np.round(diff - angle, 1)


# --- geometry on constructed input (no MediaPipe)


def test_euler_angles_round_trip_and_roll_adds_under_in_plane_rotation():
    rng = np.random.default_rng(1)
    for yaw, pitch, roll in rng.uniform(-40, 40, size=(20, 3)):
        rot = geometry.euler_to_rotation(yaw, pitch, roll)
        assert np.allclose(geometry.rotation_to_euler(rot), (yaw, pitch, roll), atol=1e-9)
        spin = geometry.euler_to_rotation(0, 0, 15.0)
        assert geometry.rotation_to_euler(spin @ rot)[2] == pytest.approx(roll + 15.0)
    # signs: a positive yaw moves the nose (in front of the face) to the image's right, a positive pitch up
    nose = np.array([0.0, 0.0, -1.0])
    assert (geometry.euler_to_rotation(20, 0, 0) @ nose)[0] > 0
    assert (geometry.euler_to_rotation(0, 20, 0) @ nose)[1] < 0


@pytest.mark.parametrize("method", ["pnp", "procrustes"])
def test_head_pose_recovers_a_known_rotation(method):
    model = np.array([m[1:] for m in geometry.FACE_MODEL_MM])
    index = [m[0] for m in geometry.FACE_MODEL_MM]
    camera = np.array([[640.0, 0, 320], [0, 640.0, 180], [0, 0, 1]])
    for yaw, pitch, roll in [(0, 0, 0), (25, -10, 8), (-15, 12, -20)]:
        rot = geometry.euler_to_rotation(yaw, pitch, roll)
        cam_pts = model @ rot.T + np.array([30.0, -20.0, 900.0])
        uv = cam_pts @ camera.T
        uv = uv[:, :2] / uv[:, 2:]
        mesh = np.zeros((478, 3))
        # mesh z: depth in the same (pixel) scale as x, as MediaPipe gives it
        mesh[index] = np.c_[uv, (cam_pts[:, 2] - 900.0) * camera[0, 0] / 900.0]
        got = geometry.head_pose(mesh, model, index, camera, method)
        tol = 0.5 if method == "pnp" else 3.0  # procrustes ignores perspective
        assert np.allclose(got, (yaw, pitch, roll), atol=tol), (method, got, (yaw, pitch, roll))


def test_nonrigid_displacement_ignores_head_motion():
    rng = np.random.default_rng(2)
    pts = rng.normal(size=(50, 3)) * 20
    rot = geometry.euler_to_rotation(10, -5, 30)
    moved = 1.3 * pts @ rot.T + np.array([5.0, -3.0, 2.0])
    assert geometry.nonrigid_displacement(pts, moved) == pytest.approx(0.0, abs=1e-9)
    bent = pts.copy()
    bent[:10, 1] += 4.0
    assert geometry.nonrigid_displacement(pts, bent) > 0.2


def test_short_gaps_are_interpolated_long_ones_stay_nan():
    t = np.arange(30) * 0.1
    v = np.arange(30, dtype=float)
    v[[5, 6, 7]] = np.nan  # 0.3 s
    v[12:22] = np.nan  # 1.0 s
    v[0] = np.nan  # leading: never extrapolated
    out = tracks.fill_short_gaps(t, v, 0.5)
    assert np.allclose(out[5:8], [5, 6, 7])
    assert np.isnan(out[12:22]).all() and np.isnan(out[0])
    assert tracks.missing_ranges(t, np.isfinite(v), 0.5) == [(1.2, 2.2)]
    assert tracks.missing_ranges(t, np.isfinite(v), 0.0) == [(0.0, 0.1), (0.5, 0.8), (1.2, 2.2)]


def test_pose_series_speeds_are_in_shoulder_widths_per_second():
    n = 21
    t = np.arange(n) * 0.1
    base = np.zeros((33, 4))
    base[:, 3] = 1.0
    base[11, :2], base[12, :2] = (200.0, 300.0), (100.0, 300.0)  # shoulders 100 px apart
    base[7, :2], base[8, :2] = (170.0, 150.0), (130.0, 150.0)
    base[23, :2], base[24, :2] = (190.0, 500.0), (110.0, 500.0)
    lm = np.repeat(base[None], n, axis=0)
    lm[:, :, 0] += 50.0 * t[:, None]  # everything moves right at 50 px/s = 0.5 shoulder widths/s
    lm[8:10] = np.nan  # a 0.2 s gap: interpolated
    series, filled, info = pose_series(t, lm, max_gap_s=0.5)
    assert info["shoulder_width_px"] == pytest.approx(100.0)
    assert np.isnan(series["head_speed"][0])
    assert np.allclose(series["head_speed"][1:], 0.5)
    assert np.allclose(series["torso_speed"][1:], 0.5)
    assert np.allclose(series["trunk_lean_deg"], 0.0)
    assert series["pose_detected"][8] == 0 and series["pose_detected"][7] == 1
    # the wrists were never visible: NaN, not 0
    lm2 = lm.copy()
    lm2[:, 15, 3] = 0.1
    assert np.isnan(pose_series(t, lm2)[0]["left_wrist_speed"]).all()


def test_head_region_from_pose_landmarks():
    lm = np.zeros((33, 4))
    lm[:, 3] = 0.9
    lm[0, :2], lm[7, :2], lm[8, :2] = (100, 100), (120, 95), (80, 95)
    lm[3, :2], lm[6, :2] = (110, 92), (90, 92)
    lm[11, :2], lm[12, :2] = (160, 180), (40, 180)
    cx, cy, side = head_region(lm, scale=2.0)
    assert (cx, cy) == pytest.approx((100.0, 96.6667), abs=1e-3)
    assert side == pytest.approx(2.0 * max(40.0, 40.0, 48.0))
    lm[:11, 3] = 0.2
    assert head_region(lm) is None


def test_pose_and_face_config_sections_are_validated():
    config = load_pipeline(ROOT / "pipelines" / "multimodal.toml")
    assert config.pipeline.stages[:3] == ["motion", "pose", "face"]
    assert {"head_speed", "face_motion"} <= set(config.synchrony.features)
    with pytest.raises(ConfigError, match="head_crop"):
        config_from_dict({"face": {"head_crop": 192}})
    with pytest.raises(ConfigError, match="head_pose"):
        config_from_dict({"face": {"head_pose": "pnpp"}})
    with pytest.raises(ConfigError, match="rate_hz"):
        config_from_dict({"pose": {"rate_hz": 0}})
    # pose features need the pose stage
    with pytest.raises(ConfigError, match="head_speed"):
        config_from_dict({"synchrony": {"features": ["head_speed"]}})
    ok = config_from_dict({"pipeline": {"stages": ["pose", "synchrony"]}, "synchrony": {"features": ["head_speed"]}})
    assert ok.pose.rate_hz == 10.0


def test_unreadable_video_is_a_video_error_naming_the_file(tmp_path):
    from dyadsync.errors import VideoError
    from dyadsync.features import pose

    bad = tmp_path / "session.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(VideoError, match="session.mp4"):
        pose(bad)
    with pytest.raises(VideoError, match="not found"):
        face(tmp_path / "missing.mp4")


def test_bad_parameters_are_config_errors(sample_video):
    with pytest.raises(ConfigError, match="head_crop_px"):
        face(sample_video, head_crop_px=16)
    with pytest.raises(ConfigError, match="rate_hz"):
        pose_and_face(sample_video, rate_hz=-1)


def test_blendshapes_need_a_model_file_and_never_download(sample_video, tmp_path):
    from dyadsync.errors import InputError

    missing = tmp_path / "face_landmarker.task"
    with pytest.raises(InputError, match="never downloads"):
        face(sample_video, blendshapes_model=missing)
    assert not missing.exists()
    assert engine.blendshape_feature("mouthSmileLeft") == "bs_mouth_smile_left"
    assert engine.blendshape_feature("_neutral") == "bs_neutral"
    assert len(engine.BLENDSHAPES) == len(set(engine.BLENDSHAPES)) == 52


def test_roi_preview_writes_one_annotated_frame(sample_video, tmp_path):
    import cv2

    from dyadsync.cli import main

    out = tmp_path / "preview.png"
    assert main(["roi-preview", str(sample_video), "--out", str(out), "--time", "30"]) == 0
    image = cv2.imread(str(out))
    assert image.shape == (360, 640, 3)
    assert list(tmp_path.iterdir()) == [out]


def test_one_core_worker_gives_the_same_features_as_the_threaded_run(sample_video, make_video, monkeypatch):
    """A batch worker limited to one core processes the persons in turn, with identical results."""
    video = make_video("short.mkv", _clip_frames(sample_video, 12), fps=10.0, pix_fmt="yuv444p")
    rois = [ROI("left", 0, 0, 320, 360, "px"), ROI("right", 320, 0, 320, 360, "px")]
    runs = {}
    for threads in ("2", "1"):
        monkeypatch.setenv("DYADSYNC_THREADS", threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs[threads] = pose_and_face(video, rois=rois, rate_hz=None)
    for (threaded, _), (sequential, _) in zip(runs["2"], runs["1"]):
        assert len(threaded) > 0
        pd.testing.assert_frame_equal(threaded, sequential)
