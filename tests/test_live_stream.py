"""How frames move through a viewer's stream (se_viz.ui.live_stream, se_viz.live.mailbox), with
aiortc's real relay, jitter buffer and receiver, and no browser.

What a teacher would notice: the picture keeps up with the camera. A busy server skips camera
frames instead of queueing them; a finished picture goes out at once, not with the next camera
frame; a camera frame is analysed as soon as its last packet is in.
"""

from __future__ import annotations

import asyncio
import threading
import time
from fractions import Fraction
from types import SimpleNamespace

import av
import numpy as np
import pytest
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RtpPacket
from live_helpers import run_coroutine, video_frame, wait

import se_viz
from se_viz.bench.live import class_frames
from se_viz.live import LiveProcessor
from se_viz.live.mailbox import NewestMailbox
from se_viz.ui import live_stream
from se_viz.ui.live_stream import SEND_CLOCK, LastPacketJitterBuffer, route_frames


@pytest.fixture(scope="module")
def frames():
    red, blue = class_frames([0, 1], seconds_each=1 / 30)
    return red, blue


def _context(camera=None, senders=(), receivers=()):
    """streamlit-webrtc's context, as far as :func:`route_frames` reads it."""
    pc = SimpleNamespace(
        getSenders=lambda: [SimpleNamespace(track=t) for t in senders], getReceivers=lambda: list(receivers)
    )
    track = SimpleNamespace(track=camera) if camera is not None else None
    return SimpleNamespace(_get_worker=lambda: SimpleNamespace(_output_video_track=track, pc=pc))


class _Camera(MediaStreamTrack):
    """Numbered camera frames every ``interval`` seconds (``count`` made so far)."""

    kind = "video"

    def __init__(self, rgb: np.ndarray, interval: float = 0.001):
        super().__init__()
        self.rgb, self.interval, self.count, self.made = rgb, interval, 0, []

    async def recv(self):
        await asyncio.sleep(self.interval)
        if self.readyState != "live":  # as aiortc's own tracks: the source ended
            raise MediaStreamError
        self.count += 1
        frame = av.VideoFrame.from_ndarray(self.rgb, format="rgb24")
        frame.pts, frame.time_base = self.count, Fraction(1, 30)
        self.made.append(frame)
        return frame


def test_the_camera_backlog_is_skipped_to_the_newest_frame(frames):
    """streamlit-webrtc relays the camera to its processing track through an unbounded queue; each
    read now takes the newest queued frame (else a busy server falls behind)."""

    async def run():
        camera = _Camera(frames[0])
        proxy = MediaRelay().subscribe(camera)
        route_frames(_context(camera=proxy), NewestMailbox())
        first = await proxy.recv()  # starts the relay
        await asyncio.sleep(0.2)  # the camera runs on while nobody reads: a backlog
        newest = await proxy.recv()
        seen = camera.count
        proxy.stop()
        camera.stop()
        return first.pts, newest.pts, seen

    first, newest, seen = run_coroutine(run())
    assert newest >= seen - 1 and newest > first + 10, "the read skips the backlog to the newest frame"


def test_the_sender_sends_each_picture_the_moment_it_is_finished(frames, monkeypatch):
    """The sender reads the frame thread's pictures, not streamlit-webrtc's processing track (which
    hands a picture on only at the second camera frame after it is finished): each picture goes
    out once, at once, stamped with its send time; until the first, copies of the camera's frames
    go out; with nothing new the last picture is sent again; the track's own frames are drained;
    the stream's end reaches the sender."""
    monkeypatch.setattr(live_stream, "REPEAT_EVERY_S", 0.3)
    pictures = [video_frame(frames[k % 2]) for k in range(4)]
    put_at: list[float] = []

    async def run():
        processing = _Camera(frames[1], interval=0.005)  # streamlit-webrtc's track: the camera, at first
        proxy = MediaRelay().subscribe(processing)
        mailbox = NewestMailbox()
        route_frames(_context(senders=[proxy]), mailbox)
        assert mailbox.attached, "the frame thread is told that a sender reads its pictures"
        camera = [await proxy.recv()]  # nothing finished yet: the camera's frames

        def frame_thread():  # pictures finished 60 ms apart, the camera running on meanwhile
            for picture in pictures:
                time.sleep(0.06)
                put_at.append(time.monotonic())
                mailbox.put(picture)

        thread = threading.Thread(target=frame_thread)
        thread.start()
        sent = []
        while len(sent) < len(pictures) + 1:  # the pictures, then one sent again
            frame = await proxy.recv()
            if sent or any(frame is p for p in pictures):
                sent.append((frame, time.monotonic(), frame.pts))
            else:
                camera.append(frame)
        thread.join()
        backlog = proxy._queue.qsize()
        processing.stop()
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(proxy.recv(), 2.0)
        return camera, sent, processing.made, backlog

    camera, sent, camera_frames, backlog = run_coroutine(run())
    assert not any(c is f for c in camera for f in camera_frames), "camera frames go out as copies"
    assert all(np.array_equal(c.to_ndarray(format="rgb24"), frames[1]) for c in camera)
    assert [f for f, _, _ in sent[:4]] == pictures, "each picture once, in order, none skipped"
    # The first picture goes out at the next camera frame (5 ms here), the others at once.
    waits = [t - p for (_, t, _), p in zip(sent[:4], put_at, strict=True)]
    assert max(waits) < 0.03, f"a finished picture waited {max(waits) * 1000:.0f} ms to go out"
    assert sent[4][0] is pictures[-1] and sent[4][1] - put_at[-1] >= 0.25, "the last picture, again"
    stamps = [pts for _, _, pts in sent]
    walls = [t for _, t, _ in sent]
    assert all(f.time_base == Fraction(1, SEND_CLOCK) for f in camera + [f for f, _, _ in sent])
    for a, b, ta, tb in zip(stamps, stamps[1:], walls, walls[1:], strict=False):
        assert 0 < b - a < 2**32 and abs((b - a) / SEND_CLOCK - (tb - ta)) < 0.02, "stamped when sent"
    assert backlog <= 3, f"the processing track's frames are drained ({backlog} queued)"


