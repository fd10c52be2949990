"""Building a network from a catalog entry or a timm name: one dispatch on ``entry.builder``
(``timm``, ``mini``, or ``factory``: the operator's own code, see :mod:`.factory`).

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

from ..demo.mini import DEFAULT_CONFIG, build_mini, read_config
from ..errors import ModelLoadError
from .catalog import CatalogEntry
from .factory import build_from_factory
from .user_catalog import entry_classes
from .weights import num_classes_in

__all__ = ["Built", "BUILDERS", "build", "fit_head"]


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
            f"Unknown model '{name}': it is neither in the se_viz catalog nor a timm model name. "
            "Pick a catalog model or a timm SE model such as 'seresnet50'."
        )
    model = timm.create_model(arch, pretrained=False)
    cfg = get_pretrained_cfg(tagged) if "." in tagged else None
    if cfg is not None:
        # Keep the tag's pretrained config (mean/std, crop), which is what preprocessing reads.
        model.pretrained_cfg = {**model.pretrained_cfg, **cfg.to_dict()}
    return Built(model)


def _mini(name: str, entry: Optional[CatalogEntry]) -> Built:
    # The architecture is described by the JSON next to the bundled weights (written by training).
    config_path = entry.bundled_path.with_suffix(".json") if entry and entry.bundled_path else None
    config = read_config(config_path) if config_path and config_path.is_file() else dict(DEFAULT_CONFIG)
    return Built(build_mini(config), list(config.get("classes") or []) or None)


def _factory(name: str, entry: Optional[CatalogEntry]) -> Built:
    # The operator's own code (SE_VIZ_MODEL, --model or their catalog file): never a browser's choice.
    if entry is None or not entry.factory:
        raise ModelLoadError(f"'{name}' names no factory: write module:function or file.py:function.")
    folder = Path(entry.catalog_file).parent if entry.catalog_file else None
    return Built(build_from_factory(entry.factory, folder), entry_classes(entry))


BUILDERS: dict[str, Callable[[str, Optional[CatalogEntry]], Built]] = {
    "timm": _timm,
    "mini": _mini,
    "factory": _factory,
}


def build(name: str, entry: Optional[CatalogEntry]) -> Built:
    """Build the untrained network named ``name`` with the builder its catalog entry names."""
    kind = entry.builder if entry else "timm"
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ModelLoadError(
            f"The catalog entry '{name}' names an unknown builder '{kind}'; "
            f"known builders are {', '.join(sorted(BUILDERS))}."
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
