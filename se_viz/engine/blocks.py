"""Finding channel gates — Squeeze-and-Excitation blocks and their relatives — in any PyTorch model.

Two rules find them, and every block says which kind it is (:data:`KINDS`, ``BlockInfo.kind``).

**By structure** (the textbook SE module). timm's new and legacy modules, timm's EfficientNet
``SqueezeExcite``, torchvision's ``SqueezeExcitation`` and a plain module written by a user after
any tutorial are all found by the same rule:

* the block holds exactly two "dense" layers (``nn.Linear`` or a 1×1 ``nn.Conv2d``): a reduce
  layer C → r with r < C, then an expand layer r → C;
* after them sits a gate activation (sigmoid or hard-sigmoid, whatever library defined it);
* besides those it holds nothing but pooling, flattening, normalisation and activations.

The outermost module that satisfies the rule is the block: its input is the feature map ``u``
and its output the recalibrated ``s · u``. We hook named child modules (reduce-layer input =
squeeze ``z``, gate output = excitation ``s``) instead of redoing the arithmetic, so captured
values are exactly what the network computed.

**By behaviour** (:mod:`.probe`): a module whose output is its input scaled per channel, by
factors that depend on the input — ECA, ESE, CBAM's and Light CBAM's channel gates, Global
Context with its scale branch, SE written with ``torch.sigmoid`` in ``forward()``, Gather-Excite
with a global extent, and any other per-channel rescaling. A probe on two small images finds
them once per model, and says what a structural match really runs (timm's ``LightChannelAttn``
holds a sigmoid module it never calls). What each kind is, is decided in :mod:`.kinds` (its
words) and :func:`.probe._kind` (its test). Both results are remembered per
model object (weakly: a freed model takes its entry with it), so ``capture(model, x)`` costs
what ``capture(model, x, blocks=...)`` does.
"""

from __future__ import annotations

import dataclasses
import re
import weakref
from dataclasses import dataclass
from typing import Optional

from torch import nn

from ..i18n import N_, _
from .kinds import KINDS, dense_dims, gate_activation, is_gather_excite
from .locks import locks_guard
from .probe import FoundGate, probe_gates

