"""Streamlit caches: the model once per process, captures once per (image bytes, model).

* ``load_model_cached`` — ``st.cache_resource``: one :class:`~se_viz.LoadedModel` per
  (model id, weights file, pretrained flag), shared by every browser session. A failure raises
  and is therefore never cached; the session remembers it (see ``sidebar``) so a rerun does not
  retry until the user asks to.
* ``capture_cached`` — ``st.cache_data(max_entries=64)``: z, s and logits of one image (small,
  ~0.1 MB for SE-ResNet-50), keyed on the SHA-256 of the image bytes and the model key.
* ``capture_maps_cached`` — ``st.cache_data(max_entries=12)``: the same plus the spatial maps of
  *every* SE block, stored as float16 (≈22 MB per image for SE-ResNet-50). Only the image shown
  in the detailed views needs it; holding all blocks means picking another block in the
  drill-down never runs the network again.

``FORWARD_PASSES`` counts forward passes made by the app (tests read it to prove that a view
change reuses the cache). It lives in this module, so AppTest — which runs the script in the
test's process — sees the same counter.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import streamlit as st

import se_viz
from se_viz import Capture, LoadedModel

CAPTURE_ENTRIES = 64
MAPS_ENTRIES = 12
THUMB_PX = 256

FORWARD_PASSES = 0
_counter_lock = threading.Lock()


def forward_passes() -> int:
    """How many forward passes the app ran in this process."""
    return FORWARD_PASSES


def _count() -> None:
    global FORWARD_PASSES
    with _counter_lock:
        FORWARD_PASSES += 1


@dataclass(frozen=True)
class ModelChoice:
    """What to load: a catalog id or timm name, an optional local weights file, pretrained or not."""

    model_id: str
    weights: Optional[str] = None
    pretrained: bool = True

    @property
    def key(self) -> str:
        """A string naming exactly these weights (file changes invalidate it via mtime/size)."""
        if self.weights:
            try:
                st_ = os.stat(self.weights)
                stamp = f"{st_.st_mtime_ns}:{st_.st_size}"
            except OSError:
                stamp = "missing"
            return f"{self.model_id}|file:{self.weights}|{stamp}"
        return f"{self.model_id}|{'pretrained' if self.pretrained else 'untrained'}"


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(model_id: str, weights: Optional[str], pretrained: bool, key: str) -> LoadedModel:
    return se_viz.load_model(model_id, weights=weights, pretrained=pretrained)


def load_model_cached(choice: ModelChoice) -> LoadedModel:
    """The loaded model for ``choice``, loaded once per process; raises ``ModelLoadError``."""
    return _load(choice.model_id, choice.weights, choice.pretrained, choice.key)


def image_digest(data: bytes) -> str:
    """The cache key of an image: SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


@st.cache_data(max_entries=256, show_spinner=False)
def thumbnail_png(digest: str, _data: bytes) -> tuple[bytes, tuple[int, int]]:
    """Decode an image (raises ``InputError``) and return a PNG thumbnail and the original size."""
    img = se_viz.load_image(_data)
    size = img.size
    img.thumbnail((THUMB_PX, THUMB_PX))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), size


def _run(data: bytes, lm: LoadedModel, maps: bool) -> Capture:
    img = se_viz.load_image(data)
    batch = lm.preprocess([img])
    names = [b.name for b in lm.blocks] if maps else []
    _count()
    cap = se_viz.capture(lm.model, batch, blocks=lm.blocks, maps=names)
    if maps:
        # float16 halves the memory of the maps; the drill-down converts one block back.
        cap = replace(
            cap,
            maps_in={k: v.astype(np.float16) for k, v in cap.maps_in.items()},
            maps_out={k: v.astype(np.float16) for k, v in cap.maps_out.items()},
        )
    return cap


@st.cache_data(max_entries=CAPTURE_ENTRIES, show_spinner=False)
def _capture(digest: str, model_key: str, _data: bytes, _lm: LoadedModel) -> Capture:
    return _run(_data, _lm, maps=False)


@st.cache_data(max_entries=MAPS_ENTRIES, show_spinner=False)
def _capture_maps(digest: str, model_key: str, _data: bytes, _lm: LoadedModel) -> Capture:
    return _run(_data, _lm, maps=True)


def capture_cached(data: bytes, model_key: str, lm: LoadedModel, *, maps: bool = False,
                   digest: Optional[str] = None) -> Capture:
    """The capture of one image (N = 1): from the cache, or one forward pass.

    ``maps=True`` also keeps the maps of every SE block (float16). Raises ``InputError`` for
    an image that cannot be decoded (failures are not cached). ``digest`` saves re-hashing.
    """
    digest = digest or image_digest(data)
    if maps:
        return _capture_maps(digest, model_key, data, lm)
    return _capture(digest, model_key, data, lm)


def block_maps(cap: Capture, block: str) -> Capture:
    """A view of ``cap`` whose maps hold only ``block``, as float32 (for the figure builders)."""
    if block not in cap.maps_in:
        return replace(cap, maps_in={}, maps_out={})
    return replace(
        cap,
        maps_in={block: cap.maps_in[block].astype(np.float32)},
        maps_out={block: cap.maps_out[block].astype(np.float32)},
    )


def stack_captures(caps: list[Capture]) -> Capture:
    """One capture of N images from N single-image captures of the same model (no maps)."""
    first = caps[0]
    return Capture(
        blocks=first.blocks,
        gates={k: np.concatenate([c.gates[k] for c in caps]) for k in first.gates},
        squeeze={k: np.concatenate([c.squeeze[k] for c in caps]) for k in first.squeeze},
        logits=np.concatenate([c.logits for c in caps]),
    )
