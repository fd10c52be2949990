"""The newest finished picture, from the frame thread straight to the stream's sender.

The frame thread puts each picture here (:meth:`~NewestMailbox.put`), and the sender, a task in the
stream's event loop, wakes on it at once (``loop.call_soon_threadsafe``) instead of waiting for
camera frames to carry it (why that mattered: :mod:`se_viz.ui.live_stream`). Only the newest item
is kept: a sender that falls behind skips pictures, it never queues them.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Generic, Optional, TypeVar

__all__ = ["NewestMailbox"]

T = TypeVar("T")


class NewestMailbox(Generic[T]):
    """One slot: any thread puts, one asyncio task awaits.

    :meth:`put` replaces an item not yet taken. :meth:`get` returns the item put since the last
    take, waiting up to ``timeout`` seconds (None if nothing came). :attr:`attached` says whether
    a reader has said (:meth:`attach`) it reads here, so the writer hands items nowhere else.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: Optional[T] = None
        self._has = False
        self._waiter: Optional[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = None
        self.attached = False

    def attach(self) -> None:
        self.attached = True

    def put(self, item: T) -> None:
        with self._lock:
            self._item, self._has = item, True
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            loop, future = waiter
            try:
                loop.call_soon_threadsafe(_wake, future)
            except RuntimeError:  # the stream's loop has closed: nobody is waiting any more
                pass

    def take_nowait(self) -> Optional[T]:
        """The item put since the last take, or None."""
        with self._lock:
            if not self._has:
                return None
            item, self._item, self._has = self._item, None, False
            return item

    async def get(self, timeout: float) -> Optional[T]:
        loop = asyncio.get_running_loop()
        with self._lock:
            if not self._has:
                future = loop.create_future()
                self._waiter = (loop, future)
            else:
                future = None
        if future is not None:
            try:
                await asyncio.wait([future], timeout=timeout)
            finally:
                with self._lock:
                    if self._waiter is not None and self._waiter[1] is future:
                        self._waiter = None
        return self.take_nowait()


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
