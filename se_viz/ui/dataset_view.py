"""A gate dataset in the app: opened from ``SE_VIZ_DATA`` or uploaded as a ZIP, summarised, and
shown in the many-image views — without running the network again."""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import pandas as pd
import streamlit as st
from PIL import Image

import se_viz
from se_viz import Capture
from se_viz.datasets.reader import GateDataset, open_gate_dataset
from se_viz.datasets.schema import MANIFEST_FILE
from se_viz.datasets.sources import read_bytes
from se_viz.datasets.summary import summarize_gate_dataset

from . import cache, intervention_views, many_views, state
from .common import friendly_errors

MAX_ZIP_BYTES = 2 * 1024**3  # what an uploaded dataset may unpack to
THUMB_PX = 128


def data_folder() -> Optional[Path]:
    """The operator's folder of gate datasets (``SE_VIZ_DATA``), if set and present."""
    value = os.environ.get("SE_VIZ_DATA", "").strip()
    return Path(value).expanduser() if value and Path(value).expanduser().is_dir() else None


def available_datasets() -> list[str]:
    """Gate datasets in ``SE_VIZ_DATA``: the folder itself or its sub-folders holding a manifest."""
    root = data_folder()
    if root is None:
        return []
    found = [root] if (root / MANIFEST_FILE).is_file() else []
    found += sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST_FILE).is_file())
    return [str(p) for p in found]


