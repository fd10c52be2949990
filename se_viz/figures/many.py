"""Pure Plotly figures of many images at once: compare a few, and the paper's "role of excitation".

Data in, ``go.Figure`` out (no torch, no Streamlit): the inputs are a :class:`~se_viz.Capture`
or the tables and profiles of :mod:`se_viz.analysis` (``pairwise_block_distances``,
``class_profiles``, ``class_specificity``, ``saturation_table``, ``gate_pca``), so the same
figures draw uploads, the offline demonstration and a Parquet gate dataset. Style (template,
fonts, the Viridis 0…1 gate scale, block labels, per-stage panels) comes from
:mod:`se_viz.figures.style`.

Thousands of channels: the class figures (Fig. 6, Fig. 7) draw a channel subset — by default 50
channels sampled uniformly with a fixed seed, as the paper did — so a panel holds K + 1 lines of
50 points whatever the block width. The compare heatmaps draw every channel at full resolution:
a ``go.Heatmap`` is painted as one raster image per trace (not one SVG element per cell), so
4 images of SE-ResNet-50 (4 × 15 104 cells plus the difference) stay responsive; aggregating
channels would hide exactly the single-channel differences the view is for.

The ``PAPER_*`` captions state what Hu et al. (Squeeze-and-Excitation Networks, §7.2) found, so
the reader can hold their own data against it.
"""

from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.compare import gate_difference
from ..analysis.groups import CHANNEL_SEED, CHANNEL_SUBSET, ClassProfile, channel_subset
from ..analysis.neighbours import GatePCA
from ..analysis.specificity import SpecificityResult
from ..engine.capture import Capture
from ..i18n import N_, _, class_name, ngettext
from .style import (
    FONT_SIZE,
    GATE_AXIS,
    GATE_COLORSCALE,
    GROUP_COLOURS,
    layout,
    layout_dict,
    panel_groups,
)

__all__ = [
    "PAPER_FIG6",
    "PAPER_FIG7",
    "PAPER_PRUNING",
    "PAPER_SATURATION",
    "PAPER_SPECIFICITY",
    "class_band_figure",
    "class_colours",
    "class_profile_figure",
    "compare_heatmaps",
    "distance_figure",
    "pca_figure",
    "saturation_figure",
    "specificity_figure",
]

PAPER_FIG6 = N_(
    "What the paper found (Hu et al., §7.2, Fig. 6 — SE-ResNet-50, four ImageNet classes, 50 images "
    "each): in early blocks (SE_2_3) every class mean follows the overall mean — the gates are "
    "class-agnostic; deeper (SE_4_6, SE_5_1) the classes prefer different channels — the gates are "
    "class-specific; SE_5_2 is saturated, most gates near 1, so the block is close to identity; "
    "SE_5_3 shows one pattern for all classes, up to a change of scale."
)
PAPER_FIG7 = N_(
    "What the paper found (Fig. 7 — mean ± std of the gates within one class, goldfish and plane): "
    "the same trend as across classes; gates also vary between images of one class, so an SE block "
    "recalibrates each image, not only each class."
)
PAPER_SPECIFICITY = N_(
    "The paper's reading: gates become more class-specific with depth, up to the last stage, where "
    "they saturate (SE_5_2) or share one pattern (SE_5_3). Here the ratio measures how far class "
    "means lie apart relative to how much single images of a class vary; near the noise floor the "
    "classes are indistinguishable. Whatever the curve shows is what your images show."
)
PAPER_SATURATION = N_(
    "What the paper found: SE_5_2 of SE-ResNet-50 is saturated — most of its gates are close to 1, "
    "and an SE block whose gates are all 1 is the identity."
)
PAPER_PRUNING = N_(
    "The paper reports that removing the SE blocks of the last stage costs less than 0.1 % top-5 "
    "error on ImageNet while saving most of SE's extra parameters — those blocks matter least."
)

_DIFF_COLORSCALE = "RdBu_r"
_SPREAD_COLORSCALE = "Reds"
_PANEL_COLS = 3
_DEPTH_AXIS = N_("SE block (input → output)")


# ---------------------------------------------------------------------------------------------
# Shared helpers


