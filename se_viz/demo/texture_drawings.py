"""Texture drawings: the mini model's third test set, varied where a teacher's textures vary.

:mod:`se_viz.demo.plain_drawings` draws each class the one tidy way a paint program suggests
(an axis-aligned checkerboard in black and white, a square grid of dots). Real drawings of
textures differ in exactly the ways a classifier can trip over: the size of the cells, the two
colours used, the rotation of the pattern, the size of the dots and how densely they are packed
(square grid, staggered grid, or scattered by hand). This module is a *separate routine* from
the training generator (:mod:`se_viz.demo.synthetic`): it draws on a larger canvas with
Pillow's ``ImageDraw`` polygons and ellipses — hard edges, no noise, no gradients, no clutter —
and the images reach the model through its own preprocessing (resize to 64×64), like an upload.

Every class is in the set (so a model that calls everything "checkerboard" cannot pass), but
the shapes are drawn plainly, with a rotation and a pale background now and then; the range
constants below are public, and the model card quotes them from here.

The set used for the card is fixed (:data:`TEXTURE_SEED`, :data:`TEXTURE_SIZE`); it was fixed
before any training recipe was changed, and training never draws from this routine.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from .plain_drawings import PAINT_COLOURS, random_area
from .synthetic import CLASSES

__all__ = [
    "AREA_SIDE",
    "CANVAS_PX",
    "CHECKER_CELLS",
    "DOT_LAYOUTS",
    "DOT_RADIUS",
    "DOTS_PER_ROW",
    "COLOUR_SCHEMES",
    "PALE_P",
    "RING_PEN",
    "ROTATED_P",
    "SHAPE_OFFSET",
    "SHAPE_RADIUS",
    "STRIPE_DUTY",
    "STRIPE_PAIRS",
    "STRIPE_TILT_DEG",
    "TEXTURE_SEED",
    "TEXTURE_SIZE",
    "WHOLE_CANVAS_P",
    "texture_drawing",
    "texture_drawings",
]

# The fixed set the model card reports (chosen before training was changed; never trained on).
TEXTURE_SEED = 0
TEXTURE_SIZE = 500

CANVAS_PX = (128, 160, 200, 256, 320, 384)  # square canvas sides, picked uniformly
CHECKER_CELLS = (3, 12)  # checkerboard cells across the drawn area (inclusive)
STRIPE_PAIRS = (3, 12)  # stripe pairs across the drawn area (inclusive)
STRIPE_DUTY = (0.3, 0.7)  # fraction of a stripe period in ink
DOTS_PER_ROW = (3, 10)  # dots per row (inclusive) — the density
DOT_RADIUS = (0.15, 0.4)  # dot radius as a fraction of the dot spacing — the dot size
DOT_LAYOUTS = ("square grid", "staggered grid", "scattered")  # picked uniformly
ROTATED_P = 0.5  # checkerboards, dots and shapes drawn rotated this often (any angle)
STRIPE_TILT_DEG = 10.0  # stripes tilted within ±this (their class is their orientation)
WHOLE_CANVAS_P = 0.5  # textures fill the canvas this often, otherwise an axis-aligned rectangle
AREA_SIDE = (0.55, 0.9)  # that rectangle's sides as fractions of the canvas side
COLOUR_SCHEMES = ("ink on white", "ink on pale", "two paint colours", "white on ink")  # uniformly
PALE_P = 0.3  # any drawing on a pale background this often, otherwise white
SHAPE_RADIUS = (0.15, 0.4)  # shape radius as a fraction of the canvas side
SHAPE_OFFSET = 0.12  # shape centre within ±this fraction of the canvas side from the middle
RING_PEN = (0.15, 0.35)  # ring pen width as a fraction of its radius

_WHITE = (255, 255, 255)
# Pale paper / background tints.
_PALE = [(255, 250, 220), (230, 240, 255), (235, 255, 235), (255, 235, 240), (240, 240, 240)]
_INKS = list(PAINT_COLOURS.values())  # black first, then the paint box
_REDS = [(255, 0, 0), (237, 28, 36), (200, 0, 0), (220, 20, 60)]
_BLUES = [(0, 0, 255), (63, 72, 204), (0, 70, 220), (30, 60, 180)]
_GREENS = [(0, 200, 0), (34, 177, 76), (0, 160, 0), (0, 255, 0), (20, 140, 60)]


def _pick(rng: np.random.Generator, seq: Sequence):
    return seq[int(rng.integers(0, len(seq)))]


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """Difference in mean brightness (0–255) of two RGB colours."""
    return abs(sum(a) - sum(b)) / 3


def _two_colours(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(ink, paper) for a texture, in one of :data:`COLOUR_SCHEMES`; always visibly apart."""
    scheme = _pick(rng, COLOUR_SCHEMES)
    ink = _pick(rng, _INKS)
    if scheme == "ink on white":
        return ink, _WHITE
    if scheme == "ink on pale":
        return ink, _pick(rng, _PALE)
    if scheme == "white on ink":
        return _WHITE, ink if _contrast(ink, _WHITE) >= 60 else PAINT_COLOURS["black"]
    others = [c for c in _INKS if c != ink and _contrast(c, ink) >= 50]
    return ink, _pick(rng, others)


