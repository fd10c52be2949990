"""What a newcomer meets: the introduction, the model's problems in plain words, the empty state
with the sample gallery, and hints about what the loaded model can and cannot say."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

import se_viz
from se_viz import LoadedModel, analysis
from se_viz.errors import DownloadUnavailable
from se_viz.i18n import N_, _, class_name
from se_viz.loading.choice import (
    choice_name,
    env_choice,
    is_teaching,
    model_options,
    option_label,
    teaching_choice,
    untrained_choice,
)
from se_viz.loading.samples import LICENSE_NOTE, Sample, all_samples
from se_viz.loading.source import LOCAL_FILE

from . import cache, state
from .sidebar import ModelState

INTRO = N_(
    "An SE block looks at a feature map **u** with C channels, **squeezes** each channel to one "
    "number, passes those numbers through a tiny two-layer network (**excitation**), and "
    "**scales** every channel by the resulting gate in [0, 1]. Upload a photo to see which "
    "channels each block amplifies and which it suppresses."
)


def render_intro(has_images: bool) -> None:
    """The three equations of an SE block; open only until the session has images to show."""
    with st.expander(
        _("What does a Squeeze-and-Excitation block do?"),
        expanded=not (has_images or state.intro_seen()),
        icon=":material/school:",
    ):
        st.markdown(_(INTRO))
        st.markdown(_("**Squeeze** — global average per channel"))
        st.latex(r"z_c = \frac{1}{H W} \sum_{i=1}^{H} \sum_{j=1}^{W} u_c(i, j)")
        st.markdown(_("**Excitation** — the gates"))
        st.latex(r"s = \sigma\left(W_2\, \delta(W_1 z)\right)")
        st.markdown(_("**Scale** — recalibrate each channel"))
        st.latex(r"\tilde{x}_c = s_c \cdot u_c")
        st.caption(
            _(
                "δ = ReLU, σ = sigmoid; W₁ reduces C channels to C/r, W₂ expands back (Hu et al., "
                "“Squeeze-and-Excitation Networks”, CVPR 2018)."
            )
        )


def render_model_notes(model: ModelState) -> None:
    """Why the app is not on the paper's network, the load error with one-click alternatives, or a
    banner when the weights are untrained or unknown."""
    if model.note:
        st.info(model.note, icon=":material/wifi_off:")
    if model.error:
        _render_load_problem(model)
        return
    lm = model.lm
    if lm is None:
        return
    if not lm.pretrained:
        st.warning(
            _(
                "**Untrained network — random weights.** Its predictions are noise and its gates mean "
                "nothing, though they vary: {spread} The blocks, their names and channel counts are real."
            ).format(spread=_measured_spread(model)),
            icon=":material/warning:",
        )
    elif lm.source.kind == LOCAL_FILE:
        st.warning(
            _(
                "**Weights from a local file** (`{file}`): se_viz cannot tell what they "
                "were trained on. Check that the predictions make sense before reading the gates."
            ).format(file=lm.source.path.name),
            icon=":material/help:",
        )


def _measured_spread(model: ModelState) -> str:
    """A sentence with this network's measured gate spread (its widest block) on the first sample
    photo: random weights do not give gates "near 0.5", and a class should hear what they do."""
    photos = [s for s in all_samples() if s.kind == "photo"]
    if not photos:
        return _("the gates of a block spread between 0 and 1.")
    probe = photos[0]
    cap = cache.capture_cached(
        probe.data, cache.image_digest(probe.data), model.choice, model.lm, fit=state.fit()
    )
    widest = analysis.gate_spread(cap).sort_values("std", ascending=False, kind="stable").iloc[0]
    return _(
        "on the sample photo “{photo}”, {block} puts its gates between {low} and {high} "
        "(std {std}, the widest of its {n} blocks)."
    ).format(
        photo=probe.shown_title,
        block=widest["block"],
        low=f"{widest['min']:.2f}",
        high=f"{widest['max']:.2f}",
        std=f"{widest['std']:.2f}",
        n=len(cap.block_names),
    )


def _render_load_problem(model: ModelState) -> None:
    name = choice_name(model.choice)
    if isinstance(model.error, DownloadUnavailable):
        st.error(
            _(
                "**{name}** needs a download, and this computer cannot reach the model hub. Pick "
                "a model marked “works offline”."
            ).format(name=name),
            icon=":material/cloud_off:",
        )
        with st.expander(_("Details for the operator")):
            st.write(str(model.error))
    else:
        st.error(
            _("**{name}** could not be loaded. {problem}").format(name=name, problem=model.error),
            icon=":material/error:",
        )
    row = st.container(horizontal=True, gap="small")
    mini = teaching_choice()
    if mini is not None and model.choice != mini:
        row.button(
            _("Use SE-ResNet mini (works offline)"),
            type="primary",
            icon=":material/offline_bolt:",
            on_click=state.choose_model,
            args=(mini,),
            key="use_mini",
            help=_(
                "A small SE-ResNet trained by this project on generated shapes; its weights "
                "ship with se_viz. Try it with the synthetic sample images."
            ),
        )
    untrained = untrained_choice(model.choice.model_id, model_options(env_choice()))
    if untrained is not None and model.choice != untrained:
        row.button(
            _("Use {model}").format(model=option_label(untrained).split(" · ")[0]),
            icon=":material/science:",
            on_click=state.choose_model,
            args=(untrained,),
            key="use_untrained",
            help=_("Random weights: the block structure is real, the gate values mean nothing."),
        )
    row.button(
        _("Try again"), icon=":material/refresh:", on_click=state.retry, args=(model.choice,), key="retry"
    )


def render_empty_state(model: ModelState, gallery: Sequence[Sample]) -> None:
    """No image yet: point to the uploader and offer the sample gallery in one click."""
    st.info(
        _(
            "**No image yet.** Upload photos in the sidebar (drag and drop works; several at "
            "once), or start with the samples below."
        ),
        icon=":material/upload:",
    )
    photos = [s for s in gallery if s.kind == "photo"]
    synthetic = [s for s in gallery if s.kind == "synthetic"]
    mini = model.lm is not None and is_teaching(model.lm.entry)
    row = st.container(horizontal=True, gap="small")
    row.button(
        _("Analyse the sample photos"),
        type="secondary" if mini else "primary",
        on_click=state.pick_samples,
        args=([s.name for s in photos],),
        key="use_photos",
        disabled=not photos,
    )
    if synthetic:
        row.button(
            _("Analyse the synthetic examples (for SE-ResNet mini)"),
            type="primary" if mini else "secondary",
            on_click=state.pick_samples,
            args=([s.name for s in synthetic],),
            key="use_synthetic",
        )
    _gallery_grid(photos, 5)
    st.caption(_(LICENSE_NOTE))
    if synthetic:
        st.markdown(_("**Generated examples of SE-ResNet mini's classes** (the offline model)"))
        _gallery_grid(synthetic, 8)


def render_mini_hint(lm: LoadedModel, image_names: Sequence[str], gallery: Sequence[Sample]) -> None:
    """SE-ResNet mini knows only its synthetic classes: say so when it is shown other images."""
    synthetic = [s.name for s in gallery if s.kind == "synthetic"]
    if not is_teaching(lm.entry) or all(n in synthetic for n in image_names):
        return
    st.info(
        _(
            "SE-ResNet mini was trained on {n} generated classes ({names}); on other images its "
            "predictions mean little."
        ).format(n=len(lm.labels), names=_(", ").join(class_name(label) for label in lm.labels)),
        icon=":material/info:",
    )
    if synthetic:
        st.button(
            _("Add the synthetic examples"),
            key="use_synthetic_hint",
            on_click=state.pick_samples,
            args=(synthetic,),
        )


def _gallery_grid(samples: Sequence[Sample], per_row: int) -> None:
    for start in range(0, len(samples), per_row):
        cols = st.columns(per_row)
        for col, s in zip(cols, samples[start : start + per_row], strict=False):  # the last row may be short
            try:
                png = cache.thumbnail_png(cache.image_digest(s.data), s.data)
            except se_viz.InputError:
                continue
            col.image(png, caption=s.caption, width="stretch")
