"""How an image of any shape is fitted to a network's square input: crop (timm's way) or pad.

timm's evaluation transform (``transforms_imagenet_eval``, crop mode ``"center"``) resizes the
image's *shorter* side to ``input / crop_pct`` and then cuts the centre ``input × input`` out of
it. For a photo that loses a thin border; for a 10000×10 banner it keeps 0.1 % of the width.
``fit="pad"`` instead pads the image to a square of the normalisation mean colour (zero after
normalisation) *before* that transform, with a margin sized so the centre crop keeps all of it.

Everything here is pure arithmetic on sizes (plus one PIL padding step); :func:`fit_notices`
turns the arithmetic into sentences for the app.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

from PIL import Image, ImageOps

from se_viz.i18n import _

if TYPE_CHECKING:  # only for annotations: images.py imports this module
    from .images import ImageFacts

__all__ = [
    "EXTREME_ASPECT",
    "FITS",
    "TINY_UPSCALE",
    "check_fit",
    "crop_fraction",
    "fit_notices",
    "mean_fill",
    "pad_to_square",
    "upscale_factor",
]

FITS = ("crop", "pad")
# Long side ≥ 2 × short side (a 2:1 panorama and wider): the centre crop then keeps less than
# half of the long side, so the app says how much of the image the network actually sees.
EXTREME_ASPECT = 2.0
# The network enlarges each image pixel 4× or more (e.g. a 56 px image for a 224 px input):
# the input is then mostly interpolation, and the app says so.
TINY_UPSCALE = 4.0


def check_fit(fit: str) -> str:
    """``fit`` itself when it is ``"crop"`` or ``"pad"``; a ValueError otherwise."""
    if fit not in FITS:
        raise ValueError(f"fit must be 'crop' or 'pad', got {fit!r}.")
    return fit


def _input_hw(input_size: Sequence[int]) -> tuple[int, int]:
    """(height, width) from ``(H, W)`` or timm's ``(3, H, W)``."""
    h, w = tuple(input_size)[-2:]
    return int(h), int(w)


def _pad_side(width: int, height: int, crop_pct: float) -> int:
    """Side of the padded square: the long side plus the margin the centre crop will cut."""
    long = max(width, height)
    return max(long, math.ceil(long / crop_pct))


def _resized(width: int, height: int, input_size: Sequence[int], crop_pct: float) -> tuple[int, int]:
    """(width, height) after the resize step of timm's centre-crop eval transform.

    A square target (the usual case) uses torchvision's ``Resize(int)``: shorter side to
    ``floor(input / crop_pct)``, longer side ``int(…)`` in proportion. A non-square target uses
    timm's ``ResizeKeepRatio``: both sides divided by the smaller of the two size ratios, rounded.
    """
    in_h, in_w = _input_hw(input_size)
    scale_h, scale_w = math.floor(in_h / crop_pct), math.floor(in_w / crop_pct)
    if scale_h == scale_w:
        short, long = min(width, height), max(width, height)
        new_short, new_long = scale_h, int(scale_h * long / short)
        return (new_short, new_long) if width <= height else (new_long, new_short)
    ratio = min(height / scale_h, width / scale_w)
    return round(width / ratio), round(height / ratio)


def crop_fraction(
    width: int, height: int, input_size: Sequence[int], crop_pct: float, fit: str = "crop"
) -> float:
    """The fraction (0…1] of a ``width × height`` image's area the network sees.

    ``fit="crop"``: timm's eval transform (shorter side resized to ``input / crop_pct``, then the
    centre ``input`` cut out), so a square image keeps ``crop_pct²`` (0.875² = 77 % for ImageNet
    models) and a 10000×10 image for a 64 px model with ``crop_pct = 1`` keeps 64 / 64000 = 0.1 %.
    ``fit="pad"``: 1.0 — the padding margin is sized so the crop cuts only padding.
    ``input_size`` is ``(H, W)`` or timm's ``(3, H, W)``.
    """
    if check_fit(fit) == "pad":
        return 1.0
    in_h, in_w = _input_hw(input_size)
    new_w, new_h = _resized(width, height, input_size, crop_pct)
    return min(1.0, in_w / new_w) * min(1.0, in_h / new_h)


