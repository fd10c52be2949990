"""Nearest images and the 2-D map over a gate dataset of any size.

:func:`se_viz.analysis.nearest_images` and :func:`~se_viz.analysis.gate_pca` take every gate
vector in memory. Here the nearest images are a stream: the query's vector is read (one row),
then every batch's cosine distances to it are folded into a :class:`~se_viz.analysis.topk.TopK`
(bottom-k), which holds k rows whatever the row count and breaks ties by row as the in-memory
function does. The map is a PCA of a uniform sample of rows (seeded), whose size the caller
shows, because a scatter of a million points says no more than one of a few thousand.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd

from ..analysis.compare import cosine_distances
from ..analysis.neighbours import GatePCA, gate_pca
from ..analysis.topk import TopK
from .aggregate import BATCH_ROWS
from .reader import GateDataset, _matrix
from .schema import gate_column

__all__ = ["MAP_SAMPLE", "dataset_nearest", "dataset_pca", "nearest_step", "sample_rows"]

#: Images on the 2-D map at most (a uniform, seeded sample above that).
MAP_SAMPLE = 2000


def _vectors(batch, blocks: Sequence[str]) -> np.ndarray:
    return np.concatenate([_matrix(batch.column(gate_column(b))).astype(np.float64) for b in blocks], axis=1)


def nearest_step(ds: GateDataset, batch, blocks: Sequence[str], q: np.ndarray, query: int, top: TopK) -> None:
    """Fold one record batch (``index`` and the gate columns of ``blocks``) into ``top``: the
    cosine distances of its rows to the query's vector ``q`` (1, D), the query itself left out."""
    x = _vectors(batch, blocks)
    d = cosine_distances(np.vstack([q, x]), query=0)[1:]
    pos = np.searchsorted(ds.row_index, batch.column("index").to_numpy())
    keep = pos != query
    top.push(d[keep], pos[keep])


def dataset_nearest(
    ds: GateDataset,
    query: int,
    blocks: Sequence[str],
    k: int = 5,
    names: Optional[Sequence[str]] = None,
    batch_rows: int = BATCH_ROWS,
    progress: Optional[Callable[[int, int], None]] = None,
) -> pd.DataFrame:
    """The ``k`` rows nearest to row ``query`` by cosine distance of their gates at ``blocks``
    (concatenated): the table of :func:`se_viz.analysis.nearest_images` (``rank``, ``image``
    = row position, ``name``, ``distance``), streamed over the dataset in bounded memory.
    ``progress(rows read, rows in all)`` is called after every batch (a cancelled run raises
    there and the stream stops)."""
    if not blocks:
        raise ValueError("choose at least one block")
    n = len(ds)
    if not 0 <= int(query) < n:
        raise IndexError(f"image index {query} out of range for {n} image(s)")
    cols = [gate_column(b) for b in blocks]
    got = ds.read_rows([query], cols)
    q = np.concatenate([got[c].astype(np.float64) for c in cols], axis=1)
    top = TopK(max(1, min(int(k), n - 1)), largest=False)
    seen = 0
    for batch in ds.iter_batches(["index", *cols], batch_rows):
        nearest_step(ds, batch, blocks, q, int(query), top)
        seen += batch.num_rows
        if progress is not None:
            progress(seen, n)
    distances, rows = top.result() if n > 1 else (np.zeros(0), np.zeros(0, dtype=np.int64))
    labels = [str(names[i]) for i in rows] if names is not None else [f"image {i}" for i in rows]
    return pd.DataFrame(
        {
            "rank": np.arange(1, rows.size + 1, dtype=np.int64),
            "image": rows.astype(np.int64),
            "name": labels,
            "distance": distances,
        }
    )


def sample_rows(n: int, size: int = MAP_SAMPLE, seed: int = 0) -> np.ndarray:
    """Sorted row positions of a uniform sample of ``size`` of ``n`` rows (all when n ≤ size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def dataset_pca(
    ds: GateDataset, blocks: Sequence[str], size: int = MAP_SAMPLE, seed: int = 0
) -> tuple[np.ndarray, GatePCA]:
    """``(rows, pca)``: :func:`se_viz.analysis.gate_pca` of the gate vectors at ``blocks`` of a
    uniform sample of at most ``size`` rows (positions ``rows``; every row of a smaller dataset,
    so the map equals the in-memory one)."""
    rows = sample_rows(len(ds), size, seed)
    cols = [gate_column(b) for b in blocks]
    got = ds.read_rows(rows, cols)
    return rows, gate_pca(np.concatenate([got[c].astype(np.float64) for c in cols], axis=1))