@st.cache_resource(show_spinner=False, max_entries=4)
def unpack_zip(digest: str, _data: bytes) -> str:
    """Unpack an uploaded, zipped gate dataset into a private folder (once per content).

    Members that would land outside the folder, and archives that unpack to more than
    :data:`MAX_ZIP_BYTES`, are refused with an ``InputError``.
    """
    target = Path(tempfile.mkdtemp(prefix=f"se_viz_dataset_{digest[:12]}_"))
    try:
        with zipfile.ZipFile(io.BytesIO(_data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_ZIP_BYTES:
                raise se_viz.InputError(
                    "the ZIP unpacks to more than 2 GB; open it from SE_VIZ_DATA instead."
                )
            for info in zf.infolist():
                dest = (target / info.filename).resolve()
                if not dest.is_relative_to(target.resolve()):
                    raise se_viz.InputError(f"the ZIP member {info.filename!r} points outside the archive.")
            zf.extractall(target)
    except zipfile.BadZipFile:
        raise se_viz.InputError("the file is not a ZIP archive.") from None
    manifests = sorted(target.rglob(MANIFEST_FILE))
    if not manifests:
        raise se_viz.InputError(
            f"the ZIP holds no gate dataset (no {MANIFEST_FILE}); zip the folder "
            "that `se-viz capture --out` wrote."
        )
    return str(manifests[0].parent)


@dataclass
class OpenDataset:
    """An opened gate dataset with everything the views need, computed once."""

    dataset: GateDataset
    capture: Capture
    names: list[str]
    summary: pd.DataFrame


@st.cache_resource(show_spinner="Reading the gate dataset …", max_entries=4)
def open_cached(path: str, stamp: float) -> OpenDataset:
    """Open a gate dataset and read all its gates once per version (``stamp``: manifest mtime)."""
    ds = open_gate_dataset(path)
    names = ["/".join(Path(p.split("::")[0]).parts[-2:]) for p in ds.paths]
    return OpenDataset(ds, ds.to_capture(), names, summarize_gate_dataset(ds))


class Thumbnails(Sequence[bytes]):
    """Thumbnails of a dataset's images, read from their paths on demand (a grey tile when an
    image is not reachable from this computer)."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i):  # type: ignore[override]
        return _thumbnail(self.paths[i])


@st.cache_data(max_entries=512, show_spinner=False)
def _thumbnail(path: str) -> bytes:
    """The app's thumbnail of the image at ``path`` (read once per path), or a grey tile."""
    try:
        data = read_bytes(path)
        return cache.thumbnail_png(cache.image_digest(data), data)
    except (OSError, se_viz.InputError, KeyError, ValueError):
        return _grey_tile()


@functools.cache
def _grey_tile() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (THUMB_PX, THUMB_PX), (220, 220, 220)).save(buf, format="PNG")
    return buf.getvalue()


def dataset_path(choice: Optional[str], upload) -> Optional[str]:
    """The folder of the dataset to show: an upload wins over the picker."""
    if upload is not None:
        data = upload.getvalue()
        return unpack_zip(hashlib.sha256(data).hexdigest(), data)
    return choice


#: At most this many of a dataset's images are read back for the stage ablation (each condition
#: reruns the network on every image).
ABLATION_IMAGES = 200


@st.cache_resource(show_spinner="Reading the dataset's images …", max_entries=2)
def _ablation_inputs(
    path: str, model_name: str, _ds: GateDataset, _lm
) -> tuple[list[bytes], Optional[list[int]]]:
    """Up to :data:`ABLATION_IMAGES` readable image files of the dataset (their bytes: results are
    keyed by each file's SHA-256), and their class indices in the loaded model when every label is
    one of its class names."""
    images, labels = [], []
    for image_path, label in zip(_ds.paths, _ds.labels, strict=True):
        if len(images) == ABLATION_IMAGES:
            break
        try:
            data = read_bytes(image_path)
            cache.decoded_image(cache.image_digest(data), data)  # decodable, and decoded once
        except (OSError, KeyError, ValueError, se_viz.InputError):
            continue
        images.append(data)
        labels.append(label)
    known = {name: i for i, name in enumerate(_lm.labels)}
    indices = [known[lab] for lab in labels] if labels and all(lab in known for lab in labels) else None
    return images, indices


def render_dataset(path: str, lm=None) -> None:
    """The summary table, the errors, the many-image views and (with a loaded model) the stage
    ablation over one gate dataset's images."""
    opened = open_cached(path, (Path(path) / MANIFEST_FILE).stat().st_mtime)
    ds, cap = opened.dataset, opened.capture
    manifest = ds.manifest
    st.subheader(f"Gate dataset: {Path(path).name}")
    st.caption(
        f"{len(ds)} images · {len(ds.blocks)} SE blocks of {manifest['model']['id']} · "
        f"{manifest.get('dtype', 'float32')} · {'labelled' if ds.has_labels else 'no labels'} · "
        "read from Parquet: the network does not run again."
    )
    thumbs = Thumbnails(ds.paths)
    views = {
        "Summary": lambda: _render_summary(opened.summary),
        "Compare": lambda: many_views.render_compare(cap, opened.names, thumbs),
        "Classes": lambda: many_views.render_classes(
            cap, opened.names, thumbs, class_names=ds.class_names, labels=ds.labels if ds.has_labels else None
        ),
        "Stage ablation": lambda: _render_ablation(path, ds, lm),
        "Unreadable files": lambda: _render_errors(ds),
    }
    # Lazy tabs: only the open one runs (the stage ablation reads images, the class views compute).
    tabs = st.tabs(list(views), key="dataset_view", on_change="rerun")
    for (label, render), tab in zip(views.items(), tabs, strict=True):
        if tab.open:
            with tab, friendly_errors(label.lower()):
                render()


def _render_summary(summary: pd.DataFrame) -> None:
    if (summary["paper_name"] == summary["block"]).all():  # a column that repeats another
        summary = summary.drop(columns=["paper_name"])
    st.table(summary.style.format(precision=3, na_rep="—"), hide_index=True)
    st.caption(
        "Per block over all images and channels: mean and std of the gates, fractions below "
        "0.1 and above 0.9, mean normalised entropy; with labels, class specificity "
        "(between-class over within-class spread of the gates)."
    )


def _render_ablation(path: str, ds: GateDataset, lm) -> None:
    if lm is None:
        st.info("Load a model to ablate its SE blocks over this dataset's images.")
        return
    st.caption(
        f"Reruns the loaded model ({lm.display_name}) on up to {ABLATION_IMAGES} of the "
        "dataset's images that can be read from this computer, with labels when they "
        "are the model's class names."
    )
    images, labels = _ablation_inputs(path, lm.name, ds, lm)
    choice, fit = state.model_choice(), state.fit()
    inputs = [cache.network_input(data, choice, fit) for data in images]
    intervention_views.render_set_ablation(lm, choice, fit, inputs, labels)


def _render_errors(ds: GateDataset) -> None:
    errors = ds.errors
    if errors.empty:
        st.success("Every input file was read.")
    else:
        st.table(errors, hide_index=True)
