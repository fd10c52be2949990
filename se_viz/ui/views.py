"""The single-image views. ``render_*`` functions only draw: data comes in, elements go out."""

from __future__ import annotations

from typing import Optional, Sequence

import pandas as pd
import streamlit as st

from se_viz import Capture, LoadedModel, analysis, figures
from se_viz.analysis import SORT_OPTIONS
from se_viz.i18n import N_, _, class_name
from se_viz.loading.choice import is_teaching

from . import cache, state
from .common import chart, slug
from .tables import readable

SORTS = list(SORT_OPTIONS)
SORT_HELP = N_(
    "natural: channel index order · gate ↓: most up-weighted first · gate ↑: most suppressed first"
)


# --------------------------------------------------------------------------------------------
# Predictions


#: Where an image came from (``PickedImage.source``), as its caption says it.
SOURCE_CAPTIONS = {
    "upload": N_("your upload"),
    "sample": N_("bundled sample"),
    "camera": N_("camera photo"),
    "live": N_("live frame"),
}


def knows_only(lm: LoadedModel) -> Optional[str]:
    """One line saying what the offline teaching model knows (None for other models): it names one
    of its few drawn classes for any photo, often confidently, so the near-chance notice is silent."""
    if not is_teaching(lm.entry):
        return None
    return _(
        "This teaching model knows only {n} drawn shapes and textures ({classes}): it answers one of "
        "them for any image, whatever the image shows."
    ).format(
        n=len(lm.labels),
        # Translators: the separator between the items of a list (class names).
        classes=_(", ").join(class_name(label) for label in lm.labels),
    )


def render_predictions(rows: Sequence, lm: LoadedModel) -> None:
    """For each image: its thumbnail, what the network sees, notices, and the top-5 classes."""
    st.caption(
        _(
            "The network's five most likely classes for each image, in percent (softmax of the "
            "logits). Beside each photo: the square the network actually sees."
        )
    )
    limits = knows_only(lm)
    if limits:
        st.info(limits, icon=":material/info:")
    chance = 100.0 / max(len(lm.labels), 1)
    for row in rows:
        table = analysis.topk_predictions(row.cap, lm.labels, image=0, k=5)
        top = 100.0 * float(table["probability"].iloc[0])
        st.markdown(
            "#### "
            + _("{image} — top-1: {label} ({p} %)").format(
                image=row.name, label=class_name(str(table["label"].iloc[0])), p=f"{top:.1f}"
            )
        )
        left, middle, right = st.columns([1, 1, 3])
        source = SOURCE_CAPTIONS.get(row.source)
        left.image(row.thumb, caption=_(source) if source else _("your image"), width="stretch")
        middle.image(row.view, caption=_("what the network sees"), width="stretch")
        for notice in row.notices:
            right.info(notice, icon=":material/crop:")
        probabilities = row.cap.probabilities()[0]
        if analysis.near_chance(probabilities):
            spread = 100.0 * analysis.prediction_entropy(probabilities)
            right.warning(
                _(
                    "**Near chance:** the network spreads its belief over all {n} classes almost as "
                    "evenly as guessing: the entropy of its probabilities is {spread} % of guessing's "
                    "(near chance from {threshold}). The top class gets {top} %, guessing gives each "
                    "{chance} %. It does not recognise this image; its gates still show how it reacts."
                ).format(
                    n=len(lm.labels),
                    spread=f"{spread:.0f}",
                    threshold=f"{analysis.NEAR_CHANCE_ENTROPY:.0%}",
                    top=f"{top:.1f}",
                    chance=f"{chance:.1f}",
                ),
                icon=":material/casino:",
            )
        shown = pd.DataFrame(
            {
                _("rank"): table["rank"],
                _("class"): [class_name(str(label)) for label in table["label"]],
                _("probability (%)"): [f"{100 * p:.1f}" for p in table["probability"]],
                _("class index"): table["class_index"],
            }
        )
        right.table(shown, hide_index=True)


# --------------------------------------------------------------------------------------------
# Gate heatmap


def render_heatmap(cap: Capture, image_name: str) -> None:
    """All SE blocks × channels, colour = gate s; one panel per stage (honest widths)."""
    st.caption(
        _(
            "Each row is one SE block (paper name · module path), each column one channel; colour is "
            "the gate s ∈ [0, 1] the block multiplied that channel by. Each stage gets its own panel "
            "with its own channel axis. Hover for block, channel, s and z; drag to zoom into wide blocks."
        )
    )
    sort = (
        st.segmented_control(
            _("Channel order"),
            SORTS,
            default="natural",
            key="heat_sort",
            format_func=_,
            help=_(SORT_HELP),
            required=True,
            wrap=True,
        )
        or "natural"
    )
    fig = figures.gate_heatmap(
        cap, image=0, sort=sort, title=_("SE gates s — {image}").format(image=image_name)
    )
    chart(fig, "heatmap", f"gate_heatmap_{slug(image_name)}")


# --------------------------------------------------------------------------------------------
# Distributions


#: The distribution charts (identifiers; shown translated).
CHART_KINDS = [N_("violin"), N_("box"), N_("histogram")]


def render_distributions(cap: Capture, image_name: str) -> None:
    """Per-block distributions of s and z, and the per-block summary table."""
    st.caption(
        _(
            "How the gates s (top) and the squeezed values z (bottom) spread across the channels of "
            "each block."
        )
    )
    kind = (
        st.segmented_control(
            _("Chart type"),
            CHART_KINDS,
            default="violin",
            key="dist_kind",
            format_func=_,
            required=True,
            wrap=True,
        )
        or "violin"
    )
    chart(
        figures.distribution_figure(cap, image=0, quantity="s", kind=kind, image_name=image_name),
        "dist_s",
        f"gate_distribution_{kind}_{slug(image_name)}",
    )
    chart(
        figures.distribution_figure(cap, image=0, quantity="z", kind=kind, image_name=image_name),
        "dist_z",
        f"squeeze_distribution_{kind}_{slug(image_name)}",
    )
    render_summary_table(cap)


