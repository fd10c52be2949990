"""The texture drawings: a third test set for the mini model, drawn by its own routine."""

import numpy as np
import pytest

from se_viz.demo import synthetic
from se_viz.demo import texture_drawings as td

CHECKER, DOTS = synthetic.CLASSES.index("checkerboard"), synthetic.CLASSES.index("dots")


@pytest.fixture(scope="module")
def drawn():
    return td.texture_drawings(100, seed=5)


def test_balanced_and_deterministic(drawn):
    images, labels = drawn
    again, labels2 = td.texture_drawings(100, seed=5)
    other, _ = td.texture_drawings(100, seed=6)
    assert np.bincount(labels, minlength=len(synthetic.CLASSES)).tolist() == [10] * len(synthetic.CLASSES)
    assert np.array_equal(labels, labels2)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, again, strict=True))
    assert not all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(images, other, strict=True))


def test_hard_edged_drawings_on_large_canvases(drawn):
    # Not the generator's 64×64 noisy images: background, paper and ink only, on the routine's canvases.
    images, _ = drawn
    for img in images:
        assert img.mode == "RGB" and img.size[0] == img.size[1] and img.size[0] in td.CANVAS_PX
        assert len(np.unique(np.asarray(img).reshape(-1, 3), axis=0)) <= 3
    assert len({img.size[0] for img in images}) >= 4


def _colours(img) -> set[tuple[int, ...]]:
    return {tuple(c) for c in np.unique(np.asarray(img).reshape(-1, 3), axis=0)}


def test_textures_vary_in_colour_scale_and_rotation(drawn):
    images, labels = drawn
    checkers = [img for img, lab in zip(images, labels, strict=True) if lab == CHECKER]
    # Colours: more than black and white, and not one pair for all.
    pairs = {frozenset(_colours(img)) for img in checkers}
    assert len(pairs) >= 6 and any((0, 0, 0) not in _colours(img) for img in checkers)

    # Rotation: an unrotated checkerboard has only axis-aligned edges, so along any row the
    # colour changes at the same columns as in the next row but a cell away; rotated ones do not.
    # Count, per image, the distinct columns where colours change — few when axis-aligned.
    def edge_columns(img):
        a = np.asarray(img.convert("L")).astype(int)
        return len(np.unique(np.nonzero(np.diff(a, axis=1))[1]))

    edges = [edge_columns(img) / img.size[0] for img in checkers]
    assert min(edges) < 0.15 and max(edges) > 0.5
    # Dot size and density: the fraction of ink differs a lot between dot drawings.
    dots = [img for img, lab in zip(images, labels, strict=True) if lab == DOTS]
    ink = [float((np.asarray(img.convert("L")) != np.asarray(img.convert("L"))[0, 0]).mean()) for img in dots]
    assert max(ink) > 2 * min(ink)
