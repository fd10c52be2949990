"""The knock-out sweep: neutralise each SE block in turn and see what the prediction loses.

One sweep answers "which blocks matter for this image?" the way the SE paper's ablations answer
it for a data set. It reuses work: the activations before block k do not change when block k
is neutralised, so one unmodified pass keeps the input of every residual unit
(:class:`~se_viz.interventions.chain.PrefixRunner`) and each knock-out reruns only from block k's
unit onward. For SE-ResNet-50 (16 blocks) that costs about 7.3 plain passes' FLOPs instead of
16 (:func:`sweep_flop_limit`). Models whose trunk is not a known chain fall back to one full
pass per block — slower, same numbers.

:func:`run_edit_sets` is the general engine (any list of edit dictionaries, e.g. "neutralise
all of stage 3"); :func:`knock_out_sweep` is the per-block sweep built on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..engine.blocks import BlockInfo, find_se_blocks
from ..engine.capture import GateEdit, capture
from ..i18n import _
from .chain import PrefixRunner, trunk_chain
from .edits import neutralise

__all__ = [
    "Progress",
    "SweepCost",
    "SweepResult",
    "knock_out_sweep",
    "log_softmax",
    "planned_passes",
    "run_edit_sets",
    "sweep_flop_limit",
]

# progress(done, total, what): called after each pass, so a UI can draw a progress bar.
Progress = Callable[[int, int, str], None]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities along the last axis, in float64 (stable for confident predictions)."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def run_edit_sets(
    model: nn.Module,
    batch: torch.Tensor,
    edit_sets: Sequence[Mapping[str, GateEdit]],
    *,
    blocks: Optional[Sequence[BlockInfo]] = None,
    progress: Optional[Progress] = None,
    labels: Optional[Sequence[str]] = None,
    reuse: bool = True,
    max_rows: int = 64,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Logits of the unmodified pass (N, K) and of one pass per edit set (S, N, K), and whether
    work was reused.

    With ``reuse`` (the default) and a decomposable trunk, each edit set reruns only from its
    first edited block, and sets run together as one growing batch of at most ``max_rows`` rows
    (:meth:`PrefixRunner.run_many`); otherwise every edit set is one full ``capture`` pass.
    ``labels`` names the edit sets for ``progress``.
    """
    blocks = list(blocks) if blocks is not None else find_se_blocks(model)
    names = list(labels) if labels is not None else [", ".join(e) or "none" for e in edit_sets]
    total = len(edit_sets) + 1
    steps = trunk_chain(model) if reuse else None
    out = []
    if steps is not None:
        runner = PrefixRunner(model, steps, blocks, batch)
        base = runner.logits.numpy()
        # The sets run as growing batches down the chain: progress counts the chain's steps.
        total = 1 + runner.planned_steps(edit_sets, max_rows)
        done = [1]
        if progress:
            progress(1, total, _("unmodified pass"))

        def on_step(path: str) -> None:
            done[0] += 1
            if progress:
                progress(done[0], total, _("rerunning {path}").format(path=path))

        out = [t.numpy() for t in runner.run_many(edit_sets, max_rows=max_rows, on_step=on_step)]
    else:
        base = capture(model, batch, blocks=blocks).logits
        if progress:
            progress(1, total, _("unmodified pass"))
        for i, edits in enumerate(edit_sets):
            out.append(capture(model, batch, blocks=blocks, edits=dict(edits)).logits)
            if progress:
                progress(i + 2, total, names[i])
    k = base.shape[1]
    stacked = np.stack(out) if out else np.zeros((0, base.shape[0], k), dtype=np.float32)
    return base.astype(np.float32), stacked.astype(np.float32), steps is not None


def planned_passes(
    model: nn.Module,
    probe: torch.Tensor,
    edit_sets: Sequence[Mapping[str, GateEdit]],
    batch_sizes: Sequence[int],
    *,
    blocks: Optional[Sequence[BlockInfo]] = None,
    reuse: bool = True,
    max_rows: int = 64,
) -> list[int]:
    """The ``total`` that :func:`run_edit_sets` reports to ``progress`` for each batch size.

    Counted, not guessed: with a decomposable trunk a runner on ``probe`` (one image is enough;
    where a set restarts depends only on the model) plans every batch size; otherwise each batch
    is one pass per edit set plus the unmodified one.
    """
    steps = trunk_chain(model) if reuse else None
    if steps is None:
        return [len(edit_sets) + 1 for _ in batch_sizes]
    blocks = list(blocks) if blocks is not None else find_se_blocks(model)
    runner = PrefixRunner(model, steps, blocks, probe[:1])
    return [1 + runner.planned_steps(edit_sets, max_rows, rows=n) for n in batch_sizes]


