"""Files out: captured values as CSV / NPZ, summaries as CSV, figures as standalone HTML.

Every function returns ``bytes`` ready for a download button or ``Path.write_bytes``; nothing
here touches torch or Streamlit. The NPZ holds only plain (non-object) arrays, so it loads with
NumPy's safe default ``allow_pickle=False``.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .analysis.stats import long_table
from .engine.capture import Capture

__all__ = ["capture_csv", "capture_npz", "figure_html", "summary_csv"]


def capture_csv(cap: Capture, image_names: Sequence[str]) -> bytes:
    """Every captured z and s as a long-format CSV (UTF-8, header row, no index column).

    The rows and columns are those of :func:`se_viz.analysis.long_table`: ``image``, ``block``,
    ``paper_name``, ``module_path``, ``channel``, ``z``, ``s`` — N × ΣC rows — which pandas, R and
    spreadsheets read without any se_viz code.
    """
    return long_table(cap, image_names).to_csv(index=False).encode("utf-8")


def capture_npz(cap: Capture, image_names: Sequence[str]) -> bytes:
    """The capture as a compressed NumPy archive (``np.savez_compressed``), returned as bytes.

    Arrays: ``gates/<block>`` and ``squeeze/<block>`` (N, C) float32 for every block, ``logits``
    (N, K), and the string arrays ``image_names`` (N,), ``block_names``, ``module_paths`` and
    ``paper_names`` ("" where none) in forward order. Strings are stored as fixed-width unicode,
    so ``np.load(..., allow_pickle=False)`` reads everything.
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
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def summary_csv(df: pd.DataFrame) -> bytes:
    """A summary table (e.g. :func:`se_viz.analysis.block_summary`) as UTF-8 CSV without index.

    Missing values (a model without stages) are written as empty cells, which every CSV reader
    treats as missing.
    """
    return df.to_csv(index=False).encode("utf-8")


def figure_html(fig: go.Figure) -> bytes:
    """A figure as one standalone HTML file with plotly.js inlined: it opens offline, forever.

    ``include_plotlyjs=True`` embeds the library (~4.5 MB) instead of linking a CDN, because
    exported figures are shown in lecture halls and archived where no network can be assumed.
    """
    html = fig.to_html(include_plotlyjs=True, full_html=True, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True})
    return html.encode("utf-8")
