"""Many-image figures draw exactly the numbers the analysis computed, with titles and units."""

from __future__ import annotations

import math

import numpy as np
import pytest
from random_captures import random_capture

from se_viz import figures as F
from se_viz.analysis import (
    channel_subset,
    class_profiles,
    class_specificity,
    gate_pca,
    pairwise_block_distances,
    saturation_table,
)


def _axis_titles(fig) -> list[str]:
    layout = fig.to_plotly_json()["layout"]
    return [
        v["title"]["text"]
        for k, v in layout.items()
        if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict) and v.get("title", {}).get("text")
    ]


@pytest.fixture(scope="module")
def cap():
    # Two stages of two widths, 12 images of 3 classes.
    return random_capture(((2, 8), (2, 80)), n=12, num_classes=3, seed=1)


@pytest.fixture(scope="module")
def labels():
    return np.array(["a", "b", "c"] * 4, dtype=object)


def test_compare_heatmaps_show_every_gate_and_the_difference(cap):
    fig = F.compare_heatmaps(cap, [3, 5], names=[f"img{i}" for i in range(12)])
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2 * 3  # two stage panels × (two images + difference)
    # Panel 1 (stage 2): image 3, image 5, then s5 − s3, every channel at full resolution.
    assert np.array_equal(np.asarray(heat[0].z), np.stack([cap.gates["SE_2_1"][3], cap.gates["SE_2_2"][3]]))
    assert np.array_equal(np.asarray(heat[1].z), np.stack([cap.gates["SE_2_1"][5], cap.gates["SE_2_2"][5]]))
    diff = np.stack([cap.gates[b][5].astype(np.float64) - cap.gates[b][3] for b in ("SE_2_1", "SE_2_2")])
    assert np.allclose(np.asarray(heat[2].z), diff)
    assert np.asarray(heat[3].z).shape == (2, 80)
    layout = fig.layout
    assert (layout.coloraxis.cmin, layout.coloraxis.cmax) == (0.0, 1.0)
    top = max(
        abs(d).max() for d in [cap.gates[b][5].astype(np.float64) - cap.gates[b][3] for b in cap.block_names]
    )
    assert layout.coloraxis2.cmin == pytest.approx(-top) and layout.coloraxis2.cmax == pytest.approx(top)
    assert [a.text for a in layout.annotations][:3] == ["img3", "img5", "difference s₂ − s₁"]
    assert "channel index" in _axis_titles(fig) and "SE block" in _axis_titles(fig)
    # Three images: the spread max − min on a 0… scale.
    three = F.compare_heatmaps(cap, [0, 1, 2])
    spread = np.asarray([t for t in three.data if t.type == "heatmap"][3].z)
    g = np.stack(
        [
            cap.gates["SE_2_1"][[0, 1, 2]].max(0) - cap.gates["SE_2_1"][[0, 1, 2]].min(0),
            cap.gates["SE_2_2"][[0, 1, 2]].max(0) - cap.gates["SE_2_2"][[0, 1, 2]].min(0),
        ]
    )
    assert np.allclose(spread, g) and three.layout.coloraxis2.cmin == 0.0
    with pytest.raises(ValueError):
        F.compare_heatmaps(cap, [0])
    with pytest.raises(ValueError):
        F.compare_heatmaps(cap, [0, 1, 2, 3, 4])


def test_distance_figure_lines_are_the_table(cap):
    table = pairwise_block_distances(cap.gates, [0, 1, 2])
    fig = F.distance_figure(table)
    assert len(fig.data) == 3 * 2  # three pairs, cosine and L1 each
    first = [t for t in fig.data if t.name == "image 0 ↔ image 1"]
    rows = table[table.pair == "image 0 ↔ image 1"].sort_values("depth")
    assert list(first[0].x) == cap.block_names
    assert np.allclose(first[0].y, rows.cosine) and np.allclose(first[1].y, rows.l1)
    titles = _axis_titles(fig)
    assert "cosine distance (0–1)" in titles and "mean |Δs| (gate units, 0–1)" in titles
    assert "SE block (input → output)" in titles


