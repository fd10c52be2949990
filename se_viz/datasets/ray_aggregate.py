"""The gate-dataset aggregates on Ray Data: the folds of :mod:`.aggregate`, one per Ray block.

For datasets on a cluster's storage: the part files become a Ray dataset of paths, and
``map_batches`` folds each block of files, read batch by batch and only their gate columns, into
a partial :class:`~.aggregate.GateFold` (sent back as one small row of pickled sums, never the
gates, so no node ever holds a whole gate column); the driver merges the partials — the same
single read and the same arithmetic as the local threads, so the result equals
:func:`~.aggregate.dataset_aggregates` to rounding.
"""

from __future__ import annotations

import functools
import pickle
from typing import Any, Optional, Sequence

import numpy as np

from .aggregate import BATCH_ROWS, DatasetAggregates, GateFold, gate_columns, group_codes
from .reader import GateDataset, file_batches

__all__ = ["ray_aggregates"]


def _fold_files(
    items: dict[str, Any], fold_factory, filesystem, columns, batch_rows, codes
) -> dict[str, Any]:
    """Ray task: fold the part files named in ``items["path"]`` into one partial fold."""
    fold = fold_factory()
    for path in items["path"]:
        for batch in file_batches(str(path), filesystem, columns, batch_rows):
            fold.push(batch, codes)
    return {"fold": np.array([pickle.dumps(fold)], dtype=object)}


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
        ray.data.DataContext.get_current().enable_progress_bars = False
        # The part files are the items: each task opens its own files (on any node that can
        # reach them), so the driver never reads a gate.
        files = list(ds.dataset.files)
        blocks = min(len(files), 4 * max(1, int(ray.cluster_resources().get("CPU", 1))))
        rds = ray.data.from_items([{"path": f} for f in files], override_num_blocks=max(1, blocks))
        parts = rds.map_batches(
            _fold_files,
            # One call per block of files: a task holds one record batch and its fold, and the
            # driver merges one partial per block, not per file (a fold with 1000 classes is ~240 MB).
            batch_size=None,
            batch_format="numpy",
            fn_kwargs={
                "fold_factory": functools.partial(GateFold, widths, len(classes)),
                "filesystem": ds.dataset.filesystem,
                "columns": gate_columns(ds),
                "batch_rows": batch_rows,
                "codes": codes,
            },
        )
        total = GateFold(widths, len(classes))
        for row in parts.iter_rows():
            total.merge(pickle.loads(row["fold"]))
    return DatasetAggregates(ds.blocks, len(ds), classes, total.folds)
