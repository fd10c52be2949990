"""The model catalog, loading (hub + cache, local files, bundled weights) and preprocessing.

Weights of catalog models come from the Hugging Face hub (``huggingface_hub`` downloads them into
the standard HF cache) and are handed to timm as a file, so timm applies its own checkpoint
filters exactly as ``pretrained=True`` would. Without network a cached copy is used; with
neither, loading fails within about two seconds with a message that says what to do, instead of
the hub client's long retry loop.
"""

from __future__ import annotations

import functools
import os
import pickle
import socket
import threading
import time
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union
from urllib.parse import urlparse

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..engine.blocks import BlockInfo, NoSEBlocksError, find_se_blocks

__all__ = [
    "CatalogEntry",
    "DEFAULT_MODEL",
    "LoadedModel",
    "MODELS_DIR",
    "MINI_MODEL",
    "ModelLoadError",
    "catalog",
    "catalog_entry",
    "load_model",
]

MODELS_DIR = Path(os.environ.get("SE_VIZ_MODELS_DIR", Path(__file__).resolve().parents[2] / "models"))
DEFAULT_MODEL = "legacy_seresnet50.in1k"
MINI_MODEL = "se_resnet_mini.synthetic"
NETWORK_PROBE_SECONDS = 1.0


class ModelLoadError(RuntimeError):
    """A model or its weights could not be loaded; the message says why and what to do."""


@dataclass(frozen=True)
class CatalogEntry:
    """One model on the shelf (``models/catalog.toml``)."""

    id: str
    name: str
    source: str
    hf_hub_id: Optional[str] = None
    top1: Optional[float] = None
    top1_size: Optional[int] = None
    paper: bool = False
    bundled: Optional[str] = None

    @property
    def architecture(self) -> str:
        """The timm architecture name (the id without its pretrained tag)."""
        return self.id.split(".", 1)[0]

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
        """True when this entry's bundled weights file is present in this checkout."""
        path = self.bundled_path
        return path is not None and path.is_file()

    @property
    def label(self) -> str:
        """Picker label: name, top-1 and an offline marker."""
        extra = ""
        if self.top1 is not None:
            at = f" at {self.top1_size} px" if self.top1_size else ""
            extra = f" — ImageNet top-1 {self.top1:.1f} %{at}"
        return f"{self.name}{extra}"


@functools.lru_cache(maxsize=4)
def _read_catalog(path: Path, mtime_ns: int) -> tuple[CatalogEntry, ...]:
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return tuple(CatalogEntry(**item) for item in data.get("model", []))


def catalog() -> list[CatalogEntry]:
    """All catalog entries, default first, as listed in ``models/catalog.toml``.

    The file is parsed once per version (keyed on its modification time): the app's picker
    looks entries up dozens of times on every rerun.
    """
    path = MODELS_DIR / "catalog.toml"
    return list(_read_catalog(path, path.stat().st_mtime_ns))


def catalog_entry(name: str) -> Optional[CatalogEntry]:
    """The catalog entry whose id (or architecture name) is ``name``, if any."""
    entries = catalog()
    for entry in entries:
        if entry.id == name:
            return entry
    for entry in entries:
        if entry.architecture == name:
            return entry
    return None


