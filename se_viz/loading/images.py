"""Decoding user images safely into RGB ``PIL.Image`` objects.

Every failure becomes one :class:`InputError` with a plain one-line message; no other exception
type escapes :func:`load_image`, whatever bytes it is given. Sizes are checked from the header
before any pixel is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError

__all__ = ["ImageFacts", "InputError", "MAX_PIXELS", "SUPPORTED_FORMATS", "crop_fraction", "describe_image",
           "fit_notices", "load_image"]

MAX_PIXELS = 50_000_000  # 50 megapixels
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF", "MPO", "PPM", "ICO")
MAX_FILE_BYTES = 200 * 1024 * 1024


def _error(label: str, text: str) -> InputError:
    """An InputError that starts with the file's name when there is one, else a capital letter."""
    return InputError(f"{label}: {text}" if label else text[:1].upper() + text[1:])


def _describe(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "a PDF document, not an image; export the page as PNG or JPEG first"
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head:
        return "an SVG vector drawing; rasterise it to PNG first"
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return "a web page (HTML), not an image"
    return "not an image se_viz can read (supported: JPEG, PNG, WebP, BMP, GIF, TIFF)"


def _read(data: Union[bytes, bytearray, memoryview, str, os.PathLike], name: Optional[str]) -> tuple[bytes, str]:
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        label = name or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _error(label, f"cannot open the file ({exc.strerror or exc}).") from None
        if size > MAX_FILE_BYTES:
            raise _error(label, f"the file is {size / 1e6:.0f} MB; the limit is "
                             f"{MAX_FILE_BYTES / 1e6:.0f} MB.")
        try:
            return path.read_bytes(), label
        except OSError as exc:
            raise _error(label, f"cannot read the file ({exc.strerror or exc}).") from None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), name or ""
    raise InputError(f"Expected image bytes or a file path, got {type(data).__name__}.")


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P":
        # Palette images may carry transparency; go through RGBA so it is composited on white.
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # High bit depth and float: scale the actual range into 0…255 instead of clipping.
        arr = np.asarray(img, dtype=np.float64)
        finite = np.isfinite(arr)
        if not finite.any():
            raise _error("", "the image holds no finite pixel values.")
        lo, hi = float(arr[finite].min()), float(arr[finite].max())
        if mode.startswith("I;16") or (mode == "I" and lo >= 0 and hi <= 65535 and hi > 255):
            lo, hi = (0.0, 65535.0) if mode.startswith("I;16") else (lo, hi)
        elif mode == "F" and lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0
        scale = (hi - lo) or 1.0
        arr = np.where(finite, (arr - lo) / scale, 0.0)
        gray = Image.fromarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        return gray.convert("RGB")
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def load_image(
    data: Union[bytes, bytearray, memoryview, str, os.PathLike], *, name: Optional[str] = None
) -> Image.Image:
    """Decode ``data`` (bytes or a path) into an RGB image with its EXIF orientation applied.

    ``name`` (for example the uploaded file's name) starts every error message.
    Grayscale, palette, RGBA/LA (composited on white), CMYK, 16-bit and float images are
    converted; animated images give their first frame. Empty, corrupt, truncated, non-image
    (SVG, PDF, …) and oversize (over 50 megapixels, checked before decoding) inputs raise
    :class:`InputError` with a one-line message; no other exception type escapes.
    """
    raw, label = _read(data, name)
    if not raw:
        raise _error(label, f"the file is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            # Pillow warns about bombs and damaged metadata; we check the size ourselves before
            # decoding and turn real failures into InputError, so its warnings are only noise.
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(raw))
            width, height = img.size
            if width <= 0 or height <= 0:
                raise _error(label, f"the image has no pixels ({width}×{height}).")
            if width * height > MAX_PIXELS:
                raise _error(label, 
                    f"the image is {width}×{height} = {width * height / 1e6:.0f} "
                    f"megapixels; the limit is {MAX_PIXELS / 1e6:.0f}. Downscale it first."
                )
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img) or img
            rgb = _to_rgb(img)
            rgb.load()
            return rgb
    except InputError as exc:
        msg = str(exc)
        raise (exc if not label or msg.startswith(label) else _error(label, msg)) from None
    except UnidentifiedImageError:
        raise _error(label, f"{_describe(raw)}.") from None
    except Image.DecompressionBombError:
        raise _error(label, f"the image is too large to decode safely (over "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels).") from None
    except (OSError, SyntaxError, EOFError) as exc:
        text = str(exc).lower()
        if "truncat" in text or isinstance(exc, EOFError):
            raise _error(label, f"the file is truncated (it ends before the image does); "
                             "upload it again.") from None
        raise _error(label, f"the file is damaged and cannot be decoded ({exc}).") from None
    except MemoryError:
        raise _error(label, f"not enough memory to decode this image.") from None
    except Exception as exc:  # noqa: BLE001 — any decoder failure is a bad input, never a crash
        raise _error(label, f"cannot decode this image ({type(exc).__name__}: {exc}).") from None


