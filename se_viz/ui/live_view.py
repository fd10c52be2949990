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

import av
import streamlit as st
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
from .live_stream import route_frames

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
    """streamlit-webrtc's callback: the newest frame goes to the viewer's frame thread, and it never
    waits for the model (a call over 10 s would end the stream). The stream's sender takes each
    finished picture straight from the processor (:mod:`.live_stream`); until it does, a picture
    finished since the last call is handed back here, and streamlit-webrtc sends it."""

    def analyse(frame: av.VideoFrame) -> av.VideoFrame:  # in the frame thread
        return av.VideoFrame.from_ndarray(processor.process(frame.to_ndarray(format="rgb24")), format="rgb24")

    async def on_frames(frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        done = processor.offer(processor.newest(frames), analyse)
        return [] if done is None else [done]

    return on_frames


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
    route_frames(context, processor.pictures)
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
