"""How frames move through one viewer's WebRTC stream, newest first and without waiting.

streamlit-webrtc (on aiortc) connects the browser's camera to a processing track, and that track to
the sender that encodes the pictures back to the browser. Left as they come, three stages add
delay that grows with the machine's load, so :func:`route_frames` changes them on a running
stream:

- **Newest camera frame first.** The camera reaches the processing track through an aiortc
  ``MediaRelay`` proxy with an unbounded queue: when a step costs more than a camera frame's time
  (a busy machine), frames pile up there and the picture falls seconds behind. Each read now takes
  everything queued and keeps the newest.
- **Each picture straight to the sender.** streamlit-webrtc hands a finished picture on only at
  the second camera frame after it is finished, and repeats it at every camera frame. The sender
  now waits for the frame thread's next picture (:attr:`~se_viz.live.LiveProcessor.pictures`) and
  sends each picture once, the moment it is finished, stamped with its send time
  (:func:`stamped`); with nothing new it repeats the last every :data:`REPEAT_EVERY_S`. So the
  server encodes the pictures the model made, not the camera's 30 frames/s (with five viewers that
  was most of the machine), and the browser's jitter buffer smooths only the network's jitter.
- **A camera frame as soon as its last packet is in.** aiortc's jitter buffer releases a frame
  only when the next frame's first packet arrives (one camera frame later, 33 ms at 30 frames/s);
  :class:`LastPacketJitterBuffer` releases it at its last packet (the RTP marker bit).

Measured with five viewers (``se-viz bench --live``'s pages, a ``/tmp`` script that logged when
the server analysed each numbered camera frame, 2026-12-05): from analysis to the browser's
decoded picture 165 ms (median) before the second change and 80–130 ms after; from the camera to
the analysis 85 ms before the third and 46–55 ms after.

These are private attributes of streamlit-webrtc 0.79.0 and aiortc 1.16.0 (pinned); where one is
missing nothing changes, and the frame callback hands pictures on the old way
(:func:`se_viz.ui.live_view._frames_callback`). The code runs in the stream's event loop, the
only thread that touches these queues. No Streamlit here.
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Optional

import av
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError

from se_viz.live.mailbox import NewestMailbox

__all__ = ["LastPacketJitterBuffer", "REPEAT_EVERY_S", "SEND_CLOCK", "route_frames", "stamped"]

#: With nothing new, the sender repeats the last picture this often (seconds), so a paused
#: analysis still shows a picture that is being sent.
REPEAT_EVERY_S = 1.0
#: The RTP video clock (Hz): the send-time stamps count in it.
SEND_CLOCK = 90_000


def route_frames(context, pictures: NewestMailbox) -> None:
    """Apply the three changes above to the stream of streamlit-webrtc's ``context`` (once each;
    safe to call at every script run): newest camera frame first, the sender fed from
    ``pictures``, camera frames released at their last packet."""
    worker = context._get_worker()
    if worker is None:
        return
    camera = getattr(getattr(worker, "_output_video_track", None), "track", None)
    pc = getattr(worker, "pc", None)
    receivers = pc.getReceivers() if pc is not None else []
    senders = [s.track for s in pc.getSenders() if s.track is not None] if pc is not None else []
    for receiver in receivers:
        buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
        if type(buffer) is JitterBuffer and buffer._is_video:
            buffer.__class__ = LastPacketJitterBuffer  # same state, one method more eager
    for relayed, sender in [(camera, False), *[(track, True) for track in senders]]:
        queue = getattr(relayed, "_queue", None)
        if queue is None or getattr(relayed, "_se_routed", False):
            continue
        newest = _newest_recv(relayed, relayed.recv, queue)
        relayed.recv = _picture_recv(relayed, newest, queue, pictures) if sender else newest
        relayed._se_routed = True
        if sender:
            pictures.attach()  # from now on the frame thread hands its pictures to this sender


class LastPacketJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, releasing a frame when its last packet arrives.

    aiortc assembles a frame when a packet of the next frame arrives; a frame's last packet carries
    the RTP marker bit (RFC 7741 for VP8, RFC 6184 for H.264), so a frame whose packets from the
    first to the marked one are all in is complete already. Packets still missing, out of order or
    lost, fall back to aiortc's own rule. Empty frames (padding packets, which the browser sends
    with the last frame's timestamp to probe bandwidth) are dropped, not decoded.
    """

    def _remove_frame(self, sequence_number: int) -> Optional[JitterFrame]:
        frame = super()._remove_frame(sequence_number)
        if frame is not None and frame.data:
            return frame
        packets = []
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None or (packets and packet.timestamp != packets[0].timestamp):
                return None
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                data = b"".join(p._data for p in packets)
                return JitterFrame(data=data, timestamp=packet.timestamp) if data else None
        return None


def _newest_recv(relayed, original, queue):
    """``recv`` of a relay proxy that returns the newest queued frame, dropping the older ones."""

    async def newest():
        return _newest_queued(relayed, queue, await original())

    return newest


def _newest_queued(relayed, queue, frame):
    """The last frame in ``queue`` (``frame`` if it is empty); the source ended: as the proxy would."""
    while not queue.empty():
        later = queue.get_nowait()
        if later is None:
            relayed.stop()
            raise MediaStreamError
        frame = later
    return frame


def _picture_recv(relayed, newest, queue, pictures: NewestMailbox):
    """The sender's ``recv``: each finished picture once, the moment it is finished. Until the
    first, the camera's frames as they come (``newest`` reads the processing track, whose output
    is the camera's frame until then, and is drained unread afterwards)."""
    last = None
    origin = time.monotonic()  # send-time stamps count from the stream's start, as a camera's do

    async def recv():
        nonlocal last
        if last is None:
            picture = pictures.take_nowait()
            if picture is None:
                return stamped(_copy(await newest()), time.monotonic() - origin)
        else:
            picture = await pictures.get(REPEAT_EVERY_S)
            _newest_queued(relayed, queue, None)  # drop the track's frames; raise if it ended
            picture = picture if picture is not None else last  # nothing new: the last, again
        last = picture
        # The frame thread made this picture for the sender alone, and the encoder has finished the
        # previous one (aiortc encodes a frame before it reads the next): stamped in place.
        return stamped(picture, time.monotonic() - origin)

    return recv


def stamped(frame: av.VideoFrame, seconds: float) -> av.VideoFrame:
    """``frame`` stamped with the time it is sent (``seconds`` since the stream's start).

    streamlit-webrtc stamps a picture with the newest camera frame's time. The browser's jitter
    buffer then saw the camera-to-send delay, which varies with the server's load, as network
    jitter, and held pictures back to smooth it: 150–200 ms with five viewers (``getStats``:
    ``jitterBufferDelay``). Stamped with its send time it smooths only the network's jitter
    (40–110 ms then, same test)."""
    frame.pts, frame.time_base = round(seconds * SEND_CLOCK), Fraction(1, SEND_CLOCK)
    return frame


def _copy(frame: av.VideoFrame) -> av.VideoFrame:
    """A camera frame of the sender's own: the same object goes to the frame thread, which reads it.
    Copied in its own format: a conversion goes through a scaler kept on the frame, and two
    threads in one scaler hung the frame thread."""
    return av.VideoFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name)
