"""What the app keeps between reruns and sessions: models, captures, thumbnails.

* :func:`load_model_cached` — ``st.cache_resource``: one :class:`~se_viz.LoadedModel` per
  (model, weights) shared by every browser session (``capture`` serialises passes per model).
  A failure raises and is never cached; :mod:`.state` remembers it for the session.
* :class:`ResultKey` — the one key of every computed result: the image files' SHA-256, the model
  choice, the fit and the view's own parameters (:func:`result_key`); a gate dataset's results
  are keyed by its content key instead (:func:`dataset_result_key`). No view hashes pixels;
  :class:`ResultStore` refuses any other key, and :func:`kept` is the one way a view keeps a
  result (no ``st.cache_*`` outside this module, tested).
* :class:`NetworkInput` — one image as every view computes on it (bytes, SHA-256, model choice,
  fit): its :meth:`~NetworkInput.batch` is the one preprocessing, so the fit reaches every view.
* :class:`CaptureStore` — one process-wide LRU of captures keyed on the capture's
  :class:`ResultKey` (and whether it holds maps). It can say whether it holds a capture, so the
  app shows a progress bar only when a forward pass will really run. Captures with maps keep
  every block's maps as float16 (22 MB per image for SE-ResNet-50 at 224 px: the arrays'
  nbytes), so picking another block in the drill-down never runs the network.
* :func:`thumbnail_png` — a decoded, always-visible thumbnail per image (kept like every result).

Decoded images, thumbnails and the network's view of an image are results too, kept the same
way (keyed by the file's SHA-256, and the model choice and fit where they matter). The only
``st.cache_*`` left are the loaded models and the hub check (resources, not results) and the
stores themselves.
"""

from __future__ import annotations

import collections
import hashlib
import io
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import streamlit as st
import torch
from PIL import Image, ImageOps

import se_viz
from se_viz import Capture, LoadedModel
from se_viz.loading import hub
from se_viz.loading.fit import check_fit

from .state import ModelChoice, Weights

THUMB_PX = 256
MIN_THUMB_SIDE = 48  # a 10000×10 image still gets a thumbnail one can see
CAPTURE_ENTRIES = 64
MAPS_ENTRIES = 12
RESULT_ENTRIES = 32
DECODED_ENTRIES = 16
#: Results kept per view where the default (:data:`RESULT_ENTRIES`) would hold too many large ones
#: or too few small ones. A view not named here shares the default store.
VIEW_ENTRIES = {
    "dataset": 4,  # an opened dataset: its per-image columns and aggregates
    "dataset upload": 8,
    "dataset groups": 8,
    "dataset images": 2,  # the images a stage ablation reruns
    "dataset map": 8,
    "dataset thumbnail": 512,
    "offline set": 4,
    "decoded image": DECODED_ENTRIES,
    "thumbnail": 256,
    "network view": 256,
}
#: The fit and model of a result read from a gate dataset: as it was captured (its manifest says
#: both, and the manifest is part of the dataset's content key).
AS_CAPTURED = "as captured"
#: The model and fit of a result that depends on neither (images a generator draws).
INDEPENDENT = "independent"


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(model_id: str, file: Optional[str], pretrained: bool, key: str) -> LoadedModel:
    return se_viz.load_model(model_id, weights=file, pretrained=pretrained)


def load_model_cached(choice: ModelChoice) -> LoadedModel:
    """The loaded model for ``choice``, loaded once per process; raises ``ModelLoadError``."""
    file = choice.file if choice.weights is Weights.FILE else None
    return _load(choice.model_id, file, choice.weights is not Weights.UNTRAINED, choice.key)


@st.cache_data(ttl=60, show_spinner=False)
def hub_usable() -> bool:
    """Whether a download could work now (no HF_HUB_OFFLINE, the hub answers); asked once a minute."""
    return not hub.offline() and hub.hub_reachable()


