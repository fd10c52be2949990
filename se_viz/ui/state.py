"""Every session key of the app, in one module, with typed values.

Views and the sidebar read and change the session only through these functions, so a reader
finds every key here and no part writes another part's keys. Widget keys that only the widget
itself reads (a chart's sort order, say) stay with the widget.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import streamlit as st

from se_viz import ModelLoadError
from se_viz.loading.choice import ModelChoice, Weights
from se_viz.loading.fit import FITS
from se_viz.tabs import CHANNELS_VIEW

from .link import ViewLink

__all__ = [
    "ModelChoice",
    "Weights",
    "VIEW",
    "DETAIL",
    "MODEL",
    "SAMPLES",
    "UPLOADS",
    "PROJECTOR",
    "FIT",
    "choose_model",
    "failure",
    "remember_failure",
    "retry",
    "pick_samples",
    "follow_images",
    "projector",
    "fit",
    "mark_intro_seen",
    "intro_seen",
    "model_choice",
    "link_read",
    "open_link",
    "open_link_block",
    "current_link",
]

# Widget keys (the widget owns its value; the functions below are the only other writers).
MODEL = "model"
SAMPLES = "samples"
UPLOADS = "uploads"
VIEW = "view"
DETAIL = "detail_image"
PROJECTOR = "projector"
FIT = "fit"
DATASET = "dataset"
DATASET_UPLOAD = "dataset_upload"
CAMERA = "camera"
CAMERA_ON = "camera_on"
CHANNEL = "channel"
#: The block picker of each tab that has one (a link's block goes to all of them).
BLOCK_KEYS = {
    "Block drill-down": "drill_block",
    "Interventions": "iv_edit_block",
    "Teach one block": "iv_teach_block",
}
# Keys no widget owns.
_FAILURES = "_model_failures"
_KNOWN_IMAGES = "_known_images"
_INTRO_SEEN = "_intro_seen"
_DEMO_SET = "_demo_set"
_LINK = "_link"  # a link's block and channel, until the model they belong to has loaded
_LINK_READ = "_link_read"
CLASS_SOURCE = "class_source"
DEMO_SOURCE = "the offline demonstration"


# --------------------------------------------------------------------------------------------
# The model


def choose_model(choice: ModelChoice) -> None:
    """Switch to ``choice`` (a button callback: runs before the picker is drawn) and retry it."""
    st.session_state[MODEL] = choice
    retry(choice)


def model_choice() -> ModelChoice:
    """The model the picker has chosen (after the sidebar has run)."""
    return st.session_state[MODEL]


def failure(choice: ModelChoice) -> Optional[ModelLoadError]:
    """The remembered load failure of ``choice`` (so a rerun does not retry until asked)."""
    return st.session_state.get(_FAILURES, {}).get(choice.key)


def remember_failure(choice: ModelChoice, error: ModelLoadError) -> None:
    """Remember that ``choice`` failed to load, and why."""
    st.session_state.setdefault(_FAILURES, {})[choice.key] = error


def retry(choice: ModelChoice) -> None:
    """Forget a remembered failure so the next run tries to load ``choice`` again."""
    st.session_state.get(_FAILURES, {}).pop(choice.key, None)


# --------------------------------------------------------------------------------------------
# Images


def pick_samples(names: Sequence[str]) -> None:
    """Select these sample images (a button callback)."""
    st.session_state[SAMPLES] = list(names)


def follow_images(names: Sequence[str]) -> str:
    """The image the detail views show, following the user.

    A newly added image becomes the one shown (the newest of several added at once); when the
    shown image is removed, its neighbour in the list takes its place; otherwise the user's pick
    stays.
    """
    known: list[str] = st.session_state.get(_KNOWN_IMAGES, [])
    current = st.session_state.get(DETAIL)
    added = [n for n in names if n not in known]
    if added and not (not known and current in names):  # a link's image, on a session's first run
        current = added[-1]
    elif current not in names:
        old_index = known.index(current) if current in known else 0
        survivors = [n for n in known[:old_index] if n in names]
        current = survivors[-1] if survivors else names[0]
    st.session_state[_KNOWN_IMAGES] = list(names)
    st.session_state[DETAIL] = current
    return current


# --------------------------------------------------------------------------------------------
# Display


def projector() -> bool:
    """True when the projector setting (large fonts, high contrast) is on."""
    return bool(st.session_state.get(PROJECTOR, False))


def fit() -> str:
    """How images are fitted to the network's square input: "crop" (the model's own centre
    crop) or "pad" (the whole image, padded)."""
    return st.session_state.get(FIT, FITS[0])


def intro_seen() -> bool:
    """True once this session has analysed an image: the introduction then starts collapsed."""
    return bool(st.session_state.get(_INTRO_SEEN, False))


def mark_intro_seen() -> None:
    """Remember that the introduction has done its job in this session."""
    st.session_state[_INTRO_SEEN] = True


# --------------------------------------------------------------------------------------------
# The offline demonstration (many generated images)


def demo_set(model_key: str) -> Optional[Any]:
    """The demonstration's captured images for this model, if they were made in this session."""
    kept = st.session_state.get(_DEMO_SET)
    return kept[1] if kept and kept[0] == model_key else None


