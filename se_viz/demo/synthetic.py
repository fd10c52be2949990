"""The synthetic image task the bundled "SE-ResNet mini" is trained on, generated in code.

Ten classes, 64×64 RGB, chosen so that colour-, orientation-, shape- and texture-selective
channels are all useful:

* three coloured shapes whose class is carried by colour *and* shape (``red circle``,
  ``blue square``, ``green triangle``);
* two shapes in a random colour, so only the shape tells them apart (``star``, ``ring``);
* three gratings in random colours that differ only in orientation (``horizontal stripes``,
  ``vertical stripes``, ``diagonal stripes``);
* two textures in random colours (``checkerboard``, ``dots``).

Every image gets a random low-saturation background with a gradient, background clutter
(short thin lines and small specks in muted colours), a random position, scale and rotation of
the object (orientation classes keep their orientation within ±12°), colour jitter and Gaussian
pixel noise. Only numpy and Pillow are used; everything is driven by one
``numpy.random.Generator``, so a seed gives the same images on every machine.
"""

from __future__ import annotations

import colorsys
import math
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["CLASSES", "IMAGE_SIZE", "example_images", "generate", "make_batch", "render"]

IMAGE_SIZE = 64

CLASSES: list[str] = [
    "red circle",
    "blue square",
    "green triangle",
    "star",
    "ring",
    "horizontal stripes",
    "vertical stripes",
    "diagonal stripes",
    "checkerboard",
    "dots",
]

# Hues (0..1) of the colour-defined classes; jittered by ±_HUE_JITTER.
_CLASS_HUE = {"red circle": 0.0, "blue square": 0.62, "green triangle": 0.33}
_HUE_JITTER = 0.035


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


