"""The pruning simulator: zero the least important channels by each ranking and measure the loss.

"Would the network miss these channels?" is asked without retraining: the gates of the chosen
channels are set to 0 (:class:`ChannelMask`, a gate edit like those of
:mod:`se_viz.interventions.edits`), which removes the channel's output s_c·u_c from its residual
branch. That is *not quite* deleting the filter: the block computed its squeeze z from u before
the gate, so u_c still moves the other channels' gates. Deleting the filter for real also zeroes
u_c before the squeeze (:func:`deleted_channels`); :func:`deletion_gap` measures how far the two
edits' predictions part (docs/channels.md gives the command and the mini model's numbers). The
simulator keeps the gate edit because every (ranking, fraction) pair is then one edit set run
through :func:`~se_viz.interventions.sweep.run_edit_sets`, so all of them share the unmodified
prefix and run as batched reruns.

What a pruned channel saves is counted honestly: its filter in the block's last convolution (the
output the gate scales) need not be computed, nor its row of the SE block's expand layer; the
residual sum and everything after it keep their width. :func:`channel_costs` measures those
multiply-adds on the model's own input size.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..engine.blocks import BlockInfo
from ..engine.capture import capture, model_lock
from ..i18n import _
from ..interventions.edits import Edit
from ..interventions.sweep import Progress, log_softmax, run_edit_sets
from .rankings import ChannelRanking, block_last_conv

__all__ = [
    "FRACTIONS",
    "PRUNE_FORMAT",
    "SCOPES",
    "ChannelCosts",
    "ChannelMask",
    "DeletionGap",
    "PruningCurves",
    "channel_costs",
    "chosen_channels",
    "deleted_channels",
    "deletion_gap",
    "prune_curves",
]

FRACTIONS = tuple(round(0.1 * i, 1) for i in range(10))  # 0 … 90 %
SCOPES = ("block", "network")
MAX_ROWS = 256  # rows of one batched rerun (sets × images)
PRUNE_FORMAT = "se_viz.pruning/1"


@dataclass(frozen=True)
class ChannelMask(Edit):
    """Gates of ``channels`` set to 0, the others kept: the channels are pruned."""

    channels: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"zero {len(self.channels)} channel(s)"

    def apply(self, gates: torch.Tensor) -> torch.Tensor:
        out = gates.clone()
        if self.channels:
            out[:, list(self.channels)] = 0
        return out


@contextmanager
def deleted_channels(
    model: nn.Module, blocks: Sequence[BlockInfo], chosen: dict[str, tuple[int, ...]]
) -> Iterator[None]:
    """Inside this block, every forward pass of ``model`` runs with the ``chosen`` channels deleted.

    Deleting filter c of the convolution that feeds a gate block makes its output u_c zero, so the
    block's squeeze z no longer sees it and its output channel s_c·u_c is zero too. A forward
    pre-hook on each block zeroes u_c at the block's input — before the squeeze, unlike
    :class:`ChannelMask`. The hooks come off in ``finally``; the caller holds the model's lock.
    """
    paths = {b.name: b.path for b in blocks}
    modules = dict(model.named_modules())
    handles = []

    def zero_input(channels: list[int]):
        def hook(_module: nn.Module, args: tuple) -> tuple:
            u = args[0].clone()
            u[:, channels] = 0
            return (u, *args[1:])

        return hook

    try:
        for name, channels in chosen.items():
            if channels:
                handles.append(modules[paths[name]].register_forward_pre_hook(zero_input(list(channels))))
        yield
    finally:
        for h in handles:
            h.remove()


@dataclass(frozen=True)
class DeletionGap:
    """How far the gate edit (:class:`ChannelMask`) is from deleting the same channels outright.

    ``agreement``: share of images whose top-1 class is the same under both edits (0–1);
    ``mean_abs_delta_logprob``: mean |log p_mask − log p_deleted| of the unedited network's top-1
    class, in nats; ``max_abs_logit``: the largest logit difference over images and classes.
    """

    agreement: float
    mean_abs_delta_logprob: float
    max_abs_logit: float
    num_images: int


def deletion_gap(
    model: nn.Module,
    images: torch.Tensor,
    blocks: Sequence[BlockInfo],
    chosen: dict[str, tuple[int, ...]],
) -> DeletionGap:
    """Run ``images`` with ``chosen`` (block → channels) zeroed by gate and deleted, and compare."""
    masked = capture(model, images, blocks=blocks, edits={b: ChannelMask(c) for b, c in chosen.items()})
    base = capture(model, images, blocks=blocks).logits
    with model_lock(model), torch.inference_mode(), deleted_channels(model, blocks, chosen):
        deleted = model(images).float().numpy()
    pred = base.argmax(axis=1)
    n = np.arange(images.shape[0])
    lp_mask, lp_del = log_softmax(masked.logits)[n, pred], log_softmax(deleted)[n, pred]
    return DeletionGap(
        agreement=float((masked.logits.argmax(axis=1) == deleted.argmax(axis=1)).mean()),
        mean_abs_delta_logprob=float(np.abs(lp_mask - lp_del).mean()),
        max_abs_logit=float(np.abs(masked.logits - deleted).max()),
        num_images=int(images.shape[0]),
    )


def chosen_channels(
    ranking: ChannelRanking, fraction: float, blocks: Sequence[BlockInfo], scope: str = "block"
) -> dict[str, tuple[int, ...]]:
    """The channels ``ranking`` prunes at ``fraction``: block → sorted channel indices.

    ``scope="block"``: floor(fraction · C) least important channels of every block, each block
    ranked on its own. ``scope="network"``: floor(fraction · total channels) least important of
    all channels together (so some blocks lose more than others). Larger fractions always
    contain the smaller ones' channels (the sets are nested).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"fraction must be in [0, 1), got {fraction}")
    if scope == "block":
        out = {b.name: ranking.order(b.name)[: math.floor(fraction * b.channels + 1e-9)] for b in blocks}
    else:
        total = sum(b.channels for b in blocks)
        picked = ranking.network_order([b.name for b in blocks])[: math.floor(fraction * total + 1e-9)]
        out = {b.name: np.array([c for name, c in picked if name == b.name], dtype=np.int64) for b in blocks}
    return {name: tuple(sorted(int(c) for c in chans)) for name, chans in out.items() if len(chans)}


