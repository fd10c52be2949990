"""The zoo: every timm family that holds one of timm's channel-gate classes, untrained, gives
exactly its gates — one block per gate module, of the right kind, with ``s`` equal to what the
module did — and gate-free families give none.

The ground truth is timm's own classes (:data:`GATE_CLASSES`), never se_viz's finders: a gate
module is an instance of one of them, and its measured scale is ``Σ u·y / Σ u²`` per channel of
its own input ``u`` and output ``y``, taken by hooks this file registers. One small instance per
family (the smallest registered variant, at 64 px where it runs) keeps the whole zoo within CI's
budget. ``python tests/test_zoo.py`` prints the table kept in docs/your-own-network.md.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from functools import partial

import numpy as np
import pytest
import timm
import torch
from timm.layers import (
    CecaModule,
    EcaModule,
    EffectiveSEModule,
    GatherExcite,
    GlobalContext,
    SEModule,
    create_attn,
    get_attn,
)
from timm.layers.cbam import ChannelAttn, LightChannelAttn
from timm.models._efficientnet_blocks import SqueezeExcite
from timm.models.hgnet import EseModule
from timm.models.senet import SEModule as LegacySEModule
from torch import nn

import se_viz
from se_viz.engine.blocks import NoSEBlocksError

# timm's channel-gate classes and the kind se_viz must name each (exact classes: LightChannelAttn
# subclasses ChannelAttn). timm.layers.SqueezeExcite is SEModule under another name.
GATE_CLASSES: dict[type, str] = {
    SEModule: "se",
    LegacySEModule: "se",
    SqueezeExcite: "se",
    EffectiveSEModule: "ese",
    EseModule: "ese",
    EcaModule: "eca",
    CecaModule: "eca",
    ChannelAttn: "cbam-channel",
    LightChannelAttn: "light-cbam-channel",
    GlobalContext: "gc",
    GatherExcite: "gather-excite",
}


def expected_gates(model: nn.Module) -> dict[str, str]:
    """path → kind of every gate module in ``model``, by timm's classes alone.

    GlobalContext is a gate only with its scale branch (``attn_layer='gca'`` adds its context
    instead); GatherExcite only with a global extent (a local one scales positions).
    """
    out = {}
    for path, m in model.named_modules():
        kind = GATE_CLASSES.get(type(m))
        if isinstance(m, GlobalContext) and m.mlp_scale is None:
            kind = None
        if isinstance(m, GatherExcite) and m.extent != 0:
            kind = None
        if kind:
            out[path] = kind
    return out


def _resnet_attn(attn) -> dict:
    return dict(block_args=dict(attn_layer=attn))


# timm 1.0's GatherExcite cannot build its MLP (ConvMlp(..., *dd) passes 'device' and 'dtype' as
# channel counts), so 'ge' fails inside create_attn; the MLP-less module stands in for it.
_GE = partial(GatherExcite, use_mlp=False)

# (family, timm model, kwargs, input side). The family is the timm module (or the attn_layer name
# given to a ResNet); each is the smallest registered variant with the gate class.
GATED = [
    *[(f"resnet + attn_layer='{a}'", "resnet10t", _resnet_attn(a), 64) for a in ("se", "ese", "eca", "ecam")],
    *[
        (f"resnet + attn_layer='{a}'", "resnet10t", _resnet_attn(a), 64)
        for a in ("ceca", "gc", "cbam", "lcbam")
    ],
    ("resnet + GatherExcite (no MLP)", "resnet10t", _resnet_attn(_GE), 64),
    ("senet (legacy)", "legacy_seresnet18", {}, 64),
    ("byobnet", "test_byobnet", {}, 64),
    ("byoanet", "eca_botnext26ts_256", dict(img_size=64), 64),
    ("cspnet", "sedarknet21", {}, 64),
    ("cspnext", "cspnext_tiny", {}, 64),
    ("efficientnet", "test_efficientnet", {}, 64),
    ("efficientnet (LCNet, hard-sigmoid)", "lcnet_050", {}, 64),
    ("efficientnet + se_layer='gc' (as GC-EfficientNetV2)", "test_efficientnet", dict(se_layer="gc"), 64),
    ("efficientvim", "efficientvim_m1", {}, 64),
    ("efficientvit_msra", "efficientvit_m0", {}, 64),
    ("fastvit", "fastvit_t8", {}, 64),
    ("gcvit", "gcvit_xxtiny", dict(img_size=64, window_size=(2, 2, 2, 2)), 64),
    ("ghostnet", "ghostnet_050", {}, 64),
    ("ghostnet (V2, spatial DFC gate)", "ghostnetv2_100", {}, 64),
    ("hardcorenas", "hardcorenas_a", {}, 64),
    ("hgnet", "hgnet_tiny", {}, 64),
    ("lcnetv2", "lcnetv2_small", {}, 64),
    ("maxxvit (CoAtNet MBConv)", "test_coatnet", dict(img_size=64), 64),
    ("mobilenetv3", "mobilenetv3_small_050", {}, 64),
    ("nfnet", "test_nfnet", {}, 64),
    ("rdnet", "rdnet_tiny", {}, 64),
    ("regnet", "regnety_002", {}, 64),
    ("repghost", "repghostnet_050", {}, 64),
    ("repvit", "repvit_m1", {}, 64),
    ("rexnet", "rexnet_100", {}, 64),
    ("shvit", "shvit_s1", {}, 64),
    ("tresnet", "tresnet_m", {}, 64),
    ("vovnet", "ese_vovnet19b_slim_dw", {}, 64),
]

# Families with no channel gate of timm's: each must give no block at all.
GATE_FREE = [
    ("plain ResNet", "resnet10t", {}, 64),
    ("MobileNetV2", "mobilenetv2_050", {}, 64),
    ("ConvNeXt", "convnext_atto", {}, 64),
    ("PoolFormer (LayerScale)", "poolformer_s12", {}, 64),
    ("PoolFormerV2 (LayerScale)", "poolformerv2_s12", {}, 64),
    ("MambaOut (gated convolution)", "mambaout_femto", {}, 64),
    ("SK-ResNet (selective kernel)", "skresnet18", {}, 64),
    ("ResNeSt (split attention)", "resnest14d", {}, 64),
    ("GC-ResNet (additive global context)", "gcresnet33ts", {}, 64),
    *[
        (f"resnet + attn_layer='{a}'", "resnet10t", _resnet_attn(a), 64)
        for a in ("gca", "coord", "scoord", "ela", "strip", "sk", "splat", "nl", "bat", "lambda")
    ],
]

# timm model modules that name a gate class or timm's attention factory but need no entry above.
NOT_LISTED = {
    "mobilenetv5": "imports the EfficientNet blocks, but no registered variant has an SE module "
    "(its smallest, mobilenetv5_300m, is too large for a test)",
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small networks at 64 px gain nothing from a second thread, and on a busy machine two
    threads spin against each other: a ghostnetv2_100 forward took 2.7–11.6 s with 2 threads and
    0.1–0.23 s with 1 (same process, load average 13 on 2 cores, /tmp timing script)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _build(name: str, kwargs: dict, wake: bool = True) -> nn.Module:
    """The untrained network, with every all-zero weight redrawn unless ``wake`` is False
    (BatchNorm scales and gains to 1, others small noise): timm zero-initialises the last layer
    of each residual branch, which feeds many gates zeros and would leave nothing to check s
    against."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = timm.create_model(name, pretrained=False, **kwargs).eval()
    if not wake:
        return model
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.ndim and not pname.endswith("bias") and not bool(p.any()):
                if p.ndim == 1 or pname.endswith("gain"):
                    p.fill_(1.0)
                else:
                    nn.init.normal_(p, std=0.05)
    return model


