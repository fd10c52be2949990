"""The sidebar: model picker (with what is available now) and status, images, display settings.

``inputs_ui`` returns the user's choices; the sidebar draws only inputs and the model status.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import streamlit as st
from timm.models import get_arch_name

import se_viz
from se_viz import LoadedModel, ModelLoadError
from se_viz.datasets.sources import is_image_name
from se_viz.errors import first_line
from se_viz.loading import hub
from se_viz.loading.samples import LICENSE_NOTE, all_samples
from se_viz.loading.source import BUNDLED, HUB_CACHE, HUB_DOWNLOAD, LOCAL_FILE, hub_repo

from . import state
from .cache import hub_usable, image_digest, load_model_cached
from .dataset_view import available_datasets, dataset_path
from .state import ModelChoice, Weights

log = logging.getLogger(__name__)

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff", "zip"]
MAX_ZIP_IMAGES = 500
MAX_ZIP_BYTES = 500 * 1024**2


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
    source: str  # "upload" or "sample"
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
# Model choices


def env_choice() -> Optional[ModelChoice]:
    """The model (and weights file) the operator chose with SE_VIZ_MODEL / SE_VIZ_WEIGHTS."""
    model = os.environ.get("SE_VIZ_MODEL", "").strip()
    weights = os.environ.get("SE_VIZ_WEIGHTS", "").strip() or None
    if not model and not weights:
        return None
    model = model or se_viz.DEFAULT_MODEL
    if weights:
        return ModelChoice(model, Weights.FILE, weights)
    entry = se_viz.catalog_entry(model)
    return ModelChoice(entry.id if entry else model)


def model_options() -> list[ModelChoice]:
    """Picker options: the operator's model, every catalog model, then one untrained per architecture."""
    entries = se_viz.catalog()
    options: list[ModelChoice] = []
    env = env_choice()
    if env is not None:
        options.append(env)
        if env.weights is Weights.FILE and se_viz.catalog_entry(env.model_id) is None:
            options.append(ModelChoice(env.model_id))
    options += [ModelChoice(e.id) for e in entries if ModelChoice(e.id) not in options]
    if env is not None and se_viz.catalog_entry(env.model_id) is None:
        options.append(ModelChoice(env.model_id, Weights.UNTRAINED))
    # One untrained option per architecture: the a1 and ra2 SE-ResNet-50s share one structure.
    seen: set[str] = set()
    for entry in entries:
        if not entry.user and entry.architecture not in seen:  # the user's factory may load weights itself
            seen.add(entry.architecture)
            options.append(ModelChoice(entry.id, Weights.UNTRAINED))
    return options


def availability(choice: ModelChoice) -> str:
    """Where this choice's weights would come from now: "bundled", "cached", "download" or "local"."""
    if choice.weights is Weights.UNTRAINED:
        return "bundled"
    if choice.weights is Weights.FILE:
        return "local"
    entry = se_viz.catalog_entry(choice.model_id)
    if entry is not None and entry.user:
        return "yours"
    if entry is not None and entry.offline:
        return "bundled" if entry.bundled_available else "download"
    return "cached" if hub.cached_weights(hub_repo(choice.model_id, entry)) is not None else "download"


_MARKS = {
    "bundled": "works offline",
    "cached": "downloaded before, works offline",
    "download": "needs a download",
    "local": "local file",
    "yours": "your model",
}


def option_label(choice: ModelChoice) -> str:
    """Human label of a picker option, marked with what it needs; untrained ones say so loudly.

    Labels are unique (Streamlit keeps a selectbox's value by its label), so untrained options
    name their architecture.
    """
    entry = se_viz.catalog_entry(choice.model_id)
    mark = _MARKS[availability(choice)]
    if choice.weights is Weights.UNTRAINED:
        name = f"{entry.short_name} ({entry.architecture})" if entry else choice.model_id
        return f"{name} — UNTRAINED, structure only · {mark}"
    if choice.weights is Weights.FILE:
        name = entry.short_name if entry else choice.model_id
        yours = f" · {_MARKS['yours']}" if entry is not None and entry.user else ""
        return f"{name} — weights from local file {Path(choice.file or '').name}{yours}"
    if entry is not None and entry.user:
        return f"{entry.name} · {mark}"
    if entry is None:
        return f"{choice.model_id} (timm) · {mark}"
    return f"{entry.label} · {mark}"


def choice_name(choice: ModelChoice) -> str:
    """The model's name for sentences: the catalog name, or the timm name."""
    entry = se_viz.catalog_entry(choice.model_id)
    return entry.name if entry else choice.model_id


def mini_choice() -> Optional[ModelChoice]:
    """The bundled mini model, when its weights ship with this installation."""
    entry = se_viz.catalog_entry(se_viz.MINI_MODEL)
    return ModelChoice(entry.id) if entry and entry.bundled_available else None


