"""A network as a linear chain of steps, so that a pass can restart in the middle.

Neutralising SE block k changes nothing before the residual unit that holds it. If the trunk is
a plain chain — stem, then the residual units of every stage in order, then the head — the
input of every unit can be kept from one unmodified pass, and an intervention on block k only
recomputes from block k's unit onward. :func:`trunk_chain` builds such a chain for the model
families whose ``forward`` is known to be exactly that composition:

* timm ``ResNet`` (``seresnet*``, ``seresnext*``, the bundled mini model): ``conv1``, ``bn1``,
  ``act1``, ``maxpool``, the units of ``layer1``…``layer4``, then ``forward_head``;
* timm's legacy ``SENet`` (``legacy_seresnet*``, ``legacy_seresnext*``, ``legacy_senet154``):
  ``layer0``, ``pool0``, the units of ``layer1``…``layer4``, then ``forward_head``.

A subclass that overrides ``forward``/``forward_features``/``forward_head``, or a model with
gradient checkpointing on, gets ``None``: callers then fall back to full passes, which are
slower but always right. :class:`PrefixRunner` does the keeping and restarting.

Inside a unit the SE block sits at the end of the residual branch (``se(u)``, then ``+
shortcut``, then the activation). For the unit classes whose ``forward`` is exactly that —
timm's ``BasicBlock`` and ``Bottleneck``, the legacy SENet bottlenecks and ``SEResNetBlock`` —
:func:`unit_tail` finishes the unit from the kept ``u`` and shortcut, so the convolutions of
block k's own unit are not recomputed either. Other units restart from their input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

import torch
from timm.models import resnet, senet
from timm.models.resnet import ResNet
from timm.models.senet import SENet
from torch import nn

from ..engine.blocks import BlockInfo
from ..engine.capture import GateEdit, SEHooks, model_lock

__all__ = ["PrefixRunner", "Step", "UnitTail", "trunk_chain", "unit_tail"]


@dataclass(frozen=True)
class Step:
    """One link of the chain: ``fn(x)`` is the step's output; ``path`` its module ('' for the head)."""

    path: str
    fn: Callable[[torch.Tensor], torch.Tensor]


def _stage_units(model: nn.Module, names: Sequence[str]) -> Optional[list[Step]]:
    steps = []
    for stage in names:
        seq = getattr(model, stage, None)
        if not isinstance(seq, nn.Sequential):
            return None
        steps += [Step(f"{stage}.{i}", unit) for i, unit in seq.named_children()]
    return steps


def _unchanged(model: nn.Module, base: type, methods: Sequence[str]) -> bool:
    """True when ``model`` is a ``base`` and does not override any of ``methods``."""
    return isinstance(model, base) and all(
        getattr(type(model), m, None) is getattr(base, m, None) for m in methods
    )


def trunk_chain(model: nn.Module) -> Optional[list[Step]]:
    """The model as a list of steps whose composition is ``model(x)``, or None if unknown.

    Only families whose forward is known (see the module docstring) are decomposed; anything
    else returns None rather than a chain that might silently differ from the real forward.
    """
    stages = ("layer1", "layer2", "layer3", "layer4")
    methods = ("forward", "forward_features", "forward_head")
    if getattr(model, "grad_checkpointing", False):
        return None
    if _unchanged(model, ResNet, methods):
        stem = [Step(n, getattr(model, n)) for n in ("conv1", "bn1", "act1", "maxpool")]
    elif _unchanged(model, SENet, methods):
        stem = [Step(n, getattr(model, n)) for n in ("layer0", "pool0")]
    else:
        return None
    units = _stage_units(model, stages)
    if units is None:
        return None
    return [*stem, *units, Step("", model.forward_head)]


@dataclass(frozen=True)
class UnitTail:
    """The end of a residual unit, from its SE block's input ``u`` and its (downsampled) shortcut.

    ``act(drop_path(se(u)) + shortcut)`` — the last lines of the unit's own ``forward``.
    """

    se_path: str  # module path of the SE block inside the model
    se: nn.Module
    drop_path: Optional[nn.Module]
    downsample: Optional[nn.Module]
    act: nn.Module

    def __call__(self, u: torch.Tensor, shortcut: torch.Tensor) -> torch.Tensor:
        x = self.se(u)
        if self.drop_path is not None:
            x = self.drop_path(x)
        return self.act(x + shortcut)


def unit_tail(unit: nn.Module, path: str) -> Optional[UnitTail]:
    """The :class:`UnitTail` of a residual unit at ``path``, or None if its forward is not known."""
    forward = getattr(type(unit), "forward", None)
    if forward is resnet.Bottleneck.forward and unit.se is not None:
        return UnitTail(f"{path}.se", unit.se, unit.drop_path, unit.downsample, unit.act3)
    if forward is resnet.BasicBlock.forward and unit.se is not None:
        return UnitTail(f"{path}.se", unit.se, unit.drop_path, unit.downsample, unit.act2)
    if forward in (senet.Bottleneck.forward, senet.SEResNetBlock.forward):
        return UnitTail(f"{path}.se_module", unit.se_module, None, unit.downsample, unit.relu)
    return None


