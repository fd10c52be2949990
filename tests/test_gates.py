"""Channel gates found by behaviour — ECA, CBAM's channel gate, SE written with torch.sigmoid or a
hard-sigmoid, other per-channel rescaling — are found, named and captured exactly, and nothing
else is taken for a gate.

Every exactness check recomputes s and z independently from the block's input u (kept with
``maps=``) and the block's own weights, to 1e-5. The networks are small timm ResNets at 64 px
with ``zero_init_last=False``: timm zero-initialises the last BatchNorm of every residual branch,
which would feed every attention module zeros and make the checks vacuous.
"""

from __future__ import annotations

import dataclasses
import gc
import weakref

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F
from test_capture import hook_count
from timm.layers import GatherExcite, LayerScale2d
from torch import nn

import se_viz
from se_viz.engine import blocks as blocks_mod
from se_viz.engine.blocks import KINDS, BlockInfo, NoSEBlocksError
from se_viz.engine.walkthrough import walk_block
from se_viz.interventions import intervene, neutralise, scale

ATOL = 1e-5


def _timm_resnet(attn: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = timm.create_model(
        "resnet10t", pretrained=False, block_args=dict(attn_layer=attn), zero_init_last=False
    )
    return model.eval()


def _capture_all(model: nn.Module, seed: int = 1) -> tuple[list[BlockInfo], se_viz.Capture, torch.Tensor]:
    blocks = se_viz.find_se_blocks(model)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(seed))
    cap = se_viz.capture(model, x, maps=[b.name for b in blocks])
    assert hook_count(model) == 0
    return blocks, cap, x


def _check_scaled(cap: se_viz.Capture, name: str) -> torch.Tensor:
    """The block's output is exactly s·u (the gate reported is the gate applied); returns u."""
    u = torch.from_numpy(cap.maps_in[name])
    s = torch.from_numpy(cap.gates[name])
    np.testing.assert_allclose(cap.maps_out[name], (u * s[:, :, None, None]).numpy(), atol=ATOL, rtol=ATOL)
    np.testing.assert_allclose(cap.squeeze[name], u.mean((2, 3)).numpy(), atol=ATOL, rtol=ATOL)
    return u


# --------------------------------------------------------------------------------------------
# ECA


