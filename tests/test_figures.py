"""Tests for se_viz.figures: the figures show exactly the captured numbers, labelled and scaled."""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import se_viz
from se_viz import analysis as A
from se_viz import figures as F
from se_viz.engine.blocks import BlockInfo
from se_viz.engine.capture import Capture

R50_WIDTHS = [256, 512, 1024, 2048]
EFF_MAP_BLOCK = "blocks.2.0.se"


@pytest.fixture(scope="module")
def cap(legacy_r50, sample_images):
    """Two real photos through the untrained legacy SE-ResNet-50, with SE_3_1's maps."""
    return se_viz.capture(legacy_r50.model, legacy_r50.preprocess(sample_images[:2]), maps=["SE_3_1"])


@pytest.fixture(scope="module")
def cap_eff(sample_images):
    """A non-ResNet model: untrained EfficientNet-B0, block names are module paths, no stages."""
    lm = se_viz.load_model("efficientnet_b0", pretrained=False)
    return se_viz.capture(lm.model, lm.preprocess(sample_images[:1]), maps=[EFF_MAP_BLOCK])


@pytest.fixture(scope="module")
def cap_154() -> Capture:
    """A capture shaped like SENet-154 (50 blocks: 3/8/36/3 × 256…2048), random gates."""
    rng = np.random.default_rng(1)
    blocks, gates, squeeze = [], {}, {}
    for stage, (n, c) in enumerate(zip([3, 8, 36, 3], R50_WIDTHS, strict=True), start=2):
        for b in range(n):
            name, path = f"SE_{stage}_{b + 1}", f"layer{stage - 1}.{b}.se_module"
            blocks.append(
                BlockInfo(
                    name,
                    path,
                    c,
                    c // 16,
                    "sigmoid",
                    name,
                    f"{path}.fc1",
                    f"{path}.sigmoid",
                    "SEModule",
                    len(blocks),
                )
            )
            gates[name] = rng.random((1, c), dtype=np.float32)
            squeeze[name] = rng.normal(size=(1, c)).astype(np.float32)
    return Capture(blocks, gates, squeeze, rng.normal(size=(1, 1000)).astype(np.float32))


def _runs(widths: list[int]) -> list[int]:
    """Lengths of runs of equal consecutive values, recomputed independently of the code."""
    out: list[int] = []
    for i, w in enumerate(widths):
        if i and w == widths[i - 1]:
            out[-1] += 1
        else:
            out.append(1)
    return out


def _axis_title(axis) -> str:
    return axis.title.text or ""


def _all_axis_titles(fig: go.Figure) -> list[str]:
    layout = fig.layout.to_plotly_json()
    return [
        v.get("title", {}).get("text", "")
        for k, v in layout.items()
        if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict)
    ]


# ---------------------------------------------------------------------------------------------
# gate_heatmap


def test_heatmap_has_one_panel_per_stage_with_that_stages_width(cap):
    fig = F.gate_heatmap(cap)
    assert [type(t) for t in fig.data] == [go.Heatmap] * 4
    assert [t.z.shape for t in fig.data] == [(3, 256), (4, 512), (6, 1024), (3, 2048)]
    for k, (trace, width) in enumerate(zip(fig.data, R50_WIDTHS, strict=True), start=1):
        xaxis = fig.layout[f"xaxis{'' if k == 1 else k}"]
        assert tuple(xaxis.range) == (-0.5, width - 0.5)
        assert trace.xaxis == f"x{'' if k == 1 else k}"
    assert [a.text.split(" · ")[0] for a in fig.layout.annotations] == [
        "stage 2",
        "stage 3",
        "stage 4",
        "stage 5",
    ]


def test_heatmap_values_are_the_captured_gates_and_squeeze(cap):
    fig = F.gate_heatmap(cap, image=1)
    labels = [y for t in fig.data for y in t.y]
    assert labels[0] == "SE_2_1 · layer1.0.se_module"
    assert labels == [f"{b.paper_name} · {b.path}" for b in cap.blocks]
    rows = [
        (row, custom)
        for t in fig.data
        for row, custom in zip(np.asarray(t.z), np.asarray(t.customdata), strict=True)
    ]
    for b, (row, custom) in zip(cap.blocks, rows, strict=True):
        assert np.array_equal(row, cap.gates[b.name][1])
        assert np.array_equal(custom[:, 0], np.arange(b.channels))
        assert np.array_equal(custom[:, 1], cap.squeeze[b.name][1])
    # Image 1 really differs from image 0 (the index is honoured).
    assert not np.array_equal(np.asarray(F.gate_heatmap(cap, image=0).data[0].z), np.asarray(fig.data[0].z))


