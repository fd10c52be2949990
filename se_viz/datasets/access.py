"""Where a gate dataset's images may be read from: an upload's own archive, or operator-named
folders. A dataset's rows name image paths, and whoever wrote the rows chose those paths.

* **Uploaded** (a zipped dataset, :class:`ArchiveImages`): images are read only from inside the
  uploaded archive, matched by relative path (the row ``/home/ann/shapes/circle/1.png`` is the
  member ``…/circle/1.png``); a row with no such member is "not in the upload". No path a row
  names is ever opened on the server.
* **From the operator's folder** (``SE_VIZ_DATA``, :class:`FolderImages`): a path is read only
  when it lies (after resolving ``..`` and symbolic links) under an allowed folder. The operator
  names them in ``SE_VIZ_IMAGE_ROOTS`` (folders separated by ``os.pathsep``); unset, they are the
  dataset's own folder and the folders it was captured from on this machine (the manifest's
  ``inputs``, honoured only when its ``host`` is this machine).

Both raise :class:`ImageNotReadable` with the reason a view shows ("not in the upload",
"outside the allowed folders").
"""

from __future__ import annotations

import io
import os
import socket
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Optional, Sequence

from ..i18n import N_
from .sources import _ZIP_PREFIX, _split_zip, is_image_name, read_bytes

__all__ = [
    "IMAGE_ROOTS_ENV",
    "ArchiveImages",
    "FolderImages",
    "ImageNotReadable",
    "capture_roots",
    "image_roots",
]

IMAGE_ROOTS_ENV = "SE_VIZ_IMAGE_ROOTS"


class ImageNotReadable(Exception):
    """An image a dataset row names that this reader will not read; the message says why."""


def _parts(path: str) -> tuple[str, ...]:
    inner = _split_zip(path)[0] if path.startswith(_ZIP_PREFIX) else path
    return tuple(p for p in PurePosixPath(inner.replace("\\", "/")).parts if p not in ("/", ""))


class ArchiveImages:
    """The images inside an uploaded archive (its bytes, held in memory), found by relative path.

    A row's path matches the member whose path is the longest tail of the row's path (file name
    plus as many folders as agree); a tail shared by several members is ambiguous and matches
    none. Nothing outside the archive is ever opened.
    """

    reason = N_("not in the upload")  # English where raised (a tile draws it); marked for views

    def __init__(self, data: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(data))
        self._by_tail: dict[tuple[str, ...], Optional[str]] = {}
        for name in self._zip.namelist():
            if name.endswith("/") or not is_image_name(name):
                continue
            parts = _parts(name)
            for k in range(1, len(parts) + 1):
                tail = parts[-k:]
                # Two members with the same tail: that tail names neither.
                self._by_tail[tail] = None if tail in self._by_tail else name

    def member(self, path: str) -> Optional[str]:
        """The archive member a row's ``path`` names, or None."""
        parts = _parts(path)
        for k in range(len(parts), 0, -1):
            hit = self._by_tail.get(parts[-k:])
            if hit is not None:
                return hit
        return None

    def read(self, path: str) -> bytes:
        member = self.member(path)
        if member is None:
            raise ImageNotReadable(self.reason)
        return self._zip.read(member)


def _host() -> str:
    return socket.gethostname()


def capture_roots(inputs: Sequence[str]) -> list[str]:
    """What the manifest records of a capture's INPUTs: folders as themselves, ZIPs and single
    images as the file, list files (``.txt``/``.csv``) as their folder; absolute, resolved."""
    out = []
    for spec in inputs:
        p = Path(spec).expanduser().resolve()
        out.append(str(p.parent if p.suffix.lower() in (".txt", ".csv", ".lst") else p))
    return out


def image_roots(dataset_folder: str, manifest: Mapping[str, Any]) -> list[Path]:
    """The folders (or files) a dataset from ``SE_VIZ_DATA`` may read images under: the
    operator's ``SE_VIZ_IMAGE_ROOTS`` when set, else the dataset's folder plus the capture's
    inputs when the manifest was written on this machine."""
    named = os.environ.get(IMAGE_ROOTS_ENV, "").strip()
    if named:
        return [Path(p).expanduser().resolve() for p in named.split(os.pathsep) if p.strip()]
    roots = [Path(dataset_folder).expanduser().resolve()]
    if manifest.get("host") == _host():
        roots += [Path(p) for p in manifest.get("inputs") or []]
    return roots


class FolderImages:
    """Images read from this machine's disk, but only under ``roots`` (resolved, symlinks
    followed, so ``..`` and links cannot leave them)."""

    reason = N_("outside the allowed folders")

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [Path(r).resolve() for r in roots]

    def allowed(self, path: str) -> bool:
        """True when ``path`` (a file, or the archive of a ``zip://`` member) is under a root."""
        target = _split_zip(path)[1] if path.startswith(_ZIP_PREFIX) else path
        real = Path(os.path.realpath(target))
        return any(real == r or real.is_relative_to(r) for r in self.roots)

    def read(self, path: str) -> bytes:
        if not self.allowed(path):
            raise ImageNotReadable(self.reason)
        return read_bytes(path)