def test_eca_gates_are_sigmoid_of_conv1d_of_the_channel_means():
    model = _timm_resnet("eca")
    blocks, cap, _ = _capture_all(model)
    assert [b.kind for b in blocks] == ["eca"] * 4
    assert [b.name for b in blocks] == ["SE_2_1", "SE_3_1", "SE_4_1", "SE_5_1"]
    assert blocks[0].label == "SE_2_1 · layer1.0.se · ECA" and blocks[0].gate_path == "layer1.0.se.gate"
    for b in blocks:
        u = _check_scaled(cap, b.name)
        conv = model.get_submodule(b.path).conv
        k = conv.weight.shape[-1]
        # The independent computation: sigmoid(conv1d(gap(u))), from the weights alone.
        ref = torch.sigmoid(F.conv1d(u.mean((2, 3))[:, None, :], conv.weight, padding=(k - 1) // 2))[:, 0]
        np.testing.assert_allclose(cap.gates[b.name], ref.detach().numpy(), atol=ATOL, rtol=ATOL)
        assert np.ptp(cap.gates[b.name], axis=1).min() > 1e-3  # not a constant: the check means something


def test_eca_networks_of_the_catalog_are_found_untrained():
    # Untrained timm ECA-ResNets feed their gates zeros (zero-initialised BatchNorm): the probe
    # asks such modules again on their own, so every ECA module is still found.
    blocks = se_viz.find_se_blocks(timm.create_model("ecaresnet26t", pretrained=False).eval())
    assert len(blocks) == 8 and {b.kind for b in blocks} == {"eca"}
    assert blocks[-1].name == "SE_5_2" and blocks[-1].channels == 2048


# --------------------------------------------------------------------------------------------
# CBAM


def test_cbam_channel_gate_its_two_squeezes_and_no_spatial_gate():
    model = _timm_resnet("cbam", seed=2)
    blocks, cap, _ = _capture_all(model)
    assert [b.kind for b in blocks] == ["cbam-channel"] * 4
    assert all(b.path.endswith(".se.channel") for b in blocks)  # the spatial gate is not a block
    assert "CBAM channel gate" in blocks[0].label and "spatial gate" in blocks[0].description
    for b in blocks:
        u = _check_scaled(cap, b.name)
        attn = model.get_submodule(b.path)

        def mlp(v: torch.Tensor, attn=attn) -> torch.Tensor:
            w1, w2 = attn.fc1.weight[:, :, 0, 0], attn.fc2.weight[:, :, 0, 0]
            return torch.relu(v @ w1.T) @ w2.T

        avg, mx = u.mean((2, 3)), u.amax((2, 3))
        ref = torch.sigmoid(mlp(avg) + mlp(mx))
        np.testing.assert_allclose(cap.gates[b.name], ref.detach().numpy(), atol=ATOL, rtol=ATOL)
        # z is the average pool (the reduce layer's first call), the max pool the second squeeze.
        np.testing.assert_allclose(cap.squeeze[b.name], avg.numpy(), atol=ATOL, rtol=ATOL)
        np.testing.assert_allclose(cap.squeeze_max[b.name], mx.numpy(), atol=ATOL, rtol=ATOL)
        assert not np.allclose(cap.squeeze[b.name], cap.squeeze_max[b.name])
    # Concatenated and selected captures keep the second squeeze.
    both = se_viz.Capture.concat([cap.select(1), cap.select(0)])
    np.testing.assert_array_equal(both.squeeze_max[blocks[0].name], cap.squeeze_max[blocks[0].name][::-1])
    # The walk-through explains SE blocks only and says why, instead of mixing the two pools.
    assert not blocks[0].teachable
    with pytest.raises(ValueError, match="CBAM channel gate"):
        walk_block(model, blocks[0], torch.randn(1, 3, 64, 64))


# --------------------------------------------------------------------------------------------
# Light CBAM and Global Context: z is what their MLP is fed, not the channel mean


def _conv_mlp(v: torch.Tensor, fc1: nn.Conv2d, fc2: nn.Conv2d, norm=None) -> torch.Tensor:
    """fc2(relu(norm(fc1(v)))) for (N, C) vectors through two 1×1 convolutions, from their weights
    (``norm``: timm's LayerNorm2d over the reduced channels, if any)."""
    h = v @ fc1.weight[:, :, 0, 0].T + (fc1.bias if fc1.bias is not None else 0)
    if norm is not None:
        h = F.layer_norm(h, h.shape[-1:], norm.weight, norm.bias, norm.eps)
    return torch.relu(h) @ fc2.weight[:, :, 0, 0].T + (fc2.bias if fc2.bias is not None else 0)


def test_light_cbam_is_captured_with_its_pooled_mix_as_z():
    # timm's LightChannelAttn holds an nn.Sigmoid it never calls (it gates with F.sigmoid): the
    # structural rule alone named that module, and the capture waited for it in vain.
    model = _timm_resnet("lcbam", seed=7)
    blocks, cap, _ = _capture_all(model)
    assert [b.kind for b in blocks] == ["light-cbam-channel"] * 4 and blocks[0].gate_path == ""
    assert blocks[0].label == "SE_2_1 · layer1.0.se.channel · Light CBAM channel gate"
    for b in blocks:
        u = torch.from_numpy(cap.maps_in[b.name])
        s = torch.from_numpy(cap.gates[b.name])
        np.testing.assert_allclose(
            cap.maps_out[b.name], (u * s[:, :, None, None]).numpy(), atol=ATOL, rtol=ATOL
        )
        attn = model.get_submodule(b.path)
        mix = 0.5 * u.mean((2, 3)) + 0.5 * u.amax((2, 3))
        ref = torch.sigmoid(_conv_mlp(mix, attn.fc1, attn.fc2))
        np.testing.assert_allclose(cap.gates[b.name], ref.detach().numpy(), atol=ATOL, rtol=ATOL)
        np.testing.assert_allclose(cap.squeeze[b.name], mix.numpy(), atol=ATOL, rtol=ATOL)


def test_global_context_z_is_its_attention_pooled_context():
    model = _timm_resnet("gc", seed=8)
    blocks, cap, _ = _capture_all(model)
    assert [b.kind for b in blocks] == ["gc"] * 4
    assert blocks[0].label == "SE_2_1 · layer1.0.se · Global Context (GC)"
    assert "context, not the mean" in blocks[0].description
    for b in blocks:
        u = torch.from_numpy(cap.maps_in[b.name])
        gc_module = model.get_submodule(b.path)
        # The independent computation: softmax attention over positions from the 1×1 conv C → 1,
        # the context it pools, then the LayerNorm MLP and the sigmoid.
        logits = F.conv2d(u, gc_module.conv_attn.weight, gc_module.conv_attn.bias).flatten(2)
        context = (u.flatten(2) * torch.softmax(logits, -1)).sum(2)
        mlp = gc_module.mlp_scale
        ref = torch.sigmoid(_conv_mlp(context, mlp.fc1, mlp.fc2, norm=mlp.norm))
        np.testing.assert_allclose(cap.gates[b.name], ref.detach().numpy(), atol=ATOL, rtol=ATOL)
        np.testing.assert_allclose(cap.squeeze[b.name], context.detach().numpy(), atol=ATOL, rtol=ATOL)
        assert not np.allclose(cap.squeeze[b.name], u.mean((2, 3)).numpy(), atol=1e-3)
    # timm's additive variant (attn_layer='gca': x + mlp(context)) shifts channels: no gate.
    with pytest.raises(NoSEBlocksError):
        se_viz.find_se_blocks(_timm_resnet("gca"))


# --------------------------------------------------------------------------------------------
# SE written with torch.sigmoid / a hard-sigmoid in forward(), and other rescaling


class FunctionalSE(nn.Module):
    """The tutorial SE with its gate written in forward(): no sigmoid module to hook."""

    def __init__(self, channels: int, hard: bool = False):
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // 4)
        self.fc2 = nn.Linear(channels // 4, channels)
        self.hard = hard

    def forward(self, x):
        y = self.fc2(torch.relu(self.fc1(x.mean((2, 3)))))
        gate = F.relu6(y + 3.0) / 6.0 if self.hard else torch.sigmoid(y)
        return x * gate[:, :, None, None]


class FreeGate(nn.Module):
    """Per-channel rescaling with no layer at all: s = 1 + tanh(channel mean)."""

    def forward(self, x):
        return x * (1.0 + torch.tanh(x.mean((2, 3), keepdim=True)))


class Net(nn.Module):
    def __init__(self, gate_cls, extra: nn.Module | None = None):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.layer1 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), gate_cls(16))
        self.layer2 = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1), gate_cls(32))
        self.extra = extra if extra is not None else nn.Identity()
        self.head = nn.Linear(32, 5)

    def forward(self, x):
        x = self.layer2(self.layer1(torch.relu(self.stem(x))))
        return self.head(self.extra(x).mean((2, 3)))


