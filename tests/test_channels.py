"""Channel studies on the bundled mini model: the atlas over a real gate dataset, rankings, the
pruning simulator, deletion/insertion curves, and the three CLI commands' JSON."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import torch
from datasets_helpers import make_image_folder

import se_viz
from se_viz.channels import (
    ChannelMask,
    atlas_of_capture,
    channel_maps,
    chosen_channels,
    dataset_atlas,
    faithfulness_curves,
    gate_gradient_ranking,
    prune_curves,
    random_rankings,
    standard_rankings,
)
from se_viz.channels.images import generated_set, plain_set
from se_viz.channels.pruning import edited_logits
from se_viz.channels.schemas import ATLAS_SCHEMA, FAITHFULNESS_SCHEMA, PRUNE_SCHEMA
from se_viz.cli import main
from se_viz.datasets.reader import open_gate_dataset
from se_viz.figures.channels import atlas_figure, atlas_histogram, faithfulness_figure, pruning_figure

MINI = se_viz.MINI_MODEL


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model(MINI)


@pytest.fixture(scope="module")
def small(mini):
    """Twelve generated images with their gates and the standard rankings (2 random repeats)."""
    images = generated_set(mini, 12, seed=5)
    cap = se_viz.capture(mini.model, images.images, blocks=mini.blocks)
    rankings = standard_rankings(mini.model, images.images, mini.blocks, cap.gates, repeats=2)
    return images, cap, rankings


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A real gate dataset of 33 readable images in four part files (se-viz capture, local engine)."""
    folder = make_image_folder(tmp_path_factory.mktemp("ch_images") / "shapes")
    out = tmp_path_factory.mktemp("ch_gd") / "shapes.gates"
    args = ["--batch-size", "8", "--workers", "1", "--threads", "1", "--no-progress", "--rows-per-part", "10"]
    assert main(["capture", str(folder), "--model", MINI, "--out", str(out), *args]) == 0
    return out


# ------------------------------------------------------------------------------------------
# Atlas


@pytest.mark.parametrize("quantity", ["s", "z"])
def test_atlas_ranks_equal_an_independent_sort_of_the_columns(dataset, quantity):
    ds = open_gate_dataset(dataset)
    index = ds.table["index"].to_numpy()
    for block, channel in (("SE_2_1", 3), ("SE_5_2", 100)):
        values = (ds.gates(block) if quantity == "s" else ds.squeeze(block))[:, channel].astype(np.float64)
        # batch_rows=4 streams the 33 rows in many small batches across the part files
        atlas = dataset_atlas(ds, block, channel, k=5, quantity=quantity, batch_rows=4)
        top = index[np.lexsort((index, -values))[:5]]
        bottom = index[np.lexsort((index, values))[:5]]
        assert [r.index for r in atlas.top] == top.tolist()
        assert [r.index for r in atlas.bottom] == bottom.tolist()
        assert [r.rank for r in atlas.top] == [1, 2, 3, 4, 5]
        got = [getattr(r, quantity) for r in atlas.top]
        np.testing.assert_allclose(got, np.sort(values)[::-1][:5], rtol=0, atol=1e-6)
        assert atlas.num_images == len(ds) and int(atlas.histogram[0].sum()) == len(ds)
        paths = dict(zip(index.tolist(), ds.paths, strict=True))
        assert all(r.path == paths[r.index] for r in atlas.top + atlas.bottom)
        assert atlas.mean == pytest.approx(values.mean(), abs=1e-6)


def test_atlas_purity_counts_the_labels_of_the_top_k(dataset):
    ds = open_gate_dataset(dataset)
    atlas = dataset_atlas(ds, "SE_5_1", 7, k=6)
    labels = [r.label for r in atlas.top]
    assert atlas.purity.by == "label"
    assert sum(atlas.purity.counts.values()) == 6
    assert atlas.purity.purity == pytest.approx(max(labels.count(x) for x in set(labels)) / 6)