def _architecture(model_id: str) -> str:
    entry = se_viz.catalog_entry(model_id)
    return entry.architecture if entry else get_arch_name(model_id)


def untrained_choice(model_id: str) -> Optional[ModelChoice]:
    """The picker's untrained option with the same architecture as ``model_id``, if any."""
    arch = _architecture(model_id)
    return next(
        (c for c in model_options() if c.weights is Weights.UNTRAINED and _architecture(c.model_id) == arch),
        None,
    )


def _start_choice() -> tuple[ModelChoice, Optional[str]]:
    """What the app starts with, and a sentence when that is not the paper's network."""
    env = env_choice()
    if env is not None:
        return env, None
    default = ModelChoice(se_viz.DEFAULT_MODEL)
    mini = mini_choice()
    if availability(default) == "download" and mini is not None and not hub_usable():
        entry = se_viz.catalog_entry(se_viz.DEFAULT_MODEL)
        return mini, (
            f"There is no network here, so the app started with the bundled SE-ResNet mini. "
            f"{entry.short_name} and the other models marked “needs a download” work "
            "once this computer is online (or their weights are copied here)."
        )
    return default, None


# --------------------------------------------------------------------------------------------
# Model picker and status


def _status(lm: LoadedModel) -> None:
    size = lm.data_config["input_size"]
    facts = f"{len(lm.blocks)} SE blocks · {len(lm.labels)} classes · input {size[1]}×{size[2]} px"
    kind = lm.source.kind
    if lm.entry is not None and lm.entry.user:
        weights = (
            f"local file `{lm.source.path.name}`"
            if kind == LOCAL_FILE
            else "none loaded — as your factory built it"
        )
        st.info(
            f"**Loaded: your model** {lm.entry.name}  \nweights: {weights} — se_viz cannot tell what "
            f"they were trained on  \n{facts}",
            icon=":material/person:",
        )
        if lm.defaults_note:
            st.caption(lm.defaults_note)
    elif kind == BUNDLED:
        st.success(
            f"**Loaded:** {lm.display_name}  \nweights: bundled with se_viz (trained by this "
            f"project)  \n{facts}",
            icon=":material/check_circle:",
        )
    elif kind in (HUB_CACHE, HUB_DOWNLOAD):
        how = "from this computer's cache" if kind == HUB_CACHE else "downloaded just now"
        st.success(
            f"**Loaded:** {lm.display_name}  \nweights: published, {how} ({lm.source.repo})  \n{facts}",
            icon=":material/check_circle:",
        )
    elif kind == LOCAL_FILE:
        st.info(
            f"**Loaded:** {lm.display_name} architecture  \nweights: local file "
            f"`{lm.source.path.name}` — se_viz cannot tell what they were trained on  \n{facts}",
            icon=":material/info:",
        )
    else:
        st.warning(
            f"**Loaded:** {lm.display_name} — **untrained, random weights**  \n{facts}",
            icon=":material/warning:",
        )


def model_ui() -> ModelState:
    """Draw the model picker and status; load the chosen model (once per process)."""
    try:
        options = model_options()
    except ModelLoadError as exc:  # the operator's catalog file (SE_VIZ_CATALOG) is unusable
        st.error(f"**The model catalog cannot be used.** {exc}", icon=":material/error:")
        st.stop()
    start, note = _start_choice()
    if st.session_state.get(state.MODEL) not in options:
        st.session_state[state.MODEL] = start if start in options else options[0]
    st.sidebar.header("1 · Model")
    choice = st.sidebar.selectbox(
        "SE network",
        options,
        key=state.MODEL,
        format_func=option_label,
        help="“works offline”: the weights are on this computer. “needs a download”: the weights "
        "come from the Hugging Face hub the first time. “UNTRAINED”: random weights — the "
        "gates mean nothing, but the blocks and channel counts are real.",
    )
    result = ModelState(choice=choice, label=option_label(choice), note=note if choice == start else None)
    result.error = state.failure(choice)
    status = st.sidebar.empty()
    if result.error is None:
        with status.container(), st.spinner(f"Loading {result.label} …", show_time=True):
            try:
                result.lm = load_model_cached(choice)
            except ModelLoadError as exc:
                result.error = exc
            except Exception as exc:
                log.exception("loading %s failed", choice)
                result.error = ModelLoadError(
                    f"Loading failed unexpectedly ({type(exc).__name__}: {first_line(exc)})."
                )
        if result.error:
            state.remember_failure(choice, result.error)
    with status.container():
        if result.lm is not None:
            _status(result.lm)
        else:
            st.error("**Not loaded** — see the message on the right.", icon=":material/error:")
    return result


