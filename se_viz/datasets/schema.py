"""The gate dataset's column layout and its manifest.

A gate dataset is a folder of Parquet files (readable by pyarrow, pandas, Spark, DuckDB …)
with one row per input image, in this layout:

==================  ===========================================  ==================================
column              Arrow type                                   meaning
==================  ===========================================  ==================================
``index``           int64                                        position of the image in the input
``path``            string                                       file path, or ``zip://M::ARCHIVE``
``label``           string (null when unknown)                   class from the folder / list file
``sha256``          string (null on error)                       SHA-256 of the image file's bytes
``width``           int32 (null on error)                        decoded width in pixels
``height``          int32 (null on error)                        decoded height in pixels
``error``           string (null when the image was read)        why the image could not be used
``top5_class``      fixed_size_list<int32>[k]                    k = min(5, K) most probable classes
``top5_prob``       fixed_size_list<float32>[k]                  their softmax probabilities
``logits``          fixed_size_list<DTYPE>[K]                    the network's K output logits
``gate:BLOCK``      fixed_size_list<DTYPE>[C]  (one per block)   excitation s of SE block BLOCK
``squeeze:BLOCK``   fixed_size_list<DTYPE>[C]  (one per block)   squeezed descriptor z of BLOCK
==================  ===========================================  ==================================

DTYPE is float32 (default) or float16. An image that could not be read keeps its row (so a
resumed run knows it is done) with ``error`` set and every value column null. The **manifest**
(model, weights and their SHA-256, preprocessing, blocks in forward order, versions, command
line, time) is stored as JSON in ``_manifest.json`` next to the parts and in every part's
schema metadata under ``se_viz.manifest``. Files starting with ``_`` or ``.``
are ignored by pyarrow's dataset discovery, so the folder reads as one table.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import pyarrow as pa

from ..engine.blocks import BlockInfo
from ..engine.capture import Capture
from ..provenance import jsonable, package_versions, utc_now

__all__ = [
    "DTYPES",
    "FORMAT",
    "MANIFEST_FILE",
    "MANIFEST_KEY",
    "ERRORS_FILE",
    "TOP_K",
    "build_manifest",
    "dataset_schema",
    "gate_column",
    "records_table",
    "squeeze_column",
    "manifest_schema",
    "parquet_options",
]

FORMAT = "se_viz.gate_dataset/1"
MANIFEST_FILE = "_manifest.json"
ERRORS_FILE = "_errors.csv"
MANIFEST_KEY = b"se_viz.manifest"
TOP_K = 5
DTYPES = {"float32": (np.float32, pa.float32()), "float16": (np.float16, pa.float16())}
META_COLUMNS = ("index", "path", "label", "sha256", "width", "height", "error")


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """Parquet writer options for a gate dataset (both engines use them).

    Float values are near-random bits: dictionary encoding only bloats them (181 → 127 KiB per
    SE-ResNet-50 image, measured), while byte-stream-split plus zstd shrinks them a little
    (→ 115 KiB). Text columns keep dictionary encoding.
    """
    values = [
        f.name
        for f in schema
        if pa.types.is_fixed_size_list(f.type) and pa.types.is_floating(f.type.value_type)
    ]
    return {
        "compression": "zstd",
        "use_dictionary": ["path", "label", "sha256", "error"],
        "use_byte_stream_split": values,
    }


def gate_column(block: str) -> str:
    """Name of the column holding the gates s of ``block``."""
    return f"gate:{block}"


def squeeze_column(block: str) -> str:
    """Name of the column holding the squeezed descriptors z of ``block``."""
    return f"squeeze:{block}"


def dataset_schema(widths: Mapping[str, int], num_classes: int, dtype: str = "float32") -> pa.Schema:
    """The Arrow schema of a gate dataset with blocks ``widths`` (name → C, forward order)."""
    value = DTYPES[dtype][1]
    k = min(TOP_K, num_classes)
    fields = [
        pa.field("index", pa.int64(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("label", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("error", pa.string()),
        pa.field("top5_class", pa.list_(pa.int32(), k)),
        pa.field("top5_prob", pa.list_(pa.float32(), k)),
        pa.field("logits", pa.list_(value, num_classes)),
    ]
    for name, c in widths.items():
        fields.append(pa.field(gate_column(name), pa.list_(value, c)))
    for name, c in widths.items():
        fields.append(pa.field(squeeze_column(name), pa.list_(value, c)))
    return pa.schema(fields)


def _fixed(values: np.ndarray, ok: np.ndarray, type_: pa.DataType) -> pa.Array:
    """A fixed-size-list column of N rows from values (n_ok, W) placed at the rows where ``ok``."""
    n, width = ok.size, type_.list_size
    full = np.zeros((n, width), dtype=type_.value_type.to_pandas_dtype())
    full[ok] = values
    return pa.FixedSizeListArray.from_arrays(
        pa.array(full.reshape(-1), type=type_.value_type), width, mask=pa.array(~ok)
    )


def records_table(
    records: Sequence[Mapping[str, Any]], cap: Optional[Capture], schema: pa.Schema
) -> pa.Table:
    """One batch of rows: ``records`` (the META_COLUMNS of every image, ``error`` None when it was
    read) plus ``cap``, the capture of the readable images in the same order (None if there are none).
    """
    ok = np.array([r.get("error") is None for r in records], dtype=bool)
    columns: dict[str, pa.Array] = {}
    for name in META_COLUMNS:
        columns[name] = pa.array([r.get(name) for r in records], type=schema.field(name).type)
    k = schema.field("top5_class").type.list_size
    if cap is not None and cap.num_images:
        probs = cap.probabilities()
        top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        values = {
            "top5_class": top.astype(np.int32),
            "top5_prob": np.take_along_axis(probs, top, axis=1).astype(np.float32),
            "logits": cap.logits,
        }
        for b in cap.blocks:
            values[gate_column(b.name)] = cap.gates[b.name]
            values[squeeze_column(b.name)] = cap.squeeze[b.name]
    else:
        values = {}
    for f in schema:
        if f.name in columns:
            continue
        v = values.get(f.name)
        if v is None:
            v = np.zeros((0, f.type.list_size))
        columns[f.name] = _fixed(np.asarray(v), ok, f.type)
    return pa.table(columns, schema=schema)


def build_manifest(
    *,
    model_id: str,
    weights: Mapping[str, Any],
    pretrained: bool,
    data_config: Mapping[str, Any],
    blocks: Sequence[BlockInfo],
    labels: Sequence[str],
    dtype: str,
    engine: str,
    command: Optional[Sequence[str]] = None,
    inputs: Optional[Sequence[str]] = None,
) -> dict[str, Any]:
    """Everything needed to reproduce a gate dataset, as a JSON-ready dict.

    ``blocks`` must be in forward order (as :func:`se_viz.capture` reports them); ``weights`` is
    the loaded model's :meth:`~se_viz.WeightsSource.manifest` (kind, path, hub repo, SHA-256).
    ``inputs`` are the INPUTs as :func:`.access.capture_roots` records them, with this machine's
    ``host`` name: the folders the app may read the images from on this machine.
    """
    from .access import capture_roots

    return {
        "format": FORMAT,
        "model": {
            "id": model_id,
            "weights": dict(weights),
            "weights_sha256": weights.get("sha256"),
            "pretrained": bool(pretrained),
            "num_classes": len(labels),
            "labels": list(labels),
        },
        "preprocessing": jsonable(dict(data_config)),
        # Every BlockInfo field, so a reader rebuilds the same blocks without the model.
        "blocks": [dataclasses.asdict(b) for b in blocks],
        "dtype": dtype,
        "top_k": min(TOP_K, len(labels)),
        "engine": engine,
        "versions": package_versions(),
        "command": list(command) if command is not None else list(sys.argv),
        "inputs": capture_roots(inputs) if inputs else [],
        "host": socket.gethostname(),
        "created": utc_now(),
    }


def manifest_schema(manifest: Mapping[str, Any]) -> pa.Schema:
    """The dataset schema that ``manifest`` describes, with the manifest in its metadata."""
    widths = {b["name"]: int(b["channels"]) for b in manifest["blocks"]}
    schema = dataset_schema(widths, int(manifest["model"]["num_classes"]), manifest["dtype"])
    return schema.with_metadata({MANIFEST_KEY: json.dumps(manifest).encode()})