def class_colours(classes: Sequence) -> dict:
    """One colour per class, in the order given (sorted classes give the same colours in every
    figure): Plotly's 10-colour palette, Alphabet (26) beyond 10, cycling beyond 26."""
    palette = plotly.colors.qualitative.Plotly if len(classes) <= 10 else plotly.colors.qualitative.Alphabet
    return {c: palette[i % len(palette)] for i, c in enumerate(classes)}


def _grid(n: int) -> tuple[int, int]:
    cols = max(1, min(_PANEL_COLS, n))
    return math.ceil(n / cols), cols


def _subset_axis(size: Optional[int], channels: int) -> str:
    if size is None or size >= channels:
        return _("channel index")
    return _("channel (position in the sampled subset)")


def _blocks_or_all(profiles: Mapping[str, ClassProfile], blocks: Optional[Sequence[str]]) -> list[str]:
    names = list(blocks) if blocks is not None else list(profiles)
    if not names:
        raise ValueError("Choose at least one SE block to draw.")
    missing = [b for b in names if b not in profiles]
    if missing:
        raise KeyError(f"No class profile for block(s) {missing}.")
    return names


def _block_panels(
    profiles: Mapping[str, ClassProfile],
    names: Sequence[str],
    subset: Optional[int],
    seed: int,
    titles: Sequence[str],
) -> tuple[go.Figure, list[tuple[int, int, str, ClassProfile, np.ndarray]]]:
    """The panel grid of Fig. 6 / Fig. 7 (three to a row) and, per block, its cell and channels."""
    rows, cols = _grid(len(names))
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles),
        horizontal_spacing=0.05,
        vertical_spacing=0.14 if rows > 1 else 0.0,
    )
    cells = []
    for p, b in enumerate(names):
        prof = profiles[b]
        cells.append((p // cols + 1, p % cols + 1, b, prof, channel_subset(prof.mean.shape[1], subset, seed)))
    return fig, cells


def _finish_panels(fig: go.Figure, cells: list, subset: Optional[int], y_title: str, title: str) -> go.Figure:
    """Axis titles (x on the bottom row, y on the left column), the 0…1 gate range, the layout."""
    rows = max(r for r, *_ in cells)
    for r, c, _b, prof, _idx in cells:
        fig.update_xaxes(
            title_text=_subset_axis(subset, prof.mean.shape[1]) if r == rows else None, row=r, col=c
        )
        fig.update_yaxes(range=[0, 1], title_text=y_title if c == 1 else None, row=r, col=c)
    # The legend sits below the bottom row's axis title: a fixed 70 px, whatever the number of rows.
    plot_px = 320 * rows
    layout(
        fig,
        title,
        height=plot_px + 110 + 130,
        margin=dict(l=10, r=10, t=110, b=130),
        legend=dict(orientation="h", yanchor="top", y=-70 / plot_px, x=0),
    )
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


# ---------------------------------------------------------------------------------------------
# Compare a few images


def _short_name(name: str, limit: int = 12) -> str:
    """An image name cut to its last ``limit`` characters (column titles of a grid): names of one
    data set share their start (``circle/img_…``) and differ at the end (``…img_003.jpg``)."""
    name = str(name)
    return name if len(name) <= limit else "…" + name[-(limit - 1) :]


def compare_heatmaps(cap: Capture, images: Sequence[int], names: Optional[Sequence[str]] = None) -> go.Figure:
    """Gate heatmaps of 2–4 images side by side on one colour scale, and their difference.

    Columns: one per image, then the difference (see :func:`se_viz.analysis.gate_difference`:
    ``s₂ − s₁`` on a diverging scale for two images, the per-channel spread max − min for three
    or four). Rows: one panel per stage (as the single-image heatmap), blocks top to bottom in
    forward order, x = channel index at full resolution (see the module docstring). Gates share
    the fixed Viridis 0…1 scale; the difference has its own scale, symmetric around 0 for two
    images, with its range in the colour bar's title. The grid's axes are laid out by hand and
    handed to the constructor whole: ``make_subplots`` plus per-cell updates took 4× as long for
    SE-ResNet-50's 4 × 5 panels (0.067 s against 0.016 s, best of 3, plotly 7.1, shared CPU).
    """
    idx = [int(i) for i in images]
    if not 2 <= len(idx) <= 4:
        raise ValueError(f"compare 2 to 4 images, got {len(idx)}")
    n = cap.num_images
    bad = [i for i in idx if not 0 <= i < n]
    if bad:
        raise IndexError(f"image index(es) {bad} out of range for {n} image(s)")
    labels = [str(names[i]) if names is not None else _("image {i}").format(i=i) for i in idx]
    groups = panel_groups(cap.blocks)
    two = len(idx) == 2
    diffs = {b.name: gate_difference(cap.gates[b.name][idx]) for b in cap.blocks}
    top = max(float(np.abs(d).max()) for d in diffs.values()) or 1.0
    diff_title = _("difference s₂ − s₁") if two else _("spread max − min")
    diff_hover = "%{z:+.3f}" if two else "%{z:.3f}"
    cols = len(idx) + 1
    row_px = 26 if len(cap.blocks) <= 20 else 18
    panel_px = [max(len(g) * row_px, 40) for g in groups]
    gap_px = 40
    plot_px = sum(panel_px) + gap_px * (len(groups) - 1)
    col_gap = 0.015
    col_w = (1.0 - col_gap * (cols - 1)) / cols
    traces: list[go.Heatmap] = []
    channel_line = _("channel %{x}")
    layout = layout_dict(
        _("Gates of {n} images side by side, and where they differ").format(n=len(idx))
        + "<br><sup>"
        + _("one colour scale for all images (gate s, 0–1); {diff} on its own scale").format(diff=diff_title)
        + "</sup>",
        height=plot_px + 200,
        coloraxis=dict(
            colorscale=GATE_COLORSCALE,
            cmin=0.0,
            cmax=1.0,
            colorbar=dict(
                title=dict(text=_(GATE_AXIS), side="right"),
                thickness=14,
                x=1.0,
                len=0.45,
                y=1.0,
                yanchor="top",
            ),
        ),
        coloraxis2=dict(
            **(
                dict(colorscale=_DIFF_COLORSCALE, cmin=-top, cmax=top)
                if two
                else dict(colorscale=_SPREAD_COLORSCALE, cmin=0.0, cmax=top)
            ),
            colorbar=dict(
                title=dict(
                    text=f"{diff_title} (±{top:.2f})" if two else f"{diff_title} (0–{top:.2f})", side="right"
                ),
                thickness=14,
                x=1.0,
                len=0.45,
                y=0.0,
                yanchor="bottom",
            ),
        ),
        margin=dict(l=10, r=10, t=110, b=60),
        annotations=[
            dict(
                text=t,
                x=c * (col_w + col_gap) + col_w / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=FONT_SIZE),
            )
            # Column titles stay short enough not to run into each other (full names hover).
            for c, t in enumerate([_short_name(t) for t in labels] + [diff_title])
        ],
    )
    y_top = 1.0
    for r, g in enumerate(groups):
        h = panel_px[r] / plot_px
        domain_y = [max(0.0, y_top - h), y_top]
        y_top -= h + gap_px / plot_px
        ticks = [b.name for b in g]
        for c in range(cols):
            k = r * cols + c + 1
            key = "" if k == 1 else str(k)
            row_anchor = r * cols + 1
            if c < len(idx):
                z = np.stack([cap.gates[b.name][idx[c]] for b in g])
                who, axis, hover = labels[c], "coloraxis", "s = %{z:.3f}"
            else:
                z = np.stack([diffs[b.name] for b in g])
                who, axis, hover = diff_title, "coloraxis2", diff_hover
            traces.append(
                go.Heatmap(
                    z=z,
                    y=ticks,
                    coloraxis=axis,
                    ygap=1,
                    xaxis=f"x{key}",
                    yaxis=f"y{key}",
                    hovertemplate=f"<b>{who}</b><br>%{{y}}<br>{channel_line}<br>{hover}<extra></extra>",
                )
            )
            layout[f"xaxis{key}"] = dict(
                domain=[c * (col_w + col_gap), c * (col_w + col_gap) + col_w],
                anchor=f"y{key}",
                range=[-0.5, g[0].channels - 0.5],
                showgrid=False,
                zeroline=False,
                # Two ticks per panel: side by side, a tick at the right edge runs into the next
                # panel's 0.
                tickvals=[0, g[0].channels // 2],
                title=dict(text=_("channel index")) if r == len(groups) - 1 else None,
            )
            # Rows read top to bottom in forward order; the columns of a panel share its rows.
            layout[f"yaxis{key}"] = dict(
                domain=domain_y,
                anchor=f"x{key}",
                autorange="reversed",
                showgrid=False,
                showticklabels=c == 0,
                title=dict(text=_("SE block")) if (r, c) == (0, 0) else None,
                **({} if c == 0 else {"matches": f"y{'' if row_anchor == 1 else row_anchor}"}),
            )
    return go.Figure(traces, layout=layout)


def distance_figure(table: pd.DataFrame) -> go.Figure:
    """Cosine distance and mean |Δs| between images' gate vectors against depth, one line per pair.

    ``table`` is :func:`se_viz.analysis.pairwise_block_distances`. Top panel: cosine distance
    (0 = the same pattern over channels); bottom: mean absolute gate difference in gate units.
    Where the lines are low the network treats the images alike; where they rise it tells them
    apart.
    """
    if table.empty:
        raise ValueError("No distances to draw.")
    order = table.sort_values("depth")["block"].drop_duplicates().tolist()
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[
            _("cosine distance — is the pattern over channels alike?"),
            _("mean |Δs| — how far apart are the gates?"),
        ],
    )
    for k, (pair, rows) in enumerate(table.groupby("pair", sort=False)):
        rows = rows.sort_values("depth")
        colour = GROUP_COLOURS[k % len(GROUP_COLOURS)]
        for r, col in ((1, "cosine"), (2, "l1")):
            fig.add_trace(
                go.Scatter(
                    x=rows["block"],
                    y=rows[col],
                    mode="lines+markers",
                    name=pair,
                    legendgroup=pair,
                    showlegend=r == 1,
                    line=dict(color=colour, width=2),
                    hovertemplate=f"<b>{pair}</b><br>%{{x}}<br>{col} = %{{y:.4f}}<extra></extra>",
                ),
                row=r,
                col=1,
            )
    fig.update_xaxes(categoryorder="array", categoryarray=order)
    fig.update_xaxes(title_text=_(_DEPTH_AXIS), row=2, col=1)
    fig.update_yaxes(title_text=_("cosine distance (0–1)"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=_("mean |Δs| (gate units, 0–1)"), rangemode="tozero", row=2, col=1)
    layout(
        fig,
        _("Where the network treats the images alike, and where it tells them apart"),
        height=600,
        margin=dict(l=10, r=10, t=90, b=130),
        # Below the plot: above it the legend collided with the subtitle on a projector.
        legend=dict(orientation="h", yanchor="top", y=-0.16, x=0),
    )
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


# ---------------------------------------------------------------------------------------------
# Classes: the paper's Fig. 6 and Fig. 7


def class_profile_figure(
    profiles: Mapping[str, ClassProfile],
    blocks: Optional[Sequence[str]] = None,
    subset: Optional[int] = CHANNEL_SUBSET,
    seed: int = CHANNEL_SEED,
    max_classes: int = 10,
) -> go.Figure:
    """The paper's Fig. 6: per chosen block, the class-mean gate of each channel in a subset.

    One panel per block (three to a row), x = channel in the subset (:func:`channel_subset`,
    50 sampled with ``seed``; ``subset=None`` for all), y = mean gate, one line per class and
    the mean over all images as a dashed black reference line. At most ``max_classes`` classes
    are drawn — the largest ones, ties by name — so 1000 predicted ImageNet classes stay
    readable; the title says how many were left out. Hover names the true channel index.
    """
    names = _blocks_or_all(profiles, blocks)
    first = profiles[names[0]]
    order = sorted(range(len(first.classes)), key=lambda k: (-int(first.counts[k]), str(first.classes[k])))
    shown = sorted(order[:max_classes], key=lambda k: str(first.classes[k]))
    colours = class_colours(list(first.classes))
    titles = []
    for b in names:
        c = profiles[b].mean.shape[1]
        k = c if subset is None else min(int(subset), c)
        titles.append(
            _("{block} · all {c} channels").format(block=b, c=c)
            if k == c
            else _("{block} · {k} of {c} channels").format(block=b, k=k, c=c)
        )
    fig, cells = _block_panels(profiles, names, subset, seed, titles)
    for r, c, b, prof, idx in cells:
        x = np.arange(idx.size)
        first_panel = (r, c) == (1, 1)
        for k in shown:
            cls = prof.classes[k]
            shown_name = class_name(str(cls))
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=prof.mean[k, idx],
                    customdata=idx,
                    mode="lines",
                    name=shown_name,
                    legendgroup=str(cls),
                    showlegend=first_panel,
                    line=dict(color=colours[cls], width=1.6),
                    hovertemplate=f"<b>{shown_name}</b> (n = {int(prof.counts[k])})<br>{b} · "
                    + _("channel %{customdata}<br>class-mean s = %{y:.3f}")
                    + "<extra></extra>",
                ),
                row=r,
                col=c,
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=prof.overall[idx],
                customdata=idx,
                mode="lines",
                name=_("all images"),
                legendgroup="all",
                showlegend=first_panel,
                line=dict(color="black", width=2.2, dash="dash"),
                hovertemplate="<b>"
                + _("all images")
                + f"</b><br>{b} · "
                + _("channel %{customdata}<br>mean s = %{y:.3f}")
                + "<extra></extra>",
            ),
            row=r,
            col=c,
        )
    left_out = len(first.classes) - len(shown)
    sub = (
        _("one line per class, dashed = mean over all images; the {k} largest of {n} classes drawn").format(
            k=len(shown), n=len(first.classes)
        )
        if left_out
        else _("one line per class, dashed = mean over all images")
    )
    return _finish_panels(
        fig,
        cells,
        subset,
        _("mean gate s (0–1)"),
        _("Role of excitation: class-mean gates per channel (the paper's Fig. 6)") + f"<br><sup>{sub}</sup>",
    )


