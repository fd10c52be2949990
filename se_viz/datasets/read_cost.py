"""What a read over a whole gate dataset will cost, said before it starts: its size and seconds.

A first open of a 50,000-image dataset folds every gate column (minutes on a laptop); a search
for the nearest images streams every row of a stage's columns. Before either starts the app says
how many rows, part files and bytes it covers and about how long it will take, the way the
network's studies do (:mod:`se_viz.cost`). The seconds are measured, not guessed: the same work
(a fold, a distance search) is timed on the first batch of the first part file — reading and
decoding it from storage included; the fastest of three timings, as other work shares the cores —
once per dataset and kind of work, and scaled by the rows.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa

from ..analysis.topk import TopK
from .aggregate import BATCH_ROWS, GateFold, gate_columns
from .neighbours import nearest_step
from .reader import GateDataset, _matrix, file_batches
from .schema import gate_column

__all__ = ["ReadSize", "fold_seconds", "nearest_seconds", "read_size"]


@dataclass(frozen=True)
class ReadSize:
    """How much a read over every row covers: readable rows, part files and their bytes on storage."""

    rows: int
    parts: int
    bytes: int


def read_size(ds: GateDataset) -> ReadSize:
    """The size of ``ds`` (file sizes from the file system: nothing is read)."""
    files = list(ds.dataset.files)
    infos = ds.dataset.filesystem.get_file_info(files) if files else []
    return ReadSize(len(ds), len(files), int(sum(max(i.size or 0, 0) for i in infos)))


_rates: "weakref.WeakKeyDictionary[GateDataset, dict[tuple, float]]" = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def _seconds_per_row(
    ds: GateDataset, what: tuple, columns: Sequence[str], work: Callable[[pa.RecordBatch], object]
) -> float:
    """Seconds per row of reading ``columns`` and doing ``work`` on them, timed on the first batch
    of the first part file (kept per dataset and ``what``)."""
    with _guard:
        held = _rates.get(ds, {}).get(what)
    if held is not None:
        return held
    files = list(ds.dataset.files)
    rate = 0.0
    times = []
    for _ in range(3 if files and len(ds) else 0):  # the fastest of three: the first pays for first calls
        t0 = time.perf_counter()
        batch = next(iter(file_batches(files[0], ds.dataset.filesystem, columns, BATCH_ROWS)), None)
        if batch is None or not batch.num_rows:
            break
        work(batch)
        times.append((time.perf_counter() - t0) / batch.num_rows)
    rate = min(times, default=0.0)
    with _guard:
        _rates.setdefault(ds, {})[what] = rate
    return rate


def fold_seconds(ds: GateDataset, groups: int = 0, threads: int = 1) -> float:
    """Seconds :func:`se_viz.datasets.aggregate.fold_dataset` will take over ``ds`` with ``groups``
    groups on ``threads`` threads (each takes a part file: no faster than its part count allows)."""
    widths = {b.name: b.channels for b in ds.blocks}
    k = max(1, int(groups))
    codes = np.zeros(int(ds.row_index.max()) + 1 if len(ds) else 0, dtype=np.int64)

    def fold(batch: pa.RecordBatch) -> None:
        GateFold(widths, k).push(batch, codes if groups else None)

    per_row = _seconds_per_row(ds, ("fold", k > 1), gate_columns(ds), fold)
    return len(ds) * per_row / max(1, min(int(threads), len(ds.dataset.files)))


def nearest_seconds(ds: GateDataset, blocks: Sequence[str]) -> float:
    """Seconds :func:`se_viz.datasets.neighbours.dataset_nearest` will take over ``ds`` at ``blocks``."""
    cols = [gate_column(b) for b in blocks]

    def distances(batch: pa.RecordBatch) -> None:
        q = np.concatenate([_matrix(batch.column(c))[:1].astype(np.float64) for c in cols], axis=1)
        nearest_step(ds, batch, blocks, q, -1, TopK(5, largest=False))

    return len(ds) * _seconds_per_row(ds, ("nearest", tuple(blocks)), ["index", *cols], distances)
