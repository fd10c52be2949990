"""The sidebar: model picker with its status, image upload and the sample gallery picker.

``model_ui`` and ``images_ui`` return the user's choices; they draw only the inputs and the
model status next to them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import streamlit as st

import se_viz
from se_viz import LoadedModel, ModelLoadError
from se_viz.loading.samples import LICENSE_NOTE, all_samples

from .cache import ModelChoice, image_digest, load_model_cached

log = logging.getLogger(__name__)

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"]
MODEL_KEY = "model_option"
SAMPLES_KEY = "samples"
UPLOADS_KEY = "uploads"
FAILURES_KEY = "_model_failures"

PRETRAINED, UNTRAINED, FILE = "pretrained", "untrained", "file"


@dataclass
class ModelState:
    """The chosen model and how loading it went (``lm`` or ``error`` is set)."""

    option: str
    choice: ModelChoice
    label: str
    lm: Optional[LoadedModel] = None
    error: Optional[str] = None

    @property
    def untrained(self) -> bool:
        """True when the loaded model has random weights (structure only)."""
        return self.lm is not None and not self.lm.pretrained


@dataclass
class ImageItem:
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
    images: list[ImageItem] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Model options: "<model id>::pretrained|untrained|file"


def _short(name: str) -> str:
    for sep in (" (", " — "):
        if sep in name:
            name = name.split(sep, 1)[0]
    return name


def env_model() -> tuple[str, Optional[str]]:
    """The model (and weights file) the operator chose with SE_VIZ_MODEL / SE_VIZ_WEIGHTS."""
    model = os.environ.get("SE_VIZ_MODEL", "").strip() or se_viz.DEFAULT_MODEL
    weights = os.environ.get("SE_VIZ_WEIGHTS", "").strip() or None
    return model, weights


def model_options() -> list[str]:
    """Picker options: every catalog model pretrained, the env model, then every one untrained."""
    model, weights = env_model()
    entries = se_viz.catalog()
    ids = [e.id for e in entries]
    opts = []
    if weights:
        opts.append(f"{model}::{FILE}")
    opts += [f"{i}::{PRETRAINED}" for i in ids]
    if se_viz.catalog_entry(model) is None:
        opts.insert(1 if weights else 0, f"{model}::{PRETRAINED}")
        opts.append(f"{model}::{UNTRAINED}")
    # One untrained option per architecture: the a1 and ra2 SE-ResNet-50s share one structure.
    seen_arch = set()
    for entry in entries:
        if entry.architecture not in seen_arch:
            seen_arch.add(entry.architecture)
            opts.append(f"{entry.id}::{UNTRAINED}")
    return opts


def untrained_option(model_id: str) -> Optional[str]:
    """The picker's untrained option with the same architecture as ``model_id``, if any."""
    entry = se_viz.catalog_entry(model_id)
    arch = entry.architecture if entry else model_id.split(".", 1)[0]
    for opt in model_options():
        other, mode = opt.rsplit("::", 1)
        other_entry = se_viz.catalog_entry(other)
        other_arch = other_entry.architecture if other_entry else other.split(".", 1)[0]
        if mode == UNTRAINED and other_arch == arch:
            return opt
    return None


def default_option() -> str:
    """The option the app starts with: SE_VIZ_MODEL / SE_VIZ_WEIGHTS, else the paper's network."""
    model, weights = env_model()
    if weights:
        return f"{model}::{FILE}"
    entry = se_viz.catalog_entry(model)
    return f"{entry.id if entry else model}::{PRETRAINED}"


def option_choice(option: str) -> ModelChoice:
    """What to load for a picker option ("<model id>::pretrained|untrained|file")."""
    model_id, mode = option.rsplit("::", 1)
    if mode == FILE:
        return ModelChoice(model_id, weights=env_model()[1], pretrained=True)
    return ModelChoice(model_id, pretrained=mode == PRETRAINED)


def option_label(option: str) -> str:
    """Human label of a picker option; untrained ones say so loudly."""
    model_id, mode = option.rsplit("::", 1)
    entry = se_viz.catalog_entry(model_id)
    if mode == UNTRAINED:
        # Labels must be unique (Streamlit keeps a selectbox's value by its label), and several
        # catalog models share a short name, so the architecture is part of the label.
        name = f"{_short(entry.name)} ({entry.architecture})" if entry else model_id
        return f"{name} — UNTRAINED, structure only"
    if mode == FILE:
        name = _short(entry.name) if entry else model_id
        return f"{name} — local weights file {Path(env_model()[1] or '').name}"
    if entry is None:
        return f"{model_id} (timm)"
    label = entry.label
    if entry.offline:
        if not entry.bundled_available:
            label += " (weights not bundled yet)"
    elif entry.paper and entry.id == se_viz.DEFAULT_MODEL:
        label += " · default, the paper's network"
    return label


