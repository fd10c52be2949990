"""One viewer's frame thread: the camera hands in frames and never waits; the thread analyses the
newest one and hands each finished picture on at once.

Why a thread of our own: streamlit-webrtc runs a frame callback in its own loop and ends the whole
stream when one call takes over 10 s (``recv_queued() ... is taking too long``). A call that waits
for the model — another session analysing its images holds the model's lock, or the machine is
busy — then stopped a viewer's camera for good: with five viewers, every page that opened stopped
the streams of the pages before it (``se-viz bench --live``). Here the callback only swaps a frame
into a one-frame slot, so it returns at once whatever the model does; a slow model shows fewer new
pictures, never an older one (the slot holds the newest frame only, so nothing queues: the lag is
one analysis plus at most one camera frame).

The thread sets its own torch thread count (:func:`live_threads`: every core but one, which the
video codec and the event loop need): a thread inherits torch's process-wide count, which the
app's runner lowers to one for heavy runs (``torch.set_num_threads`` under OpenMP is per thread,
but a new thread starts from the last value set anywhere).
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from typing import Callable, Generic, Optional, TypeVar

__all__ = ["NewestFrameWorker", "live_threads"]

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")
_ids = itertools.count()


def live_threads() -> int:
    """Torch threads for a live analysis: every core this process may run on but one, which is
    left to the stream's video decoding and encoding and to the server's event loop. Measured
    with ``se-viz bench --live`` on this 2-core machine, quiet, one run each (2026-12-05): with
    both cores the mini's analysed rate fell to 7.5 frames/s (lag p95 1.2 s: torch's threads
    took the core the codec needed), with one it was 22.2 frames/s (lag p95 0.33 s)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class NewestFrameWorker(Generic[In, Out]):
    """Runs ``work`` on the newest offered item in a daemon thread of its own.

    :meth:`offer` replaces any item not yet started (it counts as dropped) and returns at once;
    ``on_done`` is called with each result, in the thread, as soon as it is finished. ``work``
    raising is logged and the item skipped: a stream goes on. :meth:`close` ends the thread.
    """

    def __init__(
        self, work: Callable[[In], Out], on_done: Callable[[Out], None], threads: Optional[int] = None
    ) -> None:
        self._work = work
        self._on_done = on_done
        self._threads = threads if threads is not None else live_threads()
        self._cond = threading.Condition()
        self._pending: Optional[In] = None
        self._has_pending = False
        self._closed = False
        self._working = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"se_viz_live_{next(_ids)}", daemon=True)
        self._thread.start()

    def offer(self, item: In) -> bool:
        """Hand in the newest item; an older one still waiting is dropped (then True)."""
        with self._cond:
            replaced = self._has_pending
            self.dropped += replaced
            self._pending, self._has_pending = item, True
            self._cond.notify()
            return replaced

    def busy(self) -> bool:
        """Whether an item waits or is being worked on."""
        with self._cond:
            return self._has_pending or self._working

    def close(self, timeout: Optional[float] = None) -> None:
        """Stop the thread (after the item it works on, if any)."""
        with self._cond:
            self._closed = True
            self._pending, self._has_pending = None, False
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        import torch

        torch.set_num_threads(self._threads)
        while True:
            with self._cond:
                while not self._has_pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                item, self._pending, self._has_pending = self._pending, None, False
                self._working = True
            try:
                out, ok = self._work(item), True
            except Exception:  # the stream goes on; the log says why this frame was skipped
                log.exception("a live frame could not be processed")
                out, ok = None, False
            with self._cond:
                self._working = False
            if ok:
                self._on_done(out)
