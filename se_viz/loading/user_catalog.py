"""The operator's own catalog: SE networks built by their own code, named in a TOML file.

``SE_VIZ_CATALOG=path/to/my_models.toml`` adds its ``[[model]]`` entries to :func:`catalog`,
marked as the user's (``user=True``) and built by the ``factory`` builder::

    [[model]]
    id = "my_senet.shapes"               # what load_model / SE_VIZ_MODEL / the picker use
    name = "My SE-Net (shapes)"          # optional; the id by default
    factory = "my_senet.py:build"        # a .py file (relative to this file) or module:function
    weights = "my_senet.safetensors"     # optional; relative to this file
    classes = "my_classes.txt"           # optional: .txt (one per line), .json list, or a list
    input_size = 64                      # optional: 64, [64, 64] or [3, 64, 64]
    mean = [0.5, 0.5, 0.5]               # optional, with std, interpolation, crop_pct

What an entry does not give is taken from timm's data config of the network (its own
``pretrained_cfg``, else timm's ImageNet defaults) and stated on screen as a default
(:attr:`LoadedModel.defaults <se_viz.loading.load.LoadedModel>`).
"""

from __future__ import annotations

import functools
import json
import os
import tomllib
from pathlib import Path
from typing import Any, Optional, Sequence

from timm.data import resolve_model_data_config
from torch import nn

from ..errors import ModelLoadError, first_line
from ..i18n import N_, _
from .catalog import CatalogEntry
from .factory import factory_label, parse_factory

__all__ = [
    "CATALOG_ENV",
    "check_class_count",
    "defaults_sentence",
    "entry_classes",
    "factory_entry",
    "read_classes",
    "read_user_catalog",
    "user_data_config",
    "user_entries",
]

CATALOG_ENV = "SE_VIZ_CATALOG"
_FIELDS = {
    "id",
    "name",
    "factory",
    "weights",
    "classes",
    "input_size",
    "mean",
    "std",
    "interpolation",
    "crop_pct",
    "source",
}
_INTERPOLATIONS = ("bilinear", "bicubic", "nearest", "lanczos", "box", "hamming")
# The data-config fields an entry may give, in the order a sentence about defaults names them.
PREPROCESSING = ("input_size", "mean", "std", "interpolation", "crop_pct")


def factory_entry(spec: str) -> CatalogEntry:
    """An entry for a bare factory spec (``SE_VIZ_MODEL=my_senet.py:build``): everything default."""
    label = factory_label(spec)
    return CatalogEntry(
        id=spec,
        name=label,
        source=f"your own network, built by {label}",
        builder="factory",
        user=True,
        factory=spec,
    )


def user_entries() -> list[CatalogEntry]:
    """The entries of the catalog file named by ``SE_VIZ_CATALOG`` (none when it is unset)."""
    value = os.environ.get(CATALOG_ENV, "").strip()
    if not value:
        return []
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise ModelLoadError(
            _("The model catalog {path} named by {variable} does not exist.").format(
                path=path, variable=CATALOG_ENV
            )
        )
    return list(read_user_catalog(path, path.stat().st_mtime_ns))


