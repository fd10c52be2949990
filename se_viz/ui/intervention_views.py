"""Views for interventions: edit one block, the knock-out sweep, set-level ablation, teach one block.

Views only draw: the model, the image(s) and optional group captures come in as arguments; the
numbers come from :mod:`se_viz.interventions` and :mod:`se_viz.engine.walkthrough`, the figures
from :mod:`se_viz.figures.interventions`. An image comes in as a :class:`~.cache.NetworkInput`
(file SHA-256, model choice, fit): every view computes on the batch it gives, the same input the
capture and the other views use, and keys its result with :meth:`~.cache.NetworkInput.key`, so
moving a slider elsewhere never reruns a sweep and a changed fit never shows a stale one. Widget
keys start with ``iv_``.
"""

from __future__ import annotations

import html
import re
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from se_viz import Capture, LoadedModel, cost
from se_viz import interventions as iv
from se_viz.engine.walkthrough import BlockWalk, walk_block
from se_viz.figures import feature_maps
from se_viz.figures import interventions as fig_iv
from se_viz.i18n import N_, _, class_name, ngettext
from se_viz.loading.choice import ModelChoice, is_teaching

from . import runner
from .cache import (
    NetworkInput,
    ResultKey,
    batch_of,
    generated_key,
    kept,
    network_view_png,
    result_key,
    result_store,
)
from .common import chart, friendly_errors

__all__ = ["render_intervene", "render_set_ablation", "render_sweep", "render_teach"]

#: The edits offered, as identifiers (the widget's state, links, tests); shown translated.
EDIT_KINDS = [
    N_("neutralise (s = 1)"),
    N_("zero (s = 0)"),
    N_("replace by group mean"),
    N_("scale"),
    N_("switch off top-k"),
    N_("switch off bottom-k"),
]


def progress_text(text: str, done: int, total: int, what: str) -> tuple[float, str]:
    """The bar's fraction and line for ``done`` of ``total`` steps. The library counts its steps
    exactly, so ``done`` never passes ``total``; the clamp only keeps a bad caller's bar drawable."""
    done = max(0, min(done, total))
    return done / max(total, 1), _("{text} — step {done} of {total}: {what}").format(
        text=text, done=done, total=total, what=what
    )


def _progress_bar(slot, text: str) -> Callable[[int, int, str], None]:
    bar = slot.progress(0.0, text=text)

    def update(done: int, total: int, what: str) -> None:
        bar.progress(*progress_text(text, done, total, what))

    return update


def _run_on_click(
    key: ResultKey,
    label: str,
    button_key: str,
    what: str,
    compute: Callable[[Callable[[int, int, str], None]], object],
) -> Optional[object]:
    """A slow result: from the store, or computed with a progress bar when the button is clicked
    (None until then). Moving any other widget never reruns it."""
    held = result_store().peek(key)
    if held is not None:
        return held
    if not st.button(label, type="primary", key=button_key, icon=":material/play_arrow:"):
        return None
    slot = st.empty()  # the bar lives here and goes when the result is in
    try:
        return result_store().get(key, lambda: compute(_progress_bar(slot, what)))
    finally:
        slot.empty()


def _big(text: str, projector: bool) -> None:
    """A sentence of the walk (Markdown **bold** / *italic*); larger and black in projector mode."""
    if projector:
        # Markdown is not parsed inside an HTML block: turn the two marks into tags ourselves.
        body = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
        body = re.sub(r"\*(.+?)\*", r"<i>\1</i>", body)
        st.markdown(
            f"<div style='font-size:1.7rem;line-height:1.35;color:#000'>{body}</div>", unsafe_allow_html=True
        )
    else:
        st.markdown(text)


def _latex(expr: str, projector: bool) -> None:
    st.latex((r"\Large " if projector else "") + expr)


#: The sweep table's columns in words and units (``SweepResult.to_frame``; Δ p shown in points).
SWEEP_COLUMNS = {
    "block": (st.column_config.TextColumn, N_("SE block neutralised (s = 1)"), None),
    "stage": (st.column_config.TextColumn, N_("stage"), None),
    "channels": (st.column_config.NumberColumn, N_("channels"), "%d"),
    "delta_logprob": (st.column_config.NumberColumn, N_("Δ log p of the predicted class (nats)"), "%+.4f"),
    "delta_prob": (
        st.column_config.NumberColumn,
        N_("Δ p of the predicted class (percentage points)"),
        "%+.2f",
    ),
    "new_top1": (st.column_config.TextColumn, N_("top-1 class with the block neutralised"), None),
    "prediction_changed": (st.column_config.CheckboxColumn, N_("top-1 changed"), None),
}
#: The stage ablation's columns (``SetAblationResult.table``; shares shown in percent).
ABLATION_COLUMNS = {
    "condition": (st.column_config.TextColumn, N_("condition"), None),
    "kind": (st.column_config.TextColumn, N_("kind of knock-out"), None),
    "stage": (st.column_config.TextColumn, N_("stage"), None),
    "blocks": (st.column_config.NumberColumn, N_("SE blocks neutralised"), "%d"),
    "top1_agreement": (
        st.column_config.NumberColumn,
        N_("same top-1 as the unedited network (% of images)"),
        "%.1f",
    ),
    "mean_delta_logprob": (
        st.column_config.NumberColumn,
        N_("mean Δ log p of the unedited top-1 (nats)"),
        "%+.4f",
    ),
    "accuracy": (st.column_config.NumberColumn, N_("top-1 accuracy (%)"), "%.1f"),
    "top5_accuracy": (st.column_config.NumberColumn, N_("top-5 accuracy (%)"), "%.1f"),
}
NO_STAGE = N_("An empty stage: this model's blocks have no paper stage number (not a ResNet-style network).")


def _columns(spec: dict) -> dict:
    """A table's column configuration with its headings in the reader's language (built per run:
    the headings are constants marked for the catalogue, translated where shown)."""
    return {
        c: kind(_(title), format=fmt) if fmt else kind(_(title)) for c, (kind, title, fmt) in spec.items()
    }


def _then(sentence: str, next_sentence: str) -> str:
    """Two sentences one after the other, as the reader's language writes them (Chinese puts no
    space after its full stop)."""
    # Translators: two sentences in a row; write them as your language joins sentences.
    return _("{sentence} {next_sentence}").format(sentence=sentence, next_sentence=next_sentence)


def _stage_text(stages) -> list[str]:
    """Stage numbers as text, empty where there is none (a table cell must never read "None")."""
    return ["" if pd.isna(v) else str(int(v)) for v in stages]


# --------------------------------------------------------------------------------------------
# 1. One intervention


def _edit_from_widgets(block: str, group: Optional[Capture], channels: int) -> tuple[Optional[iv.Edit], str]:
    kind = st.selectbox(_("What to do with its gates"), EDIT_KINDS, key="iv_edit_kind", format_func=_)
    if kind.startswith("neutralise"):
        return iv.neutralise(), kind
    if kind.startswith("zero"):
        return iv.zero(), kind
    if kind.startswith("replace"):
        if group is None or group.num_images < 1 or block not in group.gates:
            st.info(_("Upload or pick a few more images: their mean gates are what replaces this image's."))
            return None, kind
        name = _("mean of {n} image(s)").format(n=group.num_images)
        return iv.replace(group.gates[block].mean(axis=0), name), kind
    if kind == "scale":
        f = st.slider(
            _("Factor"),
            0.0,
            3.0,
            0.5,
            0.05,
            key="iv_edit_factor",
            help=_("Every gate is multiplied by this factor and clipped to [0, 1]."),
        )
        return iv.scale(f), kind
    k = st.slider(_("k channels"), 1, max(1, channels), min(5, channels), key="iv_edit_k")
    return (iv.switch_off_top(k) if "top" in kind else iv.switch_off_bottom(k)), kind