@pytest.mark.parametrize("sort", ["gate ↓", "gate ↑"])
def test_sorted_heatmap_rows_are_sorted_and_hover_keeps_true_channels(cap, sort):
    fig = F.gate_heatmap(cap, sort=sort)
    rows = [
        (row, custom)
        for t in fig.data
        for row, custom in zip(np.asarray(t.z), np.asarray(t.customdata), strict=True)
    ]
    for b, (row, custom) in zip(cap.blocks, rows, strict=True):
        diffs = np.diff(row)
        assert np.all(diffs <= 0) if sort == "gate ↓" else np.all(diffs >= 0)
        channels = custom[:, 0].astype(int)
        assert sorted(channels.tolist()) == list(range(b.channels))
        assert np.array_equal(row, cap.gates[b.name][0][channels])
        assert np.array_equal(custom[:, 1], cap.squeeze[b.name][0][channels])
    assert "rank" in _axis_title(fig.layout[f"xaxis{len(fig.data)}"])
    assert "rank" in fig.data[0].hovertemplate


def test_heatmap_colour_scale_titles_and_hover(cap):
    fig = F.gate_heatmap(cap)
    assert fig.layout.template == pio.templates["plotly_white"]
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 1.0)
    # Viridis: dark purple at 0, yellow at 1 (perceptually uniform).
    scale = fig.layout.coloraxis.colorscale
    assert (scale[0][1].lower(), scale[-1][1].lower()) == ("#440154", "#fde725")
    assert all(t.coloraxis == "coloraxis" for t in fig.data)
    assert "gate s" in fig.layout.coloraxis.colorbar.title.text
    assert fig.layout.title.text and "gate" in fig.layout.title.text.lower()
    assert _axis_title(fig.layout[f"xaxis{len(fig.data)}"]) == "channel index"
    assert _axis_title(fig.layout.yaxis) == "SE block"
    for t in fig.data:
        for part in ("%{y}", "channel %{customdata[0]", "s = %{z:.3f}", "z = %{customdata[1]:.3f}"):
            assert part in t.hovertemplate
    assert fig.layout.font.size >= 12


def test_heatmap_rejects_an_unknown_sort(cap):
    with pytest.raises(ValueError):
        F.gate_heatmap(cap, sort="shuffle")


def test_heatmap_of_a_model_without_stages_groups_by_channel_count(cap_eff):
    fig = F.gate_heatmap(cap_eff)
    widths = [b.channels for b in cap_eff.blocks]
    assert all(b.stage is None for b in cap_eff.blocks)
    assert [t.z.shape[0] for t in fig.data] == _runs(widths)
    assert [t.z.shape[1] for t in fig.data] == [widths[sum(_runs(widths)[:k])] for k in range(len(fig.data))]
    labels = [y for t in fig.data for y in t.y]
    assert labels == [b.path for b in cap_eff.blocks]  # no paper name: the module path alone
    row = np.asarray(fig.data[-1].z)[-1]
    assert np.array_equal(row, cap_eff.gates[cap_eff.blocks[-1].name][0])


def test_heatmap_height_grows_with_the_number_of_blocks(cap, cap_154):
    small, big = F.gate_heatmap(cap), F.gate_heatmap(cap_154)
    assert [t.z.shape[0] for t in big.data] == [3, 8, 36, 3]
    assert big.layout.height > small.layout.height + 400
    # Every block row still gets at least ~15 px, so 50 rows stay legible.
    assert big.layout.height / 50 >= 15


# ---------------------------------------------------------------------------------------------
# distribution_figure


