"""How fast do the gates move? ``se-viz bench --live`` plays a video file as Chromium's camera into
the Live tab and measures what comes back.

Chromium's fake camera (``--use-file-for-fake-video-capture``) plays a Y4M file we write here:
classes of the bundled mini model drawn by its own generator (a second each), and a frame number
coded as black and white cells at the left edge (outside every model's centre crop, which the
overlay never covers). The page keeps a handle on its ``RTCPeerConnection`` (an init script wraps
the constructor) and reads, for the received track:

* ``getStats()``: ``framesDecoded`` / ``framesPerSecond`` — the rate of the video the browser
  receives (the server sends each finished picture once, and repeats it once a second when
  nothing new comes: :mod:`se_viz.ui.live_stream`);
* the frame numbers in the pictures, read from every frame of the received track and of the
  page's own camera track (``MediaStreamTrackProcessor``, a few pixels of each frame): the
  *analysed* frames per second (distinct numbers received) and, every 50 ms, the lag behind the
  camera (the number the camera is at minus the number of the newest received picture, in
  frames), so a picture counts for as long as it is the newest.

One server, one model at a time: the bundled SE-ResNet mini and an untrained SE-ResNet-50
(random weights in a local file); then ``viewers`` pages at once on the mini model. Before each
server starts, the same analysis of a 640×480 frame (:func:`~se_viz.live.analyse_frame` and the
overlay, on the live thread's torch threads) is timed in this process: the *ceiling* a viewer's
analysed frame rate can reach on this machine at this moment (the machine may be shared: the
ratio analysed / ceiling is what compares across runs).
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, TextIO

import numpy as np
from PIL import Image

__all__ = [
    "LiveBenchResult",
    "analysed_rate",
    "class_frames",
    "lag_samples",
    "run_live_bench",
    "write_y4m",
    "CODE_BITS",
]

FPS = 30
CODE_BITS = 8  # frame numbers 0…255 (8.5 s at 30 fps; the video is shorter and loops)
_CELL = 16  # px of one code cell at 640×480 (VP8 keeps 16-px black/white cells readable)


def write_y4m(path: Path, frames: Sequence[np.ndarray], fps: int = FPS) -> Path:
    """Write RGB frames (H, W, 3) uint8 as a raw YUV 4:2:0 Y4M file (what Chromium's fake camera
    plays); the conversion to YUV is PyAV's."""
    import av

    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            yuv = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(
                format="yuv420p"
            )
            f.write(b"FRAME\n")
            f.write(yuv.to_ndarray().tobytes())  # Y plane, then U and V (H/2 × W/2 each)
    return path


def class_frames(
    classes: Sequence[int], seconds_each: float = 1.0, size: tuple[int, int] = (480, 640), seed: int = 0
) -> list[np.ndarray]:
    """Frames showing each class of the mini model in turn (``seconds_each`` seconds each), drawn by
    its generator at 64 px and enlarged into the centre square of an (H, W) grey frame."""
    from se_viz.demo.synthetic import render

    h, w = size
    out = []
    for label in classes:
        small = render(np.random.default_rng([seed, label]), label)
        frame = np.full((h, w, 3), 128, dtype=np.uint8)
        x0 = (w - h) // 2
        frame[:, x0 : x0 + h] = np.asarray(Image.fromarray(small).resize((h, h), Image.BILINEAR))
        out += [frame] * round(seconds_each * FPS)
    return [f.copy() for f in out]


