"""Finding Squeeze-and-Excitation blocks in any PyTorch model.

An SE block is recognised by its structure rather than by its class, so timm's new and legacy
modules, timm's EfficientNet ``SqueezeExcite``, torchvision's ``SqueezeExcitation`` and a plain
module written by a user after any tutorial are all found by the same rule:

* the block holds exactly two "dense" layers (``nn.Linear`` or a 1×1 ``nn.Conv2d``): a reduce
  layer C → r with r < C, then an expand layer r → C;
* after them sits a gate activation (sigmoid or hard-sigmoid, whatever library defined it);
* besides those it holds nothing but pooling, flattening, normalisation and activations.

The outermost module that satisfies the rule is the block: its input is the feature map ``u``
and its output the recalibrated ``s · u``. We hook named child modules (reduce-layer input =
squeeze ``z``, gate output = excitation ``s``) instead of redoing the arithmetic, so captured
values are exactly what the network computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from torch import nn

__all__ = ["BlockInfo", "NoSEBlocksError", "RECOGNISED_SE_SHAPES", "find_se_blocks", "paper_name", "stage_of"]


class NoSEBlocksError(ValueError):
    """Raised when a model contains no Squeeze-and-Excitation block."""


@dataclass(frozen=True)
class BlockInfo:
    """One SE block: where it lives in the model and what shape it has.

    ``name`` is the key used everywhere else (the paper's ``SE_s_b`` when the model is a
    ResNet-family network, otherwise the module path). ``reduce_path`` and ``gate_path`` name
    the child modules whose input (squeeze ``z``) and output (excitation ``s``) are captured.
    """

    name: str
    path: str
    channels: int
    reduced: int
    gate_kind: str  # "sigmoid" or "hard-sigmoid"
    paper_name: Optional[str]
    reduce_path: str
    gate_path: str
    module_type: str
    index: int
    expand_path: str = ""  # the expand layer r → C (its input is δ(W₁z), its output W₂δ + b₂)

    @property
    def stage(self) -> Optional[int]:
        """The paper's stage number s of ``SE_s_b`` (2…5 in SE-ResNet-50), if known."""
        return stage_of(self.paper_name)

    @property
    def label(self) -> str:
        """The one human label of a block, ``"SE_2_1 · layer1.0.se_module"``, or the path alone.

        Both names are shown because the paper name is what people discuss and the module path
        is what they need to find the block in code.
        """
        if self.paper_name and self.paper_name != self.path:
            return f"{self.paper_name} · {self.path}"
        return self.path


# Said whenever a model has no SE block, so the user knows what to change in their own module.
RECOGNISED_SE_SHAPES = (
    "se_viz recognises an SE block as one module holding a reduce layer C→r (r < C) and an expand "
    "layer r→C, each an nn.Linear or a 1×1 nn.Conv2d (bias or not), then an nn.Sigmoid or "
    "nn.Hardsigmoid module, with nothing else inside but pooling, flattening, normalisation and "
    "activations (ReLU, inplace or not) — timm's SEModule and SqueezeExcite, torchvision's "
    "SqueezeExcitation and the tutorial SELayer all qualify, while a gate written as torch.sigmoid() "
    "inside forward() cannot be seen (for example legacy_seresnet50, seresnet50 and efficientnet_b0 "
    "have SE blocks)."
)

_RESNET_PATH = re.compile(r"(?:^|\.)layer(\d+)\.(\d+)(?:\.|$)")

# Layers allowed inside an SE block besides the two dense layers and the gate.
_NEUTRAL = (
    nn.AdaptiveAvgPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
    nn.Dropout,
    nn.BatchNorm1d,
    nn.BatchNorm2d,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.SiLU,
    nn.GELU,
    nn.Hardswish,
    nn.Mish,
    nn.PReLU,
    nn.ELU,
    nn.Tanh,
)
_NEUTRAL_NAMES = {
    "swish",
    "silu",
    "mish",
    "gelu",
    "hardswish",
    "relu",
    "identity",
    "layernorm2d",
    "batchnormact2d",
    "selectadaptivepool2d",
    "flatten",
}


