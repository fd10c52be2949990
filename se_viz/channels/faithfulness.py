"""Deletion and insertion curves over channels: does a ranking put the channels that matter first?

Borrowed from saliency evaluation (Petsiuk et al., RISE): walk down a ranking from the most
important channel and

* **delete** — zero the first k channels' gates; a faithful ranking makes the probability of the
  originally predicted class fall fast, so the area under the curve is small;
* **insert** — start with every channel zeroed and give back the first k; a faithful ranking
  restores the probability fast, so the area is large.

The x axis is the fraction of channels deleted / inserted (0–1), the y axis the mean probability
of the unedited network's top-1 class (0–1); areas are over x ∈ [0, 1] (trapezoids). Curves are
computed per block (only that block's channels move) or over the whole network, and random
orders (several seeds) give the chance level every ranking is compared with. All edit sets run
through the intervention engine's batched reruns (:func:`.pruning.edited_logits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..engine.blocks import BlockInfo
from ..interventions.sweep import Progress, log_softmax
from .pruning import MAX_ROWS, ChannelMask, edited_logits
from .rankings import ChannelRanking

__all__ = ["FAITHFULNESS_FORMAT", "FaithfulnessCurves", "NETWORK", "faithfulness_curves"]

FAITHFULNESS_FORMAT = "se_viz.faithfulness/1"
NETWORK = "network"  # the "block" name of the curves over all channels at once
STEPS = 11  # x = 0, 0.1, …, 1


@dataclass
class FaithfulnessCurves:
    """Deletion and insertion curves of every ranking (rows) for one block or the whole network.

    ``deletion[r, j]`` / ``insertion[r, j]`` are mean probabilities of the unedited top-1 class
    with a fraction ``x[j]`` of the channels (most important first) deleted / inserted.
    """

    block: str  # a block name, or NETWORK
    x: np.ndarray  # (P,)
    names: list[str]
    kinds: list[str]
    deletion: np.ndarray  # (R, P)
    insertion: np.ndarray  # (R, P)

    @property
    def deletion_auc(self) -> np.ndarray:
        """Area under each deletion curve (R,): smaller = the ranking's top channels matter more."""
        return np.trapezoid(self.deletion, self.x, axis=1)

    @property
    def insertion_auc(self) -> np.ndarray:
        """Area under each insertion curve (R,): larger = the ranking's top channels suffice sooner."""
        return np.trapezoid(self.insertion, self.x, axis=1)

    def table(self) -> pd.DataFrame:
        """One row per ranking kind: mean (and for random, min/max) deletion and insertion AUC, and
        each set against random's mean (negative deletion and positive insertion differences beat random)."""
        rows = []
        dele, ins = self.deletion_auc, self.insertion_auc
        rand = [i for i, k in enumerate(self.kinds) if k == "random"]
        r_del = float(dele[rand].mean()) if rand else np.nan
        r_ins = float(ins[rand].mean()) if rand else np.nan
        for kind in dict.fromkeys(self.kinds):
            idx = [i for i, k in enumerate(self.kinds) if k == kind]
            rows.append(
                {
                    "block": self.block,
                    "ranking": kind,
                    "repeats": len(idx),
                    "deletion_auc": float(dele[idx].mean()),
                    "deletion_auc_min": float(dele[idx].min()),
                    "deletion_auc_max": float(dele[idx].max()),
                    "insertion_auc": float(ins[idx].mean()),
                    "insertion_auc_min": float(ins[idx].min()),
                    "insertion_auc_max": float(ins[idx].max()),
                    "deletion_vs_random": float(dele[idx].mean()) - r_del,
                    "insertion_vs_random": float(ins[idx].mean()) - r_ins,
                }
            )
        return pd.DataFrame(rows)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (one block's part of format :data:`FAITHFULNESS_FORMAT`)."""
        return {
            "block": self.block,
            "x": [float(v) for v in self.x],
            "curves": [
                {
                    "ranking": name,
                    "kind": kind,
                    "deletion": np.round(self.deletion[i], 6).tolist(),
                    "insertion": np.round(self.insertion[i], 6).tolist(),
                    "deletion_auc": float(self.deletion_auc[i]),
                    "insertion_auc": float(self.insertion_auc[i]),
                }
                for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True))
            ],
        }


def _orders(
    ranking: ChannelRanking, blocks: Sequence[BlockInfo], block: Optional[str]
) -> list[tuple[str, int]]:
    """(block, channel) most important first: one block's channels, or every channel of the network."""
    if block is not None:
        return [(block, int(c)) for c in ranking.order(block)[::-1]]
    return ranking.network_order([b.name for b in blocks])[::-1]


def _mask(pairs: Sequence[tuple[str, int]]) -> dict[str, ChannelMask]:
    per: dict[str, list[int]] = {}
    for b, c in pairs:
        per.setdefault(b, []).append(c)
    return {b: ChannelMask(tuple(sorted(cs))) for b, cs in per.items()}


def faithfulness_curves(
    model: nn.Module,
    images: torch.Tensor,
    rankings: Sequence[ChannelRanking],
    blocks: Sequence[BlockInfo],
    *,
    block: Optional[str] = None,
    steps: int = STEPS,
    batch_size: int = 32,
    progress: Optional[Progress] = None,
    max_rows: int = MAX_ROWS,
) -> FaithfulnessCurves:
    """Deletion and insertion curves of ``rankings`` over ``images`` for ``block`` (None: the network).

    At step j a fraction x_j = j / (steps − 1) of the channels is deleted (gates set to 0, most
    important first) or inserted (all others zeroed); the channel count is rounded to the nearest.
    Deletion at x = 0 and insertion at x = 1 are the unedited network.
    """
    if block is not None and block not in {b.name for b in blocks}:
        raise KeyError(f"No SE block named {block!r}")
    x = np.linspace(0.0, 1.0, int(steps))
    edit_sets = []
    for r in rankings:
        order = _orders(r, blocks, block)
        counts = [int(round(v * len(order))) for v in x]
        edit_sets += [_mask(order[:k]) for k in counts]  # deletion
        edit_sets += [_mask(order[k:]) for k in counts]  # insertion
    base, logits = edited_logits(model, images, edit_sets, blocks, batch_size, progress, max_rows)
    pred = base.argmax(axis=1)
    n = np.arange(base.shape[0])
    p = np.exp(log_softmax(logits)[:, n, pred]).mean(axis=1).reshape(len(rankings), 2, len(x))
    return FaithfulnessCurves(
        block=block or NETWORK,
        x=x,
        names=[r.name for r in rankings],
        kinds=[r.kind for r in rankings],
        deletion=p[:, 0],
        insertion=p[:, 1],
    )