def code_cells(h: int, w: int) -> list[tuple[int, int]]:
    """Top-left corners of the frame-number cells (bit 0 first): a column at the left edge from a
    quarter of the height down, between the top-3 box and the gate strip."""
    cell = max(4, _CELL * h // 480)
    y0 = h // 4
    return [(y0 + i * cell, 0) for i in range(CODE_BITS)]


def stamp_numbers(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Each frame with its index coded in black (0) and white (1) cells (see :func:`code_cells`)."""
    for n, frame in enumerate(frames):
        h, w = frame.shape[:2]
        cell = max(4, _CELL * h // 480)
        for bit, (y, x) in enumerate(code_cells(h, w)):
            frame[y : y + cell, x : x + cell] = 255 if (n >> bit) & 1 else 0
    return frames


# ---------------------------------------------------------------------------------------------
# The page

FAKE_CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

# Keeps every RTCPeerConnection the page (or its component frame) makes, so getStats can be read.
PEER_INIT_JS = """(() => {
  const Original = window.RTCPeerConnection;
  if (!Original || Original.__seWrapped) return;
  const Wrapped = function (...args) {
    const pc = new Original(...args);
    (window.__sePeers = window.__sePeers || []).push(pc);
    return pc;
  };
  Wrapped.prototype = Original.prototype;
  Wrapped.__seWrapped = true;
  window.RTCPeerConnection = Wrapped;
})();"""

# Inbound video of the newest connection: frames decoded, frames per second, frame size.
_STATS_JS = """async () => {
  const pcs = window.__sePeers || [];
  if (!pcs.length) return null;
  const stats = await pcs[pcs.length - 1].getStats();
  let out = null;
  stats.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') out = {
    decoded: s.framesDecoded || 0, fps: s.framesPerSecond || 0, width: s.frameWidth || 0,
    height: s.frameHeight || 0, t: performance.now() }; });
  return out;
}"""

# Watches the received track and the page's own camera track with MediaStreamTrackProcessor (every
# frame as a VideoFrame, no rendering) and reads each frame's number from its luma: only the code
# column is copied out (VideoFrame.copyTo with a rect). Events go to __seShown (received: time,
# number) and __seCamera (camera: time, number); the lag and the analysed rate are computed from
# them afterwards (lag_samples, analysed_rate). Before, a canvas read whole frames of both videos
# 20 times a second and of the received one on every frame: with five pages that cost the browsers
# 0.3 cores of the two this machine has (/proc CPU times, 10 s, 2026-12-05), which the measured
# server then lacked.
_WATCH_CODES_JS = """([cells, cell]) => {
  if (window.__seShown) return true;
  const pcs = window.__sePeers || [];
  const pc = pcs[pcs.length - 1];
  if (!pc || typeof MediaStreamTrackProcessor === 'undefined') return false;
  const received = pc.getReceivers().find(r => r.track && r.track.kind === 'video');
  const sender = pc.getSenders().find(s => s.track && s.track.kind === 'video');
  if (!received || !sender) return false;
  window.__seShown = []; window.__seCamera = [];
  const watch = async (track, out) => {
    const reader = new MediaStreamTrackProcessor({track}).readable.getReader();
    while (true) {
      const {value: frame, done} = await reader.read();
      if (done) return;
      const t = performance.now();
      try {
        const h = frame.codedHeight;
        const c = Math.max(4, Math.floor(cell * h / 480)), y0 = Math.floor(h / 4);
        const top = y0 & ~1, height = (cells * c + 1) & ~1;
        const rect = {x: Math.floor(c / 2) & ~1, y: top, width: 2, height};
        const buf = new Uint8Array(frame.allocationSize({rect}));
        const [luma] = await frame.copyTo(buf, {rect});
        let n = 0;
        for (let b = 0; b < cells; b++) {
          const row = y0 + b * c + Math.floor(c / 2) - top;
          if (buf[luma.offset + row * luma.stride] > 128) n |= (1 << b);
        }
        out.push([t, n]);
      } catch (e) {
        out.push([t, -1]);
      } finally {
        frame.close();
      }
    }
  };
  watch(received.track, window.__seShown);
  watch(sender.track, window.__seCamera);
  return true;
}"""

LAG_STEP_S = 0.05


def lag_samples(
    camera: Sequence[tuple[float, int]],
    shown: Sequence[tuple[float, int]],
    start_ms: float,
    end_ms: float,
    frames_in_video: int,
    step_s: float = LAG_STEP_S,
) -> list[float]:
    """The lag behind the camera every ``step_s`` from ``start_ms`` to ``end_ms`` (page times):
    the number of the camera's newest frame minus the number of the newest received frame, in
    seconds (the video loops: modulo its length). A picture counts for as long as it is the newest,
    so a stream that sends fewer pictures is not flattered. Unreadable frames (number −1) are left
    out."""
    camera = [c for c in camera if c[1] >= 0]
    shown = [c for c in shown if c[1] >= 0]
    out: list[float] = []
    i = j = 0
    t = start_ms
    while t <= end_ms:
        while i < len(camera) and camera[i][0] <= t:
            i += 1
        while j < len(shown) and shown[j][0] <= t:
            j += 1
        if i and j:
            out.append(((camera[i - 1][1] - shown[j - 1][1]) % frames_in_video) / FPS)
        t += step_s * 1000
    return out


def analysed_rate(shown: Sequence[tuple[float, int]], start_ms: float) -> float:
    """Distinct pictures per second among the received frames from ``start_ms`` (page time): each
    change of number is one more camera frame that went through the model."""
    frames = [c for c in shown if c[0] >= start_ms and c[1] >= 0]
    if len(frames) < 2:
        return float("nan")
    changes = sum(1 for a, b in zip(frames, frames[1:], strict=False) if a[1] != b[1])
    return changes / ((frames[-1][0] - frames[0][0]) / 1000)


def start_live(page, timeout_ms: int = 120_000) -> None:
    """Open the Live tab of an app page that has images and press the stream's start button."""
    from .browser import click_and_settle

    tab = page.get_by_role("tab", name="Live", exact=True)
    if tab.get_attribute("aria-selected") != "true":
        click_and_settle(page, tab)
    frame = page.frame_locator("iframe[title*=webrtc]")
    frame.get_by_role("button", name="Start the live camera").click(timeout=timeout_ms)
    page.get_by_text("Now:").wait_for(timeout=timeout_ms)