@functools.lru_cache(maxsize=4)
def read_user_catalog(path: Path, mtime_ns: int = 0) -> tuple[CatalogEntry, ...]:
    """Parse a user catalog file into entries (paths made absolute; read once per version).

    Raises :class:`ModelLoadError` naming the file, the entry and the field that is wrong.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ModelLoadError(
            _("The model catalog {file} cannot be read ({reason}).").format(
                file=path.name, reason=first_line(exc)
            )
        ) from None
    items = data.get("model", [])
    if not isinstance(items, list) or not items:
        raise ModelLoadError(_("The model catalog {file} holds no [[model]] entries.").format(file=path.name))
    entries, seen = [], set()
    for number, item in enumerate(items, 1):
        entry = _entry(item, path, number)
        for what, value in (("id", entry.id), ("name", entry.name)):  # the picker tells entries apart by name
            if (what, value) in seen:
                raise ModelLoadError(
                    _("The model catalog {file} lists the {field} '{value}' twice.").format(
                        file=path.name, field=what, value=value
                    )
                )
            seen.add((what, value))
        entries.append(entry)
    return tuple(entries)


def _entry(item: dict[str, Any], path: Path, number: int) -> CatalogEntry:
    where = _("Entry {number} of the model catalog {file}").format(number=number, file=path.name)
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise ModelLoadError(
            _("{where} has unknown field(s) {unknown}; the fields are {fields}.").format(
                where=where, unknown=", ".join(unknown), fields=", ".join(sorted(_FIELDS))
            )
        )
    for key in ("id", "factory"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ModelLoadError(_("{where} needs a '{key}' (text).").format(where=where, key=key))
    where = _("The entry '{id}' of the model catalog {file}").format(id=item["id"], file=path.name)
    parsed = parse_factory(item["factory"])
    if parsed is None:
        raise ModelLoadError(
            _("{where} has factory = '{factory}'; write module:function or file.py:function.").format(
                where=where, factory=item["factory"]
            )
        )
    folder = path.parent
    target, function = parsed
    factory = item["factory"]
    if target.lower().endswith(".py"):
        factory = f"{(folder / Path(target).expanduser()).resolve()}:{function}"
    classes = item.get("classes")
    classes_file, class_names = None, None
    if isinstance(classes, str):
        classes_file = str((folder / Path(classes).expanduser()).resolve())
    elif isinstance(classes, list) and all(isinstance(c, str) for c in classes):
        class_names = tuple(classes)
    elif classes is not None:
        raise ModelLoadError(
            _("{where}: classes must be a file name (.txt or .json) or a list of names.").format(where=where)
        )
    return CatalogEntry(
        id=item["id"].strip(),
        name=str(item.get("name") or item["id"]).strip(),
        source=str(item.get("source") or f"your own network, built by {factory_label(factory)}"),
        builder="factory",
        user=True,
        factory=factory,
        weights=str((folder / Path(item["weights"]).expanduser()).resolve()) if item.get("weights") else None,
        classes=class_names,
        classes_file=classes_file,
        input_size=_input_size(item.get("input_size"), where),
        mean=_triple(item.get("mean"), "mean", where),
        std=_triple(item.get("std"), "std", where),
        interpolation=_interpolation(item.get("interpolation"), where),
        crop_pct=_crop_pct(item.get("crop_pct"), where),
        catalog_file=str(path),
    )


def _input_size(value: Any, where: str) -> Optional[tuple[int, int, int]]:
    if value is None:
        return None
    sides = [value] if isinstance(value, int) else value
    if isinstance(sides, list) and len(sides) == 3 and sides[0] == 3:
        sides = sides[1:]
    if (
        isinstance(sides, list)
        and len(sides) in (1, 2)
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in sides)
    ):
        h, w = (sides * 2)[:2]
        return 3, h, w
    raise ModelLoadError(
        _(
            "{where}: input_size must be a side in pixels (224), [height, width] or [3, height, width]."
        ).format(where=where)
    )


def _triple(value: Any, key: str, where: str) -> Optional[tuple[float, float, float]]:
    if value is None:
        return None
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        return tuple(float(v) for v in value)  # type: ignore[return-value]
    raise ModelLoadError(
        _("{where}: {key} must be three numbers (red, green, blue), e.g. [0.5, 0.5, 0.5].").format(
            where=where, key=key
        )
    )


def _interpolation(value: Any, where: str) -> Optional[str]:
    if value is None or value in _INTERPOLATIONS:
        return value
    raise ModelLoadError(
        _("{where}: interpolation must be one of {values}.").format(
            where=where, values=", ".join(_INTERPOLATIONS)
        )
    )


def _crop_pct(value: Any, where: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1:
        return float(value)
    raise ModelLoadError(
        _("{where}: crop_pct must be a fraction in (0, 1], e.g. 0.875 (1.0: no crop).").format(where=where)
    )


def read_classes(path: os.PathLike | str) -> list[str]:
    """Class names from a ``.txt`` file (one per line, blank lines skipped) or a ``.json`` list."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelLoadError(
            _("The class names file {path} cannot be read ({reason}).").format(
                path=path, reason=first_line(exc)
            )
        ) from None
    if path.suffix.lower() == ".json":
        try:
            names = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelLoadError(
                _("The class names file {file} is not valid JSON ({reason}).").format(
                    file=path.name, reason=first_line(exc)
                )
            ) from None
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise ModelLoadError(
                _("The class names file {file} must hold a JSON list of names.").format(file=path.name)
            )
        return names
    return [line.strip() for line in text.splitlines() if line.strip()]


