"""The colour-pair drawings (issue 24.4): a test set drawn by its own routine, with the issue's
parameters — two saturated colours of similar brightness, cells 5–8 px, regions 24–44 px, on
white, grey and noisy backgrounds."""

import colorsys

import numpy as np
import pytest

from se_viz.demo import colour_pair_drawings as cp
from se_viz.demo import synthetic

TEXTURES = [synthetic.CLASSES.index(n) for n in ("checkerboard", "dots", "horizontal stripes")]


@pytest.fixture(scope="module")
def drawn():
    return cp.colour_pair_drawings(60, seed=3)


def test_balanced_deterministic_and_64_px(drawn):
    images, labels = drawn
    again, labels2 = cp.colour_pair_drawings(60, seed=3)
    other, _ = cp.colour_pair_drawings(60, seed=4)
    assert np.bincount(labels).tolist() == [6] * len(synthetic.CLASSES)
    assert np.array_equal(labels, labels2)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, again, strict=True))
    assert not np.array_equal(np.asarray(images[0]), np.asarray(other[0]))
    assert all(img.size == (64, 64) and img.mode == "RGB" for img in images)


def _pattern_colours(img, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The two most common colours that are not the background, and the patterned box's size."""
    a = np.asarray(img).reshape(-1, 3).astype(int)
    far = np.abs(a - bg).max(axis=1) > 60  # not background (nor its grain)
    colours, counts = np.unique(a[far], axis=0, return_counts=True)
    pair = colours[np.argsort(counts)[-2:]]
    near = np.minimum(*(np.abs(a - c).max(axis=1) for c in pair)) <= 25  # either colour, not grain
    near = near.reshape(64, 64)
    # Rows and columns the pattern crosses (a grain pixel close to a colour now and then does not count).
    xs, ys = np.nonzero(near.sum(axis=0) >= 6)[0], np.nonzero(near.sum(axis=1) >= 6)[0]
    return pair[0] / 255.0, pair[1] / 255.0, (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)


def test_textures_are_two_saturated_equally_bright_colours_in_a_small_region():
    for seed in range(40):
        rng = np.random.default_rng(seed)
        label = TEXTURES[seed % 3]
        img = cp.colour_pair_drawing(rng, label)
        arr = np.asarray(img).astype(int)
        corners = np.array([arr[0, 0], arr[0, -1], arr[-1, 0], arr[-1, -1]])
        bg = np.median(corners, axis=0)
        first, second, (w, h) = _pattern_colours(img, bg)
        # Saturated, of different hue, and about as bright as each other.
        for c in (first, second):
            assert colorsys.rgb_to_hsv(*c)[1] > 0.6
        assert abs(cp.luma(first) - cp.luma(second)) <= cp.BRIGHTNESS_GAP + 0.02
        # The patterned region (a dot grid may stop short of its edge by a gap).
        assert cp.REGION_PX[0] - 8 <= min(w, h) and max(w, h) <= cp.REGION_PX[1]


def test_all_three_backgrounds_occur():
    images, labels = cp.colour_pair_drawings(90, seed=5)
    kinds = set()
    for img in images:
        corner = np.asarray(img)[:6, :6].reshape(-1, 3).astype(float) / 255
        if corner.std() > 0.03:
            kinds.add("noisy")
        elif corner.min() > 0.97:
            kinds.add("white")
        else:
            kinds.add("grey")
    assert kinds == set(cp.BACKGROUNDS)
