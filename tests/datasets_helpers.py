"""Shared set-up of the gate-dataset tests: a labelled image folder with bad files mixed in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("circle", "square", "stripes")
PER_CLASS = 12
BAD = {"circle/broken.jpg", "square/empty.png", "stripes/notes.png"}


def make_image_folder(root: Path) -> Path:
    """36 synthetic 64×64 PNG/JPEG images in three class folders, three unreadable files among
    them and a non-image file that must be ignored."""
    from se_viz.demo.synthetic import generate

    images, _ = generate(len(CLASSES) * PER_CLASS, seed=3)
    for i, arr in enumerate(images):
        folder = root / CLASSES[i % len(CLASSES)]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(folder / f"img_{i:03d}.{'jpg' if i % 2 else 'png'}")
    jpeg = (root / "circle" / "img_003.jpg").read_bytes()
    (root / "circle" / "broken.jpg").write_bytes(jpeg[:200])
    (root / "square" / "empty.png").write_bytes(b"")
    (root / "stripes" / "notes.png").write_text("these are notes, not pixels")
    (root / "README.txt").write_text("not an image, ignored")
    return root


def expected_capture(lm, paths):
    """What an in-process ``se_viz.capture`` gives for ``paths`` (read with load_image)."""
    import se_viz

    x = lm.preprocess([se_viz.load_image(p) for p in paths])
    return se_viz.capture(lm.model, x, blocks=lm.blocks)


def rows_equal(a, b) -> None:
    """Two opened gate datasets hold the same images and the same values (1e-5)."""
    assert a.paths == b.paths and a.labels == b.labels
    assert a.table["sha256"].tolist() == b.table["sha256"].tolist()
    np.testing.assert_array_equal(a.top5_classes, b.top5_classes)
    for block in a.block_names:
        np.testing.assert_allclose(a.gates(block), b.gates(block), atol=1e-5, rtol=0)
        np.testing.assert_allclose(a.squeeze(block), b.squeeze(block), atol=1e-5, rtol=0)
    np.testing.assert_allclose(a.logits(), b.logits(), atol=1e-5, rtol=0)
