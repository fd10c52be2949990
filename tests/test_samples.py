"""The sample gallery: real photos with licences, decodable through the upload path."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import se_viz
from se_viz.loading import samples

ROOT = Path(__file__).resolve().parents[1]


def test_photos_are_a_handful_of_decodable_rgb_images():
    photos = samples.sample_photos()
    assert 3 <= len(photos) <= 8
    assert len({p.name for p in photos}) == len(photos)
    for p in photos:
        img = se_viz.load_image(p.data)  # the same decoder an upload goes through
        assert img.mode == "RGB" and min(img.size) >= 256
        assert p.kind == "photo" and p.licence in ("CC0", "public domain") and p.credit


def test_every_photo_licence_matches_scikit_image_and_is_noted_in_the_repo():
    import skimage.data

    note = (ROOT / "models" / "SAMPLES_LICENSE.md").read_text(encoding="utf-8")
    for spec in samples.PHOTOS:
        doc = inspect.getdoc(getattr(skimage.data, spec.loader)) or ""
        doc = " ".join(doc.split())
        if spec.licence == "CC0":
            assert "CC0" in doc, spec.loader
        else:
            assert "public domain" in doc, spec.loader
        assert spec.name in note and f"skimage.data.{spec.loader}()" in note


def test_synthetic_examples_follow_the_mini_model_classes():
    synthetic = pytest.importorskip("se_viz.demo.synthetic")
    items = samples.synthetic_samples()
    expected = synthetic.example_images(seed=0, per_class=1)
    assert [s.title for s in items] == [f"synthetic: {label}" for label, _ in expected]
    for s in items:
        assert s.kind == "synthetic" and s.name.endswith(".png")
        assert se_viz.load_image(s.data).mode == "RGB"


def test_samples_module_is_pure():
    tree = ast.parse(Path(samples.__file__).read_text(encoding="utf-8"))
    imported = {n.names[0].name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "streamlit" not in imported and "torch" not in imported
