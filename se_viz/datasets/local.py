"""The local engine: a torch DataLoader decodes in worker processes, the main process captures
in batches and writes part files as they fill.

Rows reach disk part by part (atomically, see :mod:`.output`); ``resume`` skips every input
whose index already has a row, so however often a run is killed and resumed, the dataset ends
with exactly one row per input.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, TextIO

import pyarrow as pa
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from ..engine.capture import capture
from ..loading.load import LoadedModel
from .decode import decode_item
from .job import CaptureJob, torch_threads
from .output import done_paths, next_part_number, prepare_output, write_errors_file, write_part
from .schema import manifest_schema, records_table
from .sources import ImageItem

__all__ = ["CaptureReport", "DecodedImages", "image_loader", "run_local"]


@dataclass
class CaptureReport:
    """What a run did: inputs in total, rows written now, skipped as already done, errors overall."""

    total: int
    written: int
    skipped: int
    errors: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        """Rows written by this run per wall-clock second (decoding, inference and writing)."""
        return self.written / self.seconds if self.seconds > 0 else 0.0


class DecodedImages(Dataset):
    """A torch Dataset over (input index, item) pairs that decodes and preprocesses each image."""

    def __init__(self, todo: Sequence[tuple[int, ImageItem]], preprocess: Callable) -> None:
        self.todo = list(todo)
        self.preprocess = preprocess

    def __len__(self) -> int:
        return len(self.todo)

    def __getitem__(self, i: int) -> tuple[dict[str, Any], Optional[torch.Tensor]]:
        index, item = self.todo[i]
        return decode_item(index, item, self.preprocess)


def _collate(samples: list) -> tuple[list[dict[str, Any]], Optional[torch.Tensor]]:
    records = [r for r, _ in samples]
    xs = [x for _, x in samples if x is not None]
    return records, (torch.stack(xs) if xs else None)


def image_loader(
    todo: Sequence[tuple[int, ImageItem]], lm: LoadedModel, batch_size: int, workers: int
) -> DataLoader:
    """The DataLoader both the engine and the throughput baseline use: batches of
    ``(records, x)`` in input order, ``x`` holding only the readable images."""
    return DataLoader(
        DecodedImages(todo, lm.preprocess),
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=_collate,
        shuffle=False,
        persistent_workers=False,
        prefetch_factor=4 if workers else None,
    )


def run_local(
    job: CaptureJob,
    items: Sequence[ImageItem],
    lm: Optional[LoadedModel] = None,
    progress: bool = True,
    out: Optional[TextIO] = None,
) -> CaptureReport:
    """Capture every item into the gate dataset at ``job.out`` on this machine.

    ``lm`` is the loaded model (loaded from ``job`` when None). A progress bar (tqdm, to
    ``out``) shows images/s and the time left. Returns a :class:`CaptureReport`.
    """
    with torch_threads(job.model_threads):
        return _run_local(job, items, lm, progress, out)


def _run_local(
    job: CaptureJob,
    items: Sequence[ImageItem],
    lm: Optional[LoadedModel],
    progress: bool,
    out: Optional[TextIO],
) -> CaptureReport:
    started = time.perf_counter()
    lm = lm or job.load()
    manifest = job.manifest(lm, engine="local")
    prepare_output(job.out, manifest, job.resume)
    schema = manifest_schema(manifest)
    blocks = [b for name in (m["name"] for m in manifest["blocks"]) for b in lm.blocks if b.name == name]
    done = done_paths(job.out) if job.resume else set()
    todo = [(i, item) for i, item in enumerate(items) if item.path not in done]
    part = next_part_number(job.out)
    pending: list[pa.Table] = []
    pending_rows = written = 0
    bar = tqdm(
        total=len(todo),
        unit="img",
        desc="capture",
        disable=not progress,
        file=out or sys.stderr,
        smoothing=0.1,
    )
    try:
        for records, x in image_loader(todo, lm, job.batch_size, job.decode_workers):
            cap = capture(lm.model, x, blocks=blocks) if x is not None else None
            pending.append(records_table(records, cap, schema))
            pending_rows += len(records)
            if pending_rows >= job.rows_per_part:
                write_part(job.out, part, pa.concat_tables(pending))
                part, written, pending, pending_rows = part + 1, written + pending_rows, [], 0
            bar.update(len(records))
        if pending:
            write_part(job.out, part, pa.concat_tables(pending))
            written += pending_rows
    finally:
        bar.close()
    errors = write_errors_file(job.out)
    return CaptureReport(
        total=len(items),
        written=written,
        skipped=len(items) - len(todo),
        errors=errors,
        seconds=time.perf_counter() - started,
    )