def test_a_camera_frame_is_released_when_its_last_packet_is_in():
    """aiortc's jitter buffer hands a frame to the decoder when the next frame's first packet
    arrives, a camera frame late; the Live tab's releases it at its marked last packet, and keeps
    aiortc's behaviour for packets out of order and the browser's padding."""

    def packet(seq: int, ts: int, marker: bool = False, data: bytes = b"x") -> RtpPacket:
        p = RtpPacket(payload_type=96, marker=int(marker), sequence_number=seq, timestamp=ts)
        p._data = data
        return p

    frame_a = [packet(1, 3000, data=b"a1"), packet(2, 3000, data=b"a2"), packet(3, 3000, True, b"a3")]
    aiortcs, ours = (
        JitterBuffer(capacity=512, is_video=True),
        LastPacketJitterBuffer(capacity=512, is_video=True),
    )
    assert [aiortcs.add(p)[1] for p in frame_a] == [None, None, None], "aiortc waits for the next frame"
    out = [ours.add(p)[1] for p in frame_a]
    assert out[:2] == [None, None] and out[2].data == b"a1a2a3" and out[2].timestamp == 3000

    padding = packet(4, 3000, data=b"")  # sent with the last frame's timestamp to probe bandwidth
    late, last = packet(6, 6000, True, b"b2"), packet(5, 6000, data=b"b1")  # out of order
    assert ours.add(padding)[1] is None
    assert ours.add(late)[1] is None, "not complete: a packet before the marked one is missing"
    frame = ours.add(last)[1]
    assert frame is not None and frame.data == b"b1b2" and frame.timestamp == 6000
    assert ours.add(packet(7, 9000, data=b"c1"))[1] is None, "no empty frame for the padding"


def test_the_stream_receives_camera_frames_through_the_eager_jitter_buffer():
    """route_frames swaps aiortc's real video receiver's jitter buffer (its private name checked
    here, on the pinned aiortc) and leaves an audio receiver's alone."""
    transport = SimpleNamespace(state="new")
    video, audio = RTCRtpReceiver("video", transport), RTCRtpReceiver("audio", transport)
    route_frames(_context(receivers=[video, audio]), NewestMailbox())
    assert type(video._RTCRtpReceiver__jitter_buffer) is LastPacketJitterBuffer
    assert type(audio._RTCRtpReceiver__jitter_buffer) is JitterBuffer


def test_the_mailbox_wakes_its_reader_at_once_and_keeps_only_the_newest():
    async def run():
        box: NewestMailbox[int] = NewestMailbox()
        t0 = time.monotonic()
        assert await box.get(0.1) is None and time.monotonic() - t0 >= 0.09, "nothing came: None"
        box.put(1)
        box.put(2)
        assert await box.get(1.0) == 2, "only the newest waits"
        put_at = []
        thread = threading.Timer(0.1, lambda: (put_at.append(time.monotonic()), box.put(3)))
        thread.start()
        got = await box.get(5.0)
        woke = time.monotonic() - put_at[0]
        thread.join()
        return got, woke

    got, woke = run_coroutine(run())
    assert got == 3 and woke < 0.05, f"the reader woke {woke * 1000:.0f} ms after the put"


def test_each_picture_goes_to_the_sender_or_back_to_streamlit_webrtc_never_both(frames):
    """Until a sender reads the pictures, the frame callback hands each back (streamlit-webrtc
    sends it); once one does, the callback hands back nothing and the picture waits in the
    mailbox — one owner per picture, so nobody restamps a frame the encoder is reading."""
    from se_viz.ui.live_view import _frames_callback

    mini = se_viz.load_model(se_viz.MINI_MODEL)
    processor = LiveProcessor(mini, trace=False)
    callback = _frames_callback(processor)
    try:
        assert run_coroutine(callback([video_frame(frames[0])])) == []
        wait(lambda: not processor.busy())
        handed = run_coroutine(callback([video_frame(frames[1])]))  # picks up frames[0]'s picture
        assert len(handed) == 1 and processor.pictures.take_nowait() is None, "handed back only"
        wait(lambda: not processor.busy())  # frames[1]'s picture: finished before a sender reads
        processor.pictures.attach()
        assert len(run_coroutine(callback([video_frame(frames[0])]))) == 1, "finished before: handed back"
        wait(lambda: not processor.busy())
        picture = processor.pictures.take_nowait()
        assert picture is not None, "finished after: in the mailbox"
        assert run_coroutine(callback([video_frame(frames[1])])) == [], "and not handed back"
        assert np.array_equal(picture.to_ndarray(format="rgb24")[-1], processor.process(frames[0])[-1])
        wait(lambda: not processor.busy())
        processor.stop()  # the stream ended; the next one has a sender of its own
        assert not processor.pictures.attached and processor.pictures.take_nowait() is None
        assert run_coroutine(callback([video_frame(frames[1])])) == []
        wait(lambda: not processor.busy())
        assert len(run_coroutine(callback([video_frame(frames[0])]))) == 1, "handed back again"
    finally:
        processor.stop()
