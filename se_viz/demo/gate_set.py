"""Gates of many images without any network access: the offline demonstration of the many-image views.

:func:`demo_gate_set` generates a few hundred images of the bundled mini model's classes
(:mod:`se_viz.demo.synthetic`, seeded), runs :func:`se_viz.capture` over them in batches and
returns one stacked :class:`~se_viz.Capture` with the true class of every image, its name and a
small PNG thumbnail — everything the compare and class views need, with real class structure.

:func:`random_capture` builds a capture of random gates for a given block layout (e.g. the
widths of SE-ResNet-50) without any model, for tests and timing the figures.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from PIL import Image

from ..engine.capture import Capture, capture
from . import synthetic

__all__ = ["GateSet", "demo_gate_set"]

Progress = Callable[[int, int], None]


@dataclass
class GateSet:
    """Captured gates of many labelled images.

    ``capture`` holds N images (gates, squeeze, logits; no maps), ``labels`` (N,) the true
    class name of each image (dtype object), ``names`` (N,) a file-like name per image whose
    prefix is its class (``"red circle 007"``), ``thumbnails`` (N,) PNG bytes of each image.
    """

    capture: Capture
    labels: np.ndarray
    names: list[str]
    thumbnails: list[bytes]


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def demo_gate_set(
    lm,
    per_class: int = 30,
    seed: int = 0,
    batch_size: int = 64,
    progress: Optional[Progress] = None,
) -> GateSet:
    """Generate ``per_class`` images of every class of :mod:`se_viz.demo.synthetic` and capture them.

    ``lm`` is a :class:`~se_viz.LoadedModel` (the bundled ``se_resnet_mini.synthetic`` gives
    meaningful gates; any model works, its gates then say little). Images are generated from
    ``seed`` (same images on every machine), preprocessed with ``lm.preprocess`` and run in
    batches of ``batch_size`` — ``ceil(N / batch_size)`` forward passes in all — calling
    ``progress(done_images, total_images)`` after each batch (and once with 0 before the first).
    300 images of the mini model take a few seconds on two CPU cores.
    """
    k = len(synthetic.CLASSES)
    n = int(per_class) * k
    if n < 1:
        raise ValueError("per_class must be at least 1")
    images, labels = synthetic.generate(n, seed=seed)
    class_names = np.array([synthetic.CLASSES[j] for j in labels], dtype=object)
    counters: dict[str, int] = {}
    names = []
    for cls in class_names:
        counters[cls] = counters.get(cls, 0) + 1
        names.append(f"{cls} {counters[cls]:03d}")
    if progress is not None:
        progress(0, n)
    parts = []
    for start in range(0, n, int(batch_size)):
        chunk = images[start : start + int(batch_size)]
        batch = lm.preprocess([Image.fromarray(px) for px in chunk])
        parts.append(capture(lm.model, batch, blocks=lm.blocks))
        if progress is not None:
            progress(min(start + len(chunk), n), n)
    return GateSet(
        capture=Capture.concat(parts), labels=class_names, names=names, thumbnails=[_png(px) for px in images]
    )
