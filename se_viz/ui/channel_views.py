"""The Channels tab: a channel's gate atlas, pruning by gates against baselines, and deletion /
insertion curves. The views only draw; every number comes from :mod:`se_viz.channels`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from se_viz import Capture, LoadedModel, capture, cost
from se_viz.channels import (
    FRACTIONS,
    NETWORK,
    ChannelAtlas,
    atlas_of_capture,
    channel_maps,
    dataset_atlas,
    faithfulness_curves,
    prune_curves,
    standard_rankings,
)
from se_viz.channels.images import ImageSet, fitting_sets, generated_set, plain_set
from se_viz.datasets.access import ImageNotReadable
from se_viz.datasets.aggregate import dataset_key
from se_viz.datasets.reader import GateDataset
from se_viz.datasets.sources import file_name
from se_viz.errors import InputError
from se_viz.figures import channels as fig_ch
from se_viz.i18n import N_, _, class_name
from se_viz.loading.choice import ModelChoice
from se_viz.loading.fit import FITS
from se_viz.loading.images import load_image
from se_viz.runs import RunControl

from . import many_views, runner, state
from .cache import batch_of, dataset_result_key, kept, result_key, result_store
from .common import chart, slug
from .tables import readable

__all__ = ["QUESTIONS", "render_channels", "render_dataset_atlas"]

QUESTIONS = [state.ATLAS_QUESTION, "pruning", "faithfulness"]
YOURS, DEMO, GENERATED, PLAIN = "your images", state.DEMO_SOURCE, "generated shapes", "plain drawings"
#: The questions and image sets are identifiers (state, links, tests); these are their names on screen.
SHOWN = {
    state.ATLAS_QUESTION: N_("gate atlas"),
    "pruning": N_("pruning"),
    "faithfulness": N_("faithfulness"),
    YOURS: N_("your images"),
    DEMO: N_("the offline demonstration"),
    GENERATED: N_("generated shapes"),
    PLAIN: N_("plain drawings"),
}


#: What the atlas ranks by (identifiers; shown translated).
RANK_BY = [N_("gate s"), N_("squeeze z")]
#: The deletion / insertion table's columns on screen.
FAITH_COLUMNS = {
    "ranking": N_("ranking"),
    "deletion_auc": N_("deletion AUC"),
    "deletion_vs_random": N_("deletion − random"),
    "insertion_auc": N_("insertion AUC"),
    "insertion_vs_random": N_("insertion − random"),
}
#: The pruning table's columns on screen (``PruningCurves.table``; min/max columns follow their measure).
PRUNE_COLUMNS = {
    "ranking": N_("ranking"),
    "fraction": N_("fraction pruned"),
    "repeats": N_("repeats"),
    "agreement": N_("top-1 agreement"),
    "agreement_min": N_("top-1 agreement (min)"),
    "agreement_max": N_("top-1 agreement (max)"),
    "delta_logprob": N_("Δ log p (nats)"),
    "delta_logprob_min": N_("Δ log p (nats, min)"),
    "delta_logprob_max": N_("Δ log p (nats, max)"),
    "accuracy": N_("top-1 accuracy"),
    "accuracy_min": N_("top-1 accuracy (min)"),
    "accuracy_max": N_("top-1 accuracy (max)"),
    "macs_removed": N_("multiply-adds removed"),
    "macs_removed_min": N_("multiply-adds removed (min)"),
    "macs_removed_max": N_("multiply-adds removed (max)"),
}


def _prune_table(table: pd.DataFrame) -> pd.DataFrame:
    """The pruning table with its headings and ranking names in the reader's language (the data,
    and the CSV/JSON the command line writes, keep the English keys)."""
    table = table.assign(ranking=[_(k) for k in table["ranking"]])
    return table.rename(columns={c: _(PRUNE_COLUMNS[c]) for c in table.columns if c in PRUNE_COLUMNS})


def _shown(value: str) -> str:
    """An option's name in the reader's language."""
    return _(SHOWN.get(value, value))


STUDY_SIZES = (10, 20, 30, 60, 100, 200)
#: A study's default size is the largest that finishes in about this many seconds (issue 27.1).
BUDGET_SECONDS = 60
#: Rows of one batched rerun in the app: a step of the chain then takes about a second on
#: SE-ResNet-50 with one thread, so Cancel stops a run that soon, and memory stays near 1 GB.
APP_ROWS = 64
RANKING_BATCH = 8
FAITH_REPEATS = 5


@dataclass
class AtlasSource:
    """A set the atlas ranks: its capture, names, true classes (None: unknown), how each image looks
    to the network, and how to make the network's input of some of its images."""

    name: str
    cap: Capture
    names: list[str]
    labels: Optional[list[Optional[str]]]
    view: Callable[[int], np.ndarray]
    batch: Callable[[Sequence[int]], torch.Tensor]
    digests: tuple[str, ...]  # the files' SHA-256 (empty for a generated set, named by `params`)
    params: tuple = ()


