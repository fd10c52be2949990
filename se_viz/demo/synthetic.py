"""The synthetic image task the bundled "SE-ResNet mini" is trained on, generated in code.

Ten classes, 64×64 RGB, chosen so that colour-, orientation-, shape- and texture-selective
channels are all useful:

* three coloured shapes whose class is carried by colour *and* shape (``red circle``,
  ``blue square``, ``green triangle``);
* two shapes in a random colour, so only the shape tells them apart (``star``, ``ring``);
* three gratings in random colours that differ only in orientation (``horizontal stripes``,
  ``vertical stripes``, ``diagonal stripes``);
* two textures in random colours (``checkerboard``, ``dots``).

Every image gets one of three backgrounds — plain white, a plain low-saturation colour, or a
low-saturation gradient with clutter (short thin lines and small specks in muted colours) — a
random position, scale and rotation of the object (orientation classes keep their orientation
within ±12°; shapes, checkerboards and dots are axis-aligned part of the time, as people draw
them), coarse and fine periods for textures, patches or whole-image textures, black, grey or
coloured ink, colour jitter and Gaussian pixel noise. The ranges are the module's constants
below, and the model card quotes them from there. Only numpy and Pillow are used; everything is
driven by one ``numpy.random.Generator``, so a seed gives the same images on every machine.
"""

from __future__ import annotations

import colorsys
import io
import math
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..i18n import NC_

__all__ = ["CLASSES", "IMAGE_SIZE", "example_images", "generate", "make_batch", "render"]  # + range constants

IMAGE_SIZE = 64

# Marked for the catalogue with the class-name context (shown through se_viz.i18n.class_name); the
# strings themselves stay English: they are the labels stored with the weights.
CLASSES: list[str] = [
    NC_("class name", "red circle"),
    NC_("class name", "blue square"),
    NC_("class name", "green triangle"),
    NC_("class name", "star"),
    NC_("class name", "ring"),
    NC_("class name", "horizontal stripes"),
    NC_("class name", "vertical stripes"),
    NC_("class name", "diagonal stripes"),
    NC_("class name", "checkerboard"),
    NC_("class name", "dots"),
]

# Hues (0..1) of the colour-defined classes; jittered by ±HUE_JITTER.
_CLASS_HUE = {"red circle": 0.0, "blue square": 0.62, "green triangle": 0.33}
HUE_JITTER = 0.035