SUMMARY_SHOWN = {
    "label": N_("SE block"),
    "channels": "C",
    "mean": N_("mean s"),
    "std": N_("std s"),
    "frac_below_0.1": "s < 0.1",
    "frac_above_0.9": "s > 0.9",
    "entropy": N_("entropy"),
    "z_mean": N_("mean z"),
}


def render_summary_table(cap: Capture) -> pd.DataFrame:
    """The per-block summary of the gates, every row visible (the Export tab has every column)."""
    st.subheader(_("Summary per block"))
    df = analysis.block_summary(cap, image=0)
    columns = {key: _(name) for key, name in SUMMARY_SHOWN.items()}
    shown = df.assign(label=[b.label for b in cap.blocks])[list(columns)].rename(columns=columns)
    st.table(shown.style.format({c: "{:.3f}" for c in list(columns.values())[2:]}), hide_index=True)
    st.caption(
        _(
            "s < 0.1 and s > 0.9: fraction of the block's channels nearly switched off or passed "
            "almost unchanged. {entropy} Min, max and std of z are in the summary CSV (Export)."
        ).format(entropy=_(analysis.ENTROPY_DEFINITION))
    )
    return df


# --------------------------------------------------------------------------------------------
# Block drill-down


def render_drilldown(cap: Capture, image_name: str) -> None:
    """One block: gates per channel, z against s, top-k channels and their feature maps."""
    st.caption(
        _(
            "Pick one SE block. The bars are its gates s per channel; the scatter shows how the "
            "squeezed input z of each channel relates to the gate it received. Below, the channels "
            "the block up-weighted and suppressed most, as feature maps before (u_c) and after "
            "(s_c · u_c) the scaling — on one colour scale, so the recalibration is visible."
        )
    )
    names = cap.block_names
    labels = {b.name: b.label for b in cap.blocks}
    block = st.selectbox(
        _("SE block"), names, key="drill_block", format_func=lambda n: labels.get(n, n), index=len(names) - 1
    )
    controls = st.container(horizontal=True, gap="medium")
    with controls:
        sort = (
            st.segmented_control(
                _("Channel order"),
                SORTS,
                default="gate ↓",
                key="drill_sort",
                format_func=_,
                help=_(SORT_HELP),
                required=True,
                wrap=True,
            )
            or "gate ↓"
        )
        k = st.slider(
            _("Top-k channels"),
            1,
            8,
            3,
            key="drill_k",
            width=260,
            help=_("How many of the most up-weighted and most suppressed channels to show."),
        )
    info = cap.block(block)
    st.markdown(f"**{info.label}** — {info.description}")
    chart(
        figures.gate_bar(cap, block, image=0, sort=sort, image_name=image_name),
        "drill_bar",
        f"gates_{block}_{slug(image_name)}",
    )
    chart(
        figures.squeeze_vs_gate(cap, block, image=0, image_name=image_name),
        "drill_scatter",
        f"z_vs_s_{block}_{slug(image_name)}",
    )
    _atlas_button(block, _render_channel(cap, block))
    up, down = analysis.top_channels(cap, block, image=0, k=k)
    t1, t2 = st.columns(2)
    t1.markdown(_("**Top {k} up-weighted channels** (highest s)").format(k=k))
    t1.table(readable(up), hide_index=True)
    t2.markdown(_("**Top {k} suppressed channels** (lowest s)").format(k=k))
    t2.table(readable(down), hide_index=True)
    channels = [int(c) for c in up["channel"]] + [int(c) for c in down["channel"]]
    view = cache.block_maps(cap, block)
    if block in view.maps_in:
        st.markdown(
            _(
                "**Feature maps before and after the SE scaling** — the channels above "
                "(up-weighted first), one shared colour scale."
            )
        )
        chart(
            figures.feature_maps(view, block, channels, image=0, image_name=image_name),
            "drill_maps",
            f"feature_maps_{block}_{slug(image_name)}",
        )
    else:
        st.info(_("Feature maps are not available for this block."))


def _render_channel(cap: Capture, block: str) -> int:
    """One channel of the block in one line: its gate, its squeeze and the gate's rank (the
    channel a link names, or the user's pick)."""
    channels = cap.block(block).channels
    state.keep_channel(state.CHANNEL, channels)
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    c = left.selectbox(_("Channel"), list(range(channels)), key=state.CHANNEL)
    s = cap.gates[block][0]
    rank = int((s > s[c]).sum()) + 1
    right.markdown(
        _(
            "**Channel {c}**: gate s = {s}, squeeze z = {z} — rank {rank} of {channels} by gate "
            "(1 = largest)."
        ).format(c=c, s=f"{s[c]:.3f}", z=f"{cap.squeeze[block][0][c]:.3f}", rank=rank, channels=channels)
    )
    return int(c)


def _atlas_button(block: str, channel: int) -> None:
    """Open the gate atlas of the channel picked above (the Channels tab)."""
    st.button(
        _("Open channel {c}'s gate atlas").format(c=channel),
        key="drill_atlas",
        icon=":material/photo_library:",
        on_click=state.open_atlas,
        args=(block, channel),
        help=_(
            "The images that open and close this channel's gate most, over your images or the "
            "offline demonstration set, with its feature map laid over each (Channels tab)."
        ),
    )
