"""The Streamlit UI of se_viz (the only package that imports Streamlit, with ``app.py``).

``main()`` wires the flow: sidebar inputs → model → decoded images → cached captures → views.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

import se_viz
from se_viz import Capture
from se_viz.loading.samples import all_samples

from . import cache, sidebar, views

__all__ = ["main", "VIEWS"]

log = logging.getLogger(__name__)

VIEWS = ["Predictions", "Gate heatmap", "Distributions", "Block drill-down", "Export"]
VIEW_KEY = "view"
DETAIL_KEY = "detail_image"
SEEN_KEY = "_seen_captures"


@dataclass
class Analysed:
    """One decoded image and its capture."""

    name: str
    data: bytes
    thumb: bytes
    cap: Capture


def _decode(items: list[sidebar.ImageItem]) -> list[tuple[sidebar.ImageItem, bytes]]:
    """Thumbnails of the images that decode; a clear message naming each file that does not."""
    good = []
    for item in items:
        try:
            thumb, _ = cache.thumbnail_png(item.digest, item.data)
        except se_viz.InputError as exc:
            msg = str(exc)
            if msg.startswith("image: "):
                msg = msg[len("image: "):]
            st.error(f"**{item.name}** cannot be used: {msg} The other images are unaffected.",
                     icon=":material/broken_image:")
            continue
        except Exception as exc:  # noqa: BLE001
            log.exception("decoding %s failed", item.name)
            st.error(f"**{item.name}** cannot be used: the file could not be read "
                     f"({type(exc).__name__}).", icon=":material/broken_image:")
            continue
        good.append((item, thumb))
    return good


def _analyse(decoded, model: sidebar.ModelState, detail: str) -> list[Analysed]:
    """Captures of every image (maps of every block for the one shown in detail), with progress."""
    lm = model.lm
    key = model.choice.key
    seen: set = st.session_state.setdefault(SEEN_KEY, set())
    todo = [(item.name, item.digest, item.name == detail) for item, _ in decoded]
    missing = [t for t in todo if (t[1], key, t[2]) not in seen]
    bar = st.progress(0.0, text="Running the network …") if missing else None
    out: list[Analysed] = []
    done = 0
    for item, thumb in decoded:
        maps = item.name == detail
        digest = item.digest
        if bar is not None and (digest, key, maps) not in seen:
            bar.progress(done / max(len(missing), 1), text=f"Running the network on {item.name} …")
        try:
            cap = cache.capture_cached(item.data, key, lm, maps=maps, digest=digest)
        except se_viz.InputError as exc:
            st.error(f"**{item.name}** cannot be used: {exc}", icon=":material/broken_image:")
            continue
        except Exception as exc:  # noqa: BLE001
            log.exception("capture of %s failed", item.name)
            st.error(f"**{item.name}**: the network could not process this image "
                     f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}).",
                     icon=":material/warning:")
            continue
        if (digest, key, maps) not in seen:
            seen.add((digest, key, maps))
            done += 1
        out.append(Analysed(item.name, item.data, thumb, cap))
    if bar is not None:
        bar.empty()
    return out


def main() -> None:
    """Run one pass of the app script (after ``st.set_page_config`` and the intro).

    Everything runs under :func:`views.friendly_errors`: whatever fails, the user reads a
    sentence, never a traceback (the views have their own guards, so one broken view leaves the
    others working).
    """
    with views.friendly_errors("page"):
        _main()


def _main() -> None:
    inputs = sidebar.inputs_ui()
    model = inputs.model
    views.render_model_problem(model)
    gallery = all_samples()
    decoded = _decode(inputs.images)
    if not decoded:
        views.render_empty_state(model, gallery)
        return
    if model.lm is None:
        st.info("Your images are ready; pick a model that loads (see above) to analyse them.")
        cols = st.columns(min(len(decoded), 6))
        for i, (item, thumb) in enumerate(decoded):
            cols[i % len(cols)].image(thumb, caption=item.name, width="stretch")
        return

    names = [item.name for item, _ in decoded]
    if st.session_state.get(DETAIL_KEY) not in names:
        st.session_state[DETAIL_KEY] = names[0]
    if len(names) > 1:
        detail = st.selectbox("Image for the heatmap, distributions and drill-down", names,
                              key=DETAIL_KEY)
    else:
        detail = names[0]
    analysed = _analyse(decoded, model, detail)
    if not analysed:
        st.warning("None of the images could be analysed.")
        return
    current = next((a for a in analysed if a.name == detail), analysed[0])

    lm = model.lm
    views.render_mini_hint(lm, [a.name for a in analysed], gallery)
    tabs = st.tabs(VIEWS, key=VIEW_KEY, on_change="rerun")
    render = {
        "Predictions": lambda: views.render_predictions(
            [(a.name, a.thumb, a.cap) for a in analysed], lm),
        "Gate heatmap": lambda: views.render_heatmap(current.cap, current.name),
        "Distributions": lambda: views.render_distributions(current.cap, current.name),
        "Block drill-down": lambda: views.render_drilldown(current.cap, current.name),
        "Export": lambda: views.render_export(
            cache.stack_captures([a.cap for a in analysed]), [a.name for a in analysed],
            current.cap, current.name, lm.name),
    }
    for label, tab in zip(VIEWS, tabs):
        if tab.open:
            with tab, views.friendly_errors(label.lower()):
                render[label]()
