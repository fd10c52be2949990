"""Class specificity of SE gates: do different classes get different excitations?

The SE paper (Hu et al., Fig. 6) observed that in early stages the average gate vector of every
class looks alike, while in later stages the class averages drift apart — until the very last
blocks, which saturate near 1 for every class. This module measures that on any capture, as
plain numpy on the (N, C) gate arrays, so the same numbers can be computed for the bundled mini
model and for a real ImageNet network.

Definition (per SE block, gates ``g_i`` in R^C, labels ``y_i``, classes k = 1…K with n_k ≥ 1):

* class mean ``μ_k = mean_{i: y_i = k} g_i``;
* **between** = mean over the K(K−1)/2 unordered class pairs of ``‖μ_k − μ_l‖₂ / √C``;
* **within** = mean over classes of the root-mean-square distance of the class's images to its
  mean, ``√(mean_{i: y_i = k} ‖g_i − μ_k‖₂²) / √C`` — the root of the class's mean per-channel
  variance, so a gate dataset gets it in the same single read as the class means;
* **ratio** = between / within (0 when both are 0, ``inf`` when only within is 0).

Dividing by √C turns both distances into root-mean-square per-channel differences, so blocks of
different widths are comparable; the ratio does not depend on that choice. A ratio near 0 means
the class means are indistinguishable relative to how much single images vary (class-agnostic
gates); a ratio well above 1 means the gates separate the classes. Note the ratio has a floor
from sampling noise: for classes drawn from one distribution it is about ``√(2/n)`` with n
images per class. Per stage, the three numbers are the unweighted means over the stage's blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np

from ..engine.blocks import stage_of

__all__ = [
    "BlockSpecificity",
    "SpecificityResult",
    "StageSpecificity",
    "class_mean_gates",
    "class_specificity",
    "block_specificity",
    "between_classes",
    "specificity_ratio",
    "stage_means",
]

#: A gate counts as saturated when it is at least this close to 0 or 1.
SATURATION_MARGIN = 0.05


@dataclass(frozen=True)
class BlockSpecificity:
    """Class specificity of one SE block (see the module docstring for the definition).

    ``mean_gate`` is the mean gate value over all images and channels and ``saturated`` the
    fraction of gate values within ``SATURATION_MARGIN`` of 0 or 1: gates pinned there cannot
    differ between classes, whatever the network learned.
    """

    name: str
    stage: Optional[int]
    channels: int
    between: float
    within: float
    ratio: float
    mean_gate: float
    saturated: float


@dataclass(frozen=True)
class StageSpecificity:
    """Class specificity of one stage: unweighted means over its blocks."""

    stage: Optional[int]
    blocks: list[str]
    between: float
    within: float
    ratio: float
    mean_gate: float
    saturated: float


@dataclass(frozen=True)
class SpecificityResult:
    """Per-block and per-stage class specificity, with the classes and counts used."""

    classes: list
    counts: list[int]
    blocks: list[BlockSpecificity] = field(default_factory=list)
    stages: list[StageSpecificity] = field(default_factory=list)

    def block(self, name: str) -> BlockSpecificity:
        """The result of the block called ``name``."""
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(name)

    def stage(self, stage: Optional[int]) -> StageSpecificity:
        """The result of stage ``stage``."""
        for s in self.stages:
            if s.stage == stage:
                return s
        raise KeyError(stage)


def class_mean_gates(gates: np.ndarray, labels: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Class-mean gate vectors: ``(classes (K,), means (K, C))`` for gates (N, C) and labels (N,).

    Classes are the sorted distinct labels that occur; ``means[k]`` is the average gate vector
    of the images labelled ``classes[k]``, computed in float64. Raises ``ValueError`` when the
    shapes disagree or there are no images.
    """
    g = np.asarray(gates, dtype=np.float64)
    y = np.asarray(labels)
    if g.ndim != 2 or y.ndim != 1 or g.shape[0] != y.shape[0]:
        raise ValueError(f"expected gates (N, C) and labels (N,), got {g.shape} and {y.shape}")
    if g.shape[0] == 0:
        raise ValueError("no images: cannot compute class means")
    classes, inverse = np.unique(y, return_inverse=True)
    sums = np.zeros((len(classes), g.shape[1]), dtype=np.float64)
    np.add.at(sums, inverse, g)
    counts = np.bincount(inverse, minlength=len(classes)).astype(np.float64)
    return classes, sums / counts[:, None]


