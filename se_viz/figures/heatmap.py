"""The gate heatmap: every gate s of one image, rows = SE blocks, columns = channels."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.stats import channel_order, check_image, normalise_sort
from ..engine.blocks import BlockInfo
from ..engine.capture import Capture
from ..i18n import _, ngettext
from .style import FONT_SIZE, channel_dtick, gate_colorbar, layout, panel_groups, sort_axis_title

__all__ = ["gate_heatmap"]

# Pixel budget: rows thin enough that 50 blocks fit a page, thick enough to hover on.
_ROW_PX, _ROW_PX_MANY = 26, 18
_GAP_PX = 62  # room for a panel's tick labels and the next panel's title


def _group_title(group: Sequence[BlockInfo]) -> str:
    first = group[0]
    n = len(group)
    what = ngettext("{n} block · {c} channels", "{n} blocks · {c} channels", n).format(n=n, c=first.channels)
    return (
        _("stage {stage} · {what}").format(stage=first.stage, what=what) if first.stage is not None else what
    )


def _panel_trace(cap: Capture, group: Sequence[BlockInfo], image: int, sort: str) -> go.Heatmap:
    """One panel's heatmap: each block's row ordered by ``sort``, true channel and z in customdata."""
    c = group[0].channels
    s_rows = np.empty((len(group), c), dtype=np.float32)
    custom = np.empty((len(group), c, 2), dtype=np.float32)
    for r, b in enumerate(group):
        s = cap.gates[b.name][image]
        order = channel_order(s, sort)
        s_rows[r] = s[order]
        custom[r, :, 0] = order
        custom[r, :, 1] = cap.squeeze[b.name][image][order]
    rank_line = _("rank %{x}") + "<br>" if normalise_sort(sort) != "natural" else ""
    return go.Heatmap(
        z=s_rows,
        x=np.arange(c),
        y=[b.label for b in group],
        customdata=custom,
        coloraxis="coloraxis",
        zmin=0.0,
        zmax=1.0,
        xgap=0,
        ygap=1,
        hovertemplate=(
            "<b>%{y}</b><br>"
            + rank_line
            + _("channel %{customdata[0]:d}")
            + "<br>s = %{z:.3f}<br>z = %{customdata[1]:.3f}<extra></extra>"
        ),
    )


def gate_heatmap(
    cap: Capture, image: int = 0, sort: str = "natural", title: Optional[str] = None
) -> go.Figure:
    """Heatmap of every gate s of one image: rows = SE blocks, columns = channels.

    One panel (subplot row, one ``go.Heatmap``) per stage — or per run of equal channel count
    when the model has no stages — and each panel's x-axis spans that panel's own channel count,
    so a 256-channel row is never stretched to look like a 2048-channel one. All panels share one
    colour axis fixed to 0…1. Ticks fall on power-of-two channel numbers (at most 8 per panel).
    ``sort`` (see :func:`se_viz.analysis.channel_order`) reorders each block's row
    independently; x is then the rank and the hover still shows the true channel index
    (``customdata[..., 0]``) and the squeeze z (``customdata[..., 1]``).
    """
    i = check_image(cap, image)
    if not cap.blocks:
        raise ValueError("The capture holds no SE blocks to draw.")
    normalise_sort(sort)  # an unknown order fails here, before any drawing
    groups = panel_groups(cap.blocks)
    row_px = _ROW_PX if len(cap.blocks) <= 20 else _ROW_PX_MANY
    panel_px = [max(len(g) * row_px, 40) for g in groups]
    plot_px = sum(panel_px) + _GAP_PX * (len(groups) - 1)
    fig = make_subplots(
        rows=len(groups),
        cols=1,
        row_heights=[p / sum(panel_px) for p in panel_px],
        vertical_spacing=_GAP_PX / plot_px if len(groups) > 1 else 0.0,
        subplot_titles=[_group_title(g) for g in groups],
    )
    fig.add_traces(
        [_panel_trace(cap, g, i, sort) for g in groups],
        rows=list(range(1, len(groups) + 1)),
        cols=[1] * len(groups),
    )
    x_title = sort_axis_title(sort)
    for r, g in enumerate(groups, start=1):
        c = g[0].channels
        fig.update_xaxes(
            range=[-0.5, c - 0.5],
            tick0=0,
            dtick=channel_dtick(c),
            showgrid=False,
            zeroline=False,
            row=r,
            col=1,
            title_text=x_title if r == len(groups) else None,
        )
        # Forward order reads top to bottom, like the network's depth.
        fig.update_yaxes(
            autorange="reversed", showgrid=False, row=r, col=1, title_text=_("SE block") if r == 1 else None
        )
    if title is None:
        title = _("Excitation gates s per SE block and channel") + "<br><sup>" + _("image {i}").format(i=i)
        if normalise_sort(sort) != "natural":
            title += " · " + _("each row sorted, {order}").format(order=_(normalise_sort(sort)))
        title += "</sup>"
    layout(fig, title, height=plot_px + 170, coloraxis=gate_colorbar(), margin=dict(l=10, r=10, t=100, b=70))
    fig.update_annotations(font_size=FONT_SIZE)
    return fig
