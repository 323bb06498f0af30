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