class _Measured:
    """Each gate module's least-squares per-channel scale of its own input, ``Σ u·y / Σ u²`` in
    float64, and which channels its input reached (not all zero): hooks of this test, not se_viz's."""

    def __init__(self, model: nn.Module, paths) -> None:
        self.scales: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.handles = [model.get_submodule(p).register_forward_hook(self._hook(p)) for p in paths]

    def _hook(self, path: str):
        def on(_m, args, y):
            u, y = args[0].double().flatten(2), y.double().flatten(2)
            uu = (u * u).sum(2)
            self.scales[path] = (((u * y).sum(2) / uu.clamp_min(1e-300)).numpy(), (uu > 0).numpy())

        return on

    def __enter__(self) -> "_Measured":
        return self

    def __exit__(self, *exc) -> None:
        for h in self.handles:
            h.remove()


def zoo_row(family: str, name: str, kwargs: dict, side: int, wake: bool = True) -> dict:
    """Find and capture one network and hold every block against timm's classes; the table row."""
    model = _build(name, kwargs, wake)
    want = expected_gates(model)
    try:
        blocks = se_viz.find_se_blocks(model)
    except NoSEBlocksError:
        blocks = []
    got = {b.path: b.kind for b in blocks}
    classes = sorted({type(model.get_submodule(p)).__name__ for p in want})
    row = dict(family=family, model=name, want=want, got=got, classes=classes, max_err=0.0, seen=0)
    if blocks:
        x = torch.randn(1, 3, side, side, generator=torch.Generator().manual_seed(1))
        # One pass: se_viz's capture and this test's own hooks on the same modules.
        with _Measured(model, got) as measured:
            cap = se_viz.capture(model, x)
        for b in blocks:
            s_ref, seen = measured.scales[b.path]
            diff = np.abs(cap.gates[b.name].astype(np.float64) - s_ref)[seen]
            err = diff / np.maximum(1.0, np.abs(s_ref[seen]))
            row["max_err"] = max(row["max_err"], float(err.max(initial=0.0)))
            row["seen"] += int(seen.any())
    return row


