"""Views of many images at once: compare a few, the paper's "role of excitation" on your own
classes, saturated blocks, images recalibrated alike, and the offline demonstration.

These functions only draw. Data comes in as arguments — one stacked :class:`~se_viz.Capture` of
all images (uploads, the demonstration, or a gate dataset's ``to_capture()``), their names, PNG
thumbnails, optional labels and the :class:`~se_viz.LoadedModel` for class names — and no view
runs the network (only :func:`render_demo_button` queues it, when clicked). Widget keys start with
``many_``; the views write no other session state. Computation lives in :mod:`se_viz.analysis`,
figures in :mod:`se_viz.figures.many`.
"""

from __future__ import annotations

import hashlib
from typing import Optional, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from se_viz import Capture, LoadedModel
from se_viz import analysis as A
from se_viz import figures as F
from se_viz.demo import synthetic
from se_viz.demo.gate_set import GateSet, demo_gate_set, demo_seconds
from se_viz.i18n import _, class_name, ngettext
from se_viz.loading.choice import is_teaching
from se_viz.runs import RunControl

from . import cache, runner
from .common import chart
from .tables import readable

__all__ = [
    "pick_to_compare",
    "render_classes",
    "render_compare",
    "render_compare_chosen",
    "render_demo_button",
    "subset_label",
]

SUBSETS = {
    f"{A.CHANNEL_SUBSET} sampled channels (seed {A.CHANNEL_SEED}, as the paper)": A.CHANNEL_SUBSET,
    "all channels": None,
}
THUMB_PX = 96


def subset_label(option: str) -> str:
    """A choice of :data:`SUBSETS` in the reader's language (the keys stay the identifiers)."""
    if SUBSETS[option] is None:
        return _("all channels")
    return _("{n} sampled channels (seed {seed}, as the paper)").format(
        n=A.CHANNEL_SUBSET, seed=A.CHANNEL_SEED
    )


def _show(fig: go.Figure, key: str) -> None:
    chart(fig, key, key)


