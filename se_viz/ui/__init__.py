"""The Streamlit UI of se_viz (the only package that imports Streamlit, with ``app.py``).

``main()`` wires the flow: sidebar inputs → model → decoded images → cached captures → views.
Session state lives in :mod:`.state`; caches in :mod:`.cache`; views only draw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

import se_viz
from se_viz import Capture, LoadedModel
from se_viz.i18n import N_, _, format_list
from se_viz.loading.fit import fit_notices
from se_viz.loading.images import describe_image
from se_viz.loading.samples import all_samples
from se_viz.tabs import LIVE_VIEW, VIEWS

from . import (
    cache,
    channel_views,
    dataset_view,
    export_view,
    intervention_views,
    language,
    live_view,
    many_views,
    sidebar,
    state,
    views,
    welcome,
)
from .common import apply_display_settings, friendly_errors

__all__ = ["main", "VIEWS", "DETAIL_VIEWS"]

log = logging.getLogger(__name__)

#: The views that show the one image picked in the image picker (the others show every image).
DETAIL_VIEWS = [
    v for v in VIEWS if v not in ("Predictions", "Compare", "Classes", state.CHANNELS_VIEW, LIVE_VIEW)
]
#: What the Interventions tab can ask, in order.
INTERVENTIONS = [N_("edit one block"), N_("knock-out sweep"), N_("over all images")]


@dataclass
class Analysed:
    """One decoded image, how the network sees it, and its capture."""

    name: str
    data: bytes
    digest: str
    thumb: bytes
    view: bytes
    notices: list[str]
    cap: Capture
    input: cache.NetworkInput  # what every view computes on: file SHA-256, model choice, fit
    source: str = "upload"  # where the image came from (sidebar.PickedImage.source), for captions

    def image(self):
        """The decoded image (decoded once per process, see :func:`cache.decoded_image`)."""
        return cache.decoded_image(self.digest, self.data)


def _decode(items: list[sidebar.PickedImage]) -> list[tuple[sidebar.PickedImage, bytes]]:
    """Thumbnails of the images that decode; a clear message naming each file that does not."""
    good = []
    for item in items:
        try:
            good.append((item, cache.thumbnail_png(item.digest, item.data)))
        except se_viz.InputError as exc:
            st.error(
                _("**{name}** cannot be used: {reason} The other images are unaffected.").format(
                    name=item.name, reason=exc
                ),
                icon=":material/broken_image:",
            )
        except Exception:
            log.exception("decoding %s failed", item.name)
            st.error(
                _(
                    "**{name}** cannot be used: the file could not be read as an image. Try saving it "
                    "again as JPEG or PNG; the other images are unaffected."
                ).format(name=item.name),
                icon=":material/broken_image:",
            )
    return good


def _analyse(decoded, model: sidebar.ModelState, detail: str, fit: str) -> list[Analysed]:
    """Captures of every image (maps of every block for the one shown in detail), with progress
    shown only when the capture store lacks some of them."""
    lm, choice, store = model.lm, model.choice, cache.capture_store()
    todo = [(item, thumb, item.name == detail) for item, thumb in decoded]
    missing = [t for t in todo if not store.has(cache.capture_key(t[0].digest, choice, fit), t[2])]
    bar = st.progress(0.0, text=_("Running the network …")) if missing else None
    size = lm.data_config["input_size"][1:]
    out: list[Analysed] = []
    for done, (item, thumb, maps) in enumerate(todo):
        if bar is not None:
            bar.progress(done / len(todo), text=_("Running the network on {name} …").format(name=item.name))
        try:
            cap = cache.capture_cached(item.data, item.digest, choice, lm, fit=fit, maps=maps)
            notices = fit_notices(describe_image(item.data), tuple(size), lm.data_config["crop_pct"], fit)
            view = cache.network_view_png(item.digest, choice.key, fit, item.data, lm)
        except se_viz.InputError as exc:
            st.error(
                _("**{name}** cannot be used: {reason}").format(name=item.name, reason=exc),
                icon=":material/broken_image:",
            )
            continue
        except Exception:
            log.exception("capture of %s failed", item.name)
            st.error(
                _(
                    "**{name}**: the network could not process this image. Try another image or "
                    "another model; the details are in the server's log."
                ).format(name=item.name),
                icon=":material/warning:",
            )
            continue
        inp = cache.NetworkInput(item.data, item.digest, choice, fit)
        out.append(Analysed(item.name, item.data, item.digest, thumb, view, notices, cap, inp, item.source))
    if bar is not None:
        bar.empty()
    return out


def picker_label() -> str:
    """The image picker's label, naming every view it drives (derived from :data:`DETAIL_VIEWS`)."""
    return _("Image shown in {views}").format(views=format_list([_(v).lower() for v in DETAIL_VIEWS]))


