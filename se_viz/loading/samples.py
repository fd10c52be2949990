"""The sample gallery: a few real photos (public domain / CC0) and generated examples.

The photos are read from scikit-image's bundled data module, which ships them inside the wheel,
so the gallery works offline. Each photo's licence is the one scikit-image states in the
docstring of its loader (``skimage.data.chelsea`` …); ``models/SAMPLES_LICENSE.md`` repeats
them. Generated examples come from whatever generators are registered with
:func:`register_generated_samples`: the bundled demo model registers its shapes generator from
``se_viz/demo/__init__.py``, so this module never imports the demo.

Samples are handed out as encoded image bytes, so they travel the same path as an upload
(``load_image`` → preprocessing → capture) and are cached on the same key (their bytes).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from PIL import Image

from se_viz.i18n import N_, _, class_name

__all__ = [
    "Sample",
    "PHOTOS",
    "all_samples",
    "sample_photos",
    "synthetic_samples",
    "register_generated_samples",
    "LICENSE_NOTE",
]

#: Makes ``per_class`` labelled examples per class from ``seed``: [(class name, image), …].
ExampleMaker = Callable[[int, int], Sequence[tuple[str, Image.Image]]]

#: The registered generators by the credit shown with each sample, in registration order.
_GENERATORS: dict[str, ExampleMaker] = {}

LICENSE_NOTE = N_(
    "Sample photos from scikit-image's data module (skimage.data); public domain or CC0 as "
    "stated by scikit-image — see models/SAMPLES_LICENSE.md."
)


@dataclass(frozen=True)
class Sample:
    """One gallery item: a file-like ``name``, a human ``title``, credit/licence and bytes.

    ``title`` and ``licence`` are the English source text (the gallery is cached once per process
    for every session); :attr:`shown_title` and :attr:`caption` say them in the reader's language.
    ``class_label`` is the generator's class of a synthetic example.
    """

    name: str
    title: str
    credit: str
    licence: str
    kind: str  # "photo" or "synthetic"
    data: bytes
    class_label: str = ""

    @property
    def shown_title(self) -> str:
        """The title in the current language (a synthetic example names its class)."""
        if self.kind == "synthetic":
            return _("synthetic: {name}").format(name=class_name(self.class_label))
        return _(self.title)

    @property
    def caption(self) -> str:
        """Short caption for a thumbnail."""
        if self.kind == "synthetic":
            return self.shown_title
        return _("{title} — {licence}").format(title=self.shown_title, licence=_(self.licence))


@dataclass(frozen=True)
class _PhotoSpec:
    loader: str  # name of the skimage.data function
    file: str  # file name inside skimage/data/
    name: str
    title: str
    credit: str
    licence: str


# Licences as stated in the docstrings of the scikit-image 0.26 loaders.
PHOTOS: tuple[_PhotoSpec, ...] = (
    _PhotoSpec(
        "chelsea", "chelsea.png", "chelsea_cat.png", N_("Chelsea the cat"), "Stefan van der Walt", "CC0"
    ),
    _PhotoSpec(
        "coffee",
        "coffee.png",
        "coffee_cup.png",
        N_("Coffee cup"),
        "Rachel Michetti (courtesy of Pikolo Espresso Bar)",
        "CC0",
    ),
    _PhotoSpec(
        "astronaut",
        "astronaut.png",
        "astronaut.png",
        N_("Astronaut Eileen Collins"),
        "NASA Great Images database",
        N_("public domain"),
    ),
    _PhotoSpec(
        "rocket",
        "rocket.jpg",
        "rocket_launch.jpg",
        N_("Falcon 9 launch (DSCOVR)"),
        "SpaceX",
        N_("public domain"),
    ),
    _PhotoSpec(
        "camera",
        "camera.png",
        "cameraman.png",
        N_("Photographer with a camera (grayscale)"),
        "Lav Varshney",
        "CC0",
    ),
)


def _photo_bytes(spec: _PhotoSpec) -> bytes:
    import skimage.data

    path = Path(skimage.data.__file__).resolve().parent / spec.file
    if path.is_file():
        return path.read_bytes()
    # Fall back to the loader (it may fetch into skimage's cache) and re-encode as PNG.
    loader: Callable = getattr(skimage.data, spec.loader)
    buf = io.BytesIO()
    Image.fromarray(loader()).save(buf, format="PNG")
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def sample_photos() -> tuple[Sample, ...]:
    """The bundled real photos (public domain / CC0), as encoded bytes with credits."""
    out = []
    for spec in PHOTOS:
        try:
            data = _photo_bytes(spec)
        except Exception:
            continue
        out.append(Sample(spec.name, spec.title, spec.credit, spec.licence, "photo", data))
    return tuple(out)


def register_generated_samples(credit: str, make: ExampleMaker) -> None:
    """Add generated examples to the gallery; ``credit`` names who makes them (shown to users).

    Registering the same credit again replaces its maker rather than doubling the gallery.
    """
    _GENERATORS[credit] = make
    synthetic_samples.cache_clear()


@functools.lru_cache(maxsize=4)
def synthetic_samples(seed: int = 0, per_class: int = 1) -> tuple[Sample, ...]:
    """The registered generators' examples as gallery samples (PNG bytes, like an upload)."""
    out = []
    seen: dict[str, int] = {}
    for credit, make in _GENERATORS.items():
        for label, img in make(seed, per_class):
            seen[label] = seen.get(label, 0) + 1
            suffix = f"_{seen[label]}" if per_class > 1 else ""
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="PNG")
            safe = "".join(ch if ch.isalnum() else "_" for ch in str(label)).strip("_") or "example"
            out.append(
                Sample(
                    f"synthetic_{safe}{suffix}.png",
                    f"synthetic: {label}",
                    f"generated by {credit}",
                    N_("generated (no rights)"),
                    "synthetic",
                    buf.getvalue(),
                    str(label),
                )
            )
    return tuple(out)


def all_samples() -> tuple[Sample, ...]:
    """Photos first, then generated examples."""
    return sample_photos() + synthetic_samples()
