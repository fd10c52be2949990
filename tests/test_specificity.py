"""Class specificity of SE gates on hand-made data whose answer is known."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from se_viz.analysis.specificity import block_specificity, class_mean_gates, class_specificity


def test_class_mean_gates_by_hand():
    gates = np.array([[0.0, 1.0], [1.0, 1.0], [0.5, 0.0]], dtype=np.float32)
    classes, means = class_mean_gates(gates, ["b", "b", "a"])
    assert classes.tolist() == ["a", "b"]
    np.testing.assert_allclose(means, [[0.5, 0.0], [0.5, 1.0]])


def test_identical_classes_give_ratio_zero():
    rng = np.random.default_rng(0)
    one_class = rng.uniform(0, 1, (20, 16))
    # Every class holds exactly the same images: class means coincide.
    gates = np.concatenate([one_class] * 4)
    labels = np.repeat(np.arange(4), 20)
    between, within, ratio = block_specificity(gates, labels)
    assert between == pytest.approx(0.0, abs=1e-12)
    assert within > 0.1
    assert ratio == pytest.approx(0.0, abs=1e-10)


def test_same_distribution_gives_small_ratio_near_sampling_floor():
    rng = np.random.default_rng(1)
    n = 200
    gates = rng.uniform(0, 1, (5 * n, 32))
    labels = np.repeat(np.arange(5), n)
    _, _, ratio = block_specificity(gates, labels)
    assert ratio < 3 * math.sqrt(2 / n)


def test_well_separated_classes_give_large_ratio():
    rng = np.random.default_rng(2)
    centres = np.eye(4, 8) * 0.8 + 0.1
    labels = np.repeat(np.arange(4), 50)
    gates = centres[labels] + rng.normal(0, 0.01, (200, 8))
    between, within, ratio = block_specificity(gates, labels)
    # Centres differ by 0.8 in two of 8 channels: RMS distance 0.8 * sqrt(2/8) = 0.4.
    assert between == pytest.approx(0.4, rel=0.05)
    assert ratio > 20


def test_zero_within_spread():
    gates = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    assert block_specificity(gates, [0, 0, 1, 1])[2] == math.inf
    assert block_specificity(np.zeros((4, 2)), [0, 0, 1, 1])[2] == 0.0


def test_shape_errors():
    with pytest.raises(ValueError):
        class_mean_gates(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError):
        class_mean_gates(np.zeros((0, 2)), np.zeros(0))


def test_per_stage_grouping_by_name_and_by_block_info():
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(3), 30)
    agnostic = rng.uniform(0.4, 0.6, (90, 8))
    specific = np.eye(3, 8)[labels] * 0.9 + rng.normal(0, 0.02, (90, 8))
    gates = {"SE_2_1": agnostic, "SE_2_2": agnostic, "SE_3_1": specific}
    res = class_specificity(gates, labels)
    assert [s.stage for s in res.stages] == [2, 3]
    assert res.stage(2).blocks == ["SE_2_1", "SE_2_2"]
    assert res.stage(2).ratio < 0.5 < 5 < res.stage(3).ratio
    assert res.classes == [0, 1, 2] and res.counts == [30, 30, 30]
    # With BlockInfo-like objects the stage comes from them and their order wins.
    blocks = [SimpleNamespace(name="b.late", stage=7), SimpleNamespace(name="a.early", stage=1)]
    res2 = class_specificity({"a.early": agnostic, "b.late": specific}, labels, blocks)
    assert [b.name for b in res2.blocks] == ["b.late", "a.early"]
    assert res2.block("a.early").stage == 1 and [s.stage for s in res2.stages] == [7, 1]


def test_saturation_and_mean_gate():
    labels = np.array([0, 0, 1, 1])
    gates = np.array([[1.0, 0.99], [1.0, 0.5], [0.0, 0.5], [0.02, 0.5]])
    b = class_specificity({"x": gates}, labels).block("x")
    assert b.stage is None and b.channels == 2
    assert b.saturated == pytest.approx(5 / 8)
    assert b.mean_gate == pytest.approx(gates.mean())