def image_digest(data: bytes) -> str:
    """The cache key of an image: SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


def decoded_image(digest: str, _data: bytes) -> Image.Image:
    """The decoded RGB image of ``_data`` (SHA-256 ``digest``), decoded once and shared: the
    intervention and teaching views run on every widget change, and decoding a photo costs tens
    of milliseconds. Callers must not change it in place (se_viz's preprocessing converts into a
    new image)."""
    return kept(image_key("decoded image", digest), lambda: se_viz.load_image(_data))


def thumbnail_png(digest: str, _data: bytes) -> bytes:
    """Decode an image (raises ``InputError``) and return a PNG thumbnail whose shorter side is at
    least :data:`MIN_THUMB_SIDE` px (extreme shapes are padded, not squashed to nothing)."""

    def make() -> bytes:
        img = se_viz.load_image(_data)
        img.thumbnail((THUMB_PX, THUMB_PX))
        if min(img.size) < MIN_THUMB_SIDE:
            w, h = img.size
            img = ImageOps.pad(img, (max(w, MIN_THUMB_SIDE), max(h, MIN_THUMB_SIDE)), color=(240, 240, 240))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    return kept(image_key("thumbnail", digest), make)


@dataclass(frozen=True)
class ResultKey:
    """What a computed result depends on, and nothing else: the one key of every view's results.

    ``images`` are the SHA-256 digests of the image files (in order; empty for generated sets,
    which ``params`` then name), ``model`` the :attr:`ModelChoice.key`, ``fit`` how images were
    fitted to the network's square, ``params`` the view's own settings (block, edit, …). Two
    requests with equal keys get the same numbers, so a rerun, another tab or another user
    never recomputes, and a changed fit or model never shows a stale result.
    """

    view: str
    images: tuple[str, ...]
    model: str
    fit: str
    params: tuple = ()


def result_key(
    view: str, images: Union[str, Sequence[str]], choice: ModelChoice, fit: str, *params: object
) -> ResultKey:
    """The :class:`ResultKey` of ``view``'s result on ``images`` (one digest or several)."""
    digests = (images,) if isinstance(images, str) else tuple(images)
    return ResultKey(view, digests, choice.key, check_fit(fit), tuple(params))


def dataset_result_key(view: str, dataset: str, *params: object) -> ResultKey:
    """The :class:`ResultKey` of ``view``'s result on the gate dataset whose content key is
    ``dataset`` (:func:`se_viz.datasets.serving.folder_key` / ``aggregate.dataset_key``: the
    manifest and every part file). Its model and fit are the ones it was captured with, inside
    that key, so the key says :data:`AS_CAPTURED` for both."""
    return ResultKey(view, (dataset,), AS_CAPTURED, AS_CAPTURED, tuple(params))


def image_key(view: str, digest: str) -> ResultKey:
    """The :class:`ResultKey` of something made from one image file alone (its decoded pixels, a
    thumbnail): no model, no fit."""
    return ResultKey(view, (digest,), INDEPENDENT, INDEPENDENT)


def generated_key(view: str, *params: object) -> ResultKey:
    """The :class:`ResultKey` of something a generator makes from ``params`` alone (no files, no
    model, no fit: the key says :data:`INDEPENDENT` for both)."""
    return ResultKey(view, (), INDEPENDENT, INDEPENDENT, tuple(params))


def loaded_model_key(view: str, lm: LoadedModel, *params: object) -> ResultKey:
    """The :class:`ResultKey` of something made by the loaded model object itself from ``params``
    (no files, no fit): keyed by that object, so every session of the model shares it and a
    reloaded model never gets an older model's result (the app loads each choice once per process)."""
    return ResultKey(view, (), f"{lm.name}@{id(lm.model):x}", INDEPENDENT, tuple(params))


