"""Reading and preprocessing one input image, the unit of work of both engines' decoders.

A failure never raises: it becomes a record with ``error`` set (the reason), so one bad file
cannot stop a run of a million images and still gets its row in the dataset.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Optional

import torch
from PIL import Image

from ..loading.images import InputError, load_image
from .sources import ImageItem, file_name, read_bytes

__all__ = ["decode_item"]


def decode_item(
    index: int, item: ImageItem, preprocess: Callable[[list[Image.Image]], torch.Tensor]
) -> tuple[dict[str, Any], Optional[torch.Tensor]]:
    """Read, hash, decode (:func:`se_viz.load_image`) and preprocess one image.

    Returns ``(record, x)``: the record holds the dataset's metadata columns (index, path,
    label, sha256, width, height, error) and ``x`` the (3, H, W) input tensor, or None with
    ``record["error"]`` saying why when the file cannot be used.
    """
    record: dict[str, Any] = {
        "index": index,
        "path": item.path,
        "label": item.label,
        "sha256": None,
        "width": None,
        "height": None,
        "error": None,
    }
    try:
        raw = read_bytes(item.path)
    except (OSError, KeyError, ValueError) as exc:
        record["error"] = f"cannot read the file ({type(exc).__name__}: {exc})"
        return record, None
    try:
        img = load_image(raw, name=file_name(item.path))
        x = preprocess([img])[0]
    except InputError as exc:
        record["error"] = str(exc)
        return record, None
    except Exception as exc:
        record["error"] = f"preprocessing failed ({type(exc).__name__}: {exc})"
        return record, None
    record.update(sha256=hashlib.sha256(raw).hexdigest(), width=img.width, height=img.height)
    return record, x
