"""Pure Plotly builders for interventions, the knock-out sweep, set ablations and the block walk.

Data in (DataFrames from :mod:`se_viz.interventions`, NumPy vectors and maps from
:class:`~se_viz.engine.walkthrough.BlockWalk`), ``go.Figure`` out; no torch, no Streamlit. The
look is the one of :mod:`se_viz.figures.style` (same template, fonts, stage colours and gate
colour scale); :func:`se_viz.figures.projector` makes the classroom version of any of them.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import N_, _, class_name
from ..interventions.dataset import condition_label
from .style import FONT_SIZE, GATE_AXIS, GROUP_COLOURS, gate_colorbar, layout

__all__ = [
    "ACCURACY_AXIS",
    "AGREEMENT_AXIS",
    "ablation_chart",
    "map_grid",
    "reduce_bars",
    "sweep_bar",
    "top5_comparison",
    "vector_bars",
]

_BEFORE, _AFTER = "#7f7f7f", "#d62728"


# ---------------------------------------------------------------------------------------------
# One intervention


def top5_comparison(table: pd.DataFrame, edit_label: str, image_name: Optional[str] = None) -> go.Figure:
    """Old and new top-k side by side (from ``InterventionResult.top()``), probabilities in percent.

    Every class in either list gets a row, so a class that drops out of the top-5 is still
    visible with its bar shrunk to what it has left.
    """
    before = dict(zip(table["before_class"], table["before_probability"], strict=True))
    after = dict(zip(table["after_class"], table["after_probability"], strict=True))
    classes = list(dict.fromkeys([*table["before_class"], *table["after_class"]]))
    shown = [class_name(str(c)) for c in classes]
    fig = go.Figure()
    for name, values, colour in (
        (_("before the edit"), before, _BEFORE),
        (_("after the edit"), after, _AFTER),
    ):
        pct = [100.0 * values[c] if c in values else np.nan for c in classes]
        fig.add_trace(
            go.Bar(
                y=list(range(len(classes))),
                x=pct,
                orientation="h",
                name=name,
                marker_color=colour,
                text=["" if np.isnan(p) else f"{p:.1f} %" for p in pct],
                textposition="outside",
                customdata=shown,
                hovertemplate="<b>%{customdata}</b><br>" + name + ": %{x:.2f} %<extra></extra>",
            )
        )
    fig.update_yaxes(
        title_text=_("class"), tickvals=list(range(len(classes))), ticktext=shown, autorange="reversed"
    )
    fig.update_xaxes(title_text=_("probability (%)"), range=[0, 115])
    sub = (
        f"<br><sup>{edit_label}"
        + (f" · {image_name}" if image_name else "")
        + " · "
        + _("(no bar: not in that top-5)")
        + "</sup>"
    )
    return layout(
        fig,
        _("Top-5 before and after the edit") + sub,
        height=160 + 56 * len(classes),
        barmode="group",
        legend=dict(orientation="h", y=-0.2),
        margin=dict(l=10, r=30, t=90, b=90),
    )


# ---------------------------------------------------------------------------------------------
# Knock-out sweep


def sweep_bar(frame: pd.DataFrame, predicted: str, image_name: Optional[str] = None) -> go.Figure:
    """Change in log-probability of the predicted class when each block is knocked out.

    ``frame`` is ``SweepResult.to_frame()``: one bar per block in forward order, coloured by
    stage; blocks whose knock-out changes the top-1 class are marked "flips".
    """
    stages = list(dict.fromkeys(frame["stage"]))
    colour = {s: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, s in enumerate(stages)}
    fig = go.Figure()
    for s in stages:
        part = (
            frame[frame["stage"] == s] if s is not None and not pd.isna(s) else frame[frame["stage"].isna()]
        )
        fig.add_trace(
            go.Bar(
                x=part["block"],
                y=part["delta_logprob"],
                name=_("stage {s}").format(s=int(s)) if s is not None and not pd.isna(s) else _("blocks"),
                marker_color=colour[s],
                text=[_("flips") if c else "" for c in part["prediction_changed"]],
                textposition="outside",
                customdata=np.stack(
                    [part["delta_prob"] * 100.0, [class_name(str(c)) for c in part["new_top1"]]], axis=1
                ),
                # Translators: a Plotly hover template; keep every %{…} exactly as it is.
                hovertemplate=_(
                    "<b>%{x}</b> neutralised<br>Δ log p = %{y:.3f}<br>Δ p = %{customdata[0]:.2f} "
                    "percentage points<br>new top-1: %{customdata[1]}<extra></extra>"
                ),
            )
        )
    fig.add_hline(y=0, line_color="#444")
    fig.update_xaxes(
        title_text=_("SE block neutralised (s = 1)"),
        categoryorder="array",
        categoryarray=list(frame["block"]),
    )
    fig.update_yaxes(title_text=_("Δ log p(predicted class) (nats)"))
    sub = (
        "<br><sup>"
        + _("predicted class: {cls}").format(cls=predicted)
        + (f" · {image_name}" if image_name else "")
        + " · "
        + _("below 0: the block helped this prediction")
        + "</sup>"
    )
    return layout(
        fig,
        _("Knock-out sweep: what each SE block is worth") + sub,
        height=460,
        legend=dict(orientation="h", y=-0.3),
        margin=dict(l=10, r=10, t=90, b=110),
    )


# ---------------------------------------------------------------------------------------------
# Set-level ablation


AGREEMENT_AXIS = N_("images (%): same top-1 as the unedited network")
ACCURACY_AXIS = N_("images (%): same top-1 as the unedited network, or correct top-1")


def ablation_chart(table: pd.DataFrame, num_images: Optional[int] = None) -> go.Figure:
    """Top-1 agreement with the unedited network (and accuracy, where labels exist) per condition.

    ``table`` is ``SetAblationResult.table()``; conditions are rows, in percent. Agreement is
    the share of images whose top-1 class stays the one the unedited network gave; it is 100 %
    by definition for the unedited row. When every condition keeps every top-1 (a robust
    network on easy images) the bars all reach 100 %, and the subtitle says so and points to the
    mean change in log-probability, which still moves.
    """
    rows = table.iloc[::-1]
    labelled = bool(rows["accuracy"].notna().any())
    conditions = [
        condition_label(k, c, s)
        for k, c, s in zip(rows["kind"], rows["condition"], rows["stage"], strict=True)
    ]

    def percent_bar(column: str, name: str, colour: str, hover: str) -> go.Bar:
        """One horizontal bar per condition: the fraction in ``column`` as a labelled percentage."""
        return go.Bar(
            y=conditions,
            x=rows[column] * 100.0,
            orientation="h",
            name=name,
            marker_color=colour,
            text=[f"{v * 100:.1f} %" for v in rows[column]],
            textposition="outside",
            hovertemplate=f"<b>%{{y}}</b><br>{hover}<extra></extra>",
        )

    fig = go.Figure(
        percent_bar(
            "top1_agreement",
            _("same top-1 as the unedited network"),
            "#3b528b",
            _("top-1 unchanged for %{x:.1f} % of the images"),
        )
    )
    if labelled:
        fig.add_trace(
            percent_bar(
                "accuracy",
                _("top-1 accuracy (labelled images)"),
                "#5ec962",
                _("top-1 accuracy %{x:.1f} %"),
            )
        )
    fig.update_xaxes(title_text=_(ACCURACY_AXIS if labelled else AGREEMENT_AXIS), range=[0, 118])
    fig.update_yaxes(title_text=_("condition (blocks neutralised, s = 1)"))
    what = (
        _("blue: images whose top-1 class stays the unedited network's · green: correct top-1 (labels)")
        if labelled
        else _("blue: images whose top-1 class stays the unedited network's · no labels, so no accuracy")
    )
    sub = f"<br><sup>{what}</sup>"
    if (table["top1_agreement"] >= 1.0).all():
        sub += (
            "<br><sup>"
            + _(
                "every condition keeps every image's top-1: this network does not need these "
                "gates to decide here; the mean Δ log p in the table still shows how much they help"
            )
            + "</sup>"
        )
    heading = (
        _("Knocking out SE blocks over {n} images").format(n=num_images)
        if num_images
        else _("Knocking out SE blocks over a set of images")
    )
    height = 170 + 34 * len(rows) * (1 + labelled)
    return layout(
        fig,
        heading + sub,
        height=height,
        barmode="group",
        # Below the axis title: 60 px under the plot area (110 + 90 px of margins).
        legend=dict(orientation="h", yanchor="top", y=-60 / max(height - 200, 100)),
        margin=dict(l=10, r=30, t=110, b=90),
    )


# ---------------------------------------------------------------------------------------------
# The walk through one block


def map_grid(
    maps: np.ndarray,
    channels: Sequence[int],
    title: str,
    values: Optional[Sequence[float]] = None,
    value_name: str = "",
    per_row: int = 4,
) -> go.Figure:
    """Feature maps (k, H, W) on one shared colour scale, titled by channel (and a value), at most
    ``per_row`` side by side (2 on a projector, where the fonts grow and four maps in a row leave
    each little room).

    ``values`` (one per map) are printed in the panel titles, e.g. the squeeze ``z_c`` or gate
    ``s_c`` of the channel, so the picture and its number sit together.
    """
    k = len(channels)
    cols = max(1, min(per_row, k))
    rows = -(-k // cols)
    titles = [
        _("channel {c}").format(c=c) + (f"<br>{value_name} = {values[i]:.3f}" if values is not None else "")
        for i, c in enumerate(channels)
    ]
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=titles, horizontal_spacing=0.03, vertical_spacing=0.12 / rows
    )
    lo, hi = float(np.min(maps)), float(np.max(maps))
    if lo < 0:
        m = max(abs(lo), abs(hi)) or 1.0
        zmin, zmax, scale = -m, m, "RdBu_r"
    else:
        zmin, zmax, scale = 0.0, hi or 1.0, "Viridis"
    for i in range(k):
        fig.add_trace(
            go.Heatmap(
                z=maps[i],
                coloraxis="coloraxis",
                hovertemplate=_("row %{y}, column %{x}<br>activation %{z:.3f}<extra></extra>"),
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
        suffix = "" if i == 0 else str(i + 1)
        fig.layout[f"yaxis{suffix}"].update(
            scaleanchor=f"x{suffix}", autorange="reversed", showticklabels=False, showgrid=False
        )
        fig.layout[f"xaxis{suffix}"].update(showticklabels=False, showgrid=False, constrain="domain")
    h, w = maps.shape[-2:]
    layout(
        fig,
        f"{title}<br><sup>" + _("{h}×{w} px each, one shared colour scale").format(h=h, w=w) + "</sup>",
        # One row of four is 230 px of maps; a row of two, twice as wide, twice as tall.
        height=130 + rows * int(230 * 4 / cols),
        coloraxis=dict(
            colorscale=scale,
            cmin=zmin,
            cmax=zmax,
            colorbar=dict(title=dict(text=_("activation"), side="right"), thickness=16),
        ),
        margin=dict(l=10, r=10, t=110, b=20),
    )
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def vector_bars(
    values: np.ndarray,
    title: str,
    y_title: str,
    *,
    highlight: Sequence[int] = (),
    gates: bool = False,
    x_title: Optional[str] = None,
) -> go.Figure:
    """One bar per entry of a vector (z, the reduced vector, s), highlighted entries outlined.

    With ``gates`` the bars use the gate colour scale and the y-axis is fixed to 0…1.
    """
    v = np.asarray(values, dtype=np.float64)
    idx = np.arange(v.size)
    hl = set(int(i) for i in highlight)
    marker: dict = dict(
        line=dict(
            color=["black" if i in hl else "rgba(0,0,0,0)" for i in idx],
            width=[3 if i in hl else 0 for i in idx],
        )
    )
    if gates:
        marker.update(color=v, showscale=False, **gate_colorbar(_(GATE_AXIS)))
    else:
        marker.update(color=["#d62728" if i in hl else "#3b528b" for i in idx])
    fig = go.Figure(
        go.Bar(x=idx, y=v, marker=marker, hovertemplate=_("entry %{x}<br>value %{y:.4f}<extra></extra>"))
    )
    fig.update_xaxes(title_text=_("channel c") if x_title is None else x_title, range=[-0.5, v.size - 0.5])
    fig.update_yaxes(title_text=y_title, **({"range": [0, 1]} if gates else {}))
    return layout(
        fig, title, height=380, bargap=0 if v.size > 200 else 0.1, margin=dict(l=10, r=10, t=70, b=60)
    )


def reduce_bars(pre: np.ndarray, post: np.ndarray, activation: str = "ReLU") -> go.Figure:
    """The reduced vector before (W₁z + b₁) and after the activation δ, as grouped bars."""
    idx = np.arange(len(pre))
    fig = go.Figure(
        [
            go.Bar(
                x=idx,
                y=pre,
                name=_("W₁z + b₁ (before δ)"),
                marker_color=_BEFORE,
                hovertemplate=_("unit %{x}<br>W₁z + b₁ = %{y:.4f}<extra></extra>"),
            ),
            go.Bar(
                x=idx,
                y=post,
                name=_("δ(W₁z + b₁) (after {activation})").format(activation=activation),
                marker_color="#2ca02c",
                hovertemplate=_("unit %{x}<br>after δ = %{y:.4f}<extra></extra>"),
            ),
        ]
    )
    fig.add_hline(y=0, line_color="#444")
    fig.update_xaxes(title_text=_("unit of the reduced vector (index)"), dtick=1 if len(pre) <= 32 else None)
    fig.update_yaxes(title_text=_("value (activation units)"))
    return layout(
        fig,
        _("The bottleneck: {n} numbers, before and after {activation}").format(
            n=len(pre), activation=activation
        ),
        height=400,
        barmode="group",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1),
        margin=dict(l=10, r=10, t=110, b=70),
    )