def _owner(steps: Sequence[Step], block: BlockInfo) -> int:
    """Index of the step whose module contains ``block`` (0: restart from the input)."""
    for i, step in enumerate(steps):
        if step.path and (block.path == step.path or block.path.startswith(step.path + ".")):
            return i
    return 0


class PrefixRunner:
    """Runs ``batch`` once, keeps what every step needs, and reruns from any block with gate edits.

    The unmodified pass keeps each step's input and, for units with a known :class:`UnitTail`,
    the SE block's input ``u`` and the unit's shortcut. ``run(edits)`` restarts at the first
    edited block — inside its unit when the tail is known, else at the unit's input — on copies
    of the kept tensors, so the result equals a full pass with the same edits while nothing
    before the block is recomputed. Every pass holds the model's lock, so other callers' hooks
    never see these passes.
    """

    def __init__(
        self, model: nn.Module, steps: Sequence[Step], blocks: Sequence[BlockInfo], batch: torch.Tensor
    ) -> None:
        self.model = model
        self.steps = list(steps)
        self.blocks = {b.name: b for b in blocks}
        self.tails: dict[int, UnitTail] = {}
        for i, step in enumerate(self.steps):
            tail = unit_tail(step.fn, step.path) if isinstance(step.fn, nn.Module) else None
            if tail is not None:
                self.tails[i] = tail
        self.inputs: list[torch.Tensor] = []
        self.u: dict[int, torch.Tensor] = {}
        self.shortcut: dict[int, torch.Tensor] = {}
        handles = []
        try:
            for i, tail in self.tails.items():
                handles.append(tail.se.register_forward_pre_hook(self._keeper(self.u, i, pre=True)))
                if tail.downsample is not None:
                    handles.append(tail.downsample.register_forward_hook(self._keeper(self.shortcut, i)))
            with model_lock(model), torch.inference_mode():
                x = batch
                for step in self.steps:
                    self.inputs.append(x)
                    x = step.fn(x)
        finally:
            for h in handles:
                h.remove()
        self.logits = x.detach().float()

    @staticmethod
    def _keeper(store: dict[int, torch.Tensor], i: int, pre: bool = False) -> Callable:
        """A hook that keeps a copy of the module's input (``pre``) or output under ``store[i]``."""

        def keep_input(_module: nn.Module, args: tuple) -> None:
            store[i] = args[0].detach().clone()

        def keep_output(_module: nn.Module, _args: tuple, out: torch.Tensor) -> None:
            store[i] = out.detach().clone()

        return keep_input if pre else keep_output

    def _start(self, names: Sequence[str]) -> tuple[int, bool]:
        """(step index, restart inside the unit from u?) for an edit of the blocks ``names``."""
        first = min(names, key=lambda n: self.blocks[n].index)
        block = self.blocks[first]
        i = _owner(self.steps, block)
        tail = self.tails.get(i)
        inside = (
            tail is not None
            and tail.se_path == block.path
            and i in self.u
            and (tail.downsample is None or i in self.shortcut)
        )
        # Another edited block in the same unit but outside its SE module: restart the unit.
        same_unit = [n for n in names if _owner(self.steps, self.blocks[n]) == i]
        return i, inside and all(self.blocks[n].path == block.path for n in same_unit)

    def run(self, edits: Mapping[str, GateEdit]) -> torch.Tensor:
        """Logits (N, K) of the pass with ``edits``, recomputing only what they can change."""
        if not edits:
            return self.logits.clone()
        start, inside = self._start(list(edits))
        hooks = SEHooks(self.model, [self.blocks[n] for n in edits], edits=edits)
        with model_lock(self.model), torch.inference_mode(), hooks:
            # Copies: an in-place op inside a unit must never change the kept tensors.
            if inside:
                shortcut = self.shortcut.get(start, self.inputs[start])  # no downsample: the input itself
                x = self.tails[start](self.u[start].clone(), shortcut.clone())
                rest = self.steps[start + 1 :]
            else:
                x = self.inputs[start].clone()
                rest = self.steps[start:]
            for step in rest:
                x = step.fn(x)
        return x.detach().float()

    def plan(
        self, edit_sets: Sequence[Mapping[str, GateEdit]], max_rows: int = 64, rows: Optional[int] = None
    ) -> list[list[tuple[tuple[int, bool], int]]]:
        """Groups of ``((restart step, inside the unit?), set index)`` that :meth:`run_many` runs
        together, ordered by restart point; empty edit sets are left out (they are the baseline).

        ``rows`` (default: this runner's batch size) plans for a batch of another size: where a
        set restarts depends only on the model, so one runner can plan every batch of a data set.
        """
        todo = sorted((self._start(list(edits)), s) for s, edits in enumerate(edit_sets) if edits)
        n = self.logits.shape[0] if rows is None else rows
        per_group = max(1, int(max_rows) // max(n, 1))
        return [todo[g : g + per_group] for g in range(0, len(todo), per_group)]

    def planned_steps(
        self, edit_sets: Sequence[Mapping[str, GateEdit]], max_rows: int = 64, rows: Optional[int] = None
    ) -> int:
        """How many chain steps :meth:`run_many` takes for these sets (calls of its ``on_step``)."""
        return sum(len(self.steps) - group[0][0][0] for group in self.plan(edit_sets, max_rows, rows))

    def run_many(
        self,
        edit_sets: Sequence[Mapping[str, GateEdit]],
        max_rows: int = 64,
        on_step: Optional[Callable[[str], None]] = None,
    ) -> list[torch.Tensor]:
        """Logits (N, K) for each edit set, computed together in one growing batch.

        The edit sets are ordered by where they restart; walking down the chain, each set joins
        the batch at its own restart point (its rows are the kept tensors there), and from then
        on all joined sets go through every later step as one batch — so the late, weight-heavy
        layers read their weights once for all sets instead of once per set. Each SE block's gate
        edit is applied only to the rows of the sets that edit it. At most ``max_rows`` rows
        (sets × N) run together; more sets are processed in consecutive groups (:meth:`plan`).
        ``on_step(path)`` is called after each step of the chain.
        """
        results: list[Optional[torch.Tensor]] = [
            None if edits else self.logits.clone() for edits in edit_sets
        ]
        for chunk in self.plan(edit_sets, max_rows):
            for (_, s), logits in zip(chunk, self._wavefront(edit_sets, chunk, on_step), strict=True):
                results[s] = logits
        return results  # type: ignore[return-value]

    def _wavefront(
        self,
        edit_sets: Sequence[Mapping[str, GateEdit]],
        chunk: Sequence[tuple[tuple[int, bool], int]],
        on_step: Optional[Callable[[str], None]] = None,
    ) -> list[torch.Tensor]:
        n = self.logits.shape[0]
        layout: list[int] = []  # the edit set of each N-row group in the batch being run

        def rows_edit(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
            def edit(gates: torch.Tensor) -> torch.Tensor:
                out = gates.clone()
                for k, s in enumerate(layout):
                    e = edit_sets[s].get(name)
                    if e is not None:
                        out[k * n : (k + 1) * n] = SEHooks._apply_edit(e, gates[k * n : (k + 1) * n])
                return out

            return edit

        names = sorted({name for _, s in chunk for name in edit_sets[s]}, key=lambda x: self.blocks[x].index)
        hooks = SEHooks(self.model, [self.blocks[x] for x in names], edits={x: rows_edit(x) for x in names})
        joined: list[int] = []
        x: Optional[torch.Tensor] = None
        first = chunk[0][0][0]
        with torch.inference_mode():
            for j in range(first, len(self.steps)):
                # The lock and the hooks are taken per step, not per run: another user's capture
                # through this model waits for one step of a long study, never for all of it.
                with model_lock(self.model), hooks:
                    x = self._step(j, x, chunk, joined, layout)
                if on_step:
                    on_step(self.steps[j].path or "head")
        assert x is not None and len(joined) == len(chunk)
        order = {s: k for k, s in enumerate(joined)}
        return [x[order[s] * n : (order[s] + 1) * n].detach().float() for _, s in chunk]

    def _step(
        self,
        j: int,
        x: Optional[torch.Tensor],
        chunk: Sequence[tuple[tuple[int, bool], int]],
        joined: list[int],
        layout: list[int],
    ) -> Optional[torch.Tensor]:
        """Step ``j`` of the wavefront: the joined rows go on, the sets restarting here join."""
        parts = []
        if x is not None:
            layout[:] = joined
            parts.append(self.steps[j].fn(x))
        restart = [s for (i, inside), s in chunk if i == j and not inside]
        if restart:
            layout[:] = restart
            parts.append(
                self.steps[j].fn(self.inputs[j].repeat(len(restart), *[1] * (self.inputs[j].ndim - 1)))
            )
        tail_sets = [s for (i, inside), s in chunk if i == j and inside]
        if tail_sets:
            layout[:] = tail_sets
            reps = (len(tail_sets), *[1] * (self.u[j].ndim - 1))
            shortcut = self.shortcut.get(j, self.inputs[j])  # no downsample: the input itself
            parts.append(self.tails[j](self.u[j].repeat(reps), shortcut.repeat(reps)))
        joined += restart + tail_sets
        if parts:
            x = parts[0] if len(parts) == 1 else torch.cat(parts)
        return x
