"""The languages se_viz speaks: one gettext catalogue per language, chosen per session.

Why gettext with Babel, and not a dict of strings: it is the standard a translator's tools read
(``.po`` files), Babel extracts every ``_()`` call from the code so no string is forgotten
(``python -m se_viz.catalogue refresh``, ``make translations``), and ``tests/test_translations.py``
fails when a message has no translation.

How code uses it::

    from se_viz.i18n import _, N_, ngettext

    st.button(_("Cancel"))
    _("{n} images in {s} s").format(n=n, s=s)   # named placeholders: word order is the translator's
    TITLE = N_("Gate heatmap")                   # a constant: marked here, translated where shown
    st.header(_(TITLE))

The language is a context variable, not a global: Streamlit runs each session's script in its own
thread, so two students reading in two languages on one server never see each other's words. The
app sets it at the top of each run (:func:`set_language`); a worker thread runs a job in the
submitting session's context (``contextvars.copy_context()``). Library code (figures, exports)
translates with whatever language is current, English when nothing set one, unless the
``SE_VIZ_LANG`` environment variable names another.

Identifiers are never translated: widget keys, link values, file-format keys, paper names
(SE_s_b), module paths, numbers and units.
"""

from __future__ import annotations

import contextvars
import functools
import gettext
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Optional

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "CLASS_NAME",
    "NC_",
    "N_",
    "_",
    "class_name",
    "current",
    "default_language",
    "language",
    "ngettext",
    "normalise",
    "set_language",
]

#: Where the compiled catalogues live (``<lang>/LC_MESSAGES/se_viz.mo``, shipped in the wheel).
LOCALE_DIR = Path(__file__).parent / "locale"
#: The gettext domain: the catalogue files' name.
DOMAIN = "se_viz"
#: Language code → its name in its own language (what the switch shows). English is the source.
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}
DEFAULT_LANGUAGE = "en"
#: The environment variable a server's operator sets to choose the default language.
ENV_VAR = "SE_VIZ_LANG"

_current: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("se_viz_language", default=None)


def normalise(tag: Optional[str]) -> Optional[str]:
    """The language of ours a locale tag asks for, or None.

    Browsers send BCP 47 tags (``zh-CN``, ``zh-Hans-CN``, ``zh``), environments POSIX ones
    (``zh_CN.UTF-8``). Any Simplified Chinese tag gives ``zh_CN``; Traditional Chinese (``zh-TW``,
    ``zh-HK``, ``zh-Hant``) gives None, since a Simplified interface is not what such a reader
    asked for, and the caller falls back to its default.
    """
    if not tag:
        return None
    t = tag.strip().split(".")[0].split("@")[0].replace("_", "-").lower()
    if not t:
        return None
    parts = t.split("-")
    if parts[0] == "zh":
        if "hant" in parts or any(p in ("tw", "hk", "mo") for p in parts[1:]):
            return None
        return "zh_CN"
    if parts[0] == "en":
        return "en"
    return None


def default_language(browser_locale: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> str:
    """The language a new session starts in: ``SE_VIZ_LANG`` when the server's operator set it
    (a teacher running the class in Chinese), else the browser's language, else English."""
    env = os.environ if env is None else env
    return normalise(env.get(ENV_VAR)) or normalise(browser_locale) or DEFAULT_LANGUAGE


@functools.cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (read once per process); English is the source text."""
    if lang == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def current() -> str:
    """The language of the running session or job (``SE_VIZ_LANG`` or English when none is set)."""
    lang = _current.get()
    if lang is None:
        return normalise(os.environ.get(ENV_VAR)) or DEFAULT_LANGUAGE
    return lang


def set_language(lang: str) -> None:
    """Use ``lang`` for the rest of this thread's context (the app calls it at the top of a run)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; se_viz speaks {', '.join(LANGUAGES)}")
    _current.set(lang)


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Translate into ``lang`` inside the block (a notebook, a test, a worker drawing frames)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; se_viz speaks {', '.join(LANGUAGES)}")
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """``message`` in the current language (itself when the catalogue lacks it)."""
    return _catalogue(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message for ``n`` in the current language (Chinese has one
    form; English two): ``ngettext("{n} image", "{n} images", n).format(n=n)``."""
    return _catalogue(current()).ngettext(singular, plural, n)


#: The gettext context of class names, so a class called like a word of the interface ("window")
#: is translated as the class, and a class the catalogue does not know (ImageNet's) stays as it is.
CLASS_NAME = "class name"


def class_name(label: str) -> str:
    """A model's class name in the current language: the bundled mini model's classes are in the
    catalogue (marked ``NC_("class name", "red circle")``, the context written out: Babel reads
    literals only); other models' labels come back unchanged
    (no licensed Chinese ImageNet list ships in a package we install: docs/glossary.md)."""
    return _catalogue(current()).pgettext(CLASS_NAME, label)


def NC_(context: str, message: str) -> str:
    """Mark a constant with a gettext context, written as a literal so Babel reads it (class names:
    ``NC_("class name", "dots")``)."""
    return message


def N_(message: str) -> str:
    """Mark a constant for the catalogue without translating it yet (it is translated where it
    is shown, in the reader's language: ``_(CONSTANT)``)."""
    return message