def render_intervene(
    lm: LoadedModel, image: NetworkInput, image_name: str, group: Optional[Capture] = None
) -> None:
    """Edit one block's gates for one image and show the top-5 before and after.

    ``group`` (optional) is a capture of other images; its mean gates are offered as a
    replacement ("does this image survive with the group's average gates?").
    """
    with friendly_errors(_("intervention view")):
        st.caption(
            _(
                "Change what one SE block does for this image — remove it (s = 1), switch it "
                "off, give it other gates — and see whether the prediction moves."
            )
        )
        labels = {b.name: b.label for b in lm.blocks}
        names = [b.name for b in lm.blocks]
        left, right = st.columns(2)  # the block and the edit side by side: the chart stays in view
        block = left.selectbox(
            _("SE block"),
            names,
            index=len(names) - 1,
            key="iv_edit_block",
            format_func=lambda n: labels.get(n, n),
        )
        info = next(b for b in lm.blocks if b.name == block)
        with right:
            edit, _kind = _edit_from_widgets(block, group, info.channels)
        if edit is None:
            return
        key = image.key("intervene", block, edit)
        res = result_store().get(key, lambda: iv.intervene(lm, image.batch(lm), {block: edit}))
        before_cls = (
            class_name(res.class_names[res.predicted[0]]) if res.class_names else str(res.predicted[0])
        )
        dp, dl = float(res.delta_prob[0]) * 100.0, float(res.delta_logprob[0])
        c1, c2, c3 = st.columns(3)
        c1.metric(_("originally predicted"), before_cls)
        c2.metric(
            _("p({cls}) after the edit").format(cls=before_cls),
            f"{100 * res.after.probabilities()[0][res.predicted[0]]:.1f} %",
            _("{dp} percentage points").format(dp=f"{dp:+.2f}"),
        )
        c3.metric(
            _("Δ log p (nats)"),
            f"{dl:+.3f}",
            _("prediction changed") if res.prediction_changed[0] else _("same top-1"),
            delta_color="off",
        )
        chart(
            fig_iv.top5_comparison(res.top(5), f"{info.name}: {edit.label}", image_name),
            "iv_top5",
            f"intervention_{info.name}",
        )


# --------------------------------------------------------------------------------------------
# 2. Knock-out sweep


def render_sweep(lm: LoadedModel, image: NetworkInput, image_name: str) -> None:
    """Neutralise every SE block in turn and chart the change in log p of the predicted class."""
    with friendly_errors(_("knock-out sweep")):
        st.caption(
            _(
                "Each SE block is removed in turn (all its gates set to 1) and the network is rerun. "
                "A bar below zero means the block helped the prediction. The part of the network "
                "before each block is computed once and reused, so the whole sweep costs a few "
                "forward passes, not one per block."
            )
        )
        key = image.key("sweep")
        res = _run_on_click(
            key,
            _("Run the sweep ({n} blocks)").format(n=len(lm.blocks)),
            "iv_sweep_run",
            _("Knock-out sweep"),
            lambda progress: iv.knock_out_sweep(
                lm.model, image.batch(lm), blocks=lm.blocks, progress=progress
            ),
        )
        if res is None:
            return
        frame = res.to_frame(0, lm.labels)
        cls = class_name(lm.labels[int(res.predicted[0])]) if lm.labels else str(int(res.predicted[0]))
        chart(fig_iv.sweep_bar(frame, cls, image_name), "iv_sweep_bar", "knock_out_sweep")
        worst = frame.iloc[int(frame["delta_logprob"].idxmin())]
        worst_text = _(
            "Removing **{block}** costs the most: Δ log p = {dl} ({dp} percentage points). "
            "{changed} of {total} knock-outs change the top-1 class."
        ).format(
            block=worst["block"],
            dl=f"{worst['delta_logprob']:+.3f}",
            dp=f"{worst['delta_prob'] * 100:+.2f}",
            changed=int(frame["prediction_changed"].sum()),
            total=len(frame),
        )
        if not res.reused:
            worst_text = _then(
                worst_text, _("(This model's trunk could not be split, so every block took a full pass.)")
            )
        st.markdown(worst_text)
        st.dataframe(
            frame.assign(
                delta_prob=frame["delta_prob"] * 100.0,
                stage=_stage_text(frame["stage"]),
                new_top1=[class_name(str(c)) for c in frame["new_top1"]],
            ),
            hide_index=True,
            width="stretch",
            key="iv_sweep_table",
            column_config=_columns(SWEEP_COLUMNS),
        )
        if frame["stage"].isna().any():
            st.caption(_(NO_STAGE))


# --------------------------------------------------------------------------------------------
# 3. Over a set of images


def _offline_set(kind: str, n: int) -> tuple[list[Image.Image], list[int]]:
    """Labelled images for the mini model, generated once per (kind, n) and shared read-only."""
    from se_viz.demo import synthetic
    from se_viz.demo.plain_drawings import plain_drawings

    def make() -> tuple[list[Image.Image], list[int]]:
        if kind == "plain drawings":
            drawings, labels = plain_drawings(n, seed=1)
            return drawings, labels.tolist()
        images, labels = synthetic.generate(n, seed=4242)
        return [Image.fromarray(a) for a in images], labels.tolist()

    return kept(generated_key("offline set", kind, n), make)


