"""One intervention on one batch: does the prediction move when a block's gates are edited?

``intervene`` runs the unmodified network and the edited one (two ``capture`` passes, so the
gates before and after are kept too) and returns the top-5 of both and the change in
probability and log-probability of the class the unmodified network predicted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..engine.blocks import BlockInfo
from ..engine.capture import Capture, GateEdit, capture
from .sweep import log_softmax

__all__ = ["InterventionResult", "intervene"]


@dataclass
class InterventionResult:
    """The unmodified and the edited pass of the same batch, and what changed between them."""

    before: Capture
    after: Capture
    edits: dict[str, GateEdit]
    class_names: Optional[list[str]] = None

    @property
    def predicted(self) -> np.ndarray:
        """The unmodified network's top-1 class per image, (N,)."""
        return self.before.logits.argmax(axis=1)

    def _logprob(self, cap: Capture) -> np.ndarray:
        n = np.arange(cap.num_images)
        return log_softmax(cap.logits)[n, self.predicted]

    @property
    def delta_logprob(self) -> np.ndarray:
        """Change in log p(originally predicted class) per image, (N,); negative = the edit hurt."""
        return self._logprob(self.after) - self._logprob(self.before)

    @property
    def delta_prob(self) -> np.ndarray:
        """Change in p(originally predicted class) per image (0–1 scale), (N,)."""
        return np.exp(self._logprob(self.after)) - np.exp(self._logprob(self.before))

    @property
    def prediction_changed(self) -> np.ndarray:
        """Whether the top-1 class changed, per image (N,)."""
        return self.after.logits.argmax(axis=1) != self.predicted

    def top(self, k: int = 5, image: int = 0) -> pd.DataFrame:
        """Old and new top-k side by side for one image: rank, class and probability (0–1) each."""
        rows = []
        for when, cap in (("before", self.before), ("after", self.after)):
            p = cap.probabilities()[image]
            idx = np.argsort(-p, kind="stable")[:k]
            names = [self.class_names[i] if self.class_names else str(i) for i in idx]
            rows.append(
                pd.DataFrame({f"{when}_class": names, f"{when}_index": idx, f"{when}_probability": p[idx]})
            )
        out = pd.concat(rows, axis=1)
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        return out


def _unpack(
    model: Any, blocks: Optional[Sequence[BlockInfo]]
) -> tuple[nn.Module, Optional[list[BlockInfo]], Optional[list[str]]]:
    """Accept an ``nn.Module`` or a :class:`~se_viz.LoadedModel` (its model, blocks and labels)."""
    if isinstance(model, nn.Module):
        return model, list(blocks) if blocks is not None else None, None
    inner = getattr(model, "model", None)
    if not isinstance(inner, nn.Module):
        raise TypeError(f"Expected a torch module or a LoadedModel, got {type(model).__name__}")
    return (
        inner,
        list(blocks if blocks is not None else model.blocks),
        list(getattr(model, "labels", None) or []) or None,
    )


def intervene(
    model: Any,
    batch: torch.Tensor,
    edits: Mapping[str, GateEdit],
    *,
    blocks: Optional[Sequence[BlockInfo]] = None,
    before: Optional[Capture] = None,
) -> InterventionResult:
    """Run ``batch`` with and without ``edits`` ({block name: edit}) and compare the predictions.

    ``model`` is a torch module or a :class:`~se_viz.LoadedModel` (then its blocks and class
    names are used). Pass ``before`` — an existing capture of the same batch — to skip the
    unmodified pass. Example::

        from se_viz.interventions import intervene, neutralise
        res = intervene(lm, lm.preprocess([img]), {"SE_5_2": neutralise()})
        res.top(5), res.delta_prob[0]
    """
    if not edits:
        raise ValueError("No edit given: name at least one SE block and what to do with its gates.")
    module, blocks, names = _unpack(model, blocks)
    if before is None:
        before = capture(module, batch, blocks=blocks)
    after = capture(module, batch, blocks=blocks if blocks is not None else before.blocks, edits=dict(edits))
    return InterventionResult(before=before, after=after, edits=dict(edits), class_names=names)
