"""The views. ``render_*`` functions only draw: data comes in, Streamlit elements go out.

Every view runs inside :func:`friendly_errors`, so an unexpected failure in one view shows a
plain message and leaves the other views working; no traceback ever reaches the browser.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from typing import Iterator, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import se_viz
from se_viz import Capture, LoadedModel
from se_viz.analysis import SORT_OPTIONS
from se_viz.loading.samples import LICENSE_NOTE, Sample

from . import cache, sidebar

log = logging.getLogger(__name__)

SORTS = list(SORT_OPTIONS)
SORT_HELP = ("natural: channel index order · gate ↓: most up-weighted first · "
             "gate ↑: most suppressed first")
PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


@contextmanager
def friendly_errors(what: str) -> Iterator[None]:
    """Turn an unexpected exception into a plain message (script control flow passes through)."""
    try:
        yield
    except se_viz.InputError as exc:
        st.error(str(exc), icon=":material/broken_image:")
    except Exception as exc:  # noqa: BLE001 — the browser gets a sentence, the log the trace
        log.exception("rendering %s failed", what)
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        st.error(f"Sorry — the {what} could not be drawn ({msg}). The other views still work.",
                 icon=":material/warning:")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "chart"


def chart(fig: go.Figure, key: str, filename: str) -> None:
    """Draw a Plotly figure (toolbar: PNG download) with a standalone-HTML download below it."""
    from se_viz import export

    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"],
                                                        "filename": filename}}
    st.plotly_chart(fig, key=key, config=config, width="stretch")
    st.download_button(
        "Chart as HTML (interactive, works offline)", icon=":material/download:", data=lambda: export.figure_html(fig),
        file_name=f"{filename}.html", mime="text/html", key=f"{key}_html",
        help="The camera icon in the chart's toolbar saves it as PNG.",
    )


# --------------------------------------------------------------------------------------------
# Model banner, empty state, gallery


def render_model_problem(model: sidebar.ModelState) -> None:
    """The load error with one-click alternatives, or the 'untrained' warning banner."""
    if model.error:
        st.error(f"**The model “{model.label}” could not be loaded.**\n\n{model.error}", icon=":material/cloud_off:")
        st.markdown("**What you can do right now:**")
        row = st.container(horizontal=True, gap="small")
        mini = f"{se_viz.MINI_MODEL}::{sidebar.PRETRAINED}"
        if sidebar.mini_available() and model.option != mini:
            row.button(
                "Use SE-ResNet mini — synthetic shapes, works offline", type="primary",
                icon=":material/offline_bolt:",
                on_click=sidebar.select_option, args=(mini,), key="use_mini",
                help="A small SE-ResNet trained by this project on generated shapes; its weights "
                     "ship with se_viz. Try it with the synthetic sample images.",
            )
        untrained = sidebar.untrained_option(model.choice.model_id)
        if untrained is not None and model.option != untrained:
            row.button(
                f"Use {sidebar.option_label(untrained)}", icon=":material/science:", on_click=sidebar.select_option,
                args=(untrained,), key="use_untrained",
                help="Random weights: the block structure is real, the gate values mean nothing.",
            )
        row.button("Try again", icon=":material/refresh:", on_click=sidebar.retry, args=(model.option,), key="retry_main")
    elif model.untrained:
        st.warning(
            "**Untrained network — structure only.** Its weights are random: the gates of an "
            "untrained network sit near 0.5 and mean nothing, and its predictions are noise. "
            "The blocks, their names and channel counts are real.", icon=":material/warning:",
        )


def render_empty_state(model: sidebar.ModelState, gallery: Sequence[Sample]) -> None:
    """No image yet: point to the uploader and offer the sample gallery in one click."""
    st.info("**No image yet.** Upload photos in the sidebar (drag and drop works; several at "
            "once), or start with the sample gallery below.", icon=":material/upload:")
    photos = [s for s in gallery if s.kind == "photo"]
    synthetic = [s for s in gallery if s.kind == "synthetic"]
    mini = model.lm is not None and model.lm.name == se_viz.MINI_MODEL
    row = st.container(horizontal=True, gap="small")
    row.button("Analyse the sample photos", type="secondary" if mini else "primary",
              on_click=_pick_samples, args=([s.name for s in photos],), key="use_photos",
              disabled=not photos)
    if synthetic:
        row.button("Analyse the synthetic examples (for SE-ResNet mini)",
                  type="primary" if mini else "secondary",
                  on_click=_pick_samples, args=([s.name for s in synthetic],), key="use_synthetic")
    _gallery_grid(photos, 5)
    st.caption(LICENSE_NOTE)
    if synthetic:
        st.markdown("**Generated examples of SE-ResNet mini's classes** (the offline model)")
        _gallery_grid(synthetic, 8)


def render_mini_hint(lm: LoadedModel, image_names: Sequence[str], gallery: Sequence[Sample]) -> None:
    """SE-ResNet mini knows only its synthetic classes: say so when it is shown other images."""
    synthetic = [s.name for s in gallery if s.kind == "synthetic"]
    if lm.name != se_viz.MINI_MODEL or all(n in synthetic for n in image_names):
        return
    st.info(f"SE-ResNet mini was trained on {len(lm.labels)} generated classes "
            f"({', '.join(lm.labels)}); on other images its predictions mean little.",
            icon=":material/info:")
    if synthetic:
        st.button("Add the synthetic examples", key="use_synthetic_hint",
                  on_click=_pick_samples, args=(synthetic,))


def _pick_samples(names: list[str]) -> None:
    st.session_state[sidebar.SAMPLES_KEY] = list(names)


def _gallery_grid(samples: Sequence[Sample], per_row: int) -> None:
    for start in range(0, len(samples), per_row):
        cols = st.columns(per_row)
        for col, s in zip(cols, samples[start:start + per_row]):
            try:
                png, _ = cache.thumbnail_png(cache.image_digest(s.data), s.data)
            except se_viz.InputError:
                continue
            col.image(png, caption=s.caption, width="stretch")


# --------------------------------------------------------------------------------------------
# Predictions


def render_predictions(rows: Sequence[tuple[str, bytes, Capture]], lm: LoadedModel) -> None:
    """For each image: its thumbnail beside the top-5 classes with probabilities."""
    from se_viz import analysis

    st.caption("The network's five most likely classes for each image. Probabilities are the "
               "softmax of the logits, in percent.")
    for i, (name, thumb, cap) in enumerate(rows):
        left, right = st.columns([1, 3])
        left.image(thumb, caption=name, width="stretch")
        table = analysis.topk_predictions(cap, lm.labels, image=0, k=5)
        shown = table.assign(probability=table["probability"] * 100.0)
        right.markdown(f"**{name}** — top-1: **{table['label'].iloc[0]}** "
                       f"({shown['probability'].iloc[0]:.1f} %)")
        right.dataframe(
            shown[["rank", "label", "probability", "class_index"]], hide_index=True,
            width="stretch", key=f"pred_{i}",
            column_config={
                "rank": st.column_config.NumberColumn("rank", width="small"),
                "label": st.column_config.TextColumn("class", width="medium"),
                "probability": st.column_config.ProgressColumn(
                    "probability (%)", min_value=0.0, max_value=100.0, format="%.1f %%"),
                "class_index": st.column_config.NumberColumn("class index", width="small"),
            },
        )


# --------------------------------------------------------------------------------------------
# Gate heatmap


def render_heatmap(cap: Capture, image_name: str) -> None:
    """All SE blocks × channels, colour = gate s; one panel per stage (honest widths)."""
    from se_viz import figures

    st.caption(
        "Each row is one SE block (paper name · module path), each column one channel; colour is "
        "the gate s ∈ [0, 1] the block multiplied that channel by. Stages have different widths, "
        "so each stage gets its own panel with its own channel axis. Hover for block, channel, "
        "s and z."
    )
    sort = st.segmented_control("Channel order", SORTS, default="natural", key="heat_sort",
                                help=SORT_HELP, required=True) or "natural"
    fig = figures.gate_heatmap(cap, image=0, sort=sort, title=f"SE gates s — {image_name}")
    chart(fig, "heatmap", f"gate_heatmap_{_slug(image_name)}")


# --------------------------------------------------------------------------------------------
# Distributions


def render_distributions(cap: Capture, image_name: str) -> None:
    """Per-block distributions of s and z, and the per-block summary table."""
    from se_viz import figures

    st.caption(
        "How the gates s (top) and the squeezed values z (bottom) spread across the channels of "
        "each block. Early blocks tend to keep gates similar; late blocks get more selective."
    )
    kind = st.segmented_control("Chart type", ["violin", "box", "histogram"], default="violin",
                                key="dist_kind", required=True) or "violin"
    fig_s = figures.distribution_figure(cap, image=0, quantity="s", kind=kind, image_name=image_name)
    chart(fig_s, "dist_s", f"gate_distribution_{kind}_{_slug(image_name)}")
    fig_z = figures.distribution_figure(cap, image=0, quantity="z", kind=kind, image_name=image_name)
    chart(fig_z, "dist_z", f"squeeze_distribution_{kind}_{_slug(image_name)}")
    render_summary_table(cap)


def render_summary_table(cap: Capture) -> pd.DataFrame:
    """The per-block summary of the gates (mean, std, min, max, saturation, entropy)."""
    from se_viz import analysis

    st.subheader("Summary per block")
    df = analysis.block_summary(cap, image=0)
    st.dataframe(
        df, hide_index=True, width="stretch", key="summary_table",
        column_config={
            "frac_below_0.1": st.column_config.NumberColumn("s < 0.1 (fraction)", format="%.3f"),
            "frac_above_0.9": st.column_config.NumberColumn("s > 0.9 (fraction)", format="%.3f"),
            "mean": st.column_config.NumberColumn("mean s", format="%.3f"),
            "std": st.column_config.NumberColumn("std s", format="%.3f"),
            "min": st.column_config.NumberColumn("min s", format="%.3f"),
            "max": st.column_config.NumberColumn("max s", format="%.3f"),
            "entropy": st.column_config.NumberColumn("entropy", format="%.3f"),
            "z_mean": st.column_config.NumberColumn("mean z", format="%.3f"),
            "z_std": st.column_config.NumberColumn("std z", format="%.3f"),
        },
    )
    st.caption(f"Saturation: fraction of channels whose gate is below 0.1 (nearly switched off) "
               f"or above 0.9 (passed almost unchanged). {analysis.ENTROPY_DEFINITION}")
    return df


# --------------------------------------------------------------------------------------------
# Block drill-down


def render_drilldown(cap: Capture, image_name: str) -> None:
    """One block: gates per channel, z against s, top-k channels and their feature maps."""
    from se_viz import analysis, figures

    st.caption(
        "Pick one SE block. The bars are its gates s per channel; the scatter shows how the "
        "squeezed input z of each channel relates to the gate it received. Below, the channels "
        "the block up-weighted and suppressed most, as feature maps before (u_c) and after "
        "(s_c · u_c) the scaling — on one colour scale, so the recalibration is visible."
    )
    labels = {b.name: b.label for b in cap.blocks}
    names = cap.block_names
    c1, c2, c3 = st.columns([3, 2, 2])
    block = c1.selectbox("SE block", names, key="drill_block", format_func=lambda n: labels.get(n, n),
                         index=len(names) - 1)
    sort = c2.segmented_control("Channel order", SORTS, default="gate ↓", key="drill_sort",
                                help=SORT_HELP, required=True) or "gate ↓"
    k = c3.slider("Top-k channels", 1, 8, 3, key="drill_k",
                  help="How many of the most up-weighted and most suppressed channels to show.")
    info = cap.block(block)
    st.markdown(f"**{info.label}** — {info.channels} channels, reduced to {info.reduced} inside "
                f"the block, {info.gate_kind} gate.")
    left, right = st.columns(2)
    with left:
        chart(figures.gate_bar(cap, block, image=0, sort=sort, image_name=image_name), "drill_bar",
              f"gates_{block}_{_slug(image_name)}")
    with right:
        chart(figures.squeeze_vs_gate(cap, block, image=0, image_name=image_name), "drill_scatter",
              f"z_vs_s_{block}_{_slug(image_name)}")
    up, down = analysis.top_channels(cap, block, image=0, k=k)
    t1, t2 = st.columns(2)
    t1.markdown(f"**Top {k} up-weighted channels** (highest s)")
    t1.dataframe(up, hide_index=True, width="stretch", key="drill_up")
    t2.markdown(f"**Top {k} suppressed channels** (lowest s)")
    t2.dataframe(down, hide_index=True, width="stretch", key="drill_down")
    channels = [int(c) for c in up["channel"]] + [int(c) for c in down["channel"]]
    view = cache.block_maps(cap, block)
    if block in view.maps_in:
        st.markdown("**Feature maps before and after the SE scaling** — rows: the channels above "
                    "(up-weighted first); one shared colour scale.")
        chart(figures.feature_maps(view, block, channels, image=0, image_name=image_name), "drill_maps",
              f"feature_maps_{block}_{_slug(image_name)}")
    else:
        st.info("Feature maps are not available for this block.")


# --------------------------------------------------------------------------------------------
# Export


def render_export(all_caps: Capture, names: list[str], cap: Capture, image_name: str,
                  model_name: str) -> None:
    """Downloads: the capture (CSV long format, NPZ) and the summary table (CSV)."""
    from se_viz import analysis, export

    stem = _slug(model_name)
    n_rows = all_caps.num_images * sum(b.channels for b in all_caps.blocks)
    st.caption("Files for a spreadsheet or for your own analysis. Charts: use the camera icon in "
               "each chart's toolbar for PNG, or the “Chart as HTML” button under it.")
    st.markdown(f"**Capture of all {len(names)} image(s)** — long format, one row per (image, "
                f"block, channel): {n_rows:,} rows with columns image, block, paper_name, "
                "module_path, channel, z, s.")
    row = st.container(horizontal=True, gap="small")
    row.download_button("Capture as CSV", icon=":material/download:", data=lambda: export.capture_csv(all_caps, names),
                       file_name=f"se_capture_{stem}.csv", mime="text/csv", key="dl_csv",
                       type="primary")
    row.download_button("Capture as NPZ (NumPy)", icon=":material/download:", data=lambda: export.capture_npz(all_caps, names),
                       file_name=f"se_capture_{stem}.npz", mime="application/octet-stream",
                       key="dl_npz", help="Arrays gates/<block> and squeeze/<block> (N, C), logits, "
                                          "image_names, block_names, module_paths.")
    st.markdown(f"**Summary table of {image_name}** — one row per block.")
    summary = analysis.block_summary(cap, image=0)
    st.download_button("Summary as CSV", icon=":material/download:", data=lambda: export.summary_csv(summary),
                       file_name=f"se_summary_{_slug(image_name)}_{stem}.csv", mime="text/csv",
                       key="dl_summary")
