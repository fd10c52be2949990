"""The top-k predictions of one image as a horizontal bar chart in percent."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..i18n import _, class_name
from .style import layout

__all__ = ["predictions_bar"]

_LABEL_CHARS = 24  # class names wrap to lines of at most this many characters


def predictions_bar(table: pd.DataFrame) -> go.Figure:
    """Horizontal bar chart of a :func:`se_viz.analysis.topk_predictions` table, in percent.

    The most probable class is at the top; bar text shows the percentage. Rows are placed by
    rank (labels are tick text), because class names can repeat (ImageNet has two "crane"s) and
    a categorical axis would silently merge them.
    """
    ranks = table["rank"].to_numpy()
    pct = table["probability"].to_numpy(dtype=np.float64) * 100.0
    labels = [class_name(str(x)) for x in table["label"]]
    # Long ImageNet names ("spiny lobster, langouste, rock lobster, …") wrap instead of squeezing
    # the bars; nothing is cut, and the hover repeats the name on one line.
    ticks = ["<br>".join(textwrap.wrap(name, _LABEL_CHARS)) or name for name in labels]
    lines = sum(t.count("<br>") + 1 for t in ticks)
    fig = go.Figure(
        go.Bar(
            x=pct,
            y=ranks,
            orientation="h",
            text=[f"{p:.1f} %" for p in pct],
            textposition="outside",
            cliponaxis=False,  # the percentage may stand past the axis end, never cut
            customdata=np.stack([table["class_index"].to_numpy(), np.array(labels, dtype=object)], axis=1)
            if len(table)
            else None,
            marker_color="#3b528b",
            hovertemplate=_("<b>%{customdata[1]}</b><br>class %{customdata[0]}<br>probability %{x:.2f} %")
            + "<extra></extra>",
        )
    )
    top = float(pct.max()) if pct.size else 100.0
    fig.update_xaxes(title_text=_("probability (%)"), range=[0, min(100.0, top * 1.25) or 1.0])
    fig.update_yaxes(title_text=_("class"), tickvals=ranks, ticktext=ticks, autorange="reversed")
    return layout(
        fig,
        _("Top-{k} predictions").format(k=len(table)),
        height=120 + 22 * max(len(table), 1) + 18 * max(lines, 1),
        margin=dict(l=10, r=70, t=60, b=50),
    )
