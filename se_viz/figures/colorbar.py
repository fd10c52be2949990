"""The gate colour bar alone: shown beside the live video, whose gate strip is drawn in the same
colours, so the class reads the strip with the Gate heatmap's own scale."""

from __future__ import annotations

import plotly.graph_objects as go

from .style import GATE_AXIS, gate_colorbar, layout

__all__ = ["gate_colorbar_figure"]


def gate_colorbar_figure(height: int = 360) -> go.Figure:
    """A figure holding only the gate colour bar (0…1, the heatmap's scale and title)."""
    bar = gate_colorbar(GATE_AXIS)
    marker = dict(
        color=[0.0, 1.0],
        colorscale=bar["colorscale"],
        cmin=bar["cmin"],
        cmax=bar["cmax"],
        showscale=True,
        colorbar={**bar["colorbar"], "x": 0.0, "xanchor": "left", "len": 1.0},
    )
    fig = go.Figure(
        go.Scatter(x=[None, None], y=[None, None], mode="markers", marker=marker, hoverinfo="skip")
    )
    layout(fig, "", height, margin=dict(l=0, r=0, t=10, b=10), showlegend=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