def upscale_factor(
    width: int, height: int, input_size: Sequence[int], crop_pct: float, fit: str = "crop"
) -> float:
    """How many network pixels one image pixel becomes along each side (> 1: enlarged)."""
    if check_fit(fit) == "pad":
        scale = math.floor(min(_input_hw(input_size)) / crop_pct)
        return scale / _pad_side(width, height, crop_pct)
    new_w, new_h = _resized(width, height, input_size, crop_pct)
    return min(new_w / width, new_h / height)


def mean_fill(mean: Sequence[float]) -> tuple[int, ...]:
    """The 0…255 RGB colour of a normalisation mean (e.g. ImageNet's → (124, 116, 104))."""
    return tuple(int(round(255 * m)) for m in mean)


def pad_to_square(image: Image.Image, fill: Sequence[int], crop_pct: float) -> Image.Image:
    """``image`` centred on a square of colour ``fill``, big enough that a centre crop of
    ``crop_pct`` keeps all of it (no resampling: PIL's ``ImageOps.pad`` to the long side, then
    ``ImageOps.expand`` by the crop's margin)."""
    long = max(image.size)
    square = ImageOps.pad(image, (long, long), color=tuple(fill))
    border = (_pad_side(*image.size, crop_pct) - long + 1) // 2
    return ImageOps.expand(square, border=border, fill=tuple(fill)) if border else square


def _percent(fraction: float) -> str:
    pct = 100.0 * fraction
    if pct < 0.01:
        return _("less than 0.01 %")
    return f"{pct:.2g} %" if pct < 10 else f"{pct:.0f} %"


def _times(factor: float) -> str:
    return f"{factor:.0f}×" if factor >= 10 else f"{factor:.1f}×"


def fit_notices(
    facts: "ImageFacts", input_size: Sequence[int], crop_pct: float, fit: str = "crop"
) -> list[str]:
    """Plain sentences about what fitting this image to the network does to it (may be empty).

    One sentence each, when it applies: an extreme aspect ratio (long side ≥
    :data:`EXTREME_ASPECT` × short side: how much the centre crop keeps, or how little of the
    padded input the image fills), a tiny image (each pixel enlarged :data:`TINY_UPSCALE`× or more
    along each side — a 1×1 image becomes 256×), and a
    file with several frames (only the first is used).
    """
    check_fit(fit)
    w, h = facts.width, facts.height
    in_h, in_w = _input_hw(input_size)
    notices = []
    if max(w, h) >= EXTREME_ASPECT * min(w, h):
        if fit == "crop":
            kept = crop_fraction(w, h, input_size, crop_pct, fit)
            notices.append(
                _(
                    "The network sees only the middle {percent} of this {w}×{h} image (centre crop). "
                    "Set “Fit images to the network” to “pad” in the sidebar to show it whole."
                ).format(percent=_percent(kept), w=w, h=h)
            )
        else:
            filled = w * h / _pad_side(w, h, crop_pct) ** 2
            notices.append(
                _(
                    "This {w}×{h} image is padded to a square: it fills only {percent} "
                    "of the network's {in_w}×{in_h} input; the rest is the mean colour."
                ).format(w=w, h=h, percent=_percent(filled), in_w=in_w, in_h=in_h)
            )
    factor = upscale_factor(w, h, input_size, crop_pct, fit)
    if factor >= TINY_UPSCALE:
        notices.append(
            _(
                "The network enlarges this {w}×{h} image {times} to fill its {in_w}×{in_h} "
                "input (each image pixel covers {f}×{f} input pixels), so it sees a blur, not detail."
            ).format(w=w, h=h, times=_times(factor), in_w=in_w, in_h=in_h, f=_times(factor)[:-1])
        )
    if facts.frames > 1:
        notices.append(
            _("This {format} file has {n} frames; the network sees only the first (frame 1 of {n}).").format(
                format=facts.format, n=facts.frames
            )
        )
    return notices