def main() -> None:
    """Run one pass of the app script (after ``st.set_page_config``).

    Everything runs under :func:`friendly_errors`: whatever fails, the user reads a sentence,
    never a traceback (each view has its own guard, so one broken view leaves the others working).
    """
    with friendly_errors(N_("page")):
        _main()


TITLE = N_("se_viz — what Squeeze-and-Excitation blocks do")


def _main() -> None:
    language.language_ui()  # first: every word below is in the language it sets
    apply_display_settings()
    header = st.container()  # the title and the intro, or one line once there are results
    inputs = sidebar.inputs_ui(VIEWS)
    model = inputs.model
    if inputs.dataset is not None:
        with header:
            st.title(_(TITLE))
            welcome.render_intro(has_images=True)
        with friendly_errors(_("gate dataset")):
            dataset_view.render_dataset(inputs.dataset, model.lm)
        return
    gallery = all_samples()
    decoded = _decode(inputs.images)
    if not decoded or model.lm is None:
        with header:
            st.title(_(TITLE))
            welcome.render_intro(has_images=bool(inputs.images))
            welcome.render_model_notes(model)
        if not decoded:
            welcome.render_empty_state(model, gallery)
            if model.lm is not None:  # the camera needs no image first
                # Lazy: the WebRTC component loads only once the expander is opened, not on every
                # newcomer's page (ten sessions opening at once each loaded it).
                live = st.expander(
                    _("…or watch the gates live with the camera"),
                    icon=":material/videocam:",
                    key="welcome_live",
                    on_change="rerun",
                )
                if live.open:
                    with live:
                        live_view.render_live(model.lm, model.choice, state.fit())
            return
        st.info(_("Your images are ready; pick a model that loads (see above) to analyse them."))
        cols = st.columns(min(len(decoded), 6))
        for i, (item, thumb) in enumerate(decoded):
            cols[i % len(cols)].image(thumb, caption=item.name, width="stretch")
        return

    names = [item.name for item, _ in decoded]
    detail = state.follow_images(names)
    row = header.container(horizontal=True, vertical_alignment="center", gap="small")
    row.markdown("**se_viz**", width="content")
    if len(names) > 1:
        detail = row.selectbox(
            picker_label(),
            names,
            key=state.DETAIL,
            label_visibility="collapsed",
            width=300,
            help=picker_label(),
        )
    if not model.lm.pretrained:  # the banner moves into the notes; the warning stays in sight
        row.badge(_("untrained: random weights"), icon=":material/warning:", color="orange")
    notes = row.popover(_("About and notes"), icon=":material/info:", width="content")
    fit = state.fit()
    analysed = _analyse(decoded, model, detail, fit)
    if not analysed:
        st.warning(_("None of the images could be analysed."))
        return
    state.mark_intro_seen()
    current = next((a for a in analysed if a.name == detail), analysed[0])
    # Everything that used to sit above the tabs (about 500 px on a projector) is one click away.
    with notes:
        welcome.render_model_notes(model)
        for notice in current.notices:
            st.info(f"**{current.name}:** {notice}", icon=":material/crop:")
        welcome.render_mini_hint(model.lm, [a.name for a in analysed], gallery)
        welcome.render_intro(has_images=True)

    lm = model.lm
    stacked = Capture.concat([a.cap for a in analysed])
    names = [a.name for a in analysed]
    tabs = st.tabs(state.tab_labels(), key=state.VIEW, on_change="rerun")
    render = {
        "Predictions": lambda: views.render_predictions(analysed, lm),
        "Gate heatmap": lambda: views.render_heatmap(current.cap, current.name),
        "Distributions": lambda: views.render_distributions(current.cap, current.name),
        "Block drill-down": lambda: views.render_drilldown(current.cap, current.name),
        "Compare": lambda: many_views.render_compare(stacked, names, [a.thumb for a in analysed]),
        "Classes": lambda: _render_classes(analysed, stacked, names, model),
        "Interventions": lambda: _render_interventions(analysed, current, lm, fit),
        "Teach one block": lambda: intervention_views.render_teach(
            lm, current.input, current.name, projector=state.projector()
        ),
        state.CHANNELS_VIEW: lambda: channel_views.render_channels(analysed, lm, model.choice, fit),
        "Export": lambda: export_view.render_export(stacked, names, current.cap, current.name, lm, fit),
        LIVE_VIEW: lambda: live_view.render_live(lm, model.choice, fit),
    }
    for label, tab in zip(VIEWS, tabs, strict=True):
        if tab.open:
            with tab, friendly_errors(_(label).lower()):
                render[label]()
        elif label == LIVE_VIEW:
            live_view.stop_live()  # another tab is shown: the camera and its threads stop


