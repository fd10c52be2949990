"""Pure Plotly figure builders: captured data in, ``go.Figure`` out.

No torch and no Streamlit here (DESIGN.md rule 1): every function reads NumPy arrays from a
:class:`~se_viz.capture.Capture` (or a table from :mod:`se_viz.analysis`) and returns a figure
with a title, axis titles with units and hover text. Gates are always coloured on one fixed,
perceptually uniform scale (Viridis, 0…1), so colours mean the same thing in every figure and
for every image; heights grow with the number of SE blocks so SENet-154 (50 blocks) stays
readable on a projector.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.stats import channel_order, check_image, normalise_sort
from ..engine.blocks import BlockInfo
from ..engine.capture import Capture

__all__ = [
    "GATE_COLORSCALE",
    "block_label",
    "distribution_figure",
    "feature_maps",
    "gate_bar",
    "gate_heatmap",
    "panel_groups",
    "predictions_bar",
    "squeeze_vs_gate",
]

GATE_COLORSCALE = "Viridis"
GATE_AXIS = "gate s (0–1)"
SQUEEZE_AXIS = "squeeze z (mean activation)"
TEMPLATE = "plotly_white"
FONT_SIZE = 14
TITLE_SIZE = 18
# One colour per stage / panel group, so the same stage has the same colour across figures.
_GROUP_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


# ---------------------------------------------------------------------------------------------
# Shared helpers


def block_label(block: BlockInfo) -> str:
    """The tick label of a block: ``"SE_2_1 · layer1.0.se_module"``, or the module path alone.

    Both names are shown because the paper name is what people discuss and the module path is
    what they need to find the block in code; models without paper naming just get the path.
    """
    if block.paper_name and block.paper_name != block.path:
        return f"{block.paper_name} · {block.path}"
    return block.path


def panel_groups(blocks: Sequence[BlockInfo]) -> list[list[BlockInfo]]:
    """Split blocks (in forward order) into the panels of a per-stage figure.

    Consecutive blocks share a panel when they share a stage and a channel count; blocks without
    a stage (EfficientNet, MobileNet, user models) are grouped by consecutive equal channel
    count. Keeping runs consecutive preserves forward order top-to-bottom, and a panel never
    mixes widths, so each panel's x-axis can span exactly its own channel count.
    """
    groups: list[list[BlockInfo]] = []
    key_prev: object = object()
    for b in blocks:
        key = (b.stage, b.channels)
        if groups and key == key_prev:
            groups[-1].append(b)
        else:
            groups.append([b])
        key_prev = key
    return groups


def _group_title(group: Sequence[BlockInfo]) -> str:
    first = group[0]
    n = len(group)
    what = f"{n} block{'s' if n != 1 else ''} · {first.channels} channels"
    return f"stage {first.stage} · {what}" if first.stage is not None else what


def _layout_dict(title: str, height: int, **kwargs: object) -> dict:
    """The common look as a layout dict: white template, projector-sized fonts, left title."""
    return dict(
        template=TEMPLATE,
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=TITLE_SIZE)),
        font=dict(size=FONT_SIZE),
        height=int(height),
        hoverlabel=dict(font_size=FONT_SIZE),
        **kwargs,
    )


def _layout(fig: go.Figure, title: str, height: int, **kwargs: object) -> go.Figure:
    """Apply :func:`_layout_dict` to an existing figure."""
    fig.update_layout(**_layout_dict(title, height, **kwargs))
    return fig


def _sort_axis_title(sort: str) -> str:
    key = normalise_sort(sort)
    if key == "natural":
        return "channel index"
    direction = "largest first" if key == "gate ↓" else "smallest first"
    return f"rank (channels sorted by gate s, {direction})"


def _gate_colorbar(title: str = GATE_AXIS) -> dict:
    return dict(colorscale=GATE_COLORSCALE, cmin=0.0, cmax=1.0,
                colorbar=dict(title=dict(text=title, side="right"), thickness=16))


# ---------------------------------------------------------------------------------------------
# Gate heatmap


def _image_label(index: int, name: Optional[str]) -> str:
    return name if name else f"image {index}"


def gate_heatmap(
    cap: Capture, image: int = 0, sort: str = "natural", title: Optional[str] = None
) -> go.Figure:
    """Heatmap of every gate s of one image: rows = SE blocks, columns = channels.

    One panel (subplot row, one ``go.Heatmap``) per stage — or per run of equal channel count
    when the model has no stages — and each panel's x-axis spans that panel's own channel count,
    so a 256-channel row is never stretched to look like a 2048-channel one. All panels share one
    colour axis fixed to 0…1. ``sort`` (see :func:`se_viz.analysis.channel_order`) reorders each
    block's row independently; x is then the rank and the hover still shows the true channel
    index (``customdata[..., 0]``) and the squeeze z (``customdata[..., 1]``).
    """
    i = check_image(cap, image)
    groups = panel_groups(cap.blocks)
    n_blocks = len(cap.blocks)
    if n_blocks == 0:
        raise ValueError("The capture holds no SE blocks to draw.")
    sorted_view = normalise_sort(sort) != "natural"
    x_title = _sort_axis_title(sort)

    # Pixel budget: rows thin enough that 50 blocks fit a page, thick enough to hover on.
    row_px = 26 if n_blocks <= 20 else 18
    gap_px = 62  # room for a panel's tick labels and the next panel's title
    panel_px = [max(len(g) * row_px, 40) for g in groups]
    plot_px = sum(panel_px) + gap_px * (len(groups) - 1)
    fig = make_subplots(
        rows=len(groups),
        cols=1,
        row_heights=[p / sum(panel_px) for p in panel_px],
        vertical_spacing=gap_px / plot_px if len(groups) > 1 else 0.0,
        subplot_titles=[_group_title(g) for g in groups],
    )
    traces = []
    for g in groups:
        c = g[0].channels
        labels = [block_label(b) for b in g]
        s_rows = np.empty((len(g), c), dtype=np.float32)
        custom = np.empty((len(g), c, 2), dtype=np.float32)
        for r, b in enumerate(g):
            s = cap.gates[b.name][i]
            z = cap.squeeze[b.name][i]
            order = channel_order(s, sort)
            s_rows[r] = s[order]
            custom[r, :, 0] = order
            custom[r, :, 1] = z[order]
        rank_line = "rank %{x}<br>" if sorted_view else ""
        traces.append(
            go.Heatmap(
                z=s_rows,
                x=np.arange(c),
                y=labels,
                customdata=custom,
                coloraxis="coloraxis",
                zmin=0.0,
                zmax=1.0,
                xgap=0,
                ygap=1,
                hovertemplate=(
                    "<b>%{y}</b><br>" + rank_line + "channel %{customdata[0]:d}<br>"
                    "s = %{z:.3f}<br>z = %{customdata[1]:.3f}<extra></extra>"
                ),
            )
        )
    fig.add_traces(traces, rows=list(range(1, len(groups) + 1)), cols=[1] * len(groups))
    for r, g in enumerate(groups, start=1):
        c = g[0].channels
        fig.update_xaxes(range=[-0.5, c - 0.5], showgrid=False, zeroline=False, row=r, col=1,
                         title_text=x_title if r == len(groups) else None)
        # Forward order reads top to bottom, like the network's depth.
        fig.update_yaxes(autorange="reversed", showgrid=False, row=r, col=1,
                         title_text="SE block" if r == 1 else None)
    if title is None:
        title = f"Excitation gates s per SE block and channel (image {i})"
        if sorted_view:
            title += f" — each row sorted, {normalise_sort(sort)}"
    _layout(fig, title, height=plot_px + 170, coloraxis=_gate_colorbar(),
            margin=dict(l=10, r=10, t=100, b=70))
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


# ---------------------------------------------------------------------------------------------
# Distributions


def distribution_figure(
    cap: Capture, image: int = 0, quantity: str = "s", kind: str = "violin", image_name: Optional[str] = None
) -> go.Figure:
    """Distribution over channels of the gates s (or squeeze z) of every block, one trace each.

    ``kind`` is ``"violin"`` or ``"box"`` (blocks on the y-axis, top to bottom in forward order,
    values on the x-axis) or ``"histogram"`` (small multiples: one row per block sharing one
    x-axis and the same bins, y = % of the block's channels, so blocks of different width
    compare fairly). Traces are coloured by stage / panel group. Gate axes are fixed to 0…1.
    """
    i = check_image(cap, image)
    if quantity not in ("s", "z"):
        raise ValueError(f"quantity must be 's' (gates) or 'z' (squeeze), got {quantity!r}.")
    if kind not in ("violin", "box", "histogram"):
        raise ValueError(f"kind must be 'violin', 'box' or 'histogram', got {kind!r}.")
    source = cap.gates if quantity == "s" else cap.squeeze
    value_title = GATE_AXIS if quantity == "s" else SQUEEZE_AXIS
    what = "gates s" if quantity == "s" else "squeeze z"
    colour = {}
    for gi, g in enumerate(panel_groups(cap.blocks)):
        for b in g:
            colour[b.name] = _GROUP_COLOURS[gi % len(_GROUP_COLOURS)]
    n = len(cap.blocks)
    title = f"Distribution of {what} over channels, per SE block<br><sup>{_image_label(i, image_name)}</sup>"
    fmt = ".3f"

    if kind == "histogram":
        values = [source[b.name][i].astype(np.float64) for b in cap.blocks]
        if quantity == "s":
            lo, hi = 0.0, 1.0
        else:
            lo = float(min(v.min() for v in values))
            hi = float(max(v.max() for v in values))
            if hi <= lo:
                hi = lo + 1.0
        bins = dict(start=lo, end=hi, size=(hi - lo) / 50)
        # One y range for every row: with per-row autoscaling a flat block would look as peaked
        # as a concentrated one. The bin edges mirror Plotly's xbins so the maximum is exact.
        edges = np.linspace(lo, hi, 51)
        top = max(100.0 * np.histogram(v, bins=edges)[0].max() / max(v.size, 1) for v in values)
        row_px = 60 if n <= 20 else 40
        gap_px = 6
        # Stacked y-axes over ONE shared x-axis, laid out by hand: make_subplots plus per-row
        # updates costs ~1 s for SENet-154's 50 rows, this costs a few milliseconds.
        plot_px = n * row_px + (n - 1) * gap_px
        h, gap = row_px / plot_px, gap_px / plot_px
        axes: dict[str, dict] = {}
        traces = []
        for r, (b, v) in enumerate(zip(cap.blocks, values), start=1):
            top_edge = 1.0 - (r - 1) * (h + gap)
            key = "" if r == 1 else str(r)
            traces.append(go.Histogram(
                x=v, name=b.name, xbins=bins, autobinx=False, histnorm="percent",
                marker_color=colour[b.name], showlegend=False, xaxis="x", yaxis=f"y{key}",
                hovertemplate=(f"<b>{block_label(b)}</b><br>{quantity} in %{{x}}<br>"
                               "%{y:.1f} % of channels<extra></extra>"),
            ))
            # Each row's y-axis title names its block, so the blocks read top to bottom in order;
            # one y range for all rows keeps peak heights comparable.
            axes[f"yaxis{key}"] = dict(
                domain=[max(0.0, top_edge - h), min(1.0, top_edge)], anchor="x",
                title=dict(text=b.name, font=dict(size=12)), tickfont=dict(size=10),
                range=[0, top * 1.05], nticks=3,
            )
        # Whole layout given to the constructor: update_layout on 50 axes is ~10× slower.
        layout = _layout_dict(title + " — y: % of the block's channels", height=plot_px + 160,
                              bargap=0.05, margin=dict(l=10, r=10, t=80, b=60))
        layout["xaxis"] = dict(domain=[0, 1], anchor=f"y{n if n > 1 else ''}", range=[lo, hi],
                               title=dict(text=value_title))
        layout.update(axes)
        return go.Figure(traces, layout=layout)

    fig = go.Figure()
    traces = []
    for b in cap.blocks:
        v = source[b.name][i]
        common = dict(x=v, name=b.name, orientation="h", marker_color=colour[b.name],
                      showlegend=False)
        if kind == "violin":
            traces.append(go.Violin(
                **common, points=False, box_visible=True, meanline_visible=True,
                line_color=colour[b.name], spanmode="hard", scalemode="width",
                hovertemplate=f"<b>{block_label(b)}</b><br>{quantity} = %{{x:{fmt}}}<extra></extra>",
            ))
        else:
            traces.append(go.Box(
                **common, boxpoints="outliers", boxmean=True,
                hovertemplate=f"<b>{block_label(b)}</b><br>{quantity} = %{{x:{fmt}}}<extra></extra>",
            ))
    fig.add_traces(traces)
    fig.update_yaxes(title_text="SE block (forward order)", autorange="reversed",
                     categoryorder="array", categoryarray=cap.block_names)
    fig.update_xaxes(title_text=value_title, range=[0, 1] if quantity == "s" else None,
                     zeroline=quantity == "z")
    row_px = 32 if n <= 20 else 22
    _layout(fig, title, height=n * row_px + 180, margin=dict(l=10, r=10, t=80, b=60))
    return fig


# ---------------------------------------------------------------------------------------------
# One block


def gate_bar(
    cap: Capture, block: str, image: int = 0, sort: str = "natural", image_name: Optional[str] = None
) -> go.Figure:
    """Bar chart of the gates s of one block, one bar per channel, y fixed to 0…1.

    Bars are coloured by s on the same Viridis 0…1 scale as the heatmap; a dashed line marks the
    block's mean gate. With ``sort`` the x-axis is the rank and the hover names the true channel
    index and its squeeze z.
    """
    i = check_image(cap, image)
    info = cap.block(block)
    s = cap.gates[block][i]
    z = cap.squeeze[block][i]
    order = channel_order(s, sort)
    sorted_view = normalise_sort(sort) != "natural"
    rank_line = "rank %{x}<br>" if sorted_view else ""
    fig = go.Figure(
        go.Bar(
            x=np.arange(s.size),
            y=s[order],
            customdata=np.stack([order, z[order]], axis=1),
            # Colour repeats the bar height on the heatmap's scale (no colour bar: y already says it).
            marker=dict(color=s[order], line_width=0, showscale=False, **_gate_colorbar()),
            hovertemplate=(f"<b>{block_label(info)}</b><br>" + rank_line +
                           "channel %{customdata[0]:d}<br>s = %{y:.3f}<br>"
                           "z = %{customdata[1]:.3f}<extra></extra>"),
        )
    )
    mean = float(np.mean(s, dtype=np.float64))
    fig.add_hline(y=mean, line_dash="dash", line_color="#444",
                  annotation_text=f"mean s = {mean:.3f}", annotation_position="top right")
    fig.update_xaxes(title_text=_sort_axis_title(sort), range=[-0.5, s.size - 0.5])
    fig.update_yaxes(title_text=GATE_AXIS, range=[0, 1])
    _layout(fig, f"Gates s of {block_label(info)}<br><sup>{s.size} channels · {_image_label(i, image_name)}</sup>",
            height=420,
            bargap=0 if s.size > 200 else 0.1, margin=dict(l=10, r=10, t=80, b=60))
    return fig


def squeeze_vs_gate(cap: Capture, block: str, image: int = 0, image_name: Optional[str] = None) -> go.Figure:
    """Scatter of squeeze z (x) against gate s (y) for every channel of one block.

    Shows how far the excitation is a simple function of the channel's own mean activation (a
    monotone curve) or mixes information across channels (a cloud). Markers are coloured by s
    on the fixed 0…1 gate scale; hover shows the channel index, z and s.
    """
    i = check_image(cap, image)
    info = cap.block(block)
    s = cap.gates[block][i]
    z = cap.squeeze[block][i]
    fig = go.Figure(
        go.Scatter(
            x=z,
            y=s,
            mode="markers",
            customdata=np.arange(s.size),
            marker=dict(size=7 if s.size <= 512 else 5, color=s, opacity=0.8,
                        line=dict(width=0), showscale=False, **_gate_colorbar()),
            hovertemplate=(f"<b>{block_label(info)}</b><br>channel %{{customdata:d}}<br>"
                           "z = %{x:.3f}<br>s = %{y:.3f}<extra></extra>"),
        )
    )
    fig.update_xaxes(title_text=SQUEEZE_AXIS, zeroline=True)
    fig.update_yaxes(title_text=GATE_AXIS, range=[0, 1])
    _layout(fig, f"Squeeze z vs gate s — {block_label(info)}<br><sup>{_image_label(i, image_name)}</sup>",
            height=480,
            margin=dict(l=10, r=10, t=80, b=60))
    return fig


def feature_maps(
    cap: Capture, block: str, channels: Sequence[int], image: int = 0, image_name: Optional[str] = None
) -> go.Figure:
    """Spatial maps of chosen channels before and after the SE scaling, on one shared colour scale.

    One row per channel, two columns: the block input u_c and the output s_c · u_c. Every panel
    uses the same colour range (and a single colour bar), so the effect of the gate is visible as
    a change of contrast: with s_c = 0.2 the right map is visibly fainter. Signed activations
    use a diverging scale centred on 0; non-negative ones Viridis from 0. Needs the block's maps:
    capture with ``maps=[block]``.
    """
    i = check_image(cap, image)
    info = cap.block(block)
    if block not in cap.maps_in or block not in cap.maps_out:
        raise KeyError(f"No feature maps were captured for {block!r}; capture with maps=[{block!r}].")
    chans = [int(c) for c in channels]
    if not chans:
        raise ValueError("Choose at least one channel to show.")
    u = cap.maps_in[block][i]
    out = cap.maps_out[block][i]
    bad = [c for c in chans if not 0 <= c < u.shape[0]]
    if bad:
        raise IndexError(f"Channel(s) {bad} out of range: {block} has {u.shape[0]} channels.")
    s = cap.gates[block][i]
    shown = np.concatenate([u[chans].ravel(), out[chans].ravel()])
    lo, hi = float(shown.min()), float(shown.max())
    if lo < 0:
        # Symmetric around 0 so white means zero activation in both columns.
        m = max(abs(lo), abs(hi)) or 1.0
        zmin, zmax, scale = -m, m, "RdBu_r"
    else:
        zmin, zmax, scale = 0.0, (hi or 1.0), "Viridis"
    titles = []
    for c in chans:
        titles += [f"channel {c} · before SE: u_c (s_c = {s[c]:.3f})",
                   f"channel {c} · after SE: s_c · u_c (s_c = {s[c]:.3f})"]
    rows = len(chans)
    fig = make_subplots(rows=rows, cols=2, subplot_titles=titles, horizontal_spacing=0.04,
                        vertical_spacing=min(0.08, 0.5 / rows))
    traces, trows, tcols = [], [], []
    for r, c in enumerate(chans, start=1):
        for col, (maps, stage) in enumerate(((u, "u_c"), (out, "s_c · u_c")), start=1):
            traces.append(go.Heatmap(
                z=maps[c], coloraxis="coloraxis", zmin=zmin, zmax=zmax,
                hovertemplate=(f"channel {c} · {stage}<br>row %{{y}}, column %{{x}}<br>"
                               "activation = %{z:.3f}<extra></extra>"),
            ))
            trows.append(r)
            tcols.append(col)
    fig.add_traces(traces, rows=trows, cols=tcols)
    # Square pixels and image orientation (row 0 at the top), no ticks: these are pictures.
    for k in range(1, 2 * rows + 1):
        suffix = "" if k == 1 else str(k)
        fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", autorange="reversed",
                                            showticklabels=False, showgrid=False)
        fig.layout[f"xaxis{suffix}"].update(showticklabels=False, showgrid=False, constrain="domain")
    h, w = u.shape[-2:]
    _layout(
        fig,
        f"Feature maps of {block_label(info)} before and after SE<br><sup>{h}×{w} px · "
        f"{_image_label(i, image_name)}</sup>",
        # Smaller rows when many channels are compared (the UI shows up to 2 × 8), so the grid
        # stays scrollable rather than several screens tall per channel.
        height=rows * (300 if rows <= 4 else 240 if rows <= 8 else 200) + 140,
        coloraxis=dict(colorscale=scale, cmin=zmin, cmax=zmax,
                       colorbar=dict(title=dict(text="activation (shared scale)", side="right"),
                                     thickness=16)),
        margin=dict(l=10, r=10, t=100, b=30),
    )
    fig.update_annotations(font_size=FONT_SIZE - 1)
    return fig


# ---------------------------------------------------------------------------------------------
# Predictions


def predictions_bar(table: pd.DataFrame) -> go.Figure:
    """Horizontal bar chart of a :func:`se_viz.analysis.topk_predictions` table, in percent.

    The most probable class is at the top; bar text shows the percentage. Rows are placed by
    rank (labels are tick text), because class names can repeat (ImageNet has two "crane"s) and
    a categorical axis would silently merge them.
    """
    ranks = table["rank"].to_numpy()
    pct = table["probability"].to_numpy(dtype=np.float64) * 100.0
    labels = [str(x) for x in table["label"]]
    fig = go.Figure(
        go.Bar(
            x=pct,
            y=ranks,
            orientation="h",
            text=[f"{p:.1f} %" for p in pct],
            textposition="outside",
            customdata=np.stack([table["class_index"].to_numpy(), np.array(labels, dtype=object)], axis=1)
            if len(table) else None,
            marker_color="#3b528b",
            hovertemplate="<b>%{customdata[1]}</b><br>class %{customdata[0]}<br>"
                          "probability %{x:.2f} %<extra></extra>",
        )
    )
    top = float(pct.max()) if pct.size else 100.0
    fig.update_xaxes(title_text="probability (%)", range=[0, min(100.0, top * 1.25) or 1.0])
    fig.update_yaxes(title_text="class", tickvals=ranks, ticktext=labels, autorange="reversed")
    _layout(fig, f"Top-{len(table)} predictions", height=120 + 40 * max(len(table), 1),
            margin=dict(l=10, r=30, t=60, b=50))
    return fig
