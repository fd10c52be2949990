"""Plain drawings, as a teacher makes them in a paint program: the mini model's second test set.

The training generator (:mod:`se_viz.demo.synthetic`) draws 64×64 images with masks, noise,
gradients and clutter. This module is deliberately a *different routine*: it draws on a larger
canvas (128–320 px) with Pillow's plain ``ImageDraw`` primitives — no anti-aliasing, no noise,
no clutter, no gradient — on a white background, in black or in a paint-box colour, exactly
what one gets from "new image, pick a colour, draw a rectangle". The images go through the
model's own preprocessing (resize to 64×64), like a drawing a user uploads.

Per class:

* *red circle*, *blue square*, *green triangle*: a filled disc, an axis-aligned square and an
  upright triangle in paint-box red / blue / green, centred-ish, 30–80 % of the canvas.
* *star*, *ring*: a five-pointed star, and a circle outline with a thick pen, in black or any
  paint-box colour.
* *horizontal / vertical / diagonal stripes*: 3–10 stripe pairs of a colour on white, over the
  whole canvas or a rectangle; diagonal at 45° either way.
* *checkerboard*: axis-aligned, 3–10 cells across, black/colour and white, whole canvas or a
  rectangle.
* *dots*: a square grid of 3–8 filled discs per row, black or colour on white.

Seeded and deterministic; ``plain_drawings(n, seed)`` returns PIL images and labels.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .synthetic import CLASSES

__all__ = [
    "AREA_SIDE",
    "BLACK_INK_P",
    "CANVAS_PX",
    "CHECKER_CELLS",
    "DOT_RADIUS",
    "DOTS_PER_ROW",
    "PAINT_COLOURS",
    "RING_PEN",
    "SHAPE_RADIUS",
    "STRIPE_PAIRS",
    "WHOLE_CANVAS_P",
    "plain_drawing",
    "plain_drawings",
]

# The routine's ranges, public so that the model card states them from here (integer ranges inclusive).
CANVAS_PX = (128, 160, 200, 256, 320)  # square canvas sides, picked uniformly
SHAPE_RADIUS = (0.15, 0.4)  # shape radius as a fraction of the canvas side
RING_PEN = (0.15, 0.35)  # ring pen width as a fraction of its radius
BLACK_INK_P = 0.5  # star, ring and textures in black this often, otherwise a paint-box colour
WHOLE_CANVAS_P = 0.5  # textures fill the canvas this often, otherwise an axis-aligned rectangle
AREA_SIDE = (0.6, 0.9)  # that rectangle's sides as fractions of the canvas side
STRIPE_PAIRS = (3, 10)  # stripe pairs across the drawn area
CHECKER_CELLS = (3, 10)  # checkerboard cells across the drawn area
DOTS_PER_ROW = (3, 8)  # dots per row of the square grid
DOT_RADIUS = (0.2, 0.35)  # dot radius as a fraction of the dot spacing

# A paint program's default palette (MS Paint-like), RGB 0–255.
PAINT_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0),
    "red": (237, 28, 36),
    "blue": (0, 0, 255),
    "green": (34, 177, 76),
    "orange": (255, 127, 39),
    "purple": (163, 73, 164),
    "dark blue": (63, 72, 204),
    "brown": (136, 0, 21),
    "teal": (0, 162, 232),
    "magenta": (255, 0, 255),
}
# Colours a teacher would pick for the class-coloured shapes.
_REDS = [(255, 0, 0), (237, 28, 36), (200, 0, 0)]
_BLUES = [(0, 0, 255), (63, 72, 204), (0, 70, 220)]
_GREENS = [(0, 200, 0), (34, 177, 76), (0, 160, 0), (0, 255, 0)]
_WHITE = (255, 255, 255)


def _pick(rng: np.random.Generator, seq: Sequence):
    return seq[int(rng.integers(0, len(seq)))]


def _ink(rng: np.random.Generator) -> tuple[int, int, int]:
    """Black (:data:`BLACK_INK_P` of the time), otherwise any paint-box colour."""
    if rng.uniform() < BLACK_INK_P:
        return PAINT_COLOURS["black"]
    return _pick(rng, list(PAINT_COLOURS.values())[1:])


def random_area(
    rng: np.random.Generator,
    size: int,
    whole_p: float = WHOLE_CANVAS_P,
    side: tuple[float, float] = AREA_SIDE,
) -> tuple[int, int, int, int]:
    """The whole canvas (``whole_p`` of the time) or an axis-aligned rectangle inside it whose sides
    are a uniform fraction ``side`` of the canvas: where a drawing routine puts its texture."""
    if rng.uniform() < whole_p:
        return 0, 0, size, size
    w, h = (rng.uniform(*side, 2) * size).astype(int)
    x0, y0 = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
    return x0, y0, x0 + w, y0 + h


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.42
        ang = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
    return pts


def plain_drawing(rng: np.random.Generator, label: int) -> Image.Image:
    """One plain drawing of class ``CLASSES[label]``: an RGB PIL image, white background."""
    name = CLASSES[label]
    size = int(_pick(rng, CANVAS_PX))
    img = Image.new("RGB", (size, size), _WHITE)
    draw = ImageDraw.Draw(img)
    cx, cy = size / 2 + rng.uniform(-0.1, 0.1, 2) * size
    r = rng.uniform(*SHAPE_RADIUS) * size
    if name == "red circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_pick(rng, _REDS))
    elif name == "blue square":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=_pick(rng, _BLUES))
    elif name == "green triangle":
        h = r * math.sqrt(3)
        draw.polygon(
            [(cx, cy - r * 1.1), (cx - h * 0.6, cy + r * 0.8), (cx + h * 0.6, cy + r * 0.8)],
            fill=_pick(rng, _GREENS),
        )
    elif name == "star":
        draw.polygon(_star(cx, cy, r * 1.1), fill=_ink(rng))
    elif name == "ring":
        pen = max(2, int(r * rng.uniform(*RING_PEN)))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=_ink(rng), width=pen)
    elif name in ("horizontal stripes", "vertical stripes", "diagonal stripes"):
        x0, y0, x1, y1 = random_area(rng, size)
        pairs = int(rng.integers(STRIPE_PAIRS[0], STRIPE_PAIRS[1] + 1))
        period = (x1 - x0) / pairs
        ink = _ink(rng)
        if name == "horizontal stripes":
            for k in range(pairs):
                y = y0 + k * (y1 - y0) / pairs
                draw.rectangle([x0, y, x1 - 1, y + (y1 - y0) / pairs / 2 - 1], fill=ink)
        elif name == "vertical stripes":
            for k in range(pairs):
                x = x0 + k * period
                draw.rectangle([x, y0, x + period / 2 - 1, y1 - 1], fill=ink)
        else:
            # Thick 45° lines, clipped to the area by drawing on a separate layer.
            layer = Image.new("L", (size, size), 0)
            ld = ImageDraw.Draw(layer)
            width = max(2, int(round(period / (2 * math.sqrt(2)))))  # half the perpendicular period
            flip = rng.uniform() < 0.5
            for k in range(-2 * pairs - 2, 2 * pairs + 3):
                off = k * period
                if flip:
                    ld.line([(off, 0), (off + size, size)], fill=255, width=width)
                else:
                    ld.line([(off, size), (off + size, 0)], fill=255, width=width)
            clip = Image.new("L", (size, size), 0)
            ImageDraw.Draw(clip).rectangle([x0, y0, x1 - 1, y1 - 1], fill=255)
            mask = Image.fromarray(np.minimum(np.asarray(layer), np.asarray(clip)))
            img.paste(Image.new("RGB", (size, size), ink), (0, 0), mask)
    elif name == "checkerboard":
        x0, y0, x1, y1 = random_area(rng, size)
        cells = int(rng.integers(CHECKER_CELLS[0], CHECKER_CELLS[1] + 1))
        cell = (x1 - x0) / cells
        ink = _ink(rng)
        for i in range(cells):
            for j in range(int(math.ceil((y1 - y0) / cell))):
                if (i + j) % 2 == 0:
                    draw.rectangle(
                        [
                            x0 + i * cell,
                            y0 + j * cell,
                            min(x1, x0 + (i + 1) * cell) - 1,
                            min(y1, y0 + (j + 1) * cell) - 1,
                        ],
                        fill=ink,
                    )
    elif name == "dots":
        per_row = int(rng.integers(DOTS_PER_ROW[0], DOTS_PER_ROW[1] + 1))
        spacing = size / per_row
        dot = spacing * rng.uniform(*DOT_RADIUS)
        ink = _ink(rng)
        for i in range(per_row):
            for j in range(per_row):
                x, y = (i + 0.5) * spacing, (j + 0.5) * spacing
                draw.ellipse([x - dot, y - dot, x + dot, y + dot], fill=ink)
    else:  # pragma: no cover - CLASSES and this routine are kept in step by the tests
        raise ValueError(name)
    return img


def plain_drawings(n: int, seed: int = 0) -> tuple[list[Image.Image], np.ndarray]:
    """``n`` plain drawings, class-balanced in a shuffled order, and their labels (int64)."""
    rng = np.random.default_rng([int(seed), 7])
    labels = np.arange(n, dtype=np.int64) % len(CLASSES)
    rng.shuffle(labels)
    return [plain_drawing(rng, int(lab)) for lab in labels], labels
