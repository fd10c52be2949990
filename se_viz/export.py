"""Files out: captured values as CSV / NPZ, summaries as CSV, charts as one standalone HTML report
— each with a manifest that says where the numbers came from.

Every function returns ``bytes`` ready for a download button or ``Path.write_bytes``; nothing
here touches torch or Streamlit. The NPZ holds only plain (non-object) arrays, so it loads with
NumPy's safe default ``allow_pickle=False``.
"""

from __future__ import annotations

import datetime as _dt
import html
import importlib.metadata
import io
import json
import platform
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from .analysis.stats import long_table
from .engine.capture import Capture

__all__ = ["capture_csv", "capture_npz", "figure_html", "figures_html", "manifest", "summary_csv"]

_PACKAGES = ("se_viz", "torch", "timm", "numpy", "plotly", "pandas", "pillow")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def manifest(lm: Any, image_names: Sequence[str], *, fit: str = "crop",
             extra: Optional[dict] = None) -> dict:
    """Provenance of a result: model, weights (source and SHA-256), preprocessing, labels, SE
    blocks, package versions, time and images — enough to trace and reproduce it.

    ``lm`` is a :class:`~se_viz.LoadedModel`; the record is plain JSON-serialisable data.
    """
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in lm.data_config.items()}
    record = {
        "model": {"id": lm.name, "name": lm.display_name},
        "weights": lm.source.manifest(),
        "preprocessing": {**config, "fit": fit},
        "labels": list(lm.labels),
        "blocks": [{"name": b.name, "module_path": b.path, "channels": b.channels} for b in lm.blocks],
        "versions": _versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "images": [str(n) for n in image_names],
    }
    if extra:
        record.update(extra)
    return record


def _comment_header(record: Optional[dict]) -> bytes:
    """The manifest as leading ``# key: value`` lines (read with ``pd.read_csv(f, comment="#")``)."""
    if not record:
        return b""
    lines = ["# se_viz export — read with pandas.read_csv(path, comment='#')"]
    lines += [f"# {key}: {json.dumps(value, ensure_ascii=False)}" for key, value in record.items()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def capture_csv(cap: Capture, image_names: Sequence[str], manifest: Optional[dict] = None) -> bytes:
    """Every captured z and s as a long-format CSV (UTF-8, header row, no index column).

    The rows and columns are those of :func:`se_viz.analysis.long_table`: ``image``, ``block``,
    ``paper_name``, ``module_path``, ``channel``, ``z``, ``s`` — N × ΣC rows. With ``manifest``
    the file starts with ``#`` comment lines holding it.
    """
    return _comment_header(manifest) + long_table(cap, image_names).to_csv(index=False).encode("utf-8")


def capture_npz(cap: Capture, image_names: Sequence[str], manifest: Optional[dict] = None,
                maps_block: Optional[str] = None) -> bytes:
    """The capture as a compressed NumPy archive (``np.savez_compressed``), returned as bytes.

    Arrays: ``gates/<block>`` and ``squeeze/<block>`` (N, C) float32 for every block, ``logits``
    (N, K), the string arrays ``image_names``, ``block_names``, ``module_paths`` and
    ``paper_names`` ("" where none) in forward order, ``manifest`` (a JSON string) when given, and
    ``maps_in/<block>`` / ``maps_out/<block>`` (N, C, H, W) for ``maps_block`` when the capture holds
    its maps. Everything loads with ``np.load(..., allow_pickle=False)``.
    """
    names = [str(n) for n in image_names]
    if len(names) != cap.num_images:
        raise ValueError(f"Got {len(names)} image name(s) for a capture of {cap.num_images} image(s).")
    arrays: dict[str, np.ndarray] = {}
    for b in cap.blocks:
        arrays[f"gates/{b.name}"] = np.asarray(cap.gates[b.name])
        arrays[f"squeeze/{b.name}"] = np.asarray(cap.squeeze[b.name])
    arrays["logits"] = np.asarray(cap.logits)
    # np.array(list of str) gives dtype '<U…', never object.
    arrays["image_names"] = np.array(names, dtype=str)
    arrays["block_names"] = np.array(cap.block_names, dtype=str)
    arrays["module_paths"] = np.array([b.path for b in cap.blocks], dtype=str)
    arrays["paper_names"] = np.array([b.paper_name or "" for b in cap.blocks], dtype=str)
    if manifest is not None:
        arrays["manifest"] = np.array(json.dumps(manifest, ensure_ascii=False))
    if maps_block is not None and maps_block in cap.maps_in:
        arrays[f"maps_in/{maps_block}"] = np.asarray(cap.maps_in[maps_block], dtype=np.float32)
        arrays[f"maps_out/{maps_block}"] = np.asarray(cap.maps_out[maps_block], dtype=np.float32)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def summary_csv(df: pd.DataFrame, manifest: Optional[dict] = None) -> bytes:
    """A summary table (e.g. :func:`se_viz.analysis.block_summary`) as UTF-8 CSV without index,
    after the manifest's ``#`` lines when given. Missing values are empty cells."""
    return _comment_header(manifest) + df.to_csv(index=False).encode("utf-8")


def figure_html(fig: go.Figure) -> bytes:
    """One figure as a standalone HTML file with plotly.js inlined (~4.7 MB: the library itself).

    For several charts use :func:`figures_html`, which shares one copy of the library.
    """
    return fig.to_html(include_plotlyjs=True, full_html=True, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True}).encode("utf-8")


def figures_html(figures: Sequence[tuple[str, go.Figure]], manifest: dict, title: str) -> bytes:
    """Several charts as ONE standalone HTML report that works offline.

    plotly.js is inlined once and shared by every chart (a five-chart report is barely larger
    than one chart alone); the manifest is shown as a table and embedded as JSON in
    ``<script type="application/json" id="se-viz-manifest">``.
    """
    parts = []
    for i, (heading, fig) in enumerate(figures):
        div = pio.to_html(fig, include_plotlyjs=(i == 0), full_html=False, include_mathjax=False,
                          config={"displaylogo": False, "responsive": True})
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{div}")
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td><code>{html.escape(json.dumps(v, ensure_ascii=False)[:2000])}"
        f"</code></td></tr>" for k, v in manifest.items())
    data = json.dumps(manifest, ensure_ascii=False).replace("</", "<\\/")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
td code{{white-space:pre-wrap;word-break:break-all}}</style></head>
<body><h1>{html.escape(title)}</h1>
{''.join(parts)}
<h2>Provenance</h2><table>{rows}</table>
<script type="application/json" id="se-viz-manifest">{data}</script>
</body></html>"""
    return page.encode("utf-8")
