"""A gate dataset in the app: opened from ``SE_VIZ_DATA`` or uploaded as a ZIP, summarised, and
shown in the many-image views — without running the network again, at any size.

Opening reads the per-image columns (paths, labels, top-5) and the aggregates
(:func:`se_viz.datasets.aggregate.dataset_aggregates`: streamed once, then cached next to the
dataset), never whole gate columns. The reads over every row (the first fold, another grouping's,
the nearest-image search) go through the server's queue of heavy runs (:mod:`.runner`): their
size and measured estimate (:mod:`se_viz.datasets.read_cost`) are said, their progress counts
rows, and they can be cancelled, so one student's open never stalls the others. Views that need
gates read only the rows they show (the compared images, the query of the nearest images); the
nearest images are a streamed top-k and the 2-D map is a sample whose size is on screen.

What may be opened and which images may be read is :mod:`se_viz.datasets.serving`'s to say (an
upload's images from inside its own archive only, a ``SE_VIZ_DATA`` dataset's only under the
allowed folders); this module draws. Every result is kept through :func:`.cache.kept`, keyed by
the dataset's content key.
"""

from __future__ import annotations

import functools
import hashlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

import se_viz
from se_viz import analysis as A
from se_viz import figures as F
from se_viz import fonts, i18n
from se_viz.datasets.access import ImageNotReadable
from se_viz.datasets.aggregate import DatasetAggregates, cached_aggregates, dataset_aggregates
from se_viz.datasets.neighbours import MAP_SAMPLE, dataset_nearest, dataset_pca
from se_viz.datasets.read_cost import fold_seconds, nearest_seconds, read_size
from se_viz.datasets.reader import GateDataset, open_gate_dataset
from se_viz.datasets.serving import (
    AblationImages,
    ImageAccess,
    Upload,
    ablation_images,
    available_datasets,
    folder_key,
    image_access,
    read_image,
    unpack_dataset_zip,
)
from se_viz.figures.dataset import gate_histogram_figure
from se_viz.i18n import _
from se_viz.runs import RunControl

from . import cache, channel_views, intervention_views, many_views, runner, state
from .common import chart, friendly_errors
from .tables import readable

THUMB_PX = 128
#: Images offered at once by a name search (the rest: narrow the search).
MAX_OPTIONS = 500


def unpack_zip(data: bytes) -> str:
    """Unpack an uploaded, zipped gate dataset into a private folder (once per content) and return
    the folder; its archive is kept as the only place this dataset's images are read from."""
    digest = hashlib.sha256(data).hexdigest()

    def unpack() -> Upload:
        return unpack_dataset_zip(data, Path(tempfile.mkdtemp(prefix=f"se_viz_dataset_{digest[:12]}_")))

    upload = cache.kept(cache.dataset_result_key("dataset upload", digest), unpack)
    cache.kept(cache.dataset_result_key("dataset upload", upload.folder), lambda: upload)  # by folder
    return upload.folder


def _upload_of(path: str) -> Optional[Upload]:
    return cache.held(cache.dataset_result_key("dataset upload", path))


@dataclass
class OpenDataset:
    """An opened gate dataset with what every view needs: names and the labelled aggregates."""

    dataset: GateDataset
    names: list[str]
    aggregates: DatasetAggregates
    access: Optional[ImageAccess]
    key: str  # its content key (:func:`se_viz.datasets.serving.folder_key`)


def display_names(paths: Sequence[str]) -> list[str]:
    """Short image names for the views: the last folder and the file name."""
    return ["/".join(Path(p.split("::")[0]).parts[-2:]) for p in paths]


def _counted(control: RunControl, stage: str) -> Callable[[int, int], None]:
    """A fold's ``progress(done, total)`` that counts rows on the run's progress line and stops
    the read when the run is cancelled."""
    control.begin(stage)
    return lambda done, total: control.progress(
        done, total, _("{done} of {total} images").format(done=f"{done:,}", total=f"{total:,}")
    )


def _said_size(ds: GateDataset) -> str:
    size = read_size(ds)
    return _("{rows} images in {parts} part file(s), {mb} MB").format(
        rows=f"{size.rows:,}", parts=size.parts, mb=f"{size.bytes / 1e6:,.1f}"
    )


