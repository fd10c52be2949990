"""Gate-dataset statistics as folds over record batches: any row count, bounded memory.

The in-memory functions of :mod:`se_viz.analysis` (``class_profiles``, ``class_specificity``,
``saturation_table``, the summary table) need every gate of a block in memory: 2.5 GB for 20k
SE-ResNet-50 images, 12 GB for ImageNet-val. The questions they answer only need sums, so here
they are folds: :class:`GateFold` reads the gate columns batch by batch
(:meth:`~se_viz.datasets.GateDataset.iter_batches`) and keeps, per block,

* the count, mean and sum of squared deviations of all gate values (merged with Chan et al.'s
  pairwise update, so a mean over 10⁹ values keeps its digits),
* the counts below 0.1, above 0.9 and within 0.05 of 0 or 1, the minimum and maximum,
* the sum of the per-image normalised entropies,
* a histogram of the gates on :data:`HISTOGRAM_BINS` fixed bins over [0, 1] (exact counts: no
  sketch, no quantiles),
* per group (class) of images: the image count and the per-channel sum of gates.

Class standard deviations and the within-class spread of class specificity need the class
means first, so labelled statistics take a second pass (:class:`DeviationFold`): per class the
per-channel sum of squared deviations from the class mean and the sum of the images' distances
to it — exactly the in-memory definitions, not a one-pass variance formula.

Memory: one record batch plus, per block, K × C float64 (K groups, C channels): 241 MB for
SE-ResNet-50 with ImageNet's 1000 classes, whatever the row count. Partial folds merge, so the
same folds run per Ray block (:mod:`.ray_aggregate`) and are combined on the driver.

:func:`dataset_aggregates` runs both passes and caches the result next to the dataset (in
``_se_viz_cache/``, which pyarrow's discovery ignores), keyed by the dataset's content (the
manifest, every part file's name, size and modification time) and the grouping, so a second
open is a file read. A dataset folder that cannot be written to uses :func:`cache_folder`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from ..analysis.groups import ClassProfile
from ..analysis.saturation import HIGH, LOW, saturation_row
from ..analysis.specificity import (
    SATURATION_MARGIN,
    BlockSpecificity,
    SpecificityResult,
    between_classes,
    specificity_ratio,
    stage_means,
)
from ..engine.blocks import BlockInfo
from .reader import GateDataset, _matrix
from .schema import gate_column

__all__ = [
    "AGGREGATE_VERSION",
    "BATCH_ROWS",
    "HISTOGRAM_BINS",
    "BlockFold",
    "DatasetAggregates",
    "DeviationFold",
    "GateFold",
    "cache_folder",
    "dataset_aggregates",
    "dataset_key",
    "group_codes",
    "group_sums",
    "histogram_counts",
    "row_entropies",
]

#: Bumped whenever what is cached changes, so old cache files are never read as new ones.
AGGREGATE_VERSION = 1
#: Fixed bins of the gate histograms on [0, 1] (gates are sigmoid outputs).
HISTOGRAM_BINS = 50
#: Rows per record batch: 256 SE-ResNet-50 rows are 15 MB of gates in float32.
BATCH_ROWS = 256
CACHE_DIR = "_se_viz_cache"


def row_entropies(g: np.ndarray) -> np.ndarray:
    """:func:`se_viz.analysis.gate_entropy` of every row of ``g`` (n, C) at once, same rules:
    1 for a single channel, NaN where the gates do not sum to a positive number."""
    g = np.asarray(g, dtype=np.float64)
    n, c = g.shape
    if c == 1:
        return np.ones(n)
    total = g.sum(axis=1)
    ok = np.isfinite(total) & (total > 0)
    p = g / np.where(ok, total, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    h = np.clip(-plogp.sum(axis=1) / np.log(c), 0.0, 1.0)
    return np.where(ok, h, np.nan)


def group_sums(codes: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Per-group sums (groups, C) of ``values`` (n, C) with group ``codes`` (n,): rows sorted by
    group, then one ``np.add.reduceat`` (``np.add.at`` is ~10× slower on wide gate rows)."""
    out = np.zeros((groups, values.shape[1]))
    if len(codes) == 0:
        return out
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    out[sorted_codes[starts]] = np.add.reduceat(values[order], starts, axis=0)
    return out