@dataclass
class LoadedModel:
    """A model ready to use: eval mode, its SE blocks, preprocessing and class labels.

    ``data_config`` is timm's resolved data config (input size, interpolation, mean, std,
    crop_pct, crop_mode); ``weights_source`` says in words where the weights came from.
    """

    name: str
    model: nn.Module
    data_config: dict[str, Any]
    labels: list[str]
    blocks: list[BlockInfo]
    weights_source: str
    pretrained: bool
    entry: Optional[CatalogEntry] = None
    load_seconds: float = 0.0
    transform: Callable[[Image.Image], torch.Tensor] = field(repr=False, default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.transform is None:
            from timm.data import create_transform

            self.transform = create_transform(**self.data_config, is_training=False)

    @property
    def display_name(self) -> str:
        """Human name of the model (catalog name, or the timm name)."""
        return self.entry.name if self.entry else self.name

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Turn RGB images into the normalised batch (N, 3, H, W) the model expects."""
        return torch.stack([self.transform(img.convert("RGB")) for img in images])

    def input_view(self, image: Image.Image) -> Image.Image:
        """The image as the network sees it (resized and cropped, not normalised), for display."""
        x = self.transform(image.convert("RGB"))
        mean = torch.tensor(self.data_config["mean"]).view(3, 1, 1)
        std = torch.tensor(self.data_config["std"]).view(3, 1, 1)
        arr = ((x * std + mean).clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy()
        return Image.fromarray(np.ascontiguousarray(arr))


def _imagenet_labels() -> list[str]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return [info.index_to_description(i) for i in range(info.num_classes())]


def _labels_for(num_classes: int, classes: Optional[Sequence[str]] = None) -> list[str]:
    if classes and len(classes) == num_classes:
        return list(classes)
    if num_classes == 1000:
        return _imagenet_labels()
    return [f"class {i}" for i in range(num_classes)]


# ---------------------------------------------------------------------------------------------
# Reading weights files


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict", "state_dict_ema", "model_ema"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                obj = inner
                break
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            # DataParallel / DDP checkpoints prefix every key with "module.".
            if all(k.startswith("module.") for k in tensors):
                tensors = {k[len("module."):]: v for k, v in tensors.items()}
            return tensors
    raise ModelLoadError(f"{path.name}: the file holds no model weights (no state dict of tensors).")


def read_weights(path: Union[str, os.PathLike]) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` (preferred) or ``.pth``/``.pt``/``.bin``.

    ``.pth`` files load with ``weights_only=True``: a checkpoint that carries code is refused
    with a clear error and never executed. Truncated or damaged files get a plain message.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"Weights file not found: {path}. Check the path (SE_VIZ_WEIGHTS or --weights).")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path.name}: the weights file is empty (0 bytes).")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"{path.name}: not a valid safetensors file — it is truncated or damaged ({exc}). "
                "Download or save it again."
            ) from None
    if suffix in (".pth", ".pt", ".bin", ".ckpt", ".tar"):
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ModelLoadError(
                f"{path.name}: refused — the checkpoint contains Python objects or code, not just "
                "weights, and se_viz never executes code from a weights file. Re-save it as a plain "
                f"state dict or as .safetensors. ({str(exc).splitlines()[0]})"
            ) from None
        except (EOFError, RuntimeError, zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ModelLoadError(
                f"{path.name}: the checkpoint is truncated or damaged and cannot be read "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'})."
            ) from None
        return _unwrap(obj, path)
    raise ModelLoadError(
        f"{path.name}: unknown weights format '{suffix or '(none)'}'; use .safetensors (preferred) or .pth."
    )


def _load_state(model: nn.Module, state: dict[str, torch.Tensor], what: str, arch: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        if mismatched:
            parts.append(f"{len(mismatched)} with the wrong shape (e.g. {'; '.join(mismatched[:2])})")
        raise ModelLoadError(
            f"{what} do not fit the architecture '{arch}': {', '.join(parts)} parameters. "
            "Pick the model these weights were trained for."
        )
    model.load_state_dict(state, strict=True)


def _num_classes_in(state: dict[str, torch.Tensor], classifier: Optional[str]) -> Optional[int]:
    if not classifier:
        return None
    weight = state.get(f"{classifier}.weight")
    return int(weight.shape[0]) if weight is not None and weight.ndim >= 1 else None


# ---------------------------------------------------------------------------------------------
# The hub


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _offline_env() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return value in ("1", "true", "yes", "on")


def _hub_reachable(timeout: float = NETWORK_PROBE_SECONDS) -> bool:
    """True if a TCP connection to the hub opens within ``timeout`` seconds (DNS included)."""
    url = urlparse(_hub_endpoint())
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # DNS look-ups ignore socket timeouts, so the probe runs in a thread we stop waiting for.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def _hub_file(entry_or_repo: str, model_label: str) -> Path:
    """Path of ``model.safetensors`` for a hub repo: from the cache, else downloaded."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    repo = entry_or_repo
    cached = try_to_load_from_cache(repo, "model.safetensors")
    if isinstance(cached, str) and os.path.isfile(cached):
        return Path(cached)
    advice = (
        "Connect to the internet once so the weights can be downloaded and cached, give a local "
        "weights file (SE_VIZ_WEIGHTS or weights=...), or pick a model that works offline "
        f"('{MINI_MODEL}', or 'untrained — structure only')."
    )
    if _offline_env():
        raise ModelLoadError(
            f"The weights of '{model_label}' are not in the local cache and HF_HUB_OFFLINE is set, "
            f"so they cannot be downloaded. {advice}"
        )
    if not _hub_reachable():
        raise ModelLoadError(
            f"The weights of '{model_label}' are not in the local cache and the model hub "
            f"({urlparse(_hub_endpoint()).hostname}) cannot be reached. {advice}"
        )
    try:
        return Path(hf_hub_download(repo, "model.safetensors"))
    except Exception as exc:  # noqa: BLE001 — any hub failure becomes one plain message
        raise ModelLoadError(
            f"Downloading the weights of '{model_label}' from {repo} failed "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). {advice}"
        ) from None


# ---------------------------------------------------------------------------------------------
# Loading


