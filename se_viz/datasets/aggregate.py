"""Gate-dataset statistics as folds over record batches: one read, any row count, bounded memory.

The in-memory functions of :mod:`se_viz.analysis` (``class_profiles``, ``class_specificity``,
``saturation_table``, the summary table) need every gate of a block in memory: the gates alone of
the 50,000 ImageNet-val images are 3.0 GB for SE-ResNet-50 (15,104 channels × 4 bytes each; the
two-pass reader grew by 2.5 GB at 20k rows, docs/datasets.md). The questions they answer only need
sums, so here
they are folds: :class:`GateFold` reads the gate columns batch by batch and keeps, per block,

* per group (class) of images — one group when there is no grouping — the image count and, per
  channel, the mean and the sum of squared deviations from it (Chan et al.'s pairwise update,
  so a mean over 10⁹ values keeps its digits). The class means and standard deviations of
  Fig. 6/7, the within-class spread of class specificity and the block's overall mean and std all
  follow from these, so **one read** of the data gives every statistic;
* a histogram of the gates on :data:`FINE_BINS` fixed bins of width 0.01 over [0, 1]: the 50-bin
  histogram of the views and the fractions below 0.1, above 0.9 and within 0.05 of 0 or 1 are
  sums of its bins (exact counts: ``floor(100·s)`` of a float32 or float16 gate is exact in
  float64);
* the sum of the per-image normalised entropies.

Every part is a sum or a Chan merge, so partial folds merge in any order: batches are folded on
threads (:func:`fold_dataset`, one fold per thread, merged at the end) or on Ray workers
(:mod:`.ray_aggregate`) with the same arithmetic.

Memory: one record batch per thread plus, per block, 2 × K × C float64 per thread (K groups,
C channels): 241 MB per thread for SE-ResNet-50 with ImageNet's 1000 classes, whatever the row
count.

:func:`dataset_aggregates` folds and caches the result next to the dataset (in
``_se_viz_cache/``, which pyarrow's discovery ignores), keyed by the dataset's content (the
manifest, every part file's name, size and modification time) and the grouping, so a second
open is a file read. A dataset folder that cannot be written to uses :func:`cache_folder`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
import queue
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ..analysis.groups import ClassProfile
from ..analysis.saturation import saturation_row
from ..analysis.specificity import (
    BlockSpecificity,
    SpecificityResult,
    between_classes,
    specificity_ratio,
    stage_means,
)
from ..engine.blocks import BlockInfo
from .job import machine_cpus
from .reader import GateDataset, _matrix, file_batches
from .schema import gate_column

__all__ = [
    "AGGREGATE_VERSION",
    "BATCH_ROWS",
    "FINE_BINS",
    "HISTOGRAM_BINS",
    "BlockFold",
    "DatasetAggregates",
    "GateFold",
    "cache_folder",
    "cached_aggregates",
    "dataset_aggregates",
    "dataset_key",
    "fold_dataset",
    "group_codes",
    "row_entropies",
]

#: Bumped whenever what is cached changes, so old cache files are never read as new ones.
AGGREGATE_VERSION = 2
#: Fixed bins of the gate histograms the views draw, on [0, 1] (gates are sigmoid outputs).
HISTOGRAM_BINS = 50
#: The bins a fold counts: width 0.01 on [0, 1) and one for 1.0 and above. 0.05, 0.1, 0.9 and
#: 0.95 are edges, so the saturation fractions and the 50-bin histogram are sums of bins.
FINE_BINS = 101
#: Rows per record batch: 256 SE-ResNet-50 rows are 15 MB of gates in float32.
BATCH_ROWS = 256
CACHE_DIR = "_se_viz_cache"


def row_entropies(g: np.ndarray) -> np.ndarray:
    """:func:`se_viz.analysis.gate_entropy` of every row of ``g`` (n, C) at once, same rules:
    1 for a single channel, NaN where the gates do not sum to a positive number.

    With p = g / T: -Σ p log p = log T - Σ g log g / T over the positive gates, so a row costs
    one log per gate, taken in the gates' own precision (float32: 2.5× faster than float64,
    measured) and summed in float64."""
    g = np.asarray(g)
    if g.dtype not in (np.float32, np.float64):
        g = g.astype(np.float64)
    n, c = g.shape
    if c == 1:
        return np.ones(n)
    total = g.sum(axis=1, dtype=np.float64)
    q = np.maximum(g, np.finfo(g.dtype).tiny)  # x log x of gates <= 0 counts as 0
    positive = q.sum(axis=1, dtype=np.float64) if g.min(initial=0.0) < 0 else total
    q *= np.log(q)
    xlogx = q.sum(axis=1, dtype=np.float64)
    ok = np.isfinite(total) & (total > 0)
    safe = np.where(ok, total, 1.0)
    h = np.clip((positive * np.log(safe) - xlogx) / safe / math.log(c), 0.0, 1.0)
    return np.where(ok, h, np.nan)


def fine_counts(g: np.ndarray) -> np.ndarray:
    """Counts of gate values per :data:`FINE_BINS` bin: bin k < 100 holds ``floor(100·s) = k``,
    bin 100 holds s >= 1; values below 0 count in bin 0. The product is taken in float64, where
    it is exact for float32 and float16 gates."""
    x = np.multiply(g, 100.0, dtype=np.float64)
    if x.size and (x.min() < 0 or x.max() > 100):
        np.clip(x, 0, 100, out=x)
    return np.bincount(x.astype(np.intp).ravel(), minlength=FINE_BINS)


#: More runs of one group than this in a batch (images in no particular order): sort it first.
_MAX_RUNS = 16


def _batch_moments(g: np.ndarray, codes: Optional[np.ndarray]) -> tuple[np.ndarray, ...]:
    """``(groups, sizes, means, m2)`` of one batch: the groups present, their image counts and
    per-channel means and sums of squared deviations (float64).

    Rows of one group usually come in runs (ImageFolder order: class by class), so each run is
    summed as a slice (two reductions; ``np.add.reduceat`` is 4× slower, ``torch.index_add_`` far
    slower with OpenMP threads beside other work, measured); a batch in no order is sorted by
    group first. Within one batch of at most a few hundred rows, ``Σg² − (Σg)²/n`` in float64
    loses nothing that matters; batches merge with Chan's update."""
    g = g.astype(np.float64)
    n = g.shape[0]
    if codes is None:
        codes = np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    if len(starts) > _MAX_RUNS:
        order = np.argsort(codes, kind="stable")
        g, codes = g[order], codes[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    bounds = np.r_[starts, n]
    runs = [g[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    sums = np.stack([r.sum(axis=0) for r in runs])
    squares = np.stack([np.einsum("ij,ij->j", r, r) for r in runs])
    sizes = np.diff(bounds)
    at, inverse = np.unique(codes[starts], return_inverse=True)
    if len(at) < len(starts):  # a group in several runs: add its runs up
        sums = _add_rows(sums, inverse, len(at))
        squares = _add_rows(squares, inverse, len(at))
        sizes = np.bincount(inverse, weights=sizes, minlength=len(at)).astype(np.int64)
    means = sums / sizes[:, None]
    return at, sizes, means, np.maximum(squares - sums * means, 0.0)


def _add_rows(values: np.ndarray, inverse: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, values.shape[1]))
    np.add.at(out, inverse, values)
    return out


def _chan(count, mean, m2, n_b, mean_b, m2_b):
    """Chan et al.'s merge of (count, mean, m2) with a part (n_b, mean_b, m2_b), row-wise over
    groups (counts (k,), means and m2 (k, C)); returns the merged triple."""
    total = count + n_b
    w = np.divide(n_b, total, out=np.zeros(total.shape), where=total > 0)[:, None]
    delta = mean_b - mean
    return total, mean + delta * w, m2 + m2_b + delta * delta * (count[:, None] * w)


@dataclass
class BlockFold:
    """Running statistics of one block's gates (see the module docstring). ``groups`` is at least
    1: without a grouping every image is in group 0."""

    channels: int
    groups: int = 1
    entropy_sum: float = 0.0
    fine: np.ndarray = field(default=None)  # type: ignore[assignment]  # (FINE_BINS,) counts
    count: np.ndarray = field(default=None)  # type: ignore[assignment]  # (K,) images per group
    mean: np.ndarray = field(default=None)  # type: ignore[assignment]  # (K, C) per-channel mean
    m2: np.ndarray = field(default=None)  # type: ignore[assignment]  # (K, C) squared deviations

    def __post_init__(self) -> None:
        self.groups = max(1, int(self.groups))
        if self.fine is None:
            self.fine = np.zeros(FINE_BINS, dtype=np.int64)
        if self.count is None:
            self.count = np.zeros(self.groups, dtype=np.int64)
        if self.mean is None:
            self.mean = np.zeros((self.groups, self.channels))
        if self.m2 is None:
            self.m2 = np.zeros((self.groups, self.channels))

    def push(self, g: np.ndarray, codes: Optional[np.ndarray] = None) -> None:
        """Fold in gates ``g`` (n, C) of n images and their group codes (n,) (None: group 0)."""
        if g.size == 0:
            return
        self.fine += fine_counts(g)
        self.entropy_sum += float(row_entropies(g).sum())
        at, sizes, means, m2 = _batch_moments(g, codes)
        self.count[at], self.mean[at], self.m2[at] = _chan(
            self.count[at], self.mean[at], self.m2[at], sizes, means, m2
        )

    def merge(self, other: "BlockFold") -> "BlockFold":
        """This fold combined with one over other rows (any order gives the same numbers)."""
        self.count, self.mean, self.m2 = _chan(
            self.count, self.mean, self.m2, other.count, other.mean, other.m2
        )
        self.fine += other.fine
        self.entropy_sum += other.entropy_sum
        return self

    # -- what the views read -------------------------------------------------------------------

    @property
    def images(self) -> int:
        return int(self.count.sum())

    @property
    def n(self) -> int:
        """Gate values seen (images × channels)."""
        return self.images * self.channels

    def moments(self) -> tuple[float, float]:
        """``(mean, population std)`` over every gate value, merged from the groups."""
        if self.n == 0:
            return math.nan, math.nan
        mean = float((self.count[:, None] * self.mean).sum() / self.n)
        m2 = float(self.m2.sum() + (self.count[:, None] * (self.mean - mean) ** 2).sum())
        return mean, math.sqrt(m2 / self.n)

    def fraction(self, lo: int, hi: int) -> float:
        """Fraction of gate values in fine bins ``lo`` … ``hi - 1`` (NaN with none seen)."""
        return float(self.fine[lo:hi].sum() / self.n) if self.n else math.nan

    @property
    def below(self) -> float:
        """Fraction of gates < 0.1."""
        return self.fraction(0, 10)

    @property
    def above(self) -> float:
        """Fraction of gates > 0.9 (no float gate equals 0.9 exactly)."""
        return self.fraction(90, FINE_BINS)

    @property
    def saturated(self) -> float:
        """Fraction of gates within 0.05 of 0 or 1 (``SATURATION_MARGIN``)."""
        return self.fraction(0, 5) + self.fraction(95, FINE_BINS)

    def histogram(self) -> np.ndarray:
        """Counts on :data:`HISTOGRAM_BINS` bins: bin k holds ``floor(50·s) = k`` (1.0 and above
        in the last)."""
        hist = self.fine[:100].reshape(HISTOGRAM_BINS, -1).sum(axis=1)
        hist[-1] += self.fine[100]
        return hist


class GateFold:
    """A :class:`BlockFold` per block (``folds``), fed record batches of ``index`` and gates."""

    def __init__(self, widths: Mapping[str, int], groups: int = 0) -> None:
        self.folds = {name: BlockFold(int(c), groups) for name, c in widths.items()}

    def push(self, batch: pa.RecordBatch, codes_by_index: Optional[np.ndarray] = None) -> "GateFold":
        """Fold in one record batch holding ``index`` and the gate columns."""
        codes = None
        if codes_by_index is not None:
            codes = codes_by_index[batch.column("index").to_numpy()]
        for name, fold in self.folds.items():
            fold.push(_matrix(batch.column(gate_column(name))), codes)
        return self

    def merge(self, other: "GateFold") -> "GateFold":
        for name, fold in self.folds.items():
            fold.merge(other.folds[name])
        return self


# ---------------------------------------------------------------------------------------------
# The result


@dataclass
class DatasetAggregates:
    """Everything the summary table, Fig. 6/7, class specificity, saturation and the histograms
    need, for one dataset and one grouping of its images.

    ``classes`` are the sorted distinct groups (empty without a grouping, then every fold has one
    group), ``images`` the number of readable rows, ``folds[name]`` the fold of each block.
    """

    blocks: list[BlockInfo]
    images: int
    classes: np.ndarray
    folds: dict[str, BlockFold]

    @property
    def grouped(self) -> bool:
        return len(self.classes) > 0

    def summary(self) -> pd.DataFrame:
        """The table of :func:`se_viz.datasets.summarize_gate_dataset` (its columns, its rules)."""
        from .summary import DATASET_SUMMARY_COLUMNS

        rows = []
        for b in self.blocks:
            f = self.folds[b.name]
            spec = self._specificity(b) if self.grouped else None
            mean, std = f.moments()
            rows.append(
                {
                    "block": b.name,
                    "paper_name": b.paper_name or "",
                    "stage": b.stage if b.stage is not None else pd.NA,
                    "channels": f.channels,
                    "images": self.images,
                    "mean": mean,
                    "std": std,
                    "frac_below_0.1": f.below,
                    "frac_above_0.9": f.above,
                    "entropy": f.entropy_sum / self.images if f.n else np.nan,
                    "between": spec.between if spec else np.nan,
                    "within": spec.within if spec else np.nan,
                    "specificity": spec.ratio if spec else np.nan,
                }
            )
        df = pd.DataFrame(rows, columns=list(DATASET_SUMMARY_COLUMNS))
        df["stage"] = df["stage"].astype("Int64")
        return df

    def _specificity(self, b: BlockInfo) -> BlockSpecificity:
        f = self.folds[b.name]
        present = f.count > 0
        between = between_classes(f.mean[present])
        # The RMS distance of a class's images to their mean is the root of its mean variance.
        within = float(np.mean(np.sqrt(f.m2[present].mean(axis=1) / f.count[present])))
        return BlockSpecificity(
            name=b.name,
            stage=b.stage,
            channels=f.channels,
            between=between,
            within=within,
            ratio=specificity_ratio(between, within),
            mean_gate=f.moments()[0],
            saturated=f.saturated,
        )

    def specificity(self) -> SpecificityResult:
        """:func:`se_viz.analysis.class_specificity` of every block under this grouping."""
        self._need_groups()
        results = [self._specificity(b) for b in self.blocks]
        counts = self.folds[self.blocks[0].name].count if self.blocks else np.zeros(0)
        present = counts > 0
        return SpecificityResult(
            classes=self.classes[present].tolist(),
            counts=[int(c) for c in counts[present]],
            blocks=results,
            stages=stage_means(results),
        )

    def class_profiles(self, blocks: Optional[Sequence[str]] = None) -> dict[str, ClassProfile]:
        """:func:`se_viz.analysis.class_profiles` of ``blocks`` (default all) under this grouping."""
        self._need_groups()
        out = {}
        for name in list(blocks) if blocks is not None else [b.name for b in self.blocks]:
            f = self.folds[name]
            present = f.count > 0
            counts = f.count[present]
            out[name] = ClassProfile(
                block=name,
                classes=self.classes[present],
                counts=counts,
                mean=f.mean[present],
                std=np.sqrt(f.m2[present] / counts[:, None]),
                overall=(counts[:, None] * f.mean[present]).sum(axis=0) / max(int(counts.sum()), 1),
            )
        return out

    def saturation_table(self, blocks: Optional[Sequence[str]] = None) -> pd.DataFrame:
        """:func:`se_viz.analysis.saturation_table` of ``blocks`` (default all, forward order)."""
        from ..analysis.saturation import SATURATION_COLUMNS

        names = list(blocks) if blocks is not None else [b.name for b in self.blocks]
        rows = []
        for depth, name in enumerate(names):
            f = self.folds[name]
            rows.append(
                saturation_row(name, depth, f.channels, above=f.above, below=f.below, mean=f.moments()[0])
            )
        return pd.DataFrame(rows, columns=list(SATURATION_COLUMNS))

    def histograms(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(edges (BINS + 1,), {block: counts (BINS,)})``: exact counts of gate values per bin."""
        return np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1), {n: f.histogram() for n, f in self.folds.items()}

    def _need_groups(self) -> None:
        if not self.grouped:
            raise ValueError("these statistics need groups of images: pass groups to dataset_aggregates")

    # -- the cache file ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {"classes": np.asarray(self.classes, dtype=str)}
        entropy = {}
        for i, (name, f) in enumerate(self.folds.items()):
            entropy[name] = f.entropy_sum
            arrays[f"fine{i}"], arrays[f"count{i}"] = f.fine, f.count
            arrays[f"mean{i}"], arrays[f"m2{i}"] = f.mean, f.m2
        head = {"version": AGGREGATE_VERSION, "images": self.images, "entropy": entropy}
        arrays["head"] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, blocks: Sequence[BlockInfo]) -> "DatasetAggregates":
        z = np.load(io.BytesIO(data), allow_pickle=False)
        head = json.loads(z["head"].tobytes())
        if head["version"] != AGGREGATE_VERSION:
            raise ValueError("cache of another version")
        folds = {
            b.name: BlockFold(
                channels=b.channels,
                groups=z[f"count{i}"].size,
                entropy_sum=head["entropy"][b.name],
                fine=z[f"fine{i}"],
                count=z[f"count{i}"],
                mean=z[f"mean{i}"],
                m2=z[f"m2{i}"],
            )
            for i, b in enumerate(blocks)
        }
        return cls(list(blocks), int(head["images"]), z["classes"].astype(object), folds)


# ---------------------------------------------------------------------------------------------
# Running the folds


def group_codes(ds: GateDataset, groups: Optional[Sequence]) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """``(classes, codes_by_index)`` of ``groups`` (one per readable row, in row order): the
    sorted distinct groups and an array that maps a row's input ``index`` to its group's code
    (what a fold needs, since batches arrive in file order). ``(empty, None)`` without groups."""
    if groups is None:
        return np.zeros(0, dtype=object), None
    y = np.asarray([str(g) for g in groups], dtype=object)
    if y.shape[0] != len(ds):
        raise ValueError(f"got {y.shape[0]} groups for {len(ds)} images")
    classes, codes = np.unique(y, return_inverse=True)
    index = ds.row_index
    by_index = np.full(int(index.max()) + 1 if index.size else 0, -1, dtype=np.int64)
    by_index[index] = codes
    return classes, by_index


def dataset_key(ds: GateDataset, groups: Optional[Sequence] = None) -> str:
    """A SHA-256 of what the aggregates depend on: the manifest, every part file's name, size and
    modification time, the grouping and :data:`AGGREGATE_VERSION` (a rewritten or resumed
    dataset, or another grouping, gets a new key)."""
    h = hashlib.sha256(f"v{AGGREGATE_VERSION}".encode())
    h.update(json.dumps(ds.manifest, sort_keys=True, default=str).encode())
    fs = ds.dataset.filesystem
    for info in sorted(fs.get_file_info(list(ds.dataset.files)), key=lambda i: i.path):
        h.update(f"{Path(info.path).name}|{info.size}|{info.mtime_ns}\n".encode())
    if groups is not None:
        for g in groups:
            h.update(f"{g}\x00".encode())
    return h.hexdigest()


def cache_folder() -> Path:
    """Where aggregates go when the dataset's own folder cannot be written: ``SE_VIZ_CACHE``, else
    ``~/.cache/se_viz/aggregates``."""
    root = os.environ.get("SE_VIZ_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "se_viz")
    return Path(root) / "aggregates"


def _cache_candidates(ds: GateDataset) -> list[Path]:
    local = [] if "://" in ds.uri else [Path(ds.uri).expanduser().resolve() / CACHE_DIR]
    return local + [cache_folder()]


def _read_cache(ds: GateDataset, key: str) -> Optional[DatasetAggregates]:
    for folder in _cache_candidates(ds):
        path = folder / f"{key}.npz"
        if path.is_file():
            try:
                return DatasetAggregates.from_bytes(path.read_bytes(), ds.blocks)
            except (OSError, ValueError, KeyError):
                continue
    return None


def _write_cache(ds: GateDataset, key: str, agg: DatasetAggregates) -> Optional[Path]:
    data = agg.to_bytes()
    for folder in _cache_candidates(ds):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, folder / f"{key}.npz")  # atomic: a reader never sees half a file
            return folder / f"{key}.npz"
        except OSError:
            continue
    return None


def gate_columns(ds: GateDataset) -> list[str]:
    """The columns a fold reads: ``index`` and every block's gates."""
    return ["index"] + [gate_column(b.name) for b in ds.blocks]


def fold_dataset(
    ds: GateDataset,
    groups: Optional[Sequence] = None,
    *,
    batch_rows: int = BATCH_ROWS,
    threads: Optional[int] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    processes: bool = False,
) -> DatasetAggregates:
    """The aggregates of ``ds`` under ``groups`` in one read of its gate columns, uncached.

    ``threads`` (default: this process's CPUs) workers each take part files, read them row group
    by row group and fold their batches into their own :class:`GateFold`; the folds merge at the
    end. At most ``threads`` record batches of ``batch_rows`` rows are in memory at once.
    ``progress`` (rows folded, rows in all) is called in the calling thread, a few times a second;
    when it raises (a cancelled run: :class:`se_viz.runs.RunControl`), every worker stops after
    its current batch and the exception goes on.

    The workers are threads, or with ``processes`` (where the platform forks) forked processes:
    the fold is many short numpy calls under the interpreter lock, so a second thread adds little
    (50k SE-ResNet-50 rows: 12.5 s on two threads, 13.6 s on one) while two processes fold twice
    as fast as one (measured on one batch folded over and over: 233 against 117 batches/s). A fork
    copies nothing up front and imports nothing; use it from a program's main thread (the
    ``summarize`` command does), not from a server with threads of its own.
    """
    classes, codes = group_codes(ds, groups)
    widths = {b.name: b.channels for b in ds.blocks}
    columns = gate_columns(ds)
    files = list(ds.dataset.files)
    workers = max(1, min(threads or machine_cpus(), len(files) or 1))

    def fold_files(next_file: Callable[[], Optional[str]], stopped: Callable[[], bool], count) -> GateFold:
        fold = GateFold(widths, len(classes))
        while not stopped() and (path := next_file()) is not None:
            for batch in file_batches(path, ds.dataset.filesystem, columns, batch_rows):
                if stopped():
                    break
                fold.push(batch, codes)
                count(batch.num_rows)
        return fold

    fork = processes and workers > 1 and "fork" in multiprocessing.get_all_start_methods()
    run = _fold_in_processes if fork else _fold_in_threads
    total = run(fold_files, files, workers, lambda done: progress(done, len(ds)) if progress else None)
    return DatasetAggregates(ds.blocks, len(ds), classes, (total or GateFold(widths, len(classes))).folds)


def _fold_in_threads(fold_files, files: list[str], workers: int, report) -> Optional[GateFold]:
    """Run ``fold_files`` on ``workers`` threads taking the next file from one shared list."""
    pending = iter(files)
    lock = threading.Lock()
    done = [0]
    stop = threading.Event()

    def next_file() -> Optional[str]:
        with lock:
            return next(pending, None)

    def count(rows: int) -> None:
        with lock:
            done[0] += rows

    total = None
    with ThreadPoolExecutor(workers, thread_name_prefix="se_viz_fold") as pool:
        futures = {pool.submit(fold_files, next_file, stop.is_set, count) for _ in range(workers)}
        try:
            while futures:
                finished, futures = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in finished:
                    total = future.result() if total is None else total.merge(future.result())
                report(done[0])
        except BaseException:
            stop.set()  # the pool's exit waits for the threads: each ends after its batch
            raise
    return total


def _fold_in_processes(fold_files, files: list[str], workers: int, report) -> Optional[GateFold]:
    """Run ``fold_files`` in ``workers`` forked processes, each on every ``workers``-th file; their
    folds come back through a queue (pickled: a few MB for SE-ResNet-50) and merge here."""
    ctx = multiprocessing.get_context("fork")
    done, stop, results = ctx.Value("q", 0), ctx.Event(), ctx.Queue()

    def count(rows: int) -> None:
        with done.get_lock():
            done.value += rows

    def child(share: list[str]) -> None:
        pending = iter(share)
        try:
            results.put(("fold", fold_files(lambda: next(pending, None), stop.is_set, count)))
        except BaseException as exc:  # the parent raises it
            results.put(("error", f"{type(exc).__name__}: {exc}"))

    procs = [ctx.Process(target=child, args=(files[i::workers],), daemon=True) for i in range(workers)]
    for proc in procs:
        proc.start()
    total, received = None, 0
    try:
        while received < workers:
            try:
                kind, value = results.get(timeout=0.25)
            except queue.Empty:
                if not any(p.is_alive() for p in procs) and results.empty():
                    raise RuntimeError("a fold process ended without its result") from None
            else:
                received += 1
                if kind == "error":
                    raise RuntimeError(f"a fold process failed: {value}")
                total = value if total is None else total.merge(value)
            report(done.value)
    except BaseException:
        stop.set()  # each child stops after its batch
        raise
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join()
    return total


def cached_aggregates(ds: GateDataset, groups: Optional[Sequence] = None) -> Optional[DatasetAggregates]:
    """The aggregates of ``ds`` under ``groups`` if an earlier fold cached them, else None (reads
    no gate column: an app says what a fold would cost before it starts one)."""
    return _read_cache(ds, dataset_key(ds, groups))


def dataset_aggregates(
    ds: GateDataset,
    groups: Optional[Sequence] = None,
    *,
    batch_rows: int = BATCH_ROWS,
    cache: bool = True,
    threads: Optional[int] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    processes: bool = False,
) -> DatasetAggregates:
    """The aggregates of ``ds`` under ``groups`` (one per readable row, e.g. ``ds.labels``; None:
    no class statistics): read from the cache, else :func:`fold_dataset` (one read of the gate
    columns on ``threads`` threads, or forked ``processes``, ``progress`` called with the rows
    folded) and cached.

    Peak memory is a batch and a fold per thread, whatever the row count; the numbers equal the
    in-memory functions' to rounding (tested to 1e-6).
    """
    key = dataset_key(ds, groups) if cache else ""
    if cache:
        hit = _read_cache(ds, key)
        if hit is not None:
            return hit
    agg = fold_dataset(
        ds, groups, batch_rows=batch_rows, threads=threads, progress=progress, processes=processes
    )
    if cache:
        _write_cache(ds, key, agg)
    return agg