def _vivid(rng: np.random.Generator, hue: Optional[float] = None) -> np.ndarray:
    """A saturated colour; the given hue jittered, or any hue."""
    h = rng.uniform(0, 1) if hue is None else hue + rng.uniform(-_HUE_JITTER, _HUE_JITTER)
    return _hsv(h, rng.uniform(0.7, 1.0), rng.uniform(0.65, 1.0))


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Low-saturation base colour with a linear gradient, (size, size, 3) float32 in [0, 1]."""
    c0 = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.3), rng.uniform(0.25, 0.85))
    c1 = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.3), rng.uniform(0.25, 0.85))
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    t = (xx * math.cos(theta) + yy * math.sin(theta))
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]


def _clutter(rng: np.random.Generator, img: Image.Image) -> None:
    """Short thin lines and small specks in muted colours, drawn onto ``img`` in place."""
    draw = ImageDraw.Draw(img)
    size = img.size[0]
    for _ in range(int(rng.integers(2, 7))):
        col = tuple(int(255 * c) for c in _hsv(rng.uniform(0, 1), rng.uniform(0, 0.45), rng.uniform(0.2, 0.9)))
        if rng.uniform() < 0.5:
            x0, y0 = rng.uniform(0, size, 2)
            ang, length = rng.uniform(0, 2 * math.pi), rng.uniform(4, 12)
            draw.line([(x0, y0), (x0 + length * math.cos(ang), y0 + length * math.sin(ang))], fill=col, width=1)
        else:
            x0, y0 = rng.uniform(0, size, 2)
            r = rng.uniform(0.8, 2.2)
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=col)


def _polygon(cx: float, cy: float, radii: Sequence[float], angle: float) -> list[tuple[float, float]]:
    n = len(radii)
    return [
        (cx + r * math.cos(angle + 2 * math.pi * i / n), cy + r * math.sin(angle + 2 * math.pi * i / n))
        for i, r in enumerate(radii)
    ]


def _shape_mask(rng: np.random.Generator, name: str, size: int) -> np.ndarray:
    """Anti-aliased (2× supersampled) mask in [0, 1] of one shape at a random place, scale, angle."""
    ss = 2
    big = size * ss
    radius = rng.uniform(0.17, 0.33) * size
    margin = radius * 0.9
    cx, cy = rng.uniform(margin, size - margin, 2)
    angle = rng.uniform(0, 2 * math.pi)
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    R, X, Y = radius * ss, cx * ss, cy * ss
    if name == "red circle":
        # A slightly elliptical disc: circles in photos are rarely perfect either.
        a = R * rng.uniform(0.9, 1.1)
        draw.ellipse([X - a, Y - R, X + a, Y + R], fill=255)
    elif name == "blue square":
        draw.polygon(_polygon(X, Y, [R * 1.05] * 4, angle), fill=255)
    elif name == "green triangle":
        draw.polygon(_polygon(X, Y, [R * 1.15] * 3, angle), fill=255)
    elif name == "star":
        inner = rng.uniform(0.38, 0.5)
        draw.polygon(_polygon(X, Y, [R * 1.15, R * 1.15 * inner] * 5, angle), fill=255)
    elif name == "ring":
        width = R * rng.uniform(0.25, 0.4)
        draw.ellipse([X - R, Y - R, X + R, Y + R], fill=255)
        draw.ellipse([X - R + width, Y - R + width, X + R - width, Y + R - width], fill=0)
    else:
        raise ValueError(name)
    return np.asarray(mask.resize((size, size), Image.BILINEAR), dtype=np.float32) / 255.0


def _texture_mask(rng: np.random.Generator, name: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(region mask, pattern in {0, 1}) for a grating or texture patch at a random place and scale."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    # The patch: a rotated ellipse or rounded box covering a good part of the image.
    half_w, half_h = rng.uniform(0.24, 0.42, 2) * size
    cx = rng.uniform(half_w * 0.8, size - half_w * 0.8)
    cy = rng.uniform(half_h * 0.8, size - half_h * 0.8)
    phi = rng.uniform(0, math.pi)
    u = (xx - cx) * math.cos(phi) + (yy - cy) * math.sin(phi)
    v = -(xx - cx) * math.sin(phi) + (yy - cy) * math.cos(phi)
    if rng.uniform() < 0.5:
        region = ((u / half_w) ** 2 + (v / half_h) ** 2) <= 1.0
    else:
        region = (np.abs(u) <= half_w) & (np.abs(v) <= half_h)
    period = rng.uniform(5.0, 10.0)
    phase = rng.uniform(0, period)
    jitter = math.radians(rng.uniform(-12, 12))
    if name in ("horizontal stripes", "vertical stripes", "diagonal stripes"):
        # theta is the direction across the stripes: horizontal stripes vary along y.
        base = {"horizontal stripes": 90.0, "vertical stripes": 0.0, "diagonal stripes": 45.0}[name]
        theta = math.radians(base) + jitter
        t = xx * math.cos(theta) + yy * math.sin(theta) + phase
        pattern = (np.mod(t, period) < period / 2)
    elif name == "checkerboard":
        theta = rng.uniform(0, math.pi / 2)
        a = xx * math.cos(theta) + yy * math.sin(theta) + phase
        b = -xx * math.sin(theta) + yy * math.cos(theta) + phase
        pattern = (np.floor(a / (period / 2 + 1)) + np.floor(b / (period / 2 + 1))) % 2 == 0
    elif name == "dots":
        theta = rng.uniform(0, math.pi / 2)
        p = period + 1.0
        a = np.mod(xx * math.cos(theta) + yy * math.sin(theta) + phase, p) - p / 2
        b = np.mod(-xx * math.sin(theta) + yy * math.cos(theta) + phase, p) - p / 2
        pattern = (a * a + b * b) <= (p * rng.uniform(0.22, 0.3)) ** 2
    else:
        raise ValueError(name)
    return region.astype(np.float32), pattern.astype(np.float32)


def render(rng: np.random.Generator, label: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render one image of class ``CLASSES[label]`` as uint8 (size, size, 3), drawing from ``rng``.

    The background (gradient and clutter) is drawn first, the object on top, then colour noise.
    All randomness comes from ``rng``, so the same generator state gives the same image.
    """
    name = CLASSES[label]
    bg = _background(rng, size)
    canvas = Image.fromarray((bg * 255).astype(np.uint8))
    _clutter(rng, canvas)
    img = np.asarray(canvas, dtype=np.float32) / 255.0
    if name in _CLASS_HUE or name in ("star", "ring"):
        mask = _shape_mask(rng, name, size)
        # Star and ring take any hue, so only their shape identifies them.
        colour = _vivid(rng, _CLASS_HUE.get(name))
        # A little shading across the object so colour channels cannot rely on one flat value.
        shade = 1.0 + rng.uniform(-0.15, 0.15) * (np.linspace(-1, 1, size, dtype=np.float32)[None, :])
        obj = np.clip(colour[None, None, :] * shade[..., None], 0, 1)
        img = img * (1 - mask[..., None]) + obj * mask[..., None]
    else:
        region, pattern = _texture_mask(rng, name, size)
        c_on, c_off = _vivid(rng), _vivid(rng)
        # Keep the two colours of a pattern apart in brightness so the pattern is always visible.
        if abs(float(c_on.mean() - c_off.mean())) < 0.25:
            c_off = c_off * 0.35
        tex = pattern[..., None] * c_on[None, None, :] + (1 - pattern[..., None]) * c_off[None, None, :]
        img = img * (1 - region[..., None]) + tex * region[..., None]
    img = img + rng.normal(0.0, rng.uniform(0.01, 0.06), img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def generate(n: int, seed: int | Sequence[int] = 0, *, balanced: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` images and labels: uint8 (n, 64, 64, 3) and int64 (n,).

    With ``balanced`` the labels cycle through the classes (every class gets ``n // K`` or one
    more image) in a shuffled order; otherwise they are drawn uniformly. ``seed`` is anything
    ``numpy.random.default_rng`` accepts; training uses ``[seed, step, 1]`` sequences, so a plain
    integer seed (as used for held-out sets) never repeats a training batch.
    """
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    if balanced:
        labels = np.arange(n, dtype=np.int64) % k
        rng.shuffle(labels)
    else:
        labels = rng.integers(0, k, n).astype(np.int64)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, lab in enumerate(labels):
        images[i] = render(rng, int(lab))
    return images, labels


def make_batch(
    images: np.ndarray, mean: Sequence[float] = (0.5, 0.5, 0.5), std: Sequence[float] = (0.25, 0.25, 0.25)
):
    """uint8 (N, H, W, 3) images → normalised float tensor (N, 3, H, W), as the model's preprocessing.

    Equivalent to ``LoadedModel.preprocess`` on 64×64 PIL images (resize and centre crop are
    identities at the native size), but without the PIL round trip, so training stays fast.
    """
    import torch

    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - m) / s


def example_images(seed: int = 0, per_class: int = 1) -> list[tuple[str, Image.Image]]:
    """Generated examples of every class: ``per_class`` (class name, RGB 64×64 PIL image) pairs each.

    Ordered by class, then by example; deterministic for a ``seed`` (each class and example has
    its own seeded generator, so asking for more examples does not change the first ones). Used
    by the app's sample gallery for the bundled mini model.
    """
    out: list[tuple[str, Image.Image]] = []
    for label, name in enumerate(CLASSES):
        for j in range(per_class):
            rng = np.random.default_rng([int(seed), label, j, 2])
            out.append((name, Image.fromarray(render(rng, label))))
    return out
