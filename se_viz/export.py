"""Files out, each carrying its provenance: captured values as CSV / NPZ, summaries as CSV, figures
as standalone HTML.

:func:`manifest` says what produced the numbers — model, weights (source and SHA-256),
preprocessing, class labels, SE blocks, package versions, time, images — and every writer takes
it: CSV files start with ``# key: value`` comment lines (read them with
``pd.read_csv(f, comment="#")``), the NPZ holds it as the JSON string ``manifest``, the HTML report
shows it as a table and embeds it as ``<script type="application/json" id="se-viz-manifest">``.

Every function returns ``bytes`` ready for a download button or ``Path.write_bytes``; nothing
here touches torch or Streamlit. The NPZ holds only plain (non-object) arrays, so it loads with
NumPy's safe default ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from .analysis.stats import long_table
from .engine.capture import Capture
from .i18n import _, current, ngettext
from .provenance import jsonable, package_versions, utc_now

if TYPE_CHECKING:  # annotations only: exporting never needs torch imported here
    from .loading.load import LoadedModel

__all__ = [
    "MANIFEST_VERSION",
    "capture_csv",
    "capture_npz",
    "file_stem",
    "figure_html",
    "figures_html",
    "manifest",
    "manifest_lines",
    "summary_csv",
]

MANIFEST_VERSION = 1
_HTML_CONFIG = {"displaylogo": False, "responsive": True}


# ---------------------------------------------------------------------------------------------
# The manifest


def manifest(
    lm: "LoadedModel", image_names: Sequence[str], *, fit: str = "crop", extra: Optional[dict] = None
) -> dict:
    """What produced an export, as a JSON-ready dict: enough to redo it or to doubt it.

    Keys: ``se_viz_manifest`` (format version), ``created_utc`` (ISO-8601), ``model`` (id,
    display name, ``trained``: False for random weights, which the display name then says too),
    ``weights`` (:meth:`WeightsSource.manifest`: kind, path, hub repo, SHA-256 of
    the file — computed once per model, None for random init), ``preprocessing`` (timm's data
    config plus ``fit``: "crop" or "pad"), ``images``, ``se_blocks`` (name, module path, channels),
    ``versions`` (:func:`se_viz.provenance.package_versions`), ``labels`` (every class, in index
    order) and ``extra`` (whatever the caller adds, e.g. the view's settings).
    """
    return {
        "se_viz_manifest": MANIFEST_VERSION,
        "created_utc": utc_now(),
        "model": {
            "id": lm.name,
            "display_name": lm.display_name if lm.pretrained else f"{lm.display_name} (untrained)",
            "trained": lm.pretrained,
        },
        "weights": lm.source.manifest(),
        "preprocessing": {**jsonable(lm.data_config), "fit": fit},
        "images": [str(n) for n in image_names],
        "se_blocks": [
            {"name": b.name, "module_path": b.path, "channels": int(b.channels)} for b in lm.blocks
        ],
        "versions": package_versions(),
        "labels": list(lm.labels),
        "extra": jsonable(extra or {}),
    }


def file_stem(lm: "LoadedModel") -> str:
    """The model part of an exported file's name, safe in any file system.

    It names the weights truthfully: an untrained network is ``<architecture>_untrained``
    (``legacy_seresnet50_untrained``), never its catalog id, whose tag (``in1k``) would suggest
    ImageNet weights that were not loaded.
    """
    if lm.pretrained:
        name = lm.name
    else:
        name = f"{lm.entry.architecture if lm.entry is not None else lm.name}_untrained"
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "model"


def _flat_items(info: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, value) pairs: nested dicts flattened to ``weights.sha256``."""
    items: list[tuple[str, Any]] = []
    for key, value in info.items():
        if isinstance(value, dict) and value:
            items += _flat_items(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def manifest_lines(info: dict) -> list[str]:
    """The manifest as ``key: value`` lines: nested keys dotted (``weights.sha256``), lists and
    other non-strings as JSON, so every line holds one key and never breaks."""
    return [
        f"{key}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}".replace(
            "\r", " "
        ).replace("\n", " ")
        for key, value in _flat_items(info)
    ]


def _csv(df: pd.DataFrame, info: Optional[dict]) -> bytes:
    """``df`` as UTF-8 CSV, after the manifest as ``# `` comment lines when given.

    With a manifest every text cell is quoted, so a ``#`` inside an image name is not taken for
    the start of a comment by ``pd.read_csv(f, comment="#")``.
    """
    if info is None:
        return df.to_csv(index=False).encode("utf-8")
    head = "".join(f"# {line}\n" for line in manifest_lines(info))
    return (head + df.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Tables


def capture_csv(cap: Capture, image_names: Sequence[str], manifest: Optional[dict] = None) -> bytes:
    """Every captured z and s as a long-format CSV (UTF-8, header row, no index column).

    The rows and columns are those of :func:`se_viz.analysis.long_table`: ``image``, ``block``,
    ``paper_name``, ``module_path``, ``channel``, ``z``, ``s`` — N × ΣC rows — which pandas, R and
    spreadsheets read without any se_viz code. With ``manifest`` (see :func:`manifest`) the file
    starts with ``# key: value`` lines: read it with ``pd.read_csv(f, comment="#")``.
    """
    return _csv(long_table(cap, image_names), manifest)


def summary_csv(df: pd.DataFrame, manifest: Optional[dict] = None) -> bytes:
    """A summary table (e.g. :func:`se_viz.analysis.block_summary`) as UTF-8 CSV without index.

    Missing values (a model without stages) are written as empty cells, which every CSV reader
    treats as missing. ``manifest`` as in :func:`capture_csv`.
    """
    return _csv(df, manifest)


def capture_npz(
    cap: Capture,
    image_names: Sequence[str],
    manifest: Optional[dict] = None,
    maps_block: Optional[str] = None,
) -> bytes:
    """The capture as a compressed NumPy archive (``np.savez_compressed``), returned as bytes.

    Arrays: ``gates/<block>`` and ``squeeze/<block>`` (N, C) float32 for every block, ``logits``
    (N, K), and the string arrays ``image_names`` (N,), ``block_names``, ``module_paths`` and
    ``paper_names`` ("" where none) in forward order. ``manifest`` is stored as the JSON string
    ``manifest`` (``json.loads(str(npz["manifest"]))``). With ``maps_block`` the feature maps of
    that block are added as ``maps_in/<block>`` (u) and ``maps_out/<block>`` (s · u), shape
    (N, C, H, W) in their captured dtype, for the images of the capture (capture with
    ``maps=[block]``; to export the maps of the shown image only, pass ``cap.select(i)`` and its
    name). Strings are stored as fixed-width unicode, so ``np.load(..., allow_pickle=False)``
    reads everything.
    """
    names = [str(n) for n in image_names]
    if len(names) != cap.num_images:
        raise ValueError(f"Got {len(names)} image name(s) for a capture of {cap.num_images} image(s).")
    arrays: dict[str, np.ndarray] = {}
    for b in cap.blocks:
        arrays[f"gates/{b.name}"] = np.asarray(cap.gates[b.name])
        arrays[f"squeeze/{b.name}"] = np.asarray(cap.squeeze[b.name])
    arrays["logits"] = np.asarray(cap.logits)
    # np.array(list of str) gives dtype '<U…', never object, even for an empty list with dtype=str.
    arrays["image_names"] = np.array(names, dtype=str)
    arrays["block_names"] = np.array(cap.block_names, dtype=str)
    arrays["module_paths"] = np.array([b.path for b in cap.blocks], dtype=str)
    arrays["paper_names"] = np.array([b.paper_name or "" for b in cap.blocks], dtype=str)
    if maps_block is not None:
        cap.block(maps_block)  # an unknown block fails with the list of known ones
        if maps_block not in cap.maps_in or maps_block not in cap.maps_out:
            raise KeyError(
                f"No feature maps were captured for {maps_block!r}; capture with maps=[{maps_block!r}]."
            )
        arrays[f"maps_in/{maps_block}"] = np.asarray(cap.maps_in[maps_block])
        arrays[f"maps_out/{maps_block}"] = np.asarray(cap.maps_out[maps_block])
    if manifest is not None:
        arrays["manifest"] = np.array(json.dumps(manifest, ensure_ascii=False), dtype=str)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# HTML


def figure_html(fig: go.Figure) -> bytes:
    """A figure as one standalone HTML file with plotly.js inlined: it opens offline, forever.

    ``include_plotlyjs=True`` embeds the library (about 4.8 MB of the file's size, whatever the
    figure) instead of linking a CDN, because exported figures are shown in lecture halls and
    archived where no network can be assumed. To export several figures, use
    :func:`figures_html`: one file, one copy of the library.
    """
    html_text = fig.to_html(include_plotlyjs=True, full_html=True, include_mathjax=False, config=_HTML_CONFIG)
    return html_text.encode("utf-8")


def _cell(value: Any) -> str:
    """One value for people: lists one item a line (dicts as "a · b · c"), the rest as text."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, list) and value:
        items = [
            " · ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
            for item in value
        ]
        return "<br>".join(html.escape(item) for item in items)
    return html.escape(json.dumps(value, ensure_ascii=False))


def _provenance_table(info: dict) -> str:
    """The manifest as a two-column HTML table; the labels (often 1000) folded in a <details>."""
    rows = []
    for line_key, value in _flat_items(info):
        if line_key == "labels" and isinstance(value, list):
            summary = ngettext("{n} class", "{n} classes", len(value)).format(n=len(value))
            shown = (
                f"<details><summary>{html.escape(summary)}</summary>"
                f'<ol start="0">{"".join(f"<li>{html.escape(str(v))}</li>" for v in value)}</ol></details>'
            )
        else:
            shown = _cell(value)
        rows.append(f"<tr><th>{html.escape(line_key)}</th><td>{shown}</td></tr>")
    return f'<table class="provenance">{"".join(rows)}</table>'


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table.provenance { border-collapse: collapse; font-size: 0.9rem; }
table.provenance th, table.provenance td { border: 1px solid #ccc; padding: 0.25rem 0.5rem;
  text-align: left; vertical-align: top; }
table.provenance td { font-family: ui-monospace, monospace; word-break: break-all; }
"""


def figures_html(figures: Sequence[tuple[str, go.Figure]], manifest: dict, title: str) -> bytes:
    """One standalone HTML report: every figure, one shared copy of plotly.js, and provenance.

    ``figures`` is a list of (heading, figure). The file opens offline (plotly.js is inlined once
    in the head, so five charts weigh about as much as one), shows a visible provenance table
    (:func:`manifest`, labels folded) and embeds the manifest as
    ``<script type="application/json" id="se-viz-manifest">`` for programs to read back. The words
    for people (headings, the page's language) are in the current language (:mod:`se_viz.i18n`);
    the manifest's keys stay as they are, so a program reads every report alike.
    """
    parts = []
    for k, (heading, fig) in enumerate(figures):
        div = pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            include_mathjax=False,
            config=_HTML_CONFIG,
            div_id=f"se-viz-figure-{k}",
        )
        parts.append(f"<section><h2>{html.escape(heading)}</h2>{div}</section>")
    # "</" must not appear inside a <script> element, or the browser would end it early.
    data = json.dumps(manifest, ensure_ascii=False, indent=1).replace("</", "<\\/")
    provenance = _("Provenance")
    page = (
        f'<!DOCTYPE html>\n<html lang="{current().replace("_", "-")}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        f'<script type="application/json" id="se-viz-manifest">{data}</script>\n</head>\n<body>\n'
        f"<h1>{html.escape(title)}</h1>\n{''.join(parts)}\n"
        f"<section><h2>{html.escape(provenance)}</h2>{_provenance_table(manifest)}</section>\n"
        "</body>\n</html>\n"
    )
    return page.encode("utf-8")