def render_set_ablation(
    lm: LoadedModel,
    choice: ModelChoice,
    fit: str,
    images: Sequence[NetworkInput] = (),
    labels: Optional[Sequence[int]] = None,
) -> None:
    """Neutralise each block, each stage, all stages but one, and all, over many images.

    ``images`` are the user's images, ``labels`` their true class indices where known (-1 for
    unknown). For the offline teaching model (its catalog flag), generated test images or plain
    drawings (with labels) can be used instead; ``choice`` and ``fit`` key and fit those.
    """
    with friendly_errors(_("set-level ablation")):
        st.caption(
            _(
                "The SE paper retrained networks with SE in some stages only. Here one trained "
                "network is asked at test time: how often does the top-1 class survive when a block, "
                "a stage, or all but one stage lose their SE gates (s = 1)? With labels, accuracy too."
            )
        )
        sources = [N_("your images")] if images else []
        if is_teaching(lm.entry):
            sources += [N_("generated test images"), N_("plain drawings")]
        if not sources:
            st.info(_("Add a few images (the more the better) to ablate over a set."))
            return
        source = (
            st.segmented_control(
                _("Images"), sources, default=sources[0], key="iv_set_source", required=True, format_func=_
            )
            or sources[0]
        )
        if source == "your images":
            labs = list(labels) if labels is not None else None
            count = len(images)
            key = result_key(
                "set", [i.digest for i in images], choice, fit, None if labs is None else tuple(labs)
            )

            def batch():
                return batch_of(images, lm)
        else:
            n = st.select_slider(_("How many"), [50, 100, 200, 500], value=100, key="iv_set_n")
            imgs, labs = _offline_set(source, int(n))
            count = len(imgs)
            # Generated deterministically from (source, n): those name the images, no file exists.
            key = result_key("set", (), choice, fit, source, int(n))

            def batch():
                return lm.preprocess(imgs, fit=fit)

        # A heavy run: the queue's worker runs it, cancellable, with its measured cost said first.
        conditions = [c.blocks for c in iv.ablation_conditions(lm.blocks)]
        costs, probe = runner.measured_costs(lm), runner.probe(lm)
        seconds = cost.ablation_seconds(
            lm.model, lm.blocks, costs, probe, images=count, conditions=conditions, batch_size=16
        )
        ready = batch() if source == "your images" else None  # decoded here: the worker never calls Streamlit

        def compute(control):
            with control.inside(lm.model):
                control.begin(_("ablating"))
                inputs = ready if ready is not None else batch()
                return iv.ablate_over_images(
                    lm.model, inputs, labs, blocks=lm.blocks, progress=control.progress
                )

        res = runner.run_button(
            key,
            ngettext("Run over {n} image", "Run over {n} images", count).format(n=count),
            "iv_set_run",
            compute,
            seconds,
            _("{n} images × {c} conditions").format(n=count, c=len(conditions)),
        )
        if res is None:
            return
        table = res.table()
        chart(fig_iv.ablation_chart(table, res.num_images), "iv_set_chart", "set_ablation")
        labelled = bool(table["accuracy"].notna().any())
        shown = table.assign(
            condition=[
                iv.condition_label(k, c, s)
                for k, c, s in zip(table["kind"], table["condition"], table["stage"], strict=True)
            ],
            kind=[iv.condition_kind_label(k) for k in table["kind"]],
            stage=_stage_text(table["stage"]),
            **{c: table[c] * 100.0 for c in ("top1_agreement", "accuracy", "top5_accuracy")},
        ).drop(columns=[] if labelled else ["accuracy", "top5_accuracy"])
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            key="iv_set_table",
            column_config=_columns(ABLATION_COLUMNS),
        )
        empty_stage = _(
            "The stage is empty where a condition is not about one stage (the unedited network, "
            "no SE, or a model without paper stage numbers)."
        )
        st.caption(
            empty_stage
            if labelled
            else _then(_("No labels for these images, so no accuracy columns."), empty_stage)
        )
        st.caption(
            _(
                "Paper (ImageNet, networks *retrained* per setting, top-1 error): SE in stage 2 only "
                "23.03 %, stage 3 only 23.04 %, stage 4 only 22.68 %, all stages 22.28 %, none 23.30 %. "
                "Neutralising gates of a trained network is a harsher test than never having them."
            )
        )


