"""The Live tab: the browser's camera streams to the server, every processed frame comes back with
the top-3 classes and every SE block's gates drawn in (:mod:`se_viz.live`), and "Freeze" turns the
current frame into an ordinary image for every other view.

The stream is streamlit-webrtc's (aiortc on the server): frames are drawn in a worker thread, so
the picture runs at video rate without a page rerun. Its asynchronous processing hands over every
frame that arrived during the previous one; :meth:`~se_viz.live.LiveProcessor.newest` keeps the
last (newest frame wins, stale frames are dropped, never queued). The stream stops when the tab is
left (:func:`stop_live`) or the session ends (streamlit-webrtc's session observer).
"""

from __future__ import annotations

import time
from fractions import Fraction

import av
import streamlit as st
from aiortc.mediastreams import MediaStreamError
from streamlit_webrtc import WebRtcMode, webrtc_streamer
from streamlit_webrtc.component import _reset_context

from se_viz import LoadedModel
from se_viz.figures.colorbar import gate_colorbar_figure
from se_viz.i18n import N_, _, class_name, current
from se_viz.live import LiveProcessor, ice_servers
from se_viz.loading.choice import ModelChoice

from . import state
from .common import served, styled
from .language import session_fragment

__all__ = ["render_live", "stop_live", "STREAM_KEY"]

#: streamlit-webrtc keeps its stream context in the session under this key (the widget's own).
STREAM_KEY = "live_stream"
# 640×480 at up to 30 fps: enough for the mini model's 64 px and SE-ResNet-50's 224 px centre crop;
# larger frames only cost encoding time.
CONSTRAINTS = {
    "video": {"width": {"ideal": 640}, "height": {"ideal": 480}, "frameRate": {"ideal": 30}},
    "audio": False,
}
# What the stream's own buttons and messages say, in the user's words.
START = N_("Start the live camera")
WORDS = {
    "start": START,
    "stop": N_("Stop"),
    "select_device": N_("Choose a camera"),
    "media_api_not_available": N_(
        "This browser cannot share a camera here. Open the app on http://localhost or over https, "
        "in a current browser."
    ),
    "device_ask_permission": N_("Allow the camera in the browser's question above the page."),
    "device_not_available": N_(
        "No camera found. Plug one in (or close the program using it) and press Start again."
    ),
    "device_access_denied": N_(
        "The browser was not allowed to use the camera. Allow it in the address bar's camera icon, "
        "then press Start again."
    ),
}
# Pixels, not vh: the video sits in the component's own frame, whose height follows the video. 440 px
# keeps the video and its strip above the fold of a 1024×768 and a 1280×720 projector.
#: Under the video until it plays: the stream's box shows the browser's own error name.
CAMERA_HELP = N_(
    "No picture? **NotAllowedError**: the browser was not allowed to use the camera — allow it with "
    "the camera icon in the address bar, then press Start again. **NotFoundError**: no camera was "
    "found — plug one in (or close the program using it). **NotReadableError**: another program "
    "holds the camera. The camera works only on http://localhost or over https."
)
VIDEO_STYLE = {"width": "100%", "maxHeight": "440px", "objectFit": "contain", "background": "#000"}


def _frames_callback(processor: LiveProcessor):
    """streamlit-webrtc's callback: the newest frame goes to the viewer's frame thread, and the
    picture it finished since (if any) comes back; it never waits for the model (a call over 10 s
    would end the stream). With nothing new, streamlit-webrtc repeats the last picture."""

    def analyse(frame: av.VideoFrame) -> av.VideoFrame:  # in the frame thread
        return av.VideoFrame.from_ndarray(processor.process(frame.to_ndarray(format="rgb24")), format="rgb24")

    async def on_frames(frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        done = processor.offer(processor.newest(frames), analyse)
        return [] if done is None else [done]

    return on_frames


def _newest_frames_only(context) -> None:
    """Make the frames reach the processing track and the sender newest first, dropping any backlog,
    and send each finished picture once.

    streamlit-webrtc connects the camera to the processing track, and the processing track to the
    sender (which encodes), through aiortc ``MediaRelay`` proxies with unbounded queues: when a
    step costs more than a camera frame's time (a busy machine), frames pile up there and the
    picture falls seconds behind. Each ``recv`` of those proxies then takes everything queued and
    keeps the newest (it runs in the stream's event loop, the only thread that touches the
    queues). The processing track hands on a frame for every camera frame, repeating the last
    picture until the next is finished; the sender skips those repeats (one every
    :data:`REPEAT_EVERY_S` at most), so a viewer's server encodes the pictures the model made, not
    the camera's 30 frames/s — with five viewers that was most of the machine. Private attributes
    of streamlit-webrtc 0.79.0 and aiortc 1.16.0 (pinned); without them nothing changes.
    """
    worker = context._get_worker()
    if worker is None:
        return
    camera = getattr(getattr(worker, "_output_video_track", None), "track", None)
    pc = getattr(worker, "pc", None)
    senders = [s.track for s in pc.getSenders() if s.track is not None] if pc is not None else []
    for relayed, new_only in [(camera, False), *[(track, True) for track in senders]]:
        queue = getattr(relayed, "_queue", None)
        if queue is None or getattr(relayed, "_se_newest", False):
            continue
        relayed.recv = _newest_recv(relayed, relayed.recv, queue, new_only)
        relayed._se_newest = True


#: With nothing new, the sender repeats the last picture this often (seconds), so a paused
#: analysis still shows a picture that is being sent.
REPEAT_EVERY_S = 1.0


def _newest_recv(relayed, original, queue, new_only: bool = False):
    last, last_sent = None, 0.0
    origin = time.monotonic()  # send-time stamps count from the stream's start, as a camera's do

    async def newest():
        nonlocal last, last_sent
        while True:
            frame = await original()
            while not queue.empty():
                later = queue.get_nowait()
                if later is None:  # the source ended: as the proxy itself would
                    relayed.stop()
                    raise MediaStreamError
                frame = later
            if not new_only:
                return frame
            # streamlit-webrtc repeats a finished picture as the same object (new timestamps)
            now = time.monotonic()
            if frame is not last or now - last_sent >= REPEAT_EVERY_S:
                last, last_sent = frame, now
                return _stamped_copy(frame, now - origin)

    return newest


def _stamped_copy(frame: av.VideoFrame, seconds: float) -> av.VideoFrame:
    """A copy of a finished picture, stamped with the time it is sent (``seconds`` since the stream's
    first picture).

    streamlit-webrtc stamps a picture with the newest camera frame's time when it hands it on, and
    stamps the same object again at every repeat, also while the encoder (in another thread) reads
    it. The browser's jitter buffer then saw the camera-to-send delay, which varies with the
    server's load, as network jitter, and held pictures back to smooth it: 150–200 ms with five
    viewers (``getStats``: ``jitterBufferDelay``). A picture of its own, stamped once with its send
    time, leaves the browser only the network's jitter to smooth (40–110 ms then, same test)."""
    # Copied in the frame's own format, without a conversion: a conversion goes through a scaler
    # kept on the frame, and the first camera frames (sent until a picture is finished) are being
    # converted in the frame thread at the same time — two threads in one scaler hung that thread.
    out = av.VideoFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name)
    out.pts, out.time_base = round(seconds * SEND_CLOCK), Fraction(1, SEND_CLOCK)
    return out


