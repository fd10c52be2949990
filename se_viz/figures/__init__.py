"""Pure Plotly figure builders: data in, ``go.Figure`` out (no torch, no Streamlit).

Usable from a notebook as well as from the app; every figure has a title and axis titles with
units, and gates are always coloured on one fixed 0…1 scale. One file per kind of figure:
``heatmap`` (all gates of an image), ``distributions`` (their spread per block), ``block`` (one
block up close), ``predictions``, ``many`` (many images at once: compare, the paper's Fig. 6 and
7, specificity, saturation, PCA); ``style`` holds the shared look and :func:`projector`.
"""

from .block import GATE_BANDS, feature_maps, gate_bar, squeeze_vs_gate
from .distributions import distribution_figure
from .heatmap import gate_heatmap
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
from .predictions import predictions_bar
from .style import (
    GATE_AXIS,
    GATE_COLORSCALE,
    SQUEEZE_AXIS,
    channel_dtick,
    panel_groups,
    projector,
    wrap_title,
)

__all__ = [
    "GATE_AXIS",
    "GATE_BANDS",
    "GATE_COLORSCALE",
    "SQUEEZE_AXIS",
    "channel_dtick",
    "distribution_figure",
    "feature_maps",
    "gate_bar",
    "gate_heatmap",
    "panel_groups",
    "predictions_bar",
    "projector",
    "squeeze_vs_gate",
    "wrap_title",
    # many images
    "PAPER_FIG6",
    "PAPER_FIG7",
    "PAPER_PRUNING",
    "PAPER_SATURATION",
    "PAPER_SPECIFICITY",
    "class_band_figure",
    "class_colours",
    "class_profile_figure",
    "compare_heatmaps",
    "distance_figure",
    "pca_figure",
    "saturation_figure",
    "specificity_figure",
]
