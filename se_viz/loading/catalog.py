"""The model shelf: which SE networks se_viz knows by name, and where its files live.

``models/catalog.toml`` (shipped inside the package as ``se_viz/model_files``) lists every entry
with the facts a picker needs and the name of the builder that makes it (``timm``, ``factory``, or
one a guest registered, such as the demo's ``mini``: see :mod:`.build`), so no code anywhere
compares model ids to decide how to build one; the ``teaching`` flag marks the offline teaching
model, so no code compares ids or labels to recognise it either. The operator's own
networks join the shelf from the catalog file named by ``SE_VIZ_CATALOG`` (:mod:`.user_catalog`),
and a bare ``module:function`` factory name is an entry of its own.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from timm.models import get_arch_name

from ..errors import ModelLoadError
from ..i18n import _
from .factory import factory_label, is_factory_spec

__all__ = [
    "CatalogEntry",
    "DEFAULT_MODEL",
    "MINI_MODEL",
    "MODELS_DIR",
    "catalog",
    "catalog_entry",
    "teaching_entry",
]


def _models_dir() -> Path:
    """The folder holding the catalog and bundled weights.

    In a wheel the repository's top-level ``models/`` is mapped into the package as
    ``se_viz/model_files`` at build time; in a checkout (editable install, tests) it is the
    top-level folder itself. ``SE_VIZ_MODELS_DIR`` overrides both.
    """
    env = os.environ.get("SE_VIZ_MODELS_DIR")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    installed = package / "model_files"
    return installed if installed.is_dir() else package.parent / "models"


MODELS_DIR = _models_dir()
DEFAULT_MODEL = "legacy_seresnet50.in1k"
MINI_MODEL = "se_resnet_mini.synthetic"


@dataclass(frozen=True)
class CatalogEntry:
    """One model on the shelf (an ``[[model]]`` table of ``catalog.toml``)."""

    id: str
    name: str
    source: str
    builder: str = "timm"
    hf_hub_id: Optional[str] = None
    top1: Optional[float] = None
    top1_size: Optional[int] = None
    paper: bool = False
    bundled: Optional[str] = None
    # The offline teaching model: trained on the demo's generated shapes, so the app offers it
    # when nothing else loads and pairs it with the generated samples and demonstration sets.
    # The UI reads this flag; it never compares ids or class labels to recognise the model.
    teaching: bool = False
    # The operator's own networks (builder "factory"): see se_viz.loading.user_catalog.
    user: bool = False
    factory: Optional[str] = None  # "module:function" or "/abs/path/file.py:function"
    weights: Optional[str] = None  # absolute path of the entry's weights file
    classes: Optional[tuple[str, ...]] = None
    classes_file: Optional[str] = None  # absolute path of a .txt / .json list of class names
    input_size: Optional[tuple[int, int, int]] = None
    mean: Optional[tuple[float, float, float]] = None
    std: Optional[tuple[float, float, float]] = None
    interpolation: Optional[str] = None
    crop_pct: Optional[float] = None
    catalog_file: Optional[str] = None  # the user catalog the entry comes from

    @property
    def architecture(self) -> str:
        """The architecture name: the id without its pretrained tag (timm's ``get_arch_name``);
        for the user's own network, its factory (``my_senet.py:build``)."""
        if self.factory:
            return factory_label(self.factory)
        return get_arch_name(self.id)

    @property
    def offline(self) -> bool:
        """True when the weights ship with the project, so no network is ever needed."""
        return self.bundled is not None

    @property
    def bundled_path(self) -> Optional[Path]:
        """Where the bundled weights of an offline model live (None for hub models)."""
        return MODELS_DIR / self.bundled if self.bundled else None

    @property
    def bundled_available(self) -> bool:
        """True when this entry's bundled weights file is present in this installation."""
        path = self.bundled_path
        return path is not None and path.is_file()

    @property
    def short_name(self) -> str:
        """The name without its parenthesised or dashed details: "SE-ResNet-50"."""
        name = self.name
        for sep in (" (", " — "):
            name = name.split(sep, 1)[0]
        return name

    @property
    def shown_name(self) -> str:
        """The name in the reader's language: a built-in entry's words are in the catalogue
        (:mod:`.catalog_words`); a user's own entry is shown as its author wrote it."""
        return self.name if self.user else _(self.name)

    @property
    def label(self) -> str:
        """Picker label: name and ImageNet top-1 where known."""
        if self.top1 is None:
            return self.shown_name
        if self.top1_size:
            return _("{name} — ImageNet top-1 {top1} % at {size} px").format(
                name=self.shown_name, top1=f"{self.top1:.1f}", size=self.top1_size
            )
        return _("{name} — ImageNet top-1 {top1} %").format(name=self.shown_name, top1=f"{self.top1:.1f}")


@functools.lru_cache(maxsize=4)
def _read_catalog(path: Path, mtime_ns: int) -> tuple[CatalogEntry, ...]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return tuple(CatalogEntry(**item) for item in data.get("model", []))


def catalog() -> list[CatalogEntry]:
    """All catalog entries, default first, as listed in ``catalog.toml``, then the operator's own
    (``user=True``) from the file named by ``SE_VIZ_CATALOG``.

    The files are parsed once per version (keyed on their modification time): the app's picker
    looks entries up dozens of times on every rerun.
    """
    from .user_catalog import user_entries  # it builds CatalogEntry objects: imported late

    path = MODELS_DIR / "catalog.toml"
    builtin = list(_read_catalog(path, path.stat().st_mtime_ns))
    taken = {e.id for e in builtin}
    user = user_entries()
    for entry in user:
        if entry.id in taken:
            raise ModelLoadError(
                _("The id '{id}' in {file} is already a built-in model: give your entry another id.").format(
                    id=entry.id, file=Path(entry.catalog_file or "").name
                )
            )
    return builtin + user


def catalog_entry(name: str) -> Optional[CatalogEntry]:
    """The catalog entry whose id (or, failing that, architecture name) is ``name``, if any.

    A factory name (``my_senet.py:build``, ``mypkg.models:build``) that no entry has as id gets
    an entry of its own: the user's network, with every preprocessing value a stated default.
    """
    entries = catalog()
    for entry in entries:
        if entry.id == name:
            return entry
    for entry in entries:
        if not entry.user and entry.architecture == name:
            return entry
    if is_factory_spec(name):
        from .user_catalog import factory_entry

        return factory_entry(name)
    return None


def teaching_entry() -> Optional[CatalogEntry]:
    """The catalog's offline teaching model (``teaching = true``) whose weights ship with this
    installation, if any: what the app falls back to without network."""
    return next((e for e in catalog() if e.teaching and e.bundled_available), None)
