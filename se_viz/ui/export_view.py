"""The Export tab: every file carries a manifest (model, weights and their SHA-256, preprocessing,
labels, versions, time), and the charts of one image come as one small standalone HTML report."""

from __future__ import annotations

import streamlit as st

from se_viz import Capture, LoadedModel, analysis, export, figures

from .common import slug, styled

# A download click must not rerun the script: a rerun re-registers every deferred file under a new
# id, so a second button clicked while it runs asked for an id that was gone ("Deferred file …
# not found") and its file was lost, sometimes leaving the button spinning. With "ignore" each
# button keeps its file id until the user changes something on the page.
NO_RERUN = "ignore"


def _report_figures(cap: Capture, image_name: str) -> list:
    block = cap.block_names[-1]
    return [
        ("Gate heatmap", figures.gate_heatmap(cap, image=0, title=f"SE gates s — {image_name}")),
        ("Distribution of s", figures.distribution_figure(cap, 0, "s", "violin", image_name=image_name)),
        ("Distribution of z", figures.distribution_figure(cap, 0, "z", "violin", image_name=image_name)),
        (f"Gates of {block}", figures.gate_bar(cap, block, image=0, sort="gate ↓", image_name=image_name)),
        (f"z against s in {block}", figures.squeeze_vs_gate(cap, block, image=0, image_name=image_name)),
    ]


def render_export(
    all_caps: Capture, names: list[str], cap: Capture, image_name: str, lm: LoadedModel, fit: str
) -> None:
    """Downloads of the capture (CSV, NPZ with the maps of one block), the summary and the charts."""
    stem = export.file_stem(lm)
    manifest = export.manifest(lm, names, fit=fit)
    n_rows = all_caps.num_images * sum(b.channels for b in all_caps.blocks)
    st.caption(
        "Every file names the model, its weights (source and SHA-256), the preprocessing, the "
        "class labels and the package versions, so a result can be traced and reproduced."
    )
    st.markdown(
        f"**Capture of all {len(names)} image(s)** — long format, one row per (image, block, "
        f"channel): {n_rows:,} rows with columns image, block, paper_name, module_path, channel, "
        "z, s. The manifest is in the leading `#` lines (pandas: `read_csv(f, comment='#')`)."
    )
    maps_block = st.selectbox(
        "Feature maps to include in the NPZ (of the image shown in detail)",
        cap.block_names,
        index=len(cap.block_names) - 1,
        key="export_maps_block",
        format_func=lambda n: cap.block(n).label,
    )
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "Capture as CSV",
        icon=":material/download:",
        on_click=NO_RERUN,
        type="primary",
        key="dl_csv",
        data=lambda: export.capture_csv(all_caps, names, manifest=manifest),
        file_name=f"se_capture_{stem}.csv",
        mime="text/csv",
    )
    row.download_button(
        "Capture as NPZ (NumPy)",
        icon=":material/download:",
        on_click=NO_RERUN,
        key="dl_npz",
        data=lambda: export.capture_npz(cap, [image_name], manifest=manifest, maps_block=maps_block),
        file_name=f"se_capture_{slug(image_name)}_{stem}.npz",
        mime="application/octet-stream",
        help="gates/<block> and squeeze/<block> (N, C), logits, names, the manifest "
        "(JSON) and maps_in/maps_out of the chosen block.",
    )
    st.markdown(
        f"**{image_name}** — the summary table (one row per block) and its charts as one "
        "standalone HTML file (works offline; one copy of the chart library for all charts)."
    )
    summary = analysis.block_summary(cap, image=0)
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "Summary as CSV",
        icon=":material/download:",
        on_click=NO_RERUN,
        key="dl_summary",
        data=lambda: export.summary_csv(summary, manifest=manifest),
        file_name=f"se_summary_{slug(image_name)}_{stem}.csv",
        mime="text/csv",
    )
    row.download_button(
        "Charts as one HTML report",
        icon=":material/download:",
        on_click=NO_RERUN,
        key="dl_report",
        data=lambda: export.figures_html(
            [(t, styled(f)) for t, f in _report_figures(cap, image_name)],
            manifest,
            title=f"se_viz — {image_name}",
        ),
        file_name=f"se_report_{slug(image_name)}_{stem}.html",
        mime="text/html",
    )
    with st.expander("The manifest"):
        st.json(manifest, expanded=1)
