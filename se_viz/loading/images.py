"""Decoding user images safely into RGB ``PIL.Image`` objects, and describing them first.

Every failure becomes one :class:`InputError` with a plain one-line message; no other exception
type escapes :func:`load_image` or :func:`describe_image`, whatever bytes they are given. Sizes
are checked from the header before any pixel is decoded, so a decompression bomb costs nothing.
:func:`describe_image` reads only the header (size, frames, format, mode), which is what
:func:`se_viz.loading.fit.fit_notices` needs to explain an odd image before it is shown.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError
from ..i18n import _
from .fit import crop_fraction, fit_notices

__all__ = [
    "ImageFacts",
    "InputError",
    "MAX_PIXELS",
    "crop_fraction",
    "describe_image",
    "fit_notices",
    "load_image",
]

MAX_PIXELS = 50_000_000  # 50 megapixels
MAX_FILE_BYTES = 200 * 1024 * 1024


def _error(label: str, text: str) -> InputError:
    """An InputError that starts with the file's name when there is one, else a capital letter."""
    return InputError(
        _("{file}: {problem}").format(file=label, problem=text) if label else text[:1].upper() + text[1:]
    )


def _describe(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith(b"%pdf"):
        return _("a PDF document, not an image; export the page as PNG or JPEG first")
    if head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head:
        return _("an SVG vector drawing; rasterise it to PNG first")
    if head.startswith(b"<!doctype html") or head.startswith(b"<html"):
        return _("a web page (HTML), not an image")
    return _("not an image se_viz can read (supported: JPEG, PNG, WebP, BMP, GIF, TIFF)")


def _read(
    data: Union[bytes, bytearray, memoryview, str, os.PathLike], name: Optional[str]
) -> tuple[bytes, str]:
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        label = name or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _error(
                label, _("cannot open the file ({reason}).").format(reason=exc.strerror or exc)
            ) from None
        if size > MAX_FILE_BYTES:
            raise _error(
                label,
                _("the file is {size} MB; the limit is {limit} MB.").format(
                    size=f"{size / 1e6:.0f}", limit=f"{MAX_FILE_BYTES / 1e6:.0f}"
                ),
            )
        try:
            return path.read_bytes(), label
        except OSError as exc:
            raise _error(
                label, _("cannot read the file ({reason}).").format(reason=exc.strerror or exc)
            ) from None
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
            raise _error("", _("the image holds no finite pixel values."))
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


@contextlib.contextmanager
def _decoding(raw: bytes, label: str) -> Iterator[None]:
    """Turn every failure while decoding ``raw`` into one :class:`InputError` starting with ``label``."""
    try:
        with warnings.catch_warnings():
            # Pillow warns about bombs and damaged metadata; we check the size ourselves before
            # decoding and turn real failures into InputError, so its warnings are only noise.
            warnings.simplefilter("ignore")
            yield
    except InputError as exc:
        msg = str(exc)
        raise (exc if not label or msg.startswith(label) else _error(label, msg)) from None
    except UnidentifiedImageError:
        raise _error(label, _("{what}.").format(what=_describe(raw))) from None
    except Image.DecompressionBombError:
        raise _error(
            label,
            _("the image is too large to decode safely (over {n} megapixels).").format(
                n=f"{MAX_PIXELS / 1e6:.0f}"
            ),
        ) from None
    except (OSError, SyntaxError, EOFError) as exc:
        text = str(exc).lower()
        if "truncat" in text or isinstance(exc, EOFError):
            raise _error(
                label, _("the file is truncated (it ends before the image does); upload it again.")
            ) from None
        raise _error(
            label, _("the file is damaged and cannot be decoded ({reason}).").format(reason=exc)
        ) from None
    except MemoryError:
        raise _error(label, _("not enough memory to decode this image.")) from None
    except Exception as exc:
        raise _error(
            label,
            _("cannot decode this image ({kind}: {reason}).").format(kind=type(exc).__name__, reason=exc),
        ) from None


def _open(
    data: Union[bytes, bytearray, memoryview, str, os.PathLike], name: Optional[str]
) -> tuple[bytes, str]:
    raw, label = _read(data, name)
    if not raw:
        raise _error(label, _("the file is empty (0 bytes)."))
    return raw, label


@dataclass(frozen=True)
class ImageFacts:
    """What the header of an image file says: its size as displayed (EXIF rotation applied),
    the number of frames (> 1 for animated GIF/WebP/APNG and multi-page TIFF), the file format
    (``"PNG"``, ``"GIF"``, …) and the pixel mode (``"RGB"``, ``"P"``, ``"I;16"``, …)."""

    width: int
    height: int
    frames: int
    format: str
    mode: str


_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def _orientation(img: Image.Image) -> Optional[int]:
    """The EXIF orientation tag, from the header only (None when absent or unreadable).

    PNG keeps EXIF in a chunk that Pillow's ``getexif`` would decode the whole image to find, so
    for PNG only an eXIf chunk already read with the header counts.
    """
    try:
        if img.format == "PNG":
            exif = Image.Exif()
            if img.info.get("exif"):
                exif.load(img.info["exif"])
            return exif.get(0x0112)
        return img.getexif().get(0x0112)
    except Exception:
        return None


def describe_image(
    data: Union[bytes, bytearray, memoryview, str, os.PathLike], *, name: Optional[str] = None
) -> ImageFacts:
    """The :class:`ImageFacts` of ``data`` (bytes or a path), read from the header only.

    No pixel is decoded, so this is cheap even for a 50-megapixel file and never raises for an
    image :func:`load_image` can decode (an oversize image is described, not refused). Data that
    is not an image at all raises the same :class:`InputError` as :func:`load_image`.
    """
    raw, label = _open(data, name)
    with _decoding(raw, label):
        img = Image.open(io.BytesIO(raw))
        width, height = img.size
        if _orientation(img) in _ROTATED:
            width, height = height, width
        return ImageFacts(
            width=width,
            height=height,
            frames=int(getattr(img, "n_frames", 1) or 1),
            format=img.format or "unknown",
            mode=img.mode,
        )
    raise AssertionError("unreachable")  # _decoding re-raises every failure as InputError


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
    raw, label = _open(data, name)
    with _decoding(raw, label):
        img = Image.open(io.BytesIO(raw))
        width, height = img.size
        if width <= 0 or height <= 0:
            raise _error(label, _("the image has no pixels ({w}×{h}).").format(w=width, h=height))
        if width * height > MAX_PIXELS:
            raise _error(
                label,
                _("the image is {w}×{h} = {n} megapixels; the limit is {limit}. Downscale it first.").format(
                    w=width, h=height, n=f"{width * height / 1e6:.0f}", limit=f"{MAX_PIXELS / 1e6:.0f}"
                ),
            )
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        img.load()
        img = ImageOps.exif_transpose(img) or img
        rgb = _to_rgb(img)
        rgb.load()
        return rgb
    raise AssertionError("unreachable")  # _decoding re-raises every failure as InputError
