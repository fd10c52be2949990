"""Colour-pair drawings: a test set of textures in two saturated colours of about equal brightness.

Issue 24 found the mini model missing textures that the two other drawing routines never ask
about: a small patch (24–44 px of the 64×64 input) of a fine pattern (cells 5–8 px) in two vivid
colours of similar brightness — red on green, blue on magenta — on white, grey or noisy paper.
A network that learnt "dark ink on a light ground" rather than the pattern fails there.

This module is written for that purpose alone and shares no drawing code with the training
generator (:mod:`se_viz.demo.synthetic`) or the other test sets: it paints on a canvas four
times the input size with numpy index arithmetic, averages it down to 64×64 (hard edges turn
into the soft ones of a resized drawing) and adds the background's noise afterwards. Training
never calls it; the card's set is fixed by :data:`COLOUR_PAIR_SEED` and :data:`COLOUR_PAIR_SIZE`.

Every class is drawn (so a model that answers "checkerboard" to everything cannot pass); the
shapes in one saturated colour on the same backgrounds.
"""

from __future__ import annotations

import colorsys
import math

import numpy as np
from PIL import Image

from .synthetic import CLASSES

__all__ = [
    "BACKGROUNDS",
    "BRIGHTNESS_GAP",
    "CELL_PX",
    "COLOUR_PAIR_SEED",
    "COLOUR_PAIR_SIZE",
    "DOT_DIAMETER",
    "HUE_GAP",
    "REGION_PX",
    "SHAPE_RADIUS_PX",
    "colour_pair_drawing",
    "colour_pair_drawings",
    "luma",
]

COLOUR_PAIR_SEED = 7
COLOUR_PAIR_SIZE = 300  # 30 per class

SIDE = 64  # the model's input; every size below is in its pixels
SCALE = 4  # painted at this many samples per pixel side, then averaged
CELL_PX = (5.0, 8.0)  # checker square, stripe band (half a period) and dot pitch, uniform
DOT_DIAMETER = (0.55, 0.75)  # dot diameter as a fraction of the pitch
REGION_PX = (24, 44)  # sides of the patterned rectangle, uniform integers (inclusive)
BRIGHTNESS_GAP = 0.08  # the two colours' luma differ by at most this (0–1)
HUE_GAP = 0.15  # and their hues by at least this (0–1 around the colour wheel)
BACKGROUNDS = ("white", "grey", "noisy")  # picked uniformly
SHAPE_RADIUS_PX = (12.0, 22.0)

_HUES = {"red circle": 0.0, "blue square": 0.64, "green triangle": 0.33}


def luma(rgb: np.ndarray) -> float:
    """Rec. 601 luma of an RGB colour in [0, 1] — the brightness a grey-scale copy would show."""
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def _saturated(rng: np.random.Generator, hue: float | None = None) -> np.ndarray:
    h = rng.uniform(0, 1) if hue is None else hue + rng.uniform(-0.02, 0.02)
    return np.array(colorsys.hsv_to_rgb(h % 1.0, rng.uniform(0.8, 1.0), rng.uniform(0.7, 1.0)))


def _pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two saturated colours of clearly different hue and luma within :data:`BRIGHTNESS_GAP`."""
    while True:
        a, b = _saturated(rng), _saturated(rng)
        ha, hb = colorsys.rgb_to_hsv(*a)[0], colorsys.rgb_to_hsv(*b)[0]
        apart = min(abs(ha - hb), 1 - abs(ha - hb)) >= HUE_GAP
        if apart and abs(luma(a) - luma(b)) <= BRIGHTNESS_GAP:
            return a, b


def _background(rng: np.random.Generator, kind: str) -> np.ndarray:
    if kind == "white":
        return np.ones((SIDE, SIDE, 3))
    if kind == "grey":
        return np.full((SIDE, SIDE, 3), rng.uniform(0.35, 0.75))
    base = rng.uniform(0.4, 0.8)  # "noisy": grey paper with coloured grain
    return np.clip(base + rng.normal(0, rng.uniform(0.06, 0.14), (SIDE, SIDE, 3)), 0, 1)


def _pattern(rng: np.random.Generator, name: str, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Boolean pattern on the fine grid (coordinates in input pixels) for a texture class."""
    cell = rng.uniform(*CELL_PX)
    y, x = yy + rng.uniform(0, 2 * cell), xx + rng.uniform(0, 2 * cell)
    if name == "checkerboard":
        return (np.floor(x / cell) + np.floor(y / cell)) % 2 == 1
    if name == "dots":
        r = cell * rng.uniform(*DOT_DIAMETER) / 2
        dx, dy = np.mod(x, cell) - cell / 2, np.mod(y, cell) - cell / 2
        return dx * dx + dy * dy <= r * r
    across = {
        "horizontal stripes": y,
        "vertical stripes": x,
        "diagonal stripes": (x + y if rng.uniform() < 0.5 else x - y) / math.sqrt(2),
    }[name]
    return np.mod(across, 2 * cell) < cell


