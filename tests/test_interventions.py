"""Interventions on SE gates: hand-computable edits, the prefix-reusing sweep, set ablations, the walk.

The hand-built network has one SE block and an identity classifier, so its logits are exactly
``s_c · mean(u_c)``: every edit's effect can be written down without running anything.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import se_viz
from se_viz.demo import synthetic
from se_viz.engine.walkthrough import walk_block
from se_viz.interventions import (
    ablate_over_images,
    ablation_conditions,
    intervene,
    knock_out_sweep,
    log_softmax,
    neutralise,
    replace,
    scale,
    sweep_flop_limit,
    switch_off_bottom,
    switch_off_top,
    trunk_chain,
    zero,
)

# --------------------------------------------------------------------------------------------
# a network whose logits are s_c * mean(u_c)


class TinySE(nn.Module):
    def __init__(self, c: int = 4, r: int = 2) -> None:
        super().__init__()
        self.fc1, self.relu, self.fc2, self.gate = nn.Linear(c, r), nn.ReLU(), nn.Linear(r, c), nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.gate(self.fc2(self.relu(self.fc1(x.mean((2, 3))))))
        return x * s[:, :, None, None]


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.se = TinySE()
        self.head = nn.Linear(4, 4)
        with torch.no_grad():
            self.head.weight.copy_(torch.eye(4))
            self.head.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.se(x).mean((2, 3)))


MEANS = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, -1.0, 0.5, 2.0]])


@pytest.fixture(scope="module")
def tiny():
    net = TinyNet().eval()
    x = torch.tensor(MEANS, dtype=torch.float32)[:, :, None, None].expand(2, 4, 3, 3).contiguous()
    s = se_viz.capture(net, x).gates["se"].astype(np.float64)  # the block's own gates, (2, 4)
    return net, x, s


def _logits(net, x, edit):
    return se_viz.capture(net, x, edits={"se": edit}).logits.astype(np.float64)


def test_unedited_logits_are_gates_times_means(tiny):
    net, x, s = tiny
    np.testing.assert_allclose(se_viz.capture(net, x).logits, s * MEANS, rtol=1e-6)


def test_neutralise_and_zero(tiny):
    net, x, _ = tiny
    np.testing.assert_allclose(_logits(net, x, neutralise()), MEANS, rtol=1e-6)
    np.testing.assert_allclose(_logits(net, x, zero()), 0.0, atol=1e-7)


def test_replace_by_the_mean_of_a_group(tiny):
    net, x, s = tiny
    mean = s.mean(axis=0)
    np.testing.assert_allclose(_logits(net, x, replace(mean, "mean of 2")), mean[None, :] * MEANS, rtol=1e-6)
    with pytest.raises(ValueError):
        _logits(net, x, replace([0.5, 0.5]))  # wrong channel count


def test_scale_is_clipped_to_the_gate_range(tiny):
    net, x, s = tiny
    np.testing.assert_allclose(_logits(net, x, scale(0.5)), 0.5 * s * MEANS, rtol=1e-6)
    np.testing.assert_allclose(_logits(net, x, scale(3.0)), np.clip(3 * s, 0, 1) * MEANS, rtol=1e-6)
    np.testing.assert_allclose(_logits(net, x, scale(3.0, clip=False)), 3 * s * MEANS, rtol=1e-6)
    with pytest.raises(ValueError):
        scale(-1)


@pytest.mark.parametrize("k", [1, 2])
def test_switch_off_top_and_bottom_k_per_image(tiny, k):
    net, x, s = tiny
    for edit, order in (
        (switch_off_top(k), np.argsort(-s, axis=1)),
        (switch_off_bottom(k), np.argsort(s, axis=1)),
    ):
        expected = s.copy()
        for i in range(2):  # each image by its own gates
            expected[i, order[i, :k]] = 0.0
        np.testing.assert_allclose(_logits(net, x, edit), expected * MEANS, rtol=1e-6)


def test_edits_are_values_with_labels():
    assert neutralise() == neutralise() and scale(0.5) != scale(0.6)
    assert "s = 1" in neutralise().label and "2 largest" in switch_off_top(2).label


def test_intervene_reports_top5_and_change_of_predicted_class(tiny):
    net, x, s = tiny
    res = intervene(net, x, {"se": zero()})
    before = s * MEANS
    p_before = np.exp(log_softmax(before))
    pred = before.argmax(1)
    assert (res.predicted == pred).all()
    # Zeroed gates: all logits 0, every class 1/4.
    np.testing.assert_allclose(res.delta_prob, 0.25 - p_before[np.arange(2), pred], atol=1e-6)
    np.testing.assert_allclose(
        res.delta_logprob, np.log(0.25) - np.log(p_before[np.arange(2), pred]), atol=1e-5
    )
    table = res.top(5, image=0)
    assert len(table) == 4 and table["before_index"].iloc[0] == pred[0]
    with pytest.raises(ValueError):
        intervene(net, x, {})


def test_hand_built_net_falls_back_to_full_passes_with_the_same_numbers(tiny):
    net, x, s = tiny
    assert trunk_chain(net) is None
    res = knock_out_sweep(net, x)
    assert not res.reused
    np.testing.assert_allclose(res.logits[0], MEANS, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# the sweep reuses the prefix and equals separate interventions


def _no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def _separate(lm, x):
    base = se_viz.capture(lm.model, x, blocks=lm.blocks).logits
    pred = base.argmax(1)
    n = np.arange(len(pred))
    out = []
    for b in lm.blocks:
        logits = se_viz.capture(lm.model, x, blocks=lm.blocks, edits={b.name: neutralise()}).logits
        out.append(log_softmax(logits)[n, pred] - log_softmax(base)[n, pred])
    return np.stack(out)


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model(se_viz.MINI_MODEL)


@pytest.fixture(scope="module")
def mini_batch():
    images, labels = synthetic.generate(20, seed=99)
    return synthetic.make_batch(images), labels


def test_sweep_on_the_mini_model_equals_separate_interventions(mini, mini_batch):
    x = mini_batch[0][:3]
    calls = []
    res = knock_out_sweep(mini.model, x, blocks=mini.blocks, progress=lambda d, t, w: calls.append((d, t, w)))
    assert res.reused
    np.testing.assert_allclose(res.delta_logprob, _separate(mini, x), atol=1e-5)
    # Progress: the unmodified pass, then every step of the chain the knock-outs rerun.
    assert [c[0] for c in calls] == list(range(1, len(calls) + 1)) and calls[-1][0] == calls[-1][1]
    assert calls[0][2] == "unmodified pass" and calls[-1][2] == "rerunning head"
    assert _no_hooks(mini.model)


def test_grouped_reruns_equal_one_group(mini, mini_batch):
    from se_viz.interventions import run_edit_sets

    x = mini_batch[0][:2]
    sets = [{b.name: neutralise()} for b in mini.blocks] + [{}, {b.name: zero() for b in mini.blocks[2:5]}]
    base, together, _ = run_edit_sets(mini.model, x, sets, blocks=mini.blocks, max_rows=64)
    _, apart, _ = run_edit_sets(mini.model, x, sets, blocks=mini.blocks, max_rows=2)  # one set at a time
    _, full, reused = run_edit_sets(mini.model, x, sets, blocks=mini.blocks, reuse=False)
    assert not reused
    np.testing.assert_allclose(together, full, atol=1e-5)
    np.testing.assert_allclose(apart, full, atol=1e-5)
    np.testing.assert_allclose(together[len(mini.blocks)], base, atol=0)  # the empty set is the baseline


def test_sweep_on_untrained_seresnet50_equals_separate_interventions():
    torch.manual_seed(0)
    lm = se_viz.load_model("legacy_seresnet50.in1k", pretrained=False)
    x = torch.randn(1, 3, 64, 64)
    res = knock_out_sweep(lm.model, x, blocks=lm.blocks)
    assert res.reused and len(res.blocks) == 16
    expected = _separate(lm, x)
    assert np.abs(expected).max() > 1e-3  # the knock-outs do change something
    np.testing.assert_allclose(res.delta_logprob, expected, atol=1e-5)
    frame = res.to_frame(0, lm.labels)
    assert list(frame["block"]) == [b.name for b in lm.blocks] and frame["stage"].tolist()[0] == 2
    assert _no_hooks(lm.model)


def test_flop_limit_of_a_sweep_is_below_one_pass_per_block(mini):
    cost = sweep_flop_limit(mini.model, torch.zeros(1, 3, 64, 64), mini.blocks)
    # Each rerun is cheaper than a full pass, the last block's much cheaper than the first's.
    assert 1.0 < cost.limit < 1 + len(mini.blocks)
    assert cost.rerun_flops[-1] < cost.rerun_flops[0] < cost.plain_flops


# --------------------------------------------------------------------------------------------
# over a set of images


def test_set_ablation_on_the_mini_model(mini, mini_batch):
    x, labels = mini_batch
    res = ablate_over_images(mini.model, x, labels, blocks=mini.blocks, batch_size=8)
    conds = ablation_conditions(mini.blocks)
    assert [c.name for c in res.conditions] == [c.name for c in conds]
    assert {c.kind for c in conds} == {"block", "stage", "SE in one stage only", "no SE"}
    table = res.table()
    assert table["condition"].iloc[0] == "unmodified" and table["top1_agreement"].iloc[0] == 1.0
    # The unmodified accuracy is the network's own accuracy on these images.
    with torch.inference_mode():
        own = (mini.model(x).argmax(1).numpy() == labels).mean()
    assert table["accuracy"].iloc[0] == pytest.approx(own)
    # "no SE" equals one full pass with every block neutralised.
    everything = se_viz.capture(
        mini.model, x, blocks=mini.blocks, edits={b.name: neutralise() for b in mini.blocks}
    ).logits
    s = [c.name for c in res.conditions].index("no SE (all neutralised)")
    assert (res.preds[s] == everything.argmax(1)).all()
    assert table["top1_agreement"].iloc[1 + s] == pytest.approx(
        (everything.argmax(1) == res.base_pred).mean()
    )
    # Reusing the prefix gives the numbers of full passes.
    full = ablate_over_images(mini.model, x, labels, blocks=mini.blocks, batch_size=8, reuse=False)
    assert not full.reused and res.reused
    np.testing.assert_allclose(res.logprob, full.logprob, atol=1e-5)


def test_set_ablation_without_labels_has_no_accuracy(mini, mini_batch):
    res = ablate_over_images(
        mini.model,
        [mini_batch[0][:4], mini_batch[0][4:6]],
        blocks=mini.blocks,
        conditions=ablation_conditions(mini.blocks, per_block=False),
    )
    table = res.table()
    assert res.num_images == 6 and table["accuracy"].isna().all()
    assert ((table["top1_agreement"] >= 0) & (table["top1_agreement"] <= 1)).all()


# --------------------------------------------------------------------------------------------
# the teaching walk


def test_walk_block_matches_the_blocks_own_computation(mini, mini_batch):
    x = mini_batch[0][:2]
    block = mini.blocks[3]
    walk = walk_block(mini.model, block, x, image=1)
    cap = se_viz.capture(mini.model, x, blocks=mini.blocks, maps=[block.name])
    np.testing.assert_allclose(walk.s, cap.gates[block.name][1], atol=1e-6)
    np.testing.assert_allclose(walk.u, cap.maps_in[block.name][1], atol=1e-6)
    np.testing.assert_allclose(walk.out, cap.maps_out[block.name][1], atol=1e-6)
    # Every step by hand from the previous one.
    np.testing.assert_allclose(walk.z, walk.u.mean(axis=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(walk.reduced_pre, walk.w1 @ walk.z + walk.b1, atol=1e-5)
    np.testing.assert_allclose(walk.reduced, np.maximum(walk.reduced_pre, 0), atol=1e-6)
    np.testing.assert_allclose(walk.expanded, walk.w2 @ walk.reduced + walk.b2, atol=1e-5)
    np.testing.assert_allclose(walk.s, 1 / (1 + np.exp(-walk.expanded)), atol=1e-6)
    np.testing.assert_allclose(walk.out, walk.s[:, None, None] * walk.u, atol=1e-6)
    assert walk.w1_shape == (block.reduced, block.channels) and walk.w2_shape == (
        block.channels,
        block.reduced,
    )
    assert _no_hooks(mini.model)


def test_walk_block_on_the_hand_built_net(tiny):
    net, x, s = tiny
    block = se_viz.find_se_blocks(net)[0]
    assert block.expand_path == "se.fc2"
    walk = walk_block(net, block, x, image=0)
    np.testing.assert_allclose(walk.z, MEANS[0], rtol=1e-6)
    np.testing.assert_allclose(walk.s, s[0], rtol=1e-6)


@pytest.mark.parametrize("reuse", [True, False])
def test_set_ablation_progress_never_passes_its_total(mini, mini_batch, reuse):
    """Uneven batches (8 + 8 + 4 images): the counter climbs by one up to a total it knew from the start."""
    calls = []
    ablate_over_images(
        mini.model,
        mini_batch[0],
        blocks=mini.blocks,
        conditions=ablation_conditions(mini.blocks, per_block=False),
        batch_size=8,
        reuse=reuse,
        progress=lambda d, t, w: calls.append((d, t, w)),
    )
    done, totals = [c[0] for c in calls], {c[1] for c in calls}
    assert len(totals) == 1 and done == list(range(1, len(calls) + 1)) and done[-1] == totals.pop()
    assert calls[0][2].startswith("batch 1/3") and calls[-1][2].startswith("batch 3/3")
