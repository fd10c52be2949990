"""Pure Plotly figures of a whole gate dataset's aggregates (no rows needed)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..i18n import _
from .style import GATE_AXIS, layout

__all__ = ["gate_histogram_figure"]


def gate_histogram_figure(
    edges: np.ndarray, counts: Mapping[str, np.ndarray], blocks: Sequence[str], images: int
) -> go.Figure:
    """Where each block's gates lie: one row per block (forward order, top to bottom), one cell
    per bin of the gate axis, coloured by the share of the block's gate values in that bin.

    ``edges`` (B + 1,) and ``counts`` (block → (B,)) are exact counts over all images and
    channels (:meth:`se_viz.datasets.aggregate.DatasetAggregates.histograms`)."""
    if not blocks:
        raise ValueError("No blocks to draw.")
    centres = (edges[:-1] + edges[1:]) / 2
    shares = np.stack([counts[b] / max(int(counts[b].sum()), 1) for b in blocks]) * 100
    # Gates piled up at 0 or 1 would take the whole colour range and leave the rest of the
    # distribution white: the scale stops at the 98th percentile of the cells (hover is exact).
    top = float(np.quantile(shares, 0.98)) or 1.0
    fig = go.Figure(
        go.Heatmap(
            x=centres,
            y=list(blocks),
            z=shares,
            zmin=0,
            zmax=top,
            colorscale="Blues",
            colorbar=dict(
                title=dict(
                    text=_("% of the block's gates (≥ {top} dark)").format(top=f"{top:.1f}"), side="right"
                ),
                thickness=16,
            ),
            hovertemplate=_("<b>%{y}</b><br>gate ≈ %{x:.2f}: %{z:.2f} % of its gates") + "<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=_(GATE_AXIS), range=[0, 1])
    fig.update_yaxes(title_text=_("SE block (forward order)"), autorange="reversed", type="category")
    layout(
        fig,
        _(
            "Distribution of the gates per block<br><sup>share of each block's gate values per bin of "
            "{width}, over all {n} images and all channels (exact counts)</sup>"
        ).format(width=f"{1 / (len(edges) - 1):.2f}", n=f"{images:,}"),
        height=max(320, 120 + 22 * len(blocks)),
        margin=dict(l=10, r=10, t=90, b=60),
    )
    return fig
