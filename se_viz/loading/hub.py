"""The model hub: find weights in the standard Hugging Face cache, else download them, and fail
fast and plainly when neither is possible.

Without network the hub client retries for about 46 s; a classroom cannot wait that long. So the
cache is checked first, ``HF_HUB_OFFLINE`` is honoured at once, and otherwise a one-second TCP
probe decides whether a download is worth trying.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import huggingface_hub
from timm.models import get_pretrained_cfg

from ..errors import DownloadUnavailable, first_line
from ..i18n import N_, _
from .catalog import MINI_MODEL

__all__ = ["OFFLINE_ADVICE", "default_repo", "fetch_weights", "hub_reachable", "offline"]

NETWORK_PROBE_SECONDS = 1.0
WEIGHTS_FILE = "model.safetensors"
#: What to do without a download; ``{mini}`` is the offline teaching model's id.
OFFLINE_ADVICE = N_(
    "Connect to the internet once so the weights can be downloaded and cached, give a local "
    "weights file (SE_VIZ_WEIGHTS or weights=...), or pick a model that works offline "
    "('{mini}', or 'untrained — structure only')."
)


def _advice() -> str:
    return _(OFFLINE_ADVICE).format(mini=MINI_MODEL)


def _endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def offline() -> bool:
    """True when the operator switched the hub off (``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = NETWORK_PROBE_SECONDS) -> bool:
    """True if a TCP connection to the hub opens within ``timeout`` seconds (DNS included)."""
    url = urlparse(_endpoint())
    host, port = url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # DNS look-ups ignore socket timeouts, so the probe runs in a thread we stop waiting for.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def cached_weights(repo: str) -> Path | None:
    """The cached weights file of ``repo``, or None when it was never downloaded here."""
    cached = huggingface_hub.try_to_load_from_cache(repo, WEIGHTS_FILE)
    return Path(cached) if isinstance(cached, str) and os.path.isfile(cached) else None


def fetch_weights(repo: str, model_label: str) -> tuple[Path, bool]:
    """``(path, from_cache)`` of ``model.safetensors`` for a hub repo: from the cache, else
    downloaded into it. Raises :class:`DownloadUnavailable` (within about a second offline)."""
    cached = cached_weights(repo)
    if cached is not None:
        return cached, True
    if offline():
        raise DownloadUnavailable(
            _(
                "The weights of '{model}' are not in the local cache and HF_HUB_OFFLINE is set, "
                "so they cannot be downloaded. {advice}"
            ).format(model=model_label, advice=_advice())
        )
    if not hub_reachable():
        raise DownloadUnavailable(
            _(
                "The weights of '{model}' are not in the local cache and the model hub "
                "({host}) cannot be reached. {advice}"
            ).format(model=model_label, host=urlparse(_endpoint()).hostname, advice=_advice())
        )
    try:
        return Path(huggingface_hub.hf_hub_download(repo, WEIGHTS_FILE)), False
    except Exception as exc:
        raise DownloadUnavailable(
            _("Downloading the weights of '{model}' from {repo} failed ({kind}: {reason}). {advice}").format(
                model=model_label,
                repo=repo,
                kind=type(exc).__name__,
                reason=first_line(exc),
                advice=_advice(),
            )
        ) from None


def default_repo(name: str) -> str:
    """The hub repository holding the weights of a timm ``arch.tag`` name."""
    cfg = get_pretrained_cfg(name)
    if cfg is not None and cfg.hf_hub_id:
        return cfg.hf_hub_id
    # timm hosts every pretrained tag as timm/<arch>.<tag>, including legacy ports whose
    # config still points at a GitHub release URL.
    return f"timm/{name}"
