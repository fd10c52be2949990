"""Comparing a few images' gates block by block: where does the network treat them alike?

Two images can share early gates (both "natural photos") and part ways later (one a dog, one a
plane). Per SE block, this module measures the distance between the images' gate vectors
``s_a, s_b`` in R^C with two numbers that answer different questions:

* **cosine distance** ``1 − (s_a · s_b) / (‖s_a‖ ‖s_b‖)`` — do the two gate vectors point the
  same way, i.e. is the *pattern* over channels alike, whatever its overall level? 0 for
  proportional vectors; gates are ≥ 0, so it lies in [0, 1]. Defined as 0 when both vectors
  are zero and 1 when exactly one is.
* **mean absolute difference** ``mean_c |s_a,c − s_b,c|`` (L1 divided by C) — how far apart
  are the gates in gate units (0…1)? Dividing by C makes blocks of 64 and 2048 channels
  comparable.

Everything is NumPy on the (N, C) gate arrays of a :class:`~se_viz.Capture` (or any mapping
block name → (N, C)), computed in float64.
"""

from __future__ import annotations

from itertools import combinations
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from ..i18n import _

__all__ = ["DISTANCE_COLUMNS", "cosine_distances", "gate_difference", "pairwise_block_distances"]

DISTANCE_COLUMNS: tuple[str, ...] = ("block", "depth", "pair", "image_a", "image_b", "cosine", "l1")


def cosine_distances(vectors: np.ndarray, query: Optional[int] = None) -> np.ndarray:
    """Pairwise cosine distances of the rows of ``vectors`` (N, D): an (N, N) float64 matrix.

    ``1 − cos`` between rows, symmetric with a zero diagonal; a zero row is at distance 0 from
    another zero row and 1 from anything else (there is no direction to compare). With
    ``query`` only that row of the matrix is computed, (N,): what a nearest-neighbour search
    needs, at 1/N of the cost. Used both to compare a few images per block and to find an
    image's nearest neighbours.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected vectors of shape (N, D), got {x.shape}")
    norms = np.linalg.norm(x, axis=1)
    zero = norms == 0
    unit = x / np.where(zero, 1.0, norms)[:, None]
    if query is not None:
        q = int(query)
        sim = np.clip(unit @ unit[q], -1.0, 1.0)
        # Zero rows: "same" as each other, unrelated to everything else.
        sim[zero] = 1.0 if zero[q] else 0.0
        dist = 1.0 - sim
        dist[q] = 0.0
        return dist
    sim = np.clip(unit @ unit.T, -1.0, 1.0)
    sim[zero, :] = 0.0
    sim[:, zero] = 0.0
    sim[np.ix_(zero, zero)] = 1.0
    dist = 1.0 - sim
    np.fill_diagonal(dist, 0.0)
    return dist


def pairwise_block_distances(
    gates_by_block: Mapping[str, np.ndarray],
    images: Optional[Sequence[int]] = None,
    names: Optional[Sequence[str]] = None,
    blocks: Optional[Sequence[str]] = None,
) -> pd.DataFrame:
    """Per SE block and per pair of images, the cosine distance and mean |Δs| of their gates.

    ``gates_by_block`` maps block name → gates (N, C) (e.g. ``Capture.gates``); ``images`` picks
    the rows to compare (default: all N, at least two — the compare view uses 2–4); ``names``
    labels all N rows (default ``"image i"``); ``blocks`` fixes the block order (default: the
    mapping's order, which for a capture is forward order). Returns a table with columns
    :data:`DISTANCE_COLUMNS`: ``depth`` is the block's position (0 = first block), ``pair`` reads
    ``"a ↔ b"``; rows are ordered by pair, then depth, so each pair's rows trace one line
    against depth.
    """
    order = list(blocks) if blocks is not None else list(gates_by_block)
    if not order:
        raise ValueError("no SE blocks to compare")
    n = np.asarray(gates_by_block[order[0]]).shape[0]
    idx = list(range(n)) if images is None else [int(i) for i in images]
    if len(idx) < 2:
        raise ValueError(f"comparing needs at least two images, got {len(idx)}")
    bad = [i for i in idx if not 0 <= i < n]
    if bad:
        raise IndexError(f"image index(es) {bad} out of range for {n} image(s)")
    labels = [str(x) for x in names] if names is not None else [_("image {i}").format(i=i) for i in range(n)]
    rows = []
    pairs = list(combinations(range(len(idx)), 2))
    per_block = []
    for name in order:
        g = np.asarray(gates_by_block[name], dtype=np.float64)[idx]
        cos = cosine_distances(g)
        l1 = np.abs(g[:, None, :] - g[None, :, :]).mean(-1)
        per_block.append((name, cos, l1))
    for a, b in pairs:
        ia, ib = idx[a], idx[b]
        for depth, (name, cos, l1) in enumerate(per_block):
            rows.append(
                {
                    "block": name,
                    "depth": depth,
                    "pair": f"{labels[ia]} ↔ {labels[ib]}",
                    "image_a": ia,
                    "image_b": ib,
                    "cosine": float(cos[a, b]),
                    "l1": float(l1[a, b]),
                }
            )
    return pd.DataFrame(rows, columns=list(DISTANCE_COLUMNS))


def gate_difference(gates: np.ndarray) -> np.ndarray:
    """What the compare view's difference panel shows, per channel, for gates (n, C) of n images.

    Two images: the signed difference ``s_2 − s_1`` (in −1…1: positive where the second image
    gets the larger gate). Three or four: the spread ``max − min`` over the images (in 0…1: how
    much the images disagree on that channel). One image has nothing to compare and raises.
    """
    g = np.asarray(gates, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"expected gates of at least two images (n ≥ 2, C), got {g.shape}")
    if g.shape[0] == 2:
        return g[1] - g[0]
    return g.max(axis=0) - g.min(axis=0)
