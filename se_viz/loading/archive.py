"""The images inside an uploaded ZIP archive, read from the archive's bytes alone.

An upload is a sandbox: its images are the archive's members, named by their path inside it
("pug/1.jpg", so one folder per class becomes a class group), and nothing it names is ever looked
up on the server's disk. Limits keep one upload from filling the server's memory.
"""

from __future__ import annotations

import io
import zipfile

from ..datasets.sources import is_image_name
from ..errors import InputError
from ..i18n import _

__all__ = ["MAX_ZIP_BYTES", "MAX_ZIP_IMAGES", "zip_images"]

MAX_ZIP_IMAGES = 500
MAX_ZIP_BYTES = 500 * 1024**2


def zip_images(
    zip_name: str, data: bytes, max_images: int = MAX_ZIP_IMAGES, max_bytes: int = MAX_ZIP_BYTES
) -> list[tuple[str, bytes]]:
    """(path inside the archive, bytes) of every image in the ZIP ``data``, sorted by path.

    Folders, macOS resource forks and files without an image extension are skipped. Raises
    :class:`~se_viz.InputError` with a sentence naming ``zip_name`` when the archive cannot be read
    or holds more than ``max_images`` images or ``max_bytes`` bytes of them (checked on the sizes
    the archive declares, before anything is decompressed).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = sorted(
                (
                    i
                    for i in zf.infolist()
                    if not i.is_dir() and is_image_name(i.filename) and not i.filename.startswith("__MACOSX/")
                ),
                key=lambda i: i.filename,
            )
            too_many = len(members) > max_images or sum(i.file_size for i in members) > max_bytes
            images = [] if too_many else [(i.filename, zf.read(i)) for i in members]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # ValueError: a broken header
        raise InputError(_("{file} is not a readable ZIP archive.").format(file=zip_name)) from exc
    if too_many:
        raise InputError(
            _(
                "{file} holds more than {n} images or {mb} MB; "
                "for whole data sets use `se-viz capture` and open the gate dataset."
            ).format(file=zip_name, n=max_images, mb=max_bytes // 1024**2)
        )
    return images