def class_band_figure(
    profiles: Mapping[str, ClassProfile],
    cls: object,
    blocks: Optional[Sequence[str]] = None,
    subset: Optional[int] = CHANNEL_SUBSET,
    seed: int = CHANNEL_SEED,
) -> go.Figure:
    """The paper's Fig. 7: mean ± std of the gates of one class, per chosen block.

    Same panels and channel subset as :func:`class_profile_figure`; the line is the class mean,
    the shaded band mean ± one (population) standard deviation over the class's images, clipped
    to the gate range 0…1, and the dashed line the mean over all images for reference.
    """
    names = _blocks_or_all(profiles, blocks)
    first = profiles[names[0]]
    k = first.of(cls)
    colour = class_colours(list(first.classes))[first.classes[k]]
    fill = "rgba({},{},{},0.25)".format(*plotly.colors.hex_to_rgb(colour))
    shown_name = class_name(str(cls))
    fig, cells = _block_panels(profiles, names, subset, seed, names)
    for r, c, b, prof, idx in cells:
        x = np.arange(idx.size)
        first_panel = (r, c) == (1, 1)
        mean, std = prof.mean[k, idx], prof.std[k, idx]
        lo, hi = np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=hi,
                mode="lines",
                line=dict(width=0),
                showlegend=False,
                hoverinfo="skip",
                legendgroup="band",
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=lo,
                mode="lines",
                line=dict(width=0),
                fill="tonexty",
                fillcolor=fill,
                name=_("± 1 std"),
                legendgroup="band",
                showlegend=first_panel,
                hoverinfo="skip",
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=mean,
                customdata=np.stack([idx, std], axis=1),
                mode="lines",
                name=_("{cls} mean").format(cls=shown_name),
                legendgroup="mean",
                showlegend=first_panel,
                line=dict(color=colour, width=2),
                hovertemplate=f"<b>{shown_name}</b><br>{b} · "
                + _("channel %{customdata[0]:d}<br>mean s = %{y:.3f} ± %{customdata[1]:.3f}")
                + "<extra></extra>",
            ),
            row=r,
            col=c,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=prof.overall[idx],
                mode="lines",
                name=_("all images"),
                legendgroup="all",
                showlegend=first_panel,
                hoverinfo="skip",
                line=dict(color="black", width=1.5, dash="dash"),
            ),
            row=r,
            col=c,
        )
    return _finish_panels(
        fig,
        cells,
        subset,
        _(GATE_AXIS),
        _("Within one class: {cls} (n = {n} images), mean ± std of the gates (the paper's Fig. 7)").format(
            cls=shown_name, n=int(first.counts[k])
        ),
    )


