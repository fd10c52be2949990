"""A gate dataset in the app: opened from ``SE_VIZ_DATA`` or uploaded as a ZIP, summarised, and
shown in the many-image views — without running the network again, at any size.

Opening reads the per-image columns (paths, labels, top-5) and the aggregates
(:func:`se_viz.datasets.aggregate.dataset_aggregates`: streamed once, then cached next to the
dataset), never whole gate columns. Views that need gates read only the rows they show (the
compared images, the query of the nearest images); the nearest images are a streamed top-k and
the 2-D map is a sample whose size is on screen.

Images are read through :mod:`se_viz.datasets.access`: an upload's from inside its own archive
only, a ``SE_VIZ_DATA`` dataset's only under the allowed folders.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

import se_viz
from se_viz import analysis as A
from se_viz import figures as F
from se_viz.datasets.access import ArchiveImages, FolderImages, ImageNotReadable, image_roots
from se_viz.datasets.aggregate import DatasetAggregates, dataset_aggregates
from se_viz.datasets.neighbours import MAP_SAMPLE, dataset_nearest, dataset_pca
from se_viz.datasets.reader import GateDataset, open_gate_dataset
from se_viz.datasets.schema import MANIFEST_FILE
from se_viz.figures.dataset import gate_histogram_figure

from . import cache, channel_views, intervention_views, many_views, state
from .common import chart, friendly_errors
from .tables import readable

MAX_ZIP_BYTES = 2 * 1024**3  # what an uploaded dataset may unpack to
THUMB_PX = 128
#: Images offered at once by a name search (the rest: narrow the search).
MAX_OPTIONS = 500
#: Uploaded archives kept for reading their images (as many as uploads cached by unpack_zip).
_UPLOADS: "OrderedDict[str, ArchiveImages]" = OrderedDict()

ImageAccess = Union[ArchiveImages, FolderImages]


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
    :data:`MAX_ZIP_BYTES`, are refused with an ``InputError``. The archive itself is kept (in
    memory) as the only place this dataset's images are read from.
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
    folder = str(manifests[0].parent)
    _UPLOADS[folder] = ArchiveImages(_data)
    while len(_UPLOADS) > 8:
        _UPLOADS.popitem(last=False)
    return folder


def image_access(path: str, manifest: dict) -> Optional[ImageAccess]:
    """How the dataset at ``path`` may read its images: an upload from its archive, a dataset in
    ``SE_VIZ_DATA`` under its allowed folders, anything else not at all (None)."""
    if path in _UPLOADS:
        return _UPLOADS[path]
    root = data_folder()
    if root is not None and Path(path).resolve().is_relative_to(root.resolve()):
        return FolderImages(image_roots(path, manifest))
    return None


def read_image(access: Optional[ImageAccess], image_path: str) -> bytes:
    """The bytes of a dataset image, through ``access`` (raises :class:`ImageNotReadable`)."""
    if access is None:
        raise ImageNotReadable("not readable here")
    return access.read(image_path)


@dataclass
class OpenDataset:
    """An opened gate dataset with what every view needs: names and the labelled aggregates."""

    dataset: GateDataset
    names: list[str]
    aggregates: DatasetAggregates
    access: Optional[ImageAccess]


def display_names(paths: Sequence[str]) -> list[str]:
    """Short image names for the views: the last folder and the file name."""
    return ["/".join(Path(p.split("::")[0]).parts[-2:]) for p in paths]


def content_stamp(path: str) -> str:
    """What tells two versions of a dataset folder apart without reading it: the manifest's and
    every part file's name, size and modification time (a resumed capture adds parts)."""
    entries = sorted(
        (e.name, e.stat().st_size, e.stat().st_mtime_ns)
        for e in os.scandir(path)
        if e.name == MANIFEST_FILE or e.name.endswith(".parquet")
    )
    return hashlib.sha256(repr(entries).encode()).hexdigest()


