"""How much does capturing cost? ``se-viz bench`` measures it.

Timing on a shared CPU is noisy, so the benchmark never compares absolute times across runs:
it interleaves a plain forward pass and a ``capture`` of the same batch in one process,
alternating which goes first, and reports the median of the per-pair ratios. It also pairs
``capture(model, x)`` (blocks looked up in the per-model memo) with
``capture(model, x, blocks=...)``: the default call should cost what the explicit one does.

Peak memory is measured in fresh child processes (one for the plain pass, one for the capture),
because an allocator that already holds freed memory from earlier passes hides what a pass
needs. Each child loads the model, resets its peak resident set size (``VmHWM``, through
``/proc/self/clear_refs``), runs exactly one pass and reports how far the peak rose.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TextIO

import torch

from ..engine.capture import capture
from ..loading.load import load_model

__all__ = ["BenchResult", "SweepBenchResult", "run_bench", "run_sweep_bench", "peak_rss_delta"]

RATIO_TARGET = 1.03
#: Paired rounds per batch size of ``se-viz bench`` (the CLI's default too).
DEFAULT_ROUNDS = 21
#: Rounds of the sweep bench: one round costs about 9 plain passes.
SWEEP_ROUNDS = 5
MEMORY_TARGET_MB_PER_IMAGE = 5.0


@dataclass
class BenchResult:
    """One batch size's numbers: median times (ms), median paired ratio, peak memory (MB)."""

    batch: int
    plain_ms: float
    capture_ms: float
    ratio: float
    peak_plain_mb: Optional[float]
    peak_capture_mb: Optional[float]
    kept_mb: float
    # capture(model, x) without blocks=: median ms, and median paired ratio to the explicit call
    default_ms: Optional[float] = None
    default_ratio: Optional[float] = None

    @property
    def extra_mb_per_image(self) -> Optional[float]:
        """Extra peak memory of a capture over a plain forward, per image (MB)."""
        if self.peak_plain_mb is None or self.peak_capture_mb is None:
            return None
        return (self.peak_capture_mb - self.peak_plain_mb) / self.batch


def _read_hwm_kb() -> Optional[int]:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_delta(fn: Callable[[], object]) -> Optional[float]:
    """Peak resident memory (MB) reached while ``fn`` runs, above the RSS before it (Linux only)."""
    gc.collect()
    if not _reset_hwm():
        return None
    before = _read_hwm_kb()
    fn()
    after = _read_hwm_kb()
    if before is None or after is None:
        return None
    return (after - before) / 1024.0