@pytest.mark.parametrize(
    "kind,trace_type", [("violin", go.Violin), ("box", go.Box), ("histogram", go.Histogram)]
)
@pytest.mark.parametrize("quantity", ["s", "z"])
def test_distribution_has_one_trace_per_block_with_its_values(cap, kind, trace_type, quantity):
    fig = F.distribution_figure(cap, image=1, quantity=quantity, kind=kind)
    source = cap.gates if quantity == "s" else cap.squeeze
    assert len(fig.data) == len(cap.blocks) == 16
    assert all(isinstance(t, trace_type) for t in fig.data)
    assert [t.name for t in fig.data] == cap.block_names
    for t, b in zip(fig.data, cap.blocks, strict=True):
        assert np.array_equal(np.asarray(t.x), source[b.name][1])
    unit = "gate s (0–1)" if quantity == "s" else "squeeze z (mean activation)"
    titles = _all_axis_titles(fig)
    assert unit in titles
    if kind == "histogram":
        # One row per block, labelled with the block names top to bottom, on one shared y range.
        ys = [fig.layout[f"yaxis{'' if k == 1 else k}"] for k in range(1, 17)]
        assert [_axis_title(y) for y in ys] == cap.block_names
        assert len({tuple(y.range) for y in ys}) == 1
        tops = [y.domain[1] for y in ys]
        assert tops == sorted(tops, reverse=True)
        assert all(t.histnorm == "percent" for t in fig.data)
    else:
        assert fig.layout.yaxis.title.text.startswith("SE block")
        assert list(fig.layout.yaxis.categoryarray) == cap.block_names
        assert fig.layout.yaxis.autorange == "reversed"
    if quantity == "s" and kind != "histogram":
        assert tuple(fig.layout.xaxis.range) == (0, 1)


def test_distribution_rejects_unknown_options(cap):
    with pytest.raises(ValueError):
        F.distribution_figure(cap, quantity="w")
    with pytest.raises(ValueError):
        F.distribution_figure(cap, kind="pie")


# ---------------------------------------------------------------------------------------------
# One block


def test_gate_bar_shows_the_blocks_gates(cap):
    narrow = F.gate_bar(cap, "SE_3_1", image=1)
    (bar,) = narrow.data
    assert isinstance(bar, go.Bar) and np.array_equal(np.asarray(bar.y), cap.gates["SE_3_1"][1])
    fig = F.gate_bar(cap, "SE_4_2", image=1)  # 1024 channels: the light drawing, same values
    bar = fig.data[0]
    assert np.array_equal(np.asarray(bar.y), cap.gates["SE_4_2"][1])
    assert np.array_equal(np.asarray(bar.customdata)[:, 0], np.arange(1024))
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert _axis_title(fig.layout.yaxis) == "gate s (0–1)"
    assert _axis_title(fig.layout.xaxis) == "channel index"
    assert "SE_4_2" in fig.layout.title.text


def test_sorted_gate_bar_x_is_rank_and_hover_names_the_channel(cap):
    fig = F.gate_bar(cap, "SE_4_2", sort="gate ↓")
    bar = fig.data[0]
    y, channels = np.asarray(bar.y), np.asarray(bar.customdata)[:, 0].astype(int)
    assert np.all(np.diff(y) <= 0)
    assert np.array_equal(y, cap.gates["SE_4_2"][0][channels])
    assert np.array_equal(np.asarray(bar.customdata)[:, 1], cap.squeeze["SE_4_2"][0][channels])
    assert "rank" in _axis_title(fig.layout.xaxis)
    assert "channel %{customdata[0]" in bar.hovertemplate


def test_squeeze_vs_gate_plots_z_against_s(cap):
    fig = F.squeeze_vs_gate(cap, "SE_5_3", image=1)
    (pts,) = fig.data
    assert isinstance(pts, go.Scatter) and pts.mode == "markers"
    assert np.array_equal(np.asarray(pts.x), cap.squeeze["SE_5_3"][1])
    assert np.array_equal(np.asarray(pts.y), cap.gates["SE_5_3"][1])
    assert np.array_equal(np.asarray(pts.customdata), np.arange(2048))
    assert _axis_title(fig.layout.xaxis) == "squeeze z (mean activation)"
    assert _axis_title(fig.layout.yaxis) == "gate s (0–1)"
    assert "channel" in pts.hovertemplate


