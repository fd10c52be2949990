"""The top-k predictions of one image as a horizontal bar chart in percent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .style import _layout

__all__ = ["predictions_bar"]


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
    return _layout(fig, f"Top-{len(table)} predictions", height=120 + 40 * max(len(table), 1),
                   margin=dict(l=10, r=30, t=60, b=50))
