"""The app's tabs, in order: a plain list, so code that must not import Streamlit (the browser
benchmark, its tests) names the same views as the app (``se_viz.ui`` draws them).

The names are identifiers (session state, the link's ``tab=``, tests) and the English labels;
:func:`label` gives a tab's label in the reader's language."""

from se_viz.i18n import N_, _

__all__ = ["CHANNELS_VIEW", "LIVE_VIEW", "VIEWS", "label"]

#: The Channels tab (atlas, pruning, faithfulness): the drill-down's atlas button switches to it.
CHANNELS_VIEW = N_("Channels")
#: The Live tab (the camera stream): its stream stops whenever another tab is shown.
LIVE_VIEW = N_("Live")

VIEWS: list[str] = [
    N_("Predictions"),
    N_("Gate heatmap"),
    N_("Distributions"),
    N_("Block drill-down"),
    N_("Compare"),
    N_("Classes"),
    N_("Interventions"),
    N_("Teach one block"),
    CHANNELS_VIEW,
    N_("Export"),
    LIVE_VIEW,
]


def label(view: str) -> str:
    """The tab ``view`` as the reader's language names it."""
    return _(view)
