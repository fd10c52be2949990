"""The last seconds of gates: a fixed-size ring buffer, so a long lesson never grows memory.

The "gates over time" trace draws a few channels from it, and when nobody chose which, it picks
the channels that moved most recently — what flips when a cup becomes a cat.
"""

from __future__ import annotations

import threading
from typing import Optional, Sequence

import numpy as np

__all__ = ["GateHistory"]


class GateHistory:
    """The gates of the last ``capacity`` frames, every block, with their time stamps.

    ``push`` is called by the frame thread, ``series`` by the drawing code (the same thread) and
    the page; a lock keeps a reader from seeing half a frame.
    """

    def __init__(self, capacity: int = 300) -> None:
        if capacity < 2:
            raise ValueError(f"a history holds at least 2 frames, got {capacity}")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._stamps = np.zeros(capacity, dtype=np.float64)
        self._rows: dict[str, np.ndarray] = {}
        self._next = 0  # where the next frame goes
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def push(self, stamp: float, gates: dict[str, np.ndarray]) -> None:
        """Add one frame's gates (block → (C,)) taken at ``stamp`` (seconds, monotonic)."""
        with self._lock:
            for name, s in gates.items():
                rows = self._rows.get(name)
                if rows is None or rows.shape[1] != s.shape[0]:
                    rows = self._rows[name] = np.zeros((self.capacity, s.shape[0]), dtype=np.float32)
                rows[self._next] = s
            self._stamps[self._next] = stamp
            self._next = (self._next + 1) % self.capacity
            self._count = min(self._count + 1, self.capacity)

    def _order(self) -> np.ndarray:
        """Buffer indices of the held frames, oldest first."""
        start = (self._next - self._count) % self.capacity
        return (start + np.arange(self._count)) % self.capacity

    def series(
        self, block: str, channels: Sequence[int], seconds: float, now: Optional[float] = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ages in seconds before ``now``, negative, oldest first; gates (n, len(channels))) of the
        frames of the last ``seconds``."""
        with self._lock:
            if block not in self._rows or not self._count:
                return np.zeros(0), np.zeros((0, len(channels)), dtype=np.float32)
            idx = self._order()
            stamps = self._stamps[idx]
            now = stamps[-1] if now is None else now
            keep = stamps >= now - seconds
            return stamps[keep] - now, self._rows[block][idx[keep]][:, list(channels)]

    def most_moving(self, block: str, k: int, seconds: float) -> list[int]:
        """The ``k`` channels of ``block`` whose gates spanned the widest range over the last
        ``seconds`` (ties: the lower channel), or the first ``k`` when nothing is held yet."""
        with self._lock:
            rows = self._rows.get(block)
            width = 0 if rows is None else rows.shape[1]
            if rows is None or self._count < 2:
                return list(range(min(k, width)))
            idx = self._order()
            keep = idx[self._stamps[idx] >= self._stamps[idx[-1]] - seconds]
            block_rows = rows[keep]
        span = block_rows.max(axis=0) - block_rows.min(axis=0)
        return sorted(int(c) for c in np.lexsort((np.arange(width), -span))[:k])

    def rate(self, seconds: float) -> float:
        """Frames per second over the last ``seconds`` (0 with fewer than two frames)."""
        with self._lock:
            if self._count < 2:
                return 0.0
            stamps = self._stamps[self._order()]
        recent = stamps[stamps >= stamps[-1] - seconds]
        span = recent[-1] - recent[0]
        return float((len(recent) - 1) / span) if span > 0 else 0.0
