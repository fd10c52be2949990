"""``load_model``: a named SE network, ready to use, in a short sequence of named steps.

look up the catalog → resolve the weights source → read the weights → build the network →
load the weights → find the SE blocks → resolve preprocessing and labels.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image
from timm.data import DEFAULT_CROP_PCT, ImageNetInfo, create_transform, resolve_model_data_config
from timm.models import get_arch_name
from torch import nn

from ..engine.blocks import BlockInfo, NoSEBlocksError, find_se_blocks
from ..errors import ModelLoadError
from ..i18n import _
from .build import build, fit_head
from .catalog import DEFAULT_MODEL, CatalogEntry, catalog_entry
from .factory import probe_outputs
from .fit import check_fit, mean_fill, pad_to_square
from .source import WeightsSource, resolve_source
from .user_catalog import check_class_count, defaults_sentence, user_data_config
from .weights import load_state, read_weights

__all__ = ["INIT_SEED", "LoadedModel", "load_model"]

#: The seed of every network's initial weights (what "random init" means here).
INIT_SEED = 0


@dataclass
class LoadedModel:
    """A model ready to use: eval mode, its SE blocks, preprocessing and class labels.

    ``data_config`` is timm's resolved data config (input size, interpolation, mean, std,
    crop_pct, crop_mode); ``source`` says where the weights came from. For the user's own network
    ``defaults`` names the values its catalog entry did not give (``"input_size"``, ``"mean"``,
    ``"std"``, ``"interpolation"``, ``"crop_pct"``, ``"classes"``) and ``defaults_origin`` where
    they came from; :attr:`defaults_note` says both in one sentence for the screen.
    """

    name: str
    model: nn.Module
    data_config: dict[str, Any]
    labels: list[str]
    blocks: list[BlockInfo]
    source: WeightsSource
    entry: Optional[CatalogEntry] = None
    load_seconds: float = 0.0
    defaults: list[str] = field(default_factory=list)
    defaults_origin: Optional[str] = None
    transform: Callable[[Image.Image], torch.Tensor] = field(repr=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.transform is None:
            self.transform = create_transform(**self.data_config, is_training=False)

    @property
    def pretrained(self) -> bool:
        """False for an untrained (random-init) network."""
        return self.source.trained

    @property
    def weights_source(self) -> str:
        """Where the weights came from, in words."""
        return self.source.describe()

    @property
    def defaults_note(self) -> Optional[str]:
        """The default values this network is shown with and where they came from (None: none)."""
        return defaults_sentence(self.defaults, self.data_config, self.labels, self.defaults_origin)

    @property
    def display_name(self) -> str:
        """Human name of the architecture, never a claim about weights that are not loaded.

        The catalog name describes the published weights ("paper authors' weights"), so it is
        used only when those are what is loaded; otherwise the short name.
        """
        if self.entry is None:
            return self.name
        if self.source.kind in ("hub cache", "hub download", "bundled"):
            return self.entry.shown_name
        return self.entry.short_name

    def fitted(self, image: Image.Image, fit: str = "crop") -> Image.Image:
        """``image`` as RGB, padded to a square of the mean colour first when ``fit="pad"``.

        ``"crop"`` leaves it to timm's transform (shorter side resized, centre cropped);
        ``"pad"`` (:func:`se_viz.loading.fit.pad_to_square`) keeps the whole image in view.
        """
        rgb = image.convert("RGB")
        if check_fit(fit) == "pad":
            rgb = pad_to_square(
                rgb, mean_fill(self.data_config["mean"]), self.data_config.get("crop_pct") or DEFAULT_CROP_PCT
            )
        return rgb

    def preprocess(self, images: Sequence[Image.Image], fit: str = "crop") -> torch.Tensor:
        """Turn RGB images into the normalised batch (N, 3, H, W) the model expects.

        ``fit="crop"`` (timm's evaluation transform) or ``"pad"`` (see :meth:`fitted`).
        """
        return torch.stack([self.transform(self.fitted(img, fit)) for img in images])

    def input_view(self, image: Image.Image, fit: str = "crop") -> Image.Image:
        """The image as the network sees it (resized and cropped, not normalised), for display."""
        x = self.transform(self.fitted(image, fit))
        mean = torch.tensor(self.data_config["mean"]).view(3, 1, 1)
        std = torch.tensor(self.data_config["std"]).view(3, 1, 1)
        arr = ((x * std + mean).clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy()
        return Image.fromarray(np.ascontiguousarray(arr))


def _labels(num_classes: int, classes: Optional[Sequence[str]]) -> list[str]:
    if classes and len(classes) == num_classes:
        return list(classes)
    if num_classes == 1000:
        info = ImageNetInfo()
        return [info.index_to_description(i) for i in range(info.num_classes())]
    return [f"class {i}" for i in range(num_classes)]


def _num_classes(model: nn.Module, data_config: dict[str, Any], name: str) -> int:
    n = int(getattr(model, "num_classes", 0) or data_config.get("num_classes", 0) or 0)
    # A model that does not say is asked, the same way as the user's own networks.
    return n or probe_outputs(model, data_config["input_size"], name)


def load_model(
    name: str = DEFAULT_MODEL,
    *,
    weights: Union[str, os.PathLike, None] = None,
    pretrained: bool = True,
) -> LoadedModel:
    """Load an SE network in eval mode with its preprocessing, class labels and SE blocks.

    ``name`` is a catalog id (``legacy_seresnet50.in1k``, the default: the network the SE paper
    analysed; with ``SE_VIZ_CATALOG`` also the operator's own entries), any timm model name, or
    the operator's own factory (``my_senet.py:build`` or ``mypkg.models:build``: called without
    arguments, it returns the network). Weights come from, in order: ``weights`` (a local
    ``.safetensors`` or ``.pth`` file), the bundled file of an offline catalog model, or the
    Hugging Face hub through the standard cache. ``pretrained=False`` gives an untrained network
    (structure only). Every failure raises :class:`ModelLoadError` with a message saying why and
    what to do; a model without SE blocks raises it too.
    """
    started = time.perf_counter()
    entry = catalog_entry(name)
    source = resolve_source(name, entry, Path(weights).expanduser() if weights else None, pretrained)
    state = read_weights(source.path) if source.path is not None else None
    # Seeded: an untrained ("random init") network is the same in every session and every run,
    # so its screenshots, tests and numbers can be reproduced; the caller's RNG is left untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(INIT_SEED)
        built = build(name, entry)
    model = built.model
    if state is not None:
        fit_head(model, state)
        what = (
            _("The weights in {file}").format(file=source.path.name)
            if source.repo is None
            else _("The hub weights of {repo}").format(repo=source.repo)
        )
        load_state(model, state, what, entry.architecture if entry else get_arch_name(name))
    model.eval()
    try:
        blocks = find_se_blocks(model, entry.architecture if entry and entry.user else name)
    except NoSEBlocksError as exc:
        raise ModelLoadError(str(exc)) from None
    if entry is not None and entry.user:
        # The user's own network: preprocessing from the entry, else stated defaults; the class
        # count is asked of the network itself and must match the class names given.
        data_config, defaults, origin = user_data_config(entry, model)
        num_classes = probe_outputs(model, data_config["input_size"], entry.architecture)
        check_class_count(entry, built.classes, num_classes)
        defaults += [] if built.classes else ["classes"]
    else:
        data_config, defaults, origin = dict(resolve_model_data_config(model)), [], None
        num_classes = _num_classes(model, data_config, name)
    return LoadedModel(
        name=entry.id if entry else name,
        model=model,
        data_config=data_config,
        labels=_labels(num_classes, built.classes),
        blocks=blocks,
        source=source,
        entry=entry,
        load_seconds=time.perf_counter() - started,
        defaults=defaults,
        defaults_origin=origin,
    )