# The generator's ranges, public so that the model card states exactly what training saw.
BACKGROUND_P = {"white": 0.25, "plain colour": 0.2, "gradient with clutter": 0.4, "noisy grey": 0.15}
NOISY_GREY_SIGMA = (0.05, 0.15)  # per-pixel colour grain of a noisy grey background
CLUTTER_ITEMS = (2, 6)  # items on a gradient background (inclusive)
NOISE_SIGMA = (0.0, 0.06)  # Gaussian pixel noise, σ drawn uniformly (images in [0, 1])
SHAPE_RADIUS = (0.12, 0.42)  # shape radius as a fraction of the image side
RING_WIDTH = (0.12, 0.4)  # ring width as a fraction of its radius
AXIS_ALIGNED_P = 0.4  # shapes upright / textures unrotated this often
ORIENTATION_JITTER_DEG = 12.0  # stripes keep their class orientation within ±this
PERIOD_PX = (4.0, 30.0)  # stripe period in pixels at 64×64, log-uniform (fine … coarse)
STRIPE_DUTY = (0.25, 0.75)  # fraction of a stripe period in the first colour
CHECKER_CELL_PX = (2.5, 22.0)  # checkerboard cell side in pixels at 64×64, log-uniform
DOT_PERIOD_PX = (3.5, 30.0)  # dot spacing in pixels at 64×64, log-uniform (dense … sparse)
DOT_RADIUS = (0.12, 0.45)  # dot radius as a fraction of the dot spacing
DOT_LAYOUTS = ("square grid", "staggered grid", "scattered")  # picked uniformly
DOT_SCATTER = 0.9  # scattered dots move up to this fraction of the room left in their grid cell
# Dense dots with large radius look much like a small checkerboard at 64×64 (both are blobs of one
# colour on a fine lattice); this often a checkerboard or dots texture is drawn from exactly that
# look-alike range, so the network learns what tells them apart: dots are round with background
# between them on every side, checker squares meet at their corners.
LOOK_ALIKE_P = 0.5
LOOK_ALIKE_DOT_PERIOD_PX = (4.5, 9.0)  # dot spacing, uniform
LOOK_ALIKE_DOT_RADIUS = (0.26, 0.42)  # dot radius as a fraction of the spacing (square or staggered grid)
LOOK_ALIKE_CHECKER_CELL_PX = (3.0, 8.0)  # checker cell side, uniform
# Look-alikes are in two equally bright colours this often (otherwise as any texture): the case where
# only the shapes' hue edges tell dots from checker squares.
LOOK_ALIKE_PAIR_P = 0.7
# Look-alikes are drawn upright (texture and patch unrotated, as in a paint program) this often, and
# as a small box patch (half-size below) this often: a small upright patch of dense dots is where the
# two classes are hardest to tell apart, since only a few dots and no rotation cue are in view.
LOOK_ALIKE_UPRIGHT_P = 0.7
LOOK_ALIKE_SMALL_BOX_P = 0.6
LOOK_ALIKE_HALF_SIZE = (0.18, 0.36)  # that box's half-size as a fraction of the image side
TEXTURE_SUPERSAMPLE = 2  # textures are drawn at this many samples per pixel side, then averaged
WHOLE_IMAGE_TEXTURE_P = 0.4  # texture fills the whole image, otherwise a patch
TEXTURE_HALF_SIZE = (0.17, 0.5)  # patch half-size as a fraction of the image side
DARK_INK_P = 0.3  # colour-free classes drawn in black / dark grey this often
INK_ON_WHITE_P = 0.35  # textures in one ink (black or a colour, half each) on paper, else two colours
# Two-colour textures in colours of equal brightness (luma) this often, otherwise kept apart in
# brightness: a pattern must be seen by its hue edges too, not only as dark ink on a light ground.
EQUAL_BRIGHTNESS_P = 0.5
PAIR_HUE_GAP = 0.15  # such equally bright colours differ in hue by at least this (0–1 around the wheel)
JPEG_P = 0.25  # images saved as JPEG and decoded again this often (the blocks and ringing of photos)
JPEG_QUALITY = (25, 85)  # that JPEG's quality, uniform integers (inclusive)
PALE_PAPER_P = 0.4  # that paper is a pale tint this often, otherwise white
# Training batches show the pair of classes drawings confuse most (each other) this many times as
# often as every other class; held-out sets stay balanced.
TRAIN_CLASS_REPEATS = {"checkerboard": 2, "dots": 3}
VIVID_SATURATION = (0.7, 1.0)  # HSV saturation of object / ink colours
VIVID_VALUE = (0.45, 1.0)  # HSV value (brightness) of object / ink colours


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


def _vivid(rng: np.random.Generator, hue: Optional[float] = None) -> np.ndarray:
    """A saturated colour; the given hue jittered, or any hue."""
    h = rng.uniform(0, 1) if hue is None else hue + rng.uniform(-HUE_JITTER, HUE_JITTER)
    return _hsv(h, rng.uniform(*VIVID_SATURATION), rng.uniform(*VIVID_VALUE))


def _background(rng: np.random.Generator, size: int) -> tuple[np.ndarray, bool]:
    """A background (size, size, 3) float32 in [0, 1], and whether clutter belongs on it.

    Plain white (as in a paint program), a plain low-saturation colour, or a low-saturation
    linear gradient (the kind that gets clutter); probabilities in :data:`BACKGROUND_P`.
    """
    kind = rng.choice(list(BACKGROUND_P), p=list(BACKGROUND_P.values()))
    if kind == "noisy grey":
        grey = rng.uniform(0.35, 0.85)
        grain = rng.normal(0.0, rng.uniform(*NOISY_GREY_SIGMA), (size, size, 3))
        return np.clip(grey + grain, 0, 1).astype(np.float32), False
    if kind == "white":
        c = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.04), rng.uniform(0.93, 1.0))
        return np.broadcast_to(c, (size, size, 3)).astype(np.float32), False
    if kind == "plain colour":
        c = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.3), rng.uniform(0.3, 0.95))
        return np.broadcast_to(c, (size, size, 3)).astype(np.float32), False
    c0 = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.3), rng.uniform(0.25, 0.85))
    c1 = _hsv(rng.uniform(0, 1), rng.uniform(0.0, 0.3), rng.uniform(0.25, 0.85))
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    t = xx * math.cos(theta) + yy * math.sin(theta)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None], True


def _luma(rgb: np.ndarray) -> float:
    """Rec. 601 luma of an RGB colour in [0, 1]: the brightness a grey copy of the image shows."""
    return float(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])


