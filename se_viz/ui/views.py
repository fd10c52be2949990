"""The single-image views. ``render_*`` functions only draw: data comes in, elements go out."""

from __future__ import annotations

from typing import Optional, Sequence

import pandas as pd
import streamlit as st

from se_viz import Capture, LoadedModel, analysis, figures
from se_viz.analysis import SORT_OPTIONS
from se_viz.loading.choice import is_teaching

from . import cache, state
from .common import chart, slug
from .tables import readable

SORTS = list(SORT_OPTIONS)
SORT_HELP = "natural: channel index order · gate ↓: most up-weighted first · gate ↑: most suppressed first"


# --------------------------------------------------------------------------------------------
# Predictions


#: Where an image came from (``PickedImage.source``), as its caption says it.
SOURCE_CAPTIONS = {
    "upload": "your upload",
    "sample": "bundled sample",
    "camera": "camera photo",
    "live": "live frame",
}


def knows_only(lm: LoadedModel) -> Optional[str]:
    """One line saying what the offline teaching model knows (None for other models): it names one
    of its few drawn classes for any photo, often confidently, so the near-chance notice is silent."""
    if not is_teaching(lm.entry):
        return None
    return (
        f"This teaching model knows only {len(lm.labels)} drawn shapes and textures "
        f"({', '.join(lm.labels)}): it answers one of them for any image, whatever the image shows."
    )


def render_predictions(rows: Sequence, lm: LoadedModel) -> None:
    """For each image: its thumbnail, what the network sees, notices, and the top-5 classes."""
    st.caption(
        "The network's five most likely classes for each image, in percent (softmax of the "
        "logits). Beside each photo: the square the network actually sees."
    )
    limits = knows_only(lm)
    if limits:
        st.info(limits, icon=":material/info:")
    chance = 100.0 / max(len(lm.labels), 1)
    for row in rows:
        table = analysis.topk_predictions(row.cap, lm.labels, image=0, k=5)
        top = 100.0 * float(table["probability"].iloc[0])
        st.markdown(f"#### {row.name} — top-1: {table['label'].iloc[0]} ({top:.1f} %)")
        left, middle, right = st.columns([1, 1, 3])
        left.image(row.thumb, caption=SOURCE_CAPTIONS.get(row.source, "your image"), width="stretch")
        middle.image(row.view, caption="what the network sees", width="stretch")
        for notice in row.notices:
            right.info(notice, icon=":material/crop:")
        probabilities = row.cap.probabilities()[0]
        if analysis.near_chance(probabilities):
            spread = 100.0 * analysis.prediction_entropy(probabilities)
            right.warning(
                f"**Near chance:** the network spreads its belief over all {len(lm.labels)} "
                f"classes almost as evenly as guessing: the entropy of its probabilities is "
                f"{spread:.0f} % of guessing's (near chance from {analysis.NEAR_CHANCE_ENTROPY:.0%}). "
                f"The top class gets {top:.1f} %, guessing gives each {chance:.1f} %. It does not "
                "recognise this image; its gates still show how it reacts.",
                icon=":material/casino:",
            )
        shown = pd.DataFrame(
            {
                "rank": table["rank"],
                "class": table["label"],
                "probability (%)": [f"{100 * p:.1f}" for p in table["probability"]],
                "class index": table["class_index"],
            }
        )
        right.table(shown, hide_index=True)


# --------------------------------------------------------------------------------------------
# Gate heatmap


def render_heatmap(cap: Capture, image_name: str) -> None:
    """All SE blocks × channels, colour = gate s; one panel per stage (honest widths)."""
    st.caption(
        "Each row is one SE block (paper name · module path), each column one channel; colour is "
        "the gate s ∈ [0, 1] the block multiplied that channel by. Each stage gets its own panel "
        "with its own channel axis. Hover for block, channel, s and z; drag to zoom into wide blocks."
    )
    sort = (
        st.segmented_control(
            "Channel order",
            SORTS,
            default="natural",
            key="heat_sort",
            help=SORT_HELP,
            required=True,
            wrap=True,
        )
        or "natural"
    )
    fig = figures.gate_heatmap(cap, image=0, sort=sort, title=f"SE gates s — {image_name}")
    chart(fig, "heatmap", f"gate_heatmap_{slug(image_name)}")


# --------------------------------------------------------------------------------------------
# Distributions