#: The RTP video clock (Hz): the send-time stamps of :func:`_stamped_copy` count in it.
SEND_CLOCK = 90_000


def stop_live() -> None:
    """Stop this session's stream (the Live tab is not shown): no camera, no thread left behind."""
    context = st.session_state.get(STREAM_KEY)
    if context is not None and context._get_worker() is not None:
        _reset_context(context)  # streamlit-webrtc's own teardown: worker, peer connection, threads


def _freeze(processor: LiveProcessor) -> None:
    frozen = processor.freeze()
    if frozen is not None:
        state.keep_frozen(frozen.name, frozen.png)


def render_live(lm: LoadedModel, choice: ModelChoice, fit: str) -> None:
    """The Live tab: the video with its overlay, the gate colour bar beside it, Freeze, and a status
    line (what the last frame showed and the frame rate)."""
    if not served():
        st.info(_("The live camera needs the app served by `streamlit run app.py` (or `make run`)."))
        return
    processor = state.live_processor(choice.key, lambda: LiveProcessor(lm, fit))
    processor.fit = fit
    processor.language = current()  # the overlay is drawn in a thread of its own, in this language
    try:
        servers = ice_servers()
    except ValueError as exc:
        st.error(
            _("The live camera cannot connect: {reason} Ask the operator to fix it.").format(reason=exc),
            icon=":material/error:",
        )
        return
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    video, bar = st.columns([6, 1], gap="small")
    with video:
        context = webrtc_streamer(
            key=STREAM_KEY,
            mode=WebRtcMode.SENDRECV,
            rtc_configuration={"iceServers": servers},
            media_stream_constraints=CONSTRAINTS,
            queued_video_frames_callback=_frames_callback(processor),
            on_video_ended=processor.stop,
            async_processing=True,
            translations={key: _(words) for key, words in WORDS.items()},
            video_html_attrs={"autoPlay": True, "controls": False, "muted": True, "style": VIDEO_STYLE},
        )
    _newest_frames_only(context)
    with bar:
        st.plotly_chart(
            styled(gate_colorbar_figure(300)), key="live_colorbar", config={"displayModeBar": False}
        )
    playing = bool(context.state.playing)
    with row:
        st.button(
            _("Freeze this frame"),
            icon=":material/photo_camera:",
            type="primary",
            on_click=_freeze,
            args=(processor,),
            disabled=not playing,
            help=_(
                "The current camera frame becomes an image in every other view (it stays in this "
                "session: never saved on the server, never in a link)."
            ),
        )
        st.button(
            _("Follow the channels moving now"),
            icon=":material/show_chart:",
            on_click=lambda: processor.follow(processor.history.most_moving(processor.trace_block, 4, 5.0)),
            disabled=not playing,
            key="live_follow",
            help=_(
                "The lines at the top right follow the channels of the last block whose gates "
                "moved most in the last 5 seconds."
            ),
        )
        if state.frozen_frames():
            st.button(_("Forget frozen frames"), on_click=state.forget_frozen, key="live_forget")
        _status(processor, playing)
    if not playing:  # the stream's box names the browser's error; this says what it means
        st.caption(_(CAMERA_HELP))
    st.caption(
        _(
            "Each row of the strip is one SE block (first block at the top), each column its channels' "
            "gates s in the Gate heatmap's colours (wide blocks: each pixel averages its channels). "
            "The lines at the top right follow a few channels of the last block over the last seconds."
        )
    )


def _status(processor: LiveProcessor, playing: bool) -> None:
    """What the last frame showed and how fast frames come, refreshed every second while playing."""

    def draw() -> None:
        latest = processor.latest()
        if not playing or latest is None:
            st.caption(_("Press **{start}** below the picture.").format(start=_(START)), width="content")
            return
        label, p = latest[1].top[0]
        rate = processor.history.rate(2.0)
        line = _("**Now: {label}** ({percent} %) · {rate} frames/s analysed").format(
            label=class_name(label), percent=f"{100 * p:.1f}", rate=f"{rate:.1f}"
        )
        st.markdown(line, width="content")

    session_fragment(draw, run_every=1.0 if playing else None)()
