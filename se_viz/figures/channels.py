"""Figures of the channel studies: a channel's atlas and histogram, pruning curves, deletion and
insertion curves. Pure builders over the dataclasses of :mod:`se_viz.channels`."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..channels.atlas import AtlasRow, ChannelAtlas
from ..channels.faithfulness import NETWORK, FaithfulnessCurves
from ..channels.pruning import PruningCurves
from ..i18n import N_, _, class_name
from .style import GATE_AXIS, GROUP_COLOURS, SQUEEZE_AXIS, layout

__all__ = [
    "PRUNE_MEASURES",
    "atlas_figure",
    "atlas_histogram",
    "faithfulness_figure",
    "pruning_figure",
    "ranking_colours",
]

# Measure → (axis title with unit, attribute of PruningCurves, scale to display). The measures' names
# are identifiers (the app's options, links); they and the titles are translated where shown.
PRUNE_MEASURES = {
    N_("top-1 accuracy"): (N_("top-1 accuracy (%)"), "accuracy", 100.0),
    N_("agreement"): (N_("top-1 agreement with the unpruned network (%)"), "agreement", 100.0),
    N_("Δ log p"): (N_("mean Δ log p of the original top-1 class (nats)"), "delta_logprob", 1.0),
}
RANDOM_COLOUR = "#7f7f7f"
OVERLAY_OPACITY = 0.55  # the image stays readable under the map


def ranking_colours(kinds: Sequence[str]) -> dict[str, str]:
    """One colour per ranking kind (random always grey), the same in every channel figure."""
    others = [k for k in dict.fromkeys(kinds) if k != "random"]
    out = {k: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, k in enumerate(others)}
    out["random"] = RANDOM_COLOUR
    return out


def _quantity_axis(quantity: str) -> str:
    return GATE_AXIS if quantity == "s" else SQUEEZE_AXIS


def _overlay_scale(maps: np.ndarray) -> dict:
    """One colour range for every overlay: symmetric around 0 for signed maps, from 0 otherwise."""
    lo, hi = float(np.nanmin(maps)), float(np.nanmax(maps))
    if lo < 0:
        m = max(abs(lo), abs(hi)) or 1.0
        return dict(colorscale="RdBu_r", cmin=-m, cmax=m)
    return dict(colorscale="Viridis", cmin=0.0, cmax=hi or 1.0)


CAPTION_CHARS = 14  # a class name longer than this is cut: narrow panels at projector font sizes


def _caption(row: AtlasRow, quantity: str) -> str:
    """Rank, value and class (the true one; the prediction, in italics, when unknown)."""
    value = f"s {row.s:.3f}" if quantity == "s" else f"z {row.z:.2f}"
    cls = class_name(row.label) if row.label is not None else class_name(row.prediction or "")
    short = cls if len(cls) <= CAPTION_CHARS else cls[: CAPTION_CHARS - 1] + "…"
    return f"#{row.rank} · {value}<br>{short if row.label is not None else f'<i>{short}</i>'}"


def atlas_figure(
    atlas: ChannelAtlas,
    top_views: Sequence[np.ndarray],
    bottom_views: Sequence[np.ndarray],
    *,
    block_label: Optional[str] = None,
) -> go.Figure:
    """The top-k (upper row) and bottom-k (lower row) images of a channel, each with its feature map
    u_c laid over it (upsampled to the image, one shared colour scale, semi-transparent).

    ``top_views`` / ``bottom_views`` are the images as the network sees them (uint8 H×W×3), in the
    atlas's rank order; the maps come from :meth:`ChannelAtlas.with_maps`. Each panel names the
    rank, the gate (or squeeze) value and the class.
    """
    if atlas.maps_top is None or atlas.maps_bottom is None:
        raise ValueError("The atlas has no feature maps: compute them with channel_maps and with_maps()")
    k = max(len(atlas.top), len(atlas.bottom), 1)
    rows = [(atlas.top, top_views, atlas.maps_top), (atlas.bottom, bottom_views, atlas.maps_bottom)]
    grid_titles = []
    for rs, _views, _maps in rows:
        grid_titles += [_caption(r, atlas.quantity) for r in rs] + [""] * (k - len(rs))
    fig = make_subplots(
        rows=2, cols=k, subplot_titles=grid_titles, horizontal_spacing=0.012, vertical_spacing=0.16
    )
    scale = _overlay_scale(np.concatenate([atlas.maps_top.ravel(), atlas.maps_bottom.ravel()]))
    for r, (rs, views, maps) in enumerate(rows):
        for j, (row, view, m) in enumerate(zip(rs, views, maps, strict=True)):
            h, w = view.shape[:2]
            mh, mw = m.shape
            fig.add_trace(go.Image(z=view, hoverinfo="skip"), row=r + 1, col=j + 1)
            fig.add_trace(
                go.Heatmap(
                    z=m,
                    x0=-0.5 + w / mw / 2,
                    dx=w / mw,
                    y0=-0.5 + h / mh / 2,
                    dy=h / mh,
                    opacity=OVERLAY_OPACITY,
                    zsmooth="best",
                    coloraxis="coloraxis",
                    hovertemplate=f"{row.path}<br>u_c = %{{z:.3f}}<extra></extra>",
                ),
                row=r + 1,
                col=j + 1,
            )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor=None)
    fig.update_annotations(font_size=11)
    name = block_label or atlas.block
    by = _("gate s_c") if atlas.quantity == "s" else _("squeeze z_c")
    pure = atlas.purity
    size = f"{atlas.maps_top.shape[-2]}×{atlas.maps_top.shape[-1]} px" if len(atlas.maps_top) else ""
    heading = _(
        "Channel {c} of {block}: top {top} (upper row) and bottom {bottom} (lower row) of {n} images by {by}"
    ).format(
        c=atlas.channel, block=name, top=len(atlas.top), bottom=len(atlas.bottom), n=atlas.num_images, by=by
    )
    overlay = (
        _(
            "overlay: feature map u_c ({size}, upsampled; one colour scale) · top-{k} purity {purity} % "
            "{majority} (by true class; italics: predicted class)"
        )
        if pure.by == "label"
        else _(
            "overlay: feature map u_c ({size}, upsampled; one colour scale) · top-{k} purity {purity} % "
            "{majority} (by prediction; italics: predicted class)"
        )
    ).format(
        size=size,
        k=len(atlas.top),
        purity=f"{100 * pure.purity:.0f}",
        majority=class_name(pure.majority) if pure.majority else "",
    )
    title = f"{heading}<br><sup>{overlay}</sup>"
    return layout(
        fig,
        title,
        height=int(2 * max(120, 900 / k) + 230),
        coloraxis=dict(
            colorscale=scale["colorscale"],
            cmin=scale["cmin"],
            cmax=scale["cmax"],
            colorbar=dict(title=dict(text=_("u_c (activation)"), side="right"), thickness=14),
        ),
        # Room above the first row for its captions, below the title even at projector sizes.
        margin=dict(l=10, r=10, t=180, b=10),
    )


def atlas_histogram(atlas: ChannelAtlas, *, block_label: Optional[str] = None) -> go.Figure:
    """The channel's gate (or squeeze) over the whole set as a histogram, with the values that bound
    the top k and the bottom k marked (everything right of the one / left of the other is shown)."""
    counts, edges = atlas.histogram
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=centres,
            y=counts,
            width=np.diff(edges),
            marker_color="#4c78a8",
            hovertemplate=_("%{x:.3f}: %{y} images<extra></extra>"),
        )
    )
    attr = "s" if atlas.quantity == "s" else "z"
    if atlas.top:
        fig.add_vline(
            x=getattr(atlas.top[-1], attr),
            line_dash="dash",
            line_color="#d62728",
            annotation_text=_("top {k}").format(k=len(atlas.top)),
            annotation_position="top right",
        )
    if atlas.bottom:
        fig.add_vline(
            x=getattr(atlas.bottom[-1], attr),
            line_dash="dash",
            line_color="#1f77b4",
            annotation_text=_("bottom {k}").format(k=len(atlas.bottom)),
            annotation_position="bottom left",
        )
    what = _("gate s_c") if atlas.quantity == "s" else _("squeeze z_c")
    heading = _("{what} of channel {c} of {block} over {n} images").format(
        what=what, c=atlas.channel, block=block_label or atlas.block, n=atlas.num_images
    )
    note = _("mean {mean}; dashed: the values bounding the top and bottom {k}").format(
        mean=f"{atlas.mean:.3f}", k=atlas.k
    )
    title = f"{heading}<br><sup>{note}</sup>"
    return layout(
        fig,
        title,
        height=320,
        xaxis_title=_(_quantity_axis(atlas.quantity)),
        yaxis_title=_("images"),
        bargap=0.02,
        margin=dict(l=60, r=20, t=80, b=50),
    )


def _band(fig: go.Figure, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, name: str, **where) -> None:
    """A grey band between ``lo`` and ``hi`` (the spread of the random repeats)."""
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([hi, lo[::-1]]),
            fill="toself",
            fillcolor="rgba(127,127,127,0.25)",
            line=dict(width=0),
            hoverinfo="skip",
            name=name,
            legendgroup="random",
            showlegend=False,
        ),
        **where,
    )


def pruning_figure(curves: PruningCurves, measure: str = "agreement", x_axis: str = "fraction") -> go.Figure:
    """One line per ranking of ``measure`` (a key of :data:`PRUNE_MEASURES`) against the fraction of
    channels pruned (``x_axis="fraction"``, %) or the multiply-adds removed (``"macs"``, %); random is
    its mean over the repeats with a band from the lowest to the highest repeat."""
    axis_title, attr, scale = PRUNE_MEASURES[measure]
    values = getattr(curves, attr)
    if values is None:
        raise ValueError(_("{measure} needs labels; this image set has none").format(measure=_(measure)))
    colours = ranking_colours(curves.kinds)
    fig = go.Figure()
    for kind in dict.fromkeys(curves.kinds):
        idx = [i for i, k in enumerate(curves.kinds) if k == kind]
        xs = 100 * (curves.fractions if x_axis == "fraction" else curves.macs_removed[idx].mean(axis=0))
        ys = scale * values[idx]
        shown = _(kind)
        name = (
            shown
            if len(idx) == 1
            else _("{ranking} (mean of {n}, band: min–max)").format(ranking=shown, n=len(idx))
        )
        if len(idx) > 1:
            _band(fig, xs, ys.min(axis=0), ys.max(axis=0), name)
        macs = 100 * curves.macs_removed[idx].mean(axis=0)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys.mean(axis=0),
                mode="lines+markers",
                name=name,
                legendgroup=kind,
                line=dict(color=colours[kind], dash="dot" if kind == "random" else "solid"),
                customdata=np.stack([100 * curves.fractions, macs], axis=1),
                hovertemplate=f"<b>{shown}</b><br>"
                + _(
                    "pruned %{customdata[0]:.0f} % of channels<br>"
                    "multiply-adds removed %{customdata[1]:.1f} %"
                )
                + f"<br>{_(measure)} %{{y:.3g}}<extra></extra>",
            )
        )
    if measure == "top-1 accuracy" and curves.base_accuracy is not None:
        fig.add_hline(
            y=100 * curves.base_accuracy,
            line_dash="dash",
            line_color="#444",
            annotation_text=_("unpruned {acc} %").format(acc=f"{100 * curves.base_accuracy:.1f}"),
            annotation_position="bottom right",
        )
    note = (
        _("{n} images · channels zeroed in {b} block(s), each block ranked on its own · no retraining")
        if curves.scope == "block"
        else _("{n} images · channels zeroed in {b} block(s), one ranking over the network · no retraining")
    ).format(n=curves.num_images, b=len(curves.blocks))
    title = _("Pruning by each ranking — {measure}").format(measure=_(measure)) + f"<br><sup>{note}</sup>"
    x_title = (
        _("channels pruned (%)") if x_axis == "fraction" else _("multiply-adds removed (% of the network)")
    )
    return layout(
        fig,
        title,
        height=500,
        xaxis_title=x_title,
        yaxis_title=_(axis_title),
        # Far enough below the axis title to stay clear of it at projector font sizes too.
        legend=dict(orientation="h", yanchor="top", y=-0.36, x=0),
        margin=dict(l=70, r=20, t=90, b=170),
    )


def faithfulness_figure(curves: FaithfulnessCurves, *, block_label: Optional[str] = None) -> go.Figure:
    """Deletion (left) and insertion (right) curves of every ranking; the legend gives each one's
    area under the curve (deletion: lower is more faithful; insertion: higher)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(_("deletion: lower area is better"), _("insertion: higher area is better")),
        horizontal_spacing=0.08,
    )
    colours = ranking_colours(curves.kinds)
    dele, ins = curves.deletion_auc, curves.insertion_auc
    for kind in dict.fromkeys(curves.kinds):
        idx = [i for i, k in enumerate(curves.kinds) if k == kind]
        shown = _(kind)
        name = (
            shown
            if len(idx) == 1
            else _("{ranking} (mean of {n}, band: min–max)").format(ranking=shown, n=len(idx))
        )
        label = _("{name}: AUC deletion {d} / insertion {i}").format(
            name=name, d=f"{dele[idx].mean():.3f}", i=f"{ins[idx].mean():.3f}"
        )
        for col, values in ((1, curves.deletion), (2, curves.insertion)):
            ys = values[idx]
            if len(idx) > 1:
                _band(fig, 100 * curves.x, ys.min(axis=0), ys.max(axis=0), label, row=1, col=col)
            fig.add_trace(
                go.Scatter(
                    x=100 * curves.x,
                    y=ys.mean(axis=0),
                    mode="lines+markers",
                    name=label,
                    legendgroup=kind,
                    showlegend=col == 1,
                    line=dict(color=colours[kind], dash="dot" if kind == "random" else "solid"),
                    hovertemplate=f"<b>{shown}</b><br>"
                    + _("%{x:.0f} % of channels")
                    + "<br>p = %{y:.3f}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text=_("channels deleted (%)"), row=1, col=1)
    fig.update_xaxes(title_text=_("channels inserted (%)"), row=1, col=2)
    fig.update_yaxes(title_text=_("p(original top-1 class) (0–1)"), range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_annotations(font_size=13)
    where = _("the whole network") if curves.block == NETWORK else (block_label or curves.block)
    title = (
        _("Deletion and insertion over the channels of {where}").format(where=where)
        + "<br><sup>"
        + _("most important channel first, by each ranking · y: mean p of the unedited top-1 class")
        + "</sup>"
    )
    return layout(
        fig,
        title,
        height=560,
        legend=dict(orientation="h", yanchor="top", y=-0.42, x=0),
        margin=dict(l=70, r=20, t=120, b=200),
    )
