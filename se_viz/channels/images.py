"""The image sets channel studies run on: a registered offline set, or the user's files.

Rankings, pruning and faithfulness need the images themselves (they rerun the network), their
true classes where known (for accuracy) and what the network sees of each (for the atlas's
overlays). :class:`ImageSet` holds those three; the constructors build it for an offline set
registered with :mod:`se_viz.loading.image_sets` (the demo registers its generated shapes and
plain drawings; this package never imports the demo) and for any image files (class = top-level
folder, as ``se-viz capture`` reads them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image

from ..datasets.sources import expand_inputs, file_name, read_bytes
from ..loading.image_sets import fits, offline_set, offline_sets
from ..loading.images import load_image
from ..loading.load import LoadedModel

__all__ = [
    "ImageSet",
    "files_set",
    "fitting_sets",
    "generated_set",
    "image_set",
    "offline_image_set",
    "plain_set",
]

GENERATED, PLAIN = "generated", "plain"  # the names the demo registers its two sets under


@dataclass
class ImageSet:
    """Images ready for the network: ``images`` (N, 3, H, W) preprocessed, ``labels`` (N,) true class
    indices into the model's classes (-1 = unknown), ``names`` (N,), and ``views`` — each image as the
    network sees it (uint8 H×W×3, resized and cropped, not normalised), for overlays."""

    name: str
    images: torch.Tensor
    labels: np.ndarray
    names: list[str]
    views: list[np.ndarray]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def has_labels(self) -> bool:
        """True when at least one image has a known class (accuracy can be measured)."""
        return bool((self.labels >= 0).any())

    def subset(self, rows: Sequence[int]) -> "ImageSet":
        """The images at ``rows``, in that order."""
        idx = [int(r) for r in rows]
        return ImageSet(
            self.name,
            self.images[idx],
            self.labels[idx],
            [self.names[i] for i in idx],
            [self.views[i] for i in idx],
        )


def _class_index(names: Sequence[Optional[str]], class_names: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(class_names)}
    return np.array([index.get(n, -1) if n is not None else -1 for n in names], dtype=np.int64)


def _from_pil(name: str, lm: LoadedModel, images: Sequence[Image.Image], labels, names) -> ImageSet:
    views = [np.asarray(lm.input_view(img)) for img in images]
    return ImageSet(name, lm.preprocess(images), np.asarray(labels, dtype=np.int64), list(names), views)


def _named(classes: Sequence[str]) -> list[str]:
    counters: dict[str, int] = {}
    out = []
    for cls in classes:
        counters[cls] = counters.get(cls, 0) + 1
        out.append(f"{cls} {counters[cls]:03d}")
    return out


def offline_image_set(lm: LoadedModel, name: str, n: int = 100, seed: Optional[int] = None) -> ImageSet:
    """``n`` images of the offline set registered as ``name`` (its own seed unless ``seed``)."""
    images, classes = offline_set(name).images(n, seed)
    return _from_pil(name, lm, images, _class_index(classes, lm.labels), _named(classes))


def fitting_sets(lm: LoadedModel) -> list[str]:
    """The registered offline sets whose classes this network knows (none for an ImageNet network)."""
    return [name for name, s in offline_sets().items() if fits(s, lm.labels)]


def generated_set(lm: LoadedModel, n: int = 100, seed: Optional[int] = None) -> ImageSet:
    """``n`` images of the set registered as "generated" (the demo's training generator)."""
    return offline_image_set(lm, GENERATED, n, seed)


def plain_set(lm: LoadedModel, n: int = 100, seed: Optional[int] = None) -> ImageSet:
    """``n`` images of the set registered as "plain" (the demo's plain drawings: a different routine
    from training, the mini model's out-of-distribution test)."""
    return offline_image_set(lm, PLAIN, n, seed)


def files_set(lm: LoadedModel, inputs: Sequence[Union[str, os.PathLike]], fit: str = "crop") -> ImageSet:
    """Image files, folders, ZIPs or list files (as ``se-viz capture`` reads them); a folder's
    top-level sub-folder names the class. Unreadable images raise :class:`~se_viz.InputError`."""
    items = expand_inputs(inputs)
    if not items:
        raise ValueError("the inputs hold no images")
    images = [load_image(read_bytes(it.path), name=file_name(it.path)) for it in items]
    views = [np.asarray(lm.input_view(img, fit=fit)) for img in images]
    return ImageSet(
        "files",
        lm.preprocess(images, fit=fit),
        _class_index([it.label for it in items], lm.labels),
        [it.path for it in items],
        views,
    )


def image_set(
    lm: LoadedModel, spec: Union[str, Sequence[str]], n: int = 100, seed: Optional[int] = None
) -> ImageSet:
    """A registered offline set's name (``n`` images, ``seed``) or paths of image files / folders."""
    if isinstance(spec, str):
        spec = [spec]
    if len(spec) == 1 and spec[0] in offline_sets():
        return offline_image_set(lm, spec[0], n, seed)
    return files_set(lm, spec)