def _rotation(rng: np.random.Generator) -> float:
    """0 (as drawn on a grid) or, :data:`ROTATED_P` of the time, any angle (radians)."""
    return rng.uniform(0, 2 * math.pi) if rng.uniform() < ROTATED_P else 0.0


def _rotated(
    cx: float, cy: float, pts: Sequence[tuple[float, float]], angle: float
) -> list[tuple[float, float]]:
    """``pts`` (relative to the centre) rotated by ``angle`` about (``cx``, ``cy``)."""
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def _paste_in_area(
    img: Image.Image, layer: Image.Image, area: tuple[int, int, int, int], ink: tuple[int, int, int]
) -> None:
    """Paint ``ink`` where the mask ``layer`` is set, clipped to ``area``."""
    clip = Image.new("L", img.size, 0)
    ImageDraw.Draw(clip).rectangle([area[0], area[1], area[2] - 1, area[3] - 1], fill=255)
    mask = Image.fromarray(np.minimum(np.asarray(layer), np.asarray(clip)))
    img.paste(Image.new("RGB", img.size, ink), (0, 0), mask)


def _checkerboard(rng: np.random.Generator, img: Image.Image, area: tuple[int, int, int, int]) -> None:
    size = img.size[0]
    ink, paper = _two_colours(rng)
    ImageDraw.Draw(img).rectangle([area[0], area[1], area[2] - 1, area[3] - 1], fill=paper)
    cells = int(rng.integers(CHECKER_CELLS[0], CHECKER_CELLS[1] + 1))
    cell = (area[2] - area[0]) / cells
    angle = _rotation(rng)
    cx, cy = (area[0] + area[2]) / 2, (area[1] + area[3]) / 2
    layer = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(layer)
    n = int(math.ceil(size * 1.5 / cell)) + 1
    off = rng.uniform(0, cell) if angle else -((area[2] - area[0]) / 2 % cell)
    for i in range(-n, n):
        for j in range(-n, n):
            if (i + j) % 2:
                continue
            x, y = i * cell + off, j * cell + off
            square = [(x, y), (x + cell, y), (x + cell, y + cell), (x, y + cell)]
            draw.polygon(_rotated(cx, cy, square, angle), fill=255)
    _paste_in_area(img, layer, area, ink)


def _dots(rng: np.random.Generator, img: Image.Image, area: tuple[int, int, int, int]) -> None:
    ink, paper = _two_colours(rng)
    ImageDraw.Draw(img).rectangle([area[0], area[1], area[2] - 1, area[3] - 1], fill=paper)
    per_row = int(rng.integers(DOTS_PER_ROW[0], DOTS_PER_ROW[1] + 1))
    width = area[2] - area[0]
    spacing = width / per_row
    radius = spacing * rng.uniform(*DOT_RADIUS)
    layout = _pick(rng, DOT_LAYOUTS)
    angle = _rotation(rng)
    cx, cy = (area[0] + area[2]) / 2, (area[1] + area[3]) / 2
    centres: list[tuple[float, float]] = []
    if layout == "scattered":
        # By hand: about as many dots as the grid would hold, never touching.
        rows = max(1, round((area[3] - area[1]) / spacing))
        want, tries = per_row * rows, 0
        while len(centres) < want and tries < want * 30:
            tries += 1
            x = rng.uniform(area[0] + radius, area[2] - radius)
            y = rng.uniform(area[1] + radius, area[3] - radius)
            if all((x - a) ** 2 + (y - b) ** 2 >= (2.4 * radius) ** 2 for a, b in centres):
                centres.append((x, y))
    else:
        n = int(math.ceil(img.size[0] * 1.5 / spacing)) + 1
        for j in range(-n, n):
            shift = spacing / 2 if layout == "staggered grid" and j % 2 else 0.0
            for i in range(-n, n):
                (x, y) = _rotated(cx, cy, [((i + 0.5) * spacing + shift, (j + 0.5) * spacing)], angle)[0]
                centres.append((x, y))
    layer = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(layer)
    for x, y in centres:
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    _paste_in_area(img, layer, area, ink)