@dataclass(frozen=True)
class NetworkInput:
    """One image as every view computes on it: its bytes and their SHA-256, the model choice and
    the fit. Views get this instead of a decoded image, so they key results with :meth:`key` and
    preprocess with :meth:`batch` — the same input the capture, heatmap and drill-down use."""

    data: bytes = field(repr=False)
    digest: str
    choice: ModelChoice
    fit: str

    def image(self) -> Image.Image:
        """The decoded image (decoded once per process)."""
        return decoded_image(self.digest, self.data)

    def batch(self, lm: LoadedModel) -> torch.Tensor:
        """The (1, 3, H, W) batch the network sees under this fit."""
        return lm.preprocess([self.image()], fit=self.fit)

    def key(self, view: str, *params: object) -> ResultKey:
        """The key of ``view``'s result on this image with these parameters."""
        return result_key(view, self.digest, self.choice, self.fit, *params)


def network_input(data: bytes, choice: ModelChoice, fit: str) -> NetworkInput:
    """The :class:`NetworkInput` of an image file's bytes (its SHA-256 computed here)."""
    return NetworkInput(data, image_digest(data), choice, fit)


def batch_of(inputs: Sequence[NetworkInput], lm: LoadedModel) -> torch.Tensor:
    """The (N, 3, H, W) batch of several images, each fitted as its own input says."""
    return torch.cat([i.batch(lm) for i in inputs]) if inputs else torch.empty(0)


def network_view_png(digest: str, model_key: str, fit: str, _data: bytes, _lm: LoadedModel) -> bytes:
    """The image as the network sees it (fitted, resized, cropped; not normalised), as PNG: shown
    beside the predictions and at the start of the block walk. Keyed like every result: the file's
    SHA-256, the model choice's key and the fit."""

    def make() -> bytes:
        buf = io.BytesIO()
        _lm.input_view(decoded_image(digest, _data), fit=fit).save(buf, format="PNG")
        return buf.getvalue()

    return kept(ResultKey("network view", (digest,), model_key, check_fit(fit)), make)


class ResultStore:
    """A thread-safe LRU of computed results that can say what it holds.

    Shared by every session of the process (results are plain arrays and dataclasses, the same
    for everyone who asks the same question), so a rerun, another tab or another user never
    recomputes what is held. Keys are :class:`ResultKey` only: a result keyed any other way
    (a pixel hash, a model name without its weights) is refused with ``TypeError``.
    """

    def __init__(self, entries: int) -> None:
        self._table: collections.OrderedDict = collections.OrderedDict()
        self._entries = entries
        self._lock = threading.Lock()

    @staticmethod
    def _check(key: object) -> None:
        if not isinstance(key, ResultKey):
            raise TypeError(
                f"Results are keyed by ResultKey (image SHA-256, model, fit, parameters), not {key!r}"
            )

    def __contains__(self, key: object) -> bool:
        self._check(key)
        with self._lock:
            return key in self._table

    def peek(self, key: object) -> Optional[Any]:
        """The held result for ``key``, or None (never computes)."""
        self._check(key)
        with self._lock:
            if key in self._table:
                self._table.move_to_end(key)
            return self._table.get(key)

    def get(self, key: object, compute: Callable[[], Any]) -> Any:
        """The result for ``key``: held, or computed now (outside the lock) and kept."""
        held = self.peek(key)
        if held is not None:
            return held
        value = compute()
        with self._lock:
            self._table[key] = value
            while len(self._table) > self._entries:
                self._table.popitem(last=False)
        return value


class CaptureStore:
    """Single-image captures in two stores: plain ones (z, s, logits: 0.12 MB each for
    SE-ResNet-50, the arrays' nbytes) and ones with every block's maps (large). A plain request
    is also served by a capture with maps."""

    def __init__(self, entries: int = CAPTURE_ENTRIES, maps_entries: int = MAPS_ENTRIES) -> None:
        self._stores = {False: ResultStore(entries), True: ResultStore(maps_entries)}

    def has(self, key: ResultKey, maps: bool) -> bool:
        """True when the capture for ``key`` is held (with maps if ``maps``)."""
        return key in self._stores[True] or (not maps and key in self._stores[False])

    def get(self, key: ResultKey, maps: bool, compute: Callable[[], Capture]) -> Capture:
        """The capture for ``key``: held, or computed now and kept."""
        with_maps = self._stores[True].peek(key)
        if with_maps is not None:
            return with_maps
        return self._stores[maps].get(key, compute)


