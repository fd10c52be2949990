"""The two kinds of failure a user can act on, and how an exception is shown in one line.

Every public entry point turns what went wrong into one of these, with a message that says what
happened and what to do; the UI and the CLI print the message and never a traceback.
"""

from __future__ import annotations

__all__ = ["DownloadUnavailable", "InputError", "ModelLoadError", "first_line"]


class InputError(ValueError):
    """A user input (an image or weights file) that se_viz cannot use, with a plain message."""


class ModelLoadError(RuntimeError):
    """A model or its weights could not be loaded; the message says why and what to do."""


class DownloadUnavailable(ModelLoadError):
    """The weights must be downloaded, and no download is possible now (offline, hub unreachable
    or failing). Apps offer a model that works offline instead."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type name when it has none.

    Library errors (torch, PIL, the hub client) often carry multi-line reports; a sentence for a
    user needs only the first line.
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
