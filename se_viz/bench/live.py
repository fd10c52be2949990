"""How fast do the gates move? ``se-viz bench --live`` plays a video file as Chromium's camera into
the Live tab and measures what comes back.

Chromium's fake camera (``--use-file-for-fake-video-capture``) plays a Y4M file we write here:
classes of the bundled mini model drawn by its own generator (a second each), and a frame number
coded as black and white cells at the left edge (outside every model's centre crop, which the
overlay never covers). The page keeps a handle on its ``RTCPeerConnection`` (an init script wraps
the constructor) and reads, for the received track:

* ``getStats()``: ``framesDecoded`` / ``framesPerSecond`` — the rate of the video the browser
  shows (streamlit-webrtc sends a frame for every camera frame, repeating the last processed
  one while the next is being computed);
* the frame numbers in the pictures, read on every shown frame (``requestVideoFrameCallback``):
  *processed* frames per second (distinct numbers) and the lag behind the camera (the number
  the camera is at, read from the page's own camera track, minus the number shown, in frames).

One server, one model at a time: the bundled SE-ResNet mini and an untrained SE-ResNet-50
(random weights in a local file); then ``viewers`` pages at once on the mini model.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, TextIO

import numpy as np
from PIL import Image

__all__ = ["LiveBenchResult", "class_frames", "run_live_bench", "write_y4m", "CODE_BITS"]

FPS = 30
CODE_BITS = 12  # frame numbers 0…4095 (2 minutes at 30 fps)
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
    """Top-left corners of the frame-number cells (bit 0 first): a column at the left edge, mid-height."""
    cell = max(4, _CELL * h // 480)
    y0 = h // 2 - CODE_BITS * cell // 2
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

# Reads the frame numbers of every shown frame of the received video and of the page's own
# camera track at the same moment (requestVideoFrameCallback); keeps (time, shown, camera).
_READ_CODES_JS = """([cells, cell]) => {
  if (window.__seCodes) return true;
  const pcs = window.__sePeers || [];
  const pc = pcs[pcs.length - 1];
  const video = document.querySelector('video');
  if (!pc || !video || !video.srcObject) return false;
  const sender = pc.getSenders().find(s => s.track && s.track.kind === 'video');
  const local = document.createElement('video');
  local.muted = true; local.srcObject = new MediaStream([sender.track]); local.play();
  window.__seCodes = [];
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const read = (v) => {
    const w = v.videoWidth, h = v.videoHeight;
    if (!w || !h) return -1;
    canvas.width = w; canvas.height = h; ctx.drawImage(v, 0, 0);
    const c = Math.max(4, Math.floor(cell * h / 480)), y0 = Math.floor(h / 2 - cells * c / 2);
    let n = 0;
    for (let b = 0; b < cells; b++) {
      const p = ctx.getImageData(Math.floor(c / 2), y0 + b * c + Math.floor(c / 2), 1, 1).data;
      if (p[0] + p[1] + p[2] > 3 * 128) n |= (1 << b);
    }
    return n;
  };
  const onFrame = () => {
    window.__seCodes.push([performance.now(), read(video), read(local)]);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  return true;
}"""


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


def _component_frame(page):
    for frame in page.frames:
        if frame.evaluate("() => (window.__sePeers || []).length") > 0:
            return frame
    raise RuntimeError("the page has no WebRTC connection")