def _aggregates(
    ds: GateDataset, content: str, what: str, groups: Optional[Sequence], label: str, button: str
) -> Optional[DatasetAggregates]:
    """The aggregates of ``ds`` under ``groups``: held, cached on disk, or folded on the server's
    queue of heavy runs (its size and estimate said, progress counting rows, Cancel); None while
    the fold waits, runs or was cancelled."""
    key = cache.dataset_result_key(
        "dataset aggregates", content, what, tuple(groups) if groups is not None else ()
    )
    hit = cache.held(key)
    if hit is None:
        hit = cached_aggregates(ds, groups)  # an earlier fold's file: no gate column read
        if hit is not None:
            cache.keep(key, hit)
    if hit is not None:
        return hit
    k = len(set(groups)) if groups is not None else 0
    estimate = fold_seconds(ds, k, runner.WORKER_THREADS)

    def compute(control: RunControl) -> DatasetAggregates:
        counted = _counted(control, _("Summarising the gates"))
        return dataset_aggregates(ds, groups, threads=runner.WORKER_THREADS, progress=counted)

    return runner.run_button(key, label, button, compute, estimate, _said_size(ds), start=True)


def open_cached(path: str) -> Optional[OpenDataset]:
    """Open a gate dataset once per version (its content key): its per-image columns and its
    aggregates (folded on the queue of heavy runs the first time, then read from the cache next to
    it). None while the first fold waits, runs or was cancelled (its progress is on the page)."""
    key = folder_key(path)
    ds = cache.kept(
        cache.dataset_result_key("dataset rows", key, path),
        lambda: open_gate_dataset(path),
        _("Reading the gate dataset …"),
    )
    agg = _aggregates(
        ds,
        key,
        "labels",
        ds.labels if ds.has_labels else None,
        _("Summarise the gate dataset"),
        "dataset_open_run",  # se_viz/ui/open_timer.py clicks it
    )
    if agg is None:
        return None
    return cache.kept(
        cache.dataset_result_key("dataset", key, path),
        lambda: OpenDataset(
            ds, display_names(ds.paths), agg, image_access(path, ds.manifest, _upload_of(path)), key
        ),
    )


def grouped_aggregates(opened: OpenDataset, source: str, groups: np.ndarray) -> Optional[DatasetAggregates]:
    """The aggregates under one grouping (kept here and on disk, keyed by content); None while
    they are folded (see :func:`_aggregates`)."""
    return _aggregates(
        opened.dataset,
        opened.key,
        source,
        list(groups),
        _("Compute class statistics over the dataset"),
        "dataset_groups_run",
    )


class Thumbnails(Sequence[bytes]):
    """Thumbnails of a dataset's images, read on demand through its image access (a grey tile
    that says why when an image may not or cannot be read). What may be read depends on where the
    dataset is, so the keys name its folder as well as its content."""

    def __init__(self, opened: OpenDataset) -> None:
        self.paths = opened.dataset.paths
        self.access = opened.access
        self.key, self.folder = opened.key, opened.dataset.uri

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i):  # type: ignore[override]
        path = self.paths[i]
        return cache.kept(
            # per language: a tile that cannot show the image says why in the reader's words
            cache.dataset_result_key(f"dataset thumbnail {i18n.current()}", self.key, self.folder, path),
            lambda: _thumbnail(path, self.access),
        )


def _thumbnail(path: str, access: Optional[ImageAccess]) -> bytes:
    """The app's thumbnail of one dataset image, or a tile that says why there is none."""
    try:
        data = read_image(access, path)
        return cache.thumbnail_png(cache.image_digest(data), data)
    except ImageNotReadable as exc:
        return _tile(_(str(exc)))  # the reason is a catalogue message (datasets.access)
    except (OSError, se_viz.InputError, KeyError, ValueError):
        return _tile(_("cannot be read"))


@functools.cache
def _tile(reason: str) -> bytes:
    """A grey tile saying ``reason`` (in the reader's language: a CJK font draws Chinese)."""
    img = Image.new("RGB", (THUMB_PX, THUMB_PX), (220, 220, 220))
    draw = ImageDraw.Draw(img)
    face = fonts.font(12, cjk=not reason.isascii())
    for line_no, line in enumerate(fonts.wrap_to_width(reason, face, THUMB_PX - 16)):
        draw.text((8, 44 + 15 * line_no), line, fill=(60, 60, 60), font=face)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def dataset_path(choice: Optional[str], upload) -> Optional[str]:
    """The folder of the dataset to show: an upload wins over the picker."""
    if upload is not None:
        return unpack_zip(upload.getvalue())
    return choice