def _shape(rng: np.random.Generator, name: str, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    r = rng.uniform(*SHAPE_RADIUS_PX)
    cx, cy = rng.uniform(r, SIDE - r, 2)
    dx, dy = xx - cx, yy - cy
    if name == "red circle":
        return dx * dx + dy * dy <= r * r
    if name == "ring":
        d = np.hypot(dx, dy)
        return (d <= r) & (d >= r * rng.uniform(0.6, 0.8))
    if name == "blue square":
        return (np.abs(dx) <= r * 0.85) & (np.abs(dy) <= r * 0.85)
    # Triangle and star as the points inside their edges (upright, pointing up).
    corners = 3 if name == "green triangle" else 10
    angles = -math.pi / 2 + 2 * math.pi * np.arange(corners) / corners
    radii = np.full(corners, r) if corners == 3 else np.where(np.arange(corners) % 2 == 0, r, r * 0.42)
    px, py = cx + radii * np.cos(angles), cy + radii * np.sin(angles)
    if corners == 3:
        inside = np.ones(xx.shape, bool)
        for i in range(3):
            x0, y0, x1, y1 = px[i], py[i], px[(i + 1) % 3], py[(i + 1) % 3]
            inside &= (x1 - x0) * (yy - y0) - (y1 - y0) * (xx - x0) >= 0
        return inside
    # A star is not convex: even-odd ray casting over its ten edges.
    inside = np.zeros(xx.shape, bool)
    for i in range(corners):
        x0, y0, x1, y1 = px[i], py[i], px[(i + 1) % corners], py[(i + 1) % corners]
        crosses = (y0 > yy) != (y1 > yy)
        at = x0 + (yy - y0) * (x1 - x0) / (y1 - y0 + 1e-12)
        inside ^= crosses & (xx < at)
    return inside


def colour_pair_drawing(rng: np.random.Generator, label: int) -> Image.Image:
    """One 64×64 RGB drawing of class ``CLASSES[label]``, drawn from ``rng``."""
    name = CLASSES[label]
    fine = (np.arange(SIDE * SCALE) + 0.5) / SCALE
    yy, xx = np.meshgrid(fine, fine, indexing="ij")
    bg = _background(rng, BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))])
    if name in ("checkerboard", "dots", "horizontal stripes", "vertical stripes", "diagonal stripes"):
        first, second = _pair(rng)
        w, h = (int(v) for v in rng.integers(REGION_PX[0], REGION_PX[1] + 1, 2))
        x0, y0 = int(rng.integers(0, SIDE - w + 1)), int(rng.integers(0, SIDE - h + 1))
        on = _pattern(rng, name, yy, xx)
        region = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)
        fine_rgb = np.where(on[..., None], first, second)
    else:
        colour = _saturated(rng, _HUES.get(name))
        region = _shape(rng, name, yy, xx)
        fine_rgb = np.broadcast_to(colour, (*region.shape, 3))

    def pooled(a: np.ndarray) -> np.ndarray:
        return a.reshape(SIDE, SCALE, SIDE, SCALE, *a.shape[2:]).mean(axis=(1, 3))

    cover = pooled(region.astype(float))[..., None]
    paint = pooled(fine_rgb * region[..., None]) / np.maximum(cover, 1e-9)
    img = bg * (1 - cover) + paint * cover
    return Image.fromarray((np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8))


def colour_pair_drawings(
    n: int = COLOUR_PAIR_SIZE, seed: int = COLOUR_PAIR_SEED
) -> tuple[list[Image.Image], np.ndarray]:
    """``n`` drawings, balanced over the classes in a shuffled order, and their labels (int64)."""
    rng = np.random.default_rng([seed, 24])
    labels = np.arange(n, dtype=np.int64) % len(CLASSES)
    rng.shuffle(labels)
    return [colour_pair_drawing(rng, int(k)) for k in labels], labels