@pytest.mark.parametrize("hard", [False, True])
def test_se_with_a_functional_gate(hard):
    torch.manual_seed(3)
    model = Net(lambda c: FunctionalSE(c, hard)).eval()
    blocks, cap, _ = _capture_all(model)
    assert [(b.path, b.kind) for b in blocks] == [(p, "se-functional") for p in ("layer1.1", "layer2.1")]
    assert all(b.gate_path == "" and b.expand_path.endswith(".fc2") for b in blocks)
    kind = "hard-sigmoid" if hard else "sigmoid"
    assert {b.gate_kind for b in blocks} == {kind}
    assert blocks[0].label == f"SE_2_2 · layer1.1 · SE (functional {kind})"
    for b in blocks:
        u = _check_scaled(cap, b.name)
        se = model.get_submodule(b.path)
        pre = se.fc2(torch.relu(se.fc1(u.mean((2, 3)))))
        ref = torch.clamp(pre / 6 + 0.5, 0, 1) if hard else 1 / (1 + torch.exp(-pre))
        np.testing.assert_allclose(cap.gates[b.name], ref.detach().numpy(), atol=ATOL, rtol=ATOL)
    # The teaching walk works on it too: its s is σ(W₂δ(W₁z)) with the function written out.
    assert blocks[1].teachable
    walk = walk_block(model, blocks[1], torch.randn(1, 3, 64, 64))
    assert walk.w1_shape == (8, 32)
    fn = F.hardsigmoid if hard else torch.sigmoid
    np.testing.assert_allclose(walk.s, fn(torch.from_numpy(walk.expanded)).numpy(), atol=ATOL)