#: At most this many of a dataset's images are read back for the stage ablation (each condition
#: reruns the network on every image).
ABLATION_IMAGES = 200


def _ablation_inputs(opened: OpenDataset, lm) -> AblationImages:
    """Up to :data:`ABLATION_IMAGES` images the dataset may read (decoded once, so each is known
    to decode), with their class indices in the loaded model where every label is one of its names."""
    return cache.kept(
        cache.dataset_result_key("dataset images", opened.key, opened.dataset.uri, lm.name, tuple(lm.labels)),
        lambda: ablation_images(
            opened.dataset,
            opened.access,
            lm.labels,
            ABLATION_IMAGES,
            lambda data: cache.decoded_image(cache.image_digest(data), data),
        ),
        _("Reading the dataset's images …"),
    )


def render_dataset(path: str, lm=None) -> None:
    """The summary, the errors, the many-image views and (with a loaded model) the stage
    ablation over one gate dataset."""
    opened = open_cached(path)
    if opened is None:  # the first read is on the queue: its progress and Cancel are shown
        return
    ds = opened.dataset
    manifest = ds.manifest
    st.subheader(_("Gate dataset: {name}").format(name=Path(path).name))
    st.caption(
        _(
            "{n} images · {blocks} SE blocks of {model} · {dtype} · {labels} · read from Parquet: the "
            "network does not run again."
        ).format(
            n=f"{len(ds):,}",
            blocks=len(ds.blocks),
            model=manifest["model"]["id"],
            dtype=manifest.get("dtype", "float32"),
            labels=_("labelled") if ds.has_labels else _("no labels"),
        )
    )
    thumbs = Thumbnails(opened)
    views = {
        _("Summary"): lambda: _render_summary(opened),
        _("Compare"): lambda: _render_compare(opened, thumbs),
        _("Classes"): lambda: _render_classes(opened, thumbs),
        _("Channel atlas"): lambda: channel_views.render_dataset_atlas(
            ds,
            lambda image_path: read_image(opened.access, image_path),
            lm,
            state.model_choice() if lm is not None else None,
        ),
        _("Stage ablation"): lambda: _render_ablation(opened, lm),
        _("Unreadable files"): lambda: _render_errors(ds),
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
        _(
            "Per block over all images and channels: mean and std of the gates, fractions below "
            "0.1 and above 0.9, mean normalised entropy; with labels, class specificity "
            "(between-class over within-class spread of the gates). Computed over every image, "
            "streamed from the Parquet files."
        )
    )
    edges, counts = opened.aggregates.histograms()
    chart(
        gate_histogram_figure(edges, counts, opened.dataset.block_names, len(opened.dataset)),
        "dataset_histograms",
        "gate_histograms",
    )


def _find(names: Sequence[str], label: str, key: str) -> list[int]:
    """Rows whose name contains a searched text: at most :data:`MAX_OPTIONS`, said on screen."""
    text = st.text_input(label, key=key, placeholder=_("part of a file or folder name")).strip().lower()
    hits = [i for i, name in enumerate(names) if text in name.lower()] if text else list(range(len(names)))
    if len(hits) > MAX_OPTIONS:
        st.caption(
            _("{n} images match; the first {shown} are offered — type to narrow.").format(
                n=f"{len(hits):,}", shown=MAX_OPTIONS
            )
        )
    elif not hits:
        st.info(_("No image name contains that text."))
    return hits[:MAX_OPTIONS]


def _render_compare(opened: OpenDataset, thumbs: Thumbnails) -> None:
    ds, names = opened.dataset, opened.names
    if len(ds) < 2:
        st.info(_("The dataset holds fewer than two images."))
        return
    options = _find(names, _("Find images to compare"), "dataset_compare_find")
    key = f"dataset_compare_{hashlib.sha1(repr(options[:8]).encode()).hexdigest()[:8]}"
    chosen = many_views.pick_to_compare(options, names, key)
    if not chosen:
        return
    cap = ds.to_capture(chosen)  # only these rows are read
    many_views.render_compare_chosen(
        cap, list(range(len(chosen))), [names[i] for i in chosen], [thumbs[i] for i in chosen]
    )


