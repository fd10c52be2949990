"""Building a network from a catalog entry or a timm name: one dispatch on ``entry.builder``.

The loader knows two builders itself: ``timm`` and ``factory`` (the operator's own code, see
:mod:`.factory`). Guests add theirs with :func:`register_builder`, as timm's ``register_model``
does: the bundled demo model registers ``mini`` from ``se_viz/demo/__init__.py``, so this
package never imports the demo (``tests/test_project.py`` checks it).

A builder returns the untrained network (eval mode is set later) and, when it knows them, its
class names. Weights are loaded afterwards by :mod:`se_viz.loading.load`, the same way for every
builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import timm
import torch
from timm.models import get_arch_name, get_pretrained_cfg
from torch import nn

from ..errors import ModelLoadError
from ..i18n import _
from .catalog import CatalogEntry
from .factory import build_from_factory
from .user_catalog import entry_classes
from .weights import num_classes_in

__all__ = ["Built", "Builder", "BUILDERS", "build", "fit_head", "register_builder"]


@dataclass
class Built:
    """A freshly built network and the class names its builder knows (None: unknown)."""

    model: nn.Module
    classes: Optional[list[str]] = None


def _timm(name: str, entry: Optional[CatalogEntry]) -> Built:
    tagged = entry.id if entry else name
    arch = get_arch_name(tagged)
    if not timm.is_model(arch):
        raise ModelLoadError(
            _(
                "Unknown model '{name}': it is neither in the se_viz catalog nor a timm model name. "
                "Pick a catalog model or a timm SE model such as 'seresnet50'."
            ).format(name=name)
        )
    model = timm.create_model(arch, pretrained=False)
    cfg = get_pretrained_cfg(tagged) if "." in tagged else None
    if cfg is not None:
        # Keep the tag's pretrained config (mean/std, crop), which is what preprocessing reads.
        model.pretrained_cfg = {**model.pretrained_cfg, **cfg.to_dict()}
    return Built(model)


def _factory(name: str, entry: Optional[CatalogEntry]) -> Built:
    # The operator's own code (SE_VIZ_MODEL, --model or their catalog file): never a browser's choice.
    if entry is None or not entry.factory:
        raise ModelLoadError(
            _("'{name}' names no factory: write module:function or file.py:function.").format(name=name)
        )
    folder = Path(entry.catalog_file).parent if entry.catalog_file else None
    return Built(build_from_factory(entry.factory, folder), entry_classes(entry))


#: A builder: (the name asked for, its catalog entry or None) → the untrained network.
Builder = Callable[[str, Optional[CatalogEntry]], Built]

#: Every builder by the name a catalog entry's ``builder`` field uses.
BUILDERS: dict[str, Builder] = {
    "timm": _timm,
    "factory": _factory,
}


def register_builder(kind: str, builder: Builder) -> None:
    """Make ``builder`` the one catalog entries with ``builder = "<kind>"`` are built with.

    The loader's two own kinds cannot be replaced: a guest that could redefine ``timm`` would
    change every catalog model behind the loader's back.
    """
    if kind in ("timm", "factory"):
        raise ValueError(f"The builder '{kind}' belongs to the loader and cannot be replaced.")
    BUILDERS[kind] = builder


def build(name: str, entry: Optional[CatalogEntry]) -> Built:
    """Build the untrained network named ``name`` with the builder its catalog entry names."""
    kind = entry.builder if entry else "timm"
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ModelLoadError(
            _(
                "The catalog entry '{name}' names an unknown builder '{kind}'; known builders are {known}."
            ).format(name=name, kind=kind, known=", ".join(sorted(BUILDERS)))
        )
    return builder(name, entry)


def fit_head(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Give ``model`` a classifier with as many classes as the checkpoint ``state`` has.

    A checkpoint fine-tuned on other classes then loads into the same architecture.
    """
    cfg = getattr(model, "pretrained_cfg", None) or {}
    n = num_classes_in(state, cfg.get("classifier"))
    if n is not None and n != getattr(model, "num_classes", n) and hasattr(model, "reset_classifier"):
        model.reset_classifier(n)