def _png_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _sources(analysed: Sequence, lm: LoadedModel, choice: ModelChoice, fit: str) -> dict[str, AtlasSource]:
    """Your images (always) and the offline demonstration's set (once made in this session)."""
    out = {
        YOURS: AtlasSource(
            YOURS,
            Capture.concat([a.cap for a in analysed]),
            [a.name for a in analysed],
            None,
            lambda i: np.asarray(_png_image(analysed[i].view)),
            lambda rows: batch_of([analysed[i].input for i in rows], lm),
            tuple(a.digest for a in analysed),
        )
    }
    demo = state.demo_set(choice.key)
    if demo is not None:
        out[DEMO] = AtlasSource(
            DEMO,
            demo.capture,
            list(demo.names),
            list(demo.labels),
            lambda i: np.asarray(lm.input_view(_png_image(demo.thumbnails[i]))),
            lambda rows: lm.preprocess([_png_image(demo.thumbnails[i]) for i in rows]),
            (),
            ("demo", len(demo.names)),
        )
    return out


def render_channels(analysed: Sequence, lm: LoadedModel, choice: ModelChoice, fit: str) -> None:
    """The Channels tab: pick a question, then its set and parameters."""
    # The question and (for the atlas) the demonstration's button share one line: on a projector
    # the first chart must start above the fold.
    top = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    with top:
        what = (
            st.segmented_control(
                _("Question"),
                QUESTIONS,
                format_func=_shown,
                key=state.CHANNELS_QUESTION,
                # The drill-down's atlas button sets the question itself; a default as well would warn.
                default=None if state.CHANNELS_QUESTION in st.session_state else QUESTIONS[0],
                required=True,
            )
            or QUESTIONS[0]
        )
    if what == state.ATLAS_QUESTION:
        made = None
        if state.demo_set(choice.key) is None:
            with top:
                made = many_views.render_demo_button(lm, key="channels_demo")
        if made is not None:
            state.keep_demo_set(choice.key, made)
            state.show_in_atlas(DEMO)
        render_atlas(_sources(analysed, lm, choice, fit), lm, choice, fit)
    elif what == "pruning":
        render_pruning(analysed, lm, choice, fit)
    else:
        render_faithfulness(analysed, lm, choice, fit)


# --------------------------------------------------------------------------------------------
# Atlas


