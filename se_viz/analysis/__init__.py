"""Analysis: pure functions on captured arrays (NumPy in, NumPy / pandas out; no torch).

``stats`` summarises one image's gates (per-block statistics, channel orders, top channels,
long tables, top-k predictions); ``specificity`` measures how class-specific gates are.
Many images at once: ``compare`` (per-block distances between a few images), ``groups`` (classes
of images, class-mean gates, the paper's blocks and channel subset), ``saturation`` (blocks close
to identity) and ``neighbours`` (nearest images, PCA of gate vectors).
"""

from .compare import DISTANCE_COLUMNS, cosine_distances, gate_difference, pairwise_block_distances
from .groups import (
    CHANNEL_SEED,
    CHANNEL_SUBSET,
    GIVEN_LABELS,
    NO_FOLDER,
    ClassProfile,
    channel_subset,
    class_profiles,
    group_options,
    groups_from_folders,
    groups_from_predictions,
    groups_from_prefixes,
    paper_blocks,
)
from .neighbours import GatePCA, gate_pca, gate_vectors, nearest_images, vector_scopes
from .saturation import (
    NEAR_IDENTITY_FRACTION,
    NEAR_IDENTITY_MEAN,
    SATURATION_COLUMNS,
    saturation_sentences,
    saturation_table,
)
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
    NEAR_CHANCE_ENTROPY,
    NEAR_CHANCE_RULE,
    SORT_OPTIONS,
    SUMMARY_COLUMNS,
    block_summary,
    channel_order,
    check_image,
    gate_entropy,
    gate_spread,
    long_table,
    near_chance,
    normalise_sort,
    prediction_entropy,
    top_channels,
    topk_predictions,
)

__all__ = [
    "BlockSpecificity",
    "ENTROPY_DEFINITION",
    "LONG_COLUMNS",
    "NEAR_CHANCE_ENTROPY",
    "NEAR_CHANCE_RULE",
    "SORT_OPTIONS",
    "SUMMARY_COLUMNS",
    "SpecificityResult",
    "StageSpecificity",
    "block_specificity",
    "block_summary",
    "channel_order",
    "check_image",
    "class_mean_gates",
    "class_specificity",
    "gate_entropy",
    "gate_spread",
    "long_table",
    "near_chance",
    "normalise_sort",
    "prediction_entropy",
    "top_channels",
    "topk_predictions",
    # many images
    "CHANNEL_SEED",
    "CHANNEL_SUBSET",
    "ClassProfile",
    "DISTANCE_COLUMNS",
    "GIVEN_LABELS",
    "GatePCA",
    "NEAR_IDENTITY_FRACTION",
    "NEAR_IDENTITY_MEAN",
    "NO_FOLDER",
    "SATURATION_COLUMNS",
    "channel_subset",
    "class_profiles",
    "cosine_distances",
    "gate_difference",
    "gate_pca",
    "gate_vectors",
    "group_options",
    "groups_from_folders",
    "groups_from_predictions",
    "groups_from_prefixes",
    "nearest_images",
    "pairwise_block_distances",
    "paper_blocks",
    "saturation_sentences",
    "saturation_table",
    "vector_scopes",
]
