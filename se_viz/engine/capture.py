"""Capturing what every SE block (and every other channel gate) computed during one forward pass.

``capture(model, batch)`` is the one entry point. Internally :class:`SEHooks` is a context
manager that registers hooks, keeps detached copies, and removes every handle in ``finally`` —
after a normal run and after an exception. What is hooked depends on the block:

* a structural SE block (``reduce_path`` and ``gate_path``): the reduce layer's input is the
  squeeze ``z`` — its *first* call in each pass of the block, so CBAM's second call on the max
  pool never overwrites it (that one is kept as ``squeeze_max``) — and the gate module's output
  is the excitation ``s``;
* any other gate: ``z`` is what the gate's MLP is fed — its reduce layer's first input in the
  pass (Light CBAM's pooled mix, GC's attention-pooled context) — or, without an MLP, the channel
  means of the block's input ``u`` (CBAM also keeps the channel maxima), and ``s`` is the gate
  module's output when there is one, ``gate(expand output)`` when the gate is a function
  (``F.sigmoid`` in ``forward()``), or else recovered from ``u`` and the output ``s·u`` by least squares per
  channel (:func:`~se_viz.engine.probe.channel_scale`). An edit of ``s`` there is applied by
  rescaling the block's output: ``s'·u``.

A model cached by a web app is shared by every browser session, and hooks registered by one
thread would fire during another thread's forward pass. ``capture`` therefore serialises
passes through a per-model lock: concurrent callers get exactly what a sequential call gives.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from .blocks import BlockInfo, find_se_blocks
from .locks import locks_guard, model_lock
from .probe import GATE_FUNCTIONS, channel_scale

__all__ = ["Capture", "SEHooks", "capture", "model_lock"]

# Replaces a block's gate values: array (C,) or (N, C), or a function of the (N, C) gate tensor.
GateEdit = Union[np.ndarray, Callable[[torch.Tensor], torch.Tensor]]


@dataclass
class Capture:
    """What one forward pass computed, as plain NumPy arrays.

    ``gates[name]`` and ``squeeze[name]`` are float32 arrays of shape (N, C): the excitation
    ``s`` (gate output) and the squeezed descriptor ``z`` (input of the reduce layer).
    ``logits`` has shape (N, K). ``maps_in`` / ``maps_out`` hold spatial maps (N, C, H, W) of
    the blocks asked for: the block input ``u`` and the recalibrated output ``s · u``.
    ``squeeze_max[name]`` (N, C) is the second squeeze of blocks that have one: the max-pool
    descriptor of CBAM's channel gate (``squeeze`` holds its average pool).
    """

    blocks: list[BlockInfo]
    gates: dict[str, np.ndarray]
    squeeze: dict[str, np.ndarray]
    logits: np.ndarray
    maps_in: dict[str, np.ndarray] = field(default_factory=dict)
    maps_out: dict[str, np.ndarray] = field(default_factory=dict)
    squeeze_max: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def block_names(self) -> list[str]:
        """Block names in forward order (``SE_2_1`` … for ResNets, module paths otherwise)."""
        return [b.name for b in self.blocks]

    @property
    def num_images(self) -> int:
        """Number of images N in the captured batch."""
        return int(self.logits.shape[0])

    def block(self, name: str) -> BlockInfo:
        """The :class:`BlockInfo` of the block called ``name``."""
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(f"No SE block named {name!r}; blocks are {self.block_names}")

    def probabilities(self) -> np.ndarray:
        """Softmax of the logits, shape (N, K), float64 for stable sums."""
        x = self.logits.astype(np.float64)
        x = x - x.max(axis=1, keepdims=True)
        e = np.exp(x)
        return e / e.sum(axis=1, keepdims=True)

    @classmethod
    def concat(cls, parts: Sequence["Capture"]) -> "Capture":
        """One capture of all images of ``parts`` (same model, in order); maps are not kept.

        Batches captured one after another — single uploads, a data set in chunks — become one
        (N, C) array per block, which is what the many-image analyses take.
        """
        first = parts[0]
        return cls(
            blocks=first.blocks,
            gates={k: np.concatenate([p.gates[k] for p in parts]) for k in first.gates},
            squeeze={k: np.concatenate([p.squeeze[k] for p in parts]) for k in first.squeeze},
            logits=np.concatenate([p.logits for p in parts]),
            squeeze_max={k: np.concatenate([p.squeeze_max[k] for p in parts]) for k in first.squeeze_max},
        )

    def select(self, index: int) -> "Capture":
        """A capture holding only image ``index`` (keeps N = 1 shapes)."""
        sl = slice(index, index + 1)
        return Capture(
            blocks=self.blocks,
            gates={k: v[sl] for k, v in self.gates.items()},
            squeeze={k: v[sl] for k, v in self.squeeze.items()},
            logits=self.logits[sl],
            maps_in={k: v[sl] for k, v in self.maps_in.items()},
            maps_out={k: v[sl] for k, v in self.maps_out.items()},
            squeeze_max={k: v[sl] for k, v in self.squeeze_max.items()},
        )


def _to_numpy(t: torch.Tensor, n: int) -> np.ndarray:
    # Copy inside the hook: later in-place ops in the network must not change what we keep.
    return t.detach().reshape(n, -1).to(dtype=torch.float32, device="cpu").numpy().copy()


class SEHooks:
    """Context manager that records z, s (and optionally maps) of SE blocks during forwards.

    ``edits`` maps block names to replacement gate values (an array broadcast to (N, C), or a
    function of the gate tensor); the network then runs with those gates, which is how
    interventions are computed. Hooks are removed on exit, whatever happened inside.
    """

    def __init__(
        self,
        model: nn.Module,
        blocks: Optional[Sequence[BlockInfo]] = None,
        *,
        maps: Iterable[str] = (),
        edits: Optional[Mapping[str, GateEdit]] = None,
    ) -> None:
        self.model = model
        self.blocks = list(blocks) if blocks is not None else find_se_blocks(model)
        names = {b.name for b in self.blocks}
        self.map_names = set(maps)
        unknown = (self.map_names | set(edits or {})) - names
        if unknown:
            raise KeyError(f"Unknown SE block(s) {sorted(unknown)}; blocks are {sorted(names)}")
        self.edits = dict(edits or {})
        self.gates: dict[str, np.ndarray] = {}
        self.squeeze: dict[str, np.ndarray] = {}
        self.maps_in: dict[str, np.ndarray] = {}
        self.maps_out: dict[str, np.ndarray] = {}
        self.squeeze_max: dict[str, np.ndarray] = {}
        self._gates_t: dict[str, torch.Tensor] = {}
        self._squeeze_t: dict[str, torch.Tensor] = {}
        self._squeeze_max_t: dict[str, torch.Tensor] = {}
        self._reduce_in: dict[str, list[torch.Tensor]] = {}  # reduce-layer inputs of the running pass
        self._u: dict[str, torch.Tensor] = {}  # block inputs of the running pass (behavioural gates)
        self.order: list[str] = []  # block names in the order their gates fired
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> "SEHooks":
        try:
            for block in self.blocks:
                self._attach(block)
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()  # never swallow the exception: returning None re-raises it

    def remove(self) -> None:
        """Remove every hook this object registered (safe to call twice)."""
        while self._handles:
            self._handles.pop().remove()
        self._to_arrays()

    def _to_arrays(self) -> None:
        for name, t in self._gates_t.items():
            self.gates[name] = _to_numpy(t, t.shape[0])
        for name, t in self._squeeze_t.items():
            self.squeeze[name] = _to_numpy(t, t.shape[0])
        for name, t in self._squeeze_max_t.items():
            self.squeeze_max[name] = _to_numpy(t, t.shape[0])
        self._gates_t.clear()
        self._squeeze_t.clear()
        self._squeeze_max_t.clear()
        self._reduce_in.clear()
        self._u.clear()

    def _attach(self, block: BlockInfo) -> None:
        if block.structural:
            self._attach_structural(block)
        else:
            self._attach_behavioural(block)
        if block.name in self.map_names:
            module = _submodule(self.model, block.path)

            def on_block(_module: nn.Module, args: tuple, out: torch.Tensor) -> None:
                self.maps_in[name] = args[0].detach().to(torch.float32).cpu().numpy().copy()
                self.maps_out[name] = out.detach().to(torch.float32).cpu().numpy().copy()

            name = block.name
            self._handles.append(module.register_forward_hook(on_block))

    def _gate_fired(self, name: str, s: torch.Tensor) -> None:
        if name not in self._gates_t:
            self.order.append(name)
        self._gates_t[name] = s.detach().clone()

    def _attach_structural(self, block: BlockInfo) -> None:
        name = block.name
        reduce = _submodule(self.model, block.reduce_path)
        gate = _submodule(self.model, block.gate_path)
        keep_max = block.kind == "cbam-channel"

        # Hooks only clone (cheap, and later in-place ops cannot change what we keep); the
        # conversion to NumPy happens once after the pass, outside the network's hot path.
        def on_squeeze(_module: nn.Module, args: tuple) -> None:
            # Every call until the gate fires belongs to this pass of the block: the first is z.
            pending = self._reduce_in.get(name)
            if pending is None:
                self._reduce_in[name] = [args[0].detach().clone()]
            elif keep_max:
                pending.append(args[0].detach().clone())

        def on_gate(_module: nn.Module, _args: tuple, out: torch.Tensor) -> Optional[torch.Tensor]:
            if name in self.edits:
                out = self._apply_edit(self.edits[name], out)
            pending = self._reduce_in.pop(name, None)
            if pending:
                self._squeeze_t[name] = pending[0]
                if keep_max and len(pending) > 1:
                    self._squeeze_max_t[name] = pending[1]
            self._gate_fired(name, out)
            return out if name in self.edits else None

        self._handles.append(reduce.register_forward_pre_hook(on_squeeze))
        self._handles.append(gate.register_forward_hook(on_gate))

    def _attach_behavioural(self, block: BlockInfo) -> None:
        """z from the reduce layer's input or u; s from the gate module, gate(expand) or least squares.

        An edit of s is applied as s'·u.
        """
        name = block.name
        module = _submodule(self.model, block.path)
        keep_max = block.kind == "cbam-channel"
        # No gate module but a known gate function of the expand layer (F.sigmoid, relu6(x+3)/6).
        fn = GATE_FUNCTIONS.get(block.gate_kind) if block.expand_path and not block.gate_path else None

        def on_input(_module: nn.Module, args: tuple) -> None:
            u = args[0].detach()
            self._u[name] = u
            # What the gate's MLP is fed is z (Light CBAM's pooled mix, GC's context); else the means.
            self._reduce_in[name] = []
            self._squeeze_t[name] = u.mean((2, 3))
            if keep_max:
                self._squeeze_max_t[name] = u.amax((2, 3))

        def on_reduce(_module: nn.Module, args: tuple) -> None:
            pending = self._reduce_in.get(name)
            if pending is not None and not pending:
                z = args[0].detach()
                pending.append(z)
                self._squeeze_t[name] = z.reshape(z.shape[0], -1).clone()

        def on_gate(_module: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            self._gates_t[name] = out.detach().reshape(out.shape[0], -1).clone()

        def on_expand(_module: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            self._gates_t[name] = fn(out.detach()).reshape(out.shape[0], -1)

        def on_output(_module: nn.Module, _args: tuple, out: torch.Tensor) -> Optional[torch.Tensor]:
            u = self._u.pop(name)
            self._reduce_in.pop(name, None)
            s = self._gates_t.get(name) if (block.gate_path or fn is not None) else None
            if s is None or s.shape != u.shape[:2]:
                s = channel_scale(u, out.detach()).to(out.dtype)
            if name not in self.order:
                self.order.append(name)
            if name not in self.edits:
                self._gates_t[name] = s
                return None
            new = self._apply_edit(self.edits[name], s)
            self._gates_t[name] = new.detach().clone()
            # The edit rescales the block's output: what the block returns with gates s' is s'·u.
            return (new.reshape(u.shape[0], u.shape[1], 1, 1) * u).to(out.dtype)

        self._handles.append(module.register_forward_pre_hook(on_input))
        if block.reduce_path:
            self._handles.append(
                _submodule(self.model, block.reduce_path).register_forward_pre_hook(on_reduce)
            )
        if block.gate_path:
            self._handles.append(_submodule(self.model, block.gate_path).register_forward_hook(on_gate))
        elif fn is not None:
            self._handles.append(_submodule(self.model, block.expand_path).register_forward_hook(on_expand))
        self._handles.append(module.register_forward_hook(on_output))

    @staticmethod
    def _apply_edit(edit: GateEdit, out: torch.Tensor) -> torch.Tensor:
        if callable(edit):
            new = edit(out)
        else:
            values = torch.as_tensor(np.asarray(edit), dtype=out.dtype, device=out.device)
            n, c = out.shape[0], out.reshape(out.shape[0], -1).shape[1]
            new = values.reshape(-1, c).expand(n, c).reshape(out.shape)
        return new.reshape(out.shape).to(out.dtype)


_modules: "weakref.WeakKeyDictionary[nn.Module, dict[str, nn.Module]]" = weakref.WeakKeyDictionary()


def _submodule(model: nn.Module, path: str) -> nn.Module:
    """``model.get_submodule(path)``, memoised per model.

    The lookup costs 7 µs on SE-ResNet-50 (timeit, best of 5); done for every hook of every call
    it was a measurable share of a batch-1 forward pass. Models are not restructured after
    loading, so the table stays valid.
    """
    with locks_guard:
        table = _modules.get(model)
        if table is None:
            table = _modules[model] = {}
    module = table.get(path)
    if module is None:
        module = table[path] = model.get_submodule(path)
    return module


def capture(
    model: nn.Module,
    batch: torch.Tensor,
    *,
    blocks: Optional[Sequence[BlockInfo]] = None,
    maps: Iterable[str] = (),
    edits: Optional[Mapping[str, GateEdit]] = None,
) -> Capture:
    """Run one forward pass of ``batch`` (N, 3, H, W) and return what every SE block computed.

    Only the vectors z and s are kept by default; name blocks in ``maps`` to also keep their
    spatial maps before and after scaling. ``edits`` replaces gate values during the pass (see
    :class:`SEHooks`). The model must already be in the mode you want (``load_model`` returns it
    in eval mode); gradients are never recorded. Safe to call from many threads on one model.
    """
    if batch.ndim != 4:
        raise ValueError(f"capture expects a batch of shape (N, C, H, W), got {tuple(batch.shape)}")
    blocks = list(blocks) if blocks is not None else find_se_blocks(model)
    hooks = SEHooks(model, blocks, maps=maps, edits=edits)
    with model_lock(model), torch.inference_mode(), hooks:
        logits = model(batch)
    missing = [b.name for b in blocks if b.name not in hooks.gates or b.name not in hooks.squeeze]
    if missing:
        raise RuntimeError(f"SE blocks {missing} did not run during the forward pass")
    # Report blocks in the order they actually ran, whatever order the modules were defined in.
    rank = {name: i for i, name in enumerate(hooks.order)}
    blocks = sorted(blocks, key=lambda b: rank[b.name])
    return Capture(
        blocks=blocks,
        gates=hooks.gates,
        squeeze=hooks.squeeze,
        logits=_to_numpy(logits, logits.shape[0]),
        maps_in=hooks.maps_in,
        maps_out=hooks.maps_out,
        squeeze_max=hooks.squeeze_max,
    )
