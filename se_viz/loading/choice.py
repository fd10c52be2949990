"""The rules of model choice, apart from any widget: what the picker offers, what each option needs
now, what the app starts with and what it offers when a model cannot be loaded.

Everything here is plain Python on typed values (:class:`ModelChoice`, :class:`Weights`,
:class:`Availability`), so the rules are tested without Streamlit; ``se_viz.ui.sidebar`` only
draws them. The one outside fact a rule needs — whether a download could work now — comes in as
an argument (the UI asks the hub once a minute and caches the answer).
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

from timm.models import get_arch_name

from se_viz.i18n import N_, _

from . import hub
from .catalog import DEFAULT_MODEL, CatalogEntry, catalog, catalog_entry, teaching_entry
from .source import hub_repo

__all__ = [
    "Availability",
    "ModelChoice",
    "Weights",
    "availability",
    "choice_name",
    "env_choice",
    "is_teaching",
    "model_options",
    "option_label",
    "start_choice",
    "teaching_choice",
    "untrained_choice",
]


class Weights(enum.Enum):
    """Which weights a model choice asks for."""

    PUBLISHED = "published"  # the catalog's weights: bundled, or from the hub (cache or download)
    UNTRAINED = "untrained"  # random init, structure only
    FILE = "file"  # the operator's SE_VIZ_WEIGHTS file


@dataclass(frozen=True)
class ModelChoice:
    """What to load: a catalog id or timm name and which weights."""

    model_id: str
    weights: Weights = Weights.PUBLISHED
    file: Optional[str] = None

    @property
    def key(self) -> str:
        """A string naming exactly these weights (a changed file gets a new key via mtime/size)."""
        if self.weights is Weights.FILE and self.file:
            try:
                stat = os.stat(self.file)
                stamp = f"{stat.st_mtime_ns}:{stat.st_size}"
            except OSError:
                stamp = "missing"
            return f"{self.model_id}|file:{self.file}|{stamp}"
        return f"{self.model_id}|{self.weights.value}"


class Availability(enum.Enum):
    """What an option needs before it can load now; the value is the picker's mark."""

    BUNDLED = N_("works offline")  # weights ship with se_viz, or none are needed (untrained)
    CACHED = N_("downloaded before, works offline")  # in this computer's hub cache
    DOWNLOAD = N_("needs a download")  # from the Hugging Face hub, the first time
    LOCAL = N_("local file")  # the operator's SE_VIZ_WEIGHTS file
    YOURS = N_("your model")  # the operator's own network (a factory): se_viz cannot vouch for it

    @property
    def mark(self) -> str:
        """The words the picker shows next to the option, in the reader's language."""
        return _(self.value)


def env_choice(environ: Mapping[str, str] = os.environ) -> Optional[ModelChoice]:
    """The model (and weights file) the operator chose with SE_VIZ_MODEL / SE_VIZ_WEIGHTS."""
    model = environ.get("SE_VIZ_MODEL", "").strip()
    weights = environ.get("SE_VIZ_WEIGHTS", "").strip() or None
    if not model and not weights:
        return None
    model = model or DEFAULT_MODEL
    if weights:
        return ModelChoice(model, Weights.FILE, weights)
    entry = catalog_entry(model)
    return ModelChoice(entry.id if entry else model)


def model_options(env: Optional[ModelChoice] = None) -> list[ModelChoice]:
    """Picker options: the operator's model (``env``), every catalog model, then one untrained
    option per architecture. Raises ``ModelLoadError`` when the operator's catalog is unusable."""
    entries = catalog()
    options: list[ModelChoice] = []
    if env is not None:
        options.append(env)
        if env.weights is Weights.FILE and catalog_entry(env.model_id) is None:
            options.append(ModelChoice(env.model_id))
    options += [ModelChoice(e.id) for e in entries if ModelChoice(e.id) not in options]
    if env is not None and catalog_entry(env.model_id) is None:
        options.append(ModelChoice(env.model_id, Weights.UNTRAINED))
    # One untrained option per architecture: the a1 and ra2 SE-ResNet-50s share one structure.
    seen: set[str] = set()
    for entry in entries:
        if not entry.user and entry.architecture not in seen:  # the user's factory may load weights itself
            seen.add(entry.architecture)
            options.append(ModelChoice(entry.id, Weights.UNTRAINED))
    return options


