"""What a capture run is: the model to load, how to batch, where to write — shared by both engines."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import torch

from ..engine.blocks import BlockInfo
from ..engine.capture import capture
from ..loading.load import LoadedModel, load_model
from .schema import DTYPES, build_manifest

__all__ = ["CaptureJob", "forward_blocks", "machine_cpus", "torch_threads"]


@dataclass(frozen=True)
class CaptureJob:
    """The settings of one ``se-viz capture`` run (both engines read the same object).

    ``rows_per_part`` rows make one part file of the local engine (the unit that a kill can
    lose and ``--resume`` redoes); ``actors`` is the Ray engine's model-actor count; ``threads``
    is torch's intra-op thread count in each process that runs the model (None: torch's default);
    ``num_cpus`` caps the CPUs a run uses (None: all the machine's, see :func:`machine_cpus`);
    ``workers`` (local decoding processes) defaults from it.
    On a busy machine fewer threads than cores is often faster: idle OpenMP threads spin.
    """

    model: str
    out: Path
    weights: Optional[Path] = None
    pretrained: bool = True
    dtype: str = "float32"
    batch_size: int = 32
    workers: Optional[int] = None
    rows_per_part: int = 512
    resume: bool = False
    actors: int = 1
    threads: Optional[int] = None
    address: Optional[str] = None
    command: Optional[tuple[str, ...]] = None
    num_cpus: Optional[int] = None
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if self.batch_size < 1 or self.rows_per_part < 1 or self.actors < 1 or (self.workers or 0) < 0:
            raise ValueError("batch size, rows per part and actors must be >= 1, workers >= 0")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ValueError("num_cpus must be >= 1")

    @property
    def cpus(self) -> int:
        """CPUs this run may use: the machine's (:func:`machine_cpus`), capped by ``num_cpus``."""
        return machine_cpus(self.num_cpus)

    @property
    def decode_workers(self) -> int:
        """Decoding processes of the local engine: ``workers`` when given, else one per CPU
        beside the one that runs the model (at least one)."""
        return self.workers if self.workers is not None else max(1, self.cpus - 1)

    @property
    def model_threads(self) -> Optional[int]:
        """torch threads per model process: ``threads`` when given, else ``num_cpus`` when that
        caps the run, else torch's default (one per core)."""
        return self.threads or self.num_cpus

    def load(self) -> LoadedModel:
        """Load the model this job captures with (eval mode, as ``se_viz.load_model`` gives it)."""
        return load_model(self.model, weights=self.weights, pretrained=self.pretrained)

    def manifest(self, lm: LoadedModel, engine: str) -> dict[str, Any]:
        """The manifest of this job's dataset for the loaded model ``lm``."""
        return build_manifest(
            model_id=lm.name,
            weights=lm.source.manifest(),
            pretrained=lm.pretrained,
            data_config=lm.data_config,
            blocks=forward_blocks(lm),
            labels=lm.labels,
            dtype=self.dtype,
            engine=engine,
            command=self.command,
            inputs=self.inputs,
        )


def forward_blocks(lm: LoadedModel, side: int = 64) -> list[BlockInfo]:
    """``lm``'s SE blocks in the order they run, from one capture of a small blank input.

    ``side`` × ``side`` pixels (at most the model's input size) is enough for the order and
    costs a fraction of a full-size pass (SE-ResNet-50 at 224 px took 3.5 s on a busy 2-core
    machine — 4 % of a 200-image run); a network that refuses it gets its full input size.
    """
    c, h, w = lm.data_config["input_size"]
    try:
        return capture(lm.model, torch.zeros(1, c, min(side, h), min(side, w)), blocks=lm.blocks).blocks
    except RuntimeError:
        return capture(lm.model, torch.zeros(1, c, h, w), blocks=lm.blocks).blocks


def machine_cpus(cap: Optional[int] = None) -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's socket count),
    capped at ``cap``: the default of every engine, so no machine fact lives in code."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        available = os.cpu_count() or 1
    return max(1, min(available, cap) if cap else available)


@contextmanager
def torch_threads(threads: Optional[int]) -> Iterator[None]:
    """Run the body with ``threads`` torch intra-op threads (unchanged when None), then restore."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)