# ---------------------------------------------------------------------------------------------
# Depth charts: specificity and saturation


def specificity_figure(result: SpecificityResult) -> go.Figure:
    """Class specificity against depth, from :func:`se_viz.analysis.class_specificity`.

    Top: the ratio between / within per block, with the sampling-noise floor ≈ √(2/n) (n = the
    median class size) as a dotted line — below it the classes are indistinguishable. Bottom:
    the two distances themselves (RMS per-channel gate difference, gate units). Markers are
    coloured by stage.
    """
    if not result.blocks:
        raise ValueError("No blocks to draw.")
    x = [b.name for b in result.blocks]
    stages = list(dict.fromkeys(b.stage for b in result.blocks))
    colours = [GROUP_COLOURS[stages.index(b.stage) % len(GROUP_COLOURS)] for b in result.blocks]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        row_heights=[0.55, 0.45],
        subplot_titles=[
            _("ratio between / within — how class-specific are the gates?"),
            _("between classes and within a class (RMS gate difference)"),
        ],
    )
    ratio = [b.ratio for b in result.blocks]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=ratio,
            mode="lines+markers",
            name=_("ratio"),
            line=dict(color="#444", width=2),
            marker=dict(color=colours, size=10),
            customdata=[[b.stage if b.stage is not None else "–", b.channels] for b in result.blocks],
            hovertemplate="<b>%{x}</b> "
            + _("(stage %{customdata[0]}, %{customdata[1]} channels)<br>between / within = %{y:.3f}")
            + "<extra></extra>",
        ),
        row=1,
        col=1,
    )
    n = float(np.median(result.counts)) if result.counts else 0.0
    if n >= 1 and len(result.classes) >= 2:
        floor = math.sqrt(2.0 / n)
        fig.add_hline(
            y=floor,
            line_dash="dot",
            line_color="#999",
            row=1,
            col=1,
            annotation_text=_("noise floor ≈ √(2/n) = {floor} (n = {n})").format(
                floor=f"{floor:.2f}", n=f"{n:g}"
            ),
            annotation_position="top left",
        )
    for name, key, colour in (
        (_("between classes"), "between", "#d62728"),
        (_("within a class"), "within", "#1f77b4"),
    ):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[getattr(b, key) for b in result.blocks],
                mode="lines+markers",
                name=name,
                line=dict(color=colour, width=2),
                hovertemplate=f"<b>%{{x}}</b><br>{name} = %{{y:.4f}}<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_xaxes(categoryorder="array", categoryarray=x)
    fig.update_xaxes(title_text=_(_DEPTH_AXIS), row=2, col=1)
    fig.update_yaxes(title_text=_("between / within (ratio)"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=_("RMS gate difference (gate units)"), rangemode="tozero", row=2, col=1)
    # Translators: the separator between the items of a list (class names).
    counts = _(", ").join(
        f"{class_name(str(c))} ({k})" for c, k in zip(result.classes[:6], result.counts[:6], strict=True)
    )
    if len(result.classes) > 6:
        classes = _("{n} classes: {counts} and {more} more").format(
            n=len(result.classes), counts=counts, more=len(result.classes) - 6
        )
    else:
        classes = _("{n} classes: {counts}").format(n=len(result.classes), counts=counts)
    layout(
        fig,
        _("Class specificity against depth") + f"<br><sup>{classes}</sup>",
        height=620,
        margin=dict(l=10, r=10, t=100, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=-0.25, x=0),
    )
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def saturation_figure(table: pd.DataFrame) -> go.Figure:
    """Saturation per block, from :func:`se_viz.analysis.saturation_table`.

    Bars: the fraction of gate values above 0.9 and below 0.1 (over all images and channels);
    line: 1 − mean gate, how far the block is on average from leaving its features alone.
    Blocks flagged close to identity are marked "≈ identity" above their bars.
    """
    if table.empty:
        raise ValueError("No blocks to draw.")
    x = table["block"].tolist()
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=x,
            y=table["frac_above_0.9"],
            name=_("gates > 0.9"),
            marker_color="#fde725",
            marker_line=dict(color="#999", width=0.5),
            hovertemplate="<b>%{x}</b><br>" + _("%{y:.1%} of gates above 0.9") + "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=table["frac_below_0.1"],
            name=_("gates < 0.1"),
            marker_color="#440154",
            hovertemplate="<b>%{x}</b><br>" + _("%{y:.1%} of gates below 0.1") + "<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=table["gap"],
            mode="lines+markers",
            name=_("1 − mean gate"),
            line=dict(color="#21918c", width=2.5),
            marker=dict(size=8),
            hovertemplate="<b>%{x}</b><br>" + _("1 − mean gate = %{y:.3f}") + "<extra></extra>",
        )
    )
    for row in table[table["near_identity"]].to_dict("records"):
        fig.add_annotation(
            x=row["block"],
            y=max(row["frac_above_0.9"], row["gap"]),
            text=_("≈ identity"),
            showarrow=False,
            yshift=14,
            font=dict(size=FONT_SIZE - 1, color="#b8860b"),
        )
    fig.update_xaxes(title_text=_(_DEPTH_AXIS), categoryorder="array", categoryarray=x)
    fig.update_yaxes(title_text=_("fraction of gate values / 1 − mean (0–1)"), range=[0, 1.08])
    layout(
        fig,
        _("Saturation per SE block, over all images")
        + "<br><sup>"
        + _("a block whose gates are all 1 is the identity")
        + "</sup>",
        height=460,
        barmode="group",
        margin=dict(l=10, r=10, t=90, b=60),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0.5),
    )
    return fig


