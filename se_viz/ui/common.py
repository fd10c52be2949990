"""What every view uses: the error guard, the chart helper and the projector look."""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from typing import Iterator

import plotly.graph_objects as go
import streamlit as st

from se_viz import InputError, figures
from se_viz.i18n import _

from . import state

log = logging.getLogger(__name__)

PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
# Room for content on a 1024-px projector: Streamlit's default page padding (6rem top, 5rem sides)
# and its 2.75rem title leave a narrow column and push the first chart below the fold.
# The tab strip wraps onto a second line instead of scrolling sideways (a scrolled strip can hide
# the selected tab); the sliding underline, placed for one line, gives way to a border on the tab.
PAGE_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding: 2.5rem 1.5rem 4rem 1.5rem; }
h1 { font-size: 2rem !important; padding-top: 0 !important; }
[data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; row-gap: 0.25rem; overflow-x: visible; }
[data-testid="stTabs"] [data-baseweb="tab-highlight"] { display: none; }
[data-testid="stTabs"] [role="tab"][aria-selected="true"] { box-shadow: inset 0 -3px 0 currentColor; }
</style>"""
# Projector mode: every rem-based size in Streamlit grows with the root font size (21 px: captions,
# at 0.875rem, stay above 18 px; inline code, at 0.75em, is lifted to 18 px); captions, normally
# grey, turn black for contrast on a washed-out screen. The page's top padding and the gaps
# between elements shrink, so the first chart of a view starts above the fold at 768 px. Streamlit's
# header bar (3.75rem: 79 px at this root size) would cover the header row (title, image picker,
# notes) and take its clicks: the bar turns transparent and lets clicks through except on its own
# buttons (making room below the bar instead pushed the first chart of three views under the
# fold at 720 px).
PROJECTOR_CSS = """<style>
html { font-size: 21px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { color: #000 !important; }
[data-testid="stApp"] code { font-size: max(18px, 0.85em); }
[data-testid="stHeader"], [data-testid="stHeader"] * { background: transparent; pointer-events: none; }
[data-testid="stHeader"] button, [data-testid="stHeader"] button *,
[data-testid="stHeader"] a { pointer-events: auto; }
[data-testid="stMainBlockContainer"] { padding-top: 0.5rem; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.5rem; }
[data-testid="stTabs"] [role="tablist"] { column-gap: 0.9rem; row-gap: 0; }
[data-testid="stTabs"] [role="tab"] { height: 2.1rem; }
</style>"""


@contextmanager
def friendly_errors(what: str) -> Iterator[None]:
    """Turn an unexpected exception into a plain message (script control flow passes through).

    ``what`` names the view: a name already in the reader's language is shown as it is, an English
    one marked by the caller (``N_("knock-out sweep")``) is translated here, so both kinds of
    caller read well.
    """
    try:
        yield
    except InputError as exc:
        st.error(str(exc), icon=":material/broken_image:")
    except Exception:
        # The exception's own text names code (widget parameters, tensor shapes): it goes to the
        # server's log, and the user reads what happened and what to try next.
        log.exception("rendering %s failed", what)
        st.error(
            _(
                "Sorry — the {view} could not be drawn with these images and settings. The other views "
                "still work: try other settings or add images. If it happens again, tell whoever runs "
                "this server (the details are in its log)."
            ).format(view=_(what)),
            icon=":material/warning:",
        )


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "chart"


def styled(fig: go.Figure) -> go.Figure:
    """The figure as the current display setting wants it (projector: large, high contrast)."""
    return figures.projector(fig) if state.projector() else fig


def chart(fig: go.Figure, key: str, filename: str) -> None:
    """Draw a Plotly figure; its toolbar's camera saves a PNG named ``filename``."""
    config = {
        **PLOTLY_CONFIG,
        "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"], "filename": filename},
    }
    st.plotly_chart(styled(fig), key=key, config=config, width="stretch")


def apply_display_settings() -> None:
    """Page-wide look: compact page padding, and the projector CSS when it is on."""
    st.markdown(PAGE_CSS + (PROJECTOR_CSS if state.projector() else ""), unsafe_allow_html=True)


def served() -> bool:
    """Whether a Streamlit server runs this script (False when a test runs it without one: AppTest
    installs a stand-in runtime that is not a ``Runtime``). Without a server there is no page to
    poll, no session that can end and no WebRTC connection."""
    from streamlit import runtime

    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime
