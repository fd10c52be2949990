"""Reading a gate dataset back: column by column, from a local folder or any pyarrow file system.

Opening reads only the small per-image columns (path, label, error, top-5); ``gates(block)`` and
``squeeze(block)`` each read one column, so looking at one block of an ImageNet-size dataset
never loads the other blocks. Rows are the images that were read, in input order (by ``index``);
the unreadable ones are listed in :attr:`GateDataset.errors`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from functools import cached_property
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..engine.blocks import BlockInfo
from ..engine.capture import Capture
from .schema import MANIFEST_FILE, MANIFEST_KEY, gate_column, squeeze_column

__all__ = ["GateDataset", "file_batches", "open_gate_dataset"]

_META = ["index", "path", "label", "sha256", "width", "height", "error"]


def _filesystem(path_or_uri: Union[str, os.PathLike]) -> tuple[pafs.FileSystem, str]:
    text = os.fspath(path_or_uri)
    if "://" in text:
        return pafs.FileSystem.from_uri(text)
    return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(text))


def _matrix(column: Union[pa.ChunkedArray, pa.Array]) -> np.ndarray:
    """A fixed-size-list column without nulls (a table's or a record batch's) as a float32
    array (N, C)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    width = arr.type.list_size
    return arr.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(-1, width)


def _row_groups(pf: pq.ParquetFile, wanted: Optional[np.ndarray]) -> list[int]:
    """The row groups of ``pf`` whose ``index`` statistics (min, max) can hold a wanted index."""
    groups = list(range(pf.num_row_groups))
    if wanted is None:
        return groups
    at = pf.schema_arrow.get_field_index("index")
    keep = []
    for g in groups:
        stats = pf.metadata.row_group(g).column(at).statistics
        if stats is None or not stats.has_min_max:
            keep.append(g)
            continue
        lo = np.searchsorted(wanted, stats.min, side="left")
        if lo < wanted.size and wanted[lo] <= stats.max:
            keep.append(g)
    return keep


def file_batches(
    path: str,
    filesystem: pafs.FileSystem,
    columns: Sequence[str],
    batch_rows: int = 4096,
    wanted: Optional[np.ndarray] = None,
) -> Iterator[pa.RecordBatch]:
    """The readable rows (``error`` null) of one part file as record batches of ``columns``;
    with ``wanted`` (sorted input indices) only those rows, from the row groups that can hold
    them. One file, one row group at a time and no pre-buffering: pyarrow's dataset scanner
    reads several files ahead with coalesced buffers, which held 160 MB per 20k SE-ResNet-50
    rows even for the small columns (measured), growing with the file count."""
    need = list(dict.fromkeys([*columns, "error", *(["index"] if wanted is not None else [])]))
    with filesystem.open_input_file(path) as fh:
        pf = pq.ParquetFile(fh, pre_buffer=False)
        groups = _row_groups(pf, wanted)
        if not groups:
            return
        for batch in pf.iter_batches(batch_size=batch_rows, row_groups=groups, columns=need):
            errors = batch.column("error")
            if wanted is not None:
                mask = pc.is_in(batch.column("index"), value_set=pa.array(wanted))
                batch = batch.filter(pc.and_(pc.is_null(errors), mask))
            elif errors.null_count < batch.num_rows:  # filtering copies: only where an error is
                batch = batch.filter(pc.is_null(errors))
            batch = batch.select(list(columns))
            if batch.num_rows:
                yield batch