def histogram_counts(g: np.ndarray) -> np.ndarray:
    """Counts of gate values per bin: bin k of :data:`HISTOGRAM_BINS` holds ``floor(BINS · s) = k``
    (values outside [0, 1] clipped into the end bins, 1.0 into the last)."""
    idx = np.clip((np.asarray(g) * HISTOGRAM_BINS).astype(np.int64), 0, HISTOGRAM_BINS - 1)
    return np.bincount(idx.ravel(), minlength=HISTOGRAM_BINS)


@dataclass
class BlockFold:
    """Running statistics of one block's gates (see the module docstring)."""

    channels: int
    groups: int
    n: int = 0  # gate values seen (images × channels)
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from ``mean``
    minimum: float = math.inf
    maximum: float = -math.inf
    below: int = 0
    above: int = 0
    saturated: int = 0
    entropy_sum: float = 0.0
    hist: np.ndarray = field(default=None)  # type: ignore[assignment]
    group_count: np.ndarray = field(default=None)  # type: ignore[assignment]
    group_sum: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.hist is None:
            self.hist = np.zeros(HISTOGRAM_BINS, dtype=np.int64)
        if self.group_count is None:
            self.group_count = np.zeros(self.groups, dtype=np.int64)
        if self.group_sum is None:
            self.group_sum = np.zeros((self.groups, self.channels))

    def _combine(self, n: int, mean: float, m2: float) -> None:
        if n == 0:
            return
        total = self.n + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.n * n / total
        self.mean += delta * n / total
        self.n = total

    def push(self, g: np.ndarray, codes: Optional[np.ndarray]) -> None:
        """Fold in gates ``g`` (n, C) float64 of n images and their group codes (n,) (or None)."""
        if g.size == 0:
            return
        mean = float(g.mean())
        self._combine(g.size, mean, float(((g - mean) ** 2).sum()))
        self.minimum = min(self.minimum, float(g.min()))
        self.maximum = max(self.maximum, float(g.max()))
        self.below += int(np.count_nonzero(g < LOW))
        self.above += int(np.count_nonzero(g > HIGH))
        self.saturated += int(np.count_nonzero((g <= SATURATION_MARGIN) | (g >= 1 - SATURATION_MARGIN)))
        self.entropy_sum += float(row_entropies(g).sum())
        self.hist += histogram_counts(g)
        if codes is not None and self.groups:
            self.group_count += np.bincount(codes, minlength=self.groups)
            self.group_sum += group_sums(codes, g, self.groups)

    def merge(self, other: "BlockFold") -> "BlockFold":
        """This fold combined with one over other rows."""
        self._combine(other.n, other.mean, other.m2)
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.below += other.below
        self.above += other.above
        self.saturated += other.saturated
        self.entropy_sum += other.entropy_sum
        self.hist += other.hist
        self.group_count += other.group_count
        self.group_sum += other.group_sum
        return self


def _gate_batches(
    batches: Iterable[pa.RecordBatch], blocks: Sequence[str], codes_by_index: Optional[np.ndarray]
):
    for batch in batches:
        codes = None
        if codes_by_index is not None:
            codes = codes_by_index[batch.column("index").to_numpy()]
        for name in blocks:
            yield name, _matrix(batch.column(gate_column(name))).astype(np.float64), codes


class GateFold:
    """Pass 1 over a gate dataset: a :class:`BlockFold` per block (``folds``)."""

    def __init__(self, widths: Mapping[str, int], groups: int = 0) -> None:
        self.folds = {name: BlockFold(int(c), groups) for name, c in widths.items()}

    def push(self, batch: pa.RecordBatch, codes_by_index: Optional[np.ndarray] = None) -> "GateFold":
        """Fold in one record batch holding ``index`` and the gate columns."""
        for name, g, codes in _gate_batches([batch], list(self.folds), codes_by_index):
            self.folds[name].push(g, codes)
        return self

    def merge(self, other: "GateFold") -> "GateFold":
        for name, fold in self.folds.items():
            fold.merge(other.folds[name])
        return self


