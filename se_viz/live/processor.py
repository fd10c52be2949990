"""One viewer's live processor: the newest frame wins, what it draws is what ``capture`` gave, and
"freeze" hands the current frame to the still views as plain data.

The WebRTC layer hands frames to :meth:`offer`, which never waits: the frame goes to this
stream's own frame thread (:class:`~se_viz.live.worker.NewestFrameWorker`), which analyses the newest
frame and drops any that came while it worked, so a slow model — or one busy with another
session's images — shows a lower frame rate, never a growing delay, and never stalls the stream.
The model is shared by every viewer: :func:`~se_viz.capture` holds its lock.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, TypeVar

import numpy as np
from PIL import Image

from ..i18n import _, current, language
from ..loading.load import LoadedModel
from .draw import Trace, draw_overlay, drawable_language
from .frame import LiveResult, analyse_frame
from .history import GateHistory
from .mailbox import NewestMailbox
from .worker import NewestFrameWorker

__all__ = ["FrozenFrame", "LiveProcessor", "TRACE_CHANNELS", "TRACE_SECONDS"]

T = TypeVar("T")
TRACE_SECONDS = 5.0  # the trace shows this many seconds (a swap of objects fits in it)
TRACE_CHANNELS = 4  # channels followed when nobody chose


@dataclass(frozen=True)
class FrozenFrame:
    """A live frame as an ordinary image: PNG bytes (lossless, so the still views compute exactly
    what the live view drew), a name by content, and the classes drawn on it."""

    name: str
    png: bytes
    top: tuple[tuple[str, float], ...]


class LiveProcessor:
    """Turns camera frames (RGB arrays) into frames with the gates drawn in, for one viewer.

    ``fit`` is the still views' fit ("crop" or "pad"). The trace follows ``trace_channels`` of
    ``trace_block`` (default: the last block, and the channels that moved most in the first
    seconds, then kept, so a line keeps its channel); ``trace=False`` draws no trace.
    The text drawn is in ``language``, the viewer's (default: the language current when the
    processor is made; frames are drawn in a thread of their own, which has no session).
    """

    def __init__(
        self,
        lm: LoadedModel,
        fit: str = "crop",
        *,
        trace: bool = True,
        trace_block: Optional[str] = None,
        trace_channels: Optional[Sequence[int]] = None,
        trace_seconds: float = TRACE_SECONDS,
    ) -> None:
        self.lm = lm
        self.fit = fit
        self.language = current()
        self.trace = trace
        self.trace_block = trace_block or lm.blocks[-1].name
        self.trace_seconds = trace_seconds
        self._channels: Optional[list[int]] = list(trace_channels) if trace_channels else None
        self.history = GateHistory()
        self.names = {b.name: b.name for b in lm.blocks}  # the paper's SE_s_b (module paths otherwise)
        self._lock = threading.Lock()
        self._latest: Optional[tuple[np.ndarray, LiveResult]] = None
        self._started: Optional[float] = None  # stamp of the first frame
        self.processed = 0
        self.dropped = 0
        self._worker: Optional[NewestFrameWorker] = None
        #: Each finished picture the moment it is finished, once a sender reads here (attached);
        #: until then :meth:`offer` hands it back.
        self.pictures: NewestMailbox = NewestMailbox()
        self._finished: Optional[Any] = None

    # ------------------------------------------------------------------ frames in, frames out

    def newest(self, frames: Sequence[T]) -> T:
        """The last of the frames that queued up while the previous one was processed; the others
        are counted as dropped (stale frames are never processed)."""
        with self._lock:
            self.dropped += len(frames) - 1
        return frames[-1]

    def offer(self, frame: Any, work: Callable[[Any], Any]) -> Optional[Any]:
        """Hand the newest camera frame to this stream's frame thread (started on first use) and
        return at once: the picture ``work`` finished since the last call (``work(frame)`` runs in
        the thread, e.g. decode, :meth:`process`, encode), or None if none finished or a sender
        reads :attr:`pictures` (each picture goes to one of them only)."""
        with self._lock:
            worker = self._worker
            if worker is None or not worker.alive:
                worker = self._worker = NewestFrameWorker(work, on_done=self._hand_on)
        replaced = worker.offer(frame)
        with self._lock:
            self.dropped += replaced
            finished, self._finished = self._finished, None
        return finished

    def _hand_on(self, picture: Any) -> None:  # in the frame thread
        if self.pictures.attached:
            self.pictures.put(picture)
        else:
            with self._lock:
                self._finished = picture

    def busy(self) -> bool:
        """Whether a frame waits for, or is in, this stream's frame thread."""
        worker = self._worker
        return worker is not None and worker.busy()

    def stop(self) -> None:
        """End this stream's frame thread (the stream ended); the next :meth:`offer` starts another,
        for a stream with a sender of its own: its pictures are handed back until that sender
        reads :attr:`pictures`, which starts empty (no picture of the last stream)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()  # waits for the frame in hand: nothing is handed on after this
        with self._lock:
            self.pictures, self._finished = NewestMailbox(), None

    def process(self, rgb: np.ndarray) -> np.ndarray:
        """Analyse one frame (H, W, 3) uint8 RGB and return it with the overlay drawn in."""
        result = analyse_frame(self.lm, rgb, self.fit)
        self.history.push(result.stamp, result.gates)
        if self._started is None:
            self._started = result.stamp
        with self._lock:
            self._latest = (rgb, result)
            self.processed += 1
        with language(drawable_language(self.language)):
            return draw_overlay(rgb, result, self.names, self._trace(result))

    def latest(self) -> Optional[tuple[np.ndarray, LiveResult]]:
        """The last processed frame and its result (None before the first)."""
        with self._lock:
            return self._latest

    # ------------------------------------------------------------------ the trace

    def follow(self, channels: Optional[Sequence[int]], block: Optional[str] = None) -> None:
        """Follow these channels (None: pick again the ones that move most)."""
        if block is not None:
            self.trace_block = block
        self._channels = list(channels) if channels else None

    def channels(self) -> list[int]:
        """The channels the trace follows now."""
        chosen = self._channels
        return list(chosen) if chosen else self.history.most_moving(self.trace_block, TRACE_CHANNELS, 5.0)

    def _trace(self, result: LiveResult) -> Optional[Trace]:
        if not self.trace:
            return None
        if self._channels is None and result.stamp - self._started >= 1.0:
            self._channels = self.channels()  # picked once after a second, then kept
        channels = self.channels()
        ages, values = self.history.series(self.trace_block, channels, self.trace_seconds, result.stamp)
        names = [_("ch {channel}").format(channel=c) for c in channels]
        return Trace(self.trace_block, names, ages, values, self.trace_seconds)

    # ------------------------------------------------------------------ freeze

    def freeze(self) -> Optional[FrozenFrame]:
        """The current frame as a :class:`FrozenFrame` (None before the first frame): in memory
        only, never written to disk."""
        latest = self.latest()
        if latest is None:
            return None
        rgb, result = latest
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        data = buf.getvalue()
        name = f"live frame {hashlib.sha256(data).hexdigest()[:6]}.png"
        return FrozenFrame(name=name, png=data, top=result.top)