def test_feature_maps_share_one_colour_scale(cap):
    channels = [3, 100, 511]
    fig = F.feature_maps(cap, "SE_3_1", channels, image=1)
    assert len(fig.data) == 2 * len(channels)
    assert all(isinstance(t, go.Heatmap) for t in fig.data)
    assert len({(t.zmin, t.zmax, t.coloraxis) for t in fig.data}) == 1
    u, out, s = cap.maps_in["SE_3_1"][1], cap.maps_out["SE_3_1"][1], cap.gates["SE_3_1"][1]
    lo = min(u[channels].min(), out[channels].min())
    hi = max(u[channels].max(), out[channels].max())
    ca = fig.layout.coloraxis
    assert ca.cmin <= lo and ca.cmax >= hi and (ca.cmin, ca.cmax) == (fig.data[0].zmin, fig.data[0].zmax)
    for k, c in enumerate(channels):
        before, after = fig.data[2 * k], fig.data[2 * k + 1]
        assert np.array_equal(np.asarray(before.z), u[c])
        assert np.array_equal(np.asarray(after.z), out[c])
        # The right column really is s_c · u_c, as its title claims.
        assert np.allclose(out[c], s[c] * u[c], atol=1e-5)
    titles = [a.text for a in fig.layout.annotations]
    # Per channel: "before SE", "after SE", then the pair's title with the channel and its gate.
    assert titles[:3] == ["before SE", "after SE", f"<b>channel 3</b> · s_c = {s[3]:.3f}"]
    assert titles[8] == f"<b>channel 511</b> · s_c = {s[511]:.3f}"
    assert "before SE: u_c, after SE: s_c · u_c" in fig.layout.title.text


def test_feature_maps_errors_are_clear(cap):
    with pytest.raises(KeyError, match="maps="):
        F.feature_maps(cap, "SE_4_1", [0])
    with pytest.raises(IndexError, match="512"):
        F.feature_maps(cap, "SE_3_1", [512])
    with pytest.raises(ValueError):
        F.feature_maps(cap, "SE_3_1", [])


def test_predictions_bar_shows_percent_with_top_class_first(cap, legacy_r50):
    table = A.topk_predictions(cap, legacy_r50.labels, k=5)
    fig = F.predictions_bar(table)
    (bar,) = fig.data
    assert isinstance(bar, go.Bar) and bar.orientation == "h"
    assert np.allclose(np.asarray(bar.x), table["probability"] * 100)
    # Long names wrap onto lines of ≤ 24 characters; nothing is cut, the hover has the full name.
    ticks = list(fig.layout.yaxis.ticktext)
    assert [t.replace("<br>", " ") for t in ticks] == table["label"].tolist()
    assert all(len(line) <= 24 for t in ticks for line in t.split("<br>") if " " in line)
    assert np.asarray(bar.customdata)[:, 1].tolist() == table["label"].tolist()
    assert bar.cliponaxis is False
    assert fig.layout.yaxis.autorange == "reversed"
    assert "%" in _axis_title(fig.layout.xaxis)


def test_predictions_bar_keeps_duplicate_class_names_apart():
    table = pd.DataFrame(
        {"rank": [1, 2], "class_index": [134, 517], "label": ["crane", "crane"], "probability": [0.6, 0.3]}
    )
    fig = F.predictions_bar(table)
    assert len(set(np.asarray(fig.data[0].y).tolist())) == 2


# ---------------------------------------------------------------------------------------------
# Any model, any size


def _builders(cap: Capture, block: str):
    return {
        "heatmap": lambda: F.gate_heatmap(cap),
        "heatmap sorted": lambda: F.gate_heatmap(cap, sort="gate ↑"),
        "violin": lambda: F.distribution_figure(cap),
        "box z": lambda: F.distribution_figure(cap, quantity="z", kind="box"),
        "histogram": lambda: F.distribution_figure(cap, kind="histogram"),
        "bar": lambda: F.gate_bar(cap, block, sort="gate ↓"),
        "scatter": lambda: F.squeeze_vs_gate(cap, block),
    }


def test_every_figure_works_for_a_model_without_paper_names(cap_eff):
    block = EFF_MAP_BLOCK
    for name, build in _builders(cap_eff, block).items():
        fig = build()
        assert fig.data, name
        assert fig.layout.title.text, name
        assert any(_all_axis_titles(fig)), name
    fig = F.feature_maps(cap_eff, block, [0, 7])
    assert len(fig.data) == 4
    assert F.gate_bar(cap_eff, block).layout.title.text.startswith(f"Gates s of {block}")