@st.cache_resource(show_spinner="Reading the gate dataset …", max_entries=4)
def open_cached(path: str, stamp: str) -> OpenDataset:
    """Open a gate dataset once per version (``stamp``: :func:`content_stamp`): its per-image columns
    and its aggregates (streamed the first time, then read from the cache next to it)."""
    ds = open_gate_dataset(path)
    bar = st.progress(0.0, text=f"Summarising {len(ds):,} images …")

    def counted(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Summarising the gates: {done:,} of {total:,} images")

    agg = dataset_aggregates(ds, ds.labels if ds.has_labels else None, progress=counted)
    bar.empty()
    return OpenDataset(ds, display_names(ds.paths), agg, image_access(path, ds.manifest))


@st.cache_resource(show_spinner="Computing class statistics over the dataset …", max_entries=8)
def grouped_aggregates(path: str, stamp: str, source: str, _ds: GateDataset, _groups) -> DatasetAggregates:
    """The aggregates under one grouping (cached here and on disk, keyed by content)."""
    return dataset_aggregates(_ds, list(_groups))


class Thumbnails(Sequence[bytes]):
    """Thumbnails of a dataset's images, read on demand through its image access (a grey tile
    that says why when an image may not or cannot be read)."""

    def __init__(self, paths: Sequence[str], access: Optional[ImageAccess], key: str) -> None:
        self.paths = list(paths)
        self.access = access
        self.key = key

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i):  # type: ignore[override]
        return _thumbnail(self.key, self.paths[i], self.access)


@st.cache_data(max_entries=512, show_spinner=False)
def _thumbnail(key: str, path: str, _access: Optional[ImageAccess]) -> bytes:
    """The app's thumbnail of one dataset image (read once per dataset and path), or a tile."""
    try:
        data = read_image(_access, path)
        return cache.thumbnail_png(cache.image_digest(data), data)
    except ImageNotReadable as exc:
        return _tile(str(exc))
    except (OSError, se_viz.InputError, KeyError, ValueError):
        return _tile("cannot be read")


@functools.cache
def _tile(reason: str) -> bytes:
    img = Image.new("RGB", (THUMB_PX, THUMB_PX), (220, 220, 220))
    draw = ImageDraw.Draw(img)
    for line_no, line in enumerate(_wrap(reason, 16)):
        draw.text((8, 44 + 14 * line_no), line, fill=(60, 60, 60))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def dataset_path(choice: Optional[str], upload) -> Optional[str]:
    """The folder of the dataset to show: an upload wins over the picker."""
    if upload is not None:
        data = upload.getvalue()
        return unpack_zip(hashlib.sha256(data).hexdigest(), data)
    return choice


#: At most this many of a dataset's images are read back for the stage ablation (each condition
#: reruns the network on every image).
ABLATION_IMAGES = 200


@dataclass
class AblationInputs:
    """The images the stage ablation runs on, and how many of the dataset's it could not use."""

    images: list[bytes]  # the files' bytes: results are keyed by each file's SHA-256
    labels: Optional[list[int]]
    allowed: int  # rows whose image this dataset may read
    refused: int  # rows whose image it may not (not in the upload / outside the allowed folders)
    unreadable: int  # allowed, but not decodable


@st.cache_resource(show_spinner="Reading the dataset's images …", max_entries=2)
def _ablation_inputs(path: str, model_name: str, _od: OpenDataset, _lm) -> AblationInputs:
    """Up to :data:`ABLATION_IMAGES` images the dataset may read, their class indices in the
    loaded model when every label is one of its class names, and the counts of the others."""
    ds, access = _od.dataset, _od.access
    images, labels = [], []
    allowed = refused = unreadable = 0
    for image_path, label in zip(ds.paths, ds.labels, strict=True):
        ok = access is not None and (
            access.member(image_path) is not None
            if isinstance(access, ArchiveImages)
            else access.allowed(image_path)
        )
        if not ok:
            refused += 1
            continue
        allowed += 1
        if len(images) == ABLATION_IMAGES:
            continue  # counted, not read
        try:
            data = access.read(image_path)
            cache.decoded_image(cache.image_digest(data), data)  # decodable, and decoded once
        except (OSError, KeyError, ValueError, se_viz.InputError, ImageNotReadable):
            unreadable += 1
            continue
        images.append(data)
        labels.append(label)
    known = {name: i for i, name in enumerate(_lm.labels)}
    indices = [known[lab] for lab in labels] if labels and all(lab in known for lab in labels) else None
    return AblationInputs(images, indices, allowed, refused, unreadable)