def availability(choice: ModelChoice) -> Availability:
    """Where this choice's weights would come from now (asks the hub cache on disk, never the network)."""
    if choice.weights is Weights.UNTRAINED:
        return Availability.BUNDLED
    if choice.weights is Weights.FILE:
        return Availability.LOCAL
    entry = catalog_entry(choice.model_id)
    if entry is not None and entry.user:
        return Availability.YOURS
    if entry is not None and entry.offline:
        return Availability.BUNDLED if entry.bundled_available else Availability.DOWNLOAD
    cached = hub.cached_weights(hub_repo(choice.model_id, entry)) is not None
    return Availability.CACHED if cached else Availability.DOWNLOAD


def option_label(choice: ModelChoice) -> str:
    """Human label of a picker option, marked with what it needs; untrained ones say so loudly.

    Labels are unique (Streamlit keeps a selectbox's value by its label), so untrained options
    name their architecture.
    """
    entry = catalog_entry(choice.model_id)
    mark = availability(choice).mark
    if choice.weights is Weights.UNTRAINED:
        name = f"{entry.short_name} ({entry.architecture})" if entry else choice.model_id
        return _("{name} — UNTRAINED, structure only · {mark}").format(name=name, mark=mark)
    if choice.weights is Weights.FILE:
        name = entry.short_name if entry else choice.model_id
        yours = f" · {Availability.YOURS.mark}" if entry is not None and entry.user else ""
        return (
            _("{name} — weights from local file {file}").format(name=name, file=Path(choice.file or "").name)
            + yours
        )
    if entry is not None and entry.user:
        return f"{entry.name} · {mark}"
    if entry is None:
        return _("{name} (timm) · {mark}").format(name=choice.model_id, mark=mark)
    return f"{entry.label} · {mark}"


def choice_name(choice: ModelChoice) -> str:
    """The model's name for sentences: the catalog name, or the timm name."""
    entry = catalog_entry(choice.model_id)
    return entry.shown_name if entry else choice.model_id


def teaching_choice() -> Optional[ModelChoice]:
    """The offline teaching model (the catalog entry flagged ``teaching``), when its weights ship
    with this installation."""
    entry = teaching_entry()
    return ModelChoice(entry.id) if entry else None


def is_teaching(entry: Optional[CatalogEntry]) -> bool:
    """True for the catalog's offline teaching model (read from its flag, never from its labels)."""
    return entry is not None and entry.teaching


def _architecture(model_id: str) -> str:
    entry = catalog_entry(model_id)
    return entry.architecture if entry else get_arch_name(model_id)


def untrained_choice(model_id: str, options: list[ModelChoice]) -> Optional[ModelChoice]:
    """The untrained option among ``options`` with the same architecture as ``model_id``, if any."""
    arch = _architecture(model_id)
    return next(
        (c for c in options if c.weights is Weights.UNTRAINED and _architecture(c.model_id) == arch),
        None,
    )


def start_choice(
    env: Optional[ModelChoice], download_possible: Callable[[], bool]
) -> tuple[ModelChoice, Optional[str]]:
    """What the app starts with, and a sentence when that is not the paper's network.

    The operator's choice wins. Otherwise the paper's network, unless its weights need a download
    that cannot happen now and the teaching model ships here: then the teaching model, and a
    sentence saying why. ``download_possible`` is asked only in that case (it may take a second).
    """
    if env is not None:
        return env, None
    default = ModelChoice(DEFAULT_MODEL)
    teaching = teaching_choice()
    if availability(default) is Availability.DOWNLOAD and teaching is not None and not download_possible():
        entry = catalog_entry(DEFAULT_MODEL)
        taught = catalog_entry(teaching.model_id)
        return teaching, _(
            "There is no network here, so the app started with the bundled {taught}. "
            "{default} and the other models marked “{mark}” work "
            "once this computer is online (or their weights are copied here)."
        ).format(taught=taught.short_name, default=entry.short_name, mark=Availability.DOWNLOAD.mark)
    return default, None