def test_other_rescaling_is_recovered_by_least_squares():
    torch.manual_seed(4)
    model = Net(lambda c: FreeGate()).eval()
    blocks, cap, _ = _capture_all(model)
    assert [b.kind for b in blocks] == ["channel-scale"] * 2
    assert "least squares" in blocks[0].description
    assert blocks[0].label.endswith("other per-channel rescaling")
    for b in blocks:
        u = _check_scaled(cap, b.name)
        ref = 1.0 + torch.tanh(u.mean((2, 3)))
        np.testing.assert_allclose(cap.gates[b.name], ref.numpy(), atol=ATOL, rtol=ATOL)


def test_gather_excite_with_a_global_extent_is_named_and_a_spatial_one_is_not_a_gate():
    # use_mlp=False: timm 1.0's GatherExcite cannot build its MLP (a positional-argument slip).
    torch.manual_seed(5)
    model = Net(lambda c: GatherExcite(c, use_mlp=False)).eval()
    blocks, cap, _ = _capture_all(model)
    assert [b.kind for b in blocks] == ["gather-excite"] * 2 and "Gather-Excite" in blocks[0].label
    u = _check_scaled(cap, blocks[0].name)
    np.testing.assert_allclose(cap.gates[blocks[0].name], torch.sigmoid(u.mean((2, 3))).numpy(), atol=ATOL)
    with pytest.raises(NoSEBlocksError):
        se_viz.find_se_blocks(Net(lambda c: GatherExcite(c, extent=2, use_mlp=False)).eval())


# --------------------------------------------------------------------------------------------
# No false positives


def test_no_gate_in_static_scales_and_affines():
    """Identity, dropout, LayerScale and BatchNorm (with and without offset) scale or shift per
    channel, but the same way for every image: none of them is a gate."""

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1)
            self.drop = nn.Dropout(0.3)
            self.ls = LayerScale2d(16, 0.1)
            self.bn = nn.BatchNorm2d(16)
            self.bn_affine = nn.BatchNorm2d(16)
            self.head = nn.Linear(16, 3)

        def forward(self, x):
            x = self.bn_affine(self.bn(self.ls(self.drop(self.conv(x)))))
            return self.head(x.mean((2, 3)))

    model = Block()
    with torch.no_grad():
        model.bn_affine.bias.uniform_(0.5, 1.0)
    with pytest.raises(NoSEBlocksError):
        se_viz.find_se_blocks(model)
    assert model.training  # the probe ran in eval mode and gave the mode back
    assert hook_count(model) == 0


class LayerScaleBlock(nn.Module):
    """A MetaFormer-style residual block, untrained: y = x + 1e-5 · conv(x), per-channel LayerScale."""

    def __init__(self, channels: int):
        super().__init__()
        self.mix = nn.Conv2d(channels, channels, 3, padding=1)
        self.ls = LayerScale2d(channels, 1e-5)

    def forward(self, x):
        return x + self.ls(self.mix(x))


@pytest.mark.parametrize("with_se", [False, True])
def test_an_untrained_layerscale_stack_is_not_a_gate(with_se):
    """PoolFormer and FastViT, untrained: a stack of such blocks is the identity to ~1e-5, which
    differs a little between images. It is no gate; an SE module inside it still is one."""
    torch.manual_seed(9)
    stack = [LayerScaleBlock(32), LayerScaleBlock(32)] + ([nn.Identity()] if not with_se else [])
    extra = nn.Sequential(*stack, *([FunctionalSE(32)] if with_se else []))
    model = Net(lambda c: nn.Identity(), extra=extra).eval()
    if not with_se:
        with pytest.raises(NoSEBlocksError):
            se_viz.find_se_blocks(model)
        return
    assert [(b.path, b.kind) for b in se_viz.find_se_blocks(model)] == [("extra.2", "se-functional")]


# --------------------------------------------------------------------------------------------
# Interventions, hooks after failures, the remembered blocks, old manifests


def test_an_edit_rescales_the_block_output():
    model = _timm_resnet("eca", seed=6)
    blocks, cap, x = _capture_all(model)
    name = blocks[1].name
    res = intervene(model, x, {name: neutralise()}, blocks=blocks)
    np.testing.assert_array_equal(res.after.gates[name], np.ones_like(cap.gates[name]))
    # Independently: the same network with that ECA module replaced by the identity.
    module = model.get_submodule(blocks[1].path)
    handle = module.register_forward_hook(lambda _m, args, _out: args[0])
    try:
        with torch.inference_mode():
            want = model(x)
    finally:
        handle.remove()
    np.testing.assert_allclose(res.after.logits, want.numpy(), atol=ATOL, rtol=ATOL)
    half = se_viz.capture(model, x, edits={name: scale(0.5)}, maps=[name])
    np.testing.assert_allclose(half.gates[name], cap.gates[name] * 0.5, atol=1e-6)
    u = half.maps_in[name]
    np.testing.assert_allclose(half.maps_out[name], u * half.gates[name][:, :, None, None], atol=ATOL)