@dataclass(frozen=True)
class ChannelCosts:
    """Multiply-adds per image: of the whole network, and saved per pruned channel of each block."""

    total: float
    per_channel: dict[str, float]

    def removed(self, chosen: dict[str, tuple[int, ...]]) -> float:
        """Multiply-adds removed by pruning ``chosen`` (block → channels), per image."""
        return float(sum(self.per_channel[b] * len(c) for b, c in chosen.items()))


def channel_costs(model: nn.Module, sample: torch.Tensor, blocks: Sequence[BlockInfo]) -> ChannelCosts:
    """Count multiply-adds of one image of ``sample``'s size, by hooks on every conv and linear layer.

    A conv layer costs out elements × (in channels / groups) × kernel area; a linear layer in × out.
    A pruned channel of block B saves one filter of B's last convolution (its output area × fan-in)
    and one row of B's expand layer (``reduced`` multiply-adds).
    """
    macs = {}
    handles = []

    def counter(name: str):
        def count(module: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            per_image = out[0].numel()
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
                macs[name] = per_image * fan_in
            else:
                macs[name] = per_image * module.in_features

        return count

    with model_lock(model):
        try:
            for name, module in model.named_modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    handles.append(module.register_forward_hook(counter(name)))
            with torch.inference_mode():
                model(sample[:1])
        finally:
            for h in handles:
                h.remove()
    names = {m: n for n, m in model.named_modules()}
    per_channel = {}
    for b in blocks:
        conv = block_last_conv(model, b)
        if conv is None:
            raise ValueError(f"No last convolution with matching channels found for block {b.name}")
        per_channel[b.name] = macs[names[conv]] / conv.out_channels + b.reduced
    return ChannelCosts(float(sum(macs.values())), per_channel)


@dataclass
class PruningCurves:
    """What pruning did, per ranking (rows) and fraction (columns).

    ``agreement`` is the share of images whose top-1 class is unchanged (0–1); ``delta_logprob``
    the mean change of log p of the unpruned network's top-1 class (≤ 0 when pruning hurts);
    ``accuracy`` top-1 accuracy (0–1) where labels exist (None otherwise); ``macs_removed`` the
    share of the network's multiply-adds removed (0–1; it differs between rankings when the scope
    is the whole network). Random repeats are rows of kind ``"random"``.
    """

    fractions: np.ndarray  # (F,)
    names: list[str]  # (R,)
    kinds: list[str]  # (R,)
    scope: str
    blocks: list[str]  # the pruned blocks
    agreement: np.ndarray  # (R, F)
    delta_logprob: np.ndarray  # (R, F)
    macs_removed: np.ndarray  # (R, F) share of total
    macs_total: float
    num_images: int
    accuracy: Optional[np.ndarray] = None  # (R, F)
    base_accuracy: Optional[float] = None
    chosen: list[list[dict[str, tuple[int, ...]]]] = field(default_factory=list, repr=False)

    def table(self) -> pd.DataFrame:
        """One row per ranking kind and fraction: mean, min and max over repeats of every measure."""
        rows = []
        measures = {"agreement": self.agreement, "delta_logprob": self.delta_logprob}
        if self.accuracy is not None:
            measures["accuracy"] = self.accuracy
        measures["macs_removed"] = self.macs_removed
        for kind in dict.fromkeys(self.kinds):
            idx = [i for i, k in enumerate(self.kinds) if k == kind]
            for j, f in enumerate(self.fractions):
                row: dict[str, Any] = {"ranking": kind, "fraction": float(f), "repeats": len(idx)}
                for m, values in measures.items():
                    v = values[idx, j]
                    row[m] = float(v.mean())
                    if len(idx) > 1:
                        row[f"{m}_min"], row[f"{m}_max"] = float(v.min()), float(v.max())
                rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (format :data:`PRUNE_FORMAT`, documented in docs/channels.md)."""

        def arr(a: Optional[np.ndarray]) -> Optional[list]:
            return None if a is None else np.round(a, 6).tolist()

        return {
            "format": PRUNE_FORMAT,
            "scope": self.scope,
            "blocks": self.blocks,
            "images": self.num_images,
            "fractions": [float(f) for f in self.fractions],
            "macs_total": self.macs_total,
            "base_accuracy": self.base_accuracy,
            "curves": [
                {
                    "ranking": name,
                    "kind": kind,
                    "agreement": arr(self.agreement[i]),
                    "delta_logprob": arr(self.delta_logprob[i]),
                    "accuracy": None if self.accuracy is None else arr(self.accuracy[i]),
                    "macs_removed": arr(self.macs_removed[i]),
                }
                for i, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True))
            ],
        }


def _chunks(images: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    return [images[i : i + batch_size] for i in range(0, images.shape[0], batch_size)]


def edited_logits(
    model: nn.Module,
    images: torch.Tensor,
    edit_sets: Sequence[dict[str, Edit]],
    blocks: Sequence[BlockInfo],
    batch_size: int = 32,
    progress: Optional[Progress] = None,
    max_rows: int = MAX_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of the unedited network (M, K) and under each edit set (S, M, K), over ``images`` in
    chunks of ``batch_size``: :func:`run_edit_sets` (prefix reuse, batched reruns) per chunk.
    ``max_rows`` bounds the rows (sets × images) of one rerun: fewer rows use less memory and
    reach the next ``progress`` call (where a run can be stopped) sooner."""
    chunks = _chunks(images, batch_size)
    base, out = [], []
    for j, chunk in enumerate(chunks):

        def step(done: int, total: int, what: str, j: int = j) -> None:
            if progress:
                progress(
                    j * total + done,
                    len(chunks) * total,
                    _("batch {i}/{n}: {what}").format(i=j + 1, n=len(chunks), what=what),
                )

        b, logits, _reused = run_edit_sets(
            model, chunk, edit_sets, blocks=blocks, progress=step, max_rows=max_rows
        )
        base.append(b)
        out.append(logits)
    return np.concatenate(base), np.concatenate(out, axis=1)


def prune_curves(
    model: nn.Module,
    images: torch.Tensor,
    rankings: Sequence[ChannelRanking],
    blocks: Sequence[BlockInfo],
    *,
    labels: Optional[Union[Sequence[int], np.ndarray]] = None,
    fractions: Sequence[float] = FRACTIONS,
    scope: str = "block",
    prune_blocks: Optional[Sequence[str]] = None,
    batch_size: int = 32,
    progress: Optional[Callable[[int, int, str], None]] = None,
    max_rows: int = MAX_ROWS,
) -> PruningCurves:
    """Prune by every ranking at every fraction over ``images`` (M, 3, H, W) and measure the loss.

    ``prune_blocks`` limits pruning to some blocks (default: all ``blocks``); ``labels`` (M,) are
    true class indices (-1 = unknown) for accuracy. Fraction 0 is the unedited network itself.
    """
    pruned = [b for b in blocks if prune_blocks is None or b.name in set(prune_blocks)]
    if not pruned:
        raise ValueError(f"None of the blocks {list(prune_blocks or [])} is an SE block of this model")
    costs = channel_costs(model, images, blocks)
    chosen = [[chosen_channels(r, f, pruned, scope) for f in fractions] for r in rankings]
    edit_sets = [{b: ChannelMask(c) for b, c in ch.items()} for row in chosen for ch in row]
    base, logits = edited_logits(model, images, edit_sets, blocks, batch_size, progress, max_rows)
    r, f = len(rankings), len(fractions)
    logits = logits.reshape(r, f, *base.shape)
    pred = base.argmax(axis=1)
    n = np.arange(base.shape[0])
    base_lp = log_softmax(base)[n, pred]
    lp = log_softmax(logits)[:, :, n, pred]
    top1 = logits.argmax(axis=3)
    accuracy = base_accuracy = None
    if labels is not None:
        lab = np.asarray(labels, dtype=np.int64)
        known = lab >= 0
        if known.any():
            accuracy = (top1[:, :, known] == lab[known]).mean(axis=2)
            base_accuracy = float((pred[known] == lab[known]).mean())
    return PruningCurves(
        fractions=np.asarray(fractions, dtype=np.float64),
        names=[rk.name for rk in rankings],
        kinds=[rk.kind for rk in rankings],
        scope=scope,
        blocks=[b.name for b in pruned],
        agreement=(top1 == pred).mean(axis=2),
        delta_logprob=(lp - base_lp).mean(axis=2),
        macs_removed=np.array([[costs.removed(ch) / costs.total for ch in row] for row in chosen]),
        macs_total=costs.total,
        num_images=int(base.shape[0]),
        accuracy=accuracy,
        base_accuracy=base_accuracy,
        chosen=chosen,
    )