def _group_options(opened: OpenDataset) -> dict[str, np.ndarray]:
    ds = opened.dataset
    return A.group_options(opened.names, ds.predictions, ds.labels if ds.has_labels else None)


def _render_classes(opened: OpenDataset, thumbs: Thumbnails) -> None:
    ds = opened.dataset
    if len(ds) < 2:
        st.info(_("The class views need at least two images."))
        return
    options = _group_options(opened)
    source = st.radio(_("Groups from"), list(options), horizontal=True, key="dataset_group_source")
    groups = options[source]
    agg = opened.aggregates if source == A.GIVEN_LABELS else grouped_aggregates(opened, source, groups)
    if agg is None:
        return
    classes, counts = np.unique(groups, return_counts=True)
    listed = ", ".join(f"{c} ({k})" for c, k in zip(classes[:12], counts[:12], strict=True))
    if len(classes) > 12:
        listed = _("{listed} and {more} more").format(listed=listed, more=len(classes) - 12)
    st.caption(
        _("{groups} group(s) over all {n} images: {listed}").format(
            groups=len(classes), n=f"{len(ds):,}", listed=listed
        )
    )
    blocks = st.multiselect(
        _("SE blocks (default: the paper's — last block of each stage, every block of the last stage)"),
        ds.block_names,
        default=A.paper_blocks(ds.blocks),
        key="dataset_blocks",
    )
    subset = many_views.SUBSETS[
        st.radio(_("Channels per block"), list(many_views.SUBSETS), horizontal=True, key="dataset_subset")
    ]
    if len(classes) >= 2 and blocks:
        profiles = agg.class_profiles(blocks)
        st.subheader(_("Role of excitation (Fig. 6)"))
        chart(F.class_profile_figure(profiles, blocks, subset=subset), "dataset_fig6", "fig6")
        st.caption(F.PAPER_FIG6)
        st.subheader(_("Within one class (Fig. 7)"))
        cls = st.selectbox(_("Class"), list(classes), index=int(np.argmax(counts)), key="dataset_band_class")
        chart(F.class_band_figure(profiles, cls, blocks, subset=subset), "dataset_fig7", "fig7")
        st.caption(F.PAPER_FIG7)
        st.subheader(_("Class specificity against depth"))
        spec = agg.specificity()
        if min(spec.counts) < 2:
            st.info(_("Class specificity needs at least two images in every class."))
        else:
            chart(F.specificity_figure(spec), "dataset_specificity", "specificity")
        st.caption(F.PAPER_SPECIFICITY)
    elif len(classes) < 2:
        st.warning(_("All images fall into one group: choose another grouping to compare classes."))
    st.subheader(_("Saturation"))
    table = agg.saturation_table()
    chart(F.saturation_figure(table), "dataset_saturation", "saturation")
    st.markdown("\n".join(f"- {s}" for s in A.saturation_sentences(table)))
    _render_neighbours(opened, thumbs, groups)


def _nearest(opened: OpenDataset, query: int, blocks: tuple[str, ...], k: int):
    """The nearest images, searched over every row on the queue of heavy runs (None meanwhile)."""
    ds = opened.dataset

    def compute(control: RunControl):
        counted = _counted(control, _("Searching every image for the nearest ones"))
        return dataset_nearest(ds, query, list(blocks), k, opened.names, progress=counted)

    return runner.run_button(
        cache.dataset_result_key("dataset nearest", opened.key, query, blocks, k),
        _("Search every image for the nearest ones"),
        "dataset_nearest_run",
        compute,
        nearest_seconds(ds, blocks),
        _said_size(ds),
        start=True,
    )


def _map(opened: OpenDataset, blocks: tuple[str, ...]):
    return cache.kept(
        cache.dataset_result_key("dataset map", opened.key, blocks),
        lambda: dataset_pca(opened.dataset, list(blocks)),
        _("Reading a sample of gate vectors for the map …"),
    )