def test_senet154_sized_figures_build_quickly(cap_154):
    for name, build in _builders(cap_154, "SE_5_3").items():
        started = time.perf_counter()
        fig = build()
        elapsed = time.perf_counter() - started
        # Generous for a shared 2-core machine; typical is 0.1–0.4 s.
        assert elapsed < 2.5, f"{name} took {elapsed:.2f} s"
        assert fig.layout.height >= 400, name


def test_figures_module_imports_neither_torch_nor_streamlit():
    from pathlib import Path

    files = sorted(Path(F.__file__).parent.glob("*.py"))
    assert {f.name for f in files} >= {
        "style.py",
        "heatmap.py",
        "distributions.py",
        "block.py",
        "predictions.py",
    }
    for path in files:
        source = path.read_text(encoding="utf-8")
        assert "import torch" not in source and "streamlit" not in source, path.name
    assert "torch" not in {m.split(".")[0] for m in vars(F) if isinstance(vars(F)[m], type(sys))}


def test_titles_name_the_image_and_fall_back_to_its_index(cap):
    block = cap.block_names[-1]
    named = [
        F.distribution_figure(cap, image=1, image_name="chelsea_cat.png"),
        F.gate_bar(cap, block, image=1, image_name="chelsea_cat.png"),
        F.squeeze_vs_gate(cap, block, image=1, image_name="chelsea_cat.png"),
    ]
    for fig in named:
        assert "chelsea_cat.png" in fig.layout.title.text and "image 1" not in fig.layout.title.text
    assert "image 1" in F.gate_bar(cap, block, image=1).layout.title.text


# ---------------------------------------------------------------------------------------------
# Readable on a projector (issue 11)


def _maps_capture(channels: int, size: int) -> Capture:
    """One block whose maps are a known ramp: u_c = c + ramp, out = 0.5 · u."""
    block = BlockInfo("SE_5_2", "layer4.1.se", channels, 8, "sigmoid", "SE_5_2", "a", "b", "SEModule", 0)
    u = (
        np.arange(channels, dtype=np.float32)[:, None, None]
        + np.arange(size * size, dtype=np.float32).reshape(size, size)
    )[None]
    gates = {"SE_5_2": np.full((1, channels), 0.5, np.float32)}
    return Capture(
        [block],
        gates,
        {"SE_5_2": np.zeros((1, channels), np.float32)},
        np.zeros((1, 10), np.float32),
        maps_in={"SE_5_2": u},
        maps_out={"SE_5_2": 0.5 * u},
    )


def test_histogram_subtitle_sits_in_the_top_margin_above_the_first_row(cap):
    fig = F.distribution_figure(cap, kind="histogram", image_name="cat.png")
    title = fig.layout.title
    assert title.text == "Distribution of gates s over channels, per SE block"
    assert title.subtitle.text == "cat.png — y: % of the block's channels"
    # Title block hangs from the top of the figure (10 px down) ...
    assert title.yref == "container" and title.yanchor == "top"
    assert fig.layout.height * (1 - title.y) == pytest.approx(10)
    # ... and the margin holds the title (34 px) + subtitle (26 px) + 14 px of air before the
    # first row, whose top tick sits at the top of the plot area.
    assert fig.layout.margin.t == 10 + 34 + 26 + 14
    assert fig.layout.yaxis.domain[1] == 1.0


