"""One camera frame's analysis, computed exactly as a photo's: the model's own preprocessing under
the chosen fit, then :func:`~se_viz.capture` (which holds the model's lock), so a live frame and
the same frame frozen into the still views give the same numbers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ..engine.capture import Capture, capture
from ..loading.load import LoadedModel

__all__ = ["LiveResult", "analyse_frame", "TOP_K"]

TOP_K = 3


@dataclass(frozen=True)
class LiveResult:
    """What one frame gave: its capture (N = 1), the top classes and when it was computed.

    ``top`` holds (label, probability) pairs, most likely first; ``seconds`` is the time the
    forward pass took (preprocessing included), ``stamp`` a ``time.monotonic()`` of its end.
    """

    capture: Capture
    top: tuple[tuple[str, float], ...]
    seconds: float
    stamp: float = field(default_factory=time.monotonic)

    @property
    def gates(self) -> dict[str, np.ndarray]:
        """Block name → its gates s (C,) for this frame, in forward order."""
        return {name: self.capture.gates[name][0] for name in self.capture.block_names}


def analyse_frame(lm: LoadedModel, rgb: np.ndarray, fit: str = "crop", k: int = TOP_K) -> LiveResult:
    """Capture every gate of one RGB frame (H, W, 3) uint8 and its ``k`` most likely classes."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"a frame is an (H, W, 3) uint8 RGB array, got {rgb.shape} {rgb.dtype}")
    t0 = time.perf_counter()
    cap = capture(lm.model, lm.preprocess([Image.fromarray(rgb)], fit=fit), blocks=lm.blocks)
    probs = cap.probabilities()[0]
    best = np.argsort(-probs, kind="stable")[:k]
    top = tuple((lm.labels[i], float(probs[i])) for i in best)
    return LiveResult(capture=cap, top=top, seconds=time.perf_counter() - t0)