def paired_times(
    base: Callable[[], object], other: Callable[[], object], rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Seconds of ``base`` and ``other`` over ``rounds`` paired runs, alternating which goes first,
    and the per-round ratios other / base.

    Pairing and alternating cancel most of a shared machine's drift: compare the ratios, not the
    seconds.
    """
    base_times, other_times, ratios = [], [], []
    for r in range(rounds):
        order = (base, other) if r % 2 == 0 else (other, base)
        times = {}
        for fn in order:
            t0 = time.perf_counter()
            fn()
            times[fn] = time.perf_counter() - t0
        base_times.append(times[base])
        other_times.append(times[other])
        ratios.append(times[other] / times[base])
    return base_times, other_times, ratios


def _bench_batch(model: torch.nn.Module, blocks, batch: torch.Tensor, rounds: int) -> BenchResult:
    def plain() -> object:
        with torch.inference_mode():
            return model(batch)

    def hooked() -> object:
        return capture(model, batch, blocks=blocks)

    def default() -> object:
        return capture(model, batch)

    for _ in range(3):  # warm up allocator and kernels for both paths
        plain()
        hooked()
        default()
    plain_times, capture_times, ratios = paired_times(plain, hooked, rounds)
    _, default_times, default_ratios = paired_times(hooked, default, rounds)
    kept = hooked()
    kept_bytes = sum(a.nbytes for a in kept.gates.values()) + sum(a.nbytes for a in kept.squeeze.values())
    kept_bytes += kept.logits.nbytes
    del kept
    return BenchResult(
        batch=int(batch.shape[0]),
        plain_ms=statistics.median(plain_times) * 1e3,
        capture_ms=statistics.median(capture_times) * 1e3,
        ratio=statistics.median(ratios),
        peak_plain_mb=None,
        peak_capture_mb=None,
        kept_mb=kept_bytes / 2**20,
        default_ms=statistics.median(default_times) * 1e3,
        default_ratio=statistics.median(default_ratios),
    )


def _child_peak(model_name: str, batch: int, size: int, mode: str) -> Optional[float]:
    """Run one pass in a fresh interpreter and return its peak-RSS rise in MB (None if unknown)."""
    code = (
        "import json, sys, torch; from se_viz.bench.capture import _peak_main; "
        f"print(json.dumps(_peak_main({model_name!r}, {batch}, {size}, {mode!r})))"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600, check=True
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError):
        return None


def _peak_main(model_name: str, batch: int, size: int, mode: str) -> Optional[float]:
    """Child-process body of :func:`_child_peak`: one plain or captured pass, peak RSS rise in MB."""
    torch.manual_seed(0)
    lm = load_model(model_name, pretrained=False)
    x = torch.randn(batch, 3, size, size)
    if mode == "plain":

        def run() -> object:
            with torch.inference_mode():
                return lm.model(x)
    else:

        def run() -> object:
            return capture(lm.model, x, blocks=lm.blocks)

    return peak_rss_delta(run)


def run_bench(
    model_name: str = "legacy_seresnet50",
    batches: tuple[int, ...] = (1, 8),
    rounds: int = DEFAULT_ROUNDS,
    size: int = 224,
    out: TextIO = sys.stdout,
    memory: bool = True,
) -> list[BenchResult]:
    """Benchmark ``capture`` against a plain forward pass and print a table to ``out``.

    Uses an untrained network (timing and memory do not depend on the weights), seeded inputs
    at ``size``×``size``, and ``rounds`` paired, alternating runs per batch size. With
    ``memory`` the peak memory of one plain and one captured pass is measured in child processes.
    """
    torch.manual_seed(0)
    lm = load_model(model_name, pretrained=False)
    print(
        f"se-viz bench: {lm.name} ({len(lm.blocks)} SE blocks), {size}x{size}, "
        f"{torch.get_num_threads()} threads, {rounds} paired rounds per batch size",
        file=out,
    )
    print(
        f"{'batch':>5} {'plain ms':>9} {'capture ms':>10} {'ratio':>7} {'ok':>3} "
        f"{'peak plain MB':>13} {'peak capture MB':>15} {'extra MB/img':>12} {'kept MB':>8} "
        f"{'no blocks= ms':>13} {'vs blocks=':>10}",
        file=out,
    )
    results = []
    for n in batches:
        batch = torch.randn(n, 3, size, size)
        res = _bench_batch(lm.model, lm.blocks, batch, rounds)
        if memory:
            res.peak_plain_mb = _child_peak(model_name, n, size, "plain")
            res.peak_capture_mb = _child_peak(model_name, n, size, "capture")
        results.append(res)
        extra = res.extra_mb_per_image

        def fmt(v):
            return "n/a" if v is None else f"{v:.1f}"

        print(
            f"{res.batch:>5} {res.plain_ms:>9.1f} {res.capture_ms:>10.1f} {res.ratio:>7.3f} "
            f"{'yes' if res.ratio <= RATIO_TARGET else 'NO':>3} {fmt(res.peak_plain_mb):>13} "
            f"{fmt(res.peak_capture_mb):>15} {fmt(extra):>12} {res.kept_mb:>8.3f} "
            f"{res.default_ms:>13.1f} {res.default_ratio:>10.3f}",
            file=out,
        )
        out.flush()
    print(
        f"ratio = median over rounds of capture time / plain time in the same round "
        f"(target <= {RATIO_TARGET}); "
        f"memory target: within {MEMORY_TARGET_MB_PER_IMAGE:.0f} MB per image; "
        "vs blocks= = median over rounds of capture(model, x) / capture(model, x, blocks=...) "
        "(blocks remembered per model: within noise of 1).",
        file=out,
    )
    return results


SWEEP_TARGET = 9.0


@dataclass
class SweepBenchResult:
    """The knock-out sweep against a plain forward pass: median times (ms) and paired ratio."""

    blocks: int
    plain_ms: float
    sweep_ms: float
    ratio: float
    flop_limit: Optional[float]
    reused: bool


def run_sweep_bench(
    model_name: str = "legacy_seresnet50",
    rounds: int = SWEEP_ROUNDS,
    size: int = 224,
    out: TextIO = sys.stdout,
) -> SweepBenchResult:
    """Time one knock-out sweep (batch 1) against one plain forward pass, paired and alternating.

    The sweep includes its own unmodified pass. Also prints the sweep's FLOP-count limit
    (:func:`se_viz.interventions.sweep_flop_limit`): the ratio no implementation that reruns
    from each SE block can beat.
    """
    from ..interventions import knock_out_sweep, sweep_flop_limit

    torch.manual_seed(0)
    lm = load_model(model_name, pretrained=False)
    x = torch.randn(1, 3, size, size)

    def plain() -> object:
        with torch.inference_mode():
            return lm.model(x)

    def sweep() -> object:
        return knock_out_sweep(lm.model, x, blocks=lm.blocks)

    plain()
    reused = knock_out_sweep(lm.model, x, blocks=lm.blocks).reused  # warm-up, and which path ran
    plain_times, sweep_times, ratios = paired_times(plain, sweep, rounds)
    cost = sweep_flop_limit(lm.model, x, lm.blocks)
    res = SweepBenchResult(
        blocks=len(lm.blocks),
        plain_ms=statistics.median(plain_times) * 1e3,
        sweep_ms=statistics.median(sweep_times) * 1e3,
        ratio=statistics.median(ratios),
        flop_limit=cost.limit if cost else None,
        reused=reused,
    )
    limit = "n/a" if cost is None else f"{cost.limit:.2f} ({cost.reruns_only:.2f} for the reruns alone)"
    print(
        f"knock-out sweep: {lm.name}, {res.blocks} SE blocks, batch 1, {size}x{size}, "
        f"{torch.get_num_threads()} threads, {rounds} paired rounds, "
        f"{'prefix reuse' if reused else 'full passes (trunk not decomposable)'}\n"
        f"  plain {res.plain_ms:.1f} ms, sweep {res.sweep_ms:.1f} ms, ratio {res.ratio:.2f} "
        f"({'yes' if res.ratio <= SWEEP_TARGET else 'NO'}, target <= {SWEEP_TARGET:g} plain passes); "
        f"FLOP-count limit {limit}",
        file=out,
    )
    out.flush()
    return res
