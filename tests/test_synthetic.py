"""The synthetic image generator behind the bundled mini model: deterministic, balanced, fast."""

import time

import numpy as np
import pytest
from PIL import Image

from se_viz.demo import synthetic


def test_generate_shapes_and_dtypes():
    images, labels = synthetic.generate(30, seed=3)
    assert images.shape == (30, 64, 64, 3) and images.dtype == np.uint8
    assert labels.shape == (30,) and labels.dtype == np.int64
    assert labels.min() >= 0 and labels.max() < len(synthetic.CLASSES)


def test_generate_is_deterministic_per_seed():
    a_img, a_lab = synthetic.generate(20, seed=11)
    b_img, b_lab = synthetic.generate(20, seed=11)
    c_img, _ = synthetic.generate(20, seed=12)
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    assert not np.array_equal(a_img, c_img)


def test_generate_is_class_balanced():
    _, labels = synthetic.generate(10 * len(synthetic.CLASSES), seed=0)
    assert np.bincount(labels, minlength=len(synthetic.CLASSES)).tolist() == [10] * len(synthetic.CLASSES)


def test_images_are_not_trivial():
    # Backgrounds, clutter and noise vary: no two images alike, none flat.
    images, _ = synthetic.generate(20, seed=5)
    assert all(img.std() > 10 for img in images)
    flat = images.reshape(len(images), -1).astype(np.int32)
    assert len({row.tobytes() for row in flat}) == len(images)


def test_generation_is_fast():
    started = time.perf_counter()
    synthetic.generate(200, seed=1)
    # ~1–2 ms per image on one core; generous because CI machines are shared.
    assert time.perf_counter() - started < 10


def test_example_images_one_per_class_deterministic():
    ex = synthetic.example_images(seed=0, per_class=1)
    assert [name for name, _ in ex] == synthetic.CLASSES
    for _, img in ex:
        assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (64, 64)
    again = synthetic.example_images(seed=0, per_class=1)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for (_, a), (_, b) in zip(ex, again, strict=True))
    other = synthetic.example_images(seed=1, per_class=1)
    assert not np.array_equal(np.asarray(ex[0][1]), np.asarray(other[0][1]))


def test_example_images_more_per_class_keeps_the_first():
    three = synthetic.example_images(seed=0, per_class=3)
    one = synthetic.example_images(seed=0, per_class=1)
    assert len(three) == 3 * len(synthetic.CLASSES)
    assert [n for n, _ in three[::3]] == synthetic.CLASSES
    assert np.array_equal(np.asarray(three[3][1]), np.asarray(one[1][1]))


def test_plain_drawings_are_a_balanced_deterministic_white_canvas_set():
    from se_viz.demo.plain_drawings import plain_drawings

    images, labels = plain_drawings(20, seed=2)
    again, labels2 = plain_drawings(20, seed=2)
    assert np.bincount(labels, minlength=len(synthetic.CLASSES)).tolist() == [2] * len(synthetic.CLASSES)
    assert np.array_equal(labels, labels2)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, again, strict=True))
    for img in images:
        arr = np.asarray(img)
        assert img.mode == "RGB" and img.size[0] == img.size[1] >= 128
        # Paint-program drawings: the corners that are not covered are pure white, and no noise.
        assert len(np.unique(arr.reshape(-1, 3), axis=0)) <= 3


def test_every_dot_layout_keeps_the_density_of_its_spacing_and_radius():
    # Square, staggered and scattered dots: ink covers about π r² / p² of the area in each layout,
    # so the layout changes the arrangement, not how many dots there are or how big they are.
    import math

    yy, xx = np.mgrid[0:480, 0:480].astype(np.float32) + 0.5
    seen = set()
    for seed in range(60):
        rng = np.random.default_rng(seed)
        layout_rng = np.random.default_rng(seed)
        layout_rng.uniform(*synthetic.DOT_RADIUS)  # the draw order of _dot_pattern
        layout = synthetic.DOT_LAYOUTS[int(layout_rng.integers(0, len(synthetic.DOT_LAYOUTS)))]
        seen.add(layout)
        period = 24.0  # 20 periods across, dots of 3.6–10 px radius
        pattern = synthetic._dot_pattern(rng, xx, yy, period)
        radius = period * np.random.default_rng(seed).uniform(*synthetic.DOT_RADIUS)
        assert pattern.mean() == pytest.approx(math.pi * radius**2 / period**2, rel=0.15), layout
    assert seen == set(synthetic.DOT_LAYOUTS)


