"""A link to this view: what a teacher hands to the room, as URL query parameters.

The link names the model, the bundled sample or generated images, the image shown in detail,
the tab, the block, the channel, the fit, projector mode and the language (``lang=zh_CN``). It
never carries an uploaded image or a camera photo (those stay in the browser session that sent
them), and it never names code or a file: a model in the link is honoured only when it is one of
the picker's options, so a link cannot make the server load anything the operator did not offer.

This module is plain Python (no Streamlit): :func:`to_query` and :func:`from_query` turn a
:class:`ViewLink` into query parameters and back, checking every value against what the app
offers; :mod:`.state` applies a link to a fresh session and keeps the address bar current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence, Union

from se_viz.i18n import N_, normalise
from se_viz.loading.choice import ModelChoice, Weights
from se_viz.loading.fit import FITS

__all__ = ["LINK_NOTE", "ViewLink", "from_query", "language_in_query", "to_query"]

LINK_NOTE = N_(
    "The link restores the model, the sample or generated images, the tab, the block, the "
    "channel, the display (projector or not) and the language. Uploaded images and camera photos "
    "are not in it: they stay in this browser session."
)

#: Query parameter names, short so a link fits on a slide.
MODEL, WEIGHTS, SAMPLES, IMAGE, TAB, BLOCK, CHANNEL, FIT, PROJECTOR, LANG = (
    "model",
    "weights",
    "img",
    "show",
    "tab",
    "block",
    "ch",
    "fit",
    "projector",
    "lang",
)


@dataclass(frozen=True)
class ViewLink:
    """What a link restores; ``None`` (or empty) leaves that setting as a fresh session has it."""

    model: Optional[ModelChoice] = None
    samples: tuple[str, ...] = field(default_factory=tuple)
    image: Optional[str] = None  # the image shown in the detail views (one of ``samples``)
    tab: Optional[str] = None
    block: Optional[str] = None
    channel: Optional[int] = None
    fit: Optional[str] = None
    projector: bool = False  # the room's screen: a link for the projector opens in projector mode
    language: Optional[str] = None  # one of se_viz.i18n.LANGUAGES


def to_query(link: ViewLink) -> dict[str, Union[str, list[str]]]:
    """The query parameters of ``link`` (a model with a local weights file is left out: a link
    must not name a file on the server)."""
    out: dict[str, Union[str, list[str]]] = {}
    if link.model is not None and link.model.weights is not Weights.FILE:
        out[MODEL] = link.model.model_id
        if link.model.weights is Weights.UNTRAINED:
            out[WEIGHTS] = Weights.UNTRAINED.value
    if link.samples:
        out[SAMPLES] = list(link.samples)
    for key, value in ((IMAGE, link.image), (TAB, link.tab), (BLOCK, link.block), (FIT, link.fit)):
        if value:
            out[key] = value
    if link.channel is not None:
        out[CHANNEL] = str(link.channel)
    if link.projector:
        out[PROJECTOR] = "1"
    if link.language:
        out[LANG] = link.language
    return out


def _one(params: Mapping[str, Sequence[str]], key: str) -> Optional[str]:
    values = params.get(key) or []
    return values[-1] if values else None


def language_in_query(params: Mapping[str, Sequence[str]]) -> Optional[str]:
    """The language a link asks for (``zh_CN``, ``zh-CN``, ``zh``, ``en``), or None for any other
    value: an unknown language is ignored, never an error."""
    return normalise(_one(params, LANG))


def from_query(
    params: Mapping[str, Sequence[str]],
    *,
    options: Sequence[ModelChoice],
    samples: Sequence[str],
    tabs: Sequence[str],
) -> ViewLink:
    """The link in ``params`` (every value of each key, as ``st.query_params.get_all`` gives),
    keeping only what the app offers: a model among ``options``, images among ``samples``, a tab
    among ``tabs``, a fit among :data:`~se_viz.loading.fit.FITS`, a channel that is a number.
    Anything else is dropped, never guessed. Blocks are checked when the model has loaded."""
    model_id = _one(params, MODEL)
    model = None
    if model_id:
        weights = Weights.UNTRAINED if _one(params, WEIGHTS) == Weights.UNTRAINED.value else Weights.PUBLISHED
        wanted = ModelChoice(model_id, weights)
        model = wanted if wanted in options else None
    chosen = tuple(dict.fromkeys(s for s in params.get(SAMPLES, []) if s in samples))
    image = _one(params, IMAGE)
    tab = _one(params, TAB)
    fit = _one(params, FIT)
    channel = _one(params, CHANNEL)
    return ViewLink(
        model=model,
        samples=chosen,
        image=image if image in chosen else None,
        tab=tab if tab in tabs else None,
        block=_one(params, BLOCK),
        channel=int(channel) if channel and channel.isdigit() else None,
        fit=fit if fit in FITS else None,
        projector=_one(params, PROJECTOR) == "1",
        language=language_in_query(params),
    )