__all__ = [
    "KINDS",
    "BlockInfo",
    "NoSEBlocksError",
    "RECOGNISED_SE_SHAPES",
    "find_se_blocks",
    "paper_name",
    "stage_of",
]


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
    # Which kind of channel gate (a key of KINDS). Defaults to "se": manifests written before
    # kinds existed only held structural SE blocks, and still open as such.
    kind: str = "se"

    @property
    def kind_label(self) -> str:
        """The kind in words: ``"SE (sigmoid module)"``, ``"ECA"``, ``"CBAM channel gate"`` …

        The gate's own nonlinearity is named where it is known (``"SE (hard-sigmoid module)"``,
        ``"SE (functional hard-sigmoid)"``).
        """
        text = KINDS.get(self.kind, self.kind)
        if self.kind in ("se", "se-functional") and self.gate_kind and self.gate_kind != "sigmoid":
            text = text.replace("sigmoid", self.gate_kind)
        return text

    @property
    def structural(self) -> bool:
        """True when the gate is read from named children (reduce layer → z, gate module → s)."""
        return bool(self.reduce_path and self.gate_path)

    @property
    def teachable(self) -> bool:
        """True when the block is a reduce → expand → gate chain the teaching walk can explain."""
        chain = bool(self.reduce_path and self.expand_path)
        return chain and self.kind in ("se", "se-functional", "gather-excite")

    @property
    def description(self) -> str:
        """One sentence on what the block computes and how se_viz reads z and s, for a reader (in
        the current language: :mod:`se_viz.i18n`)."""
        c, r = self.channels, self.reduced
        gate = _("{kind} gate").format(kind=self.gate_kind) if self.gate_kind else _("gate")
        if self.kind == "eca":
            how = _("a 1-D convolution across the channel means, then a {gate}").format(gate=gate)
        elif self.kind == "ese":
            how = _("one dense layer {c}→{c} on the channel means (no reduction), then a {gate}").format(
                c=c, gate=gate
            )
        elif self.kind == "cbam-channel":
            how = _(
                "one MLP ({c}→{r}→{c}) on the average pool and on the max pool, summed, then a {gate}; z is "
                "the average pool, the max pool is kept as a second squeeze (CBAM's spatial gate that "
                "follows scales positions, not channels, and is not shown)"
            ).format(c=c, r=r, gate=gate)
        elif self.kind == "light-cbam-channel":
            how = _(
                "one MLP ({c}→{r}→{c}) on the mean of the average pool and the max pool, then a {gate}; "
                "z is that pooled mix"
            ).format(c=c, r=r, gate=gate)
        elif self.kind == "gc":
            how = _(
                "the positions pooled with softmax weights from a 1×1 convolution (the global context), "
                "then an MLP ({c}→{r}→{c}) and a {gate}; z is that context, not the mean"
            ).format(c=c, r=r, gate=gate)
        elif r:
            how = _("reduced to {r} inside the block, expanded back to {c}, then a {gate}").format(
                r=r, c=c, gate=gate
            )
        else:
            how = _("each channel scaled by a factor that depends on the image")
        if self.gate_path:
            source = _("s is read from the gate module")
        elif self.expand_path and self.gate_kind:
            source = _("s is {kind}(expand output)").format(kind=self.gate_kind)
        else:
            source = _("s is recovered per channel by least squares from u and the output s·u")
        return _("{kind}: {c} channels, {how}; {source}.").format(
            kind=_(self.kind_label), c=c, how=how, source=source
        )

    @property
    def stage(self) -> Optional[int]:
        """The paper's stage number s of ``SE_s_b`` (2…5 in SE-ResNet-50), if known."""
        return stage_of(self.paper_name)

    @property
    def label(self) -> str:
        """The one human label of a block, ``"SE_2_1 · layer1.0.se_module"``, or the path alone.

        Blocks of another kind than the textbook SE module add their kind:
        ``"SE_2_1 · layer1.0.se · ECA"``. Both names are shown because the paper name is what
        people discuss and the module path is what they need to find the block in code.
        """
        base = self.path
        if self.paper_name and self.paper_name != self.path:
            base = f"{self.paper_name} · {self.path}"
        # The textbook SE block is what the app is about; every other kind says what it is.
        return base if self.kind == "se" else f"{base} · {self.kind_label}"


