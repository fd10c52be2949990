"""The gate-dataset aggregates on Ray Data: the folds of :mod:`.aggregate`, one per Ray block.

For datasets on a cluster's storage: ``ray.data.read_parquet`` reads only the gate columns,
``map_batches`` folds each batch into a partial :class:`~.aggregate.GateFold` (sent back as one
small row of pickled sums, never the gates), and the driver merges the partials — the same
arithmetic as the local stream, so the result equals :func:`~.aggregate.dataset_aggregates` to
rounding. Labelled statistics run the second pass the same way with the class means broadcast.
"""

from __future__ import annotations

import pickle
from typing import Any, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .aggregate import (
    BATCH_ROWS,
    DatasetAggregates,
    DeviationFold,
    GateFold,
    finish,
    gate_columns,
    group_codes,
)
from .reader import GateDataset

__all__ = ["ray_aggregates"]


def _readable(batch: pa.Table) -> pa.RecordBatch:
    table = batch.filter(pc.is_null(batch.column("error"))).combine_chunks()
    return table.to_batches()[0] if table.num_rows else None


def _fold_first(batch: pa.Table, widths: dict, groups: int, codes: Optional[np.ndarray]) -> dict[str, Any]:
    fold = GateFold(widths, groups)
    rows = _readable(batch)
    if rows is not None:
        fold.push(rows, codes)
    return {"fold": np.array([pickle.dumps(fold)], dtype=object)}


def _fold_second(batch: pa.Table, means: dict, codes: np.ndarray) -> dict[str, Any]:
    fold = DeviationFold(means)
    rows = _readable(batch)
    if rows is not None:
        fold.push(rows, codes)
    return {"fold": np.array([pickle.dumps(fold)], dtype=object)}


def _merged(rds, fn, fn_kwargs: dict, batch_rows: int):
    parts = rds.map_batches(fn, batch_format="pyarrow", batch_size=batch_rows, fn_kwargs=fn_kwargs)
    total = None
    for row in parts.iter_rows():
        fold = pickle.loads(row["fold"])
        total = fold if total is None else total.merge(fold)
    return total


def ray_aggregates(
    ds: GateDataset,
    groups: Optional[Sequence] = None,
    *,
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
    batch_rows: int = BATCH_ROWS,
) -> DatasetAggregates:
    """The aggregates of :func:`~.aggregate.dataset_aggregates`, computed with Ray Data.

    Joins the cluster at ``address`` (or RAY_ADDRESS), else starts a local runtime with the
    machine's CPUs (``num_cpus`` caps them). Every node must reach the dataset's files (a shared
    file system or a URI such as ``s3://``).
    """
    import ray

    from .ray_engine import ray_runtime

    classes, codes = group_codes(ds, groups)
    widths = {b.name: b.channels for b in ds.blocks}
    with ray_runtime(address, num_cpus):
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        rds = ray.data.read_parquet(
            list(ds.dataset.files),
            filesystem=ds.dataset.filesystem,
            columns=gate_columns(ds) + ["error"],
        )
        first = _merged(
            rds, _fold_first, {"widths": widths, "groups": len(classes), "codes": codes}, batch_rows
        ) or GateFold(widths, len(classes))
        second = None
        if len(classes):
            probe = finish(ds, classes, first, codes)
            means = {name: probe.class_means(name) for name in widths}
            second = _merged(rds, _fold_second, {"means": means, "codes": codes}, batch_rows)
            second = second or DeviationFold(means)
    return finish(ds, classes, first, codes, second=second)