def test_overlay_of_a_top_image_equals_its_map_from_a_capture(mini, small):
    images, cap, _ = small
    block, channel = "SE_4_2", 5
    atlas = atlas_of_capture(cap, block, channel, k=3, names=images.names, class_names=mini.labels)
    rows = [r.index for r in atlas.top + atlas.bottom]
    maps = channel_maps(mini.model, images.images[rows], mini.blocks, block, channel)
    atlas.with_maps(maps[:3], maps[3:])
    fig = atlas_figure(atlas, [images.views[i] for i in rows[:3]], [images.views[i] for i in rows[3:]])
    first = atlas.top[0].index
    own = se_viz.capture(mini.model, images.images[first : first + 1], blocks=mini.blocks, maps=[block])
    overlay = next(t for t in fig.data if t.type == "heatmap")  # the first panel: rank 1 of the top row
    np.testing.assert_allclose(np.asarray(overlay.z), own.maps_in[block][0, channel], rtol=0, atol=1e-5)
    assert fig.layout.title.text.startswith(f"Channel {channel} of {block}")
    assert atlas_histogram(atlas).layout.xaxis.title.text


# ------------------------------------------------------------------------------------------
# Rankings and pruning


def test_gate_times_gradient_predicts_a_small_gate_change(mini, small):
    """s·∂log p/∂s is the first-order change of log p: a 1 % gate scaling moves log p by ~1 % of it."""
    images, _, _ = small
    x = images.images[:2]
    block = "SE_5_1"
    from se_viz.channels.rankings import _gate_gradients

    s, g = _gate_gradients(mini.model, x, mini.blocks)
    base = se_viz.capture(mini.model, x, blocks=mini.blocks)
    pred = base.logits.argmax(1)
    eps = 1e-3
    bumped = se_viz.capture(mini.model, x, blocks=mini.blocks, edits={block: lambda t: t * (1 + eps)})
    lp = torch.log_softmax(torch.from_numpy(bumped.logits).double(), 1)[[0, 1], pred]
    lp0 = torch.log_softmax(torch.from_numpy(base.logits).double(), 1)[[0, 1], pred]
    predicted = eps * (s[block] * g[block]).sum(axis=1)
    np.testing.assert_allclose((lp - lp0).numpy(), predicted, rtol=0.05, atol=1e-6)
    ranking = gate_gradient_ranking(mini.model, x, mini.blocks)
    np.testing.assert_allclose(ranking.scores[block], np.abs(s[block] * g[block]).mean(0), rtol=1e-6)


def test_pruning_nothing_equals_the_unedited_network(mini, small):
    images, cap, rankings = small
    curves = prune_curves(mini.model, images.images, rankings, mini.blocks, fractions=[0.0], batch_size=5)
    assert (curves.agreement == 1).all() and (curves.delta_logprob == 0).all()
    assert (curves.macs_removed == 0).all()
    base, logits = edited_logits(mini.model, images.images, [{}], mini.blocks, batch_size=len(images))
    np.testing.assert_array_equal(logits[0], base)
    np.testing.assert_allclose(base, cap.logits, rtol=0, atol=1e-5)  # chain vs model(): same ops


def test_the_masked_channels_are_exactly_the_chosen_ones(mini, small):
    """Hooks on each SE module see its output zero in exactly the chosen channels (prefix reuse path)."""
    images, _, rankings = small
    chosen = chosen_channels(rankings[0], 0.4, mini.blocks, scope="network")
    outputs = {}
    handles = []
    for b in mini.blocks:

        def keep(_m, _args, out, name=b.name):
            outputs[name] = out.detach().clone()

        handles.append(mini.model.get_submodule(b.path).register_forward_hook(keep))
    try:
        edited_logits(
            mini.model, images.images[:4], [{b: ChannelMask(c) for b, c in chosen.items()}], mini.blocks
        )
    finally:
        for h in handles:
            h.remove()
    assert sum(len(c) for c in chosen.values()) == int(0.4 * sum(b.channels for b in mini.blocks))
    for b in mini.blocks:
        out = outputs[b.name]
        silent = {int(c) for c in np.flatnonzero((out == 0).flatten(2).all(dim=2).all(dim=0).numpy())}
        assert silent == set(chosen.get(b.name, ())), b.name