def block_specificity(gates: np.ndarray, labels: Sequence) -> tuple[float, float, float]:
    """``(between, within, ratio)`` of one block's gates (N, C) under ``labels`` (N,).

    Exactly the definition in the module docstring. Needs at least two classes for ``between``
    (with one class it is 0).
    """
    g = np.asarray(gates, dtype=np.float64)
    classes, means = class_mean_gates(g, labels)
    y = np.asarray(labels)
    scale = math.sqrt(g.shape[1])
    k = len(classes)
    inverse = np.searchsorted(classes, y)
    sq = ((g - means[inverse]) ** 2).sum(-1) / (scale * scale)
    within = float(np.mean([math.sqrt(sq[inverse == j].mean()) for j in range(k)]))
    between = between_classes(means)
    return between, within, specificity_ratio(between, within)


def between_classes(means: np.ndarray) -> float:
    """The module docstring's **between** of class means (K, C): mean pairwise distance / √C
    (0 with fewer than two classes). Shared with the streamed gate-dataset aggregates."""
    k, c = means.shape
    if k < 2:
        return 0.0
    diff = means[:, None, :] - means[None, :, :]
    dist = np.sqrt((diff**2).sum(-1))
    iu = np.triu_indices(k, 1)
    return float(dist[iu].mean() / math.sqrt(c))


def specificity_ratio(between: float, within: float) -> float:
    """between / within, 0 when both are 0 and ``inf`` when only within is."""
    if within > 0:
        return between / within
    return 0.0 if between == 0 else math.inf


def _stage_of(name: str, blocks: Optional[Sequence]) -> Optional[int]:
    for b in blocks or ():
        if getattr(b, "name", None) == name:
            return b.stage
    return stage_of(name)


def class_specificity(
    gates_by_block: Mapping[str, np.ndarray],
    labels: Sequence,
    blocks: Optional[Sequence] = None,
) -> SpecificityResult:
    """Class specificity of every SE block and every stage, for one set of labelled images.

    ``gates_by_block`` maps block name → gates (N, C) (e.g. ``Capture.gates``); ``labels`` are
    the N class labels (true or predicted, any hashable sortable type). ``blocks`` (e.g.
    ``Capture.blocks``, a list of :class:`~se_viz.blocks.BlockInfo`) fixes the block order and
    gives each block its stage; without it the order of ``gates_by_block`` is used and stages
    are read from ``SE_s_b`` names. Blocks without a stage form one group with ``stage=None``.
    See the module docstring for the exact definition of between, within and ratio.
    """
    names = [b.name for b in blocks if b.name in gates_by_block] if blocks else list(gates_by_block)
    y = np.asarray(labels)
    classes, counts = np.unique(y, return_counts=True)
    results: list[BlockSpecificity] = []
    for name in names:
        g = np.asarray(gates_by_block[name], dtype=np.float64)
        between, within, ratio = block_specificity(g, y)
        sat = float(np.mean((g <= SATURATION_MARGIN) | (g >= 1 - SATURATION_MARGIN)))
        results.append(
            BlockSpecificity(
                name=name,
                stage=_stage_of(name, blocks),
                channels=int(g.shape[1]),
                between=between,
                within=within,
                ratio=ratio,
                mean_gate=float(g.mean()),
                saturated=sat,
            )
        )
    return SpecificityResult(
        classes=classes.tolist(), counts=[int(c) for c in counts], blocks=results, stages=stage_means(results)
    )


def stage_means(results: Sequence[BlockSpecificity]) -> list[StageSpecificity]:
    """Per stage, the unweighted means of its blocks' numbers (blocks in forward order)."""
    stages: list[StageSpecificity] = []
    for stage in dict.fromkeys(r.stage for r in results):
        members = [r for r in results if r.stage == stage]
        stages.append(
            StageSpecificity(
                stage=stage,
                blocks=[r.name for r in members],
                between=float(np.mean([r.between for r in members])),
                within=float(np.mean([r.within for r in members])),
                ratio=float(np.mean([r.ratio for r in members])),
                mean_gate=float(np.mean([r.mean_gate for r in members])),
                saturated=float(np.mean([r.saturated for r in members])),
            )
        )
    return stages
