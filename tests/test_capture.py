"""capture() returns exactly what each SE block computed, leaves no hooks, and is thread safe."""

import threading

import numpy as np
import pytest
import timm
import torch
import torchvision
from test_blocks import ConvSE, LinearSE, TinyNet
from torch import nn

import se_viz


def hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def recompute_gate(module: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """s from z with the block's own layers, written out per SE kind."""
    z4 = z[:, :, None, None]
    name = type(module).__name__
    if hasattr(module, "gate") and hasattr(module, "fc1"):  # timm SEModule
        return module.gate(module.fc2(module.act(module.bn(module.fc1(z4)))))
    if hasattr(module, "sigmoid") and hasattr(module, "fc1"):  # timm legacy
        return module.sigmoid(module.fc2(module.relu(module.fc1(z4))))
    if hasattr(module, "conv_reduce"):  # timm EfficientNet SqueezeExcite
        return module.gate(module.conv_expand(module.act1(module.conv_reduce(z4))))
    if name == "SqueezeExcitation":  # torchvision
        return module.scale_activation(module.fc2(module.activation(module.fc1(z4))))
    if isinstance(module, LinearSE):
        return module.fc(z)
    if isinstance(module, ConvSE):
        return module.sigmoid(module.expand(module.relu(module.reduce(z4))))
    raise AssertionError(f"no recomputation for {name}")


def check_exact(model: nn.Module, x: torch.Tensor, expect_hard: bool = False) -> se_viz.Capture:
    model.eval()
    blocks = se_viz.find_se_blocks(model)
    cap = se_viz.capture(model, x, maps=[b.name for b in blocks])
    assert cap.block_names == [b.name for b in blocks]
    n = x.shape[0]
    for b in blocks:
        s, z = cap.gates[b.name], cap.squeeze[b.name]
        assert s.shape == (n, b.channels) and z.shape == (n, b.channels)
        assert s.dtype == np.float32 and z.dtype == np.float32
        u = torch.from_numpy(cap.maps_in[b.name])
        z_ref = u.mean((2, 3))
        np.testing.assert_allclose(z, z_ref.numpy(), rtol=1e-5, atol=1e-5)
        with torch.inference_mode():
            s_ref = recompute_gate(model.get_submodule(b.path), torch.from_numpy(z)).reshape(n, -1)
        np.testing.assert_allclose(s, s_ref.numpy(), rtol=1e-5, atol=1e-5)
        # The block's output is exactly u * s: the gate we report is the gate that was applied.
        np.testing.assert_allclose(
            cap.maps_out[b.name], (u * torch.from_numpy(s)[:, :, None, None]).numpy(), rtol=1e-5, atol=1e-5
        )
        if expect_hard:
            assert ((s >= 0) & (s <= 1)).all()
        else:
            assert ((s > 0) & (s < 1)).all()
    with torch.inference_mode():
        np.testing.assert_allclose(cap.logits, model(x).numpy(), rtol=1e-5, atol=1e-5)
    assert hook_count(model) == 0
    return cap


def test_legacy_seresnet50_capture(legacy_r50, sample_images):
    x = legacy_r50.preprocess(sample_images[:2])
    cap = check_exact(legacy_r50.model, x)
    assert cap.block_names == [
        f"SE_{s}_{b}" for s, n in ((2, 3), (3, 4), (4, 6), (5, 3)) for b in range(1, n + 1)
    ]
    assert [cap.gates[n].shape[1] for n in ("SE_2_1", "SE_3_1", "SE_4_1", "SE_5_1")] == [256, 512, 1024, 2048]
    assert cap.logits.shape == (2, 1000)
    probs = cap.probabilities()
    np.testing.assert_allclose(probs.sum(1), 1.0)


@pytest.mark.parametrize("arch", ["seresnet50", "seresnext26d_32x4d", "legacy_seresnet18", "efficientnet_b0"])
def test_timm_capture_exact(arch):
    torch.manual_seed(1)
    model = timm.create_model(arch, pretrained=False)
    check_exact(model, torch.randn(2, 3, 96, 96))


def test_legacy_senet154_capture_exact():
    torch.manual_seed(2)
    cap = check_exact(timm.create_model("legacy_senet154", pretrained=False), torch.randn(1, 3, 64, 64))
    assert len(cap.blocks) == 50


@pytest.mark.parametrize(
    "ctor, hard",
    [
        (torchvision.models.regnet_y_400mf, False),
        (torchvision.models.efficientnet_b0, False),
        (torchvision.models.mobilenet_v3_small, True),
    ],
)
def test_torchvision_capture_exact(ctor, hard):
    torch.manual_seed(3)
    check_exact(ctor(), torch.randn(2, 3, 96, 96), expect_hard=hard)


@pytest.mark.parametrize("se_cls", [LinearSE, ConvSE])
def test_user_se_capture_exact(se_cls):
    torch.manual_seed(4)
    cap = check_exact(TinyNet(se_cls), torch.randn(3, 3, 32, 32))
    assert cap.block_names == ["se1", "se2"]


def test_only_vectors_by_default(legacy_r50, sample_images):
    cap = se_viz.capture(legacy_r50.model, legacy_r50.preprocess(sample_images[:1]))
    assert cap.maps_in == {} and cap.maps_out == {}
    cap = se_viz.capture(legacy_r50.model, legacy_r50.preprocess(sample_images[:1]), maps=["SE_5_2"])
    assert set(cap.maps_in) == {"SE_5_2"} and cap.maps_in["SE_5_2"].shape == (1, 2048, 7, 7)


def test_hooks_removed_after_normal_run_and_exception(legacy_r50, sample_images):
    model = legacy_r50.model
    x = legacy_r50.preprocess(sample_images[:1])
    assert hook_count(model) == 0
    for _ in range(3):
        se_viz.capture(model, x, maps=["SE_3_1"])
        assert hook_count(model) == 0

    def boom(_gate):
        raise ValueError("boom in the middle of the network")

    with pytest.raises(ValueError, match="boom"):
        se_viz.capture(model, x, edits={"SE_4_2": boom})
    assert hook_count(model) == 0
    with pytest.raises(RuntimeError):
        se_viz.capture(model, torch.randn(1, 5, 64, 64))  # wrong channel count fails in the stem
    assert hook_count(model) == 0
    with pytest.raises(KeyError, match="SE_9_9"):
        se_viz.capture(model, x, maps=["SE_9_9"])
    assert hook_count(model) == 0
    with pytest.raises(ValueError, match="N, C, H, W"):
        se_viz.capture(model, x[0])
    # The context manager removes handles even if the body raises.
    with pytest.raises(ZeroDivisionError):
        with se_viz.SEHooks(model):
            assert hook_count(model) == 2 * 16
            raise ZeroDivisionError  # a failure inside the hooked region
    assert hook_count(model) == 0


def test_edits_change_the_network(legacy_r50, sample_images):
    model = legacy_r50.model
    x = legacy_r50.preprocess(sample_images[:1])
    base = se_viz.capture(model, x)
    same = se_viz.capture(model, x, edits={"SE_5_2": base.gates["SE_5_2"][0]})
    np.testing.assert_allclose(same.logits, base.logits, rtol=1e-5, atol=1e-5)
    ones = se_viz.capture(model, x, edits={"SE_5_2": np.ones(2048, np.float32)})
    np.testing.assert_array_equal(ones.gates["SE_5_2"], np.ones((1, 2048), np.float32))
    assert not np.allclose(ones.logits, base.logits)
    # Blocks downstream of the edit see the change, blocks upstream do not.
    np.testing.assert_array_equal(ones.gates["SE_4_6"], base.gates["SE_4_6"])
    assert not np.allclose(ones.gates["SE_5_3"], base.gates["SE_5_3"])


def test_concurrent_captures_match_sequential(legacy_r50, sample_images):
    model = legacy_r50.model
    torch.manual_seed(5)
    inputs = [legacy_r50.preprocess([img]) for img in sample_images] + [
        torch.randn(1, 3, 224, 224) for _ in range(5)
    ]
    assert len(inputs) == 8
    expected = [se_viz.capture(model, x, maps=["SE_5_3"]) for x in inputs]
    results: list = [None] * 8
    errors: list = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(2):
                results[i] = se_viz.capture(model, inputs[i], maps=["SE_5_3"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_array_equal(got.logits, want.logits)
        for name in want.block_names:
            np.testing.assert_array_equal(got.gates[name], want.gates[name])
            np.testing.assert_array_equal(got.squeeze[name], want.squeeze[name])
        np.testing.assert_array_equal(got.maps_out["SE_5_3"], want.maps_out["SE_5_3"])
    # Different images really give different gates (the check above is not vacuous).
    assert not np.allclose(expected[0].gates["SE_5_3"], expected[1].gates["SE_5_3"])
    assert hook_count(model) == 0


def test_select_and_block_lookup(legacy_r50, sample_images):
    cap = se_viz.capture(legacy_r50.model, legacy_r50.preprocess(sample_images))
    one = cap.select(1)
    assert one.num_images == 1 and one.gates["SE_2_1"].shape == (1, 256)
    np.testing.assert_array_equal(one.gates["SE_2_1"][0], cap.gates["SE_2_1"][1])
    assert cap.block("SE_4_1").path == "layer3.0.se_module"
    with pytest.raises(KeyError):
        cap.block("nope")
