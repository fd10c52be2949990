"""Expanding the INPUTs of ``se-viz capture`` into one ordered list of images.

An INPUT is an image file, a folder (searched recursively), a ZIP archive, or a list file
(``.txt``: one path a line; ``.csv``: a ``path`` column and an optional ``label`` column).
Folders and ZIPs follow torchvision's ImageFolder rule: an image's label is the name of the
top-level sub-folder it lies in (no label for images directly in the folder). The order is
deterministic — INPUTs as given, paths sorted inside folders and archives — and every image
appears once (the first occurrence wins), so a resumed run can tell done from not done by path.

ZIP members are named ``zip://MEMBER::/abs/archive.zip`` (fsspec's chained-URL spelling) and read
straight from the archive, never extracted.
"""

from __future__ import annotations

import csv
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Union

__all__ = ["IMAGE_EXTENSIONS", "ImageItem", "expand_inputs", "file_name", "is_image_name", "read_bytes"]

# The extensions torchvision's ImageFolder accepts; other files in folders/ZIPs are not images.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
_ZIP_PREFIX = "zip://"


@dataclass(frozen=True)
class ImageItem:
    """One input image: where its bytes are (``path``) and its class label, if known."""

    path: str
    label: Optional[str] = None


def is_image_name(name: str) -> bool:
    """True for a file name with an image extension that is not hidden (what folders and ZIPs contribute)."""
    return name.lower().endswith(IMAGE_EXTENSIONS) and not Path(name).name.startswith(".")


def _label_of(relative: Sequence[str]) -> Optional[str]:
    """ImageFolder rule: the first folder of the path relative to the root, None at the root."""
    return relative[0] if len(relative) > 1 else None


def _from_folder(root: Path) -> Iterator[ImageItem]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if is_image_name(name):
                found.append(Path(dirpath, name))
    for path in sorted(found, key=lambda p: p.relative_to(root).parts):
        yield ImageItem(str(path.resolve()), _label_of(path.relative_to(root).parts))


def _from_zip(archive: Path) -> Iterator[ImageItem]:
    with zipfile.ZipFile(archive) as zf:
        members = sorted(m for m in zf.namelist() if not m.endswith("/") and is_image_name(m))
    parts = [tuple(p for p in m.split("/") if p) for m in members]
    # A ZIP of a folder holds one wrapping top-level folder: the classes are one level below it.
    tops = {p[0] for p in parts if len(p) > 1}
    strip = 1 if len(tops) == 1 and all(len(p) > 2 for p in parts) else 0
    where = archive.resolve()
    for member, p in zip(members, parts, strict=True):
        yield ImageItem(f"{_ZIP_PREFIX}{member}::{where}", _label_of(p[strip:]))


def _from_list(listing: Path) -> Iterator[ImageItem]:
    base = listing.resolve().parent
    with open(listing, newline="", encoding="utf-8") as fh:
        if listing.suffix.lower() == ".csv":
            rows: Iterable = csv.DictReader(fh)
        else:
            rows = ({"path": line.strip()} for line in fh if line.strip() and not line.startswith("#"))
        for row in rows:
            raw = (row.get("path") or "").strip()
            if not raw:
                continue
            label = (row.get("label") or "").strip() or None
            path = raw if raw.startswith(_ZIP_PREFIX) else str((base / raw).resolve())
            yield ImageItem(path, label)


def _expand_one(spec: Union[str, os.PathLike]) -> Iterator[ImageItem]:
    path = Path(spec).expanduser()
    if path.is_dir():
        yield from _from_folder(path)
    elif path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        yield from _from_zip(path)
    elif path.suffix.lower() in (".txt", ".csv", ".lst"):
        yield from _from_list(path)
    elif path.exists():
        yield ImageItem(str(path.resolve()))
    else:
        raise FileNotFoundError(f"Input not found: {spec}")


def expand_inputs(inputs: Sequence[Union[str, os.PathLike]]) -> list[ImageItem]:
    """Every image named by ``inputs`` (files, folders, ZIPs, list files), in a fixed order.

    A file given explicitly is always an input (an unreadable one becomes an error row later);
    inside folders and ZIPs only files with an image extension count. Duplicates are dropped,
    keeping the first occurrence. Raises ``FileNotFoundError`` for an INPUT that does not exist.
    """
    seen: set[str] = set()
    items: list[ImageItem] = []
    for spec in inputs:
        for item in _expand_one(spec):
            if item.path not in seen:
                seen.add(item.path)
                items.append(item)
    return items


def _split_zip(path: str) -> tuple[str, str]:
    member, archive = path[len(_ZIP_PREFIX) :].rsplit("::", 1)
    return member, archive


def file_name(path: str) -> str:
    """The image's own file name (a ZIP member's, not the archive's), for messages."""
    inner = _split_zip(path)[0] if path.startswith(_ZIP_PREFIX) else path
    return inner.replace("\\", "/").rsplit("/", 1)[-1]


def read_bytes(path: str) -> bytes:
    """The raw bytes of an input: a file, or a ZIP member named ``zip://MEMBER::ARCHIVE``."""
    if path.startswith(_ZIP_PREFIX):
        member, archive = _split_zip(path)
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    with open(path, "rb") as fh:
        return fh.read()