class GateDataset:
    """An opened gate dataset (see :mod:`se_viz.datasets.schema` for the layout).

    ``paths``, ``labels``, ``top5_classes``/``top5_probs`` describe the N readable images in
    input order; ``gates(block)`` / ``squeeze(block)`` give (N, C) float32 arrays (float16
    datasets are widened); ``to_capture(rows)`` gives the :class:`~se_viz.Capture` the app uses.
    """

    def __init__(self, dataset: pads.Dataset, manifest: dict[str, Any], uri: str) -> None:
        self.dataset = dataset
        self.manifest = manifest
        self.uri = uri
        fs = dataset.filesystem
        parts = []
        for path in dataset.files:  # file by file: see file_batches
            with fs.open_input_file(path) as fh:
                table = pq.ParquetFile(fh, pre_buffer=False).read(columns=_META + ["top5_class", "top5_prob"])
            parts.append(table.replace_schema_metadata(None))
        schema = pa.schema([dataset.schema.field(c) for c in _META + ["top5_class", "top5_prob"]])
        meta = pa.concat_tables(parts) if parts else schema.empty_table()
        meta = meta.sort_by("index")
        ok = pc.is_null(meta.column("error"))
        self._meta = meta.filter(ok)
        self._errors = meta.filter(pc.invert(ok)).select(["index", "path", "error"])

    def __len__(self) -> int:
        return self._meta.num_rows

    def __repr__(self) -> str:
        return (
            f"GateDataset({self.uri!r}: {len(self)} images, {len(self.blocks)} SE blocks of "
            f"{self.manifest['model']['id']}, {self.manifest['dtype']})"
        )

    @cached_property
    def blocks(self) -> list[BlockInfo]:
        """The SE blocks in forward order, as the capturing model had them."""
        # Tolerant of fields a newer writer adds (e.g. a block ``kind``): unknown keys are dropped.
        known = {f.name for f in dataclasses.fields(BlockInfo)}
        return [BlockInfo(**{k: v for k, v in b.items() if k in known}) for b in self.manifest["blocks"]]

    @property
    def block_names(self) -> list[str]:
        """Block names in forward order."""
        return [b.name for b in self.blocks]

    @property
    def class_names(self) -> list[str]:
        """The model's class names (index → name) for the top-5 and logit columns."""
        return list(self.manifest["model"]["labels"])

    @property
    def paths(self) -> list[str]:
        """Input path of every image (``zip://MEMBER::ARCHIVE`` for ZIP members)."""
        return self._meta.column("path").to_pylist()

    @property
    def labels(self) -> list[Optional[str]]:
        """Label of every image (None where the input gave none)."""
        return self._meta.column("label").to_pylist()

    @property
    def has_labels(self) -> bool:
        """True when every image has a label (what class specificity needs)."""
        return len(self) > 0 and self._meta.column("label").null_count == 0

    @property
    def table(self) -> pd.DataFrame:
        """The per-image columns (index, path, label, sha256, width, height) as a DataFrame."""
        return self._meta.select(_META[:-1]).to_pandas()

    @property
    def top5_classes(self) -> np.ndarray:
        """(N, k) int class indices, most probable first."""
        return _matrix(self._meta.column("top5_class")).astype(np.int64)

    @property
    def top5_probs(self) -> np.ndarray:
        """(N, k) softmax probabilities of :attr:`top5_classes`."""
        return _matrix(self._meta.column("top5_prob"))

    @property
    def predictions(self) -> list[str]:
        """Top-1 class name of every image."""
        names = self.class_names
        return [names[i] if i < len(names) else f"class {i}" for i in self.top5_classes[:, 0]]

    @property
    def errors(self) -> pd.DataFrame:
        """Inputs that could not be read: columns ``path`` and ``reason``, in input order."""
        return self._errors.select(["path", "error"]).rename_columns(["path", "reason"]).to_pandas()

    def _column(self, name: str) -> np.ndarray:
        schema = pa.schema([self.dataset.schema.field(c) for c in ("index", name)])
        t = pa.Table.from_batches(list(self.iter_batches(["index", name])), schema=schema)
        return _matrix(t.sort_by("index").column(name))

    def iter_batches(
        self, columns: Sequence[str], batch_rows: int = 4096, rows: Optional[Sequence[int]] = None
    ) -> Iterator[pa.RecordBatch]:
        """The readable rows' ``columns`` as record batches, file by file and row group by row
        group: the one way to stream over a dataset, so a fold over it holds one batch at a time
        whatever the row count. Rows come in file order, not input order: carry ``index`` in
        ``columns`` when the order matters. ``rows`` (positions) limits the stream to those rows;
        row groups whose ``index`` range holds none of them are skipped unread.

        Files are read one at a time (:func:`file_batches`), so memory is one batch whatever the
        row or file count."""
        wanted = None if rows is None else np.unique(self.row_index[np.asarray(rows, dtype=np.int64)])
        if wanted is not None and wanted.size == 0:
            return
        for path in self.dataset.files:
            yield from file_batches(path, self.dataset.filesystem, columns, batch_rows, wanted)

    def _check(self, block: str) -> None:
        if block not in self.block_names:
            raise KeyError(f"No SE block named {block!r}; blocks are {self.block_names}")

    def gates(self, block: str) -> np.ndarray:
        """Gates s of ``block`` for every image: float32 (N, C), reading only that column."""
        self._check(block)
        return self._column(gate_column(block))

    def squeeze(self, block: str) -> np.ndarray:
        """Squeezed descriptors z of ``block`` for every image: float32 (N, C)."""
        self._check(block)
        return self._column(squeeze_column(block))

    def logits(self) -> np.ndarray:
        """The network's logits for every image: float32 (N, K)."""
        return self._column("logits")

    @cached_property
    def row_index(self) -> np.ndarray:
        """The input ``index`` of every readable row, in row order (ascending)."""
        return self._meta.column("index").to_numpy()

    def read_rows(self, rows: Sequence[int], columns: Sequence[str]) -> dict[str, np.ndarray]:
        """``columns`` (fixed-size-list columns, e.g. gate columns) of the rows at positions
        ``rows`` only, as float32 (len(rows), W) arrays in the order of ``rows``. Reads the row
        groups that hold them, never whole columns: what a view showing a few images needs."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"row positions out of range for {len(self)} image(s)")
        cols = list(dict.fromkeys(["index", *columns]))
        parts = list(self.iter_batches(cols, rows=rows)) if rows.size else []
        schema = pa.schema([self.dataset.schema.field(c) for c in cols])
        table = pa.Table.from_batches(parts, schema=schema)
        found = table.column("index").to_numpy()
        at = {int(v): i for i, v in enumerate(found)}
        take = np.array([at[int(v)] for v in self.row_index[rows]], dtype=np.int64)
        return {c: _matrix(table.column(c))[take] for c in columns}

    def to_capture(self, rows: Optional[Sequence[int]] = None) -> Capture:
        """The images at positions ``rows`` (all when None) as a :class:`~se_viz.Capture`,
        exactly what ``se_viz.capture`` returned for them (float16 datasets widened to float32).
        With ``rows`` only those rows are read."""
        if rows is None:
            return Capture(
                blocks=self.blocks,
                gates={b: self.gates(b) for b in self.block_names},
                squeeze={b: self.squeeze(b) for b in self.block_names},
                logits=self.logits(),
            )
        names = self.block_names
        cols = [gate_column(b) for b in names] + [squeeze_column(b) for b in names] + ["logits"]
        got = self.read_rows(rows, cols)
        return Capture(
            blocks=self.blocks,
            gates={b: got[gate_column(b)] for b in names},
            squeeze={b: got[squeeze_column(b)] for b in names},
            logits=got["logits"],
        )


def open_gate_dataset(path_or_uri: Union[str, os.PathLike]) -> GateDataset:
    """Open the gate dataset at a local folder or a URI pyarrow understands (``s3://``, ``gs://``,
    ``hdfs://``, ``file://``). Reads the manifest and the per-image columns, nothing else."""
    fs, root = _filesystem(path_or_uri)
    dataset = pads.dataset(root, filesystem=fs, format="parquet")
    try:
        with fs.open_input_stream(f"{root.rstrip('/')}/{MANIFEST_FILE}") as fh:
            manifest = json.loads(fh.read())
    except (FileNotFoundError, OSError):
        raw = (dataset.schema.metadata or {}).get(MANIFEST_KEY)
        if raw is None:
            raise ValueError(f"{path_or_uri} is not a gate dataset: it has no {MANIFEST_FILE}.") from None
        manifest = json.loads(raw)
    return GateDataset(dataset, manifest, os.fspath(path_or_uri))
