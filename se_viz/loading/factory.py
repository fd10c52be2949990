"""The user's own network: a factory named ``module:function`` or ``path/to/file.py:function``.

Only the operator chooses such code — through ``SE_VIZ_MODEL``, ``se-viz capture --model``,
``load_model(...)`` or a catalog file named by ``SE_VIZ_CATALOG`` — never anything a browser
sends. Every way the code can fail (the module does not import, the function is missing, raises,
returns something that is not a network, or the network cannot classify an image) becomes one
:class:`ModelLoadError` sentence, never a traceback.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Callable, Iterator, Optional, Sequence

import torch
from torch import nn

from ..errors import ModelLoadError, first_line
from ..i18n import _

__all__ = ["build_from_factory", "factory_label", "is_factory_spec", "parse_factory", "probe_outputs"]

_SPEC = re.compile(r"^(?P<target>.+):(?P<function>[A-Za-z_]\w*)$")
_MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")


def parse_factory(spec: str) -> Optional[tuple[str, str]]:
    """``(module or .py path, function name)`` for a factory spec, or None when ``spec`` is not one.

    A spec is ``package.module:function`` or ``path/to/file.py:function``; timm and hub names
    (``hf-hub:timm/...``) are not specs.
    """
    match = _SPEC.match(spec.strip())
    if match is None:
        return None
    target, function = match.group("target"), match.group("function")
    if target.lower().endswith(".py") or _MODULE.match(target):
        return target, function
    return None


def is_factory_spec(name: str) -> bool:
    """True when ``name`` names a factory (``module:function`` or ``file.py:function``)."""
    return parse_factory(name) is not None


def factory_label(spec: str) -> str:
    """A short name for sentences: ``my_senet.py:build`` or ``mypkg.models:build``."""
    target, function = parse_factory(spec) or (spec, "")
    if target.lower().endswith(".py"):
        target = Path(target).name
    return f"{target}:{function}" if function else target


@contextmanager
def _on_sys_path(folder: Optional[Path]) -> Iterator[None]:
    """``folder`` first on ``sys.path`` for the body only (so the module's own imports resolve)."""
    entry = str(folder) if folder is not None else None
    added = entry is not None and entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


def _import_file(path: Path) -> ModuleType:
    """Import a .py file by path, under a module name derived from the path (re-read every time,
    so an edited file is picked up by the next load)."""
    if not path.is_file():
        raise ModelLoadError(
            _(
                "The factory file {path} does not exist: check the path in SE_VIZ_MODEL, "
                "--model or the catalog's factory."
            ).format(path=path)
        )
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"se_viz_user_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ModelLoadError(
            _("The factory file {path} cannot be imported as a Python module.").format(path=path)
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        with _on_sys_path(path.parent):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise ModelLoadError(
            _("The factory module {file} cannot be imported ({kind}: {reason}): fix the file.").format(
                file=path.name, kind=type(exc).__name__, reason=first_line(exc)
            )
        ) from None
    return module


def _import_module(name: str, folder: Optional[Path]) -> ModuleType:
    try:
        with _on_sys_path(folder):
            return importlib.import_module(name)
    except (Exception, SystemExit) as exc:
        raise ModelLoadError(
            _(
                "The factory module '{name}' cannot be imported ({kind}: {reason}): "
                "check the module name and that it is installed or on PYTHONPATH."
            ).format(name=name, kind=type(exc).__name__, reason=first_line(exc))
        ) from None


def _functions(module: ModuleType) -> list[str]:
    """Public callables defined in ``module`` itself (what a misspelt factory name was meant to be)."""
    return sorted(
        k
        for k, v in vars(module).items()
        if callable(v) and not k.startswith("_") and getattr(v, "__module__", None) == module.__name__
    )


def _factory(spec: str, folder: Optional[Path]) -> Callable[[], object]:
    parsed = parse_factory(spec)
    if parsed is None:
        raise ModelLoadError(
            _("'{spec}' is not a factory: write module:function or path/to/file.py:function.").format(
                spec=spec
            )
        )
    target, function = parsed
    if target.lower().endswith(".py"):
        path = Path(target).expanduser()
        module = _import_file((folder / path if folder and not path.is_absolute() else path).resolve())
    else:
        module = _import_module(target, folder)
    fn = getattr(module, function, None)
    if fn is None:
        known = _functions(module)
        defines = (
            _("it defines {names}").format(names=", ".join(known[:8]))
            if known
            else _("it defines no public function")
        )
        raise ModelLoadError(
            _(
                "The factory module {module} has no function '{function}' ({defines}): "
                "fix the name after the colon."
            ).format(module=factory_label(spec).rsplit(":", 1)[0], function=function, defines=defines)
        )
    if not callable(fn):
        raise ModelLoadError(
            _("'{function}' in {module} is a {kind}, not a function that builds the network.").format(
                function=function, module=factory_label(spec).rsplit(":", 1)[0], kind=type(fn).__name__
            )
        )
    return fn


def build_from_factory(spec: str, folder: Optional[Path] = None) -> nn.Module:
    """Import the factory ``spec`` and call it without arguments; return the network it builds.

    ``folder`` is where relative ``.py`` paths and modules are looked up first (a user catalog's
    folder); relative paths are otherwise taken from the current directory. Raises
    :class:`ModelLoadError` with one sentence for each way the user's code can fail.
    """
    fn = _factory(spec, folder)
    label = factory_label(spec)
    try:
        model = fn()
    except (Exception, SystemExit) as exc:
        raise ModelLoadError(
            _(
                "The factory {label} raised {kind}: {reason} — it must "
                "build the network when called without arguments."
            ).format(label=label, kind=type(exc).__name__, reason=first_line(exc))
        ) from None
    if not isinstance(model, nn.Module):
        raise ModelLoadError(
            _(
                "The factory {label} returned a {kind}, not a torch.nn.Module: "
                "return the network itself (not its state dict, a tuple or a class)."
            ).format(label=label, kind=type(model).__name__)
        )
    return model


def probe_outputs(model: nn.Module, input_size: Sequence[int], label: str) -> int:
    """The number of classes K of ``model``: one forward pass of a blank image must give (1, K).

    Run once at load time on the user's network, so an input size it cannot take or an output
    that is not class scores is named before any image is shown.
    """
    size = "×".join(str(int(v)) for v in input_size)
    try:
        with torch.inference_mode():
            out = model(torch.zeros(1, *input_size))
    except Exception as exc:
        raise ModelLoadError(
            _(
                "The network of {label} fails on a {size} input ({kind}: {reason}): "
                "set input_size in its catalog entry."
            ).format(label=label, size=size, kind=type(exc).__name__, reason=first_line(exc))
        ) from None
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 1:
        what = (
            _("a tensor of shape {shape}").format(shape=tuple(out.shape))
            if isinstance(out, torch.Tensor)
            else _("a {kind}").format(kind=type(out).__name__)
        )
        raise ModelLoadError(
            _(
                "The network of {label} returns {what} for one image; "
                "se_viz needs class scores of shape (N, K)."
            ).format(label=label, what=what)
        )
    return int(out.shape[1])