def test_class_profile_figure_is_fig6(cap, labels):
    prof = class_profiles(cap.gates, labels)
    fig = F.class_profile_figure(prof, ["SE_2_2", "SE_3_2"], subset=5)
    # Per panel: one line per class and the all-images reference.
    assert [t.name for t in fig.data[:4]] == ["a", "b", "c", "all images"]
    idx = channel_subset(80, 5)
    line_b = fig.data[4 + 1]  # second panel, class "b"
    assert line_b.name == "b"
    assert np.allclose(line_b.y, prof["SE_3_2"].mean[1, idx]) and list(line_b.customdata) == idx.tolist()
    assert np.allclose(fig.data[7].y, cap.gates["SE_3_2"][:, idx].astype(np.float64).mean(0))
    assert fig.data[3].line.dash == "dash"
    assert np.allclose(fig.data[0].y, prof["SE_2_2"].mean[0, channel_subset(8, 5)])
    assert [a.text for a in fig.layout.annotations][:2] == [
        "SE_2_2 · 5 of 8 channels",
        "SE_3_2 · 5 of 80 channels",
    ]
    assert F.class_profile_figure(prof, ["SE_2_2"]).layout.annotations[0].text == "SE_2_2 · all 8 channels"
    assert "mean gate s (0–1)" in _axis_titles(fig)
    assert "Fig. 6" in fig.layout.title.text
    # 8 channels, fewer than the default 50: all are drawn, on "channel index".
    full = F.class_profile_figure(prof, ["SE_2_2"])
    assert np.allclose(full.data[0].y, prof["SE_2_2"].mean[0]) and "channel index" in _axis_titles(full)
    # At most max_classes lines per panel, and the title says so.
    few = F.class_profile_figure(prof, ["SE_3_2"], max_classes=2)
    assert len(few.data) == 3 and "2 largest of 3 classes" in few.layout.title.text


def test_class_band_figure_is_fig7(cap, labels):
    prof = class_profiles(cap.gates, labels)
    fig = F.class_band_figure(prof, "c", ["SE_3_1"], subset=10)
    idx = channel_subset(80, 10)
    hi, lo, mean, ref = fig.data
    m, s = prof["SE_3_1"].mean[2, idx], prof["SE_3_1"].std[2, idx]
    assert np.allclose(mean.y, m)
    assert np.allclose(hi.y, np.clip(m + s, 0, 1)) and np.allclose(lo.y, np.clip(m - s, 0, 1))
    assert lo.fill == "tonexty" and np.allclose(ref.y, prof["SE_3_1"].overall[idx])
    assert "n = 4 images" in fig.layout.title.text and "gate s (0–1)" in _axis_titles(fig)
    with pytest.raises(KeyError):
        F.class_band_figure(prof, "zzz", ["SE_3_1"])


def test_specificity_figure_shows_the_measure(cap, labels):
    result = class_specificity(cap.gates, labels, cap.blocks)
    fig = F.specificity_figure(result)
    ratio, between, within = fig.data
    assert list(ratio.x) == cap.block_names
    assert np.allclose(ratio.y, [b.ratio for b in result.blocks])
    assert np.allclose(between.y, [b.between for b in result.blocks])
    assert np.allclose(within.y, [b.within for b in result.blocks])
    floor = [s for s in fig.layout.shapes if s.line.dash == "dot"][0]
    assert floor.y0 == pytest.approx(math.sqrt(2 / 4))  # four images per class
    assert "between / within (ratio)" in _axis_titles(fig)


def test_saturation_figure_shows_the_table():
    cap = random_capture(((1, 4), (1, 4)), n=3)
    cap.gates["SE_3_1"][:] = 0.97  # a block close to identity
    table = saturation_table(cap.gates)
    fig = F.saturation_figure(table)
    above, below, gap = fig.data
    assert np.allclose(above.y, table["frac_above_0.9"]) and np.allclose(below.y, table["frac_below_0.1"])
    assert np.allclose(gap.y, table["gap"]) and gap.y[1] == pytest.approx(0.03, abs=1e-6)
    assert [a.text for a in fig.layout.annotations] == ["≈ identity"]
    assert fig.layout.annotations[0].x == "SE_3_1"
    assert "fraction of gate values / 1 − mean (0–1)" in _axis_titles(fig)


def test_pca_figure_points_are_the_coordinates(cap, labels):
    pca = gate_pca(cap.gates["SE_3_1"])
    fig = F.pca_figure(pca, labels, names=[f"n{i}" for i in range(12)], where="SE_3_1", highlight=4)
    a = fig.data[0]
    assert a.name == "a (4)" and list(a.text) == ["n0", "n3", "n6", "n9"]
    assert np.allclose(a.x, pca.coords[[0, 3, 6, 9], 0]) and np.allclose(a.y, pca.coords[[0, 3, 6, 9], 1])
    assert fig.data[-1].x[0] == pytest.approx(pca.coords[4, 0])
    assert fig.layout.xaxis.title.text == f"PC 1 ({pca.explained[0]:.0%} of variance)"
    assert fig.data[0].type == "scatter"


def test_paper_captions_state_the_findings():
    assert "class-agnostic" in F.PAPER_FIG6 and "class-specific" in F.PAPER_FIG6
    assert "SE_5_2" in F.PAPER_FIG6 and "identity" in F.PAPER_FIG6 and "SE_5_3" in F.PAPER_FIG6
    assert "Fig. 7" in F.PAPER_FIG7 and "SE_5_2" in F.PAPER_SATURATION
    assert "0.1 % top-5" in F.PAPER_PRUNING and "depth" in F.PAPER_SPECIFICITY
    assert F.GATE_COLORSCALE == "Viridis"
