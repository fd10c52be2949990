"""The demo model, a guest of the library: SE-ResNet mini, its synthetic-shapes generator, its
training loop and its model card.

The loader never imports this package. Like a timm model module calling ``register_model``, the
demo registers itself with the loader (``se_viz/__init__.py`` calls :func:`register`): its builder
(catalog entries with ``builder = "mini"``) and its generated gallery samples. The heavy modules
are imported only when a mini model is built or a sample is drawn.
"""

from __future__ import annotations

from typing import Optional, Sequence

from PIL import Image

from ..loading.build import Built, register_builder
from ..loading.catalog import CatalogEntry
from ..loading.image_sets import register_image_set
from ..loading.samples import register_generated_samples


def _build_mini(name: str, entry: Optional[CatalogEntry]) -> Built:
    """The mini network, described by the JSON next to its bundled weights (written by training)."""
    from .mini import DEFAULT_CONFIG, build_mini, read_config

    config_path = entry.bundled_path.with_suffix(".json") if entry and entry.bundled_path else None
    config = read_config(config_path) if config_path and config_path.is_file() else dict(DEFAULT_CONFIG)
    return Built(build_mini(config), list(config.get("classes") or []) or None)


def _examples(seed: int, per_class: int) -> Sequence[tuple[str, Image.Image]]:
    from .synthetic import example_images

    return example_images(seed=seed, per_class=per_class)


def _generated(n: int, seed: int) -> tuple[list[Image.Image], list[str]]:
    from .synthetic import CLASSES, generate

    pixels, labels = generate(n, seed=seed)
    return [Image.fromarray(px) for px in pixels], [CLASSES[int(k)] for k in labels]


def _plain(n: int, seed: int) -> tuple[list[Image.Image], list[str]]:
    from .plain_drawings import plain_drawings
    from .synthetic import CLASSES

    images, labels = plain_drawings(n, seed)
    return list(images), [CLASSES[int(k)] for k in labels]


def register() -> None:
    """Register the demo's builder, gallery samples and offline image sets with the loader
    (calling it again is harmless)."""
    from .synthetic import CLASSES

    register_builder("mini", _build_mini)
    register_generated_samples("se_viz.demo.synthetic", _examples)
    # An integer seed never repeats a training batch (training seeds are sequences).
    register_image_set(
        "generated", _generated, classes=CLASSES, seed=1, description="the mini model's generator's shapes"
    )
    register_image_set(
        "plain", _plain, classes=CLASSES, seed=0, description="plain drawings (another routine, same classes)"
    )