@dataclass
class SweepResult:
    """Logits of the unmodified network and of the network with each block knocked out.

    ``logits[b]`` (N, K) is the pass with ``blocks[b]`` neutralised. The quantities a user reads
    are derived from them: ``delta_logprob[b, i]``, the change in log-probability of image i's
    originally predicted class, is negative when the block helped that prediction.
    """

    blocks: list[BlockInfo]
    base_logits: np.ndarray  # (N, K)
    logits: np.ndarray  # (B, N, K)
    reused: bool  # True when the prefix-reusing path ran, False for full passes

    @property
    def predicted(self) -> np.ndarray:
        """The unmodified network's top-1 class per image, (N,)."""
        return self.base_logits.argmax(axis=1)

    @property
    def base_logprob(self) -> np.ndarray:
        """log p(predicted class) of the unmodified network, (N,)."""
        n = np.arange(self.base_logits.shape[0])
        return log_softmax(self.base_logits)[n, self.predicted]

    @property
    def logprob(self) -> np.ndarray:
        """log p(originally predicted class) with each block knocked out, (B, N)."""
        n = np.arange(self.base_logits.shape[0])
        return log_softmax(self.logits)[:, n, self.predicted]

    @property
    def delta_logprob(self) -> np.ndarray:
        """Change in log-probability of the predicted class per block and image, (B, N)."""
        return self.logprob - self.base_logprob[None, :]

    @property
    def delta_prob(self) -> np.ndarray:
        """Change in probability (0–1) of the predicted class per block and image, (B, N)."""
        return np.exp(self.logprob) - np.exp(self.base_logprob)[None, :]

    @property
    def new_top1(self) -> np.ndarray:
        """Top-1 class per block and image with that block knocked out, (B, N)."""
        return self.logits.argmax(axis=2)

    def to_frame(self, image: int = 0, class_names: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """One row per block for image ``image``: block, stage, channels, Δ log p, Δ p, new top-1."""
        top = self.new_top1[:, image]
        return pd.DataFrame(
            {
                "block": [b.name for b in self.blocks],
                "stage": [b.stage for b in self.blocks],
                "channels": [b.channels for b in self.blocks],
                "delta_logprob": self.delta_logprob[:, image],
                "delta_prob": self.delta_prob[:, image],
                "new_top1": [class_names[t] if class_names else int(t) for t in top],
                "prediction_changed": top != self.predicted[image],
            }
        )


def knock_out_sweep(
    model: nn.Module,
    batch: torch.Tensor,
    *,
    blocks: Optional[Sequence[BlockInfo]] = None,
    edit: Optional[GateEdit] = None,
    progress: Optional[Progress] = None,
    reuse: bool = True,
) -> SweepResult:
    """Knock out (by default: neutralise, s = 1) each SE block in turn; one pass per block.

    Reuses the unmodified pass's activations up to each block's residual unit when the model's
    trunk is a known chain (timm ResNet family, legacy SENet); ``reuse=False`` forces full
    passes (the reference the fast path is tested against). ``progress(done, total, what)`` is
    called after each pass.
    """
    blocks = list(blocks) if blocks is not None else find_se_blocks(model)
    edit = edit if edit is not None else neutralise()
    base, logits, reused = run_edit_sets(
        model,
        batch,
        [{b.name: edit} for b in blocks],
        blocks=blocks,
        progress=progress,
        labels=[b.name for b in blocks],
        reuse=reuse,
    )
    return SweepResult(blocks=blocks, base_logits=base, logits=logits, reused=reused)


def _flops(fn: Callable[[], object]) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        fn()
    return float(counter.get_total_flops())


@dataclass
class SweepCost:
    """FLOPs of a plain pass and of each knock-out rerun; their ratio is the sweep's FLOP limit."""

    plain_flops: float
    rerun_flops: list[float]  # one per block, in block order

    @property
    def limit(self) -> float:
        """(unmodified pass + every rerun) FLOPs / plain-pass FLOPs: what a sweep costs at best."""
        return 1.0 + sum(self.rerun_flops) / self.plain_flops

    @property
    def reruns_only(self) -> float:
        """The reruns alone in plain-pass units (when the unmodified pass is already at hand)."""
        return sum(self.rerun_flops) / self.plain_flops


def sweep_flop_limit(
    model: nn.Module, batch: torch.Tensor, blocks: Optional[Sequence[BlockInfo]] = None
) -> Optional[SweepCost]:
    """The FLOP count of a knock-out sweep in plain-pass units (None if the trunk is not a chain).

    Counted with ``torch.utils.flop_counter`` (convolutions and matrix products) on the very
    reruns the sweep makes, so it is the limit of this sweep on this model and input size.
    """
    steps = trunk_chain(model)
    if steps is None:
        return None
    blocks = list(blocks) if blocks is not None else find_se_blocks(model)
    runner = PrefixRunner(model, steps, blocks, batch)
    plain = _flops(lambda: model(batch))
    reruns = [_flops(lambda b=b: runner.run({b.name: neutralise()})) for b in blocks]
    return SweepCost(plain, reruns)