def render_dataset(path: str, lm=None) -> None:
    """The summary, the errors, the many-image views and (with a loaded model) the stage
    ablation over one gate dataset."""
    stamp = content_stamp(path)
    opened = open_cached(path, stamp)
    ds = opened.dataset
    manifest = ds.manifest
    st.subheader(f"Gate dataset: {Path(path).name}")
    st.caption(
        f"{len(ds)} images · {len(ds.blocks)} SE blocks of {manifest['model']['id']} · "
        f"{manifest.get('dtype', 'float32')} · {'labelled' if ds.has_labels else 'no labels'} · "
        "read from Parquet: the network does not run again."
    )
    thumbs = Thumbnails(ds.paths, opened.access, f"{path}@{stamp}")
    views = {
        "Summary": lambda: _render_summary(opened),
        "Compare": lambda: _render_compare(opened, thumbs),
        "Classes": lambda: _render_classes(path, stamp, opened, thumbs),
        "Channel atlas": lambda: channel_views.render_dataset_atlas(
            ds,
            lambda image_path: read_image(opened.access, image_path),
            lm,
            state.model_choice() if lm is not None else None,
        ),
        "Stage ablation": lambda: _render_ablation(path, opened, lm),
        "Unreadable files": lambda: _render_errors(ds),
    }
    # Lazy tabs: only the open one runs (the stage ablation reads images, the class views compute).
    tabs = st.tabs(list(views), key="dataset_view", on_change="rerun")
    for (label, render), tab in zip(views.items(), tabs, strict=True):
        if tab.open:
            with tab, friendly_errors(label.lower()):
                render()


def _render_summary(opened: OpenDataset) -> None:
    summary = opened.aggregates.summary()
    if (summary["paper_name"] == summary["block"]).all():  # a column that repeats another
        summary = summary.drop(columns=["paper_name"])
    st.table(readable(summary).style.format(precision=3, na_rep="—"), hide_index=True)
    st.caption(
        "Per block over all images and channels: mean and std of the gates, fractions below "
        "0.1 and above 0.9, mean normalised entropy; with labels, class specificity "
        "(between-class over within-class spread of the gates). Computed over every image, "
        "streamed from the Parquet files."
    )
    edges, counts = opened.aggregates.histograms()
    chart(
        gate_histogram_figure(edges, counts, opened.dataset.block_names, len(opened.dataset)),
        "dataset_histograms",
        "gate_histograms",
    )


def _find(names: Sequence[str], label: str, key: str) -> list[int]:
    """Rows whose name contains a searched text: at most :data:`MAX_OPTIONS`, said on screen."""
    text = st.text_input(label, key=key, placeholder="part of a file or folder name").strip().lower()
    hits = [i for i, name in enumerate(names) if text in name.lower()] if text else list(range(len(names)))
    if len(hits) > MAX_OPTIONS:
        st.caption(f"{len(hits):,} images match; the first {MAX_OPTIONS} are offered — type to narrow.")
    elif not hits:
        st.info("No image name contains that text.")
    return hits[:MAX_OPTIONS]


def _render_compare(opened: OpenDataset, thumbs: Thumbnails) -> None:
    ds, names = opened.dataset, opened.names
    if len(ds) < 2:
        st.info("The dataset holds fewer than two images.")
        return
    options = _find(names, "Find images to compare", "dataset_compare_find")
    chosen = st.multiselect(
        "Images to compare (2–4)",
        options=options,
        default=options[:2],
        max_selections=4,
        format_func=lambda i: str(names[i]),
        key=f"dataset_compare_{hashlib.sha1(repr(options[:8]).encode()).hexdigest()[:8]}",
    )
    if len(chosen) < 2:
        st.info("Pick at least two images.")
        return
    cap = ds.to_capture(chosen)  # only these rows are read
    many_views.render_compare_chosen(
        cap, list(range(len(chosen))), [names[i] for i in chosen], [thumbs[i] for i in chosen]
    )