def _render_neighbours(opened: OpenDataset, thumbs: Thumbnails, groups: np.ndarray) -> None:
    ds, names = opened.dataset, opened.names
    st.subheader(_("Images recalibrated alike"))
    scopes = A.vector_scopes(ds.blocks)
    labels = list(scopes)
    stage_labels = [s for s in labels if s not in ds.block_names]
    left, mid, right = st.columns([2, 2, 1])
    with left:
        options = _find(names, _("Find the image"), "dataset_query_find")
    if not options:
        return
    query = left.selectbox(
        _("Image"), options, format_func=lambda i: str(names[i]), key=f"dataset_query_{len(options)}"
    )
    where = mid.selectbox(
        _("Gates of"),
        labels,
        index=labels.index(stage_labels[-1]) if stage_labels else 0,
        key="dataset_scope",
        help=_("a stage concatenates the gates of all its blocks"),
    )
    k = right.slider("k", 1, max(2, min(12, len(ds) - 1)), min(5, len(ds) - 1), key="dataset_k")
    near = _nearest(opened, int(query), tuple(scopes[where]), int(k))
    if near is None:
        return
    st.markdown(
        _(
            "The {k} image(s), of all {n}, whose gates at **{where}** point most nearly the same way "
            "as those of **{query}** (cosine distance):"
        ).format(k=len(near), n=f"{len(ds):,}", where=where, query=names[query])
    )
    shown = [int(query)] + near["image"].tolist()
    cols = st.columns(len(shown))
    captions = [_("{name} (chosen)").format(name=names[query])] + [
        f"{r.name} · {r.distance:.4f}" for r in near.itertuples()
    ]
    for col, i, caption in zip(cols, shown, captions, strict=True):
        col.image(thumbs[i], caption=caption, width=many_views.THUMB_PX)
    rows, pca = _map(opened, tuple(scopes[where]))
    at = np.flatnonzero(rows == int(query))
    highlight = int(at[0]) if at.size else None
    chart(
        F.pca_figure(pca, groups[rows], [names[i] for i in rows], where=where, highlight=highlight),
        "dataset_pca",
        "pca",
    )
    if len(rows) < len(ds):
        st.caption(
            _(
                "The map shows a uniform sample of {shown} of the {n} images (seeded, the same on every "
                "open; at most {most}); its axes are the principal axes of that sample. The nearest "
                "images above are searched over every image."
            ).format(shown=f"{len(rows):,}", n=f"{len(ds):,}", most=f"{MAP_SAMPLE:,}")
        )


def _render_ablation(opened: OpenDataset, lm) -> None:
    if lm is None:
        st.info(_("Load a model to ablate its SE blocks over this dataset's images."))
        return
    inputs = _ablation_inputs(opened, lm)
    n = len(opened.dataset)
    reason = opened.access.reason if opened.access is not None else _("not readable here")
    if n > ABLATION_IMAGES:
        first = _(
            "Reruns the loaded model ({model}) on {used} of the dataset's {n} images (at most {most}, "
            "the first that can be read)"
        )
    else:
        first = _("Reruns the loaded model ({model}) on {used} of the dataset's {n} images")
    parts = [first.format(model=lm.display_name, used=len(inputs.images), n=f"{n:,}", most=ABLATION_IMAGES)]
    if inputs.refused:
        parts.append(_("{n} are {reason} and are not used").format(n=f"{inputs.refused:,}", reason=reason))
    if inputs.unreadable:
        parts.append(_("{n} could not be decoded").format(n=f"{inputs.unreadable:,}"))
    st.caption(
        _("{parts}. Labels are used when they are the model's class names.").format(parts="; ".join(parts))
    )
    choice, fit = state.model_choice(), state.fit()
    networked = [cache.network_input(data, choice, fit) for data in inputs.images]
    intervention_views.render_set_ablation(lm, choice, fit, networked, inputs.labels)


def _render_errors(ds: GateDataset) -> None:
    errors = ds.errors
    if errors.empty:
        st.success(_("Every input file was read."))
    else:
        st.table(readable(errors), hide_index=True)


__all__ = [
    "OpenDataset",
    "Thumbnails",
    "available_datasets",
    "dataset_path",
    "display_names",
    "open_cached",
    "render_dataset",
    "unpack_zip",
]