# --------------------------------------------------------------------------------------------
# Images and display


def images_ui() -> list[PickedImage]:
    """Draw the uploader and the sample picker; return the images in order (uploads first)."""
    st.sidebar.header("2 · Images")
    uploads = (
        st.sidebar.file_uploader(
            "Upload photos (drag and drop, several at once)",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            key=state.UPLOADS,
            help="JPEG, PNG, WebP, BMP, GIF (first frame) or TIFF — or a ZIP with one folder per class "
            "(the folders become the classes of the Classes view). Images stay in this session.",
        )
        or []
    )
    samples = {s.name: s for s in all_samples()}
    st.sidebar.multiselect(
        "…or pick sample images",
        list(samples),
        key=state.SAMPLES,
        format_func=lambda n: samples[n].title if n in samples else n,
        help=LICENSE_NOTE,
    )
    items: list[PickedImage] = []
    used: dict[str, int] = {}

    def unique(name: str) -> str:
        """Two uploads called photo.jpg become "photo.jpg" and "photo.jpg (2)"."""
        used[name] = used.get(name, 0) + 1
        return name if used[name] == 1 else f"{name} ({used[name]})"

    for up in uploads:
        if up.name.lower().endswith(".zip"):
            items += [
                PickedImage(unique(name), data, "upload")
                for name, data in _zip_images(up.name, up.getvalue())
            ]
        else:
            items.append(PickedImage(unique(up.name), up.getvalue(), "upload"))
    for name in st.session_state.get(state.SAMPLES, []):
        if name in samples:
            items.append(PickedImage(unique(name), samples[name].data, "sample"))
    return items


def _zip_images(zip_name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The images of an uploaded ZIP, named by their path inside it ("pug/1.jpg"), so one folder per
    class becomes the class groups of the Classes view. Oversized or broken archives get a sentence."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = sorted(
                (
                    i
                    for i in zf.infolist()
                    if not i.is_dir() and is_image_name(i.filename) and not i.filename.startswith("__MACOSX/")
                ),
                key=lambda i: i.filename,
            )
            if len(members) > MAX_ZIP_IMAGES or sum(i.file_size for i in members) > MAX_ZIP_BYTES:
                st.sidebar.error(
                    f"**{zip_name}** holds more than {MAX_ZIP_IMAGES} images or "
                    f"{MAX_ZIP_BYTES // 1024**2} MB; for whole data sets use `se-viz capture` "
                    "and open the gate dataset.",
                    icon=":material/folder_zip:",
                )
                return []
            return [(i.filename, zf.read(i)) for i in members]
    except (zipfile.BadZipFile, OSError, ValueError):
        st.sidebar.error(f"**{zip_name}** is not a readable ZIP archive.", icon=":material/folder_zip:")
        return []


def dataset_ui() -> Optional[str]:
    """Pick a gate dataset from SE_VIZ_DATA or upload one zipped; return its folder (or None)."""
    found = available_datasets()
    with st.sidebar.expander("…or open a gate dataset", expanded=bool(st.session_state.get(state.DATASET))):
        st.caption(
            "A folder written by `se-viz capture` (Parquet + manifest): its images are shown in "
            "the many-image views without running the network again."
        )
        choice = None
        if found:
            choice = st.selectbox(
                "From the data folder (SE_VIZ_DATA)",
                [None, *found],
                key=state.DATASET,
                format_func=lambda p: "— none —" if p is None else Path(p).name,
            )
        upload = st.file_uploader(
            "Upload a gate dataset (the folder, zipped)", type=["zip"], key=state.DATASET_UPLOAD
        )
        try:
            return dataset_path(choice, upload)
        except se_viz.InputError as exc:
            st.error(f"This gate dataset cannot be opened: {exc}", icon=":material/folder_off:")
            return None


def display_ui() -> None:
    """Display settings: projector mode and how images are fitted to the network's input."""
    st.sidebar.header("3 · Display")
    st.sidebar.toggle(
        "Projector mode",
        key=state.PROJECTOR,
        help="Larger fonts and charts, stronger contrast — for the back of a lecture hall.",
    )
    st.sidebar.segmented_control(
        "Fit images to the network",
        ["crop", "pad"],
        key=state.FIT,
        default="crop",
        required=True,
        format_func=lambda f: {"crop": "centre crop", "pad": "pad (whole image)"}[f],
        help="The network sees a square. “centre crop” is what the model was trained with; "
        "“pad” keeps the whole image and fills the rest with the mean colour.",
    )
    st.sidebar.caption(LICENSE_NOTE)


def inputs_ui() -> Inputs:
    """All sidebar inputs."""
    model = model_ui()
    images = images_ui()
    dataset = dataset_ui()
    display_ui()
    return Inputs(model=model, images=images, dataset=dataset)
