"""Provenance facts shared by every file se_viz writes (exports and gate datasets): package
versions, the time, and values made JSON-ready. One place, so every manifest says the same."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Iterable, Optional

import numpy as np

__all__ = ["jsonable", "package_versions", "utc_now"]

#: The packages whose versions decide the numbers se_viz writes.
PACKAGES = ("se_viz", "torch", "timm", "numpy", "pillow", "plotly", "pyarrow", "ray")


def _version(package: str) -> Optional[str]:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def package_versions(packages: Iterable[str] = PACKAGES) -> dict[str, Optional[str]]:
    """Installed versions of ``packages`` (None when not installed) and of Python."""
    return {"python": platform.python_version(), **{p: _version(p) for p in packages}}


def utc_now() -> str:
    """The current time as ISO-8601 UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def jsonable(value: Any) -> Any:
    """``value`` with tuples as lists, NumPy scalars as Python numbers, other objects as text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
