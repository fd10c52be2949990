"""The app's tabs, in order: a plain list, so code that must not import Streamlit (the browser
benchmark, its tests) names the same views as the app (``se_viz.ui`` draws them)."""

__all__ = ["CHANNELS_VIEW", "LIVE_VIEW", "VIEWS"]

#: The Channels tab (atlas, pruning, faithfulness): the drill-down's atlas button switches to it.
CHANNELS_VIEW = "Channels"
#: The Live tab (the camera stream): its stream stops whenever another tab is shown.
LIVE_VIEW = "Live"

VIEWS: list[str] = [
    "Predictions",
    "Gate heatmap",
    "Distributions",
    "Block drill-down",
    "Compare",
    "Classes",
    "Interventions",
    "Teach one block",
    CHANNELS_VIEW,
    "Export",
    LIVE_VIEW,
]
