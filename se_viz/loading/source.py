"""Where a model's weights come from, resolved to a small record before anything is built.

Like timm's ``_resolve_pretrained_source``: first decide the source (a local file, the bundled
file, the hub cache or a download, or none at all), then act on it. The record is also what the
app shows and what every export's manifest names, so a label can never claim weights that are not
loaded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import ModelLoadError
from ..i18n import _
from .catalog import CatalogEntry
from .hub import default_repo, fetch_weights
from .weights import file_sha256

__all__ = [
    "LOCAL_FILE",
    "BUNDLED",
    "HUB_CACHE",
    "HUB_DOWNLOAD",
    "RANDOM_INIT",
    "FACTORY",
    "WeightsSource",
    "hub_repo",
    "resolve_source",
]

LOCAL_FILE, BUNDLED, HUB_CACHE, HUB_DOWNLOAD, RANDOM_INIT, FACTORY = (
    "local file",
    "bundled",
    "hub cache",
    "hub download",
    "random init",
    "factory",
)


@dataclass(frozen=True)
class WeightsSource:
    """Where the weights of a loaded model came from.

    ``kind`` is one of ``"local file"`` (a file the operator gave: its contents are unknown to
    se_viz), ``"bundled"`` (shipped with se_viz), ``"hub cache"`` / ``"hub download"`` (a
    catalog or timm model's published weights), ``"random init"`` (untrained, structure only) or
    ``"factory"`` (the user's own network, no weights file loaded: whatever its factory gave it).
    """

    kind: str
    path: Optional[Path] = None
    repo: Optional[str] = None

    @property
    def trained(self) -> bool:
        """False only for random initialisation."""
        return self.kind != RANDOM_INIT

    @property
    def known(self) -> bool:
        """True when se_viz knows what the weights are (published or bundled, or none)."""
        return self.kind not in (LOCAL_FILE, FACTORY)

    @functools.cached_property
    def sha256(self) -> Optional[str]:
        """SHA-256 of the weights file (None for random init); computed once, on first use."""
        return file_sha256(self.path) if self.path is not None else None

    def describe(self) -> str:
        """One phrase for people: where the weights came from."""
        if self.kind == LOCAL_FILE:
            return f"local file {self.path} (contents unknown to se_viz)"
        if self.kind == BUNDLED:
            return f"bundled with se_viz ({self.path.name})"
        if self.kind == HUB_CACHE:
            return f"Hugging Face hub {self.repo} (from the local cache at {self.path.parent})"
        if self.kind == HUB_DOWNLOAD:
            return f"Hugging Face hub {self.repo} (downloaded now, cached at {self.path.parent})"
        if self.kind == FACTORY:
            return (
                "no weights file — the network as your factory built it (untrained unless the "
                "factory loads weights itself)"
            )
        return "untrained (random init) — structure only"

    def manifest(self) -> dict[str, Optional[str]]:
        """The record as plain strings, for export manifests."""
        return {
            "kind": self.kind,
            "path": str(self.path) if self.path else None,
            "repo": self.repo,
            "sha256": self.sha256,
            "description": self.describe(),
        }


def hub_repo(name: str, entry: Optional[CatalogEntry]) -> str:
    """The hub repository of a catalog entry's or timm name's published weights."""
    return (entry.hf_hub_id if entry else None) or default_repo(entry.id if entry else name)


def resolve_source(
    name: str, entry: Optional[CatalogEntry], weights: Optional[Path], pretrained: bool
) -> WeightsSource:
    """Decide where the weights of ``name`` come from; find or fetch the file.

    Order: an explicit ``weights`` file, then (when ``pretrained``) the entry's bundled file, then
    the hub (cache first); the user's own network takes its catalog entry's weights file, else
    what its factory gives it. Raises :class:`ModelLoadError` when the source cannot be had —
    before the network is built, so a missing download fails fast.
    """
    if weights is not None:
        return WeightsSource(LOCAL_FILE, path=weights)
    if entry is not None and entry.user:
        if not (pretrained and entry.weights):
            return WeightsSource(FACTORY)
        path = Path(entry.weights)
        if not path.is_file():
            raise ModelLoadError(
                _(
                    "The weights file {path} of '{id}' (named in {catalog}) does not exist: check its path."
                ).format(path=path, id=entry.id, catalog=Path(entry.catalog_file or "").name)
            )
        return WeightsSource(LOCAL_FILE, path=path)
    if not pretrained:
        return WeightsSource(RANDOM_INIT)
    if entry is not None and entry.offline:
        if not entry.bundled_available:
            raise ModelLoadError(
                _("The bundled weights {path} are missing. Run 'se-viz train-demo' to train them.").format(
                    path=entry.bundled_path
                )
            )
        return WeightsSource(BUNDLED, path=entry.bundled_path)
    repo = hub_repo(name, entry)
    path, cached = fetch_weights(repo, entry.shown_name if entry else name)
    return WeightsSource(HUB_CACHE if cached else HUB_DOWNLOAD, path=path, repo=repo)