class DeviationFold:
    """Pass 2 over a labelled gate dataset, given the class means of pass 1: per block and class,
    the per-channel sum of squared deviations from the class mean (→ class std) and the sum of
    the images' RMS distances to it (→ within-class spread)."""

    def __init__(self, means: Mapping[str, np.ndarray]) -> None:
        self.means = {k: np.asarray(v, dtype=np.float64) for k, v in means.items()}
        self.sq_dev = {k: np.zeros_like(v) for k, v in self.means.items()}
        self.dist_sum = {k: np.zeros(v.shape[0]) for k, v in self.means.items()}

    def push(self, batch: pa.RecordBatch, codes_by_index: np.ndarray) -> "DeviationFold":
        for name, g, codes in _gate_batches([batch], list(self.means), codes_by_index):
            dev = (g - self.means[name][codes]) ** 2
            k = self.means[name].shape[0]
            self.sq_dev[name] += group_sums(codes, dev, k)
            self.dist_sum[name] += np.bincount(
                codes, weights=np.sqrt(dev.sum(axis=1)) / math.sqrt(g.shape[1]), minlength=k
            )
        return self

    def merge(self, other: "DeviationFold") -> "DeviationFold":
        for name in self.means:
            self.sq_dev[name] += other.sq_dev[name]
            self.dist_sum[name] += other.dist_sum[name]
        return self


# ---------------------------------------------------------------------------------------------
# The result


