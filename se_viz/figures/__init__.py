"""Pure Plotly figure builders: data in, ``go.Figure`` out (no torch, no Streamlit).

Usable from a notebook as well as from the app; every figure has a title and axis titles with
units, and gates are always coloured on one fixed 0…1 scale.
"""

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

__all__ = ["GATE_COLORSCALE", "block_label", "distribution_figure", "feature_maps", "gate_bar", "gate_heatmap", "panel_groups", "predictions_bar", "squeeze_vs_gate"]