def paper_name(path: str) -> Optional[str]:
    """The SE paper's name ``SE_s_b`` for a module path in a ResNet-family network.

    ``layer{s-1}.{b-1}`` (timm and torchvision ResNets, legacy SENets) maps to ``SE_s_b``:
    stage 2 is ``layer1`` because the paper counts the stem as stage 1.
    """
    match = _RESNET_PATH.search(path)
    if match is None:
        return None
    return f"SE_{int(match.group(1)) + 1}_{int(match.group(2)) + 1}"


_PAPER_NAME = re.compile(r"^SE_(\d+)_\d+$")


def stage_of(name: Optional[str]) -> Optional[int]:
    """The stage s of a paper name ``SE_s_b``; None for anything else (a module path, None)."""
    match = _PAPER_NAME.match(name or "")
    return int(match.group(1)) if match else None


def _is_gate(module: nn.Module) -> bool:
    name = type(module).__name__.lower()
    return "sigmoid" in name and "swish" not in name and "silu" not in name


def _gate_kind(module: nn.Module) -> str:
    return "hard-sigmoid" if "hard" in type(module).__name__.lower() else "sigmoid"


def _dense_dims(module: nn.Module) -> Optional[tuple[int, int]]:
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (1, 1) and module.groups == 1:
        return module.in_channels, module.out_channels
    return None


def _is_neutral(module: nn.Module) -> bool:
    if isinstance(module, _NEUTRAL):
        return True
    return type(module).__name__.lower() in _NEUTRAL_NAMES


def _leaves(module: nn.Module, prefix: str) -> list[tuple[str, nn.Module]]:
    out = []
    for name, child in module.named_modules(prefix=prefix):
        if next(iter(child.children()), None) is None:
            out.append((name, child))
    return out


def _match(module: nn.Module, path: str) -> Optional[tuple[int, int, str, str, str, str]]:
    """Return (channels, reduced, reduce_path, gate_path, gate_kind, expand_path) if SE-shaped."""
    dense: list[tuple[str, tuple[int, int]]] = []
    gates: list[tuple[str, nn.Module]] = []
    for name, leaf in _leaves(module, path):
        dims = _dense_dims(leaf)
        if dims is not None:
            dense.append((name, dims))
        elif _is_gate(leaf):
            gates.append((name, leaf))
        elif not _is_neutral(leaf):
            return None
    if len(dense) != 2 or len(gates) != 1:
        return None
    (reduce_path, (c_in, r)), (expand_path, (r_in, c_out)) = dense
    if not (c_in == c_out and r == r_in and r < c_in):
        return None
    gate_path, gate = gates[0]
    return c_in, r, reduce_path, gate_path, _gate_kind(gate), expand_path


def find_se_blocks(model: nn.Module, model_name: Optional[str] = None) -> list[BlockInfo]:
    """Return every SE block of ``model`` in forward order.

    Works for timm (``seresnet*``, ``seresnext*``, ``legacy_se*``, EfficientNet), torchvision
    (``SqueezeExcitation`` in RegNetY, EfficientNet, MobileNetV3) and user-written SE modules.
    Blocks are listed in module-registration order, which is forward order in these networks.
    Raises :class:`NoSEBlocksError` naming the model when it has no SE block.
    """
    found: list[tuple[str, nn.Module, tuple[int, int, str, str, str, str]]] = []
    claimed: list[str] = []
    for path, module in model.named_modules():
        if path == "" or any(path.startswith(p + ".") for p in claimed):
            continue
        hit = _match(module, path)
        if hit is not None:
            found.append((path, module, hit))
            claimed.append(path)
    if not found:
        label = model_name or type(model).__name__
        raise NoSEBlocksError(
            f"The model '{label}' has no Squeeze-and-Excitation block: {RECOGNISED_SE_SHAPES}"
        )
    blocks = []
    paper_names = [paper_name(p) for p, _, _ in found]
    # Only use paper names when they identify every block uniquely.
    use_paper = all(paper_names) and len(set(paper_names)) == len(paper_names)
    for index, (
        (path, module, (channels, reduced, reduce_path, gate_path, kind, expand_path)),
        pname,
    ) in enumerate(zip(found, paper_names, strict=True)):
        pname = pname if use_paper else None
        blocks.append(
            BlockInfo(
                name=pname or path,
                path=path,
                channels=channels,
                reduced=reduced,
                gate_kind=kind,
                paper_name=pname,
                reduce_path=reduce_path,
                gate_path=gate_path,
                module_type=type(module).__name__,
                index=index,
                expand_path=expand_path,
            )
        )
    return blocks