def _build_mini(entry: CatalogEntry, weights: Optional[Path], pretrained: bool):
    from ..demo.mini import DEFAULT_CONFIG, build_mini, read_config

    bundled = entry.bundled_path or MODELS_DIR
    config_path = bundled.with_suffix(".json")
    config = read_config(config_path) if config_path.is_file() else dict(DEFAULT_CONFIG)
    model = build_mini(config)
    source = "untrained (random init) — structure only"
    if weights is not None:
        _load_state(model, read_weights(weights), f"The weights in {weights.name}", entry.id)
        source = f"local file {weights}"
    elif pretrained:
        if not entry.bundled_available:
            raise ModelLoadError(
                f"The bundled weights {bundled} are missing. Run 'se-viz train-demo' to train them."
            )
        _load_state(model, read_weights(bundled), f"The bundled weights {bundled.name}", entry.id)
        source = f"bundled with se_viz ({bundled.name})"
    return model, source, config.get("classes") or None


def load_model(
    name: str = DEFAULT_MODEL,
    *,
    weights: Union[str, os.PathLike, None] = None,
    pretrained: bool = True,
) -> LoadedModel:
    """Load an SE network in eval mode with its preprocessing, class labels and SE blocks.

    ``name`` is a catalog id (``legacy_seresnet50.in1k``, the default: the network the SE paper
    analysed) or any timm model name. Weights come from, in order: ``weights`` (a local
    ``.safetensors`` or ``.pth`` file), the bundled file of an offline catalog model, or the
    Hugging Face hub through the standard cache. ``pretrained=False`` gives an untrained network
    (structure only). Every failure raises :class:`ModelLoadError` with a message saying why and
    what to do; a model without SE blocks raises it too.
    """
    started = time.perf_counter()
    entry = catalog_entry(name)
    weights_path = Path(weights).expanduser() if weights else None
    classes: Optional[Sequence[str]] = None
    if (entry is not None and entry.id == MINI_MODEL) or name == "se_resnet_mini":
        entry = entry or catalog_entry(MINI_MODEL)
        model, source, classes = _build_mini(entry, weights_path, pretrained)
        arch = entry.id
    else:
        arch = entry.architecture if entry else name.split(".", 1)[0]
        tag_name = entry.id if entry else name
        import timm

        if not timm.is_model(arch):
            raise ModelLoadError(
                f"Unknown model '{name}': it is neither in the se_viz catalog nor a timm model name. "
                "Pick a catalog model or a timm SE model such as 'seresnet50'."
            )
        state = None
        hub_file: Optional[Path] = None
        repo = None
        if weights_path is None and pretrained:
            # Find the weights before building the network, so that a missing network fails fast.
            repo = (entry.hf_hub_id if entry else None) or _default_repo(tag_name)
            hub_file = _hub_file(repo, entry.name if entry else name)
        if weights_path is not None:
            state = read_weights(weights_path)
        model = timm.create_model(arch, pretrained=False)
        if state is not None:
            # A checkpoint fine-tuned on other classes: give the network a head of that size.
            n = _num_classes_in(state, model.pretrained_cfg.get("classifier"))
            if n is not None and n != model.num_classes:
                model.reset_classifier(n)
        if "." in tag_name:
            # Keep the tag's pretrained config (mean/std, crop) for preprocessing.
            from timm.models import get_pretrained_cfg

            cfg = get_pretrained_cfg(tag_name)
            if cfg is not None:
                model.pretrained_cfg = {**model.pretrained_cfg, **cfg.to_dict()}
        if state is not None:
            _load_state(model, state, f"The weights in {weights_path.name}", arch)
            source = f"local file {weights_path}"
        elif hub_file is not None:
            _load_state(model, read_weights(hub_file), f"The hub weights of {repo}", arch)
            source = f"Hugging Face hub {repo} (cached at {hub_file.parent})"
        else:
            source = "untrained (random init) — structure only"
    model.eval()
    try:
        blocks = find_se_blocks(model, name)
    except NoSEBlocksError as exc:
        raise ModelLoadError(str(exc)) from None
    from timm.data import resolve_model_data_config

    data_config = resolve_model_data_config(model)
    num_classes = int(getattr(model, "num_classes", 0) or data_config.get("num_classes", 0) or 0)
    if not num_classes:
        with torch.inference_mode():
            num_classes = int(model(torch.zeros(1, *data_config["input_size"])).shape[1])
    return LoadedModel(
        name=entry.id if entry else name,
        model=model,
        data_config=dict(data_config),
        labels=_labels_for(num_classes, classes),
        blocks=blocks,
        weights_source=source,
        pretrained=pretrained or weights_path is not None,
        entry=entry,
        load_seconds=time.perf_counter() - started,
    )


def _default_repo(name: str) -> str:
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    if cfg is not None and cfg.hf_hub_id:
        return cfg.hf_hub_id
    # timm hosts every pretrained tag as timm/<arch>.<tag>, including legacy ports whose
    # config still points at a GitHub release URL.
    return f"timm/{name}"
