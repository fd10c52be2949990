"""Every session key of the app, in one module, with typed values.

Views and the sidebar change the session only through these functions, and name every key
they read by its constant here, so a reader finds every key here and no part writes another
part's keys (``tests/test_one_key.py`` fails otherwise). Widget keys that only the widget itself
reads (a chart's sort order, say) stay with the widget.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import streamlit as st

from se_viz import ModelLoadError, i18n
from se_viz.loading.choice import ModelChoice, Weights
from se_viz.loading.fit import FITS
from se_viz.tabs import CHANNELS_VIEW, LIVE_VIEW, VIEWS

from .link import ViewLink

__all__ = [
    "ModelChoice",
    "Weights",
    "VIEW",
    "DETAIL",
    "LANGUAGE",
    "MODEL",
    "SAMPLES",
    "UPLOADS",
    "PROJECTOR",
    "FIT",
    "choose_model",
    "start_language",
    "tab_labels",
    "view_id",
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
    "show_in_atlas",
    "keep_offered",
    "keep_channel",
    "default_fit",
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
LANGUAGE = "language"
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
# Language and the tab shown


def start_language(from_link: Optional[str], browser_locale: Optional[str]) -> str:
    """The session's language, set before the switch is drawn: a link's ``lang=`` on the first
    run, else what the switch holds, else ``SE_VIZ_LANG`` or the browser's language."""
    if from_link is not None and not link_read():
        st.session_state[LANGUAGE] = from_link
    lang = st.session_state.setdefault(LANGUAGE, i18n.default_language(browser_locale))
    i18n.set_language(lang)
    return lang


def _view_ids() -> dict[str, str]:
    """Every tab label in every language (and each identifier itself) → the tab's identifier."""
    out = {v: v for v in VIEWS}
    for lang in i18n.LANGUAGES:
        with i18n.language(lang):
            out.update({i18n._(v): v for v in VIEWS})
    return out


def view_id() -> Optional[str]:
    """The identifier (English name, as in :data:`se_viz.tabs.VIEWS`) of the tab shown, whatever
    the language its label was chosen in."""
    return _view_ids().get(st.session_state.get(VIEW))


def tab_labels() -> list[str]:
    """The tabs' labels in the session's language, with the tab shown kept across a language
    switch (``st.tabs`` remembers a label; after a switch, or when code chose a tab by its
    identifier, the same tab's label in this language is put in its place)."""
    labels = [i18n._(v) for v in VIEWS]
    shown = view_id()
    if shown is not None:
        st.session_state[VIEW] = labels[VIEWS.index(shown)]
    return labels


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
    """Keep the demonstration's captures (one model's at a time: 1.2 MB per 300 images
    of the mini model, the nbytes of z, s and logits)
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
    tab = view_id()
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
        language=st.session_state.get(LANGUAGE),
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


ATLAS_SOURCE = "atlas_source"


def show_in_atlas(source: str) -> None:
    """Make ``source`` the atlas's image set (the demonstration set just made is the one to look at)."""
    st.session_state[ATLAS_SOURCE] = source


# Pickers whose choices change with the model or block: set before the widget is drawn


def keep_offered(key: str, options: Sequence, fallback: Any) -> None:
    """Keep the picker ``key``'s value while ``options`` still offer it, else choose ``fallback``."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = fallback


def keep_channel(key: str, channels: int) -> None:
    """Keep the channel picked under ``key`` while the block has it; otherwise start again at 0
    (another block's channel, or none yet)."""
    value = st.session_state.get(key)
    if not isinstance(value, int) or not 0 <= value < channels:
        st.session_state.pop(key, None)


def default_fit() -> None:
    """The fit starts as the first of :data:`FITS` unless a link set it (a widget default would
    override the link)."""
    st.session_state.setdefault(FIT, FITS[0])


# The live view (se_viz/ui/live_view.py): this viewer's frame processor and the frames it froze

_LIVE_PROCESSOR = "_live_processor"
_FROZEN = "_frozen_frames"
#: Frozen frames kept per session (each a PNG of a camera frame, ~0.5 MB): the oldest goes first.
FROZEN_KEPT = 6


def live_processor(model_key: str, make: Any) -> Any:
    """This session's live frame processor for the model ``model_key`` (made by ``make()`` the first
    time, and again when the model changes)."""
    held = st.session_state.get(_LIVE_PROCESSOR)
    if held is None or held[0] != model_key:
        held = st.session_state[_LIVE_PROCESSOR] = (model_key, make())
    return held[1]


def keep_frozen(name: str, data: bytes) -> None:
    """Add a frozen live frame (a PNG in memory, never on disk, never in a link) to the images;
    it becomes the image the detail views show, and the Live tab stays the one shown (also when
    the stream was started before there were images, and so before there were tabs)."""
    st.session_state[VIEW] = LIVE_VIEW
    frames: dict[str, bytes] = st.session_state.setdefault(_FROZEN, {})
    frames[name] = data
    while len(frames) > FROZEN_KEPT:
        frames.pop(next(iter(frames)))


def frozen_frames() -> list[tuple[str, bytes]]:
    """The frozen live frames of this session, oldest first: (name, PNG bytes)."""
    return list(st.session_state.get(_FROZEN, {}).items())


def forget_frozen() -> None:
    """Remove every frozen live frame from the images (a button callback)."""
    st.session_state.pop(_FROZEN, None)


# Study widgets read before they are drawn: the cost shown above them plans what they hold.

#: The pruning study's random repeats (a slider) and the blocks it prunes (a multiselect).
PRUNE_REPEATS = "prune_repeats"
PRUNE_BLOCKS = "prune_blocks"
#: The block whose channels the deletion/insertion curves remove.
FAITH_BLOCK = "faith_block"