def render_distributions(cap: Capture, image_name: str) -> None:
    """Per-block distributions of s and z, and the per-block summary table."""
    st.caption(
        "How the gates s (top) and the squeezed values z (bottom) spread across the channels of each block."
    )
    kind = (
        st.segmented_control(
            "Chart type",
            ["violin", "box", "histogram"],
            default="violin",
            key="dist_kind",
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
    "label": "SE block",
    "channels": "C",
    "mean": "mean s",
    "std": "std s",
    "frac_below_0.1": "s < 0.1",
    "frac_above_0.9": "s > 0.9",
    "entropy": "entropy",
    "z_mean": "mean z",
}


def render_summary_table(cap: Capture) -> pd.DataFrame:
    """The per-block summary of the gates, every row visible (the Export tab has every column)."""
    st.subheader("Summary per block")
    df = analysis.block_summary(cap, image=0)
    shown = df.assign(label=[b.label for b in cap.blocks])[list(SUMMARY_SHOWN)].rename(columns=SUMMARY_SHOWN)
    st.table(shown.style.format({c: "{:.3f}" for c in list(SUMMARY_SHOWN.values())[2:]}), hide_index=True)
    st.caption(
        "s < 0.1 and s > 0.9: fraction of the block's channels nearly switched off or passed "
        f"almost unchanged. {analysis.ENTROPY_DEFINITION} Min, max and std of z are in the "
        "summary CSV (Export)."
    )
    return df


# --------------------------------------------------------------------------------------------
# Block drill-down


def render_drilldown(cap: Capture, image_name: str) -> None:
    """One block: gates per channel, z against s, top-k channels and their feature maps."""
    st.caption(
        "Pick one SE block. The bars are its gates s per channel; the scatter shows how the "
        "squeezed input z of each channel relates to the gate it received. Below, the channels "
        "the block up-weighted and suppressed most, as feature maps before (u_c) and after "
        "(s_c · u_c) the scaling — on one colour scale, so the recalibration is visible."
    )
    names = cap.block_names
    labels = {b.name: b.label for b in cap.blocks}
    block = st.selectbox(
        "SE block", names, key="drill_block", format_func=lambda n: labels.get(n, n), index=len(names) - 1
    )
    controls = st.container(horizontal=True, gap="medium")
    with controls:
        sort = (
            st.segmented_control(
                "Channel order",
                SORTS,
                default="gate ↓",
                key="drill_sort",
                help=SORT_HELP,
                required=True,
                wrap=True,
            )
            or "gate ↓"
        )
        k = st.slider(
            "Top-k channels",
            1,
            8,
            3,
            key="drill_k",
            width=260,
            help="How many of the most up-weighted and most suppressed channels to show.",
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
    t1.markdown(f"**Top {k} up-weighted channels** (highest s)")
    t1.table(readable(up), hide_index=True)
    t2.markdown(f"**Top {k} suppressed channels** (lowest s)")
    t2.table(readable(down), hide_index=True)
    channels = [int(c) for c in up["channel"]] + [int(c) for c in down["channel"]]
    view = cache.block_maps(cap, block)
    if block in view.maps_in:
        st.markdown(
            "**Feature maps before and after the SE scaling** — the channels above "
            "(up-weighted first), one shared colour scale."
        )
        chart(
            figures.feature_maps(view, block, channels, image=0, image_name=image_name),
            "drill_maps",
            f"feature_maps_{block}_{slug(image_name)}",
        )
    else:
        st.info("Feature maps are not available for this block.")


def _render_channel(cap: Capture, block: str) -> int:
    """One channel of the block in one line: its gate, its squeeze and the gate's rank (the
    channel a link names, or the user's pick)."""
    channels = cap.block(block).channels
    state.keep_channel(state.CHANNEL, channels)
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    c = left.selectbox("Channel", list(range(channels)), key=state.CHANNEL)
    s = cap.gates[block][0]
    rank = int((s > s[c]).sum()) + 1
    right.markdown(
        f"**Channel {c}**: gate s = {s[c]:.3f}, squeeze z = {cap.squeeze[block][0][c]:.3f} — "
        f"rank {rank} of {channels} by gate (1 = largest)."
    )
    return int(c)


def _atlas_button(block: str, channel: int) -> None:
    """Open the gate atlas of the channel picked above (the Channels tab)."""
    st.button(
        f"Open channel {channel}'s gate atlas",
        key="drill_atlas",
        icon=":material/photo_library:",
        on_click=state.open_atlas,
        args=(block, channel),
        help="The images that open and close this channel's gate most, over your images or the "
        "offline demonstration set, with its feature map laid over each (Channels tab).",
    )
