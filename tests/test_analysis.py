"""Tests for se_viz.analysis: every statistic is checked against an independent recomputation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import se_viz
from se_viz import analysis as A
from se_viz.engine.blocks import BlockInfo
from se_viz.engine.capture import Capture

# The summary CSV's columns, pinned: users' spreadsheets read them by name.
SUMMARY_COLUMNS = (
    "block paper_name module_path stage channels mean std min max frac_below_0.1 frac_above_0.9 entropy "
    "z_mean z_std"
).split()


@pytest.fixture(scope="module")
def cap(legacy_r50, sample_images):
    """Two real photos through the untrained legacy SE-ResNet-50 (one forward pass per module)."""
    return se_viz.capture(legacy_r50.model, legacy_r50.preprocess(sample_images[:2]), maps=["SE_3_1"])


def _block(name: str, channels: int, path: str | None = None, paper: str | None = None) -> BlockInfo:
    path = path or name
    return BlockInfo(
        name=name,
        path=path,
        channels=channels,
        reduced=max(1, channels // 4),
        gate_kind="sigmoid",
        paper_name=paper,
        reduce_path=f"{path}.fc1",
        gate_path=f"{path}.gate",
        module_type="SE",
        index=0,
    )


@pytest.fixture
def handmade() -> Capture:
    """A tiny capture with gate values chosen so every statistic is known by hand."""
    blocks = [_block("stem.se", 4), _block("head.se", 3)]
    gates = {
        "stem.se": np.array([[0.05, 0.5, 0.95, 0.95]], dtype=np.float32),
        "head.se": np.array([[0.4, 0.4, 0.4]], dtype=np.float32),
    }
    squeeze = {
        "stem.se": np.array([[1.0, -1.0, 3.0, 1.0]], dtype=np.float32),
        "head.se": np.array([[2.0, 2.0, 2.0]], dtype=np.float32),
    }
    return Capture(
        blocks=blocks, gates=gates, squeeze=squeeze, logits=np.array([[0.0, 1.0, 2.0]], np.float32)
    )


# ---------------------------------------------------------------------------------------------
# block_summary


def test_summary_has_exact_columns_one_row_per_block_in_forward_order(cap):
    df = A.block_summary(cap)
    assert list(df.columns) == SUMMARY_COLUMNS
    assert df["block"].tolist() == cap.block_names
    assert df["block"].tolist()[:2] == ["SE_2_1", "SE_2_2"] and df["block"].iloc[-1] == "SE_5_3"
    assert df["module_path"].tolist() == [b.path for b in cap.blocks]
    assert df["paper_name"].tolist() == cap.block_names
    assert df["channels"].tolist() == [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3
    assert str(df["stage"].dtype) == "Int64"
    assert df["stage"].tolist() == [2] * 3 + [3] * 4 + [4] * 6 + [5] * 3


@pytest.mark.parametrize("image", [0, 1])
def test_summary_statistics_equal_numpy_recomputation(cap, image):
    df = A.block_summary(cap, image=image).set_index("block")
    for name in cap.block_names:
        s = cap.gates[name][image].astype(np.float64)
        z = cap.squeeze[name][image].astype(np.float64)
        row = df.loc[name]
        assert row["mean"] == pytest.approx(np.mean(s), abs=1e-12)
        assert row["std"] == pytest.approx(np.std(s), abs=1e-12)
        assert row["min"] == pytest.approx(s.min(), abs=0)
        assert row["max"] == pytest.approx(s.max(), abs=0)
        assert row["frac_below_0.1"] == pytest.approx(np.count_nonzero(s < 0.1) / s.size)
        assert row["frac_above_0.9"] == pytest.approx(np.count_nonzero(s > 0.9) / s.size)
        p = s / s.sum()
        assert row["entropy"] == pytest.approx(-(p * np.log(p)).sum() / np.log(s.size), abs=1e-12)
        assert row["z_mean"] == pytest.approx(z.mean(), abs=1e-12)
        assert row["z_std"] == pytest.approx(z.std(), abs=1e-12)


def test_summary_follows_the_chosen_image(cap):
    first, second = A.block_summary(cap, 0), A.block_summary(cap, 1)
    assert not np.allclose(first["mean"], second["mean"])
    assert A.block_summary(cap, -1).equals(second)


def test_summary_of_handmade_gates_matches_hand_computed_values(handmade):
    df = A.block_summary(handmade).set_index("block")
    stem, head = df.loc["stem.se"], df.loc["head.se"]
    assert stem["paper_name"] == "" and pd.isna(stem["stage"])
    assert stem["channels"] == 4
    assert stem["mean"] == pytest.approx(2.45 / 4)
    assert stem["min"] == pytest.approx(0.05) and stem["max"] == pytest.approx(0.95)
    assert stem["frac_below_0.1"] == 0.25
    assert stem["frac_above_0.9"] == 0.5
    p = np.array([0.05, 0.5, 0.95, 0.95]) / 2.45
    assert stem["entropy"] == pytest.approx(-(p * np.log(p)).sum() / math.log(4), rel=1e-6)
    assert stem["z_mean"] == pytest.approx(1.0) and stem["z_std"] == pytest.approx(math.sqrt(2.0))
    # Equal gates: a perfectly uniform distribution, entropy exactly 1, std 0.
    assert head["entropy"] == pytest.approx(1.0, abs=1e-12)
    assert head["std"] == pytest.approx(0.0, abs=1e-7)
    assert head["frac_below_0.1"] == 0 and head["frac_above_0.9"] == 0


def test_untrained_network_gates_are_near_uniform_but_not_exactly(cap):
    entropy = A.block_summary(cap)["entropy"]
    assert ((entropy > 0.9) & (entropy < 1.0)).all()


# ---------------------------------------------------------------------------------------------
# gate_entropy


def test_entropy_is_one_for_equal_gates_and_lower_when_concentrated():
    assert A.gate_entropy(np.full(8, 0.3)) == pytest.approx(1.0, abs=1e-12)
    assert A.gate_entropy(np.array([1.0, 0.0, 0.0, 0.0])) == pytest.approx(0.0, abs=1e-12)
    # p = (1/2, 1/4, 1/4): H = 1.5 bits, normalised by log2(3) bits.
    assert A.gate_entropy(np.array([0.5, 0.25, 0.25])) == pytest.approx(1.5 / math.log2(3), rel=1e-12)
    assert A.gate_entropy(np.array([0.9, 0.1])) < A.gate_entropy(np.array([0.6, 0.4])) < 1.0


def test_entropy_edge_cases_are_defined():
    assert A.gate_entropy(np.array([0.7])) == 1.0
    assert math.isnan(A.gate_entropy(np.zeros(5)))
    assert A.ENTROPY_DEFINITION and "entropy" in A.ENTROPY_DEFINITION.lower()


# ---------------------------------------------------------------------------------------------
# channel_order and top_channels


def test_channel_order_natural_descending_ascending():
    v = np.array([0.2, 0.9, 0.5, 0.9, 0.1], dtype=np.float32)
    assert A.channel_order(v, "natural").tolist() == [0, 1, 2, 3, 4]
    # Stable: the two 0.9s keep channel order in both directions.
    assert A.channel_order(v, "gate ↓").tolist() == [1, 3, 2, 0, 4]
    assert A.channel_order(v, "gate ↑").tolist() == [4, 0, 2, 1, 3]
    assert A.channel_order(v, "desc").tolist() == [1, 3, 2, 0, 4]
    assert A.channel_order(v, "asc").tolist() == [4, 0, 2, 1, 3]
    with pytest.raises(ValueError, match="natural"):
        A.channel_order(v, "random")


def test_channel_order_is_a_sorting_permutation_on_real_gates(cap):
    s = cap.gates["SE_4_2"][0]
    down = A.channel_order(s, "gate ↓")
    up = A.channel_order(s, "gate ↑")
    assert sorted(down.tolist()) == list(range(s.size))
    assert np.all(np.diff(s[down]) <= 0) and np.all(np.diff(s[up]) >= 0)


def test_top_channels_are_really_the_top_k(cap):
    s, z = cap.gates["SE_5_1"][1], cap.squeeze["SE_5_1"][1]
    up, down = A.top_channels(cap, "SE_5_1", image=1, k=7)
    for table in (up, down):
        assert list(table.columns) == ["channel", "s", "z", "rank"]
        assert table["rank"].tolist() == list(range(1, 8))
        assert np.allclose(table["s"], s[table["channel"]]) and np.allclose(table["z"], z[table["channel"]])
    assert np.allclose(up["s"], np.sort(s)[::-1][:7])
    assert np.allclose(down["s"], np.sort(s)[:7])
    # Every channel left out of "up" is at most the smallest listed one.
    rest = np.delete(s, up["channel"].to_numpy())
    assert rest.max() <= up["s"].min()
    assert set(up["channel"]).isdisjoint(down["channel"])


def test_top_channels_clips_k_and_rejects_unknown_block(cap):
    up, down = A.top_channels(cap, "SE_2_1", k=10_000)
    assert len(up) == len(down) == 256
    assert sorted(up["channel"]) == list(range(256))
    with pytest.raises(KeyError, match="SE_9_9"):
        A.top_channels(cap, "SE_9_9")


def test_image_index_out_of_range_is_a_clear_error(cap):
    with pytest.raises(IndexError, match="2 image"):
        A.block_summary(cap, image=2)


# ---------------------------------------------------------------------------------------------
# long_table and topk_predictions


def test_long_table_has_every_value_once_and_parses_back(cap):
    names = ["cat.jpg", "astronaut.png"]
    df = A.long_table(cap, names)
    total = sum(b.channels for b in cap.blocks)
    assert list(df.columns) == ["image", "block", "paper_name", "module_path", "channel", "z", "s"]
    assert len(df) == 2 * total == 2 * 15104
    assert not df.duplicated(["image", "block", "channel"]).any()
    for i, name in enumerate(names):
        for b in (cap.blocks[0], cap.blocks[9], cap.blocks[-1]):
            part = df[(df["image"] == name) & (df["block"] == b.name)]
            assert part["channel"].tolist() == list(range(b.channels))
            assert np.array_equal(part["s"].to_numpy(), cap.gates[b.name][i])
            assert np.array_equal(part["z"].to_numpy(), cap.squeeze[b.name][i])
            assert set(part["module_path"]) == {b.path} and set(part["paper_name"]) == {b.paper_name}


def test_long_table_needs_one_name_per_image(cap):
    with pytest.raises(ValueError, match="2 image"):
        A.long_table(cap, ["only-one.jpg"])


def test_long_table_without_paper_names_uses_empty_string(handmade):
    df = A.long_table(handmade, ["x"])
    assert len(df) == 7 and set(df["paper_name"]) == {""}
    assert df["block"].tolist() == ["stem.se"] * 4 + ["head.se"] * 3


def test_topk_predictions_are_the_softmax_top_k(cap, legacy_r50):
    logits = cap.logits[1].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    table = A.topk_predictions(cap, legacy_r50.labels, image=1, k=5)
    assert list(table.columns) == ["rank", "class_index", "label", "probability"]
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert table["class_index"].tolist() == np.argsort(-probs, kind="stable")[:5].tolist()
    assert np.allclose(table["probability"], np.sort(probs)[::-1][:5])
    assert table["label"].tolist() == [legacy_r50.labels[j] for j in table["class_index"]]


def test_topk_predictions_fall_back_to_class_numbers(handmade):
    table = A.topk_predictions(handmade, ["zero"], k=10)
    assert len(table) == 3
    assert table["class_index"].tolist() == [2, 1, 0]
    assert table["label"].tolist() == ["class 2", "class 1", "zero"]
    assert table["probability"].sum() == pytest.approx(1.0)


def _top1_rest_uniform(top: float, k: int = 1000) -> np.ndarray:
    p = np.full(k, (1 - top) / (k - 1))
    p[3] = top
    return p


def test_near_chance_is_judged_from_the_whole_distribution():
    from se_viz.analysis import NEAR_CHANCE_ENTROPY, near_chance, prediction_entropy

    assert prediction_entropy(np.full(1000, 1 / 1000)) == pytest.approx(1.0)
    assert near_chance(np.full(1000, 1 / 1000))
    # The edge that flipped a top-1 rule: 0.2 % and 0.3 % of 1000 classes are both guessing.
    assert near_chance(_top1_rest_uniform(0.002)) and near_chance(_top1_rest_uniform(0.003))
    assert near_chance(_top1_rest_uniform(0.02))  # 20× chance, still spread over everything
    assert not near_chance(_top1_rest_uniform(0.6))  # a real preference
    # Two classes sharing the belief is not guessing among 1000, whatever each one's top-1 share.
    p = np.full(1000, 0.02 / 998)
    p[[1, 2]] = 0.49
    assert not near_chance(p)
    # Ten classes (the offline model): 20 % against 9 × 8.9 % is near chance, 50 % is not.
    assert near_chance(_top1_rest_uniform(0.2, k=10)) and not near_chance(_top1_rest_uniform(0.5, k=10))
    assert not near_chance(np.array([0.7, 0.2, 0.1]))
    assert near_chance(np.array([0.6, 0.4]))  # entropy 0.97 of a coin flip
    assert not near_chance(np.array([0.6, 0.4]), threshold=0.99)
    assert 0.5 < NEAR_CHANCE_ENTROPY < 1
    with pytest.raises(ValueError):
        near_chance(np.array([]))


def test_gate_spread_measures_each_block(handmade):
    from se_viz.analysis import gate_spread

    table = gate_spread(handmade)
    assert list(table["block"]) == handmade.block_names
    for row in table.itertuples():
        s = handmade.gates[row.block]
        assert row.min == pytest.approx(s.min()) and row.max == pytest.approx(s.max())
        assert row.std == pytest.approx(s.std())
