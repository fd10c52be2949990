"""The Live tab in a real browser: Debian Chromium's fake camera plays a video file of a red circle
drawn by the mini model's own generator, over real WebRTC (streamlit-webrtc on aiortc, no STUN).

* the live top-1 is "red circle", and the received video runs;
* leaving the tab stops the stream at once, closing the page within ICE's consent timeout: the
  server's threads go back to what they were (no orphan threads; an idle executor pool stays);
* in projector mode at 1024×768 the video and its gate strip fit above the fold;
* three viewers on one server each keep their live picture while the others start theirs, and
  their connections stay up.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from se_viz.bench.browser import click_and_settle, settle
from se_viz.bench.live import (
    FAKE_CAMERA_ARGS,
    PEER_INIT_JS,
    class_frames,
    component_frame,
    inbound_stats,
    start_live,
    write_y4m,
)

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000
# The state of the page's newest WebRTC connection ("connected" while the stream is up).
_CONNECTION_JS = "() => { const pcs = window.__sePeers || []; return pcs[pcs.length - 1].connectionState; }"


@pytest.fixture(scope="module")
def red_circle_video(tmp_path_factory) -> Path:
    """One second of a red circle (the mini model's class 0) at 320×240, looped by the camera."""
    return write_y4m(tmp_path_factory.mktemp("video") / "red_circle.y4m", class_frames([0], 1.0, (240, 320)))


@pytest.fixture(scope="module")
def camera_browser(browser, red_circle_video):
    """A Chromium whose camera plays the red-circle video (the permission prompt answered yes)."""
    from conftest import CHROMIUM, CHROMIUM_ARGS

    args = CHROMIUM_ARGS + FAKE_CAMERA_ARGS + [f"--use-file-for-fake-video-capture={red_circle_video}"]
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
    try:
        yield b
    finally:
        b.close()


# Every thread's stack on SIGUSR1 (faulthandler, loaded by a sitecustomize on the server's path),
# so the test sees which threads belong to a stream — counting threads alone cannot tell them from
# the idle pools that stay (Starlette's AnyIO workers grow with the page's requests).
_SITECUSTOMIZE = "import faulthandler, signal\nfaulthandler.register(signal.SIGUSR1, all_threads=True)\n"
# A stream's own threads: this viewer's frame thread, streamlit-webrtc's processing thread, aiortc's
# video decoder.
_STREAM_FRAMES = ("se_viz/live/worker.py", "streamlit_webrtc/process.py", "aiortc/rtcrtpreceiver.py")


@pytest.fixture(scope="module")
def stack_server(tmp_path_factory, mini_env):
    """The app on the mini model, whose threads' stacks can be read (see :func:`_stream_threads`)."""
    from conftest import start_server

    folder = tmp_path_factory.mktemp("stack_server")
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    server = start_server({**mini_env, "PYTHONPATH": path}, folder)
    try:
        yield server
    finally:
        server.stop()


def _stream_threads(server) -> int:
    """How many of the server's threads run a live stream's code now."""
    start = server.log_path.stat().st_size
    os.kill(server.proc.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = server.log_path.read_bytes()[start:].decode(errors="replace")
        if "Current thread" in text or text.count("Thread 0x") > 3:
            time.sleep(0.3)  # the rest of the dump
            text = server.log_path.read_bytes()[start:].decode(errors="replace")
            blocks = text.split("Thread 0x")[1:] + text.split("Current thread 0x")[1:]
            return sum(1 for block in blocks if any(f in block for f in _STREAM_FRAMES))
        time.sleep(0.1)
    raise AssertionError("the server did not dump its threads")


def _wait_stream_threads(server, at_most: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while (n := _stream_threads(server)) > at_most and time.monotonic() < deadline:
        time.sleep(0.5)
    return n


def _live_page(camera_browser, url: str, viewport=None):
    context = camera_browser.new_context(viewport=viewport or {"width": 1400, "height": 900})
    context.add_init_script(PEER_INIT_JS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    button = page.get_by_role("button", name=re.compile("Analyse the synthetic"))
    button.wait_for()
    click_and_settle(page, button)
    return context, page


def test_live_top1_is_the_red_circle_and_threads_end(camera_browser, stack_server):
    context, page = _live_page(camera_browser, stack_server.url)
    try:
        click_and_settle(page, page.get_by_role("tab", name="Live", exact=True))
        assert _stream_threads(stack_server) == 0
        start_live(page)
        page.get_by_text(re.compile(r"Now: red circle")).wait_for(timeout=TIMEOUT_MS)
        first = inbound_stats(page)
        time.sleep(2.0)
        second = inbound_stats(page)
        assert second["decoded"] > first["decoded"], "the received video runs"
        assert _stream_threads(stack_server) >= 3, "the stream runs on threads of its own"
        click_and_settle(page, page.get_by_role("tab", name="Predictions", exact=True))
        left = _wait_stream_threads(stack_server, 0, 30)
        assert left == 0, f"leaving the tab leaves {left} of the stream's threads running"

        start_live(page)  # back on the Live tab, the stream starts again; closing the page ends it
        page.get_by_text(re.compile(r"Now: red circle")).wait_for(timeout=TIMEOUT_MS)
        assert _stream_threads(stack_server) >= 3
        first = inbound_stats(page)
        time.sleep(2.0)
        assert inbound_stats(page)["decoded"] > first["decoded"], "the new stream's video runs"
    finally:
        context.close()
    # A closed page may say nothing: the server then notices within ICE's consent checks (~30 s).
    left = _wait_stream_threads(stack_server, 0, 60)
    assert left == 0, f"closing the page leaves {left} of the stream's threads running"


def _bottom_of_video(page) -> float:
    """Page y of the bottom of the received video (inside the component's frame)."""
    frame_box = page.locator("iframe[title*=webrtc]").bounding_box()
    video_box = page.frame_locator("iframe[title*=webrtc]").locator("video").bounding_box()
    # Playwright gives boxes of elements in frames in the page's coordinates already.
    return max(video_box["y"] + video_box["height"], 0) if video_box else frame_box["y"] + frame_box["height"]


def test_projector_fits_the_video_and_freeze_feeds_the_other_views(camera_browser, mini_server, shots_dir):
    width, height = 1024, 768
    context, page = _live_page(camera_browser, mini_server.url, {"width": width, "height": height})
    try:
        click_and_settle(page, page.get_by_text("Projector mode"))
        start_live(page)
        page.get_by_text(re.compile(r"Now: red circle")).wait_for(timeout=TIMEOUT_MS)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.locator("[data-testid=stMain]").evaluate("m => m.scrollTo(0, 0)")
        video = _bottom_of_video(page)
        bar = page.locator("[data-testid=stPlotlyChart]").first.bounding_box()
        page.screenshot(path=str(shots_dir / "projector_1024x768_live.png"))
        assert video <= height, f"the video (and its strip) ends at {video:.0f} px, below the fold"
        assert bar["y"] + bar["height"] <= height, "the colour bar is below the fold"

        freeze = page.get_by_role("button", name="Freeze this frame")
        click_and_settle(page, freeze)
        # The page is settled, then the tab clicked and its heading awaited: the page state, not the
        # run counter, which can miss the run (the status line refreshes every second while the
        # camera plays; seen once in the whole suite under load).
        settle(page)
        page.get_by_role("tab", name="Predictions", exact=True).click()
        heading = page.get_by_role(
            "heading", name=re.compile(r"live frame [0-9a-f]{6}\.png — top-1: red circle")
        )
        heading.wait_for(timeout=TIMEOUT_MS)
        sidebar = page.locator("[data-testid=stSidebar]")
        sidebar.get_by_text("Link to this view").click()
        link = sidebar.locator("[data-testid=stCode]").inner_text()
        assert "live" not in link, "a frozen frame is never in a link"
    finally:
        context.close()


# The text of the Live tab's status line (it reruns itself every second, a Streamlit fragment).
_STATUS_JS = """() => {
  const el = [...document.querySelectorAll('[data-testid=stMarkdown]')]
    .find(e => /frames.s analysed|每秒分析/.test(e.innerText));
  return el ? el.innerText : null;
}"""


def test_the_live_status_line_keeps_the_sessions_language(camera_browser, mini_server):
    """The status line refreshes itself every second; those reruns run only its own function, not
    the language switch, and drew English on a page in Chinese. Two refreshes on, it still reads
    Chinese."""
    context = camera_browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:  # the page opened by a link in Chinese on the Live tab, one image
        page.goto(f"{mini_server.url}/?img=synthetic_red_circle.png&tab=Live&lang=zh_CN")
        settle(page)
        page.frame_locator("iframe[title*=webrtc]").get_by_role("button", name="开启实时摄像头").click()
        page.get_by_text(re.compile("当前：红色圆形")).wait_for()
        for _ in range(2):  # wait for the line to be redrawn by its own rerun (its rate changes)
            before = page.evaluate(_STATUS_JS)
            page.wait_for_function(f"() => ({_STATUS_JS})() !== {json.dumps(before)}", timeout=TIMEOUT_MS)
        status = page.evaluate(_STATUS_JS)
        assert status.startswith("当前：红色圆形") and "Now" not in status, status
    finally:
        context.close()


def test_without_a_camera_the_live_tab_says_so(browser, mini_server):
    """Headless Chromium without a fake camera has no camera at all: the tab says what that means."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(mini_server.url)
        button = page.get_by_role("button", name=re.compile("Analyse the synthetic"))
        button.wait_for()
        click_and_settle(page, button)
        click_and_settle(page, page.get_by_role("tab", name="Live", exact=True))
        frame = page.frame_locator("iframe[title*=webrtc]")
        frame.get_by_role("button", name="Start the live camera").click()
        frame.get_by_text(re.compile("NotFoundError")).wait_for()  # the browser's own word for it
        page.get_by_text(re.compile("NotFoundError.*no camera was found")).wait_for()  # and ours
    finally:
        context.close()


def test_three_viewers_on_one_server_each_keep_their_live_picture(camera_browser, mini_server):
    """Each page that starts its camera must leave the others' streams running. Five viewers once
    stopped each other twice over: a frame callback waited for the model while a new page analysed
    its images (streamlit-webrtc ends a stream whose callback takes over 10 s), and then Streamlit's
    full garbage collection after every rerun held the interpreter so long that the event loop
    carrying every stream left the browsers' consent checks unanswered for 30 s (the browser then
    saw the connection drop and closed it; fixed by ``runner.postScriptGC = false``)."""
    opened = []
    try:
        for _ in range(3):
            context, page = _live_page(camera_browser, mini_server.url)
            opened.append((context, page))
            start_live(page)
        pages = [page for _, page in opened]
        for page in pages:
            page.get_by_text(re.compile(r"Now: red circle")).wait_for(timeout=TIMEOUT_MS)
        first = [inbound_stats(page) for page in pages]
        time.sleep(3.0)
        second = [inbound_stats(page) for page in pages]
        for i, (a, b) in enumerate(zip(first, second, strict=True)):
            assert a is not None and b is not None, f"viewer {i + 1} of 3 has no video coming back"
            assert b["decoded"] > a["decoded"] + 10, f"viewer {i + 1} of 3 stopped receiving its picture"
        states = [component_frame(page).evaluate(_CONNECTION_JS) for page in pages]
        assert states == ["connected"] * 3, f"connections: {states}"
    finally:
        for context, _ in opened:
            context.close()
