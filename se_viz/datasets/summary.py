"""Per-block statistics of a whole gate dataset: the table ``se-viz summarize`` prints.

Statistics pool every gate value of a block over all images and channels; entropy is the mean
over images of the normalised gate entropy of :func:`se_viz.analysis.stats.gate_entropy`; class
specificity (between / within / ratio, :func:`se_viz.analysis.specificity.class_specificity`)
is computed when every image has a label. One block is in memory at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.specificity import class_specificity
from ..analysis.stats import gate_entropy
from .reader import GateDataset

__all__ = ["DATASET_SUMMARY_COLUMNS", "summarize_gate_dataset"]

DATASET_SUMMARY_COLUMNS: tuple[str, ...] = (
    "block",
    "paper_name",
    "stage",
    "channels",
    "images",
    "mean",
    "std",
    "frac_below_0.1",
    "frac_above_0.9",
    "entropy",
    "between",
    "within",
    "specificity",
)


def summarize_gate_dataset(ds: GateDataset) -> pd.DataFrame:
    """One row per SE block, in forward order, with exactly :data:`DATASET_SUMMARY_COLUMNS`.

    ``mean``/``std`` (population) and the fractions of gates strictly below 0.1 / above 0.9 are
    over all N × C gate values; ``entropy`` is the mean per-image normalised entropy;
    ``between``, ``within`` and ``specificity`` (their ratio) are NaN without labels.
    """
    labels = np.asarray(ds.labels, dtype=object) if ds.has_labels else None
    rows = []
    for b in ds.blocks:
        g = ds.gates(b.name).astype(np.float64)
        spec = class_specificity({b.name: g}, labels, blocks=[b]).blocks[0] if labels is not None else None
        rows.append(
            {
                "block": b.name,
                "paper_name": b.paper_name or "",
                "stage": b.stage if b.stage is not None else pd.NA,
                "channels": int(g.shape[1]),
                "images": int(g.shape[0]),
                "mean": g.mean() if g.size else np.nan,
                "std": g.std() if g.size else np.nan,
                "frac_below_0.1": float(np.mean(g < 0.1)) if g.size else np.nan,
                "frac_above_0.9": float(np.mean(g > 0.9)) if g.size else np.nan,
                "entropy": float(np.mean([gate_entropy(row) for row in g])) if g.size else np.nan,
                "between": spec.between if spec else np.nan,
                "within": spec.within if spec else np.nan,
                "specificity": spec.ratio if spec else np.nan,
            }
        )
    df = pd.DataFrame(rows, columns=list(DATASET_SUMMARY_COLUMNS))
    df["stage"] = df["stage"].astype("Int64")
    return df