def inbound_stats(page) -> Optional[dict]:
    """The received video's getStats (frames decoded, frames per second), read in the component frame."""
    for frame in page.frames:
        out = frame.evaluate(_STATS_JS)
        if out is not None:
            return out
    return None


def component_frame(page):
    for frame in page.frames:
        if frame.evaluate("() => (window.__sePeers || []).length") > 0:
            return frame
    raise RuntimeError("the page has no WebRTC connection")


# ---------------------------------------------------------------------------------------------
# The benchmark

WARMUP_S = 3.0
WINDOW_S = 10.0
BENCH_CLASSES = (0, 1, 3, 8)  # red circle, blue square, star, checkerboard: a second each


@dataclass
class LiveBenchResult:
    """One viewer's measurements over the window."""

    model: str
    viewers: int
    received_fps: float  # getStats: frames decoded per second on the received track
    analysed_fps: float  # distinct camera frames shown per second (frames that went through the model)
    lag_median_s: float  # camera frame now − camera frame shown, in seconds
    lag_p95_s: float
    ceiling_fps: float = float("nan")  # the same analysis alone, in-process, just before (1 / median)


def forward_ceiling(env: dict[str, str], repeats: int = 7) -> float:
    """Frames per second of one live frame's analysis and overlay alone (median of ``repeats``
    after a warm-up), on the live thread's torch threads: the model as the server loads it."""
    import threading

    import torch

    import se_viz
    from se_viz.live import LiveProcessor
    from se_viz.live.worker import live_threads

    lm = se_viz.load_model(env["SE_VIZ_MODEL"], weights=env.get("SE_VIZ_WEIGHTS") or None)
    frame = class_frames([0], 1 / FPS)[0]
    times: list[float] = []

    def run() -> None:  # a fresh thread, as a stream's frame thread is
        torch.set_num_threads(live_threads())
        processor = LiveProcessor(lm)
        processor.process(frame)
        for _ in range(repeats):
            t0 = time.perf_counter()
            processor.process(frame)
            times.append(time.perf_counter() - t0)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return 1.0 / statistics.median(times)


def _measure(pages: Sequence, frames_in_video: int, window: float) -> list[tuple[float, float, float, float]]:
    """(received fps, analysed fps, lag median, lag p95) of each page over ``window`` seconds."""
    frames = [component_frame(p) for p in pages]
    for f in frames:
        if not f.evaluate(_WATCH_CODES_JS, [CODE_BITS, _CELL]):
            raise RuntimeError("the page cannot watch its video tracks (MediaStreamTrackProcessor)")
    time.sleep(WARMUP_S)
    start = [(f.evaluate(_STATS_JS), f.evaluate("() => performance.now()")) for f in frames]
    time.sleep(window)
    out = []
    for f, (s0, t0) in zip(frames, start, strict=True):
        s1, t1 = f.evaluate(_STATS_JS), f.evaluate("() => performance.now()")
        if s0 is None or s1 is None:  # this viewer's connection never carried video (it failed)
            out.append((0.0, 0.0, float("nan"), float("nan")))
            continue
        received = (s1["decoded"] - s0["decoded"]) / ((s1["t"] - s0["t"]) / 1000)
        shown, camera = f.evaluate("() => [window.__seShown, window.__seCamera]")
        lags = sorted(lag_samples(camera, shown, t0, t1, frames_in_video))
        p95 = lags[min(len(lags) - 1, int(0.95 * len(lags)))] if lags else float("nan")
        out.append(
            (received, analysed_rate(shown, t0), statistics.median(lags) if lags else float("nan"), p95)
        )
    return out