def _luma_matched(rgb: np.ndarray, target: float) -> np.ndarray:
    """``rgb`` with its luma moved to ``target``: scaled down, or blended towards white to brighten
    (which keeps its hue), so two vivid colours of different hue end up equally bright."""
    own = _luma(rgb)
    if own >= target:
        return (rgb * (target / max(own, 1e-6))).astype(np.float32)
    t = (target - own) / max(1.0 - own, 1e-6)
    return (rgb + (1.0 - rgb) * t).astype(np.float32)


def _dark(rng: np.random.Generator) -> np.ndarray:
    """Black or a dark grey ink."""
    return _hsv(0.0, 0.0, rng.uniform(0.0, 0.3))


def _clutter(rng: np.random.Generator, img: Image.Image) -> None:
    """Short thin lines and small specks in muted colours, drawn onto ``img`` in place."""
    draw = ImageDraw.Draw(img)
    size = img.size[0]
    for _ in range(int(rng.integers(CLUTTER_ITEMS[0], CLUTTER_ITEMS[1] + 1))):
        col = tuple(
            int(255 * c) for c in _hsv(rng.uniform(0, 1), rng.uniform(0, 0.45), rng.uniform(0.2, 0.9))
        )
        if rng.uniform() < 0.5:
            x0, y0 = rng.uniform(0, size, 2)
            ang, length = rng.uniform(0, 2 * math.pi), rng.uniform(4, 12)
            draw.line(
                [(x0, y0), (x0 + length * math.cos(ang), y0 + length * math.sin(ang))], fill=col, width=1
            )
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
    radius = rng.uniform(*SHAPE_RADIUS) * size
    margin = min(radius * 0.9, size / 2)
    cx, cy = rng.uniform(margin, size - margin, 2)
    # Upright (a square with horizontal sides, a triangle or star pointing up) part of the time.
    upright = {"blue square": math.pi / 4, "green triangle": -math.pi / 2, "star": -math.pi / 2}
    if rng.uniform() < AXIS_ALIGNED_P:
        angle = upright.get(name, 0.0)
    else:
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
        width = R * rng.uniform(*RING_WIDTH)
        draw.ellipse([X - R, Y - R, X + R, Y + R], fill=255)
        draw.ellipse([X - R + width, Y - R + width, X + R - width, Y + R - width], fill=0)
    else:
        raise ValueError(name)
    return np.asarray(mask.resize((size, size), Image.BILINEAR), dtype=np.float32) / 255.0


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """Fine and coarse equally often: uniform in log between the two bounds."""
    return float(np.exp(rng.uniform(math.log(bounds[0]), math.log(bounds[1]))))


def _dot_pattern(
    rng: np.random.Generator, a: np.ndarray, b: np.ndarray, period: float, look_alike: bool = False
) -> np.ndarray:
    """Dots of one radius on a (rotated) lattice with coordinates ``a``, ``b``, in one of :data:`DOT_LAYOUTS`.

    A staggered grid shifts every other row by half a period; scattered dots move each dot
    by its own random offset inside its grid cell (never far enough to touch a neighbour), as
    dots spread by hand keep about the same density. ``look_alike`` dots are large on a regular
    grid (:data:`LOOK_ALIKE_DOT_RADIUS`), the ones a small checkerboard resembles.
    """
    radius = period * rng.uniform(*(LOOK_ALIKE_DOT_RADIUS if look_alike else DOT_RADIUS))
    layout = DOT_LAYOUTS[int(rng.integers(0, 2 if look_alike else len(DOT_LAYOUTS)))]
    row = np.floor(b / period)
    if layout == "staggered grid":
        a = a + (row % 2) * (period / 2)
    col = np.floor(a / period)
    da = np.mod(a, period) - period / 2
    db = np.mod(b, period) - period / 2
    if layout == "scattered":
        room = max(0.0, period / 2 - radius) * DOT_SCATTER
        # One offset per lattice cell, looked up by the cell's (wrapped) index.
        n = 64
        offsets = rng.uniform(-room, room, (2, n, n))
        ci, ri = col.astype(np.int64) % n, row.astype(np.int64) % n
        da, db = da - offsets[0][ri, ci], db - offsets[1][ri, ci]
    return (da * da + db * db) <= radius * radius


