"""Gate edits: what to put in place of an SE block's gates s during a forward pass.

Every constructor here returns an :class:`Edit` — a small frozen, callable value that maps
the gate tensor the block computed to the one the network should use instead. Pass them to the
engine as ``se_viz.capture(model, batch, edits={"SE_4_2": neutralise()})``; the engine calls
the edit on the gate output (shape (N, C) or (N, C, 1, 1)) inside a forward hook, so the rest of
the network runs on the edited gates exactly as it would on its own. Gates found by behaviour
(ECA, CBAM's channel gate, SE with ``torch.sigmoid``, other per-channel rescaling) take the same
edits: the engine hands the edit the block's s (N, C) and rescales the block's output to s'·u.

Being values (not lambdas), edits compare equal, print readably (``label``) and can be used as
cache keys by a UI.

A note on ``scale``: a sigmoid gate lives in [0, 1]; the scaled gates are clipped back into
that range by default, so a scaled network is still one the SE block could have produced
(``scale(2.0)`` then means "push every gate towards fully open", not "amplify channels beyond
anything the block can do"). Pass ``clip=False`` to allow values above 1 on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from ..i18n import _

__all__ = [
    "Edit",
    "neutralise",
    "replace",
    "scale",
    "switch_off_bottom",
    "switch_off_top",
    "zero",
]


@dataclass(frozen=True)
class Edit:
    """Base of all gate edits: ``edit(gates) -> new gates`` of the same shape and dtype."""

    @property
    def label(self) -> str:
        """A short human description in the reader's language, e.g. ``"neutralise (s = 1)"`` (the
        edit itself, not its label, is what compares equal and keys a cache)."""
        raise NotImplementedError

    def apply(self, gates: torch.Tensor) -> torch.Tensor:
        """The new gates for flat gates of shape (N, C)."""
        raise NotImplementedError

    def __call__(self, gates: torch.Tensor) -> torch.Tensor:
        flat = gates.reshape(gates.shape[0], -1)
        return self.apply(flat).reshape(gates.shape).to(gates.dtype)


@dataclass(frozen=True)
class _Constant(Edit):
    value: float

    @property
    def label(self) -> str:
        if self.value == 1.0:
            return _("neutralise (s = 1, block removed)")
        return _("zero (s = 0, every channel switched off)")

    def apply(self, gates: torch.Tensor) -> torch.Tensor:
        return torch.full_like(gates, self.value)


@dataclass(frozen=True)
class _Replace(Edit):
    values: tuple[float, ...] = field(repr=False)
    name: str = "given gates"

    @property
    def label(self) -> str:
        return _("replace by {name}").format(name=self.name)

    def apply(self, gates: torch.Tensor) -> torch.Tensor:
        v = torch.as_tensor(self.values, dtype=gates.dtype, device=gates.device)
        if v.numel() != gates.shape[1]:
            raise ValueError(f"Replacement has {v.numel()} values, the block has {gates.shape[1]} channels.")
        return v.reshape(1, -1).expand_as(gates).clone()


@dataclass(frozen=True)
class _Scale(Edit):
    factor: float
    clip: bool = True

    @property
    def label(self) -> str:
        if self.clip:
            return _("scale by {f} (clipped to [0, 1])").format(f=f"{self.factor:g}")
        return _("scale by {f}").format(f=f"{self.factor:g}")

    def apply(self, gates: torch.Tensor) -> torch.Tensor:
        out = gates * self.factor
        return out.clamp(0.0, 1.0) if self.clip else out


@dataclass(frozen=True)
class _SwitchOff(Edit):
    k: int
    largest: bool

    @property
    def label(self) -> str:
        if self.largest:
            return _("switch off the {k} largest gates").format(k=self.k)
        return _("switch off the {k} smallest gates").format(k=self.k)

    def apply(self, gates: torch.Tensor) -> torch.Tensor:
        k = max(0, min(int(self.k), gates.shape[1]))
        out = gates.clone()
        if k:
            # Per image, by that image's own gates.
            idx = torch.topk(gates, k, dim=1, largest=self.largest).indices
            out.scatter_(1, idx, 0.0)
        return out


def neutralise() -> Edit:
    """Every gate set to 1: the block passes its input unchanged, as if SE were removed."""
    return _Constant(1.0)


def zero() -> Edit:
    """Every gate set to 0: the block's output (the residual branch) is switched off entirely."""
    return _Constant(0.0)


def replace(values: Sequence[float] | np.ndarray, name: str = "given gates") -> Edit:
    """The gates replaced by fixed ``values`` (C,), for every image.

    Typical use: the mean gates of a group of images, ``replace(cap.gates["SE_5_1"].mean(0),
    "mean of 20 dog photos")`` — does this image still get its class with the group's gates?
    """
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError("Replacement gates must be a non-empty vector of finite numbers.")
    return _Replace(tuple(float(v) for v in arr), name)


def scale(factor: float, clip: bool = True) -> Edit:
    """Every gate multiplied by ``factor``; clipped to [0, 1] unless ``clip=False`` (see module doc)."""
    if not np.isfinite(factor) or factor < 0:
        raise ValueError(f"The scale factor must be a finite number ≥ 0, got {factor}.")
    return _Scale(float(factor), bool(clip))


def switch_off_top(k: int) -> Edit:
    """The ``k`` channels with the largest gates (per image) set to 0: the channels SE favoured most."""
    if k < 0:
        raise ValueError(f"k must be ≥ 0, got {k}.")
    return _SwitchOff(int(k), True)


def switch_off_bottom(k: int) -> Edit:
    """The ``k`` channels with the smallest gates (per image) set to 0: the ones SE already damped."""
    if k < 0:
        raise ValueError(f"k must be ≥ 0, got {k}.")
    return _SwitchOff(int(k), False)