def _open_live(browser, url: str, samples_button: str):
    from .browser import click_and_settle

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(PEER_INIT_JS)
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    button = page.get_by_role("button", name=re.compile(f"Analyse the {samples_button}"))
    button.wait_for()
    click_and_settle(page, button)
    start_live(page)
    return context, page


def run_live_bench(
    models: Sequence[str] = ("mini", "r50"),
    viewers: int = 5,
    window: float = WINDOW_S,
    out: TextIO = sys.stdout,
) -> list[LiveBenchResult]:
    """Play the bench video as the camera into the Live tab: one viewer per model, then ``viewers``
    at once on the mini model; print a table (see the module docstring for what is measured)."""
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM, CHROMIUM_ARGS, _Server, _setups

    results: list[LiveBenchResult] = []
    print(f"load average at the start: {os.getloadavg()[0]:.1f} (1 min)", file=out, flush=True)
    with tempfile.TemporaryDirectory(prefix="se_viz_bench_live_") as tmp, sync_playwright() as p:
        folder = Path(tmp)
        video_frames = stamp_numbers(class_frames(BENCH_CLASSES))
        video = write_y4m(folder / "bench.y4m", video_frames)
        args = CHROMIUM_ARGS + FAKE_CAMERA_ARGS + [f"--use-file-for-fake-video-capture={video}"]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            for setup in _setups(models, folder):
                ceiling = forward_ceiling(setup.env)
                print(f"  {setup.name}: analysis alone {ceiling:.1f} frames/s", file=out, flush=True)
                server = _Server(setup.env, None, folder / f"streamlit_{len(results)}.log")
                try:
                    server.wait_healthy()
                    counts = [1] + ([viewers] if "mini" in setup.name and viewers > 1 else [])
                    for n in counts:
                        opened = [_open_live(browser, server.url, setup.samples_button) for _ in range(n)]
                        try:
                            for m in _measure([pg for _, pg in opened], len(video_frames), window):
                                results.append(LiveBenchResult(setup.name, n, *m, ceiling_fps=ceiling))
                                print(f"  {results[-1]}", file=out, flush=True)
                        finally:
                            for context, _ in opened:
                                context.close()
                        print(f"  {setup.name}: {n} viewer(s) measured", file=out, flush=True)
                finally:
                    server.stop()
        finally:
            browser.close()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (1 min)", file=out, flush=True)
    _print_table(results, window, out)
    return results


def _print_table(results: Sequence[LiveBenchResult], window: float, out: TextIO) -> None:
    print(
        f"\nLive tab, Chromium's fake camera at 640×480, 30 fps; {window:.0f} s after {WARMUP_S:.0f} s of "
        "warm-up; with several viewers, the worst of them:\n",
        file=out,
    )
    print(
        "| model | viewers | received fps (getStats) | analysed fps | lag median (s) | lag p95 (s) "
        "| analysis alone (fps) | analysed / alone |",
        file=out,
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", file=out)
    groups: dict[tuple[str, int], list[LiveBenchResult]] = {}
    for r in results:
        groups.setdefault((r.model, r.viewers), []).append(r)
    for (model, n), rs in groups.items():
        worst = min(rs, key=lambda r: r.analysed_fps)
        print(
            f"| {model} | {n} | {min(r.received_fps for r in rs):.1f} | {worst.analysed_fps:.1f} | "
            f"{max(r.lag_median_s for r in rs):.2f} | {max(r.lag_p95_s for r in rs):.2f} | "
            f"{worst.ceiling_fps:.1f} | {worst.analysed_fps / worst.ceiling_fps:.2f} |",
            file=out,
        )