def _texture_mask(
    rng: np.random.Generator, name: str, size: int, look_alike: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(region mask, pattern) in [0, 1] for a grating or texture patch at a random place and scale.

    Drawn at :data:`TEXTURE_SUPERSAMPLE` samples per pixel side and averaged, so fine patterns
    have the soft edges a drawing gets when it is resized to 64×64, not only hard aliased ones.
    """
    ss = TEXTURE_SUPERSAMPLE
    yy, xx = (np.mgrid[0 : size * ss, 0 : size * ss].astype(np.float32) + 0.5) / ss
    # Log-uniform scale: fine and coarse textures equally often.
    period = _log_uniform(rng, PERIOD_PX)
    cell = _log_uniform(rng, CHECKER_CELL_PX)
    dot_period = _log_uniform(rng, DOT_PERIOD_PX)
    if look_alike:
        cell = rng.uniform(*LOOK_ALIKE_CHECKER_CELL_PX)
        dot_period = rng.uniform(*LOOK_ALIKE_DOT_PERIOD_PX)
    scale = {"checkerboard": 1.5 * cell, "dots": 0.9 * dot_period}.get(name, 0.9 * period)
    # The patch: a rotated ellipse or box covering a good part of the image, or all of it; never
    # so small that it holds less than about two periods of its texture.
    small_box = look_alike and rng.uniform() < LOOK_ALIKE_SMALL_BOX_P
    half = LOOK_ALIKE_HALF_SIZE if small_box else TEXTURE_HALF_SIZE
    half_w, half_h = np.maximum(rng.uniform(*half, 2) * size, min(scale, size / 2))
    cx = rng.uniform(min(half_w * 0.8, size / 2), max(size - half_w * 0.8, size / 2))
    cy = rng.uniform(min(half_h * 0.8, size / 2), max(size - half_h * 0.8, size / 2))
    upright_p = LOOK_ALIKE_UPRIGHT_P if look_alike else AXIS_ALIGNED_P
    upright = rng.uniform() < upright_p
    phi = 0.0 if upright else rng.uniform(0, math.pi)
    u = (xx - cx) * math.cos(phi) + (yy - cy) * math.sin(phi)
    v = -(xx - cx) * math.sin(phi) + (yy - cy) * math.cos(phi)
    shape = rng.uniform()
    if small_box:
        region = (np.abs(u) <= half_w) & (np.abs(v) <= half_h)
    elif shape < WHOLE_IMAGE_TEXTURE_P:
        region = np.ones(xx.shape, dtype=bool)
    elif shape < (1 + WHOLE_IMAGE_TEXTURE_P) / 2:
        region = ((u / half_w) ** 2 + (v / half_h) ** 2) <= 1.0
    else:
        region = (np.abs(u) <= half_w) & (np.abs(v) <= half_h)
    phase = rng.uniform(0, 30.0)
    jitter = math.radians(rng.uniform(-ORIENTATION_JITTER_DEG, ORIENTATION_JITTER_DEG))
    # Checkerboards and dots: unrotated (as drawn in a paint program) part of the time.
    unrotated = upright if look_alike else rng.uniform() < AXIS_ALIGNED_P
    theta = 0.0 if unrotated else rng.uniform(0, math.pi / 2)
    a = xx * math.cos(theta) + yy * math.sin(theta) + phase
    b = -xx * math.sin(theta) + yy * math.cos(theta) + phase
    if name in ("horizontal stripes", "vertical stripes", "diagonal stripes"):
        # The direction across the stripes: horizontal stripes vary along y; diagonal either way.
        base = {
            "horizontal stripes": 90.0,
            "vertical stripes": 0.0,
            "diagonal stripes": 45.0 if rng.uniform() < 0.5 else 135.0,
        }[name]
        across = math.radians(base) + jitter
        t = xx * math.cos(across) + yy * math.sin(across) + phase
        pattern = np.mod(t, period) < period * rng.uniform(*STRIPE_DUTY)
    elif name == "checkerboard":
        pattern = (np.floor(a / cell) + np.floor(b / cell)) % 2 == 0
    elif name == "dots":
        pattern = _dot_pattern(rng, a, b, dot_period, look_alike)
    else:
        raise ValueError(name)

    def pooled(m: np.ndarray) -> np.ndarray:
        return m.astype(np.float32).reshape(size, ss, size, ss).mean(axis=(1, 3))

    return pooled(region), pooled(pattern)


def render(rng: np.random.Generator, label: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """Render one image of class ``CLASSES[label]`` as uint8 (size, size, 3), drawing from ``rng``.

    The background (gradient and clutter) is drawn first, the object on top, then colour noise.
    All randomness comes from ``rng``, so the same generator state gives the same image.
    """
    name = CLASSES[label]
    bg, cluttered = _background(rng, size)
    canvas = Image.fromarray((bg * 255).astype(np.uint8))
    if cluttered:
        _clutter(rng, canvas)
    img = np.asarray(canvas, dtype=np.float32) / 255.0
    if name in _CLASS_HUE or name in ("star", "ring"):
        mask = _shape_mask(rng, name, size)
        # Star and ring take any hue (or black), so only their shape identifies them.
        if name not in _CLASS_HUE and rng.uniform() < DARK_INK_P:
            colour = _dark(rng)
        else:
            colour = _vivid(rng, _CLASS_HUE.get(name))
        # A little shading across the object so colour channels cannot rely on one flat value.
        shade = 1.0 + rng.uniform(-0.15, 0.15) * (np.linspace(-1, 1, size, dtype=np.float32)[None, :])
        obj = np.clip(colour[None, None, :] * shade[..., None], 0, 1)
        img = img * (1 - mask[..., None]) + obj * mask[..., None]
    else:
        look_alike = name in ("checkerboard", "dots") and rng.uniform() < LOOK_ALIKE_P
        region, pattern = _texture_mask(rng, name, size, look_alike)
        pair = look_alike and rng.uniform() < LOOK_ALIKE_PAIR_P
        if not pair and rng.uniform() < INK_ON_WHITE_P:
            # One ink (black, grey or a colour) on white or pale paper, as drawn in a paint program.
            c_on = _dark(rng) if rng.uniform() < 0.5 else _vivid(rng)
            tint = rng.uniform(0.04, 0.15) if rng.uniform() < PALE_PAPER_P else 0.0
            c_off = _hsv(rng.uniform(0, 1), tint, rng.uniform(0.93, 1.0))
        else:
            c_on, c_off = _vivid(rng), _vivid(rng)
            if pair or rng.uniform() < EQUAL_BRIGHTNESS_P:
                # Equal luma: only the hue tells the two apart (a grey copy would be flat), so the
                # hues are kept at least PAIR_HUE_GAP apart around the colour wheel.
                hue = colorsys.rgb_to_hsv(*c_on)[0] + rng.uniform(PAIR_HUE_GAP, 1 - PAIR_HUE_GAP)
                c_off = _luma_matched(_vivid(rng, hue), _luma(c_on))
            elif abs(float(c_on.mean() - c_off.mean())) < 0.25:
                # Kept apart in brightness, so the pattern also shows as light and dark.
                c_off = c_off * 0.35
        if rng.uniform() < 0.5:
            c_on, c_off = c_off, c_on
        tex = pattern[..., None] * c_on[None, None, :] + (1 - pattern[..., None]) * c_off[None, None, :]
        img = img * (1 - region[..., None]) + tex * region[..., None]
    img = img + rng.normal(0.0, rng.uniform(*NOISE_SIGMA), img.shape).astype(np.float32)
    out = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    if rng.uniform() < JPEG_P:
        buf = io.BytesIO()
        quality = int(rng.integers(JPEG_QUALITY[0], JPEG_QUALITY[1] + 1))
        Image.fromarray(out).save(buf, format="JPEG", quality=quality)
        out = np.asarray(Image.open(buf).convert("RGB"))
    return out


def generate(
    n: int,
    seed: int | Sequence[int] = 0,
    *,
    balanced: bool = True,
    class_repeats: Optional[dict[str, int]] = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` images and labels: uint8 (n, 64, 64, 3) and int64 (n,).

    With ``balanced`` the labels cycle through the classes (every class gets ``n // K`` or one
    more image) in a shuffled order; otherwise they are drawn uniformly. ``seed`` is anything
    ``numpy.random.default_rng`` accepts; training uses ``[seed, step, 1]`` sequences, so a plain
    integer seed (as used for held-out sets) never repeats a training batch.

    ``class_repeats`` (balanced only) makes the named classes come that many times per cycle
    through the classes — training uses :data:`TRAIN_CLASS_REPEATS`; held-out sets stay balanced.
    """
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    if balanced and class_repeats:
        cycle = np.array(
            [c for c, name in enumerate(CLASSES) for _ in range(int(class_repeats.get(name, 1)))], np.int64
        )
        # A random start in the cycle, so no class is favoured by where a batch ends.
        labels = cycle[(np.arange(n) + int(rng.integers(0, len(cycle)))) % len(cycle)]
        rng.shuffle(labels)
    elif balanced:
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
