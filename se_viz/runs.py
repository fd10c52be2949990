"""Long runs that can be stopped: progress, cancellation and giving memory back.

A pruning study on SE-ResNet-50 takes minutes on a laptop; a class shares that laptop. A run
must therefore stop soon after its user cancels it, after its browser session ends, or when a
newer run replaces it — and give back what it held. The library's long loops (pruning,
faithfulness, the rankings, the stage ablation over a set, the demonstration) already report
``progress(done, total, what)`` after every step of the chain (one stage of residual units, a
batch of images): :class:`RunControl` is such a callback that also *checks*, and raises
:class:`Cancelled` between steps. Every hook and lock is taken in ``with`` blocks, so the
exception leaves the model as it was.

This module is plain Python (no Streamlit); the app's queue of heavy runs
(``se_viz.ui.runner``) and a notebook use it alike::

    control = RunControl()
    threading.Timer(5, control.cancel).start()
    try:
        curves = prune_curves(model, images, rankings, blocks, progress=control.progress)
    except Cancelled:
        ...
    finally:
        release_memory()
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from torch import nn

from .i18n import _

__all__ = ["Cancelled", "RunControl", "release_memory"]


class Cancelled(Exception):
    """The run was stopped before it finished; ``str(exc)`` says why, in the user's words."""


class RunControl:
    """Progress and cancellation of one run, shared by the thread that runs it and the ones that
    watch it.

    ``progress(done, total, what)`` records how far the run is and raises :class:`Cancelled` once
    :meth:`cancel` was called or ``should_stop()`` names a reason (e.g. "the page was closed"):
    the run stops at its next step. ``check()`` does the same between stages that report nothing.
    """

    #: ``should_stop`` is asked at most this often (it may look up a session table).
    ASK_EVERY = 0.25

    def __init__(self, should_stop: Optional[Callable[[], Optional[str]]] = None) -> None:
        self._stop = threading.Event()
        self._should_stop = should_stop
        self._asked = 0.0
        self.reason = ""
        self.done = 0
        self.total = 0
        self.what = ""
        self.started = time.monotonic()
        self.stage = ""  # the part of the run in progress ("ranking the channels", "pruning", …)

    def cancel(self, reason: Optional[str] = None) -> None:
        """Ask the run to stop at its next step (safe from any thread, idempotent: the first
        reason is kept)."""
        if not self._stop.is_set():
            self.reason = reason or _("it was cancelled")
            self._stop.set()

    @property
    def cancelled(self) -> bool:
        """True once the run was asked to stop."""
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the run should stop."""
        now = time.monotonic()
        if not self._stop.is_set() and self._should_stop is not None and now - self._asked >= self.ASK_EVERY:
            self._asked = now
            reason = self._should_stop()
            if reason:
                self.cancel(reason)
        if self._stop.is_set():
            raise Cancelled(_("The run stopped: {reason}.").format(reason=self.reason))

    def progress(self, done: int, total: int, what: str) -> None:
        """A ``progress`` callback for the library's long loops that also checks for a stop."""
        self.done, self.total, self.what = int(done), int(total), str(what)
        self.check()

    def begin(self, stage: str) -> None:
        """Start a stage (its own progress counts from zero) after checking for a stop."""
        self.stage, self.done, self.total, self.what = stage, 0, 0, ""
        self.check()

    @contextmanager
    def inside(self, model: nn.Module) -> Iterator[None]:
        """Also check before every convolution of ``model`` that runs in *this* thread.

        One step of a study on a big network can take many seconds on a loaded machine (a
        gate × gradient batch, a stage of residual units over many rows); checking inside the
        pass stops it within one convolution. Passes of other threads (another user's capture
        through the same shared model) never check, so they are never stopped by this run.
        """
        owner = threading.get_ident()

        def hook(_module: nn.Module, _args: tuple) -> None:
            if threading.get_ident() == owner:
                self.check()

        handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    @property
    def fraction(self) -> float:
        """How far the current stage is, 0–1 (0 before its first step)."""
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def elapsed(self) -> float:
        """Seconds since the control was made."""
        return time.monotonic() - self.started


def _libc_trim() -> Optional[Callable[[int], int]]:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return libc.malloc_trim if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_TRIM = _libc_trim()


def release_memory() -> None:
    """Give the memory of finished or cancelled runs back to the system.

    Dropping the tensors is not enough on Linux: glibc keeps freed heap pages for reuse, so a
    server that once ran a 3 GB study stays at 3 GB. ``gc.collect()`` frees what cycles hold,
    ``malloc_trim(0)`` (glibc only; elsewhere a no-op) returns the free pages.
    """
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)