def entry_classes(entry: CatalogEntry) -> Optional[list[str]]:
    """The class names an entry gives (inline or from its file), or None."""
    if entry.classes_file:
        return read_classes(entry.classes_file)
    return list(entry.classes) if entry.classes else None


def check_class_count(entry: CatalogEntry, classes: Optional[Sequence[str]], num_outputs: int) -> None:
    """Refuse class names that do not match the network's outputs one to one."""
    if classes is not None and len(classes) != num_outputs:
        where = Path(entry.classes_file).name if entry.classes_file else _("the catalog entry")
        raise ModelLoadError(
            _(
                "The class names of '{id}' ({where}) are {n}, but the network "
                "has {outputs} outputs: give one name per output, in output order."
            ).format(id=entry.id, where=where, n=len(classes), outputs=num_outputs)
        )


def user_data_config(entry: CatalogEntry, model: nn.Module) -> tuple[dict[str, Any], list[str], str]:
    """Preprocessing of a user's network: the entry's values over timm's data config of ``model``.

    Returns the data config, the fields that were not given (defaults) and where the defaults
    came from, in words.
    """
    config = dict(resolve_model_data_config(model))
    own = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None)
    origin = (  # English, marked: the loaded model is shared by every session, each reads its language
        N_("the network's own pretrained_cfg (timm.data.resolve_model_data_config)")
        if own
        else N_("timm's ImageNet defaults (timm.data.resolve_model_data_config on the network)")
    )
    defaults = []
    for key in PREPROCESSING:
        value = getattr(entry, key)
        if value is None:
            defaults.append(key)
        else:
            config[key] = value
    return config, defaults, origin


def defaults_sentence(
    defaults: Sequence[str], config: dict[str, Any], labels: Sequence[str], origin: Optional[str]
) -> Optional[str]:
    """One sentence naming the default values a user's network is shown with, and their origin."""
    if not defaults:
        return None
    parts = []
    if "input_size" in defaults:
        parts.append(_("input {h}×{w} px").format(h=config["input_size"][1], w=config["input_size"][2]))
    for key in ("mean", "std"):
        if key in defaults:
            parts.append(f"{key} ({', '.join(f'{v:.3f}' for v in config[key])})")  # mean, std: symbols
    if "interpolation" in defaults:
        parts.append(_("{method} interpolation").format(method=config["interpolation"]))
    if "crop_pct" in defaults:
        parts.append(_("centre crop {percent} %").format(percent=f"{100 * config['crop_pct']:.1f}"))
    sentence = (
        _("Defaults: {values} from {origin}").format(
            values=_(", ").join(parts), origin=_(origin) if origin else ""
        )
        if parts
        else ""
    )
    if "classes" in defaults:
        names = (
            _("ImageNet class names (the network has 1000 outputs)")
            if len(labels) == 1000
            else _("classes named “{first}” … “{last}”").format(first=labels[0], last=labels[-1])
        )
        sentence = (
            _("{defaults}; {names}").format(defaults=sentence, names=names)
            if sentence
            else _("Defaults: {values}").format(values=names)
        )
    return f"{sentence} — set them in the model's catalog entry (SE_VIZ_CATALOG)."