@pytest.mark.parametrize(
    ("family", "name", "kwargs", "side"), GATED + GATE_FREE, ids=[r[0] for r in GATED + GATE_FREE]
)
def test_every_gate_module_is_one_exact_block_and_nothing_else_is(family, name, kwargs, side):
    row = zoo_row(family, name, kwargs, side)
    assert row["got"] == row["want"], (
        f"{family} ({name}): found {row['got']}, timm's gate modules {row['want']}"
    )
    # Every gate saw a non-zero input somewhere (otherwise the exactness check would be vacuous) …
    assert row["seen"] == len(row["want"])
    # … and its s is what the module did to that input, to 1e-4 (relative where s > 1).
    assert row["max_err"] < 1e-4, (
        f"{family} ({name}): s differs from the measured scale by {row['max_err']:.2e}"
    )


@pytest.mark.parametrize(
    ("family", "name", "kwargs", "side"), GATED + GATE_FREE, ids=[r[0] for r in GATED + GATE_FREE]
)
def test_as_timm_builds_it_every_gate_is_found_and_nothing_else(family, name, kwargs, side):
    """Untrained exactly as timm builds it — zero-initialised residual branches feed gates zeros,
    and LayerScale at 1e-5 makes whole stages the identity to ~1e-5 (PoolFormer, FastViT) —
    the same gates and no others ("untrained — structure only" in the app)."""
    row = zoo_row(family, name, kwargs, side, wake=False)
    assert row["got"] == row["want"], (
        f"{family} ({name}): found {row['got']}, timm's gate modules {row['want']}"
    )
    assert row["max_err"] < 1e-4


def _families_with_gate_classes() -> set[str]:
    """timm's model modules whose namespace holds a gate class or timm's attention factory."""
    classes = set(GATE_CLASSES)
    found = set()
    for mod in timm.list_modules():
        names = vars(importlib.import_module(f"timm.models.{mod}")).values()
        if any(v in classes for v in names if isinstance(v, type)) or any(
            v is get_attn or v is create_attn for v in names
        ):
            found.add(mod)
    return found


def test_the_zoo_covers_every_timm_family_with_a_gate_class():
    """A timm release that adds a family with a gate class fails here until the zoo lists it."""
    built = {name for _, name, _, _ in GATED + GATE_FREE}
    covered = {mod for mod in timm.list_modules() if built & set(timm.list_models(module=mod))}
    missing = _families_with_gate_classes() - covered - set(NOT_LISTED)
    assert not missing, f"timm families with a gate class that the zoo does not build: {sorted(missing)}"


def _table() -> str:
    lines = [
        "| family | timm model | gate kind (timm class) | gates | found | s exact to |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for family, name, kwargs, side in GATED + GATE_FREE:
        row = zoo_row(family, name, kwargs, side)
        kinds = ", ".join(f"`{k}`" for k in sorted(set(row["want"].values())))
        kind = f"{kinds} ({', '.join(row['classes'])})" if kinds else "none"
        found = (
            ("all, no other" if row["want"] else "none") if row["got"] == row["want"] else f"**{row['got']}**"
        )
        exact = f"{row['max_err']:.0e}" if row["want"] else "—"
        lines.append(f"| {family} | `{name}` | {kind} | {len(row['want'])} | {found} | {exact} |")
    return "\n".join(lines)


if __name__ == "__main__":
    torch.set_num_threads(1)  # as in the tests (see _one_thread)
    sys.exit(print(_table()))