# ---------------------------------------------------------------------------------------------
# The map of all images


def pca_figure(
    pca: GatePCA,
    labels: Sequence,
    names: Optional[Sequence[str]] = None,
    where: str = "",
    highlight: Optional[int] = None,
) -> go.Figure:
    """All images on the first two principal axes of their gate vectors, coloured by class.

    ``pca`` is :func:`se_viz.analysis.gate_pca`; axis titles give each axis's share of the
    variance. ``where`` names the blocks the vectors came from (for the title); ``highlight``
    rings one image (the one whose neighbours are shown). Above 2000 images the points are
    drawn with WebGL (``Scattergl``) to stay responsive.
    """
    y = np.asarray(labels)
    n = pca.coords.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"got {y.shape[0]} labels for {n} images")
    text = [str(s) for s in names] if names is not None else [_("image {i}").format(i=i) for i in range(n)]
    classes = np.unique(y)
    colours = class_colours(list(classes))
    scatter = go.Scattergl if n > 2000 else go.Scatter
    fig = go.Figure()
    for cls in classes:
        m = np.flatnonzero(y == cls)
        shown_name = class_name(str(cls))
        fig.add_trace(
            scatter(
                x=pca.coords[m, 0],
                y=pca.coords[m, 1],
                mode="markers",
                name=f"{shown_name} ({m.size})",
                text=[text[i] for i in m],
                marker=dict(color=colours[cls], size=8, opacity=0.8),
                hovertemplate="<b>%{text}</b><br>"
                + _("class {cls}").format(cls=shown_name)
                + "<br>PC 1 = %{x:.3f}, PC 2 = %{y:.3f}<extra></extra>",
            )
        )
    if highlight is not None:
        h = int(highlight)
        fig.add_trace(
            go.Scatter(
                x=[pca.coords[h, 0]],
                y=[pca.coords[h, 1]],
                mode="markers",
                name=_("chosen: {image}").format(image=text[h]),
                hoverinfo="skip",
                marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(color="black", width=2.5)),
            )
        )
    ev = pca.explained
    variance = _("PC {k} ({share} of variance)")
    fig.update_xaxes(title_text=variance.format(k=1, share=f"{ev[0]:.0%}"), zeroline=False)
    fig.update_yaxes(
        title_text=variance.format(k=2, share=f"{ev[1]:.0%}") if ev.size > 1 else "PC 2", zeroline=False
    )
    title = (
        _("Images by how the network recalibrates them: PCA of gate vectors at {where}").format(where=where)
        if where
        else _("Images by how the network recalibrates them: PCA of gate vectors")
    )
    sub = ngettext(
        "{n} image; near points get similar gates (axes in gate units)",
        "{n} images; near points get similar gates (axes in gate units)",
        n,
    ).format(n=n)
    layout(
        fig,
        f"{title}<br><sup>{sub}</sup>",
        height=560,
        margin=dict(l=10, r=10, t=90, b=60),
    )
    return fig
