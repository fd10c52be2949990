"""The k best rows of a stream: a fold that holds k rows per column, whatever the row count.

Nearest images by gates, a channel's top and bottom images (the atlas) and any other "which rows
score highest" question over a gate dataset read the rows once, batch by batch
(:meth:`se_viz.datasets.GateDataset.iter_batches`), and keep only the k best so far. Partial folds
combine (:meth:`TopK.merge`), so the same fold runs per Ray block and is merged on the driver.

Ties are broken by the smaller row id, so the result equals a stable sort of the whole column:
``np.lexsort((ids, -scores))[:k]`` for the largest.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = ["TopK"]


class TopK:
    """Running top-k (``largest=True``) or bottom-k of one or more score columns.

    ``push(scores, ids)`` takes scores of shape (n,) or (n, m) — m columns ranked independently,
    e.g. every channel of a block at once — and the (n,) integer row ids they belong to.
    ``result()`` gives ``(scores, ids)`` of shape (k', m) (or (k',) for 1-D input), best first,
    with k' = min(k, rows seen).

    Examples
    --------
    >>> top = TopK(2)
    >>> top.push(np.array([0.1, 0.9, 0.5]), np.array([10, 11, 12]))
    >>> top.push(np.array([0.7]), np.array([13]))
    >>> top.result()
    (array([0.9, 0.7]), array([11, 13]))
    """

    def __init__(self, k: int, largest: bool = True) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = int(k)
        self.largest = largest
        self._scores: Optional[np.ndarray] = None  # (k', m)
        self._ids: Optional[np.ndarray] = None  # (k', m)
        self._one_d: Optional[bool] = None

    def _order(self, scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Row order per column, best first, ties by smaller id (lexsort's last key is primary)."""
        key = -scores if self.largest else scores
        return np.stack([np.lexsort((ids[:, j], key[:, j])) for j in range(scores.shape[1])], axis=1)

    def push(self, scores: np.ndarray, ids: np.ndarray) -> None:
        """Fold one batch in: ``ids`` is (n,), one id per row. NaN scores sort last."""
        scores = np.asarray(scores, dtype=np.float64)
        one_d = scores.ndim == 1
        if self._one_d is None:
            self._one_d = one_d
        elif self._one_d != one_d:
            raise ValueError("push() got 1-D and 2-D scores in one fold")
        if one_d:
            scores = scores[:, None]
        ids = np.asarray(ids, dtype=np.int64)
        if ids.shape != (len(scores),):
            raise ValueError(f"ids must have shape ({len(scores)},), got {ids.shape}")
        self._fold(scores, np.broadcast_to(ids[:, None], scores.shape))

    def _fold(self, scores: np.ndarray, ids: np.ndarray) -> None:
        if len(scores) == 0:
            return
        scores = np.where(np.isnan(scores), -np.inf if self.largest else np.inf, scores)
        if self._scores is not None:
            scores = np.concatenate([self._scores, scores])
            ids = np.concatenate([self._ids, ids])
        order = self._order(scores, ids)[: self.k]
        self._scores = np.take_along_axis(scores, order, axis=0)
        self._ids = np.take_along_axis(ids, order, axis=0)

    def merge(self, other: "TopK") -> "TopK":
        """This fold combined with another over disjoint rows (e.g. two Ray blocks)."""
        if (other.k, other.largest) != (self.k, self.largest):
            raise ValueError("merge() needs folds with the same k and direction")
        if other._scores is not None:
            if self._one_d is None:
                self._one_d = other._one_d
            self._fold(other._scores, other._ids)
        return self

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), best first: shape (k',) for 1-D pushes, (k', m) for 2-D."""
        if self._scores is None:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        if self._one_d:
            return self._scores[:, 0], self._ids[:, 0]
        return self._scores, self._ids