def test_curves_are_monotone_where_they_must_be(mini, small):
    images, _, rankings = small
    fractions = [0.0, 0.3, 0.6, 0.9]
    for scope in ("block", "network"):
        sets = [[chosen_channels(r, f, mini.blocks, scope) for f in fractions] for r in rankings]
        for row in sets:  # larger fractions prune a superset of the smaller ones' channels
            for a, b in zip(row, row[1:], strict=False):
                assert all(set(a[k]) <= set(b.get(k, ())) for k in a)
    curves = prune_curves(
        mini.model, images.images, rankings, mini.blocks, labels=images.labels, fractions=fractions
    )
    assert (np.diff(curves.macs_removed, axis=1) > 0).all()
    assert curves.accuracy is not None and curves.accuracy.shape == (len(rankings), 4)
    assert curves.kinds.count("random") == 2
    table = curves.table()
    assert set(table["ranking"]) == {"mean gate", "gate × gradient", "weight L1", "random"}
    assert {"agreement_min", "agreement_max"} <= set(table.columns)
    fig = pruning_figure(curves, "top-1 accuracy", x_axis="macs")
    assert fig.layout.xaxis.title.text == "multiply-adds removed (% of the network)"

    faith = faithfulness_curves(mini.model, images.images[:6], rankings, mini.blocks, block="SE_5_2", steps=3)
    full = np.exp(se_viz.capture(mini.model, images.images[:6], blocks=mini.blocks).logits.astype(np.float64))
    p0 = (full / full.sum(1, keepdims=True)).max(1).mean()
    # nothing deleted and everything inserted are the unedited network; all deleted = none inserted
    np.testing.assert_allclose(faith.deletion[:, 0], p0, rtol=1e-5)
    np.testing.assert_allclose(faith.insertion[:, -1], p0, rtol=1e-5)
    np.testing.assert_allclose(faith.deletion[:, -1], faith.insertion[:, 0], rtol=1e-6)
    assert faith.table()["deletion_vs_random"].iloc[-1] == pytest.approx(0.0)
    assert len(faithfulness_figure(faith).data) > 0


def test_random_rankings_are_seeded_and_differ_between_repeats(mini):
    a = random_rankings(mini.blocks, repeats=5, seed=3)
    b = random_rankings(mini.blocks, repeats=5, seed=3)
    assert len(a) == 5
    np.testing.assert_array_equal(a[2].order("SE_3_1"), b[2].order("SE_3_1"))
    assert not np.array_equal(a[0].order("SE_3_1"), a[1].order("SE_3_1"))


def test_plain_drawings_are_a_labelled_set(mini):
    drawings = plain_set(mini, 4)
    assert len(drawings) == 4 and drawings.has_labels and drawings.views[0].shape == (64, 64, 3)


# ------------------------------------------------------------------------------------------
# The command line


def _json(argv: list[str]) -> dict:
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(argv) == 0
    return json.loads(buf.getvalue())


def test_atlas_cli_json_and_html(dataset, tmp_path):
    html = tmp_path / "atlas.html"
    doc = _json(
        [
            "atlas",
            str(dataset),
            "--block",
            "SE_3_2",
            "--channel",
            "4",
            "--k",
            "3",
            "--json",
            "--html",
            str(html),
        ]
    )
    jsonschema.validate(doc, ATLAS_SCHEMA)
    assert [r["rank"] for r in doc["top"]] == [1, 2, 3]
    assert [r["s"] for r in doc["top"]] == sorted((r["s"] for r in doc["top"]), reverse=True)
    assert doc["top"][0]["s"] >= doc["bottom"][0]["s"]
    page = html.read_text()
    assert "plotly" in page and "Channel 4 of" in page
    assert main(["atlas", str(dataset), "--block", "SE_9_9", "--channel", "0"]) == 2


def test_prune_and_faithfulness_cli_json():
    doc = _json(
        [
            "prune",
            "generated",
            "-n",
            "6",
            "--fractions",
            "0",
            "0.5",
            "--repeats",
            "2",
            "--scope",
            "network",
            "--json",
        ]
    )
    jsonschema.validate(doc, PRUNE_SCHEMA)
    assert doc["fractions"] == [0.0, 0.5] and doc["images"] == 6 and doc["scope"] == "network"
    assert all(c["agreement"][0] == 1.0 for c in doc["curves"])
    doc = _json(
        ["faithfulness", "plain", "-n", "4", "--block", "SE_5_2", "--steps", "3", "--repeats", "2", "--json"]
    )
    jsonschema.validate(doc, FAITHFULNESS_SCHEMA)
    assert doc["results"][0]["block"] == "SE_5_2" and len(doc["results"][0]["x"]) == 3
