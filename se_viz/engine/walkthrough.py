"""Everything one SE block computes for one image, step by step — for teaching.

``capture`` keeps the squeeze z and the gates s of every block; a lesson needs the steps in
between too: the reduced vector W₁z + b₁ before and after the ReLU, the expand layer's output
W₂δ + b₂ before the sigmoid, and the maps before and after scaling. ``walk_block`` hooks the
block's own children for one forward pass (so every number is what the network computed, not
a re-derivation) and removes the hooks in ``finally``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..i18n import _
from .blocks import BlockInfo
from .capture import Capture, _submodule, model_lock
from .probe import GATE_FUNCTIONS

__all__ = ["BlockWalk", "walk_block"]


@dataclass
class BlockWalk:
    """One image through one SE block. Vectors have the length of their layer; maps are (C, H, W).

    ``u``: input maps; ``z``: squeeze (C,); ``reduced_pre``: W₁z + b₁ (r,); ``reduced``:
    δ(W₁z + b₁) after the activation (r,); ``expanded``: W₂δ + b₂ before the gate (C,);
    ``s``: gates (C,); ``out``: the block's output maps s·u (C, H, W). ``w1`` (r, C), ``b1``,
    ``w2`` (C, r), ``b2`` are the layers' weights, so every equation can be filled in.
    """

    block: BlockInfo
    u: np.ndarray
    z: np.ndarray
    reduced_pre: np.ndarray
    reduced: np.ndarray
    expanded: np.ndarray
    s: np.ndarray
    out: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    logits: np.ndarray

    @property
    def w1_shape(self) -> tuple[int, int]:
        """(r, C): the reduce layer maps C numbers to r."""
        return tuple(self.w1.shape)  # type: ignore[return-value]

    @property
    def w2_shape(self) -> tuple[int, int]:
        """(C, r): the expand layer maps r numbers back to C."""
        return tuple(self.w2.shape)  # type: ignore[return-value]

    def as_capture(self) -> Capture:
        """This block's values as a one-image, one-block :class:`Capture` with maps (for figures)."""
        name = self.block.name
        return Capture(
            blocks=[self.block],
            gates={name: self.s[None]},
            squeeze={name: self.z[None]},
            logits=self.logits[None],
            maps_in={name: self.u[None]},
            maps_out={name: self.out[None]},
        )


def _dense(module: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    w = module.weight.detach().float().reshape(module.weight.shape[0], -1).cpu().numpy().copy()
    b = module.bias
    bias = b.detach().float().cpu().numpy().copy() if b is not None else np.zeros(w.shape[0], np.float32)
    return w, bias


def _vec(t: torch.Tensor, i: int) -> np.ndarray:
    return t[i].detach().float().reshape(-1).cpu().numpy().copy()


def walk_block(model: nn.Module, block: BlockInfo, batch: torch.Tensor, image: int = 0) -> BlockWalk:
    """Run ``batch`` and return what ``block`` computed for image ``image``, step by step.

    Needs an SE-shaped block: a reduce and an expand layer (``reduce_path``, ``expand_path``,
    set by :func:`~se_viz.engine.blocks.find_se_blocks`) and a sigmoid module or a functional
    sigmoid / hard-sigmoid after the expand layer. Other gates (ECA, CBAM's channel gate, other
    rescaling) raise ``ValueError`` saying why: their s is not σ(W₂δ(W₁z)).
    """
    if not block.teachable:
        raise ValueError(
            _(
                "Block {block} ({kind}) has no reduce → expand → gate chain to walk "
                "through: the step-by-step walk explains SE blocks; the other views show this block."
            ).format(block=block.name, kind=_(block.kind_label))
        )
    fn = None if block.gate_path else GATE_FUNCTIONS.get(block.gate_kind)
    if not block.gate_path and fn is None:
        raise ValueError(f"Block {block.name} has no gate module and no known gate function.")
    seen: dict[str, torch.Tensor] = {}

    def keep(key: str, pre: bool):
        # Clones: the ReLU after the reduce layer often works in place. The first call wins, so
        # a layer called twice in one pass (CBAM's MLP on the max pool) never overwrites it.
        # The hooks return None: a hook's return value would replace the module's input/output.
        def keep_input(_m: nn.Module, args: tuple) -> None:
            if key not in seen:
                seen[key] = args[0].detach().clone()

        def keep_output(_m: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            if key not in seen:
                seen[key] = out.detach().clone()

        return keep_input if pre else keep_output

    parts = {
        "block": _submodule(model, block.path),
        "reduce": _submodule(model, block.reduce_path),
        "expand": _submodule(model, block.expand_path),
    }
    if block.gate_path:
        parts["gate"] = _submodule(model, block.gate_path)
    handles = []
    with model_lock(model), torch.inference_mode():
        try:
            handles.append(parts["block"].register_forward_pre_hook(keep("u", True)))
            handles.append(parts["block"].register_forward_hook(keep("out", False)))
            handles.append(parts["reduce"].register_forward_pre_hook(keep("z", True)))
            handles.append(parts["reduce"].register_forward_hook(keep("reduced_pre", False)))
            handles.append(parts["expand"].register_forward_pre_hook(keep("reduced", True)))
            handles.append(parts["expand"].register_forward_hook(keep("expanded", False)))
            if "gate" in parts:
                handles.append(parts["gate"].register_forward_hook(keep("s", False)))
            logits = model(batch)
        finally:
            for h in handles:
                h.remove()
    if fn is not None and "expanded" in seen:
        seen["s"] = fn(seen["expanded"])
    missing = {"u", "out", "z", "reduced_pre", "reduced", "expanded", "s"} - set(seen)
    if missing:
        raise RuntimeError(
            f"Block {block.name} did not run during the forward pass (missing {sorted(missing)})"
        )
    w1, b1 = _dense(parts["reduce"])
    w2, b2 = _dense(parts["expand"])
    return BlockWalk(
        block=block,
        u=seen["u"][image].float().cpu().numpy().copy(),
        z=_vec(seen["z"], image),
        reduced_pre=_vec(seen["reduced_pre"], image),
        reduced=_vec(seen["reduced"], image),
        expanded=_vec(seen["expanded"], image),
        s=_vec(seen["s"], image),
        out=seen["out"][image].float().cpu().numpy().copy(),
        w1=w1,
        b1=b1,
        w2=w2,
        b2=b2,
        logits=logits[image].detach().float().cpu().numpy().copy(),
    )
