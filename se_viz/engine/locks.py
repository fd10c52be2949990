"""One lock per model, so hooked forward passes never interleave.

A model cached by a web app is shared by every browser session, and hooks registered by one
thread would fire during another thread's forward pass. Every hooked pass (capture, the gate
probe, the teaching walk-through, interventions) holds the model's lock.
"""

from __future__ import annotations

import threading
import weakref

from torch import nn

__all__ = ["locks_guard", "model_lock"]

# Guards the tables of per-model values (locks, sub-module lookups, found blocks).
locks_guard = threading.Lock()
_locks: "weakref.WeakKeyDictionary[nn.Module, threading.Lock]" = weakref.WeakKeyDictionary()


def model_lock(model: nn.Module) -> threading.Lock:
    """The lock that serialises hooked forward passes through ``model`` (one per model)."""
    with locks_guard:
        lock = _locks.get(model)
        if lock is None:
            lock = _locks[model] = threading.Lock()
        return lock
