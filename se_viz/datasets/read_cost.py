"""What a read over a whole gate dataset will cost, said before it starts: its size and seconds.

A first open of a 50,000-image dataset folds every gate column (minutes on a laptop); a search
for the nearest images streams every row of a stage's columns. Before either starts the app says
how many rows, part files and bytes it covers and about how long it will take, the way the
network's studies do (:mod:`se_viz.cost`). The seconds are measured, not guessed: the same work
(a fold, a distance search) is timed on the first part files for about a third of a second —
reading and decoding them from storage included — once per dataset and kind of work, and scaled
by the rows.
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
#: How long a measurement reads: long enough that one busy moment of a shared machine does not
#: decide the estimate, short enough to be paid before the click.
SAMPLE_SECONDS = 0.3
#: Batches read of one part file at most, per timed step.
STEP_BATCHES = 4


def _timed_parts(ds: GateDataset, what: tuple, step: Callable[[str], int]) -> float:
    """Seconds per unit of ``step(part file)`` (which returns the units it did), over the first
    part files until :data:`SAMPLE_SECONDS` have passed, after two untimed warm-up steps (first
    calls, cold buffers); kept per dataset and ``what``."""
    with _guard:
        held = _rates.get(ds, {}).get(what)
    if held is not None:
        return held
    files = list(ds.dataset.files)
    rates = []
    if files and len(ds):
        # Warm-up: the first parts read are slower (an 80-part SE-ResNet-50 replica of
        # se-viz bench-datasets: its first part 5x the later ones, its second 2x).
        for path in (files * 2)[:2]:
            step(path)
        parts = iter(files * (1 + int(len(files) < 4)))  # a dataset of few parts is read again
        for _half in range(2):  # two halves: the faster one, as a busy moment only slows one down
            spent, units = 0.0, 0
            for path in parts:
                t0 = time.perf_counter()
                units += step(path)
                spent += time.perf_counter() - t0
                if spent >= SAMPLE_SECONDS / 2:
                    break
            if units:
                rates.append(spent / units)
    held = min(rates, default=0.0)
    with _guard:
        _rates.setdefault(ds, {})[what] = held
    return held


def _seconds_per_row(
    ds: GateDataset, what: tuple, columns: Sequence[str], work: Callable[[pa.RecordBatch], object]
) -> float:
    """Seconds per row of reading ``columns`` of a part file and doing ``work`` on each batch."""

    def step(path: str) -> int:
        rows = 0
        for i, batch in enumerate(file_batches(path, ds.dataset.filesystem, columns, BATCH_ROWS)):
            work(batch)
            rows += batch.num_rows
            if i + 1 >= STEP_BATCHES:  # a big part file: its first batches say enough
                break
        return rows

    return _timed_parts(ds, what, step)


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


def _lookup_seconds(ds: GateDataset) -> float:
    """Seconds of looking one row up in one part file (opening it, its row-group statistics, the
    row group that may hold the row): the query's own read walks every part this way. Timed with
    each part's first row, so it counts a row-group read per part — an upper bound."""

    def step(path: str) -> int:
        first = next(iter(file_batches(path, ds.dataset.filesystem, ["index"], 1)), None)
        if first is not None and first.num_rows:
            wanted = first.column("index").to_numpy()[:1]
            list(file_batches(path, ds.dataset.filesystem, ["index"], BATCH_ROWS, wanted))
        return 1

    return _timed_parts(ds, ("lookup",), step)


def nearest_seconds(ds: GateDataset, blocks: Sequence[str]) -> float:
    """Seconds :func:`se_viz.datasets.neighbours.dataset_nearest` will take over ``ds`` at ``blocks``:
    the query row's lookup in every part, then the stream of every row's distances."""
    cols = [gate_column(b) for b in blocks]

    def distances(batch: pa.RecordBatch) -> None:
        q = np.concatenate([_matrix(batch.column(c))[:1].astype(np.float64) for c in cols], axis=1)
        nearest_step(ds, batch, blocks, q, -1, TopK(5, largest=False))

    per_row = _seconds_per_row(ds, ("nearest", tuple(blocks)), ["index", *cols], distances)
    return len(ds.dataset.files) * _lookup_seconds(ds) + len(ds) * per_row
