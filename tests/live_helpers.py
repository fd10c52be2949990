"""Shared by the live tests: camera frames as aiortc gets them, coroutines run off the test's
thread, and waiting for a frame thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import fractions
import time

import av
import numpy as np


def run_coroutine(coro, timeout: float = 120.0):
    """``asyncio.run`` in a thread of its own: in the whole suite the browser tests' Playwright (sync
    API) keeps an event loop running in this thread, where ``asyncio.run`` refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout)


def video_frame(rgb: np.ndarray, pts: int = 0) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame.pts, frame.time_base = pts, fractions.Fraction(1, 90000)
    return frame


def wait(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the frame thread did not finish"
        time.sleep(0.01)