def _group_options(opened: OpenDataset) -> dict[str, np.ndarray]:
    ds, names = opened.dataset, opened.names
    out: dict[str, np.ndarray] = {}
    if ds.has_labels:
        out["given labels"] = np.asarray([str(x) for x in ds.labels], dtype=object)
    out["predicted class"] = np.asarray(ds.predictions, dtype=object)
    out["file-name prefix"] = A.groups_from_prefixes(names)
    if any("/" in n for n in names):
        out["folder"] = A.groups_from_folders(names)
    return out


def _render_classes(path: str, stamp: str, opened: OpenDataset, thumbs: Thumbnails) -> None:
    ds = opened.dataset
    if len(ds) < 2:
        st.info("The class views need at least two images.")
        return
    options = _group_options(opened)
    source = st.radio("Groups from", list(options), horizontal=True, key="dataset_group_source")
    groups = options[source]
    agg = (
        opened.aggregates
        if source == "given labels"
        else grouped_aggregates(path, stamp, source, ds, tuple(groups))
    )
    classes, counts = np.unique(groups, return_counts=True)
    st.caption(
        f"{len(classes)} group(s) over all {len(ds):,} images: "
        + ", ".join(f"{c} ({k})" for c, k in zip(classes[:12], counts[:12], strict=True))
        + (f" and {len(classes) - 12} more" if len(classes) > 12 else "")
    )
    blocks = st.multiselect(
        "SE blocks (default: the paper's — last block of each stage, every block of the last stage)",
        ds.block_names,
        default=A.paper_blocks(ds.blocks),
        key="dataset_blocks",
    )
    subset = many_views.SUBSETS[
        st.radio("Channels per block", list(many_views.SUBSETS), horizontal=True, key="dataset_subset")
    ]
    if len(classes) >= 2 and blocks:
        profiles = agg.class_profiles(blocks)
        st.subheader("Role of excitation (Fig. 6)")
        chart(F.class_profile_figure(profiles, blocks, subset=subset), "dataset_fig6", "fig6")
        st.caption(F.PAPER_FIG6)
        st.subheader("Within one class (Fig. 7)")
        cls = st.selectbox("Class", list(classes), index=int(np.argmax(counts)), key="dataset_band_class")
        chart(F.class_band_figure(profiles, cls, blocks, subset=subset), "dataset_fig7", "fig7")
        st.caption(F.PAPER_FIG7)
        st.subheader("Class specificity against depth")
        spec = agg.specificity()
        if min(spec.counts) < 2:
            st.info("Class specificity needs at least two images in every class.")
        else:
            chart(F.specificity_figure(spec), "dataset_specificity", "specificity")
        st.caption(F.PAPER_SPECIFICITY)
    elif len(classes) < 2:
        st.warning("All images fall into one group: choose another grouping to compare classes.")
    st.subheader("Saturation")
    table = agg.saturation_table()
    chart(F.saturation_figure(table), "dataset_saturation", "saturation")
    st.markdown("\n".join(f"- {s}" for s in A.saturation_sentences(table)))
    _render_neighbours(path, stamp, opened, thumbs, groups)


@st.cache_data(show_spinner="Searching every image for the nearest ones …", max_entries=32)
def _nearest(path: str, stamp: str, query: int, blocks: tuple[str, ...], k: int, _od: OpenDataset):
    return dataset_nearest(_od.dataset, query, list(blocks), k, _od.names)


@st.cache_resource(show_spinner="Reading a sample of gate vectors for the map …", max_entries=8)
def _map(path: str, stamp: str, blocks: tuple[str, ...], _od: OpenDataset):
    return dataset_pca(_od.dataset, list(blocks))


