"""Per-block statistics of a whole gate dataset: the table ``se-viz summarize`` prints.

Statistics pool every gate value of a block over all images and channels; entropy is the mean
over images of the normalised gate entropy of :func:`se_viz.analysis.stats.gate_entropy`; class
specificity (between / within / ratio, :func:`se_viz.analysis.specificity.class_specificity`)
is computed when every image has a label. The numbers are streamed folds over record batches
(:mod:`.aggregate`), so memory does not grow with the row count, and equal the in-memory
functions' on sets that fit.
"""

from __future__ import annotations

from typing import Callable, Optional

import pandas as pd

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


def summarize_gate_dataset(
    ds: GateDataset,
    cache: bool = True,
    *,
    threads: Optional[int] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    processes: bool = False,
) -> pd.DataFrame:
    """One row per SE block, in forward order, with exactly :data:`DATASET_SUMMARY_COLUMNS`.

    ``mean``/``std`` (population) and the fractions of gates strictly below 0.1 / above 0.9 are
    over all N × C gate values; ``entropy`` is the mean per-image normalised entropy;
    ``between``, ``within`` and ``specificity`` (their ratio) are NaN without labels. ``cache``:
    read / write the aggregates cached next to the dataset (see :func:`.aggregate.dataset_aggregates`,
    which also says what ``threads``, ``progress`` and ``processes`` do).
    """
    from .aggregate import dataset_aggregates

    labels = ds.labels if ds.has_labels else None
    agg = dataset_aggregates(ds, labels, cache=cache, threads=threads, progress=progress, processes=processes)
    return agg.summary()