# Said whenever a model has no SE block, so the user knows what to change in their own module.
RECOGNISED_SE_SHAPES = N_(
    "se_viz finds a channel gate as a module whose output is its input (N, C, H, W) scaled per "
    "channel by factors that depend on the image — the tutorial SELayer (reduce and expand each an "
    "nn.Linear or a 1×1 nn.Conv2d, then an nn.Sigmoid or nn.Hardsigmoid module, or torch.sigmoid() / "
    "F.hardsigmoid() called in forward()), ECA, ESE, CBAM's channel gate, Global Context, "
    "Gather-Excite and any other per-channel rescaling — and cannot see a gate that multiplies its "
    "input in place, works on channels-last tensors or sits inside a module that also adds or "
    "convolves; a context that is added, not multiplied (timm's gcresnet33ts), is no gate (for "
    "example legacy_seresnet50, ecaresnet50d and efficientnet_b0 have channel gates)."
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


def _match(module: nn.Module, path: str) -> Optional[FoundGate]:
    """The module as a textbook SE block (reduce → expand → gate module), or None if it is not one."""
    dense: list[tuple[str, tuple[int, int]]] = []
    gates: list[tuple[str, str]] = []
    for name, leaf in _leaves(module, path):
        dims = dense_dims(leaf)
        if dims is not None:
            dense.append((name, dims))
        elif gate_activation(leaf):
            gates.append((name, gate_activation(leaf)))
        elif not _is_neutral(leaf):
            return None
    if len(dense) != 2 or len(gates) != 1:
        return None
    (reduce_path, (c_in, r)), (expand_path, (r_in, c_out)) = dense
    if not (c_in == c_out and r == r_in and r < c_in):
        return None
    (gate_path, gate_kind), kind = gates[0], "gather-excite" if is_gather_excite(module) else "se"
    return FoundGate(
        path, c_in, r, gate_kind, reduce_path, gate_path, type(module).__name__, expand_path, kind
    )


def _structural(model: nn.Module) -> list[FoundGate]:
    """Every SE block the structural rule sees, outermost first (a block's insides are not searched)."""
    found: list[FoundGate] = []
    for path, module in model.named_modules():
        if path == "" or any(_within(path, g.path) for g in found):
            continue
        hit = _match(module, path)
        if hit is not None:
            found.append(hit)
    return found


def _probe(model: nn.Module) -> list[FoundGate]:
    """The behavioural probe at 64 px, else at the model's own input size; [] if neither runs.

    A network that cannot run the probe still gets its structurally found SE blocks.
    """
    cfg = getattr(model, "pretrained_cfg", None) or {}
    sizes = [64] + [int(s) for s in (cfg.get("input_size", (3, 224, 224))[-1], 224) if int(s) != 64]
    for side in dict.fromkeys(sizes):
        try:
            return probe_gates(model, side)
        except (RuntimeError, ValueError, TypeError, IndexError, AssertionError):
            continue
    return []


def _within(path: str, outer: str) -> bool:
    return path == outer or path.startswith(outer + ".")


def _merge(structural: FoundGate, seen: Optional[FoundGate]) -> FoundGate:
    """A structural SE block as the probe saw it run.

    The probe knows what the module did: which kind it is (CBAM's MLP runs twice, GC pools by
    attention) and whether the gate module the structure names ran at all — timm's
    ``LightChannelAttn`` holds an ``nn.Sigmoid`` it never calls and gates with ``F.sigmoid``.
    """
    if seen is None:
        return structural
    if seen.gate_path != structural.gate_path:
        return seen
    if seen.kind in ("se-functional", "channel-scale"):
        return structural
    return dataclasses.replace(structural, kind=seen.kind)


def _find(model: nn.Module) -> list[BlockInfo]:
    """Structural SE blocks and behaviourally found gates, merged, in module order (not cached)."""
    probed = {g.path: g for g in _probe(model)}
    found = [_merge(g, probed.get(g.path)) for g in _structural(model)]
    taken = [g.path for g in found]
    # One block per gate: a structural block wins over anything inside or around it.
    found += [g for g in probed.values() if not any(_within(g.path, t) or _within(t, g.path) for t in taken)]
    order = {p: i for i, (p, _) in enumerate(model.named_modules())}
    found.sort(key=lambda g: order[g.path])
    paper_names = [paper_name(g.path) for g in found]
    # Only use paper names when they identify every block uniquely.
    use_paper = all(paper_names) and len(set(paper_names)) == len(paper_names)
    if not use_paper:
        paper_names = [None] * len(found)
    return [
        BlockInfo(name=pname or g.path, paper_name=pname, index=index, **dataclasses.asdict(g))
        for index, (g, pname) in enumerate(zip(found, paper_names, strict=True))
    ]


_found: "weakref.WeakKeyDictionary[nn.Module, tuple[BlockInfo, ...]]" = weakref.WeakKeyDictionary()


def find_se_blocks(model: nn.Module, model_name: Optional[str] = None) -> list[BlockInfo]:
    """Return every channel gate of ``model`` in forward order: SE blocks, ECA, CBAM's channel gate …

    Works for timm (``seresnet*``, ``seresnext*``, ``legacy_se*``, EfficientNet, ``ecaresnet*``,
    ResNets with ``attn_layer`` ``'eca'``/``'cbam'``), torchvision (``SqueezeExcitation`` in
    RegNetY, EfficientNet, MobileNetV3) and user-written modules, whatever their code looks like,
    as long as they scale their input per channel. Blocks are listed in module-registration
    order, which is forward order in these networks. The first call on a model runs the probe
    (one recorded pass of two 64×64 images and a rerun of each candidate module, 4–12× a plain
    forward: see :mod:`.probe`); the answer is remembered for the model object, so later calls —
    every ``capture(model, x)`` without ``blocks=`` — are a dictionary lookup. Raises
    :class:`NoSEBlocksError` naming the model when it has no channel gate.
    """
    with locks_guard:
        cached = _found.get(model)
    if cached is None:
        cached = tuple(_find(model))
        with locks_guard:
            _found[model] = cached
    if not cached:
        label = model_name or type(model).__name__
        raise NoSEBlocksError(
            _(
                "The model '{name}' has no Squeeze-and-Excitation block or other channel gate: {shapes}"
            ).format(name=label, shapes=_(RECOGNISED_SE_SHAPES))
        )
    return list(cached)
