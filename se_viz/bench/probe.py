"""What does finding the gates cost? ``python -m se_viz.bench.probe [timm model …]`` measures it.

:func:`~se_viz.engine.probe.probe_gates` runs the network once on two 64×64 images with a hook
on every module, then reruns each candidate module (one that scaled its input per channel, or
whose input in the network was all zero) on its own, on a random map of its input's shape. This
counts both — module calls of the network's pass and of the reruns, with a pre-hook on every
module — and times the probe against a plain forward pass of the same two images, interleaved in
one process (median of the per-round ratios: absolute times on a shared CPU are not comparable).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TextIO

import torch
from torch import nn

from ..engine.probe import probe_gates, probe_input

__all__ = ["ProbeCost", "probe_cost", "main"]

DEFAULT_MODELS = ("seresnet50", "ecaresnet26t", "efficientnet_b0", "mobilenetv3_large_100", "poolformer_s12")


@dataclass(frozen=True)
class ProbeCost:
    """One model's probe: module calls in the network's pass and in the reruns, and time ratio."""

    model: str
    pass_calls: int
    rerun_calls: int
    forward_ms: float
    probe_ms: float

    @property
    def ratio(self) -> float:
        return self.probe_ms / self.forward_ms


def probe_cost(name: str, model: nn.Module, rounds: int = 3, side: int = 64) -> ProbeCost:
    """Count and time :func:`probe_gates` on ``model`` against a plain forward of its probe images."""
    x = probe_input(model, side)
    calls = [0]

    def count(*_args: object) -> None:
        calls[0] += 1

    handles = [m.register_forward_pre_hook(count) for m in model.modules() if m is not model]
    try:
        with torch.inference_mode():
            model(x)
        pass_calls, calls[0] = calls[0], 0
        probe_gates(model, side)
        rerun_calls = calls[0] - pass_calls  # the probe's own pass counts as many as a plain one
    finally:
        for h in handles:
            h.remove()
    forward, probe = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        with torch.inference_mode():
            model(x)
        forward.append(time.perf_counter() - t)
        t = time.perf_counter()
        probe_gates(model, side)
        probe.append(time.perf_counter() - t)
    ratio = statistics.median(p / f for p, f in zip(probe, forward, strict=True))
    fwd_ms = statistics.median(forward) * 1000
    return ProbeCost(name, pass_calls, rerun_calls, fwd_ms, fwd_ms * ratio)


def main(models: tuple[str, ...] = DEFAULT_MODELS, out: TextIO = sys.stdout) -> None:
    """Print one row per untrained timm model (torch on one thread, as the zoo test runs)."""
    import timm

    torch.set_num_threads(1)
    out.write("| model | module calls (pass) | reruns (module calls) | forward | probe | probe / forward |\n")
    out.write("| --- | --- | --- | --- | --- | --- |\n")
    for name in models:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = timm.create_model(name, pretrained=False).eval()
        c = probe_cost(name, model)
        out.write(
            f"| `{c.model}` | {c.pass_calls} | {c.rerun_calls} | {c.forward_ms:.0f} ms | "
            f"{c.probe_ms:.0f} ms | {c.ratio:.1f}× |\n"
        )


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or DEFAULT_MODELS)
