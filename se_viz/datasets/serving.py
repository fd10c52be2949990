"""What a server may open of gate datasets, and which of their images it may read.

A web app offers two kinds of dataset: those in the operator's folder (``SE_VIZ_DATA``) and zipped
ones a user uploads. This module holds the rules for both, with no Streamlit, so they are tested
as plain functions and a notebook or another server can use them:

* :func:`available_datasets` — the datasets in the operator's folder;
* :func:`unpack_dataset_zip` — an uploaded ZIP unpacked safely (no member outside the target, at
  most :data:`MAX_ZIP_BYTES`), with the archive kept as the only place its images are read from;
* :func:`image_access` — the policy: an upload reads from its own archive, a dataset of the
  operator's folder under its allowed folders (:mod:`.access`), anything else nothing;
* :func:`folder_key` — a dataset's content key (:func:`~se_viz.datasets.aggregate.dataset_key`)
  from its manifest and file list, without reading its rows: a rewritten or resumed dataset gets
  a new key, so a cache never serves the old one;
* :func:`ablation_images` — which of a dataset's images a rerun of the network may use.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import pyarrow.dataset as pads

from ..errors import InputError
from ..i18n import N_, _
from .access import ArchiveImages, FolderImages, ImageNotReadable, image_roots
from .aggregate import dataset_key
from .reader import GateDataset
from .schema import MANIFEST_FILE

__all__ = [
    "DATA_ENV",
    "MAX_ZIP_BYTES",
    "AblationImages",
    "ImageAccess",
    "Upload",
    "ablation_images",
    "available_datasets",
    "data_folder",
    "folder_key",
    "image_access",
    "read_image",
    "unpack_dataset_zip",
]

#: The operator's folder of gate datasets.
DATA_ENV = "SE_VIZ_DATA"
#: What an uploaded dataset may unpack to.
MAX_ZIP_BYTES = 2 * 1024**3

ImageAccess = Union[ArchiveImages, FolderImages]


def data_folder() -> Optional[Path]:
    """The operator's folder of gate datasets (``SE_VIZ_DATA``), if set and present."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value and Path(value).expanduser().is_dir() else None


def available_datasets() -> list[str]:
    """Gate datasets in ``SE_VIZ_DATA``: the folder itself or its sub-folders holding a manifest."""
    root = data_folder()
    if root is None:
        return []
    found = [root] if (root / MANIFEST_FILE).is_file() else []
    found += sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST_FILE).is_file())
    return [str(p) for p in found]


@dataclass(frozen=True)
class Upload:
    """An uploaded dataset: the folder it was unpacked to and its archive (where its images are read)."""

    folder: str
    images: ArchiveImages


def unpack_dataset_zip(data: bytes, target: Path) -> Upload:
    """Unpack the zipped gate dataset ``data`` into the empty folder ``target``.

    Members that would land outside ``target``, archives that unpack to more than
    :data:`MAX_ZIP_BYTES` and archives without a manifest are refused with an ``InputError`` that
    says what to do instead.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_ZIP_BYTES:
                raise InputError(
                    _("the ZIP unpacks to more than 2 GB; open it from {folder} instead.").format(
                        folder=DATA_ENV
                    )
                )
            for info in zf.infolist():
                dest = (target / info.filename).resolve()
                if not dest.is_relative_to(target.resolve()):
                    raise InputError(
                        _("the ZIP member {name} points outside the archive.").format(
                            name=repr(info.filename)
                        )
                    )
            zf.extractall(target)
    except zipfile.BadZipFile:
        raise InputError(_("the file is not a ZIP archive.")) from None
    manifests = sorted(target.rglob(MANIFEST_FILE))
    if not manifests:
        raise InputError(
            _(
                "the ZIP holds no gate dataset (no {manifest}); zip the folder "
                "that `se-viz capture --out` wrote."
            ).format(manifest=MANIFEST_FILE)
        )
    return Upload(str(manifests[0].parent), ArchiveImages(data))


def image_access(path: str, manifest: dict, upload: Optional[Upload] = None) -> Optional[ImageAccess]:
    """How the dataset at ``path`` may read its images: an upload from its archive, a dataset in
    ``SE_VIZ_DATA`` under its allowed folders, anything else not at all (None)."""
    if upload is not None and upload.folder == path:
        return upload.images
    root = data_folder()
    if root is not None and Path(path).resolve().is_relative_to(root.resolve()):
        return FolderImages(image_roots(path, manifest))
    return None


def read_image(access: Optional[ImageAccess], image_path: str) -> bytes:
    """The bytes of a dataset image, through ``access`` (raises :class:`ImageNotReadable`)."""
    if access is None:
        raise ImageNotReadable(N_("not readable here"))  # English: drawn on a tile; marked for a view
    return access.read(image_path)


@dataclass(frozen=True)
class _Files:
    """What :func:`dataset_key` reads of a dataset: its manifest and its files (not its rows)."""

    manifest: dict[str, Any]
    dataset: pads.Dataset


def folder_key(path: str) -> str:
    """The content key of the gate dataset in the folder ``path``: :func:`dataset_key` (manifest,
    every part file's name, size and modification time), read without opening the rows, so a
    view can ask it on every rerun."""
    manifest = json.loads((Path(path) / MANIFEST_FILE).read_text(encoding="utf-8"))
    return dataset_key(_Files(manifest, pads.dataset(path, format="parquet")))  # type: ignore[arg-type]


@dataclass
class AblationImages:
    """The images a rerun over a dataset may use, and how many of the dataset's it could not."""

    images: list[bytes]  # the files' bytes: results are keyed by each file's SHA-256
    labels: Optional[list[int]]  # class indices in the model, when every label is one of its classes
    allowed: int  # rows whose image this dataset may read
    refused: int  # rows whose image it may not (not in the upload / outside the allowed folders)
    unreadable: int  # allowed, but not decodable


def ablation_images(
    ds: GateDataset,
    access: Optional[ImageAccess],
    class_names: Sequence[str],
    limit: int,
    decode: Callable[[bytes], Any],
) -> AblationImages:
    """Up to ``limit`` images of ``ds`` that ``access`` may read and ``decode`` accepts, in row
    order; the others are counted (allowed rows past the limit are counted, not read)."""
    images, labels = [], []
    allowed = refused = unreadable = 0
    for image_path, label in zip(ds.paths, ds.labels, strict=True):
        ok = access is not None and (
            access.member(image_path) is not None
            if isinstance(access, ArchiveImages)
            else access.allowed(image_path)
        )
        if not ok:
            refused += 1
            continue
        allowed += 1
        if len(images) == limit:
            continue  # counted, not read
        try:
            data = access.read(image_path)
            decode(data)
        except (OSError, KeyError, ValueError, InputError, ImageNotReadable):
            unreadable += 1
            continue
        images.append(data)
        labels.append(label)
    known = {name: i for i, name in enumerate(class_names)}
    indices = [known[lab] for lab in labels] if labels and all(lab in known for lab in labels) else None
    return AblationImages(images, indices, allowed, refused, unreadable)
