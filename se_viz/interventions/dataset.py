"""Knock-outs over a set of images: the SE paper's stage ablation, asked of a trained network.

The paper retrains networks with SE in some stages only (top-1 error 23.03 / 23.04 / 22.68 with
SE in stage 2 / 3 / 4 only, 22.28 with SE everywhere, 23.30 with none). At test time we can ask
the closest question of one trained network: neutralise (s = 1) the SE blocks of a stage, of
every stage but one, or of all stages, and see how often the top-1 prediction stays the same and
how accuracy moves where labels exist. It is not the same experiment — the network was trained
with its gates, so removing them is a larger shock than never having had them — and the
documentation says so next to the numbers.

Every condition runs through :func:`~se_viz.interventions.sweep.run_edit_sets`, so the
unmodified prefix of every batch is computed once and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..engine.blocks import BlockInfo, find_se_blocks
from ..i18n import N_, _
from .edits import neutralise
from .sweep import Progress, log_softmax, planned_passes, run_edit_sets

__all__ = [
    "AblationCondition",
    "SetAblationResult",
    "ablate_over_images",
    "ablation_conditions",
    "condition_kind_label",
    "condition_label",
]

#: The kinds of condition (values of the table's ``kind`` column, kept in English in CSV files).
CONDITION_KINDS = {
    "none": N_("none"),
    "block": N_("one block"),
    "stage": N_("one stage"),
    "SE in one stage only": N_("SE in one stage only"),
    "no SE": N_("no SE"),
}


def condition_kind_label(kind: str) -> str:
    """A condition's kind in the reader's language (the table keeps the English value)."""
    return _(CONDITION_KINDS[kind]) if kind in CONDITION_KINDS else kind


def condition_label(kind: str, name: str, stage: Optional[float] = None) -> str:
    """A condition's name in the reader's language. The table's ``condition`` column stays English
    (files and scripts read it); a block's condition is the block's name, the same in every language."""
    has_stage = stage is not None and not pd.isna(stage)
    if kind == "none":
        return _("unmodified")
    if kind == "stage" and has_stage:
        return _("stage {s} neutralised").format(s=int(stage))
    if kind == "SE in one stage only" and has_stage:
        return _("SE in stage {s} only").format(s=int(stage))
    if kind == "no SE":
        return _("no SE (all neutralised)")
    return name


@dataclass(frozen=True)
class AblationCondition:
    """One way of knocking out SE blocks: its name, its kind and the blocks it neutralises."""

    name: str
    kind: str  # "block", "stage", "SE in one stage only", "no SE"
    blocks: tuple[str, ...]
    stage: Optional[int] = None


def ablation_conditions(blocks: Sequence[BlockInfo], *, per_block: bool = True) -> list[AblationCondition]:
    """The standard conditions: each block, each whole stage, "SE in stage s only", and no SE.

    Stage conditions need paper stage numbers (ResNet-family models); for other models only the
    per-block and "no SE" conditions are returned.
    """
    out: list[AblationCondition] = []
    if per_block:
        out += [AblationCondition(b.name, "block", (b.name,), b.stage) for b in blocks]
    stages = sorted({b.stage for b in blocks if b.stage is not None})
    names = [b.name for b in blocks]
    if stages and all(b.stage is not None for b in blocks):
        for s in stages:
            inside = tuple(b.name for b in blocks if b.stage == s)
            out.append(AblationCondition(f"stage {s} neutralised", "stage", inside, s))
        if len(stages) > 1:
            for s in stages:
                others = tuple(b.name for b in blocks if b.stage != s)
                out.append(AblationCondition(f"SE in stage {s} only", "SE in one stage only", others, s))
    out.append(AblationCondition("no SE (all neutralised)", "no SE", tuple(names)))
    return out


@dataclass
class SetAblationResult:
    """Per image and condition: the top-1 class, top-5 hit and log p of the original prediction."""

    conditions: list[AblationCondition]
    base_pred: np.ndarray  # (M,)
    base_logprob: np.ndarray  # (M,) log p(base_pred) of the unmodified network
    preds: np.ndarray  # (S, M) top-1 under each condition
    logprob: np.ndarray  # (S, M) log p(base_pred) under each condition
    labels: Optional[np.ndarray] = None  # (M,) true classes, -1 where unknown
    base_top5: Optional[np.ndarray] = None  # (M,) bool: label in the unmodified top-5
    top5: Optional[np.ndarray] = None  # (S, M) bool: label in top-5 under each condition
    reused: bool = True

    @property
    def num_images(self) -> int:
        return int(self.base_pred.shape[0])

    @property
    def agreement(self) -> np.ndarray:
        """Fraction of images whose top-1 is unchanged, per condition (S,)."""
        return (self.preds == self.base_pred[None, :]).mean(axis=1)

    def _known(self) -> Optional[np.ndarray]:
        if self.labels is None:
            return None
        known = self.labels >= 0
        return known if known.any() else None

    def table(self) -> pd.DataFrame:
        """One row per condition (the unmodified network first): agreement, accuracy, Δ log p.

        Accuracy columns (top-1 and top-5, in 0–1) are NaN when no image has a label.
        """
        known = self._known()
        rows = [
            {
                "condition": "unmodified",
                "kind": "none",
                "stage": None,
                "blocks": 0,
                "top1_agreement": 1.0,
                "mean_delta_logprob": 0.0,
                "accuracy": float((self.base_pred[known] == self.labels[known]).mean())
                if known is not None
                else np.nan,
                "top5_accuracy": float(self.base_top5[known].mean())
                if known is not None and self.base_top5 is not None
                else np.nan,
            }
        ]
        delta = self.logprob - self.base_logprob[None, :]
        for s, cond in enumerate(self.conditions):
            rows.append(
                {
                    "condition": cond.name,
                    "kind": cond.kind,
                    "stage": cond.stage,
                    "blocks": len(cond.blocks),
                    "top1_agreement": float(self.agreement[s]),
                    "mean_delta_logprob": float(delta[s].mean()),
                    "accuracy": float((self.preds[s, known] == self.labels[known]).mean())
                    if known is not None
                    else np.nan,
                    "top5_accuracy": float(self.top5[s, known].mean())
                    if known is not None and self.top5 is not None
                    else np.nan,
                }
            )
        return pd.DataFrame(rows)


def _batches(images: Union[torch.Tensor, Sequence[torch.Tensor]], batch_size: int) -> list[torch.Tensor]:
    if isinstance(images, torch.Tensor):
        return [images[i : i + batch_size] for i in range(0, images.shape[0], batch_size)]
    return list(images)


def _top5(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = min(5, logits.shape[-1])
    top = np.argsort(-logits, axis=-1, kind="stable")[..., :k]
    return (top == labels[..., None]).any(axis=-1)


def ablate_over_images(
    model: nn.Module,
    images: Union[torch.Tensor, Sequence[torch.Tensor]],
    labels: Optional[Sequence[int]] = None,
    *,
    blocks: Optional[Sequence[BlockInfo]] = None,
    conditions: Optional[Sequence[AblationCondition]] = None,
    batch_size: int = 16,
    progress: Optional[Progress] = None,
    reuse: bool = True,
) -> SetAblationResult:
    """Neutralise blocks / stages (``conditions``, default :func:`ablation_conditions`) over many images.

    ``images`` is one preprocessed tensor (M, 3, H, W), split into ``batch_size`` chunks, or a
    sequence of such batches. ``labels`` (M,) are the true classes (-1 = unknown) for accuracy.
    Memory: the reuse path keeps about two activations per residual unit for one batch, so
    lower ``batch_size`` for large models at high resolution.
    """
    blocks = list(blocks) if blocks is not None else find_se_blocks(model)
    conditions = list(conditions) if conditions is not None else ablation_conditions(blocks)
    edit = neutralise()
    edit_sets = [{n: edit for n in c.blocks} for c in conditions]
    chunks = _batches(images, batch_size)
    # Each batch reports its own steps; the bar spans all batches, so it needs every batch's count.
    per_chunk = (
        planned_passes(model, chunks[0], edit_sets, [c.shape[0] for c in chunks], blocks=blocks, reuse=reuse)
        if progress and chunks
        else [0] * len(chunks)
    )
    offsets, total = np.cumsum([0, *per_chunk])[:-1], int(sum(per_chunk))
    base_logits, cond_logits, reused = [], [], True
    for j, chunk in enumerate(chunks):

        def step(done: int, _total: int, what: str, j: int = j) -> None:
            if progress:
                progress(
                    int(offsets[j]) + done,
                    total,
                    _("batch {i}/{n}: {what}").format(i=j + 1, n=len(chunks), what=what),
                )

        base, logits, used = run_edit_sets(
            model,
            chunk,
            edit_sets,
            blocks=blocks,
            progress=step,
            labels=[c.name for c in conditions],
            reuse=reuse,
        )
        base_logits.append(base)
        cond_logits.append(logits)
        reused = reused and used
    base = np.concatenate(base_logits)
    logits = np.concatenate(cond_logits, axis=1)
    base_pred = base.argmax(axis=1)
    n = np.arange(base.shape[0])
    lab = None if labels is None else np.asarray(labels, dtype=np.int64)
    if lab is not None and lab.shape != base_pred.shape:
        raise ValueError(f"{lab.shape[0]} labels for {base_pred.shape[0]} images")
    return SetAblationResult(
        conditions=conditions,
        base_pred=base_pred,
        base_logprob=log_softmax(base)[n, base_pred],
        preds=logits.argmax(axis=2),
        logprob=log_softmax(logits)[:, n, base_pred],
        labels=lab,
        base_top5=_top5(base, lab) if lab is not None else None,
        top5=_top5(logits, lab[None, :]) if lab is not None else None,
        reused=reused,
    )
