"""The sidebar: model picker (with what is available now) and status, images, display settings.

``inputs_ui`` returns the user's choices; the sidebar draws only inputs and the model status. The
rules of model choice (options, availability, the offline start) live in
:mod:`se_viz.loading.choice`; archive parsing in :mod:`se_viz.loading.archive`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, TypeVar
from urllib.parse import urlencode

import streamlit as st

import se_viz
from se_viz import LoadedModel, ModelLoadError, i18n
from se_viz.i18n import N_, _, ngettext
from se_viz.loading.archive import zip_images
from se_viz.loading.choice import ModelChoice, env_choice, model_options, option_label, start_choice
from se_viz.loading.fit import FITS
from se_viz.loading.samples import LICENSE_NOTE, all_samples
from se_viz.loading.source import BUNDLED, HUB_CACHE, HUB_DOWNLOAD, LOCAL_FILE

from . import state
from .cache import hub_usable, image_digest, load_model_cached
from .dataset_view import available_datasets, dataset_path
from .link import LINK_NOTE, from_query, to_query

log = logging.getLogger(__name__)
T = TypeVar("T")

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff", "zip"]
#: How the fit setting reads in the sidebar.
FIT_LABELS = {"crop": N_("centre crop"), "pad": N_("pad (whole image)")}


@dataclass
class ModelState:
    """The chosen model and how loading it went (``lm`` or ``error`` is set).

    ``note`` is a plain sentence about why the app is not on the default model (offline start).
    """

    choice: ModelChoice
    label: str
    lm: Optional[LoadedModel] = None
    error: Optional[ModelLoadError] = None
    note: Optional[str] = None


@dataclass
class PickedImage:
    """One image to analyse: a display name unique within the session, its bytes and origin."""

    name: str
    data: bytes
    source: str  # "upload", "camera", "live" (a frozen live frame) or "sample"
    digest: str = ""  # SHA-256 of data: the cache key (computed once per run)

    def __post_init__(self) -> None:
        if not self.digest:
            self.digest = image_digest(self.data)


@dataclass
class Inputs:
    """Everything the sidebar collected."""

    model: ModelState
    images: list[PickedImage] = field(default_factory=list)
    dataset: Optional[str] = None  # the folder of an opened gate dataset


# --------------------------------------------------------------------------------------------
# Model picker and status


def _shown(label: Callable[[T], str]) -> Callable[[T], str]:
    """``label`` as a widget's ``format_func`` that speaks the language of this run.

    Streamlit may call a ``format_func`` outside the script run that drew the widget (AppTest
    does, to find the chosen option's index among the labels it was sent): bound to the run's
    language, the label it computes is the one the options were drawn with.
    """
    lang = i18n.current()

    def in_language(value: T) -> str:
        with i18n.language(lang):
            return label(value)

    return in_language


def _status(lm: LoadedModel) -> None:
    size = lm.data_config["input_size"]
    kinds = {b.kind for b in lm.blocks}
    n_blocks, n_classes = len(lm.blocks), len(lm.labels)
    gates = (
        ngettext("{n} SE block", "{n} SE blocks", n_blocks)
        if kinds <= {"se"}
        else ngettext("{n} channel gate", "{n} channel gates", n_blocks)
    ).format(n=n_blocks)
    facts = _("{gates} · {classes} · input {h}×{w} px").format(
        gates=gates,
        classes=ngettext("{n} class", "{n} classes", n_classes).format(n=n_classes),
        h=size[1],
        w=size[2],
    )
    kind = lm.source.kind
    if lm.entry is not None and lm.entry.user:
        weights = (
            _("local file `{file}`").format(file=lm.source.path.name)
            if kind == LOCAL_FILE
            else _("none loaded — as your factory built it")
        )
        st.info(
            _(
                "**Loaded: your model** {name}  \nweights: {weights} — se_viz cannot tell what "
                "they were trained on  \n{facts}"
            ).format(name=lm.entry.name, weights=weights, facts=facts),
            icon=":material/person:",
        )
        if lm.defaults_note:
            st.caption(lm.defaults_note)
    elif kind == BUNDLED:
        st.success(
            _(
                "**Loaded:** {name}  \nweights: bundled with se_viz (trained by this project)  \n{facts}"
            ).format(name=lm.display_name, facts=facts),
            icon=":material/check_circle:",
        )
    elif kind in (HUB_CACHE, HUB_DOWNLOAD):
        text = (
            _("**Loaded:** {name}  \nweights: published, from this computer's cache ({repo})  \n{facts}")
            if kind == HUB_CACHE
            else _("**Loaded:** {name}  \nweights: published, downloaded just now ({repo})  \n{facts}")
        )
        st.success(
            text.format(name=lm.display_name, repo=lm.source.repo, facts=facts),
            icon=":material/check_circle:",
        )
    elif kind == LOCAL_FILE:
        st.info(
            _(
                "**Loaded:** {name} architecture  \nweights: local file `{file}` — se_viz cannot tell "
                "what they were trained on  \n{facts}"
            ).format(name=lm.display_name, file=lm.source.path.name, facts=facts),
            icon=":material/info:",
        )
    else:
        st.warning(
            _("**Loaded:** {name} — **untrained, random weights**  \n{facts}").format(
                name=lm.display_name, facts=facts
            ),
            icon=":material/warning:",
        )


def model_ui(tabs: Sequence[str] = ()) -> ModelState:
    """Draw the model picker and status; load the chosen model (once per process).

    A fresh session first opens the link it came with (``tabs``: the tab names a link may name).
    """
    env = env_choice()
    try:
        options = model_options(env)
    except ModelLoadError as exc:  # the operator's catalog file (SE_VIZ_CATALOG) is unusable
        st.error(
            _("**The model catalog cannot be used.** {problem}").format(problem=exc), icon=":material/error:"
        )
        st.stop()
    if not state.link_read():
        params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
        gallery = [s.name for s in all_samples()]
        state.open_link(from_query(params, options=options, samples=gallery, tabs=tabs))
    start, note = start_choice(env, hub_usable)
    state.keep_offered(state.MODEL, options, start if start in options else options[0])
    st.sidebar.header(_("1 · Model"))
    choice = st.sidebar.selectbox(
        _("SE network"),
        options,
        key=state.MODEL,
        format_func=_shown(option_label),
        help=_(
            "“works offline”: the weights are on this computer. “needs a download”: the weights "
            "come from the Hugging Face hub the first time. “UNTRAINED”: random weights — the "
            "gates mean nothing, but the blocks and channel counts are real."
        ),
    )
    result = ModelState(choice=choice, label=option_label(choice), note=note if choice == start else None)
    result.error = state.failure(choice)
    status = st.sidebar.empty()
    if result.error is None:
        with (
            status.container(),
            st.spinner(_("Loading {model} …").format(model=result.label), show_time=True),
        ):
            try:
                result.lm = load_model_cached(choice)
            except ModelLoadError as exc:
                result.error = exc
            except Exception:
                log.exception("loading %s failed", choice)
                result.error = ModelLoadError(
                    _(
                        "Loading failed unexpectedly: its files may be damaged or not made for this app. "
                        "Pick another model; the details are in the server's log."
                    )
                )
        if result.error:
            state.remember_failure(choice, result.error)
    if result.lm is not None:
        state.open_link_block({b.name: b.channels for b in result.lm.blocks})
    with status.container():
        if result.lm is not None:
            _status(result.lm)
        else:
            st.error(_("**Not loaded** — see the message on the right."), icon=":material/error:")
    return result


# --------------------------------------------------------------------------------------------
# Images and display


def images_ui() -> list[PickedImage]:
    """Draw the uploader and the sample picker; return the images in order (uploads first)."""
    st.sidebar.header(_("2 · Images"))
    uploads = (
        st.sidebar.file_uploader(
            _("Upload photos (drag and drop, several at once)"),
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key=state.UPLOADS,
            help=_(
                "JPEG, PNG, WebP, BMP, GIF (first frame) or TIFF — or a ZIP with one folder per class "
                "(the folders become the classes of the Classes view). Images stay in this session."
            ),
        )
        or []
    )
    samples = {s.name: s for s in all_samples()}
    st.sidebar.multiselect(
        _("…or pick sample images"),
        list(samples),
        key=state.SAMPLES,
        format_func=_shown(lambda n: samples[n].shown_title if n in samples else n),
        placeholder=_("Choose sample images"),
        help=_(LICENSE_NOTE),
    )
    items: list[PickedImage] = []
    used: dict[str, int] = {}

    def unique(name: str) -> str:
        """Two uploads called photo.jpg become "photo.jpg" and "photo.jpg (2)"."""
        used[name] = used.get(name, 0) + 1
        return name if used[name] == 1 else f"{name} ({used[name]})"

    for up in uploads:
        if up.name.lower().endswith(".zip"):
            try:
                members = zip_images(up.name, up.getvalue())
            except se_viz.InputError as exc:
                st.sidebar.error(
                    _("**{file}**: {problem}").format(file=up.name, problem=exc), icon=":material/folder_zip:"
                )
                members = []
            items += [PickedImage(unique(name), data, "upload") for name, data in members]
        else:
            items.append(PickedImage(unique(up.name), up.getvalue(), "upload"))
    if st.sidebar.toggle(
        _("Take a photo with the camera"),
        key=state.CAMERA_ON,
        help=_(
            "The browser asks for the camera once. The photo goes the same way as an upload and "
            "stays in this session (it is never in a link)."
        ),
    ):
        photo = st.sidebar.camera_input(_("Camera"), key=state.CAMERA, label_visibility="collapsed")
        if photo is not None:
            data = photo.getvalue()
            digest = image_digest(data)
            # Named by content, so the same photo keeps its name (and its place) across reruns.
            items.append(PickedImage(unique(f"camera photo {digest[:6]}.jpg"), data, "camera", digest))
    for name, data in state.frozen_frames():  # frames frozen in the Live tab, like camera photos
        items.append(PickedImage(unique(name), data, "live"))
    for name in st.session_state.get(state.SAMPLES, []):
        if name in samples:
            items.append(PickedImage(unique(name), samples[name].data, "sample"))
    return items


def dataset_ui() -> Optional[str]:
    """Pick a gate dataset from SE_VIZ_DATA or upload one zipped; return its folder (or None)."""
    found = available_datasets()
    with st.sidebar.expander(
        _("…or open a gate dataset"), expanded=bool(st.session_state.get(state.DATASET))
    ):
        st.caption(
            _(
                "A folder written by `se-viz capture` (Parquet + manifest): its images are shown in "
                "the many-image views without running the network again."
            )
        )
        choice = None
        if found:
            choice = st.selectbox(
                _("From the data folder (SE_VIZ_DATA)"),
                [None, *found],
                key=state.DATASET,
                format_func=_shown(lambda p: _("— none —") if p is None else Path(p).name),
            )
        upload = st.file_uploader(
            _("Upload a gate dataset (the folder, zipped)"), type=["zip"], key=state.DATASET_UPLOAD
        )
        try:
            return dataset_path(choice, upload)
        except se_viz.InputError as exc:
            st.error(
                _("This gate dataset cannot be opened: {problem}").format(problem=exc),
                icon=":material/folder_off:",
            )
            return None


def display_ui() -> None:
    """Display settings: projector mode and how images are fitted to the network's input."""
    st.sidebar.header(_("3 · Display"))
    st.sidebar.toggle(
        _("Projector mode"),
        key=state.PROJECTOR,
        help=_("Larger fonts and charts, stronger contrast — for the back of a lecture hall."),
    )
    state.default_fit()
    st.sidebar.segmented_control(
        _("Fit images to the network"),
        list(FITS),
        key=state.FIT,
        required=True,
        format_func=_shown(lambda fit: _(FIT_LABELS[fit])),
        help=_(
            "The network sees a square. “centre crop” is what the model was trained with; "
            "“pad” keeps the whole image and fills the rest with the mean colour."
        ),
    )
    st.sidebar.caption(_(LICENSE_NOTE))


def share_ui() -> None:
    """Keep the address bar on this view and offer it as a link (see :mod:`.link`)."""
    query = to_query(state.current_link([s.name for s in all_samples()]))
    st.query_params.from_dict(query)
    base = st.context.url or ""
    with st.sidebar.expander(_("Link to this view"), icon=":material/link:"):
        st.code(f"{base}?{urlencode(query, doseq=True)}", language=None, wrap_lines=True)
        st.caption(_(LINK_NOTE))


def inputs_ui(tabs: Sequence[str] = ()) -> Inputs:
    """All sidebar inputs; ``tabs`` are the tab names a link may name."""
    model = model_ui(tabs)
    images = images_ui()
    dataset = dataset_ui()
    display_ui()
    share_ui()
    return Inputs(model=model, images=images, dataset=dataset)
