"""Reading a gate dataset back: column by column, from a local folder or any pyarrow file system.

Opening reads only the small per-image columns (path, label, error, top-5); ``gates(block)`` and
``squeeze(block)`` each read one column, so looking at one block of an ImageNet-size dataset
never loads the other blocks. Rows are the images that were read, in input order (by ``index``);
the unreadable ones are listed in :attr:`GateDataset.errors`.
"""

from __future__ import annotations

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

from ..engine.blocks import BlockInfo
from ..engine.capture import Capture
from .schema import MANIFEST_FILE, MANIFEST_KEY, gate_column, squeeze_column

__all__ = ["GateDataset", "open_gate_dataset"]

_META = ["index", "path", "label", "sha256", "width", "height", "error"]


def _filesystem(path_or_uri: Union[str, os.PathLike]) -> tuple[pafs.FileSystem, str]:
    text = os.fspath(path_or_uri)
    if "://" in text:
        return pafs.FileSystem.from_uri(text)
    return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(text))


def _matrix(column: pa.ChunkedArray) -> np.ndarray:
    """A fixed-size-list column without nulls as a float32 array (N, C)."""
    arr = column.combine_chunks()
    width = arr.type.list_size
    return arr.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(-1, width)


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
        meta = dataset.to_table(columns=_META + ["top5_class", "top5_prob"]).sort_by("index")
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
        return [BlockInfo(**b) for b in self.manifest["blocks"]]

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
        t = self.dataset.to_table(columns=["index", name], filter=pc.is_null(pc.field("error")))
        return _matrix(t.sort_by("index").column(name))

    def iter_batches(self, columns: Sequence[str], batch_rows: int = 4096) -> Iterator[pa.RecordBatch]:
        """The readable rows' ``columns`` as record batches, file by file and row group by row
        group: the one way to stream over a dataset, so a fold over it holds one batch at a time
        whatever the row count. Rows come in file order, not input order: carry ``index`` in
        ``columns`` when the order matters."""
        scanner = self.dataset.scanner(
            columns=list(columns), filter=pc.is_null(pc.field("error")), batch_size=batch_rows
        )
        for batch in scanner.to_batches():
            if batch.num_rows:
                yield batch

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

    def to_capture(self, rows: Optional[Sequence[int]] = None) -> Capture:
        """The images at positions ``rows`` (all when None) as a :class:`~se_viz.Capture`,
        exactly what ``se_viz.capture`` returned for them (float16 datasets widened to float32)."""
        idx = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        return Capture(
            blocks=self.blocks,
            gates={b: self.gates(b)[idx] for b in self.block_names},
            squeeze={b: self.squeeze(b)[idx] for b in self.block_names},
            logits=self.logits()[idx],
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