def test_feature_maps_are_laid_out_in_pairs_across_the_width(cap):
    channels = list(range(8))
    fig = F.feature_maps(cap, "SE_3_1", channels)
    xs = [fig.layout[f"xaxis{'' if k == 1 else k}"].domain for k in range(1, 17)]
    ys = [fig.layout[f"yaxis{'' if k == 1 else k}"].domain for k in range(1, 17)]
    # 8 channels → 3 pairs per row → rows of 3, 3, 2 pairs.
    assert F.block.pairs_per_row(8) == 3
    tops = sorted({round(y[1], 6) for y in ys}, reverse=True)
    assert len(tops) == 3
    for n in range(8):
        before_x, after_x = xs[2 * n], xs[2 * n + 1]
        assert ys[2 * n] == ys[2 * n + 1]  # a pair shares its row
        assert before_x[1] < after_x[0] and after_x[0] - before_x[1] < 0.01  # side by side, close
        assert round(ys[2 * n][1], 6) == tops[n // 3]
    # Pairs in one row are separated by a wider gap than the two maps of a pair.
    assert xs[2][0] - xs[1][1] > 3 * (xs[1][0] - xs[0][1])
    assert fig.layout.height <= 900
    assert all(fig.layout[f"yaxis{'' if k == 1 else k}"].scaleanchor for k in range(1, 17))
    assert "maps are 28×28 px" in fig.layout.title.text  # SE_3_1 of a 224 px input: 28×28
    assert all(t.texttemplate is None for t in fig.data)


@pytest.mark.parametrize("k, per_row", [(1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (10, 4), (16, 4)])
def test_pairs_per_row(k, per_row):
    assert F.block.pairs_per_row(k) == per_row


def test_tiny_feature_maps_say_so_and_print_their_values():
    fig = F.feature_maps(_maps_capture(4, 2), "SE_5_2", [0, 3])
    assert "each map is only 2×2 px" in fig.layout.title.text
    assert all(t.texttemplate == "%{z:.2f}" for t in fig.data)
    # The ramp: u_3 = 3 + [[0, 1], [2, 3]], after = half of it.
    assert np.asarray(fig.data[2].z).tolist() == [[3, 4], [5, 6]]
    assert np.asarray(fig.data[3].z).tolist() == [[1.5, 2], [2.5, 3]]
    assert "maps are 5×5 px" in F.feature_maps(_maps_capture(2, 5), "SE_5_2", [1]).layout.title.text


def test_wide_gate_bar_opens_zoomed_with_a_range_slider(cap):
    wide = F.gate_bar(cap, "SE_5_3")  # 2048 channels
    assert wide.layout.xaxis.rangeslider.visible is True
    assert tuple(wide.layout.xaxis.range) == (-0.5, 511.5)
    assert tuple(wide.layout.xaxis.rangeslider.range) == (-0.5, 2047.5)
    assert "showing channels 0–511" in wide.layout.title.text and "slider" in wide.layout.title.text
    assert len(wide.data[0].y) == 2048  # every channel is still there, only the view is zoomed
    assert "showing ranks 0–511" in F.gate_bar(cap, "SE_5_3", sort="gate ↓").layout.title.text
    narrow = F.gate_bar(cap, "SE_3_1")  # 512 channels: all shown, power-of-two ticks
    assert not narrow.layout.xaxis.rangeslider.visible
    assert tuple(narrow.layout.xaxis.range) == (-0.5, 511.5)
    assert (narrow.layout.xaxis.tick0, narrow.layout.xaxis.dtick) == (0, 64)
    assert "slider" not in narrow.layout.title.text


def test_wide_gate_bar_draws_each_channel_once_in_its_colour_band(cap):
    """Over 512 channels the bars are filled outlines, one per band of s: every channel's bar is
    in exactly one band, at its own height, and the outlines are few (fast to draw)."""
    fig = F.gate_bar(cap, "SE_5_3", sort="gate ↓")
    s = np.sort(cap.gates["SE_5_3"][0])[::-1]
    hover, bands = fig.data[0], fig.data[1:]
    assert np.array_equal(np.asarray(hover.y), s) and "channel %{customdata[0]" in hover.hovertemplate
    assert 1 <= len(bands) <= F.GATE_BANDS and all(
        b.hoverinfo == "skip" and b.fill == "toself" for b in bands
    )
    tops = sorted(y for b in bands for y in b.y if y)  # every channel's top, once, and nothing else
    assert np.allclose(tops, np.sort(s))
    assert sum(len(b.x) for b in bands) < 3 * s.size  # a path per band, not a shape per bar


@pytest.mark.parametrize(
    "channels, step", [(2048, 256), (1024, 128), (512, 64), (256, 32), (24, 4), (8, 1), (1280, 256)]
)
def test_channel_ticks_fall_on_powers_of_two(channels, step):
    assert F.channel_dtick(channels) == step


def test_heatmap_panels_tick_every_eighth_of_their_width(cap):
    fig = F.gate_heatmap(cap)
    assert [fig.layout[f"xaxis{'' if k == 1 else k}"].dtick for k in range(1, 5)] == [32, 64, 128, 256]


def test_projector_enlarges_text_thickens_lines_and_raises_contrast(cap):
    fig = F.gate_bar(cap, "SE_3_1")
    before = fig.to_plotly_json()
    big = F.projector(fig)
    assert fig.to_plotly_json() == before  # pure: the input is untouched
    assert big.layout.font.size == pytest.approx(14 * 1.4)
    assert big.layout.title.font.size == pytest.approx(18 * 1.4)
    assert big.layout.font.color == "#000000" and big.layout.title.font.color == "#000000"
    assert big.layout.paper_bgcolor == "white" and big.layout.plot_bgcolor == "white"
    assert big.layout.xaxis.tickfont.size == pytest.approx(14 * 1.4)
    assert big.layout.yaxis.gridcolor == "#a6a6a6" and big.layout.yaxis.showline is True
    assert big.layout.shapes[0].line.width == pytest.approx(2 * 1.6)  # the mean line
    assert big.layout.annotations[0].font.size == pytest.approx(14 * 1.4)
    assert big.layout.height > fig.layout.height
    assert np.array_equal(np.asarray(big.data[0].y), np.asarray(fig.data[0].y))  # same data

    scatter = F.projector(F.squeeze_vs_gate(cap, "SE_3_1"))
    assert scatter.data[0].marker.size == pytest.approx(7 * 1.6)
    hist = F.projector(F.distribution_figure(cap, kind="histogram"))
    assert hist.layout.yaxis.tickfont.size == pytest.approx(10 * 1.4)
    assert hist.layout.title.subtitle.font.color == "#000000"
    maps = F.projector(F.feature_maps(cap, "SE_3_1", [0, 1]))
    assert not maps.layout.xaxis.showline  # pictures get no frame
    # Any figure, not only ours: a plain line chart with plotly's defaults.
    plain = F.projector(go.Figure(go.Scatter(x=[0, 1], y=[1, 0], mode="lines")))
    assert plain.layout.font.size == pytest.approx(12 * 1.4) and plain.data[0].line.width == pytest.approx(
        3.2
    )


def test_wrap_title_breaks_long_lines_at_spaces_and_keeps_sup():
    text = "Squeeze z vs gate s — SE_5_3 · layer4.2.se_module<br><sup>" + "word " * 20 + "</sup>"
    wrapped = F.wrap_title(text, title_chars=30, sub_chars=40)
    lines = wrapped.split("<br>")
    assert lines[:2] == ["Squeeze z vs gate s — SE_5_3 ·", "layer4.2.se_module"]
    assert all(line.startswith("<sup>") and line.endswith("</sup>") for line in lines[2:])
    assert all(len(line) - len("<sup></sup>") <= 40 for line in lines[2:])
    assert F.wrap_title("short<br><sup>also short</sup>") == "short<br><sup>also short</sup>"
    odd = "a <b>bold</b> word " * 10  # inner markup: left alone rather than broken mid-tag
    assert F.wrap_title(odd, title_chars=10) == odd


def test_projector_title_is_one_line_with_the_rest_as_subtitle_and_ticks_thinned(cap):
    fig = F.projector(F.feature_maps(cap, "SE_3_1", [0, 1]))
    title = fig.layout.title
    assert "<br>" not in title.text and title.text.startswith("Feature maps of SE_3_1")
    sub = title.subtitle.text.split("<br>")
    assert "maps are 28×28 px" in sub[-2] and sub[-1].startswith("before SE: u_c")
    assert title.yref == "container" and title.yanchor == "top"
    # The margin holds the title line and every subtitle line (1.3 line height) plus 30 px.
    assert fig.layout.margin.t >= 10 + 1.3 * title.font.size + 1.3 * title.subtitle.font.size * len(sub) + 20
    heat = F.projector(F.gate_heatmap(cap))
    assert [heat.layout[f"xaxis{'' if k == 1 else k}"].dtick for k in range(1, 5)] == [64, 128, 256, 512]