def _stripes(rng: np.random.Generator, img: Image.Image, area: tuple[int, int, int, int], name: str) -> None:
    size = img.size[0]
    ink, paper = _two_colours(rng)
    ImageDraw.Draw(img).rectangle([area[0], area[1], area[2] - 1, area[3] - 1], fill=paper)
    pairs = int(rng.integers(STRIPE_PAIRS[0], STRIPE_PAIRS[1] + 1))
    period = (area[2] - area[0]) / pairs
    duty = rng.uniform(*STRIPE_DUTY)
    # Angle of the stripes themselves (0 = horizontal), tilted a little as by hand.
    base = {"horizontal stripes": 0.0, "vertical stripes": 90.0}.get(name)
    if base is None:
        base = 45.0 if rng.uniform() < 0.5 else 135.0
    angle = math.radians(base + rng.uniform(-STRIPE_TILT_DEG, STRIPE_TILT_DEG))
    cx, cy = (area[0] + area[2]) / 2, (area[1] + area[3]) / 2
    layer = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(layer)
    n = int(math.ceil(size * 1.5 / period)) + 1
    long = size * 1.5
    phase = rng.uniform(0, period)
    for k in range(-n, n):
        y, y1 = k * period + phase, k * period + phase + duty * period
        draw.polygon(_rotated(cx, cy, [(-long, y), (long, y), (long, y1), (-long, y1)], angle), fill=255)
    _paste_in_area(img, layer, area, ink)


def _star(r: float) -> list[tuple[float, float]]:
    return [
        ((r if i % 2 == 0 else r * 0.42) * math.cos(-math.pi / 2 + i * math.pi / 5),
         (r if i % 2 == 0 else r * 0.42) * math.sin(-math.pi / 2 + i * math.pi / 5))
        for i in range(10)
    ]  # fmt: skip


def texture_drawing(rng: np.random.Generator, label: int) -> Image.Image:
    """One drawing of class ``CLASSES[label]``: an RGB PIL image of a side in :data:`CANVAS_PX`."""
    name = CLASSES[label]
    size = int(_pick(rng, CANVAS_PX))
    background = _pick(rng, _PALE) if rng.uniform() < PALE_P else _WHITE
    img = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(img)
    if name in ("horizontal stripes", "vertical stripes", "diagonal stripes"):
        _stripes(rng, img, random_area(rng, size, WHOLE_CANVAS_P, AREA_SIDE), name)
    elif name == "checkerboard":
        _checkerboard(rng, img, random_area(rng, size, WHOLE_CANVAS_P, AREA_SIDE))
    elif name == "dots":
        _dots(rng, img, random_area(rng, size, WHOLE_CANVAS_P, AREA_SIDE))
    else:
        cx, cy = size / 2 + rng.uniform(-SHAPE_OFFSET, SHAPE_OFFSET, 2) * size
        r = rng.uniform(*SHAPE_RADIUS) * size
        angle = _rotation(rng)
        if name == "red circle":
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_pick(rng, _REDS))
        elif name == "blue square":
            square = [(-r, -r), (r, -r), (r, r), (-r, r)]
            draw.polygon(_rotated(cx, cy, square, angle), fill=_pick(rng, _BLUES))
        elif name == "green triangle":
            tri = [(0.0, -r * 1.1), (-r * 1.04, r * 0.8), (r * 1.04, r * 0.8)]
            draw.polygon(_rotated(cx, cy, tri, angle), fill=_pick(rng, _GREENS))
        elif name == "star":
            draw.polygon(_rotated(cx, cy, _star(r * 1.1), angle), fill=_pick(rng, _INKS))
        elif name == "ring":
            pen = max(2, int(r * rng.uniform(*RING_PEN)))
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=_pick(rng, _INKS), width=pen)
        else:  # pragma: no cover - CLASSES and this routine are kept in step by the tests
            raise ValueError(name)
    return img


def texture_drawings(n: int = TEXTURE_SIZE, seed: int = TEXTURE_SEED) -> tuple[list[Image.Image], np.ndarray]:
    """``n`` texture drawings, class-balanced in a shuffled order, and their labels (int64)."""
    rng = np.random.default_rng([int(seed), 11])
    labels = np.arange(n, dtype=np.int64) % len(CLASSES)
    rng.shuffle(labels)
    return [texture_drawing(rng, int(lab)) for lab in labels], labels
