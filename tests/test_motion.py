"""Motion energy against planted ground truth: exact pixel counts on lossless video, planted artefacts found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import textured_background
from dyadsync.errors import ConfigError
from dyadsync.features import ROI, motion_energy, to_wide


def _block_frames(n=12, h=60, w=120, step=3, size=10):
    """A bright block moving right by ``step`` px per frame in the left half; the right half is static."""
    frames = []
    for i in range(n):
        img = np.full((h, w), 50, np.uint8)
        x = 5 + i * step
        img[20 : 20 + size, x : x + size] = 200
        img[30:40, 90:100] = 120  # static object in the right half
        frames.append(img)
    return frames


def test_counts_changed_pixels_exactly(make_video):
    path = make_video("block.mkv", _block_frames())
    me, info = motion_energy(path)
    wide = to_wide(me, "motion_energy")
    assert np.isnan(wide["left"].iloc[0]) and np.isnan(wide["right"].iloc[0])
    # Moving a 10x10 block right by 3 px uncovers a 3x10 strip and covers another: 60 changed pixels.
    assert (wide["left"].iloc[1:] == 60).all()
    assert (wide["right"].iloc[1:] == 0).all()
    pct = to_wide(me, "motion_energy_pct")
    np.testing.assert_allclose(pct["left"].iloc[1:], 60 * 100 / (60 * 60))
    assert info["rois_px"] == {"left": [0, 0, 60, 60], "right": [60, 0, 120, 60]}
    assert info["n_artefact_frames"] == 0


def test_noise_threshold(make_video):
    base = np.full((40, 80), 100, np.uint8)
    frames = [base, base + 5, base + 5, base - 10]  # +5: below threshold; -15: above
    me, _ = motion_energy(make_video("steps.mkv", frames), threshold=10)
    left = to_wide(me, "motion_energy")["left"].to_numpy()
    assert left[1] == 0 and left[2] == 0 and left[3] == 40 * 40


def test_rois_in_pixels_and_fractions_agree(make_video):
    path = make_video("block.mkv", _block_frames())
    a, _ = motion_energy(path, rois=[ROI("p", 0, 0, 0.5, 1), ROI("t", 0.5, 0, 0.5, 1)])
    b, _ = motion_energy(path, rois=[ROI("p", 0, 0, 60, 60, "px"), ROI("t", 60, 0, 60, 60, "px")])
    pd.testing.assert_frame_equal(a, b)
    assert set(a["person"].astype(str)) == {"p", "t", "scene"}


def test_roi_outside_frame_is_a_config_error(make_video):
    path = make_video("block.mkv", _block_frames())
    with pytest.raises(ConfigError, match="outside"):
        motion_energy(path, rois=[ROI("p", 200, 0, 10, 10, "px"), ROI("t", 0, 0, 10, 10, "px")])
    with pytest.raises(ConfigError, match="past the frame"):
        ROI("p", 0.6, 0, 0.5, 1)


def test_lighting_jump_and_camera_shift_are_flagged(make_video):
    fps = 25
    bg = textured_background(90, 160)
    frames = []
    for i in range(5 * fps):
        img = bg.copy()
        x = 20 + int(10 * np.sin(i / 5))  # a person-sized block moving all the time
        img[30:80, x : x + 30] = 230
        if i == 3 * fps:  # one frame of camera shake: everything moves by 3 px
            img = np.roll(img, (2, 3), axis=(0, 1))
        if i >= 4 * fps:  # the lights go up and stay up
            img = np.clip(img.astype(int) + 40, 0, 255).astype(np.uint8)
        frames.append(img)
    me, info = motion_energy(make_video("room.mkv", frames, fps=fps))
    flags = to_wide(me, "artefact")["scene"]
    flagged = np.round(flags[flags > 0].index.to_numpy() * fps).astype(int).tolist()
    # The shake changes the image when it starts and when it ends; the lighting step once.
    assert flagged == [3 * fps, 3 * fps + 1, 4 * fps]
    assert info["n_artefact_frames"] == 3


def test_sample_artefacts_match_the_planted_ones(sample_video, ground_truth):
    me, info = motion_energy(sample_video)
    assert info["artefact_times_s"] == pytest.approx(ground_truth["artefacts"]["frame_times_s"])


def test_sample_motion_energy_follows_planted_movement(sample_video, sample_dir):
    me, info = motion_energy(sample_video)
    planted = pd.read_csv(sample_dir / "planted_motion.csv")
    wide = to_wide(me, "motion_energy")
    for person in ("left", "right"):
        speed = planted[planted.person == person].set_index("time_s")["planted_speed"]
        both = pd.concat([wide[person], speed.reindex(wide.index, method="nearest", tolerance=1e-3)], axis=1).dropna()
        r = np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1]
        # Motion energy counts pixels, not speed, so the relation is strong but not linear.
        assert r > 0.6, (person, r)


# --- thresholds at their boundaries (issue 17): every planted change sits exactly at or one step past a threshold


def _flagged(me, fps=25):
    flags = to_wide(me, "artefact")["scene"]
    return np.round(flags[flags > 0].index.to_numpy() * fps).astype(int).tolist()


@pytest.mark.parametrize("threshold, steps", [(10, (10, 11)), (10.7, (10, 11)), (0, (0, 1))])
def test_a_pixel_moves_only_when_its_change_exceeds_the_threshold(make_video, threshold, steps):
    """Documented rule: moving when |g_t - g_(t-1)| > threshold. A change equal to the threshold is noise."""
    at, past = steps
    base = np.full((40, 80), 100, np.uint8)
    frames = [base, base + at, base + at + past, base + at]  # +at, then +past, then -past (darkening)
    me, _ = motion_energy(make_video("steps.mkv", frames), threshold=threshold)
    left = to_wide(me, "motion_energy")["left"].to_numpy()
    assert left[1:].tolist() == [0, 40 * 40, 40 * 40]


def test_lighting_is_flagged_when_the_image_darkens_as_well_as_when_it_brightens(make_video):
    """Uniform steps of the mean grey level smaller than the pixel threshold: no pixel moves, only the light."""
    levels = [100] * 5 + [91] * 5 + [100] * 5 + [92] * 5 + [100] * 5  # -9, +9 (> luma_jump 8), then -8, +8 (= 8)
    frames = [np.full((40, 80), v, np.uint8) for v in levels]
    me, info = motion_energy(make_video("lights.mkv", frames))
    assert _flagged(me) == [5, 10]
    assert (to_wide(me, "scene_changed_pct")["scene"].iloc[1:] == 0).all()  # nothing moved
    assert (to_wide(me, "motion_energy")[["left", "right"]].iloc[1:] == 0).all().all()
    me, _ = motion_energy(make_video("lights.mkv", frames), luma_jump=5)
    assert _flagged(me) == [5, 10, 15, 20]


@pytest.mark.parametrize("artefact_pct, changed, flagged", [
    (50, 1600, []), (50, 1601, [2, 3]), (25, 800, []), (25, 801, [2, 3]),
])
def test_a_frame_is_an_artefact_only_when_more_than_artefact_pct_of_it_changed(make_video, artefact_pct, changed,
                                                                               flagged):
    """``changed`` of the 3200 pixels jump by +-60 and back (the mean grey level stays put): 1600 is exactly 50 %."""
    base = np.full((40, 80), 100, np.uint8)
    jump = base.copy().ravel()
    jump[:changed] = np.where(np.arange(changed) % 2 == 0, 160, 40)
    frames = [base, base, jump.reshape(base.shape), base, base]
    me, _ = motion_energy(make_video("jump.mkv", frames), artefact_pct=artefact_pct)
    assert to_wide(me, "scene_changed_pct")["scene"].iloc[2] == pytest.approx(changed * 100 / 3200)
    assert _flagged(me) == flagged


def _bars(h=64, w=128, width=16):
    """Vertical bars of grey 60 and 190: texture only on either side of the 7 inner edges (14 columns, 896 pixels;
    a central difference of 65 grey levels per pixel there, 0 elsewhere)."""
    img = np.where((np.arange(w) // width) % 2 == 0, 60, 190).astype(np.uint8)
    return np.repeat(img[None, :], h, axis=0)


@pytest.mark.parametrize("camera_pct, changed, flagged", [
    (25, 224, []), (25, 225, [100, 101]), (50, 448, []), (50, 449, [100, 101]),
])
def test_camera_motion_is_flagged_only_when_more_than_camera_pct_of_the_sentinels_changed(
    make_video, camera_pct, changed, flagged
):
    """A static textured background for 4 s makes its 896 edge pixels the sentinels; at 4 s ``changed`` of them
    brighten by 40 for one frame (too few pixels for the scene rule, too little for the lighting rule)."""
    bg = _bars()
    edges = [c for k in range(1, 8) for c in (16 * k - 1, 16 * k)]
    rows, cols = np.meshgrid(np.arange(64), edges, indexing="ij")
    order = np.argsort(cols.ravel(), kind="stable")  # column by column
    touched = (rows.ravel()[order][:changed], cols.ravel()[order][:changed])
    frames = []
    for i in range(110):
        img = bg.copy()
        if i == 100:
            img[touched] += 40
        frames.append(img)
    me, _ = motion_energy(make_video("bars.mkv", frames), camera_pct=camera_pct)
    sentinel = to_wide(me, "sentinel_changed_pct")["scene"]
    assert sentinel.iloc[100] == pytest.approx(changed * 100 / 896)
    assert _flagged(me) == flagged


@pytest.mark.parametrize("changed, flagged", [(20, []), (21, [2, 3])])
def test_a_background_roi_flags_a_frame_only_past_background_pct(make_video, changed, flagged):
    """A 10 x 10 background region: 20 changed pixels are exactly its 20 %."""
    base = np.full((40, 80), 100, np.uint8)
    jump = base.copy()
    patch = jump[0:10, 70:80].copy().ravel()
    patch[:changed] = np.where(np.arange(changed) % 2 == 0, 160, 40)
    jump[0:10, 70:80] = patch.reshape(10, 10)
    frames = [base, base, jump, base, base]
    me, _ = motion_energy(make_video("wall.mkv", frames), background=ROI("wall", 70, 0, 10, 10, "px"),
                          background_pct=20)
    assert _flagged(me) == flagged