# --------------------------------------------------------------------------------------------
# 4. Teach one block


def _shown_channels(walk: BlockWalk, k: int = 4) -> list[int]:
    """The channels the block boosts most and damps most (half each)."""
    order = np.argsort(-walk.s, kind="stable")
    half = max(1, k // 2)
    return [int(c) for c in order[:half]] + [int(c) for c in order[::-1][: k - half]]


def _num(x: float) -> str:
    return f"{x:.3f}"


def render_teach(lm: LoadedModel, image: NetworkInput, image_name: str, projector: bool = False) -> None:
    """A step-by-step walk through one SE block on this image, with its actual numbers.

    Step 1 shows the image as the network sees it (fitted, resized), the input of every number
    below. ``projector=True`` enlarges text, equations and charts and raises contrast for a classroom.
    """
    with friendly_errors(_("walk through one block")):
        # Only reduce → expand → gate chains can be walked step by step (ECA and CBAM cannot).
        teachable = [b for b in lm.blocks if b.teachable]
        if not teachable:
            st.info(
                _(
                    "This network's channel gates are not SE blocks (reduce → expand → gate), so there is "
                    "no step-by-step walk: {kinds}. The other views show their gates."
                ).format(kinds="; ".join(sorted({b.kind_label for b in lm.blocks})))
            )
            return
        labels = {b.name: b.label for b in teachable}
        names = [b.name for b in teachable]
        block = st.selectbox(
            _("SE block to walk through"),
            names,
            index=0,
            key="iv_teach_block",
            format_func=lambda n: labels.get(n, n),
        )
        info = next(b for b in lm.blocks if b.name == block)
        key = image.key("walk", block)
        walk: BlockWalk = result_store().get(key, lambda: walk_block(lm.model, info, image.batch(lm)))
        chans = _shown_channels(walk)
        C, H, W = walk.u.shape
        r = walk.reduced.shape[0]
        c_hi, c_lo = chans[0], chans[-1]

        st.subheader(_("Step 1 · the input: C feature maps u"))
        # The image name is the user's file name: escaped, and stripped of Markdown marks.
        shown_name = html.escape(image_name.replace("*", "").replace("_", " "))
        size = lm.data_config["input_size"]
        seen, words = st.columns([1, 4], vertical_alignment="center")
        seen.image(
            network_view_png(image.digest, image.choice.key, image.fit, image.data, lm),
            caption=_("what the network sees: {w}×{h} px ({fit})").format(
                w=size[2], h=size[1], fit=_("crop") if image.fit == "crop" else _("pad")
            ),
            width="stretch",
        )
        with words:
            _big(
                _(
                    "The block receives **{C} feature maps** of {H}×{W} px, computed from *{name}* "
                    "(left) by the layers before it: where each learned feature responds. Four of them:"
                ).format(C=C, H=H, W=W, name=shown_name),
                projector,
            )
        _latex(rf"u \in \mathbb{{R}}^{{C \times H \times W}},\quad C = {C},\ H = {H},\ W = {W}", projector)
        chart(
            fig_iv.map_grid(
                walk.u[chans],
                chans,
                _("Input maps u_c of {block}").format(block=info.name),
                per_row=2 if projector else 4,
            ),
            "iv_teach_u",
            f"walk_{block}_u",
        )

        st.subheader(_("Step 2 · squeeze: one number z_c per map"))
        _big(
            _(
                "Each map is averaged into one number: how strongly its feature is present anywhere in "
                "the image."
            ),
            projector,
        )
        total = float(walk.z[c_hi]) * H * W
        # The general form and this image's numbers on separate lines: one line overflows a projector.
        _latex(r"z_c = \frac{1}{H W} \sum_{i=1}^{H} \sum_{j=1}^{W} u_c(i, j)", projector)
        _latex(rf"z_{{{c_hi}}} = \frac{{{_num(total)}}}{{{H} \cdot {W}}} = {_num(walk.z[c_hi])}", projector)
        chart(
            fig_iv.vector_bars(
                walk.z,
                _("The squeeze z: {C} numbers (outlined: the maps above)").format(C=C),
                _("z_c (mean activation)"),
                highlight=chans,
            ),
            "iv_teach_z",
            f"walk_{block}_z",
        )

        st.subheader(_("Step 3 · excite, part 1: squeeze the C numbers into r"))
        relu = bool(np.allclose(walk.reduced, np.maximum(walk.reduced_pre, 0.0), atol=1e-6))
        j = int(np.argmax(walk.reduced_pre))
        terms = " + ".join(rf"({walk.w1[j, c]:.2f})({walk.z[c]:.2f})" for c in range(min(2, C)))
        bottleneck = (
            _(
                "A small layer W₁ ({r} × {C}) mixes all {C} numbers into just **{r}**, then ReLU sets the "
                "negative ones to 0. This bottleneck makes the block look at the channels together."
            )
            if relu
            else _(
                "A small layer W₁ ({r} × {C}) mixes all {C} numbers into just **{r}**, then the activation δ "
                "is applied. This bottleneck makes the block look at the channels together."
            )
        )
        _big(bottleneck.format(r=r, C=C), projector)
        _latex(r"a = W_1 z + b_1,\quad \delta(a)" + (r" = \max(0, a)" if relu else ""), projector)
        # Two lines: the weighted sum, then the bias and the result (one line is too wide at 1024 px).
        _latex(
            rf"\begin{{aligned}} a_{{{j}}} &= {terms} + \dots \\ &\quad + ({walk.b1[j]:.2f}) = "
            rf"{_num(walk.reduced_pre[j])} \end{{aligned}}",
            projector,
        )
        chart(
            fig_iv.reduce_bars(walk.reduced_pre, walk.reduced, "ReLU" if relu else "δ"),
            "iv_teach_reduce",
            f"walk_{block}_reduced",
        )

        st.subheader(_("Step 4 · excite, part 2: one gate s_c per channel"))
        hard = info.gate_kind == "hard-sigmoid"
        expand = (
            _(
                "A second layer W₂ ({C} × {r}) turns the {r} numbers back into one per channel, and the "
                "hard sigmoid squashes each into a gate between 0 (switch the channel off) and 1 (keep it "
                "as it is)."
            )
            if hard
            else _(
                "A second layer W₂ ({C} × {r}) turns the {r} numbers back into one per channel, and the "
                "sigmoid squashes each into a gate between 0 (switch the channel off) and 1 (keep it as "
                "it is)."
            )
        )
        _big(expand.format(C=C, r=r), projector)
        gate = r"\min(\max(\tfrac{x+3}{6}, 0), 1)" if hard else r"\frac{1}{1 + e^{-x}}"
        _latex(rf"s = \sigma(W_2\, \delta(a) + b_2),\quad \sigma(x) = {gate}", projector)
        _latex(rf"s_{{{c_hi}}} = \sigma({walk.expanded[c_hi]:.2f}) = {_num(walk.s[c_hi])}", projector)
        _latex(rf"s_{{{c_lo}}} = \sigma({walk.expanded[c_lo]:.2f}) = {_num(walk.s[c_lo])}", projector)
        chart(
            fig_iv.vector_bars(
                walk.s,
                _("The gates s: {C} numbers between 0 and 1 (outlined: the maps above)").format(C=C),
                _("gate s_c (0–1)"),
                highlight=chans,
                gates=True,
            ),
            "iv_teach_s",
            f"walk_{block}_s",
        )

        st.subheader(_("Step 5 · scale: multiply each map by its gate"))
        _big(
            _(
                "Each input map is multiplied by its gate: channel {hi} keeps {hi_pct} % of its strength, "
                "channel {lo} only {lo_pct} %. Same colour scale left and right, so a faded map is a "
                "damped channel."
            ).format(
                hi=c_hi, lo=c_lo, hi_pct=f"{walk.s[c_hi] * 100:.0f}", lo_pct=f"{walk.s[c_lo] * 100:.0f}"
            ),
            projector,
        )
        _latex(r"\tilde{x}_c = s_c \cdot u_c", projector)
        _latex(
            rf"\tilde{{x}}_{{{c_hi}}} = {_num(walk.s[c_hi])} \cdot u_{{{c_hi}}},\quad "
            rf"\tilde{{x}}_{{{c_lo}}} = {_num(walk.s[c_lo])} \cdot u_{{{c_lo}}}",
            projector,
        )
        chart(
            feature_maps(walk.as_capture(), block, [c_hi, c_lo], image_name=image_name),
            "iv_teach_scale",
            f"walk_{block}_scaled",
        )