def keep_demo_set(model_key: str, gate_set: Any) -> None:
    """Keep the demonstration's captures (one model's at a time: they are ~1 MB per 300 images)
    and show them in the class views."""
    st.session_state[_DEMO_SET] = (model_key, gate_set)
    st.session_state[CLASS_SOURCE] = DEMO_SOURCE


# --------------------------------------------------------------------------------------------
# A link to this view (see .link)


def link_read() -> bool:
    """True once this session has read the link it was opened with (it is read only once)."""
    return bool(st.session_state.get(_LINK_READ, False))


def open_link(link: ViewLink) -> None:
    """Set what a fresh session's link names before any widget is drawn: the model, the samples,
    the image shown, the tab and the fit. The block and channel wait for :func:`open_link_block`
    (they can be checked only against the loaded model)."""
    st.session_state[_LINK_READ] = True
    if link.model is not None:
        st.session_state[MODEL] = link.model
    if link.samples:
        st.session_state[SAMPLES] = list(link.samples)
    if link.image is not None:
        st.session_state[DETAIL] = link.image
    if link.tab is not None:
        st.session_state[VIEW] = link.tab
    if link.fit is not None:
        st.session_state[FIT] = link.fit
    if link.projector:
        st.session_state[PROJECTOR] = True
    if link.block is not None or link.channel is not None:
        st.session_state[_LINK] = (link.block, link.channel)


def open_link_block(channels: dict[str, int]) -> None:
    """Select the link's block in every block picker and its channel, if the loaded model has
    them (``channels``: block name → channel count); then forget them."""
    block, channel = st.session_state.pop(_LINK, (None, None))
    if block not in channels:
        return
    for key in BLOCK_KEYS.values():
        st.session_state[key] = block
    if channel is not None and 0 <= channel < channels[block]:
        st.session_state[CHANNEL] = channel


def current_link(samples: Sequence[str]) -> ViewLink:
    """This session's view as a link. ``samples`` are the gallery's names: only those go in."""
    chosen = tuple(n for n in st.session_state.get(SAMPLES, []) if n in samples)
    tab = st.session_state.get(VIEW)
    block = st.session_state.get(BLOCK_KEYS.get(tab, BLOCK_KEYS["Block drill-down"]))
    detail = st.session_state.get(DETAIL)
    channel = st.session_state.get(CHANNEL)
    model = st.session_state.get(MODEL)
    return ViewLink(
        model=model if isinstance(model, ModelChoice) else None,
        samples=chosen,
        image=detail if detail in chosen else None,
        tab=tab,
        block=block,
        channel=channel if isinstance(channel, int) else None,
        fit=fit(),
        projector=projector(),
    )


# Channels (the atlas, pruning and faithfulness views): the drill-down opens a channel's atlas

CHANNELS_QUESTION = "channels_question"
ATLAS_BLOCK = "atlas_block"
ATLAS_CHANNEL = "atlas_channel"
ATLAS_QUESTION = "gate atlas"


def open_atlas(block: str, channel: int) -> None:
    """Show the gate atlas of ``block``/``channel`` (a button callback, so it runs before the
    widgets are drawn): sets the atlas's block and channel and switches to the Channels tab."""
    st.session_state[ATLAS_BLOCK] = block
    st.session_state[ATLAS_CHANNEL] = int(channel)
    st.session_state[CHANNELS_QUESTION] = ATLAS_QUESTION
    st.session_state[VIEW] = CHANNELS_VIEW