def mini_available() -> bool:
    """True when the offline mini model's weights ship with this checkout."""
    entry = se_viz.catalog_entry(se_viz.MINI_MODEL)
    return bool(entry and entry.bundled_available)


def select_option(option: str) -> None:
    """Callback for buttons that switch the model (runs before the picker is drawn)."""
    st.session_state[MODEL_KEY] = option
    st.session_state.get(FAILURES_KEY, {}).pop(option_choice(option).key, None)


def retry(option: str) -> None:
    """Callback: forget a remembered load failure so the next run tries again."""
    st.session_state.get(FAILURES_KEY, {}).pop(option_choice(option).key, None)


def model_ui() -> ModelState:
    """Draw the model picker and status; load the chosen model (once per process)."""
    options = model_options()
    if st.session_state.get(MODEL_KEY) not in options:
        st.session_state[MODEL_KEY] = default_option() if default_option() in options else options[0]
    st.sidebar.header("1 · Model")
    option = st.sidebar.selectbox(
        "SE network", options, key=MODEL_KEY, format_func=option_label,
        help="Catalog models download their weights once from the Hugging Face hub and are "
             "cached. 'UNTRAINED — structure only' models have random weights: their gates mean "
             "nothing, but the structure (blocks, channel counts) is real.",
    )
    choice = option_choice(option)
    state = ModelState(option=option, choice=choice, label=option_label(option))
    failures: dict = st.session_state.setdefault(FAILURES_KEY, {})
    status = st.sidebar.empty()
    if choice.key in failures:
        state.error = failures[choice.key]
    else:
        started = time.perf_counter()
        with status.container():
            with st.spinner(f"Loading {state.label} …", show_time=True):
                try:
                    state.lm = load_model_cached(choice)
                except ModelLoadError as exc:
                    state.error = str(exc)
                except Exception as exc:  # noqa: BLE001 — never a traceback in the browser
                    log.exception("loading %s failed", option)
                    state.error = f"Loading failed unexpectedly ({type(exc).__name__}: {exc})."
        if state.error:
            failures[choice.key] = state.error
        elif time.perf_counter() - started > 0.5:
            log.info("loaded %s in %.1f s", option, time.perf_counter() - started)
    with status.container():
        if state.lm is not None:
            lm = state.lm
            where = lm.weights_source
            text = (f"**Loaded:** {lm.display_name}  \nweights: {where}  \n{len(lm.blocks)} SE blocks · "
                    f"{len(lm.labels)} classes · input {lm.data_config['input_size'][1]}×"
                    f"{lm.data_config['input_size'][2]} px")
            if lm.pretrained:
                st.success(text, icon=":material/check_circle:")
            else:
                st.warning(text + "  \n**Untrained — structure only.**", icon=":material/warning:")
        else:
            st.error("**Failed to load** — see the message on the right.", icon=":material/error:")
            st.button("Try again", icon=":material/refresh:", on_click=retry, args=(option,), key="retry_sidebar")
    return state


def images_ui(model: ModelState) -> list[ImageItem]:
    """Draw the uploader and the sample picker; return the images in order (uploads first)."""
    st.sidebar.header("2 · Images")
    uploads = st.sidebar.file_uploader(
        "Upload photos (drag and drop, several at once)", type=UPLOAD_TYPES,
        accept_multiple_files=True, key=UPLOADS_KEY,
        help="JPEG, PNG, WebP, BMP, GIF (first frame) or TIFF. Images stay in this session.",
    ) or []
    samples = {s.name: s for s in all_samples()}
    st.sidebar.multiselect(
        "…or pick sample photos", list(samples), key=SAMPLES_KEY,
        format_func=lambda n: samples[n].title if n in samples else n,
        help=LICENSE_NOTE,
    )
    st.sidebar.caption(LICENSE_NOTE)
    items: list[ImageItem] = []
    used: dict[str, int] = {}

    def unique(name: str) -> str:
        """Two uploads called photo.jpg become "photo.jpg" and "photo.jpg (2)"."""
        used[name] = used.get(name, 0) + 1
        return name if used[name] == 1 else f"{name} ({used[name]})"

    for up in uploads:
        items.append(ImageItem(unique(up.name), up.getvalue(), "upload"))
    for name in st.session_state.get(SAMPLES_KEY, []):
        if name in samples:
            items.append(ImageItem(unique(name), samples[name].data, "sample"))
    return items


def inputs_ui() -> Inputs:
    """All sidebar inputs."""
    model = model_ui()
    return Inputs(model=model, images=images_ui(model))