#: The class views' own images, beside :data:`.state.DEMO_SOURCE` (identifiers, shown translated).
YOUR_IMAGES = N_("your images")


def _render_classes(
    analysed: list[Analysed], stacked: Capture, names: list[str], model: sidebar.ModelState
) -> None:
    """The class views on the user's images, or on the offline demonstration's generated set."""
    # The button's own row (with its cost caption) and, once there is a second set, the picker
    # below it: inside one horizontal row the caption wrapped under the button (1280-px projector).
    row = st.container()
    with row:
        made = many_views.render_demo_button(model.lm)
    if made is not None:
        state.keep_demo_set(model.choice.key, made)
    demo = state.demo_set(model.choice.key)
    sources = [YOUR_IMAGES] + ([state.DEMO_SOURCE] if demo is not None else [])
    # A choice of one is no choice: the picker appears once the demonstration's set exists (and the
    # button's cost caption keeps the row on one line on a 1280-px projector).
    source = (
        sources[0]
        if len(sources) == 1
        else (
            row.segmented_control(
                _("Images for the class views"),
                sources,
                format_func=_,
                key=state.CLASS_SOURCE,
                default=sources[-1],
                required=True,
                label_visibility="collapsed",  # under the demonstration's button, the options say it
            )
            or sources[0]
        )
    )
    if source == YOUR_IMAGES or demo is None:
        many_views.render_classes(stacked, names, [a.thumb for a in analysed], class_names=model.lm.labels)
    else:
        many_views.render_classes(
            demo.capture, demo.names, demo.thumbnails, class_names=model.lm.labels, labels=demo.labels
        )


def _render_interventions(analysed: list[Analysed], current: Analysed, lm: LoadedModel, fit: str) -> None:
    """Does a gate matter? Edit one block, knock every block out in turn, or ablate over all images."""
    what = (
        st.segmented_control(
            _("Question"),
            INTERVENTIONS,
            format_func=_,
            key="interventions_question",
            default=INTERVENTIONS[0],
            required=True,
            wrap=True,
        )
        or INTERVENTIONS[0]
    )
    if what == INTERVENTIONS[0]:
        others = [a.cap for a in analysed if a is not current]
        intervention_views.render_intervene(
            lm, current.input, current.name, group=Capture.concat(others) if others else None
        )
    elif what == INTERVENTIONS[1]:
        intervention_views.render_sweep(lm, current.input, current.name)
    else:
        intervention_views.render_set_ablation(lm, current.input.choice, fit, [a.input for a in analysed])