# ---------------------------------------------------------------------------------------------
# What the network will make of an image


#: Aspect ratios (long side / short side) above this get a notice about the centre crop.
EXTREME_ASPECT = 2.5
#: Images whose shorter side is below this many pixels are "tiny": the network sees them enlarged.
TINY_SIDE = 32


@dataclass(frozen=True)
class ImageFacts:
    """What an image file is, read from its header: size, frame count, format, mode."""

    width: int
    height: int
    frames: int
    format: str
    mode: str


def describe_image(data: Union[bytes, bytearray, memoryview, str, os.PathLike]) -> ImageFacts:
    """The facts of an image file, from its header only (no pixels decoded).

    Raises :class:`InputError` exactly where :func:`load_image` would fail to open the file.
    """
    raw, label = _read(data, None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(raw))
            return ImageFacts(img.size[0], img.size[1], int(getattr(img, "n_frames", 1) or 1),
                              img.format or "unknown", img.mode)
    except Exception:  # noqa: BLE001 — the decoder's own words are load_image's job
        load_image(raw, name=label)  # raises the plain InputError
        raise _error(label, f"cannot read the image header.") from None


def crop_fraction(width: int, height: int, input_size: Sequence[int], crop_pct: float, fit: str = "crop") -> float:
    """The fraction of the image's area the network sees, with timm's eval transform.

    timm resizes the shorter side to ``input / crop_pct`` and then centre-crops ``input`` pixels,
    so a W×H image keeps ``min(1, crop·W'/W)`` of its width and likewise of its height, where the
    scale is set by the shorter side. ``fit="pad"`` pads to a square first: nothing is cut off
    except the crop_pct border.
    """
    out_h, out_w = int(input_size[-2]), int(input_size[-1])
    if fit == "pad":
        width = height = max(width, height)
    scale_size = min(out_h, out_w) / crop_pct
    scale = scale_size / min(width, height)
    kept_w = min(1.0, out_w / (width * scale))
    kept_h = min(1.0, out_h / (height * scale))
    return kept_w * kept_h


def fit_notices(facts: ImageFacts, input_size: Sequence[int], crop_pct: float, fit: str = "crop") -> list[str]:
    """Plain sentences about what the network will do to this image, or an empty list.

    Said for: an extreme aspect ratio (over :data:`EXTREME_ASPECT`: how much the centre crop
    keeps), a tiny image (shorter side under :data:`TINY_SIDE` px: how much it is enlarged) and a
    multi-frame file (which frame is used).
    """
    notices = []
    w, h = facts.width, facts.height
    if fit == "crop" and max(w, h) / max(min(w, h), 1) > EXTREME_ASPECT:
        kept = crop_fraction(w, h, input_size, crop_pct, fit)
        notices.append(f"The network sees only the middle {100 * kept:.1f} % of this {w}×{h} image "
                       "(centre crop). Set “Fit images” to “pad” in the sidebar to show it whole.")
    if min(w, h) < TINY_SIDE:
        factor = min(int(input_size[-2]), int(input_size[-1])) / max(min(w, h), 1)
        notices.append(f"This image is tiny ({w}×{h} px): the network sees it enlarged about "
                       f"{factor:.0f}×, so there is little detail to respond to.")
    if facts.frames > 1:
        notices.append(f"This {facts.format} has {facts.frames} frames; the first frame is used.")
    return notices
