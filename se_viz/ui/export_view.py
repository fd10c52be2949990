"""The Export tab: every file carries a manifest (model, weights and their SHA-256, preprocessing,
labels, versions, time), and the charts of one image come as one small standalone HTML report."""

from __future__ import annotations

import streamlit as st

from se_viz import Capture, LoadedModel, analysis, export, figures
from se_viz.i18n import _, ngettext

from .common import slug, styled

# A download click must not rerun the script: a rerun re-registers every deferred file under a new
# id, so a second button clicked while it runs asked for an id that was gone ("Deferred file …
# not found") and its file was lost, sometimes leaving the button spinning. With "ignore" each
# button keeps its file id until the user changes something on the page.
NO_RERUN = "ignore"


def _report_figures(cap: Capture, image_name: str) -> list:
    block = cap.block_names[-1]
    heatmap_title = _("SE gates s — {image}").format(image=image_name)
    return [
        (_("Gate heatmap"), figures.gate_heatmap(cap, image=0, title=heatmap_title)),
        (_("Distribution of s"), figures.distribution_figure(cap, 0, "s", "violin", image_name=image_name)),
        (_("Distribution of z"), figures.distribution_figure(cap, 0, "z", "violin", image_name=image_name)),
        (
            _("Gates of {block}").format(block=block),
            figures.gate_bar(cap, block, image=0, sort="gate ↓", image_name=image_name),
        ),
        (
            _("z against s in {block}").format(block=block),
            figures.squeeze_vs_gate(cap, block, image=0, image_name=image_name),
        ),
    ]


def render_export(
    all_caps: Capture, names: list[str], cap: Capture, image_name: str, lm: LoadedModel, fit: str
) -> None:
    """Downloads of the capture (CSV, NPZ with the maps of one block), the summary and the charts."""
    stem = export.file_stem(lm)
    manifest = export.manifest(lm, names, fit=fit)
    n_rows = all_caps.num_images * sum(b.channels for b in all_caps.blocks)
    st.caption(
        _(
            "Every file names the model, its weights (source and SHA-256), the preprocessing, the "
            "class labels and the package versions, so a result can be traced and reproduced."
        )
    )
    st.markdown(
        ngettext(
            "**Capture of {n} image** — long format, one row per (image, block, channel): {rows} rows "
            "with columns `image`, `block`, `paper_name`, `module_path`, `channel`, `z`, `s`. The "
            "manifest is in the leading `#` lines (pandas: `read_csv(f, comment='#')`).",
            "**Capture of all {n} images** — long format, one row per (image, block, channel): {rows} "
            "rows with columns `image`, `block`, `paper_name`, `module_path`, `channel`, `z`, `s`. The "
            "manifest is in the leading `#` lines (pandas: `read_csv(f, comment='#')`).",
            len(names),
        ).format(n=len(names), rows=f"{n_rows:,}")
    )
    maps_block = st.selectbox(
        _("Feature maps to include in the NPZ (of the image shown in detail)"),
        cap.block_names,
        index=len(cap.block_names) - 1,
        key="export_maps_block",
        format_func=lambda n: cap.block(n).label,
    )
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        _("Capture as CSV"),
        icon=":material/download:",
        on_click=NO_RERUN,
        type="primary",
        key="dl_csv",
        data=lambda: export.capture_csv(all_caps, names, manifest=manifest),
        file_name=f"se_capture_{stem}.csv",
        mime="text/csv",
    )
    row.download_button(
        _("Capture as NPZ (NumPy)"),
        icon=":material/download:",
        on_click=NO_RERUN,
        key="dl_npz",
        data=lambda: export.capture_npz(cap, [image_name], manifest=manifest, maps_block=maps_block),
        file_name=f"se_capture_{slug(image_name)}_{stem}.npz",
        mime="application/octet-stream",
        help=_(
            "`gates/<block>` and `squeeze/<block>` (N, C), `logits`, names, the manifest (JSON) and "
            "`maps_in`/`maps_out` of the chosen block."
        ),
    )
    st.markdown(
        _(
            "**{image}** — the summary table (one row per block) and its charts as one standalone "
            "HTML file (works offline; one copy of the chart library for all charts)."
        ).format(image=image_name)
    )
    summary = analysis.block_summary(cap, image=0)
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        _("Summary as CSV"),
        icon=":material/download:",
        on_click=NO_RERUN,
        key="dl_summary",
        data=lambda: export.summary_csv(summary, manifest=manifest),
        file_name=f"se_summary_{slug(image_name)}_{stem}.csv",
        mime="text/csv",
    )
    row.download_button(
        _("Charts as one HTML report"),
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
    with st.expander(_("The manifest")):
        st.json(manifest, expanded=1)
