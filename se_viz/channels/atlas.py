"""A channel's gate atlas: the images that open one SE gate most and the ones that close it most.

"What does channel c of block B respond to?" is answered the way OpenAI Microscope and Network
Dissection answer it for units: by the images that drive it furthest, here the k images with the
highest gate s_c and the k with the lowest, over a set. The ranking is a streaming fold
(:class:`~se_viz.analysis.topk.TopK`), so the same code ranks a few uploads, the offline
demonstration set, or a gate dataset of any size while holding k rows per side
(:func:`dataset_atlas` reads the dataset batch by batch, never whole).

The feature map u_c (the block's input, what the gate scales) is not stored in a gate dataset — it
is H×W times larger than the gates, 49 to 3,136 times for SE-ResNet-50 at 224 px — so
:func:`channel_maps` recomputes it for the 2k shown images only, in one batched pass that stops
after the block when the model's trunk is a known chain. The same atlas can be ranked by the squeeze
z_c instead (``quantity="z"``): a gate is a function of all z of its block, so the images that
excite channel c's own descriptor need not be the ones that open its gate, and seeing both tells the
two apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import numpy as np
import pyarrow.compute as pc
import torch
from torch import nn

from ..analysis.topk import TopK
from ..datasets.reader import GateDataset
from ..datasets.schema import gate_column, squeeze_column
from ..engine.blocks import BlockInfo
from ..engine.capture import Capture, SEHooks, capture, model_lock
from ..interventions.chain import _owner, trunk_chain

__all__ = [
    "ATLAS_FORMAT",
    "QUANTITIES",
    "AtlasRow",
    "ChannelAtlas",
    "Purity",
    "atlas_of_capture",
    "channel_maps",
    "dataset_atlas",
]

ATLAS_FORMAT = "se_viz.channel_atlas/1"
QUANTITIES = ("s", "z")
GATE_BINS = 40  # histogram bins over s ∈ [0, 1]: 0.025 wide, fine enough to see saturation at 0 or 1


@dataclass(frozen=True)
class AtlasRow:
    """One image of the atlas: its rank (1 = most extreme), where it is in the set, and its values.

    ``index`` is the row's position in the set (a gate dataset's ``index`` column, the input order);
    ``label`` the true class when known, ``prediction`` the network's top-1 class.
    """

    rank: int
    index: int
    path: str
    label: Optional[str]
    prediction: Optional[str]
    s: float
    z: float

    def to_json(self) -> dict[str, Any]:
        """The row as the ``--json`` output prints it (see docs/channels.md)."""
        return {
            "rank": self.rank,
            "index": self.index,
            "path": self.path,
            "label": self.label,
            "prediction": self.prediction,
            "s": self.s,
            "z": self.z,
        }


@dataclass(frozen=True)
class Purity:
    """The class mix of a group of atlas rows: ``counts`` (class → images, most first), the share of
    the most common class (``purity``, 1/k … 1) and whether true labels or predictions were counted."""

    counts: dict[str, int]
    purity: float
    by: str  # "label" or "prediction"

    @property
    def majority(self) -> Optional[str]:
        """The most common class (None for an empty group)."""
        return next(iter(self.counts), None)


def purity_of(rows: Sequence[AtlasRow]) -> Purity:
    """Class mix of ``rows``: by true label when every row has one, else by the network's prediction
    (a set without labels still shows whether a channel's top images share what the network sees)."""
    by = "label" if rows and all(r.label is not None for r in rows) else "prediction"
    names = [(r.label if by == "label" else r.prediction) or "unknown" for r in rows]
    counts = dict(sorted(Counter(names).items(), key=lambda kv: (-kv[1], kv[0])))
    share = max(counts.values()) / len(rows) if rows else float("nan")
    return Purity(counts, float(share), by)


@dataclass
class ChannelAtlas:
    """The top-k and bottom-k images of one channel, the channel's histogram over the set, and
    (after :meth:`with_maps`) the feature maps u_c of the shown images.

    ``quantity`` says what ranked the rows: the gate ``"s"`` or the squeeze ``"z"``; ``histogram``
    is ``(counts, edges)`` of that quantity over all ``num_images`` images.
    """

    block: str
    channel: int
    quantity: str
    k: int
    num_images: int
    top: list[AtlasRow]
    bottom: list[AtlasRow]
    histogram: tuple[np.ndarray, np.ndarray]
    mean: float
    maps_top: Optional[np.ndarray] = field(default=None, repr=False)  # (k, H, W) u_c of the top rows
    maps_bottom: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def purity(self) -> Purity:
        """Class mix of the top k (how class-specific the channel's strongest responses are)."""
        return purity_of(self.top)

    @property
    def bottom_purity(self) -> Purity:
        """Class mix of the bottom k."""
        return purity_of(self.bottom)

    def with_maps(self, maps_top: np.ndarray, maps_bottom: np.ndarray) -> "ChannelAtlas":
        """This atlas with the feature maps of its top and bottom rows (see :func:`channel_maps`)."""
        if len(maps_top) != len(self.top) or len(maps_bottom) != len(self.bottom):
            raise ValueError("one map per top and per bottom row is needed")
        self.maps_top, self.maps_bottom = np.asarray(maps_top), np.asarray(maps_bottom)
        return self

    def to_json(self) -> dict[str, Any]:
        """The atlas as a JSON-ready dict (format :data:`ATLAS_FORMAT`, documented in docs/channels.md)."""
        counts, edges = self.histogram
        pure, low = self.purity, self.bottom_purity
        return {
            "format": ATLAS_FORMAT,
            "block": self.block,
            "channel": self.channel,
            "ranked_by": self.quantity,
            "k": self.k,
            "images": self.num_images,
            "mean": self.mean,
            "top": [r.to_json() for r in self.top],
            "bottom": [r.to_json() for r in self.bottom],
            "top_purity": {"by": pure.by, "purity": pure.purity, "counts": pure.counts},
            "bottom_purity": {"by": low.by, "purity": low.purity, "counts": low.counts},
            "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
        }


def _check(quantity: str, k: int) -> None:
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _check_channel(blocks: Sequence[BlockInfo], block: str, channel: int) -> None:
    info = next((b for b in blocks if b.name == block), None)
    if info is None:
        raise KeyError(f"No SE block named {block!r}; blocks are {[b.name for b in blocks]}")
    if not 0 <= channel < info.channels:
        raise ValueError(f"{block} has channels 0–{info.channels - 1}; channel {channel} does not exist")


def _edges(quantity: str, low: float, high: float) -> np.ndarray:
    """Histogram edges: fixed over [0, 1] for gates (comparable across channels), the data's range for z."""
    if quantity == "s":
        return np.linspace(0.0, 1.0, GATE_BINS + 1)
    if not np.isfinite(low) or high <= low:
        low, high = (low - 0.5, low + 0.5) if np.isfinite(low) else (0.0, 1.0)
    return np.linspace(low, high, GATE_BINS + 1)


def atlas_of_capture(
    cap: Capture,
    block: str,
    channel: int,
    k: int = 8,
    *,
    names: Optional[Sequence[str]] = None,
    labels: Optional[Sequence[Optional[str]]] = None,
    class_names: Optional[Sequence[str]] = None,
    quantity: str = "s",
) -> ChannelAtlas:
    """The atlas of ``block``/``channel`` over the images of an in-memory capture (uploads, the
    demonstration set): the same fold as :func:`dataset_atlas`, fed with one batch."""
    _check(quantity, k)
    _check_channel(cap.blocks, block, channel)
    s = cap.gates[block][:, channel].astype(np.float64)
    z = cap.squeeze[block][:, channel].astype(np.float64)
    n = len(s)
    names = list(names) if names is not None else [f"image {i}" for i in range(n)]
    pred = cap.logits.argmax(axis=1)
    preds = [
        class_names[p] if class_names is not None and p < len(class_names) else f"class {p}" for p in pred
    ]
    values = s if quantity == "s" else z
    top, bottom = TopK(k, largest=True), TopK(k, largest=False)
    ids = np.arange(n)
    top.push(values, ids)
    bottom.push(values, ids)

    def rows(fold: TopK) -> list[AtlasRow]:
        return [
            AtlasRow(
                r + 1,
                int(i),
                names[i],
                None if labels is None else labels[i],
                preds[i],
                float(s[i]),
                float(z[i]),
            )
            for r, i in enumerate(fold.result()[1])
        ]

    edges = _edges(quantity, float(values.min(initial=np.inf)), float(values.max(initial=-np.inf)))
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return ChannelAtlas(
        block, channel, quantity, k, n, rows(top), rows(bottom), (counts, edges), float(values.mean())
    )


def dataset_atlas(
    ds: GateDataset,
    block: str,
    channel: int,
    k: int = 8,
    *,
    quantity: str = "s",
    batch_rows: int = 4096,
) -> ChannelAtlas:
    """The atlas of ``block``/``channel`` over a gate dataset, read as a stream.

    One pass over the ranked column (``gate:B`` or ``squeeze:B``) folds the top and bottom k
    (:class:`TopK`, ties by input order) and the histogram (gates: fixed bins on [0, 1]; z: a
    second pass once its range is known); only the 2k chosen rows are then read whole. Memory is
    one record batch plus k rows per side, whatever the dataset's size.
    """
    _check(quantity, k)
    _check_channel(ds.blocks, block, channel)
    column = gate_column(block) if quantity == "s" else squeeze_column(block)
    top, bottom = TopK(k, largest=True), TopK(k, largest=False)
    edges = _edges("s", 0, 1) if quantity == "s" else None
    counts = np.zeros(GATE_BINS, dtype=np.int64)
    n, total, low, high = 0, 0.0, np.inf, -np.inf

    def channel_values(batch) -> np.ndarray:
        arr = batch.column(column)
        flat = arr.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
        return flat.reshape(-1, arr.type.list_size)[:, channel]

    for batch in ds.iter_batches(["index", column], batch_rows):
        values = channel_values(batch)
        ids = batch.column("index").to_numpy(zero_copy_only=False)
        top.push(values, ids)
        bottom.push(values, ids)
        n += len(values)
        total += float(values.sum())
        low, high = min(low, float(values.min())), max(high, float(values.max()))
        if edges is not None:
            counts += np.histogram(values, bins=edges)[0]
    if edges is None:  # z: its range is known only now
        edges = _edges("z", low, high)
        for batch in ds.iter_batches([column], batch_rows):
            counts += np.histogram(np.clip(channel_values(batch), edges[0], edges[-1]), bins=edges)[0]
    wanted = np.unique(np.concatenate([top.result()[1], bottom.result()[1]]))
    picked = ds.dataset.to_table(
        columns=["index", "path", "label", "top5_class", gate_column(block), squeeze_column(block)],
        filter=pc.field("index").isin(wanted.tolist()),
    ).to_pylist()
    by_index = {r["index"]: r for r in picked}
    class_names = ds.class_names

    def rows(fold: TopK) -> list[AtlasRow]:
        out = []
        for r, i in enumerate(fold.result()[1]):
            rec = by_index[int(i)]
            p = rec["top5_class"][0]
            out.append(
                AtlasRow(
                    r + 1,
                    int(i),
                    rec["path"],
                    rec["label"],
                    class_names[p] if p < len(class_names) else f"class {p}",
                    float(rec[gate_column(block)][channel]),
                    float(rec[squeeze_column(block)][channel]),
                )
            )
        return out

    mean = total / n if n else float("nan")
    return ChannelAtlas(block, channel, quantity, k, n, rows(top), rows(bottom), (counts, edges), mean)


def channel_maps(
    model: nn.Module, batch: torch.Tensor, blocks: Sequence[BlockInfo], block: str, channel: int
) -> np.ndarray:
    """u_c — the input of SE block ``block`` at ``channel`` — for every image of ``batch``: (N, H, W).

    One batched pass. When the trunk is a known chain (:func:`~se_viz.interventions.chain.trunk_chain`)
    the pass stops after the residual unit holding the block, so the layers after it never run;
    otherwise it is a full :func:`~se_viz.capture`. Both give exactly ``capture(..., maps=[block])``'s
    ``maps_in[block][:, channel]``.
    """
    info = next((b for b in blocks if b.name == block), None)
    if info is None:
        raise KeyError(f"No SE block named {block!r}")
    steps = trunk_chain(model)
    if steps is None:
        return capture(model, batch, blocks=blocks, maps=[block]).maps_in[block][:, channel]
    last = _owner(steps, info)
    hooks = SEHooks(model, [info], maps=[block])
    with model_lock(model), torch.inference_mode(), hooks:
        x = batch
        for step in steps[: last + 1]:
            x = step.fn(x)
    if block not in hooks.maps_in:  # the block lies outside every unit of the chain: run it all
        return capture(model, batch, blocks=blocks, maps=[block]).maps_in[block][:, channel]
    return hooks.maps_in[block][:, channel]
