"""Gates of many images without any network access: the offline demonstration of the many-image views.

:func:`demo_gate_set` generates a few hundred images of the bundled mini model's classes
(:mod:`se_viz.demo.synthetic`, seeded), runs :func:`se_viz.capture` over them in batches and
returns one stacked :class:`~se_viz.Capture` with the true class of every image, its name and a
small PNG thumbnail — everything the compare and class views need, with real class structure.

:func:`demo_seconds` says beforehand how long that will take on this machine (the model's measured
cost, :func:`se_viz.cost.calibrate`, and the drawing and resizing of the images, timed on a few).

:func:`random_capture` builds a capture of random gates for a given block layout (e.g. the
widths of SE-ResNet-50) without any model, for tests and timing the figures.
"""

from __future__ import annotations

import io
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from PIL import Image

from .. import cost
from ..engine.capture import Capture, capture
from . import synthetic

__all__ = ["GateSet", "demo_gate_set", "demo_seconds"]

#: Images per forward pass of the demonstration. Small batches are no slower per image and stay
#: where the calibrated cost holds: an untrained SE-ResNet-50 on one torch thread took 0.10–0.11 s
#: per image in single timed passes of 4 and 24 images but 0.16 s at 64 (its activations outgrow
#: the caches), and ``se-viz bench --estimates`` found the 64-image batches at 0.46× their estimate.
BATCH_SIZE = 16

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


def _network_batch(lm, pixels: np.ndarray):
    """The network's input for generated images (uint8 (n, H, W, 3))."""
    return lm.preprocess([Image.fromarray(px) for px in pixels])


def demo_gate_set(
    lm,
    per_class: int = 30,
    seed: int = 0,
    batch_size: int = BATCH_SIZE,
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
    parts, thumbnails = [], []
    for start in range(0, n, int(batch_size)):
        chunk = images[start : start + int(batch_size)]
        parts.append(capture(lm.model, _network_batch(lm, chunk), blocks=lm.blocks))
        thumbnails.extend(_png(px) for px in chunk)
        if progress is not None:
            progress(min(start + len(chunk), n), n)
    return GateSet(capture=Capture.concat(parts), labels=class_names, names=names, thumbnails=thumbnails)


_prepared: "weakref.WeakKeyDictionary[object, float]" = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def _preparation_seconds(lm, sample: int = 8) -> float:
    """Seconds per image of everything but the network: drawing it, fitting it to the network's
    input, its thumbnail. Timed once per model on ``sample`` images (the model's input size sets
    the resize); on the mini model this is about half of the demonstration's time
    (``se-viz bench --estimates``)."""
    with _guard:
        held = _prepared.get(lm.model)
    if held is None:
        times = []
        for _ in range(2):  # the faster of two: the first pays for PIL's and numpy's first calls
            t0 = time.perf_counter()
            images, _labels = synthetic.generate(sample, seed=0)
            _network_batch(lm, images)
            for px in images:
                _png(px)
            times.append((time.perf_counter() - t0) / sample)
        held = min(times)
        with _guard:
            _prepared[lm.model] = held
    return held


def demo_seconds(lm, costs: "cost.StepCosts", per_class: int = 30, batch_size: int = BATCH_SIZE) -> float:
    """Seconds :func:`demo_gate_set` will take with ``costs`` (:func:`se_viz.cost.calibrate` of
    ``lm.model`` at the thread count it will run with): its forward passes, batch by batch, and
    the preparation of every image (timed on a few, once per model)."""
    n = int(per_class) * len(synthetic.CLASSES)
    return cost.passes_seconds(costs, n, batch_size) + n * _preparation_seconds(lm)
