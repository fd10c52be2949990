"""Pure Plotly figure builders: data in, ``go.Figure`` out (no torch, no Streamlit).

Usable from a notebook as well as from the app; every figure has a title and axis titles with
units, and gates are always coloured on one fixed 0…1 scale. ``single`` draws one image,
``many`` many images at once (compare, the paper's Fig. 6 and 7, specificity, saturation, PCA).
"""

from .many import (
    PAPER_FIG6,
    PAPER_FIG7,
    PAPER_PRUNING,
    PAPER_SATURATION,
    PAPER_SPECIFICITY,
    class_band_figure,
    class_colours,
    class_profile_figure,
    compare_heatmaps,
    distance_figure,
    pca_figure,
    saturation_figure,
    specificity_figure,
)
from .single import (
    GATE_COLORSCALE,
    block_label,
    distribution_figure,
    feature_maps,
    gate_bar,
    gate_heatmap,
    panel_groups,
    predictions_bar,
    squeeze_vs_gate,
)

__all__ = [
    "GATE_COLORSCALE", "block_label", "distribution_figure", "feature_maps", "gate_bar", "gate_heatmap",
    "panel_groups", "predictions_bar", "squeeze_vs_gate",
    # many images
    "PAPER_FIG6", "PAPER_FIG7", "PAPER_PRUNING", "PAPER_SATURATION", "PAPER_SPECIFICITY",
    "class_band_figure", "class_colours", "class_profile_figure", "compare_heatmaps", "distance_figure",
    "pca_figure", "saturation_figure", "specificity_figure",
]