def _render_neighbours(
    path: str, stamp: str, opened: OpenDataset, thumbs: Thumbnails, groups: np.ndarray
) -> None:
    ds, names = opened.dataset, opened.names
    st.subheader("Images recalibrated alike")
    scopes = A.vector_scopes(ds.blocks)
    labels = list(scopes)
    stage_labels = [s for s in labels if s not in ds.block_names]
    left, mid, right = st.columns([2, 2, 1])
    with left:
        options = _find(names, "Find the image", "dataset_query_find")
    if not options:
        return
    query = left.selectbox(
        "Image", options, format_func=lambda i: str(names[i]), key=f"dataset_query_{len(options)}"
    )
    where = mid.selectbox(
        "Gates of",
        labels,
        index=labels.index(stage_labels[-1]) if stage_labels else 0,
        key="dataset_scope",
        help="a stage concatenates the gates of all its blocks",
    )
    k = right.slider("k", 1, max(2, min(12, len(ds) - 1)), min(5, len(ds) - 1), key="dataset_k")
    near = _nearest(path, stamp, int(query), tuple(scopes[where]), int(k), opened)
    st.markdown(
        f"The {len(near)} image(s), of all {len(ds):,}, whose gates at **{where}** point most nearly "
        f"the same way as those of **{names[query]}** (cosine distance):"
    )
    shown = [int(query)] + near["image"].tolist()
    cols = st.columns(len(shown))
    captions = [f"{names[query]} (chosen)"] + [f"{r.name} · {r.distance:.4f}" for r in near.itertuples()]
    for col, i, caption in zip(cols, shown, captions, strict=True):
        col.image(thumbs[i], caption=caption, width=many_views.THUMB_PX)
    rows, pca = _map(path, stamp, tuple(scopes[where]), opened)
    at = np.flatnonzero(rows == int(query))
    highlight = int(at[0]) if at.size else None
    chart(
        F.pca_figure(pca, groups[rows], [names[i] for i in rows], where=where, highlight=highlight),
        "dataset_pca",
        "pca",
    )
    if len(rows) < len(ds):
        st.caption(
            f"The map shows a uniform sample of {len(rows):,} of the {len(ds):,} images "
            f"(seeded, the same on every open; at most {MAP_SAMPLE:,}); its axes are the principal "
            "axes of that sample. The nearest images above are searched over every image."
        )


def _render_ablation(path: str, opened: OpenDataset, lm) -> None:
    if lm is None:
        st.info("Load a model to ablate its SE blocks over this dataset's images.")
        return
    inputs = _ablation_inputs(path, lm.name, opened, lm)
    n = len(opened.dataset)
    reason = opened.access.reason if opened.access is not None else "not readable here"
    limit = f" (at most {ABLATION_IMAGES}, the first that can be read)" if n > ABLATION_IMAGES else ""
    parts = [
        f"Reruns the loaded model ({lm.display_name}) on {len(inputs.images)} of the dataset's "
        f"{n:,} images{limit}"
    ]
    if inputs.refused:
        parts.append(f"{inputs.refused:,} are {reason} and are not used")
    if inputs.unreadable:
        parts.append(f"{inputs.unreadable:,} could not be decoded")
    st.caption("; ".join(parts) + ". Labels are used when they are the model's class names.")
    choice, fit = state.model_choice(), state.fit()
    networked = [cache.network_input(data, choice, fit) for data in inputs.images]
    intervention_views.render_set_ablation(lm, choice, fit, networked, inputs.labels)


def _render_errors(ds: GateDataset) -> None:
    errors = ds.errors
    if errors.empty:
        st.success("Every input file was read.")
    else:
        st.table(readable(errors), hide_index=True)


__all__ = [
    "AblationInputs",
    "OpenDataset",
    "Thumbnails",
    "available_datasets",
    "content_stamp",
    "data_folder",
    "dataset_path",
    "display_names",
    "image_access",
    "open_cached",
    "read_image",
    "render_dataset",
    "unpack_zip",
]
