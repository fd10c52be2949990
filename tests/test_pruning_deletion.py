"""The pruning simulator's gate edit against deleting the channels outright (issue 26.6).

Zeroing gate c leaves u_c in the block's squeeze; deleting filter c removes it there too. The docs
say exactly that and give the measured gap: these tests hold the two edits to what the words claim.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import se_viz
from se_viz.channels.images import generated_set
from se_viz.channels.pruning import ChannelMask, deleted_channels, deletion_gap
from se_viz.engine.capture import model_lock


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model(se_viz.MINI_MODEL)


@pytest.fixture(scope="module")
def images(mini):
    return generated_set(mini, 8, seed=3).images


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


def test_deleting_a_channel_silences_it_and_moves_the_other_gates(mini, images):
    block, chosen = "SE_3_1", (0, 5, 9)
    info = next(b for b in mini.blocks if b.name == block)
    se = dict(mini.model.named_modules())[info.path]
    seen = {}
    handle = se.register_forward_hook(lambda _m, _a, out: seen.__setitem__("out", out.detach().clone()))
    try:
        plain = se_viz.capture(mini.model, images, blocks=mini.blocks)
        masked = se_viz.capture(mini.model, images, blocks=mini.blocks, edits={block: ChannelMask(chosen)})
        masked_out = seen["out"]
        with (
            model_lock(mini.model),
            torch.inference_mode(),
            deleted_channels(mini.model, mini.blocks, {block: chosen}),
        ):
            deleted_logits = mini.model(images).numpy()
        deleted_out = seen["out"]
    finally:
        handle.remove()
    # Both edits silence the chosen channels' output ...
    assert torch.all(masked_out[:, list(chosen)] == 0) and torch.all(deleted_out[:, list(chosen)] == 0)
    # ... but only deletion changes what the other channels receive (their gates saw u_c before).
    others = [c for c in range(info.channels) if c not in chosen]
    assert not torch.allclose(masked_out[:, others], deleted_out[:, others], atol=1e-6)
    np.testing.assert_allclose(masked.gates[block][:, others], plain.gates[block][:, others], atol=1e-6)
    assert not np.allclose(masked.logits, deleted_logits, atol=1e-5)


def test_deleting_nothing_is_the_unedited_network_and_hooks_come_off(mini, images):
    before = _hook_count(mini.model)
    gap = deletion_gap(mini.model, images, mini.blocks, {})
    assert gap.agreement == 1.0 and gap.max_abs_logit < 1e-5 and gap.num_images == len(images)
    with pytest.raises(RuntimeError):
        with deleted_channels(mini.model, mini.blocks, {"SE_2_1": (1,)}):
            raise RuntimeError("a failing pass")
    assert _hook_count(mini.model) == before


def test_the_gap_grows_from_nothing_as_more_channels_go(mini, images):
    small = deletion_gap(mini.model, images, mini.blocks, {"SE_4_1": (0,)})
    large = deletion_gap(
        mini.model, images, mini.blocks, {b.name: tuple(range(b.channels // 2)) for b in mini.blocks}
    )
    assert 0 < small.mean_abs_delta_logprob < large.mean_abs_delta_logprob
