"""Channel rankings: four answers to "which channels of a block matter least?".

The SE paper suggests that its gates could guide pruning: a channel whose gate stays small over
a data set contributes little. Whether that beats simple baselines is an empirical question, so
every ranking here gives one importance score per channel (larger = more important) and the
pruning simulator (:mod:`.pruning`) and the faithfulness curves (:mod:`.faithfulness`) treat them
alike:

* **mean gate** — mean s_c over a set of images (the paper's suggestion);
* **gate × gradient** — mean over images of |s_c · ∂ log p(predicted class) / ∂ s_c|, the
  first-order estimate of how much log p changes when the gate is set to 0 (Molchanov et al.'s
  Taylor criterion, applied to the gate);
* **weight L1** — the L1 norm of channel c's filter in the block's last convolution (the one whose
  output the gate scales; Li et al., "Pruning Filters for Efficient ConvNets");
* **random** — seeded uniform scores, several repeats, the floor any ranking must beat.

Across the network (one ranking over every channel of every block) scores must be comparable:
gates (0–1) and gate × gradient (units of log p) are; filter L1 norms grow with the filter's
fan-in, so :attr:`ChannelRanking.network_scores` divides them by it (mean |w| per weight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..engine.blocks import BlockInfo
from ..engine.capture import model_lock
from ..i18n import N_, _
from ..interventions.sweep import Progress

__all__ = [
    "RANKING_KINDS",
    "ChannelRanking",
    "block_last_conv",
    "gate_gradient_ranking",
    "mean_gate_ranking",
    "random_rankings",
    "standard_rankings",
    "weight_l1_ranking",
]

#: The rankings' kinds: identifiers in JSON files and tables, translated where shown (``_(kind)``).
RANKING_KINDS = (N_("mean gate"), N_("gate × gradient"), N_("weight L1"), N_("random"))
DEFAULT_REPEATS = 5


@dataclass(frozen=True)
class ChannelRanking:
    """Importance scores of every channel of every block by one measure (larger = more important).

    ``kind`` is one of :data:`RANKING_KINDS`; ``name`` tells repeats apart (``"random 3"``);
    ``network_scores`` are the scores a network-wide ranking compares (equal to ``scores`` unless
    the measure's units differ between blocks, see the module docstring).
    """

    name: str
    kind: str
    scores: Mapping[str, np.ndarray]
    network_scores: Mapping[str, np.ndarray]
    seed: Optional[int] = None

    def order(self, block: str) -> np.ndarray:
        """Channels of ``block``, least important first (ties by channel index, so it is stable)."""
        scores = np.asarray(self.scores[block], dtype=np.float64)
        return np.lexsort((np.arange(scores.size), scores))

    def network_order(self, blocks: Sequence[str]) -> list[tuple[str, int]]:
        """(block, channel) over all ``blocks``, least important first (ties: block order, channel)."""
        pairs = [(b, c) for b in blocks for c in range(len(self.network_scores[b]))]
        flat = np.concatenate([np.asarray(self.network_scores[b], dtype=np.float64) for b in blocks])
        return [pairs[i] for i in np.lexsort((np.arange(flat.size), flat))]


def mean_gate_ranking(gates: Mapping[str, np.ndarray]) -> ChannelRanking:
    """Mean gate s_c over the images of ``gates`` (block → (N, C)): the SE paper's suggestion."""
    scores = {b: np.asarray(g, dtype=np.float64).mean(axis=0) for b, g in gates.items()}
    return ChannelRanking("mean gate", "mean gate", scores, scores)


def _gate_gradients(
    model: nn.Module, batch: torch.Tensor, blocks: Sequence[BlockInfo]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Gates s and ∂ log p(predicted class) / ∂ s per block, each (N, C), from one backward pass.

    Each image's log p depends only on its own gates (eval mode), so the gradient of the batch's
    sum gives every image's own gradient at once. The input is marked as needing a gradient so the
    graph exists even when the model's parameters are frozen; hooks come off in ``finally``.
    """
    kept: dict[str, torch.Tensor] = {}
    handles = []

    def keeper(name: str):
        def keep(_module: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            kept[name] = out

        return keep

    with model_lock(model):
        try:
            for b in blocks:
                handles.append(model.get_submodule(b.gate_path).register_forward_hook(keeper(b.name)))
            with torch.enable_grad():
                logits = model(batch.detach().clone().requires_grad_(True))
                logp = torch.log_softmax(logits.float(), dim=1)
                chosen = logp.gather(1, logp.argmax(dim=1, keepdim=True)).sum()
                grads = torch.autograd.grad(chosen, [kept[b.name] for b in blocks])
        finally:
            for h in handles:
                h.remove()
    n = batch.shape[0]
    s = {b.name: kept[b.name].detach().reshape(n, -1).double().numpy() for b in blocks}
    g = {b.name: grad.detach().reshape(n, -1).double().numpy() for b, grad in zip(blocks, grads, strict=True)}
    return s, g


def gate_gradient_ranking(
    model: nn.Module,
    images: torch.Tensor,
    blocks: Sequence[BlockInfo],
    batch_size: int = 32,
    progress: Optional[Progress] = None,
) -> ChannelRanking:
    """Mean over ``images`` of |s_c · ∂ log p(predicted class) / ∂ s_c| per channel.

    s_c · ∂ log p/∂ s_c is the first-order change of log p when s_c goes to 0 — the very edit the
    pruning simulator makes — so this ranking predicts the simulator's own outcome to first order.
    ``progress(done, total, what)`` is called after each batch (it may raise to stop the run).
    """
    total = {b.name: np.zeros(b.channels) for b in blocks}
    n = images.shape[0]
    for start in range(0, n, batch_size):
        s, g = _gate_gradients(model, images[start : start + batch_size], blocks)
        for b in blocks:
            total[b.name] += np.abs(s[b.name] * g[b.name]).sum(axis=0)
        if progress:
            progress(min(start + batch_size, n), n, _("gate × gradient"))
    scores = {b: v / max(images.shape[0], 1) for b, v in total.items()}
    return ChannelRanking("gate × gradient", "gate × gradient", scores, scores)


def block_last_conv(model: nn.Module, block: BlockInfo) -> Optional[nn.Conv2d]:
    """The convolution whose output channels the gate of ``block`` scales, or None if not found.

    The last ``nn.Conv2d`` with ``block.channels`` outputs in the module that holds the SE block
    (the residual unit), outside the SE block itself and outside the shortcut (``downsample``):
    ``conv2`` of a basic block, ``conv3`` of a bottleneck, the depthwise conv of an MBConv.
    """
    if "." not in block.path:
        return None
    parent_path, _last = block.path.rsplit(".", 1)
    parent = model.get_submodule(parent_path)
    se_prefix = block.path[len(parent_path) + 1 :]
    found = None
    for name, module in parent.named_modules():
        if name == se_prefix or name.startswith(se_prefix + ".") or "downsample" in name.split("."):
            continue
        if isinstance(module, nn.Conv2d) and module.out_channels == block.channels:
            found = module
    return found


def weight_l1_ranking(model: nn.Module, blocks: Sequence[BlockInfo]) -> ChannelRanking:
    """L1 norm of each output filter of each block's last convolution (:func:`block_last_conv`).

    Raises ``ValueError`` naming the blocks whose convolution cannot be found (the ranking would
    otherwise silently cover only part of the network).
    """
    scores, network = {}, {}
    missing = []
    for b in blocks:
        conv = block_last_conv(model, b)
        if conv is None:
            missing.append(b.name)
            continue
        w = conv.weight.detach().double().reshape(conv.out_channels, -1).abs()
        scores[b.name] = w.sum(dim=1).numpy()
        network[b.name] = w.mean(dim=1).numpy()  # per weight: comparable across fan-ins
    if missing:
        raise ValueError(f"No last convolution with matching channels found for blocks {missing}")
    return ChannelRanking("weight L1", "weight L1", scores, network)


def random_rankings(
    blocks: Sequence[BlockInfo], repeats: int = DEFAULT_REPEATS, seed: int = 0
) -> list[ChannelRanking]:
    """``repeats`` random rankings, repeat r seeded with ``seed + r`` (same orders on every machine)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    out = []
    for r in range(repeats):
        rng = np.random.default_rng(seed + r)
        scores = {b.name: rng.random(b.channels) for b in blocks}
        out.append(ChannelRanking(f"random {r + 1}", "random", scores, scores, seed=seed + r))
    return out


def standard_rankings(
    model: nn.Module,
    images: torch.Tensor,
    blocks: Sequence[BlockInfo],
    gates: Mapping[str, np.ndarray],
    *,
    repeats: int = DEFAULT_REPEATS,
    seed: int = 0,
    batch_size: int = 32,
    progress: Optional[Progress] = None,
) -> list[ChannelRanking]:
    """The four rankings of the module docstring (random with ``repeats`` seeds), in that order.

    ``gates`` are the images' captured gates (block → (N, C)); ``images`` the same images as one
    preprocessed tensor, for the gradients. Pass the set you will prune on, or another one to
    rank on one set and test on a second.
    """
    return [
        mean_gate_ranking({b.name: gates[b.name] for b in blocks}),
        gate_gradient_ranking(model, images, blocks, batch_size, progress),
        weight_l1_ranking(model, blocks),
        *random_rankings(blocks, repeats, seed),
    ]