def render_atlas(sources: dict[str, AtlasSource], lm: LoadedModel, choice: ModelChoice, fit: str) -> None:
    """Top and bottom images of one channel with u_c laid over them, their class mix, the histogram."""
    st.caption(
        _(
            "What opens this gate? Upper row: the images with the highest gate s_c; lower row: the lowest; "
            "each with u_c, the map the gate multiplies, laid over it (recomputed for these images only)."
        )
    )
    names = [b.name for b in lm.blocks]
    labels = {b.name: b.label for b in lm.blocks}
    state.keep_offered(state.ATLAS_BLOCK, names, names[-1])
    row = st.container(horizontal=True, gap="medium")
    with row:
        options = list(sources)
        source = st.selectbox(
            _("Images"),
            options,
            index=len(options) - 1,
            key=state.ATLAS_SOURCE,
            format_func=_shown,
            width=190,
        )
        block = st.selectbox(
            _("SE block"), names, key=state.ATLAS_BLOCK, format_func=lambda n: labels.get(n, n), width=250
        )
        info = next(b for b in lm.blocks if b.name == block)
        state.keep_channel(state.ATLAS_CHANNEL, info.channels)
        channel = int(
            st.number_input(
                _("Channel (0–{last})").format(last=info.channels - 1),
                0,
                info.channels - 1,
                key=state.ATLAS_CHANNEL,
                width=150,
            )
        )
    src = sources[source]
    n = src.cap.num_images
    if n < 2:
        st.info(
            _(
                "One image makes no atlas: it ranks images from the highest gate to the lowest, so it "
                "needs at least two. Add images, or analyse the offline demonstration's generated set "
                "(button above)."
            )
        )
        return
    most = min(12, n // 2)  # the top and bottom rows never share an image
    with row:
        if most > 1:
            # A new largest k makes a new slider (Streamlit names it by its range too), so a k chosen
            # for a larger set never lands outside this one's range.
            k = st.slider(_("k (images per row)"), 1, most, min(6, most), key="atlas_k", width=190)
        else:
            k = 1
        quantity = st.segmented_control(
            _("Rank by"),
            RANK_BY,
            default="gate s",
            key="atlas_by",
            required=True,
            format_func=_,
        )
    by = "s" if quantity != "squeeze z" else "z"
    if most == 1:
        st.caption(
            _(
                "One image per row: with {n} images the rows show the highest and the lowest one. Each row "
                "takes at most half of the images, so from four images on you can choose how many it shows."
            ).format(n=n)
        )
    atlas = atlas_of_capture(
        src.cap, block, channel, k, names=src.names, labels=src.labels, class_names=lm.labels, quantity=by
    )
    rows = [r.index for r in atlas.top + atlas.bottom]
    key = result_key("atlas maps", src.digests, choice, fit, *src.params, block, channel, tuple(rows))
    maps = result_store().get(key, lambda: channel_maps(lm.model, src.batch(rows), lm.blocks, block, channel))
    atlas.with_maps(maps[: len(atlas.top)], maps[len(atlas.top) :])
    views = [src.view(i) for i in rows]
    chart(
        fig_ch.atlas_figure(
            atlas, views[: len(atlas.top)], views[len(atlas.top) :], block_label=labels[block]
        ),
        "atlas_grid",
        f"atlas_{block}_c{channel}_{slug(source)}",
    )
    _purity(atlas)
    chart(
        fig_ch.atlas_histogram(atlas, block_label=labels[block]),
        "atlas_hist",
        f"atlas_histogram_{block}_c{channel}_{slug(source)}",
    )


def render_dataset_atlas(
    ds: GateDataset,
    read: Callable[[str], bytes],
    lm: Optional[LoadedModel],
    choice: Optional[ModelChoice],
) -> None:
    """The atlas over a gate dataset: ranked by streaming its gate (or squeeze) column. The 2k shown
    images are read through ``read`` (the dataset's image access, so never a server path that an
    upload names) and their u_c recomputed when they are readable and the dataset's model is loaded;
    else the ranked rows are listed."""
    labels = {b.name: b.label for b in ds.blocks}
    names = ds.block_names
    row = st.container(horizontal=True, gap="medium")
    with row:
        block = st.selectbox(
            _("SE block"),
            names,
            index=len(names) - 1,
            key="ds_atlas_block",
            format_func=lambda n: labels[n],
            width=300,
        )
        width = next(b.channels for b in ds.blocks if b.name == block)
        channel = int(
            st.number_input(
                _("Channel (0–{last})").format(last=width - 1),
                0,
                width - 1,
                key="ds_atlas_channel",
                width=170,
            )
        )
        k = st.slider(_("k (images per row)"), 1, 12, 6, key="ds_atlas_k", width=240)
        by = st.segmented_control(
            _("Rank by"), RANK_BY, default="gate s", key="ds_atlas_by", required=True, format_func=_
        )
    quantity = "z" if by == "squeeze z" else "s"
    params = (dataset_key(ds), block, channel, k, quantity)  # a dataset is named by its content
    key = dataset_result_key("dataset atlas", *params)
    atlas = kept(key, lambda: dataset_atlas(ds, block, channel, k, quantity=quantity))
    rows = atlas.top + atlas.bottom
    same_model = (
        lm is not None and lm.name == ds.manifest["model"]["id"] and block in {b.name for b in lm.blocks}
    )
    try:
        images = [load_image(read(r.path), name=file_name(r.path)) for r in rows] if same_model else None
    except (OSError, KeyError, ValueError, InputError, ImageNotReadable):
        images = None
    if images is not None and lm is not None and choice is not None:
        maps = kept(
            result_key("dataset atlas maps", (), choice, FITS[0], *params),
            lambda: channel_maps(lm.model, lm.preprocess(images), lm.blocks, block, channel),
        )
        atlas.with_maps(maps[: len(atlas.top)], maps[len(atlas.top) :])
        views = [np.asarray(lm.input_view(img)) for img in images]
        chart(
            fig_ch.atlas_figure(
                atlas, views[: len(atlas.top)], views[len(atlas.top) :], block_label=labels[block]
            ),
            "ds_atlas_grid",
            f"atlas_{block}_c{channel}_dataset",
        )
    else:
        st.info(
            _(
                "The images are listed, not shown: they are not readable from this computer, or the "
                "dataset's model is not the one loaded (its feature maps need that model)."
            )
        )
        st.dataframe(readable(pd.DataFrame([r.to_json() for r in rows])), hide_index=True)
    _purity(atlas)
    chart(
        fig_ch.atlas_histogram(atlas, block_label=labels[block]),
        "ds_atlas_hist",
        f"atlas_histogram_{block}_c{channel}",
    )


def _purity(atlas: ChannelAtlas) -> None:
    left, right = st.columns(2)
    by_label = {
        ("top", True): N_("**Class mix of the top {k}** (by true class) — purity {purity} %"),
        ("top", False): N_(
            "**Class mix of the top {k}** (by the network's prediction, no labels) — purity {purity} %"
        ),
        ("bottom", True): N_("**Class mix of the bottom {k}** (by true class) — purity {purity} %"),
        ("bottom", False): N_(
            "**Class mix of the bottom {k}** (by the network's prediction, no labels) — purity {purity} %"
        ),
    }
    for col, side, p in ((left, "top", atlas.purity), (right, "bottom", atlas.bottom_purity)):
        col.markdown(
            _(by_label[side, p.by == "label"]).format(
                k=len(atlas.top if side == "top" else atlas.bottom), purity=f"{100 * p.purity:.0f}"
            )
        )
        col.table(
            pd.DataFrame(
                {_("class"): [class_name(c) for c in p.counts], _("images"): list(p.counts.values())}
            ),
            hide_index=True,
        )


# --------------------------------------------------------------------------------------------
# Pruning and faithfulness: the shared set and rankings


def _fitting_size(seconds: Callable[[int], float]) -> int:
    """The largest study size whose estimate stays within :data:`BUDGET_SECONDS` (else the smallest)."""
    fits = [n for n in STUDY_SIZES if seconds(n) <= BUDGET_SECONDS]
    return fits[-1] if fits else STUDY_SIZES[0]


def _study_set(
    analysed: Sequence, lm: LoadedModel, fit: str, prefix: str, seconds: Callable[[int], float]
) -> Optional[tuple]:
    """The images a pruning / faithfulness study runs on: ``((digests, params), make, n)``, the files'
    SHA-256 (none for a generated set) and the parameters that name the set, for a :class:`ResultKey`;
    ``seconds(n)`` estimates the study on n images (the default size fits the budget)."""
    row = st.container(horizontal=True, gap="medium")
    # A network that does not know the offline sets' classes (an ImageNet network and drawn shapes)
    # starts on the user's images; the sets stay offered, saying what they are to it.
    known = bool(fitting_sets(lm))
    options = [GENERATED, PLAIN, YOURS] if known else [YOURS, GENERATED, PLAIN]
    with row:
        source = st.selectbox(
            _("Images"),
            options,
            key=f"{prefix}_source",
            format_func=lambda o: (
                _shown(o)
                if known or o == YOURS
                else _("{images} (not what this network was trained on)").format(images=_shown(o))
            ),
            width=230 if known else 420,
        )
        n = len(analysed)
        if source != YOURS:
            n = st.select_slider(
                _("Number of images"), STUDY_SIZES, value=_fitting_size(seconds), key=f"{prefix}_n", width=220
            )
    if source == YOURS:
        named: tuple = (tuple(a.digest for a in analysed), (YOURS,))
        pictures = [a.image() for a in analysed]  # decoded here: the worker never calls Streamlit
    else:
        named = ((), (source, n))

    def make() -> ImageSet:
        if source == YOURS:
            return _yours_set(analysed, pictures, lm, fit)
        return generated_set(lm, n) if source == GENERATED else plain_set(lm, n)

    pruning = prefix == "prune"
    if source == YOURS and len(analysed) < 2:
        few = {
            (True, True): N_(
                "Pruning is judged over several images: add some, or pick generated shapes or plain drawings."
            ),
            (True, False): N_("Pruning is judged over several images: add some, or add them in the sidebar."),
            (False, True): N_(
                "Deletion and insertion curves are judged over several images: add some, or pick generated "
                "shapes or plain drawings."
            ),
            (False, False): N_(
                "Deletion and insertion curves are judged over several images: add some, or add them in the "
                "sidebar."
            ),
        }
        st.info(_(few[pruning, known]))
        return None
    if source == YOURS:
        if len(analysed) < 10:
            only = (
                _(
                    "Pruning is judged over only {n} images, so each weighs {share} % of the result: add "
                    "images (ten or more) for steadier curves."
                )
                if pruning
                else _(
                    "Deletion and insertion curves are judged over only {n} images, so each weighs {share} % "
                    "of the result: add images (ten or more) for steadier curves."
                )
            )
            st.caption(only.format(n=len(analysed), share=f"{100 / len(analysed):.0f}"))
        st.caption(
            _(
                "Your images carry no classes, so the study measures agreement and Δ log p, not accuracy "
                "(accuracy needs labelled images: `se-viz prune` reads one sub-folder per class)."
            )
        )
    return named, make, n


def _yours_set(analysed: Sequence, pictures: Sequence[Image.Image], lm: LoadedModel, fit: str) -> ImageSet:
    return ImageSet(
        YOURS,
        lm.preprocess(list(pictures), fit=fit),
        np.full(len(analysed), -1, dtype=np.int64),
        [a.name for a in analysed],
        [np.asarray(_png_image(a.view)) for a in analysed],
    )


def _rankings(lm: LoadedModel, images: ImageSet, repeats: int, control: RunControl) -> list:
    control.begin(_("ranking the channels"))
    gates = capture(lm.model, images.images, blocks=lm.blocks).gates
    return standard_rankings(
        lm.model,
        images.images,
        lm.blocks,
        gates,
        repeats=repeats,
        batch_size=RANKING_BATCH,
        progress=control.progress,
    )


def render_pruning(analysed: Sequence, lm: LoadedModel, choice: ModelChoice, fit: str) -> None:
    """Zero the lowest-ranked channels by each ranking; accuracy, agreement and Δ log p against the
    fraction pruned or the multiply-adds removed, random with its spread."""
    st.caption(
        _(
            "Would the network miss these channels? Each ranking orders the channels (mean gate — the SE "
            "paper's suggestion —, gate × gradient of log p, weight L1 of the block's last convolution, and "
            "random with several seeds); the lowest-ranked fraction is zeroed (gate s_c = 0, no retraining)."
        )
    )
    names = [b.name for b in lm.blocks]
    costs, probe = runner.measured_costs(lm), runner.probe(lm)

    def seconds(n: int, repeats: int, blocks: Sequence[str]) -> float:
        return cost.prune_seconds(
            lm.model, lm.blocks, costs, probe, images=n, rankings=3 + repeats, fractions=FRACTIONS,
            prune_blocks=blocks, max_rows=APP_ROWS,
        )  # fmt: skip

    # Defaults sized to the budget: 5 random repeats if the smallest set allows it, else 2.
    default_repeats = 5 if seconds(STUDY_SIZES[0], 5, names) <= BUDGET_SECONDS else 2
    planned_repeats = int(st.session_state.get(state.PRUNE_REPEATS, default_repeats))
    planned_blocks = st.session_state.get(state.PRUNE_BLOCKS) or names
    picked = _study_set(analysed, lm, fit, "prune", lambda n: seconds(n, planned_repeats, planned_blocks))
    if picked is None:
        return
    (digests, set_params), make, n_images = picked
    row = st.container(horizontal=True, gap="medium")
    with row:
        scope = st.segmented_control(
            _("Rank channels"),
            [N_("per block"), N_("over the network")],
            default="per block",
            key="prune_scope",
            required=True,
            format_func=_,
        )
        repeats = st.slider(_("Random repeats"), 2, 10, default_repeats, key=state.PRUNE_REPEATS, width=200)
    chosen = st.multiselect(_("Blocks to prune"), names, default=names, key=state.PRUNE_BLOCKS)
    if not chosen:
        st.info(_("Pick at least one block to prune."))
        return
    scope_name = "network" if scope == "over the network" else "block"
    key = result_key("prune", digests, choice, fit, *set_params, scope_name, tuple(chosen), repeats)

    def compute(control: RunControl) -> tuple:
        images = make()
        with control.inside(lm.model):
            rankings = _rankings(lm, images, repeats, control)
            control.begin(_("pruning"))
            return prune_curves(
                lm.model,
                images.images,
                rankings,
                lm.blocks,
                labels=images.labels if images.has_labels else None,
                scope=scope_name,
                prune_blocks=chosen,
                progress=control.progress,
                max_rows=APP_ROWS,
            )

    curves = runner.run_button(
        key,
        _("Prune 0–{pct} % by every ranking").format(pct=int(100 * FRACTIONS[-1])),
        "prune_run",
        compute,
        seconds(n_images, repeats, chosen),
        _("{n} images × {r} rankings × {f} fractions").format(n=n_images, r=3 + repeats, f=len(FRACTIONS)),
    )
    if curves is None:
        return
    measures = [m for m in fig_ch.PRUNE_MEASURES if m != "top-1 accuracy" or curves.accuracy is not None]
    row = st.container(horizontal=True, gap="medium")
    with row:
        measure = st.segmented_control(
            _("Measure"), measures, default=measures[0], key="prune_measure", required=True, format_func=_
        )
        x_axis = st.segmented_control(
            _("x axis"),
            [N_("channels pruned"), N_("multiply-adds removed")],
            default="channels pruned",
            key="prune_x",
            required=True,
            format_func=_,
        )
    fig = fig_ch.pruning_figure(
        curves, measure or measures[0], "macs" if x_axis == "multiply-adds removed" else "fraction"
    )
    chart(fig, "prune_fig", f"pruning_{slug(str(measure))}")
    if curves.accuracy is None:
        st.caption(
            _("These images have no labels, so accuracy cannot be measured; agreement and Δ log p can.")
        )
    with st.expander(_("The numbers (mean, and min–max over the random repeats)")):
        st.dataframe(_prune_table(curves.table()), hide_index=True)


def render_faithfulness(analysed: Sequence, lm: LoadedModel, choice: ModelChoice, fit: str) -> None:
    """Deletion and insertion curves over one block's channels (or the network's) per ranking."""
    st.caption(
        _(
            "Does a ranking put the channels that matter first? Deletion zeroes the most important channels "
            "first (a faithful ranking makes p fall fast: small area); insertion starts from all zeroed and "
            "gives them back in order (p recovers fast: large area). Random orders give the chance level."
        )
    )
    labels = {b.name: b.label for b in lm.blocks}
    options = [b.name for b in lm.blocks] + [NETWORK]
    costs, probe = runner.measured_costs(lm), runner.probe(lm)
    planned = st.session_state.get(state.FAITH_BLOCK, options[-2])

    def seconds(n: int, block: str) -> float:
        return cost.faithfulness_seconds(
            lm.model, lm.blocks, costs, probe, images=n, rankings=3 + FAITH_REPEATS,
            block=None if block == NETWORK else block, max_rows=APP_ROWS,
        )  # fmt: skip

    picked = _study_set(analysed, lm, fit, "faith", lambda n: seconds(n, planned))
    if picked is None:
        return
    (digests, set_params), make, n_images = picked
    block = st.selectbox(
        _("Channels of"),
        options,
        index=len(options) - 2,
        key=state.FAITH_BLOCK,
        format_func=lambda n: _("the whole network") if n == NETWORK else labels.get(n, n),
        width=320,
    )
    key = result_key("faith", digests, choice, fit, *set_params, block)

    def compute(control: RunControl):
        images = make()
        with control.inside(lm.model):
            rankings = _rankings(lm, images, FAITH_REPEATS, control)
            control.begin(_("deleting and inserting channels"))
            return faithfulness_curves(
                lm.model,
                images.images,
                rankings,
                lm.blocks,
                block=None if block == NETWORK else block,
                progress=control.progress,
                max_rows=APP_ROWS,
            )

    curves = runner.run_button(
        key,
        _("Compute deletion and insertion curves"),
        "faith_run",
        compute,
        seconds(n_images, block),
        _("{n} images × {r} rankings × {p} curve points").format(n=n_images, r=3 + FAITH_REPEATS, p=20),
    )
    if curves is None:
        return
    chart(
        fig_ch.faithfulness_figure(curves, block_label=labels.get(block)),
        "faith_fig",
        f"faithfulness_{block}",
    )
    formats = {
        "deletion_auc": "{:.3f}",
        "deletion_vs_random": "{:+.3f}",
        "insertion_auc": "{:.3f}",
        "insertion_vs_random": "{:+.3f}",
    }
    table = curves.table()[["ranking", *formats]]
    table = table.assign(ranking=[_(k) for k in table["ranking"]])
    heads = {c: _(FAITH_COLUMNS[c]) for c in table.columns}
    st.table(
        table.rename(columns=heads).style.format({heads[c]: f for c, f in formats.items()}),
        hide_index=True,
    )
    st.caption(
        _(
            "AUC: area under each curve over 0–100 % of the channels (p in 0–1). − random: the ranking's "
            "area minus the random repeats' mean (deletion: negative beats random; insertion: positive "
            "does)."
        )
    )