def test_no_hook_left_after_a_failure():
    model = Net(lambda c: FunctionalSE(c)).eval()
    blocks = se_viz.find_se_blocks(model)

    def boom(_gates):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        se_viz.capture(model, torch.randn(1, 3, 32, 32), edits={blocks[0].name: boom})
    assert hook_count(model) == 0
    with pytest.raises(RuntimeError):
        se_viz.capture(model, torch.randn(1, 4, 32, 32))
    assert hook_count(model) == 0

    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("this network never runs")

    broken = Broken()
    with pytest.raises(NoSEBlocksError):
        se_viz.find_se_blocks(broken)
    assert hook_count(broken) == 0


def test_blocks_are_found_once_per_model_and_forgotten_with_it():
    model = Net(lambda c: FunctionalSE(c)).eval()
    passes = []
    model.register_forward_pre_hook(lambda *_: passes.append(1))
    first = se_viz.find_se_blocks(model)
    probed = len(passes)
    assert probed >= 1
    assert se_viz.find_se_blocks(model) == first and len(passes) == probed  # no second probe
    se_viz.capture(model, torch.randn(1, 3, 32, 32))
    assert len(passes) == probed + 1  # capture without blocks= reuses them: one pass, its own
    assert model in blocks_mod._found
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None  # the remembered blocks do not keep the model alive


def test_manifests_without_kinds_still_open_and_new_ones_name_the_kind():
    old = {
        "name": "SE_2_1",
        "path": "layer1.0.se",
        "channels": 64,
        "reduced": 4,
        "gate_kind": "sigmoid",
        "paper_name": "SE_2_1",
        "reduce_path": "layer1.0.se.fc1",
        "gate_path": "layer1.0.se.gate",
        "module_type": "SEModule",
        "index": 0,
        "expand_path": "layer1.0.se.fc2",
    }
    block = BlockInfo(**old)
    assert block.kind == "se" and block.label == "SE_2_1 · layer1.0.se"
    eca = se_viz.find_se_blocks(_timm_resnet("eca"))[0]
    assert dataclasses.asdict(eca)["kind"] == "eca" and BlockInfo(**dataclasses.asdict(eca)) == eca
    assert set(KINDS) == {
        "se",
        "se-functional",
        "eca",
        "ese",
        "cbam-channel",
        "light-cbam-channel",
        "gc",
        "gather-excite",
        "channel-scale",
    }


@pytest.mark.parametrize("attn", ["eca", "cbam"])
def test_the_knock_out_sweep_reuses_the_prefix_and_equals_full_passes(attn):
    """The sweep restarts inside the unit (ECA: the module is the unit's ``se``) or at the unit
    (CBAM: the gate is ``se.channel``); both equal one full pass per knocked-out block."""
    from se_viz.interventions import knock_out_sweep

    model = _timm_resnet(attn, seed=7)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(8))
    blocks = se_viz.find_se_blocks(model)
    res = knock_out_sweep(model, x, blocks=blocks)
    assert res.reused
    for i, b in enumerate(blocks):
        full = se_viz.capture(model, x, blocks=blocks, edits={b.name: neutralise()})
        np.testing.assert_allclose(res.logits[i], full.logits, atol=1e-4, rtol=1e-4)
    assert hook_count(model) == 0


def test_the_catalog_cbam_resnet_loads_offline_with_its_channel_gates():
    lm = se_viz.load_model("cbam_resnet26.untrained", pretrained=False)
    assert lm.source.kind == "random init" and len(lm.blocks) == 8
    assert {b.kind for b in lm.blocks} == {"cbam-channel"}
    assert lm.blocks[0].label == "SE_2_1 · layer1.0.se.channel · CBAM channel gate"
    ids = {e.id for e in se_viz.catalog()}
    assert {"ecaresnet50d.miil_in1k", "ecaresnet26t.ra2_in1k", "cbam_resnet26.untrained"} <= ids
