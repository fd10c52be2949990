"""Weight files: reading a state dict safely, checking that it fits a network, and hashing it.

``.safetensors`` is preferred (no code can hide in it); ``.pth`` and friends load with
``weights_only=True``, so a checkpoint that carries code is refused and never executed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any, Optional, Union

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from ..errors import ModelLoadError, first_line
from ..i18n import _

__all__ = ["file_sha256", "load_state", "num_classes_in", "read_weights"]

_TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt", ".tar")
# Keys under which training scripts nest the state dict of the model.
_NESTED_KEYS = ("state_dict", "model", "model_state_dict", "state_dict_ema", "model_ema")


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a loaded checkpoint, whatever training script wrote it."""
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for key in _NESTED_KEYS:
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                obj = inner
                break
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            # DataParallel / DDP checkpoints prefix every key with "module.".
            if all(k.startswith("module.") for k in tensors):
                tensors = {k[len("module.") :]: v for k, v in tensors.items()}
            return tensors
    raise ModelLoadError(
        _("{file}: the file holds no model weights (no state dict of tensors).").format(file=path.name)
    )


def read_weights(path: Union[str, os.PathLike]) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` (preferred) or ``.pth``/``.pt``/``.bin``.

    Truncated, damaged, empty and code-carrying files each raise :class:`ModelLoadError` with a
    plain message; nothing in a weights file is ever executed.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(
            _("Weights file not found: {path}. Check the path (SE_VIZ_WEIGHTS or --weights).").format(
                path=path
            )
        )
    if path.stat().st_size == 0:
        raise ModelLoadError(_("{file}: the weights file is empty (0 bytes).").format(file=path.name))
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                _(
                    "{file}: not a valid safetensors file — it is truncated or damaged ({reason}). "
                    "Download or save it again."
                ).format(file=path.name, reason=exc)
            ) from None
    if suffix in _TORCH_SUFFIXES:
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ModelLoadError(
                _(
                    "{file}: refused — the checkpoint contains Python objects or code, not just "
                    "weights, and se_viz never executes code from a weights file. Re-save it as a plain "
                    "state dict or as .safetensors. ({reason})"
                ).format(file=path.name, reason=first_line(exc))
            ) from None
        except (EOFError, RuntimeError, zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ModelLoadError(
                _(
                    "{file}: the checkpoint is truncated or damaged and cannot be read ({kind}: {reason})."
                ).format(file=path.name, kind=type(exc).__name__, reason=first_line(exc))
            ) from None
        return _unwrap(obj, path)
    raise ModelLoadError(
        _("{file}: unknown weights format '{suffix}'; use .safetensors (preferred) or .pth.").format(
            file=path.name, suffix=suffix or "(none)"
        )
    )


def load_state(model: nn.Module, state: dict[str, torch.Tensor], what: str, arch: str) -> None:
    """Load ``state`` into ``model`` strictly, or say in one sentence why it does not fit.

    ``what`` names the weights ("The weights in x.pth") and ``arch`` the architecture, so the
    message tells the user which pair does not match.
    """
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
            parts.append(_("{n} missing (e.g. {names})").format(n=len(missing), names=", ".join(missing[:3])))
        if unexpected:
            parts.append(
                _("{n} unexpected (e.g. {names})").format(n=len(unexpected), names=", ".join(unexpected[:3]))
            )
        if mismatched:
            parts.append(
                _("{n} with the wrong shape (e.g. {names})").format(
                    n=len(mismatched), names="; ".join(mismatched[:2])
                )
            )
        raise ModelLoadError(
            _(
                "{what} do not fit the architecture '{arch}': {parts} parameters. "
                "Pick the model these weights were trained for."
            ).format(what=what, arch=arch, parts=_(", ").join(parts))
        )
    model.load_state_dict(state, strict=True)


def num_classes_in(state: dict[str, torch.Tensor], classifier: Optional[str]) -> Optional[int]:
    """The number of classes of a checkpoint's classifier layer (``<classifier>.weight``), if any."""
    if not classifier:
        return None
    weight = state.get(f"{classifier}.weight")
    return int(weight.shape[0]) if weight is not None and weight.ndim >= 1 else None


def file_sha256(path: Union[str, os.PathLike]) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (provenance of exported results)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