@dataclass
class DatasetAggregates:
    """Everything the summary table, Fig. 6/7, class specificity, saturation and the histograms
    need, for one dataset and one grouping of its images.

    ``classes`` are the sorted distinct groups (empty without a grouping), ``images`` the number
    of readable rows. Per block: ``folds[name]`` (pass 1) and, with groups, ``sq_dev[name]`` /
    ``dist_sum[name]`` (pass 2).
    """

    blocks: list[BlockInfo]
    images: int
    classes: np.ndarray
    folds: dict[str, BlockFold]
    sq_dev: dict[str, np.ndarray]
    dist_sum: dict[str, np.ndarray]

    @property
    def grouped(self) -> bool:
        return len(self.classes) > 0

    def class_means(self, name: str) -> np.ndarray:
        """(K, C) class-mean gates of block ``name``."""
        f = self.folds[name]
        return f.group_sum / np.maximum(f.group_count, 1)[:, None]

    def summary(self) -> pd.DataFrame:
        """The table of :func:`se_viz.datasets.summarize_gate_dataset` (its columns, its rules)."""
        from .summary import DATASET_SUMMARY_COLUMNS

        rows = []
        for b in self.blocks:
            f = self.folds[b.name]
            spec = self._specificity(b) if self.grouped else None
            some = f.n > 0
            rows.append(
                {
                    "block": b.name,
                    "paper_name": b.paper_name or "",
                    "stage": b.stage if b.stage is not None else pd.NA,
                    "channels": f.channels,
                    "images": self.images,
                    "mean": f.mean if some else np.nan,
                    "std": math.sqrt(f.m2 / f.n) if some else np.nan,
                    "frac_below_0.1": f.below / f.n if some else np.nan,
                    "frac_above_0.9": f.above / f.n if some else np.nan,
                    "entropy": f.entropy_sum / self.images if some else np.nan,
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
        present = f.group_count > 0
        between = between_classes(self.class_means(b.name)[present])
        within = float(np.mean(self.dist_sum[b.name][present] / f.group_count[present]))
        return BlockSpecificity(
            name=b.name,
            stage=b.stage,
            channels=f.channels,
            between=between,
            within=within,
            ratio=specificity_ratio(between, within),
            mean_gate=f.mean,
            saturated=f.saturated / f.n,
        )

    def specificity(self) -> SpecificityResult:
        """:func:`se_viz.analysis.class_specificity` of every block under this grouping."""
        self._need_groups()
        results = [self._specificity(b) for b in self.blocks]
        counts = self.folds[self.blocks[0].name].group_count if self.blocks else np.zeros(0)
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
            present = f.group_count > 0
            counts = f.group_count[present]
            out[name] = ClassProfile(
                block=name,
                classes=self.classes[present],
                counts=counts,
                mean=self.class_means(name)[present],
                std=np.sqrt(self.sq_dev[name][present] / counts[:, None]),
                overall=f.group_sum.sum(axis=0) / max(int(counts.sum()), 1),
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
                saturation_row(name, depth, f.channels, above=f.above / f.n, below=f.below / f.n, mean=f.mean)
            )
        return pd.DataFrame(rows, columns=list(SATURATION_COLUMNS))

    def histograms(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(edges (BINS + 1,), {block: counts (BINS,)})``: exact counts of gate values per bin."""
        return np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1), {n: f.hist.copy() for n, f in self.folds.items()}

    def _need_groups(self) -> None:
        if not self.grouped:
            raise ValueError("these statistics need groups of images: pass groups to dataset_aggregates")

    # -- the cache file ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        arrays: dict[str, np.ndarray] = {"classes": np.asarray(self.classes, dtype=str)}
        scalars = {}
        for i, (name, f) in enumerate(self.folds.items()):
            scalars[name] = [f.n, f.mean, f.m2, f.minimum, f.maximum, f.below, f.above, f.saturated]
            scalars[name] += [f.entropy_sum]
            arrays[f"hist{i}"] = f.hist
            arrays[f"count{i}"] = f.group_count
            arrays[f"sum{i}"] = f.group_sum
            if name in self.sq_dev:
                arrays[f"sq{i}"] = self.sq_dev[name]
                arrays[f"dist{i}"] = self.dist_sum[name]
        head = {"version": AGGREGATE_VERSION, "images": self.images, "scalars": scalars}
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
        folds, sq, dist = {}, {}, {}
        for i, b in enumerate(blocks):
            n, mean, m2, lo, hi, below, above, sat, ent = head["scalars"][b.name]
            folds[b.name] = BlockFold(
                channels=b.channels,
                groups=z[f"count{i}"].size,
                n=int(n),
                mean=mean,
                m2=m2,
                minimum=lo,
                maximum=hi,
                below=int(below),
                above=int(above),
                saturated=int(sat),
                entropy_sum=ent,
                hist=z[f"hist{i}"],
                group_count=z[f"count{i}"],
                group_sum=z[f"sum{i}"],
            )
            if f"sq{i}" in z:
                sq[b.name], dist[b.name] = z[f"sq{i}"], z[f"dist{i}"]
        classes = z["classes"].astype(object)
        return cls(list(blocks), int(head["images"]), classes, folds, sq, dist)


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


def run_folds(
    batches_pass1: Iterable[pa.RecordBatch],
    batches_pass2: Optional[Iterable[pa.RecordBatch]],
    ds: GateDataset,
    classes: np.ndarray,
    codes_by_index: Optional[np.ndarray],
) -> DatasetAggregates:
    """Both passes over the given batch streams (local: ``iter_batches``)."""
    widths = {b.name: b.channels for b in ds.blocks}
    first = GateFold(widths, len(classes))
    for batch in batches_pass1:
        first.push(batch, codes_by_index)
    return finish(ds, classes, first, codes_by_index, batches_pass2)


def finish(
    ds: GateDataset,
    classes: np.ndarray,
    first: GateFold,
    codes_by_index: Optional[np.ndarray],
    batches_pass2: Optional[Iterable[pa.RecordBatch]] = None,
    second: Optional[DeviationFold] = None,
) -> DatasetAggregates:
    """The :class:`DatasetAggregates` of a finished pass 1 (and pass 2, run here from
    ``batches_pass2`` unless ``second`` is given already folded)."""
    agg = DatasetAggregates(ds.blocks, len(ds), classes, first.folds, {}, {})
    if len(classes) and second is None and batches_pass2 is not None:
        second = DeviationFold({b.name: agg.class_means(b.name) for b in ds.blocks})
        for batch in batches_pass2:
            second.push(batch, codes_by_index)
    if second is not None:
        agg.sq_dev, agg.dist_sum = second.sq_dev, second.dist_sum
    return agg


def gate_columns(ds: GateDataset) -> list[str]:
    """The columns a fold reads: ``index`` and every block's gates."""
    return ["index"] + [gate_column(b.name) for b in ds.blocks]


def dataset_aggregates(
    ds: GateDataset,
    groups: Optional[Sequence] = None,
    *,
    batch_rows: int = BATCH_ROWS,
    cache: bool = True,
) -> DatasetAggregates:
    """The aggregates of ``ds`` under ``groups`` (one per readable row, e.g. ``ds.labels``; None:
    no class statistics), streamed in batches of ``batch_rows`` and cached by content.

    Peak memory is one batch plus the folds, whatever the row count; the numbers equal the
    in-memory functions' to rounding (tested to 1e-6).
    """
    key = dataset_key(ds, groups) if cache else ""
    if cache:
        hit = _read_cache(ds, key)
        if hit is not None:
            return hit
    classes, codes = group_codes(ds, groups)
    columns = gate_columns(ds)
    agg = run_folds(
        ds.iter_batches(columns, batch_rows),
        ds.iter_batches(columns, batch_rows) if len(classes) else None,
        ds,
        classes,
        codes,
    )
    if cache:
        _write_cache(ds, key, agg)
    return agg