@st.cache_resource(show_spinner=False)
def capture_store() -> CaptureStore:
    """The process-wide capture store (cleared with Streamlit's caches)."""
    return CaptureStore()


@st.cache_resource(show_spinner=False)
def result_store() -> ResultStore:
    """The process-wide store of slower results (interventions, sweeps, ablations, block walks)."""
    return ResultStore(RESULT_ENTRIES)


@st.cache_resource(show_spinner=False)
def _view_stores() -> dict[str, ResultStore]:
    return {view: ResultStore(n) for view, n in VIEW_ENTRIES.items()}


def _store_of(key: ResultKey) -> ResultStore:
    return _view_stores().get(key.view) or result_store()


def kept(key: ResultKey, compute: Callable[[], Any], spinner: Optional[str] = None) -> Any:
    """The result for ``key``: held, or computed now and kept — the one way a view keeps a result.

    ``spinner`` is said while it is computed (never when the result is held). Failures raise and
    are not kept.
    """
    store = _store_of(key)
    if spinner is None or key in store:
        return store.get(key, compute)
    with st.spinner(spinner):
        return store.get(key, compute)


def keep(key: ResultKey, value: Any) -> Any:
    """Keep ``value``, computed elsewhere (the heavy-run worker, :mod:`.runner`), under ``key``."""
    return _store_of(key).get(key, lambda: value)


@st.cache_resource(show_spinner=False)
def process_wide(kind: str, _make: Callable[[], Any]) -> Any:
    """The one object of ``kind`` that every session of this server shares (made by ``_make`` the
    first time), e.g. the heavy-run queue."""
    return _make()


def held(key: ResultKey) -> Optional[Any]:
    """The result kept for ``key``, or None (never computes)."""
    return _store_of(key).peek(key)


def _run(inp: NetworkInput, lm: LoadedModel, maps: bool) -> Capture:
    cap = se_viz.capture(
        lm.model, inp.batch(lm), blocks=lm.blocks, maps=[b.name for b in lm.blocks] if maps else []
    )
    if maps:
        # float16 halves the memory of the maps; the drill-down converts one block back.
        cap = replace(
            cap,
            maps_in={k: v.astype(np.float16) for k, v in cap.maps_in.items()},
            maps_out={k: v.astype(np.float16) for k, v in cap.maps_out.items()},
        )
    return cap


def capture_key(digest: str, choice: ModelChoice, fit: str) -> ResultKey:
    """The store key of one image's capture under one model and fit."""
    return result_key("capture", digest, choice, fit)


def capture_cached(
    data: bytes, digest: str, choice: ModelChoice, lm: LoadedModel, *, fit: str, maps: bool = False
) -> Capture:
    """The capture of one image (N = 1): from the store, or one forward pass.

    Raises ``InputError`` for an image that cannot be decoded (failures are not kept).
    """
    inp = NetworkInput(data, digest, choice, fit)
    return capture_store().get(inp.key("capture"), maps, lambda: _run(inp, lm, maps))


def block_maps(cap: Capture, block: str) -> Capture:
    """A view of ``cap`` whose maps hold only ``block``, as float32 (for the figure builders)."""
    if block not in cap.maps_in:
        return replace(cap, maps_in={}, maps_out={})
    return replace(
        cap,
        maps_in={block: cap.maps_in[block].astype(np.float32)},
        maps_out={block: cap.maps_out[block].astype(np.float32)},
    )
