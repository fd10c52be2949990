"""What a long run will cost, in seconds, before it starts: measured on this machine, not guessed.

A teacher clicking "prune" on SE-ResNet-50 should read "about 3 minutes" before the click, not
find out after. The estimate multiplies two things:

* :func:`calibrate` — each step of the model's chain (stem, every residual unit, head;
  :func:`~se_viz.interventions.chain.trunk_chain`) timed on random batches of two sizes with the
  thread count the run will have, giving a fixed cost per call and a cost per image (for a small
  model the fixed part dominates: timing one size alone overestimated a mini-model study 3×).
  Once per model and thread count.
* the work a run plans — :func:`edit_sets_seconds` walks the very plan the knock-out engine
  will run (:meth:`~se_viz.interventions.chain.PrefixRunner.plan`: which sets restart where,
  how many rows go through each later step), so prefix reuse and batching are counted as they
  will happen. Full passes (the gates' capture) and the gate × gradient ranking (a forward and
  a backward pass, timed by the calibration too) are added as passes.

:func:`prune_seconds`, :func:`faithfulness_seconds` and :func:`ablation_seconds` put these
together for the studies the app offers; ``tests/test_cost.py`` checks each against a real run
(within 2×, on the mini model and an untrained SE-ResNet-50).
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import torch
from torch import nn

from .engine.blocks import BlockInfo
from .engine.capture import GateEdit, model_lock
from .interventions.chain import PrefixRunner, trunk_chain
from .interventions.edits import neutralise

__all__ = [
    "StepCosts",
    "ablation_seconds",
    "calibrate",
    "calibrated",
    "edit_sets_seconds",
    "faithfulness_seconds",
    "passes_seconds",
    "prune_seconds",
]

CALIBRATION_SECONDS = 1.0


@dataclass(frozen=True)
class StepCosts:
    """Seconds of each step of the model's chain as ``fixed + per_image × rows`` (one step: the
    whole pass, when the model has no known chain), measured with ``threads`` torch threads."""

    fixed: tuple[float, ...]
    per_image: tuple[float, ...]
    threads: int
    chain: bool  # True: one entry per step of trunk_chain(model); False: one for the whole pass
    backward: float = 3.0  # a gate × gradient batch (forward and backward) in forward passes

    def step_seconds(self, j: int, rows: int) -> float:
        """Seconds of step ``j`` on a batch of ``rows`` images."""
        return self.fixed[j] + self.per_image[j] * rows

    def pass_seconds(self, rows: int, passes: float = 1.0) -> float:
        """Seconds of ``passes`` full forward passes over a batch of ``rows`` images."""
        return passes * sum(self.step_seconds(j, rows) for j in range(len(self.fixed)))


_calibrated: "weakref.WeakKeyDictionary[nn.Module, dict[int, StepCosts]]" = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def calibrated(model: nn.Module, threads: int) -> Optional[StepCosts]:
    """The held calibration of ``model`` at ``threads`` threads, or None (never measures)."""
    with _guard:
        return _calibrated.get(model, {}).get(int(threads))


def _timed_pass(model: nn.Module, steps, batch: torch.Tensor) -> list[float]:
    times = []
    with model_lock(model), torch.inference_mode():
        x = batch
        for fn in [model] if steps is None else [s.fn for s in steps]:
            t0 = time.perf_counter()
            x = fn(x)
            times.append(time.perf_counter() - t0)
    return times


def calibrate(
    model: nn.Module,
    input_size: Sequence[int],
    blocks: Sequence[BlockInfo],
    threads: Optional[int] = None,
    seconds: float = CALIBRATION_SECONDS,
) -> StepCosts:
    """Time every step on random batches of one image and of k images (k chosen so the pass takes
    about ``seconds``, 4–32 images: per-image cost falls with batch size), and one gate × gradient
    batch, with ``threads`` torch threads (default: the current count; the caller's is restored).

    Kept per model and thread count, so the second call is free. A first pass warms the
    allocator; the faster of two single-image timings counts.
    """
    threads = int(threads or torch.get_num_threads())
    with _guard:
        held = _calibrated.get(model, {}).get(threads)
    if held is not None:
        return held
    from .channels.rankings import gate_gradient_ranking  # channels builds on this package's peers

    size = [int(v) for v in input_size]
    steps = trunk_chain(model)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        one = torch.rand(1, *size)
        _timed_pass(model, steps, one)
        first, second = _timed_pass(model, steps, one), _timed_pass(model, steps, one)
        small = [min(a, b) for a, b in zip(first, second, strict=True)]
        k = int(min(32, max(4, seconds / max(sum(small), 1e-6))))
        batch = torch.rand(k, *size)
        # A new batch size is slow the first time (the allocator grows, oneDNN plans its
        # kernels): timing that first pass alone put the mini model's per-image cost 3x high.
        _timed_pass(model, steps, batch)
        big = _timed_pass(model, steps, batch)
        gate_gradient_ranking(model, one, blocks)  # autograd's first call sets itself up
        t0 = time.perf_counter()
        gate_gradient_ranking(model, batch, blocks, batch_size=k)
        backward = (time.perf_counter() - t0) / max(sum(big), 1e-9)
    finally:
        torch.set_num_threads(before)
    per_image = [max(0.0, (b - s) / (k - 1)) for s, b in zip(small, big, strict=True)]
    fixed = [max(0.0, s - p) for s, p in zip(small, per_image, strict=True)]
    costs = StepCosts(tuple(fixed), tuple(per_image), threads, steps is not None, backward)
    with _guard:
        _calibrated.setdefault(model, {})[threads] = costs
    return costs


_planners: "weakref.WeakKeyDictionary[nn.Module, PrefixRunner]" = weakref.WeakKeyDictionary()


def _planner(model: nn.Module, steps, blocks: Sequence[BlockInfo], probe: torch.Tensor) -> PrefixRunner:
    """A runner on one image, kept per model: where a set restarts depends only on the model."""
    with _guard:
        held = _planners.get(model)
    if held is None:
        held = PrefixRunner(model, steps, blocks, probe[:1])
        with _guard:
            _planners[model] = held
    return held


def _chunks(images: int, batch_size: int) -> list[int]:
    return [min(batch_size, images - s) for s in range(0, images, batch_size)]


def edit_sets_seconds(
    model: nn.Module,
    blocks: Sequence[BlockInfo],
    costs: StepCosts,
    edit_sets: Sequence[Mapping[str, GateEdit]],
    images: int,
    *,
    batch_size: int = 32,
    max_rows: int = 256,
    probe: Optional[torch.Tensor] = None,
) -> float:
    """Seconds :func:`~se_viz.channels.pruning.edited_logits` will take for these edit sets over
    ``images`` images in batches of ``batch_size``: per batch, the unmodified pass, then every
    group of the runner's plan walking down the chain with its growing number of rows."""
    steps = trunk_chain(model)
    if steps is None or not costs.chain:
        return sum(costs.pass_seconds(n, len(edit_sets) + 1) for n in _chunks(images, batch_size))
    if probe is None:
        raise ValueError("a probe image (1, 3, H, W) is needed to plan the reruns")
    runner = _planner(model, steps, blocks, probe)
    total = 0.0
    for n in _chunks(images, batch_size):
        total += costs.pass_seconds(n)
        for group in runner.plan(edit_sets, max_rows, rows=n):
            starts = [start for (start, _inside), _s in group]
            for j in range(min(starts), len(steps)):
                joined = sum(1 for s in starts if s <= j)
                total += costs.step_seconds(j, n * joined)
    return total


def passes_seconds(costs: StepCosts, images: int, batch_size: int) -> float:
    """Seconds of one forward pass over ``images`` images in batches of ``batch_size`` (a capture)."""
    return sum(costs.pass_seconds(n) for n in _chunks(images, batch_size))


def _ranking_seconds(costs: StepCosts, images: int, batch_size: int = 32) -> float:
    """The rankings a study starts with: one capture pass over all images (mean gate) and
    gate × gradient, a forward and backward pass per batch."""
    grads = sum(costs.pass_seconds(n, costs.backward) for n in _chunks(images, batch_size))
    return costs.pass_seconds(images) + grads


def _study_seconds(
    model: nn.Module,
    blocks: Sequence[BlockInfo],
    costs: StepCosts,
    probe: torch.Tensor,
    sets: Sequence[dict],
    images: int,
    batch_size: int,
    max_rows: int,
) -> float:
    """A channel study's seconds: its rankings, then its edit sets as the knock-out chain reruns them."""
    return _ranking_seconds(costs, images) + edit_sets_seconds(
        model, blocks, costs, sets, images, batch_size=batch_size, max_rows=max_rows, probe=probe
    )


def prune_seconds(
    model: nn.Module,
    blocks: Sequence[BlockInfo],
    costs: StepCosts,
    probe: torch.Tensor,
    *,
    images: int,
    rankings: int,
    fractions: Sequence[float],
    prune_blocks: Optional[Sequence[str]] = None,
    batch_size: int = 32,
    max_rows: int = 256,
) -> float:
    """Seconds of a pruning study (rankings, then every ranking × fraction as an edit set).

    Which channels a ranking picks does not change where a rerun starts, except that a block
    pruned by none of its channels is not edited: at each fraction, every pruned block with at
    least one channel pruned (per-block scope) is counted as edited — for the network-wide scope
    this is an upper bound."""
    pruned = [b for b in blocks if prune_blocks is None or b.name in set(prune_blocks)]
    edit = neutralise()
    sets = []
    for _ in range(int(rankings)):
        for f in fractions:
            sets.append({b.name: edit for b in pruned if math.floor(f * b.channels + 1e-9) > 0})
    return _study_seconds(model, blocks, costs, probe, sets, images, batch_size, max_rows)


def faithfulness_seconds(
    model: nn.Module,
    blocks: Sequence[BlockInfo],
    costs: StepCosts,
    probe: torch.Tensor,
    *,
    images: int,
    rankings: int,
    block: Optional[str],
    steps: int = 11,
    batch_size: int = 32,
    max_rows: int = 256,
) -> float:
    """Seconds of deletion and insertion curves for one block (None: the whole network)."""
    edit = neutralise()
    names = [block] if block is not None else [b.name for b in blocks]
    one = {n: edit for n in names}
    # Deletion at x = 0 and insertion at x = 1 change nothing; every other point is a rerun.
    per_ranking = [one] * (2 * (int(steps) - 1))
    sets = per_ranking * int(rankings)
    return _study_seconds(model, blocks, costs, probe, sets, images, batch_size, max_rows)


def ablation_seconds(
    model: nn.Module,
    blocks: Sequence[BlockInfo],
    costs: StepCosts,
    probe: torch.Tensor,
    *,
    images: int,
    conditions: Sequence[Sequence[str]],
    batch_size: int = 32,
) -> float:
    """Seconds of a set ablation: one rerun per condition (the blocks it neutralises) per batch."""
    edit = neutralise()
    sets = [{n: edit for n in names} for names in conditions]
    return edit_sets_seconds(model, blocks, costs, sets, images, batch_size=batch_size, probe=probe)
