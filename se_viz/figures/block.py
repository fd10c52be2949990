"""One SE block up close: its gates as bars, squeeze against gate, and feature maps before/after."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from ..analysis.stats import channel_order, check_image, normalise_sort
from ..engine.capture import Capture
from ..i18n import _
from .style import (
    FONT_SIZE,
    GATE_AXIS,
    GATE_COLORSCALE,
    SQUEEZE_AXIS,
    channel_dtick,
    gate_colorbar,
    image_label,
    layout,
    sort_axis_title,
)

__all__ = ["BAR_ZOOM_CHANNELS", "GATE_BANDS", "TINY_MAP_PX", "feature_maps", "gate_bar", "squeeze_vs_gate"]

BAR_ZOOM_CHANNELS = 512  # wider blocks get a range slider; the first view shows this many channels
#: Wider blocks draw their bars as this many filled outlines, one per colour band of s (see
#: :func:`_gate_bands`).
GATE_BANDS = 10
TINY_MAP_PX = 4  # maps this small (or smaller) are called tiny in the title and print their values


# ---------------------------------------------------------------------------------------------
# Gates as bars


def gate_bar(
    cap: Capture, block: str, image: int = 0, sort: str = "natural", image_name: Optional[str] = None
) -> go.Figure:
    """Bar chart of the gates s of one block, one bar per channel, y fixed to 0…1.

    Bars are coloured by s on the same Viridis 0…1 scale as the heatmap; a dashed line marks the
    block's mean gate (over all channels). With ``sort`` the x-axis is the rank and the hover
    names the true channel index and its squeeze z. A block wider than
    :data:`BAR_ZOOM_CHANNELS` channels would give each bar under half a pixel, so the chart opens
    on its first 512 channels with a range slider below showing all of them (drag or widen it to
    zoom); the subtitle says so.
    """
    i = check_image(cap, image)
    info = cap.block(block)
    s = cap.gates[block][i]
    z = cap.squeeze[block][i]
    order = channel_order(s, sort)
    rank_line = _("rank %{x}") + "<br>" if normalise_sort(sort) != "natural" else ""
    hover = (
        f"<b>{info.label}</b><br>"
        + rank_line
        + _("channel %{customdata[0]:d}")
        + "<br>s = %{y:.3f}<br>z = %{customdata[1]:.3f}<extra></extra>"
    )
    x, y, customdata = np.arange(s.size), s[order], np.stack([order, z[order]], axis=1)
    zoomable = s.size > BAR_ZOOM_CHANNELS
    if zoomable:
        fig = go.Figure(_gate_bands(x, y, customdata, hover))
    else:
        fig = go.Figure(
            go.Bar(
                x=x,
                y=y,
                customdata=customdata,
                # Colour repeats the bar height on the heatmap's scale (no colour bar: y already says it).
                marker=dict(color=y, line_width=0, showscale=False, **gate_colorbar()),
                hovertemplate=hover,
            )
        )
    mean = float(np.mean(s, dtype=np.float64))
    fig.add_hline(
        y=mean,
        line_dash="dash",
        line_color="#444",
        annotation_text=_("mean s = {mean}").format(mean=f"{mean:.3f}"),
        annotation_position="top right",
        annotation_bgcolor="rgba(255,255,255,0.8)",
    )
    subtitle = (
        "<sup>" + _("{n} channels · {image}").format(n=s.size, image=image_label(i, image_name)) + "</sup>"
    )
    if zoomable:
        shown = (
            _("showing ranks 0–{last} of {n}: drag or widen the slider below to see the rest")
            if rank_line
            else _("showing channels 0–{last} of {n}: drag or widen the slider below to see the rest")
        )
        subtitle += "<br><sup>" + shown.format(last=BAR_ZOOM_CHANNELS - 1, n=s.size) + "</sup>"
        # Auto ticks follow the zoom; fixed power-of-two ticks would crowd the full view.
        fig.update_xaxes(
            range=[-0.5, BAR_ZOOM_CHANNELS - 0.5],
            rangeslider=dict(visible=True, thickness=0.12, range=[-0.5, s.size - 0.5]),
        )
    else:
        fig.update_xaxes(range=[-0.5, s.size - 0.5], tick0=0, dtick=channel_dtick(s.size))
    fig.update_xaxes(title_text=sort_axis_title(sort))
    fig.update_yaxes(title_text=_(GATE_AXIS), range=[0, 1])
    return layout(
        fig,
        _("Gates s of {block}").format(block=info.label) + f"<br>{subtitle}",
        height=520 if zoomable else 420,
        bargap=0 if s.size > 200 else 0.1,
        margin=dict(l=10, r=10, t=100 if zoomable else 80, b=60),
    )


def _gate_bands(x: np.ndarray, y: np.ndarray, customdata: np.ndarray, hover: str) -> list[go.Scatter]:
    """The bars of a wide block, light enough to draw fast: one filled outline per colour band.

    2048 bars are 2048 SVG shapes, and the range slider draws them all a second time: 3–4 s in
    Chromium for SE-ResNet-50's last block. Touching bars are a step outline filled down to 0, so
    each band of :data:`GATE_BANDS` equal steps of s gets one such outline over its runs of
    consecutive channels (:func:`_band_outline`), coloured at the band's centre on the gate
    scale — the same picture in ten paths. Hover comes from one invisible line over all channels,
    first in the list (the outlines skip hover).
    """
    edges = np.linspace(0.0, 1.0, GATE_BANDS + 1)
    colours = sample_colorscale(GATE_COLORSCALE, list((edges[:-1] + edges[1:]) / 2))
    band = np.clip((y * GATE_BANDS).astype(int), 0, GATE_BANDS - 1)
    traces = [
        go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line=dict(width=0, color="rgba(0,0,0,0)"),
            customdata=customdata,
            hovertemplate=hover,
            showlegend=False,
            name=_("gates"),
        )
    ]
    for k in np.unique(band):
        bx, by = _band_outline(x, y, band == k)
        traces.append(
            go.Scatter(
                x=bx,
                y=by,
                mode="lines",
                line=dict(width=0, shape="hv"),
                fill="toself",
                fillcolor=colours[k],
                hoverinfo="skip",
                showlegend=False,
                name=f"s in [{edges[k]:.1f}, {edges[k + 1]:.1f}]",
            )
        )
    return traces


def _band_outline(x: np.ndarray, y: np.ndarray, inside: np.ndarray) -> tuple[list, list]:
    """Closed step outlines (for ``line_shape="hv"``, ``fill="toself"``) of the bars ``inside``:
    one polygon per run of consecutive channels, runs separated by a gap (None)."""
    idx = np.flatnonzero(inside)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1) if idx.size else []
    xs: list = []
    ys: list = []
    for run in runs:
        left = float(x[run[0]]) - 0.5
        # Up at the left edge, across the tops (each top from its left edge), down at the right edge.
        xs += [left, left, *(x[run[1:]] - 0.5).tolist(), float(x[run[-1]]) + 0.5, left, None]
        ys += [0.0, *y[run].tolist(), 0.0, 0.0, None]
    return xs, ys


# ---------------------------------------------------------------------------------------------
# Squeeze against gate


def squeeze_vs_gate(cap: Capture, block: str, image: int = 0, image_name: Optional[str] = None) -> go.Figure:
    """Scatter of squeeze z (x) against gate s (y) for every channel of one block.

    Shows how far the excitation is a simple function of the channel's own mean activation (a
    monotone curve) or mixes information across channels (a cloud). Markers are coloured by s
    on the fixed 0…1 gate scale (one colour above :data:`BAR_ZOOM_CHANNELS` channels, see
    :func:`_scatter_marker`); hover shows the channel index, z and s.
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
            marker=_scatter_marker(s),
            hovertemplate=(
                f"<b>{info.label}</b><br>"
                + _("channel %{customdata:d}")
                + "<br>z = %{x:.3f}<br>s = %{y:.3f}<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(title_text=_(SQUEEZE_AXIS), zeroline=True)
    fig.update_yaxes(title_text=_(GATE_AXIS), range=[0, 1])
    return layout(
        fig,
        _("Squeeze z vs gate s — {block}").format(block=info.label)
        + f"<br><sup>{image_label(i, image_name)}</sup>",
        height=480,
        margin=dict(l=10, r=10, t=80, b=60),
    )


def _scatter_marker(s: np.ndarray) -> dict:
    """Markers of the z-against-s scatter. Their colour repeats y (the gate), so a wide block
    draws them in one colour: a colour per point is what makes 2048 SVG markers slow to draw."""
    if s.size > BAR_ZOOM_CHANNELS:
        return dict(size=5, color="#3b528b", opacity=0.6, line=dict(width=0))
    return dict(size=7, color=s, opacity=0.8, line=dict(width=0), showscale=False, **gate_colorbar())


# ---------------------------------------------------------------------------------------------
# Feature maps

_MAP_WIDTH_PX = 900  # the plotting width the grid is sized for (a 1024 px screen minus the sidebar)
_COLORBAR_PX = 110
_PAIR_GAP, _INNER_GAP = 0.035, 0.008  # paper fractions between pairs and inside a pair
_PANEL_TITLE_PX = 40  # two lines of 12 px panel title above every map
_ROW_GAP_PX = 14  # air between a row of maps and the next row's titles


def pairs_per_row(k: int) -> int:
    """How many before/after pairs share a row: 1, 2 (k ≤ 4), 3 (k ≤ 9) or 4 side by side."""
    return 1 if k == 1 else 2 if k <= 4 else 3 if k <= 9 else 4


def map_size_note(height: int, width: int) -> str:
    """The subtitle's words for the map size; tiny maps (≤ :data:`TINY_MAP_PX`) are called out."""
    if max(height, width) <= TINY_MAP_PX:
        return _(
            "each map is only {h}×{w} px (as in the last stage of a small network): "
            "its values are printed on the pixels"
        ).format(h=height, w=width)
    return _("maps are {h}×{w} px").format(h=height, w=width)


def _checked_maps(cap: Capture, block: str, channels: Sequence[int], image: int):
    if block not in cap.maps_in or block not in cap.maps_out:
        raise KeyError(f"No feature maps were captured for {block!r}; capture with maps=[{block!r}].")
    chans = [int(c) for c in channels]
    if not chans:
        raise ValueError("Choose at least one channel to show.")
    u, out = cap.maps_in[block][image], cap.maps_out[block][image]
    bad = [c for c in chans if not 0 <= c < u.shape[0]]
    if bad:
        raise IndexError(f"Channel(s) {bad} out of range: {block} has {u.shape[0]} channels.")
    return chans, u, out


def _shared_colour_axis(shown: np.ndarray) -> dict:
    """One colour range for every panel: diverging around 0 for signed maps, Viridis from 0 else."""
    lo, hi = float(shown.min()), float(shown.max())
    if lo < 0:
        # Symmetric around 0 so white means zero activation in both columns.
        m = max(abs(lo), abs(hi)) or 1.0
        zmin, zmax, scale = -m, m, "RdBu_r"
    else:
        zmin, zmax, scale = 0.0, (hi or 1.0), "Viridis"
    return dict(colorscale=scale, cmin=zmin, cmax=zmax, thickness=16)


def _grid_domains(k: int, per_row: int) -> tuple[list[tuple[float, float]], int, float]:
    """Paper x-domains of the 2·per_row columns (pairs close together, gaps between pairs),
    the number of rows, and the pixel height of one row."""
    pair_w = (1.0 - _PAIR_GAP * (per_row - 1)) / per_row
    panel_w = (pair_w - _INNER_GAP) / 2
    columns = []
    for p in range(per_row):
        left = p * (pair_w + _PAIR_GAP)
        columns += [(left, left + panel_w), (left + panel_w + _INNER_GAP, left + pair_w)]
    rows = math.ceil(k / per_row)
    panel_px = (_MAP_WIDTH_PX - _COLORBAR_PX) * panel_w
    return columns, rows, panel_px + _PANEL_TITLE_PX + _ROW_GAP_PX


def _map_panel(
    z: np.ndarray,
    what: str,
    suffix: str,
    x_domain: tuple[float, float],
    y_domain: tuple[float, float],
    colour: dict,
    tiny: bool,
) -> tuple[go.Heatmap, dict]:
    """One map as a heatmap on its own pair of axes (square pixels, row 0 at the top, no ticks)."""
    trace = go.Heatmap(
        z=z,
        coloraxis="coloraxis",
        zmin=colour["cmin"],
        zmax=colour["cmax"],
        xaxis=f"x{suffix}",
        yaxis=f"y{suffix}",
        texttemplate="%{z:.2f}" if tiny else None,
        hovertemplate=f"{what}<br>" + _("row %{y}, column %{x}<br>activation = %{z:.3f}") + "<extra></extra>",
    )
    picture = dict(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    axes = {
        f"xaxis{suffix}": dict(domain=x_domain, anchor=f"y{suffix}", **picture),
        f"yaxis{suffix}": dict(
            domain=y_domain, anchor=f"x{suffix}", scaleanchor=f"x{suffix}", autorange="reversed", **picture
        ),
    }
    return trace, axes


def _note(text: str, x: float, y: float, shift: int = 0) -> dict:
    """A panel title: centred on ``x``, its bottom ``shift`` px above the top ``y`` of the maps."""
    return dict(
        text=text,
        x=x,
        y=y,
        xref="paper",
        yref="paper",
        xanchor="center",
        yanchor="bottom",
        yshift=shift,
        showarrow=False,
        font=dict(size=FONT_SIZE - 2),
    )


def feature_maps(
    cap: Capture, block: str, channels: Sequence[int], image: int = 0, image_name: Optional[str] = None
) -> go.Figure:
    """Spatial maps of chosen channels before and after the SE scaling, on one shared colour scale.

    Each channel is a pair of square panels side by side under one title naming the channel and its
    gate — the block input u_c ("before SE") and the output s_c · u_c ("after SE") — and several
    pairs share a row (:func:`pairs_per_row`), so k = 8 channels fit in three rows (the figure is
    669 px high: its ``layout.height``) across the width. Every panel uses the same colour range
    (one colour bar), so the gate shows as a change of contrast: with s_c = 0.2 the right map is
    visibly fainter. Signed activations use a diverging scale centred on 0; non-negative ones
    Viridis from 0. The subtitle gives the map size in pixels; maps of :data:`TINY_MAP_PX` px or
    less are called tiny and print their values on the pixels. Needs the block's maps: capture with
    ``maps=[block]``.
    """
    i = check_image(cap, image)
    info = cap.block(block)
    chans, u, out = _checked_maps(cap, block, channels, i)
    s = cap.gates[block][i]
    colour = _shared_colour_axis(np.concatenate([u[chans].ravel(), out[chans].ravel()]))
    h, w = u.shape[-2:]
    tiny = max(h, w) <= TINY_MAP_PX
    per_row = pairs_per_row(len(chans))
    columns, rows, row_px = _grid_domains(len(chans), per_row)
    plot_px = rows * row_px
    axes: dict = {}
    traces, notes = [], []
    for n, c in enumerate(chans):
        r, p = divmod(n, per_row)
        y_top = 1.0 - r * row_px / plot_px
        y_domain = (max(0.0, y_top - (row_px - _ROW_GAP_PX) / plot_px), y_top - _PANEL_TITLE_PX / plot_px)
        sides = ((u, "u_c", _("before SE")), (out, "s_c · u_c", _("after SE")))
        for side, (maps, what, head) in enumerate(sides):
            k = 2 * n + side + 1
            x_domain = columns[2 * p + side]
            trace, panel_axes = _map_panel(
                maps[c],
                _("channel {c} · {what}").format(c=c, what=what),
                "" if k == 1 else str(k),
                x_domain,
                y_domain,
                colour,
                tiny,
            )
            traces.append(trace)
            axes.update(panel_axes)
            notes.append(_note(head, sum(x_domain) / 2, y_domain[1]))
        pair = columns[2 * p][0], columns[2 * p + 1][1]
        head = _("<b>channel {c}</b> · s_c = {s}").format(c=c, s=f"{s[c]:.3f}")
        notes.append(_note(head, sum(pair) / 2, y_domain[1], shift=18))
    fig = go.Figure(traces)
    fig.update_layout(**axes)
    title = (
        _("Feature maps of {block} before and after SE").format(block=info.label)
        + f"<br><sup>{map_size_note(h, w)} · {image_label(i, image_name)}</sup><br><sup>"
        + _("before SE: u_c, after SE: s_c · u_c, on one colour scale")
        + "</sup>"
    )
    return layout(
        fig,
        title,
        height=plot_px + 150,
        annotations=notes,
        coloraxis=dict(
            colorscale=colour["colorscale"],
            cmin=colour["cmin"],
            cmax=colour["cmax"],
            colorbar=dict(title=dict(text=_("activation (shared scale)"), side="right"), thickness=16),
        ),
        margin=dict(l=10, r=10, t=120, b=20),
    )
