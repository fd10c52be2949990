"""Offline image sets with true classes, brought by guests and registered like the gallery's samples.

A channel study (pruning, faithfulness) or a set ablation needs many images with known classes.
The bundled teaching model has two such sets — its generator's shapes and plain drawings made by
another routine — but they are the *demo's* sets, not the library's: ``se_viz/demo/__init__.py``
registers them here (:func:`register_image_set`), and the library asks this registry, so no
library package imports the demo. Each set names its classes, so a caller can tell whether a
network knows them (:func:`fits`): an ImageNet network was never trained on drawn shapes, and
every label of such a set would be unknown to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from PIL import Image

__all__ = ["OfflineSet", "fits", "offline_set", "offline_sets", "register_image_set"]

#: Makes ``n`` labelled images from ``seed``: (images, the class name of each).
SetMaker = Callable[[int, int], tuple[Sequence[Image.Image], Sequence[str]]]


@dataclass(frozen=True)
class OfflineSet:
    """A registered set: its short ``name`` (used on the command line), what it is, its classes,
    its default seed and how to make it."""

    name: str
    description: str
    classes: tuple[str, ...]
    seed: int
    make: SetMaker

    def images(self, n: int, seed: int | None = None) -> tuple[list[Image.Image], list[str]]:
        """``n`` images and their class names (``seed`` defaults to the set's own)."""
        images, names = self.make(int(n), self.seed if seed is None else int(seed))
        return list(images), [str(c) for c in names]


_SETS: dict[str, OfflineSet] = {}


def register_image_set(
    name: str, make: SetMaker, *, classes: Sequence[str], description: str, seed: int = 0
) -> None:
    """Offer a labelled image set under ``name`` (registering a name again replaces it)."""
    _SETS[name] = OfflineSet(name, description, tuple(classes), int(seed), make)


def offline_sets() -> dict[str, OfflineSet]:
    """Every registered set by name, in registration order."""
    return dict(_SETS)


def offline_set(name: str) -> OfflineSet:
    """The set called ``name``; ``KeyError`` with the known names otherwise."""
    try:
        return _SETS[name]
    except KeyError:
        raise KeyError(f"No offline image set called {name!r}; known: {', '.join(_SETS) or 'none'}") from None


def fits(image_set: OfflineSet, class_names: Sequence[str]) -> bool:
    """True when a network with ``class_names`` knows every class of ``image_set`` (its labels
    can measure accuracy and the images are the kind the network was trained on)."""
    known = set(class_names)
    return all(c in known for c in image_set.classes)