def _sig(*parts: object) -> str:
    """A short tag of what a widget's options depend on, so changed options get a fresh widget."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:8]


def _thumbs(
    indices: Sequence[int],
    names: Sequence[str],
    thumbs: Optional[Sequence[bytes]],
    captions: Optional[Sequence[str]] = None,
) -> None:
    if not thumbs or not len(indices):
        return
    cols = st.columns(len(indices))
    for col, i, cap in zip(cols, indices, captions or [names[i] for i in indices], strict=True):
        col.image(thumbs[i], caption=cap, width=THUMB_PX)


# --------------------------------------------------------------------------------------------
# Compare


def render_compare(cap: Capture, names: Sequence[str], thumbs: Optional[Sequence[bytes]] = None) -> None:
    """Two to four images side by side: gate heatmaps on one scale, their difference, and the
    distance between their gate vectors against depth, with a sentence on where they part."""
    n = cap.num_images
    if n < 2:
        st.info(_("Compare puts the gates of two to four images side by side: add at least one more image."))
        return
    chosen = pick_to_compare(list(range(n)), names, f"many_compare_images_{_sig(n)}")
    if chosen:
        render_compare_chosen(cap, chosen, names, thumbs)


def pick_to_compare(options: Sequence[int], names: Sequence[str], key: str) -> Optional[list[int]]:
    """The picker of 2–4 images among rows ``options`` (the first two by default): the rows
    picked, or None (and a word) when fewer than two are."""
    chosen = st.multiselect(
        _("Images to compare (2–4)"),
        options=list(options),
        default=list(options[:2]),
        max_selections=4,
        format_func=lambda i: str(names[i]),
        key=key,
    )
    if len(chosen) < 2:
        st.info(_("Pick at least two images."))
        return None
    return chosen


def render_compare_chosen(
    cap: Capture, chosen: Sequence[int], names: Sequence[str], thumbs: Optional[Sequence[bytes]] = None
) -> None:
    """The compare view of images ``chosen`` (rows of ``cap``), without the picker: a gate
    dataset picks its images its own way and passes only their rows."""
    _thumbs(chosen, names, thumbs)
    _show(F.compare_heatmaps(cap, chosen, names), key="many_compare_heatmaps")
    table = A.pairwise_block_distances(cap.gates, chosen, names, cap.block_names)
    _show(F.distance_figure(table), key="many_compare_distance")
    lines = []
    for pair, rows in table.groupby("pair", sort=False):
        alike = rows.loc[rows["cosine"].idxmin()]
        apart = rows.loc[rows["cosine"].idxmax()]
        lines.append(
            "- "
            + _(
                "**{pair}**: most alike at {alike} (cosine distance {alike_d}), most different at "
                "{apart} ({apart_d})."
            ).format(
                pair=pair,
                alike=alike["block"],
                alike_d=f"{alike['cosine']:.3f}",
                apart=apart["block"],
                apart_d=f"{apart['cosine']:.3f}",
            )
        )
    st.markdown("\n".join(lines))


# --------------------------------------------------------------------------------------------
# Classes


def _group_options(
    cap: Capture, names: Sequence[str], class_names: Optional[Sequence[str]], labels: Optional[Sequence]
) -> dict[str, np.ndarray]:
    return A.group_options(names, A.groups_from_predictions(cap.logits, class_names), labels)


def render_classes(
    cap: Capture,
    names: Sequence[str],
    thumbs: Optional[Sequence[bytes]] = None,
    class_names: Optional[Sequence[str]] = None,
    labels: Optional[Sequence] = None,
) -> None:
    """The class views on a stacked capture: grouping, the paper's Fig. 6 with its caption,
    Fig. 7 within one class, class specificity against depth, saturation flags in words, and
    the nearest images with a PCA map.

    ``labels`` (N,) are classes known in advance (the demonstration's true classes, a gate
    dataset's labels); without them groups come from the predicted class (names from
    ``class_names``, the model's labels), file-name prefixes or folders (names like ``"pug/1.jpg"``).
    """
    n = cap.num_images
    if n < 2:
        st.info(
            _(
                "The class views compare the gates of groups of images, so they need at least two (and "
                "two of each kind for class specificity): add images, or analyse the generated set "
                "(button above)."
            )
        )
        return
    options = _group_options(cap, names, class_names, labels)
    source = st.radio(
        _("Groups from"),
        list(options),
        horizontal=True,
        key=f"many_group_source_{_sig(*options)}",
        format_func=_,
        help=_(
            "given labels: classes that came with the images (the demonstration, a gate "
            "dataset) · predicted class: the network's top-1 · file-name prefix: 'pug_01.jpg' "
            "→ pug · folder: one folder per class (e.g. from a ZIP)"
        ),
    )
    groups = options[source]
    classes, counts = np.unique(groups, return_counts=True)
    # Translators: the separator between the items of a list (class names).
    listed = _(", ").join(
        f"{class_name(str(c))} ({k})" for c, k in zip(classes[:12], counts[:12], strict=True)
    )
    if len(classes) > 12:
        st.caption(
            _("{n} group(s): {groups} and {more} more").format(
                n=len(classes), groups=listed, more=len(classes) - 12
            )
        )
    else:
        st.caption(_("{n} group(s): {groups}").format(n=len(classes), groups=listed))
    many_classes = len(classes) >= 2
    if not many_classes:
        st.warning(
            _(
                "All images fall into one group, so there is nothing to compare between classes; "
                "choose another grouping or add images of other kinds. Saturation and nearest images "
                "are shown below."
            )
        )

    block_names = cap.block_names
    blocks = st.multiselect(
        _("SE blocks (default: the paper's — last block of each stage, every block of the last stage)"),
        block_names,
        default=A.paper_blocks(cap.blocks),
        key=f"many_blocks_{_sig(*block_names)}",
    )
    subset_key = st.radio(
        _("Channels per block"), list(SUBSETS), horizontal=True, key="many_subset", format_func=subset_label
    )
    subset = SUBSETS[subset_key]

    if many_classes and blocks:
        profiles = A.class_profiles(cap.gates, groups, blocks)
        st.subheader(_("Role of excitation (Fig. 6)"))
        _show(F.class_profile_figure(profiles, blocks, subset=subset), key="many_fig6")
        st.caption(_(F.PAPER_FIG6))

        st.subheader(_("Within one class (Fig. 7)"))
        largest = int(np.argmax(counts))
        cls = st.selectbox(
            _("Class"),
            list(classes),
            index=largest,
            key=f"many_band_class_{_sig(source, *classes)}",
            format_func=lambda c: class_name(str(c)),
        )
        _show(F.class_band_figure(profiles, cls, blocks, subset=subset), key="many_fig7")
        st.caption(_(F.PAPER_FIG7))
    elif many_classes:
        st.info(_("Choose at least one SE block for the class profiles."))

    if many_classes:
        st.subheader(_("Class specificity against depth"))
        spec = A.class_specificity(cap.gates, groups, cap.blocks)
        if min(spec.counts) < 2:
            # With one image in a class its spread is 0 and the ratio infinite: nothing to read.
            st.info(
                _(
                    "Class specificity compares how much gates differ between classes with how much "
                    "they differ within one, so every class needs at least two images. Add more "
                    "images per class, or run the offline demonstration above."
                )
            )
        else:
            _show(F.specificity_figure(spec), key="many_specificity")
            top = max(spec.blocks, key=lambda b: b.ratio)
            low = min(spec.blocks, key=lambda b: b.ratio)
            st.markdown(
                _(
                    "Most class-specific: **{top}** (between / within = {top_ratio}); least: **{low}** "
                    "({low_ratio})."
                ).format(
                    top=top.name, top_ratio=f"{top.ratio:.2f}", low=low.name, low_ratio=f"{low.ratio:.2f}"
                )
            )
        st.caption(_(F.PAPER_SPECIFICITY))

    st.subheader(_("Saturation"))
    table = A.saturation_table(cap.gates, block_names)
    _show(F.saturation_figure(table), key="many_saturation")
    st.markdown("\n".join(f"- {s}" for s in A.saturation_sentences(table)))
    st.caption(
        _(
            "A block is flagged close to identity when its mean gate is at least {mean} and at least "
            "{fraction} of its gates are above 0.9 (over all images and channels)."
        ).format(mean=A.NEAR_IDENTITY_MEAN, fraction=f"{A.NEAR_IDENTITY_FRACTION:.0%}")
        + f" {_(F.PAPER_SATURATION)} {_(F.PAPER_PRUNING)}"
    )

    _render_neighbours(cap, names, thumbs, groups)


def _render_neighbours(
    cap: Capture, names: Sequence[str], thumbs: Optional[Sequence[bytes]], groups: np.ndarray
) -> None:
    n = cap.num_images
    st.subheader(_("Images recalibrated alike"))
    scopes = A.vector_scopes(cap.blocks)
    labels = list(scopes)
    stage_labels = [s for s in labels if s not in cap.block_names]
    default = labels.index(stage_labels[-1]) if stage_labels else 0
    left, mid, right = st.columns([2, 2, 1])
    query = left.selectbox(
        _("Image"), list(range(n)), format_func=lambda i: str(names[i]), key=f"many_query_{_sig(n)}"
    )
    where = mid.selectbox(
        _("Gates of"),
        labels,
        index=default,
        key=f"many_scope_{_sig(*labels)}",
        help=_("a stage concatenates the gates of all its blocks"),
    )
    k = right.slider("k", 1, max(1, min(12, n - 1)), min(5, n - 1), key="many_k") if n > 2 else 1
    vectors = A.gate_vectors(cap.gates, scopes[where])
    near = A.nearest_images(vectors, query, k, names)
    st.markdown(
        _(
            "The {k} image(s) whose gates at **{where}** point most nearly the same way as those of "
            "**{image}** (cosine distance):"
        ).format(k=len(near), where=where, image=names[query])
    )
    _thumbs(
        [query] + near["image"].tolist(),
        names,
        thumbs,
        [_("{image} (chosen)").format(image=names[query])]
        + [f"{r.name} · {r.distance:.4f}" for r in near.itertuples()],
    )
    if not thumbs:
        st.dataframe(readable(near), hide_index=True)
    pca = A.gate_pca(vectors)
    _show(F.pca_figure(pca, groups, names, where=where, highlight=query), key="many_pca")


# --------------------------------------------------------------------------------------------
# The offline demonstration


def render_demo_button(
    lm: Optional[LoadedModel], per_class: int = 30, seed: int = 0, key: str = "many_demo"
) -> Optional[GateSet]:
    """A button that generates ``per_class`` images of each of the mini model's classes and
    captures them (:func:`~se_viz.demo.gate_set.demo_gate_set`) on the server's queue of heavy
    runs, its size and measured cost said before the click, with progress and Cancel; returns the
    :class:`~se_viz.demo.gate_set.GateSet` once per click, on the run after it is ready, else
    ``None`` (the caller keeps it, e.g. in its state).
    """
    total = per_class * len(synthetic.CLASSES)
    if lm is None:
        st.info(_("Load a model to run the demonstration (SE-ResNet mini works offline)."))
        return None
    mini = is_teaching(lm.entry)
    if not mini:
        st.caption(
            _(
                "The demonstration's images are the mini model's synthetic shapes; with another model "
                "their gates say little. Choose SE-ResNet mini for meaningful class structure."
            )
        )
    costs = runner.measured_costs(lm)  # once per model; the estimate is said before the click

    def compute(control: RunControl) -> GateSet:
        control.begin(_("running the network on generated images"))
        counted = _("{done} of {n} images")
        with control.inside(lm.model):
            return demo_gate_set(
                lm,
                per_class=per_class,
                seed=seed,
                progress=lambda done, n: control.progress(done, n, counted.format(done=done, n=n)),
            )

    return runner.run_button(
        cache.loaded_model_key("demo set", lm, per_class, seed),
        _("Analyse {n} generated images").format(n=total),
        key,
        compute,
        demo_seconds(lm, costs, per_class),
        ngettext("{n} image", "{n} images", total).format(n=total),
        each_click=True,
        icon=":material/science:",
        primary=mini,
    )
