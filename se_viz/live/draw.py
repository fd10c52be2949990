"""The overlay drawn into each live frame: the top-3 classes, a gate strip with one row per SE
block, and optionally a "gates over time" trace — all with NumPy and Pillow, so it costs little
beside the forward pass and runs at video rate without a page rerun.

Gates take the gate heatmap's colour scale (:data:`se_viz.figures.style.GATE_COLORSCALE`, 0…1),
sampled into a lookup table through Plotly's own colour code, so a gate has the same colour in
the strip and in the heatmap, and the heatmap's colour bar reads both.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw
from plotly.colors import sample_colorscale, unlabel_rgb

from ..figures.style import GATE_COLORSCALE, GROUP_COLOURS
from ..fonts import CJK_FONTS, cjk_font_path
from ..fonts import font as _font
from ..i18n import DEFAULT_LANGUAGE, _, class_name, current
from .frame import LiveResult

__all__ = ["Trace", "draw_overlay", "drawable_language", "gate_lut", "strip_colour_index", "strip_box"]

log = logging.getLogger(__name__)

LEVELS = 256  # colours in the lookup table: finer than a projector shows
STRIP_SHARE = 0.42  # the strip takes at most this share of the frame's height
_DIM = 0.35  # panels darken the video behind them to this brightness


@functools.lru_cache(maxsize=4)
def gate_lut(levels: int = LEVELS) -> np.ndarray:
    """(levels, 3) uint8: the gate colour scale sampled at 0, 1/(levels-1), …, 1."""
    colours = sample_colorscale(GATE_COLORSCALE, list(np.linspace(0.0, 1.0, levels)))
    return np.array([[round(c) for c in unlabel_rgb(colour)] for colour in colours], dtype=np.uint8)


def strip_colour_index(s: np.ndarray, width: int, levels: int = LEVELS) -> np.ndarray:
    """(width,) lookup-table indices of one block's gates ``s`` (C,) drawn ``width`` pixels wide.

    With fewer channels than pixels each channel is a band of equal pixels (channel
    ``x * C // width`` at pixel x); with more, each pixel shows the mean gate of its channels
    (``C // width`` or one more, in channel order), so the strip averages and never drops a channel.
    """
    s = np.clip(np.asarray(s, dtype=np.float64), 0.0, 1.0)
    c = s.shape[0]
    if c >= width:
        edges = (np.arange(width + 1) * c) // width
        values = np.add.reduceat(s, edges[:-1]) / np.diff(edges)
    else:
        values = s[(np.arange(width) * c) // width]
    return np.rint(values * (levels - 1)).astype(np.intp)


@dataclass(frozen=True)
class Trace:
    """The "gates over time" lines: ``values`` (n, m) of ``names`` (m) at ``ages`` (n) seconds
    before now (negative), drawn over the last ``seconds``."""

    block: str
    names: Sequence[str]
    ages: np.ndarray
    values: np.ndarray
    seconds: float


@functools.cache
def drawable_language(lang: str) -> str:
    """The language the overlay draws for a viewer reading ``lang``: ``lang`` itself, or English
    when no font here has its script (said once in the log, with what to install)."""
    if lang == DEFAULT_LANGUAGE or cjk_font_path() is not None:
        return lang
    log.warning(
        "No Chinese font found (%s): the live overlay draws its text in English. "
        "Install fonts-noto-cjk to draw it in Chinese.",
        ", ".join(CJK_FONTS),
    )
    return DEFAULT_LANGUAGE


def strip_box(height: int, width: int, blocks: int) -> tuple[int, int, int, int, int]:
    """Where the strip goes in a frame: (top y, left x of the colours, colour width, row height,
    label font size; 0 when rows are too thin for names)."""
    scale = height / 480
    pad = max(2, round(6 * scale))
    budget = int(height * STRIP_SHARE) - 2 * pad
    row = max(2, min(round(18 * scale), budget // max(blocks, 1)))
    font = row - 2 if row >= 10 else 0
    label_w = round(_font(font).getlength("SE_5_3") + 2 * pad) if font else pad
    top = height - pad - row * blocks
    return top, label_w, width - label_w - pad, row, font


def _dim(out: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> None:
    region = out[max(y0, 0) : y1, max(x0, 0) : x1]
    region[...] = (region * _DIM).astype(np.uint8)


def draw_overlay(
    rgb: np.ndarray,
    result: LiveResult,
    names: Optional[Mapping[str, str]] = None,
    trace: Optional[Trace] = None,
) -> np.ndarray:
    """A copy of ``rgb`` (H, W, 3) uint8 with the top classes, the gate strip and the trace drawn in.

    Text is in the current language (:func:`se_viz.i18n.language`; see :func:`drawable_language`
    for one without a font here); block names are the paper's and stay as they are. ``names`` maps
    a block to the name its row shows (default: the block name, the paper's
    ``SE_s_b``). Rows are in forward order, first block at the top; every row spans the same
    width whatever its channel count (see :func:`strip_colour_index`).
    """
    out = np.array(rgb, dtype=np.uint8, copy=True)
    h, w = out.shape[:2]
    scale = h / 480
    gates = result.gates
    blocks = list(gates)
    top, x0, width, row, font_size = strip_box(h, w, len(blocks))
    pad = max(2, round(6 * scale))
    _dim(out, top - pad, h, 0, w)
    lut = gate_lut()
    gap = 1 if row >= 4 else 0
    for r, name in enumerate(blocks):
        y = top + r * row
        out[y : y + row - gap, x0 : x0 + width] = lut[strip_colour_index(gates[name], width)][None]

    # Text and lines: one Pillow pass over the darkened panels.
    text_size = max(10, round(20 * scale))
    line = text_size + pad + 4  # a line of text, its probability bar below it
    box_w, box_h = round(260 * scale), pad + len(result.top) * line + pad
    _dim(out, 0, box_h, 0, box_w)
    panel = None
    if trace is not None and len(trace.names):
        pw, ph = round(0.36 * w), round(0.28 * h)
        panel = (w - pw - pad, pad, w - pad, pad + ph)
        _dim(out, panel[1], panel[3], panel[0], panel[2])
    img = Image.fromarray(out)
    draw = ImageDraw.Draw(img)
    cjk = current() != DEFAULT_LANGUAGE  # se_viz's other language is Chinese
    font = _font(text_size, cjk)
    for i, (label, p) in enumerate(result.top):
        y = pad + i * line
        bar = round((box_w - 2 * pad) * p)
        draw.rectangle((pad, y + text_size + 2, pad + bar, y + text_size + 4), fill=(255, 255, 255))
        short = class_name(label).split(",")[0][:20]  # ImageNet labels list synonyms after commas
        draw.text((pad, y), f"{short}  {100 * p:.1f} %", fill=(255, 255, 255), font=font)
    if font_size:
        small = _font(font_size)
        for r, name in enumerate(blocks):
            label = (names or {}).get(name, name)
            draw.text((pad, top + r * row), label, fill=(255, 255, 255), font=small)
    if panel is not None:
        _draw_trace(draw, trace, panel, max(9, round(13 * scale)), cjk)
    return np.asarray(img)


def _draw_trace(
    draw: ImageDraw.ImageDraw, trace: Trace, box: tuple[int, int, int, int], size: int, cjk: bool
) -> None:
    """Lines of gate (0 at the bottom, 1 at the top) against time, newest at the right."""
    x0, y0, x1, y1 = box
    font = _font(size, cjk)
    inner = (x0 + 4, y0 + 2 * size + 10, x1 - 4, y1 - 4)  # below the title and the legend
    title = _("{block} · last {seconds} s").format(block=trace.block, seconds=f"{trace.seconds:.0f}")
    draw.text((x0 + 4, y0 + 2), title, fill=(255, 255, 255), font=font)
    draw.line((inner[0], inner[1], inner[2], inner[1]), fill=(90, 90, 90))  # s = 1
    draw.line((inner[0], inner[3], inner[2], inner[3]), fill=(90, 90, 90))  # s = 0
    if len(trace.ages) == 0:
        return
    xs = inner[2] + (np.asarray(trace.ages) / trace.seconds) * (inner[2] - inner[0])
    for j, name in enumerate(trace.names):
        colour = GROUP_COLOURS[j % len(GROUP_COLOURS)]
        ys = inner[3] - np.clip(trace.values[:, j], 0, 1) * (inner[3] - inner[1])
        points = list(zip(xs.tolist(), ys.tolist(), strict=True))
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        step = (x1 - x0 - 8) / len(trace.names)  # the legend shares the panel's width
        draw.text((x0 + 4 + j * step, y0 + size + 5), name, fill=colour, font=font)
