"""Many-image analysis against values computed by hand on small arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from random_captures import R50_LAYOUT, random_capture

import se_viz
from se_viz import analysis as A
from se_viz.analysis import (
    DISTANCE_COLUMNS,
    NO_FOLDER,
    SATURATION_COLUMNS,
    channel_subset,
    class_profiles,
    class_specificity,
    cosine_distances,
    gate_difference,
    gate_pca,
    gate_vectors,
    groups_from_folders,
    groups_from_predictions,
    groups_from_prefixes,
    nearest_images,
    pairwise_block_distances,
    paper_blocks,
    saturation_sentences,
    saturation_table,
    vector_scopes,
)
from se_viz.demo.gate_set import demo_gate_set


def _block(name, channels, paper=True, index=0):
    return se_viz.BlockInfo(
        name=name,
        path=f"p.{name}",
        channels=channels,
        reduced=1,
        gate_kind="sigmoid",
        paper_name=name if paper else None,
        reduce_path="r",
        gate_path="g",
        module_type="SE",
        index=index,
    )


# --------------------------------------------------------------------------------------------
# compare


def test_cosine_distances_by_hand():
    d = cosine_distances(np.array([[1.0, 0], [0, 1], [1, 1], [0, 0], [0, 0]]))
    assert d[0, 1] == pytest.approx(1.0)
    assert d[0, 2] == pytest.approx(1 - 1 / math.sqrt(2))
    assert d[0, 3] == 1.0 and d[3, 4] == 0.0  # zero rows: unrelated to others, alike each other
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    # One row of the matrix is the same as the row of the full matrix.
    assert np.allclose(
        cosine_distances(np.array([[1.0, 0], [0, 1], [1, 1], [0, 0]]), query=2),
        [1 - 1 / math.sqrt(2), 1 - 1 / math.sqrt(2), 0, 1],
    )


def test_pairwise_block_distances_by_hand():
    gates = {
        "A": np.array([[0.2, 0.4], [0.4, 0.8], [0.8, 0.2]], dtype=np.float32),
        "B": np.array([[0.5, 0.5], [0.5, 0.5], [0.1, 0.9]], dtype=np.float32),
    }
    t = pairwise_block_distances(gates, [0, 1, 2], names=["x", "y", "z"])
    assert tuple(t.columns) == DISTANCE_COLUMNS
    assert len(t) == 3 * 2  # three pairs × two blocks
    row = t[(t.pair == "x ↔ y") & (t.block == "A")].iloc[0]
    assert row.cosine == pytest.approx(0.0, abs=1e-7)  # proportional gates: same pattern
    assert row.l1 == pytest.approx((0.2 + 0.4) / 2, abs=1e-6)
    row = t[(t.pair == "x ↔ z") & (t.block == "A")].iloc[0]
    assert row.cosine == pytest.approx(1 - 0.24 / math.sqrt(0.2 * 0.68), abs=1e-6)
    assert row.l1 == pytest.approx(0.4, abs=1e-6)
    row = t[(t.pair == "x ↔ y") & (t.block == "B")].iloc[0]
    assert row.cosine == pytest.approx(0.0, abs=1e-7) and row.l1 == pytest.approx(0.0, abs=1e-7)
    assert t[t.pair == "y ↔ z"]["depth"].tolist() == [0, 1]
    with pytest.raises(ValueError, match="at least two"):
        pairwise_block_distances(gates, [1])
    with pytest.raises(IndexError):
        pairwise_block_distances(gates, [0, 7])


def test_gate_difference_two_and_more():
    g = np.array([[0.2, 0.4], [0.4, 0.8], [0.8, 0.2]])
    assert np.allclose(gate_difference(g[:2]), [0.2, 0.4])  # s2 − s1, signed
    assert np.allclose(gate_difference(g[[1, 0]]), [-0.2, -0.4])
    assert np.allclose(gate_difference(g), [0.6, 0.6])  # spread max − min
    with pytest.raises(ValueError):
        gate_difference(g[:1])


# --------------------------------------------------------------------------------------------
# groups


def test_groups_from_prefixes_folders_predictions():
    names = [
        "pug_01.jpg",
        "pug-2.png",
        "pug (3).jpg",
        "pug4.jpg",
        "golden_retriever_7.jpeg",
        "plane.png",
        "dir/cliff 12.JPG",
        "0001.jpg",
    ]
    assert groups_from_prefixes(names).tolist() == [
        "pug",
        "pug",
        "pug",
        "pug",
        "golden_retriever",
        "plane",
        "cliff",
        "0001",
    ]
    assert groups_from_prefixes(["pug.a.jpg", "cat-b.png"], separator=".").tolist() == ["pug", "cat-b"]
    assert groups_from_folders(["pug/1.jpg", "photos/plane/2.png", "x.jpg", "a\\b\\c.jpg"]).tolist() == [
        "pug",
        "plane",
        NO_FOLDER,
        "b",
    ]
    logits = np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    assert groups_from_predictions(logits, ["a", "b"]).tolist() == ["b", "a", "class 2"]


def test_class_profiles_by_hand():
    gates = {"A": np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])}
    p = class_profiles(gates, ["x", "x", "y"])["A"]
    assert p.classes.tolist() == ["x", "y"] and p.counts.tolist() == [2, 1]
    assert np.allclose(p.mean, [[1, 2], [4, 5]])
    assert np.allclose(p.std, [[1, 1], [0, 0]])  # population std: |0 − 1| = |2 − 1| = 1
    assert np.allclose(p.overall, [2, 3])  # mean over all images, not over class means
    assert p.of("y") == 1
    with pytest.raises(KeyError):
        p.of("z")


def test_paper_blocks_resnet50_and_fallback():
    blocks = random_capture(R50_LAYOUT, n=2).blocks
    assert paper_blocks(blocks) == ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]
    # No paper names (EfficientNet-like): runs of equal width play the stages.
    widths = [16, 16, 24, 24, 24, 40, 40]
    eff = [_block(f"b{i}", w, paper=False, index=i) for i, w in enumerate(widths)]
    assert paper_blocks(eff) == ["b1", "b4", "b5", "b6"]
    assert paper_blocks([]) == []


def test_channel_subset_fixed_and_uniform():
    a = channel_subset(2048)
    assert a.size == 50 and np.unique(a).size == 50 and np.all(np.diff(a) > 0)
    assert 0 <= a.min() and a.max() < 2048
    assert np.array_equal(a, channel_subset(2048))  # fixed seed: same channels every run
    assert not np.array_equal(a, channel_subset(2048, seed=1))
    assert np.array_equal(channel_subset(30), np.arange(30))  # fewer channels than 50: all
    assert np.array_equal(channel_subset(256, None), np.arange(256))
    # Uniform: over many seeds every channel is drawn about equally often (50/100 of the time).
    hits = np.bincount(np.concatenate([channel_subset(100, 50, s) for s in range(400)]), minlength=100)
    assert hits.min() > 140 and hits.max() < 260


# --------------------------------------------------------------------------------------------
# saturation


def test_saturation_table_by_hand():
    gates = {
        "A": np.array([[0.95, 0.05], [0.92, 0.99]]),  # mean 0.7275, 3/4 above 0.9: not identity
        "B": np.array([[0.95, 0.97], [0.93, 0.85]]),  # mean 0.925, 3/4 above 0.9: identity
        "C": np.full((2, 2), 0.9),  # mean 0.9 but none strictly above 0.9
    }
    t = saturation_table(gates)
    assert tuple(t.columns) == SATURATION_COLUMNS
    a, b, c = (t.iloc[i] for i in range(3))
    assert a["frac_above_0.9"] == 0.75 and a["frac_below_0.1"] == 0.25
    assert a["mean"] == pytest.approx(0.7275) and a["gap"] == pytest.approx(0.2725)
    assert [bool(x) for x in t["near_identity"]] == [False, True, False]
    assert c["frac_above_0.9"] == 0.0
    words = saturation_sentences(t)
    assert len(words) == 1 and words[0].startswith("B: 75% of its gates are above 0.9")
    assert "close to identity" in words[0] and "0.93" in words[0]
    none = saturation_sentences(saturation_table({"A": gates["A"]}))
    assert none[0].startswith("No block is close to identity") and "A" in none[0]


# --------------------------------------------------------------------------------------------
# neighbours


def test_nearest_images_by_hand():
    v = np.array([[1.0, 0], [1, 0.1], [0, 1], [1, 1]])
    t = nearest_images(v, 0, k=2, names=list("abcd"))
    assert t["image"].tolist() == [1, 3] and t["name"].tolist() == ["b", "d"]
    assert t["distance"].tolist() == pytest.approx([1 - 1 / math.sqrt(1.01), 1 - 1 / math.sqrt(2)])
    assert nearest_images(v, 0, k=10)["image"].tolist() == [1, 3, 2]  # clipped to N − 1, no self
    ties = nearest_images(np.array([[1.0, 0], [2, 0], [3, 0]]), 2, k=2)
    assert ties["image"].tolist() == [0, 1]  # equal distances: by index


def test_gate_vectors_and_scopes():
    cap = random_capture(((2, 3), (1, 4)), n=5)
    v = gate_vectors(cap.gates, ["SE_2_1", "SE_3_1"])
    assert v.shape == (5, 7) and np.allclose(v[:, 3:], cap.gates["SE_3_1"])
    scopes = vector_scopes(cap.blocks)
    assert list(scopes)[:2] == ["stage 2 (2 blocks)", "stage 3 (1 block)"]
    assert scopes["stage 2 (2 blocks)"] == ["SE_2_1", "SE_2_2"] and scopes["SE_3_1"] == ["SE_3_1"]
    flat = vector_scopes([_block("a", 4, paper=False), _block("b", 4, paper=False, index=1)])
    assert list(flat) == ["all blocks (2)", "a", "b"]


def test_gate_pca_by_hand():
    # Variance 8 along x, 2 along y (per sum of squares): explained 0.8 and 0.2.
    p = gate_pca(np.array([[2.0, 0], [-2, 0], [0, 1], [0, -1]]))
    assert p.explained.tolist() == pytest.approx([0.8, 0.2])
    assert np.allclose(p.components, [[1, 0], [0, 1]])
    assert np.allclose(p.coords, [[2, 0], [-2, 0], [0, 1], [0, -1]])
    # Points on a line (more dimensions than points): one axis, along (1, 1)/√2, sign fixed.
    line = gate_pca(np.array([[0.0, 0, 5], [1, 1, 5], [2, 2, 5], [3, 3, 5]]))
    assert line.explained.tolist() == pytest.approx([1.0, 0.0])
    assert np.allclose(line.components[0], [1 / math.sqrt(2), 1 / math.sqrt(2), 0])
    assert np.allclose(line.coords[:, 0], np.array([-1.5, -0.5, 0.5, 1.5]) * math.sqrt(2))
    assert np.allclose(line.coords[:, 1], 0)
    # Wide data (N < D) gives the same map as the SVD of the centred data, up to sign.
    x = np.random.default_rng(0).random((6, 20))
    u, s, _ = np.linalg.svd(x - x.mean(0), full_matrices=False)
    wide = gate_pca(x)
    assert np.allclose(np.abs(wide.coords), np.abs(u[:, :2] * s[:2]))
    assert wide.explained.tolist() == pytest.approx((s[:2] ** 2 / (s**2).sum()).tolist())
    flat = gate_pca(np.ones((3, 4)))
    assert np.all(flat.coords == 0) and np.all(flat.explained == 0)


# --------------------------------------------------------------------------------------------
# the offline demonstration


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model("se_resnet_mini.synthetic")


def test_demo_gate_set_batches_and_class_structure(mini):
    passes = []
    handle = mini.model.register_forward_pre_hook(lambda *_: passes.append(1))
    calls = []
    try:
        gs = demo_gate_set(mini, per_class=6, batch_size=25, progress=lambda d, n: calls.append((d, n)))
    finally:
        handle.remove()
    n = 6 * 10
    assert gs.capture.num_images == n and len(gs.names) == n and len(gs.thumbnails) == n
    assert len(passes) == math.ceil(n / 25)  # three batches, three passes
    assert calls == [(0, n), (25, n), (50, n), (60, n)]
    assert sorted(set(gs.labels)) == sorted(se_viz.demo.synthetic.CLASSES)
    assert groups_from_prefixes(gs.names).tolist() == gs.labels.tolist()  # names carry the class
    assert gs.thumbnails[0][:8] == b"\x89PNG\r\n\x1a\n"
    # The trained mini model recognises its own classes, and its gates are class-specific.
    assert np.mean(groups_from_predictions(gs.capture.logits, mini.labels) == gs.labels) > 0.9
    spec = class_specificity(gs.capture.gates, gs.labels, gs.capture.blocks)
    # The mini model's first block is the least class-specific (on these 60 images ≈ 0.9 for the
    # earlier weights, ≈ 1.1 for the current ones; the card's 1000 give ≈ 1), less than half the
    # most specific block, and every later block separates the classes — the paper's "early
    # blocks class-agnostic, later class-specific".
    ratios = [b.ratio for b in spec.blocks]
    assert ratios[0] == min(ratios) and ratios[0] < 0.5 * max(ratios)
    assert all(r > 1 for r in ratios[1:])
    # Images recalibrated alike share a class: at the stage whose gates are most class-specific
    # (stage 4 for the current weights; the earlier weights were asserted at stage 5) most nearest
    # images are of the query's class (chance: 1 in 10).
    stages = list(vector_scopes(gs.capture.blocks).values())[:4]
    best = max(range(4), key=lambda i: spec.stages[i].ratio)
    v = gate_vectors(gs.capture.gates, stages[best])
    same = [np.mean(gs.labels[nearest_images(v, q, 3)["image"]] == gs.labels[q]) for q in range(n)]
    assert np.mean(same) > 0.5


def test_docs_notebook_example_runs():
    """The library guide's notebook example runs as written (offline, mini model)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "docs" / "library.md").read_text(encoding="utf-8")
    section = readme.split("## Many images in a notebook", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    scope: dict = {}
    exec(compile(blocks[0], "docs/library.md", "exec"), scope)
    assert scope["cap"].num_images == 100 and len(scope["figs"]) == 7
    assert scope["blocks"] == ["SE_2_2", "SE_3_2", "SE_4_2", "SE_5_1", "SE_5_2"]
    assert all(f.layout.title.text for f in scope["figs"])


def test_group_options_are_the_same_choices_for_images_and_datasets():
    """The image views and the gate-dataset view offer one list of groupings, in one order."""
    names = ["pug/pug_01.jpg", "pug/pug_02.jpg", "cat/cat_1.png"]
    options = A.group_options(names, ["dog", "dog", "cat"], labels=[0, 0, 1])
    assert list(options) == [A.GIVEN_LABELS, "predicted class", "file-name prefix", "folder"]
    assert options["folder"].tolist() == ["pug", "pug", "cat"]
    assert options[A.GIVEN_LABELS].tolist() == ["0", "0", "1"]
    plain = A.group_options(["a_1.jpg", "b_2.jpg"], ["x", "y"])
    assert list(plain) == ["predicted class", "file-name prefix"]
