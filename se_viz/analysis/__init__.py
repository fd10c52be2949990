"""Analysis: pure functions on captured arrays (NumPy in, NumPy / pandas out; no torch).

``stats`` summarises one image's gates (per-block statistics, channel orders, top channels,
long tables, top-k predictions); ``specificity`` measures how class-specific gates are.
"""

from .specificity import (
    BlockSpecificity,
    SpecificityResult,
    StageSpecificity,
    block_specificity,
    class_mean_gates,
    class_specificity,
)
from .stats import (
    ENTROPY_DEFINITION,
    LONG_COLUMNS,
    SORT_OPTIONS,
    SUMMARY_COLUMNS,
    block_summary,
    channel_order,
    check_image,
    gate_entropy,
    long_table,
    near_chance,
    normalise_sort,
    top_channels,
    topk_predictions,
)

__all__ = [
    "BlockSpecificity", "ENTROPY_DEFINITION", "LONG_COLUMNS", "SORT_OPTIONS", "SUMMARY_COLUMNS",
    "SpecificityResult", "StageSpecificity", "block_specificity", "block_summary",
    "channel_order", "check_image", "class_mean_gates", "class_specificity", "gate_entropy",
    "long_table", "near_chance", "normalise_sort", "top_channels", "topk_predictions",
]
