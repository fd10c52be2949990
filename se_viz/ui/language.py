"""The language switch (English / 简体中文) at the top of the sidebar.

It runs first in every pass of the script, before anything is drawn, so every word of the page is
in the language just chosen. A session starts in the language a link names (``lang=``), else
``SE_VIZ_LANG`` (the operator's choice for the room), else the browser's (``st.context.locale``).
Switching keeps the images, the model and the tab: they live in session state under identifiers,
and only their labels change (:func:`.state.tab_labels`).
"""

from __future__ import annotations

import functools
from typing import Callable, Optional

import streamlit as st

from se_viz.i18n import LANGUAGES, set_language

from . import state
from .link import language_in_query

__all__ = ["language_ui", "session_fragment"]

#: The switch's label, in both languages: a reader who cannot read the current one still finds it.
LABEL = "Language / 语言"


def language_ui() -> str:
    """Set this run's language and draw the switch; returns the language code."""
    from_link = None if state.link_read() else language_in_query(_params())
    lang = state.start_language(from_link, st.context.locale)
    st.sidebar.segmented_control(
        LABEL,
        list(LANGUAGES),
        key=state.LANGUAGE,
        format_func=LANGUAGES.__getitem__,
        required=True,
    )
    return lang


def _params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def session_fragment(func: Optional[Callable] = None, *, run_every: Optional[float] = None):
    """``st.fragment`` whose reruns speak the session's language (usable as a decorator).

    A fragment's own rerun runs only its function, not the switch at the top of the script, so it
    started in English: the Live tab's status line and a heavy run's progress read English on a
    page in Chinese. The wrapper sets the session's language first.
    """
    if func is None:
        return lambda f: session_fragment(f, run_every=run_every)

    @functools.wraps(func)
    def in_session_language(*args, **kwargs):
        lang = st.session_state.get(state.LANGUAGE)
        if lang is not None:
            set_language(lang)
        return func(*args, **kwargs)

    return st.fragment(in_session_language, run_every=run_every)