def test_class_repeats_favour_the_named_classes_and_leave_held_out_sets_balanced():
    repeats = {"checkerboard": 2, "dots": 3}
    counts = np.zeros(len(synthetic.CLASSES), int)
    for step in range(4):
        _, labels = synthetic.generate(26, [0, step, 1], class_repeats=repeats)
        counts += np.bincount(labels, minlength=len(synthetic.CLASSES))
    per_cycle = counts / counts.sum() * (len(synthetic.CLASSES) + 3)
    assert per_cycle[synthetic.CLASSES.index("checkerboard")] == pytest.approx(2, abs=0.3)
    assert per_cycle[synthetic.CLASSES.index("dots")] == pytest.approx(3, abs=0.3)
    assert np.allclose(np.delete(per_cycle, [8, 9]), 1, atol=0.3)
    # Without repeats (held-out sets) every class comes equally often.
    _, labels = synthetic.generate(30, seed=4)
    assert np.bincount(labels).tolist() == [3] * len(synthetic.CLASSES)


def test_equally_bright_colour_pairs_keep_their_hue():
    # Issue 24: textures in two vivid colours of the same brightness must be in training, so the
    # network learns the pattern from hue edges too. The matched colour keeps its hue; only luma moves.
    import colorsys

    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = synthetic._vivid(rng), synthetic._vivid(rng)
        matched = synthetic._luma_matched(b, synthetic._luma(a))
        assert synthetic._luma(matched) == pytest.approx(synthetic._luma(a), abs=1e-3)
        assert matched.min() >= 0 and matched.max() <= 1
        hue_b, hue_m = colorsys.rgb_to_hsv(*b)[0], colorsys.rgb_to_hsv(*matched)[0]
        assert min(abs(hue_b - hue_m), 1 - abs(hue_b - hue_m)) < 0.01


def test_noisy_grey_backgrounds_and_jpeg_copies_occur(monkeypatch):
    # Some backgrounds are grey with per-pixel grain, and some images carry JPEG's artefacts.
    rng = np.random.default_rng(1)
    grains = [synthetic._background(rng, 64) for _ in range(200)]
    noisy = [bg for bg, cluttered in grains if not cluttered and bg.std(axis=(0, 1)).mean() > 0.04]
    assert 10 <= len(noisy) <= 60  # about 15 % of 200
    monkeypatch.setattr(synthetic, "JPEG_P", 0.0)
    clean = synthetic.render(np.random.default_rng(3), synthetic.CLASSES.index("star"))
    monkeypatch.setattr(synthetic, "JPEG_P", 1.0)
    jpeg = synthetic.render(np.random.default_rng(3), synthetic.CLASSES.index("star"))
    # The same drawing, changed a little everywhere by the lossy copy.
    diff = np.abs(clean.astype(int) - jpeg.astype(int))
    assert 0.5 < diff.mean() < 12 and (diff > 0).mean() > 0.3


def test_look_alike_dots_keep_background_between_them_where_checker_cells_touch():
    # Issue 24: dense, large dots are drawn often in training because at 64×64 they resemble a
    # small checkerboard. What tells them apart must be there: the paper around dots is one
    # connected region (background on every side of every dot), while a checkerboard's off-cells
    # are separate islands that meet only at corners.
    from scipy import ndimage

    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32) / 4
    rng = np.random.default_rng(5)
    for _ in range(20):
        period = rng.uniform(*synthetic.LOOK_ALIKE_DOT_PERIOD_PX)
        dots = synthetic._dot_pattern(rng, xx, yy, period, look_alike=True)
        assert 0.2 < dots.mean() < 0.56
        assert ndimage.label(np.pad(~dots, 1, constant_values=True))[1] == 1
        cell = rng.uniform(*synthetic.LOOK_ALIKE_CHECKER_CELL_PX)
        checker = (np.floor(xx / cell) + np.floor(yy / cell)) % 2 == 0
        assert ndimage.label(~checker)[1] > 10
