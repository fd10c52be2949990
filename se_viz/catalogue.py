"""Keeping the translation catalogues in step with the code (Babel: extract → ``.po`` → ``.mo``).

``python -m se_viz.catalogue refresh`` (or ``make translations``) extracts every message marked
with ``_``, ``N_`` or ``ngettext`` in ``se_viz/``, brings each language's ``.po`` up to date (new
messages arrive untranslated, removed ones go) and compiles the ``.mo`` the app reads.
``check`` lists what a translator still owes; ``tests/test_translations.py`` runs it in CI.
``adopt FILE.po …`` takes the translations other copies of the catalogue have (two branches that
each translated their own strings) for the messages still untranslated here.

Why a module and not a ``babel.cfg`` plus shell lines: the test, the Makefile and a translator all
run the same extraction, so the catalogue a test checks is the one the app ships.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Optional

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR

__all__ = ["adopt", "check", "compiled", "po_path", "refresh", "template"]

PACKAGE = Path(__file__).parent
#: The marking functions of :mod:`se_viz.i18n` (``ngettext``'s first two arguments are messages;
#: ``NC_``'s first is the context).
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "NC_": ((1, "c"), 2), "pgettext": ((1, "c"), 2)}
#: Benchmarks talk to developers in English; everything else that a user can see is extracted.
METHOD_MAP = [("bench/**.py", "ignore"), ("**.py", "python")]
#: The languages with a catalogue (English is the source text).
TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE]
_EPOCH = datetime(2026, 12, 4, tzinfo=timezone.utc)
_PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def template() -> Catalog:
    """Every message the code marks, with the files it appears in."""
    # A fixed creation date: the .po header then changes only when messages do (no merge churn).
    cat = Catalog(project="se_viz", domain=DOMAIN, creation_date=_EPOCH, charset="utf-8")
    found = extract_from_dir(
        str(PACKAGE), METHOD_MAP, keywords=KEYWORDS, comment_tags=("Translators:",), strip_comment_tags=True
    )
    for filename, lineno, message, comments, context in found:
        cat.add(message, None, [(f"se_viz/{filename}", lineno)], auto_comments=comments, context=context)
    return cat


def _read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(
            locale=lang,
            domain=DOMAIN,
            project="se_viz",
            version="0.1",
            header_comment=f"# {LANGUAGES[lang]} translations of se_viz (terms: docs/glossary.md).",
            copyright_holder="the se_viz authors",
            msgid_bugs_address="the se_viz issue tracker",
            last_translator="the se_viz authors",
            language_team=f"{LANGUAGES[lang]} (se_viz)",
            creation_date=_EPOCH,
            revision_date=_EPOCH,
            fuzzy=False,
            charset="utf-8",
        )
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _write(lang: str, cat: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        # Sorted and without line numbers: two branches that each add messages merge cleanly.
        write_po(f, cat, sort_output=True, include_lineno=False, ignore_obsolete=True, width=100)
    with mo_path(lang).open("wb") as f:
        f.write(compiled(cat))


def compiled(cat: Catalog) -> bytes:
    """The ``.mo`` bytes of a catalogue (untranslated and fuzzy entries left out)."""
    out = io.BytesIO()
    write_mo(out, cat, use_fuzzy=False)
    return out.getvalue()


def refresh(languages: Iterable[str] = TRANSLATED) -> None:
    """Bring each language's ``.po`` in step with the code and compile its ``.mo``."""
    tmpl = template()
    for lang in languages:
        cat = _read(lang)
        cat.update(tmpl, no_fuzzy_matching=True)
        _write(lang, cat)


def adopt(sources: Iterable[Path], lang: str = "zh_CN") -> int:
    """Fill this catalogue's untranslated messages from other ``.po`` files; returns how many."""
    cat, filled = _read(lang), 0
    for source in sources:
        with Path(source).open("rb") as f:
            other = read_po(f, locale=lang, domain=DOMAIN)
        for msg in other:
            if not msg.id or not _translated(msg.string) or msg.fuzzy:
                continue
            mine = cat.get(msg.id, context=msg.context)
            if mine is not None and not _translated(mine.string):
                mine.string = msg.string
                filled += 1
    _write(lang, cat)
    return filled


def _translated(string) -> bool:
    if isinstance(string, (tuple, list)):
        return all(s for s in string)
    return bool(string)


def _placeholders(text) -> set[str]:
    texts = text if isinstance(text, (tuple, list)) else [text]
    return {m.split(":")[0].split("!")[0] for t in texts for m in _PLACEHOLDER.findall(t or "")}


def check(lang: str = "zh_CN", tmpl: Optional[Catalog] = None) -> list[str]:
    """What is wrong with ``lang``'s catalogue, one sentence each (empty when it is complete):
    messages the code has and the catalogue lacks or leaves untranslated or fuzzy, translations
    whose ``{placeholders}`` differ from the English, and a ``.mo`` older than its ``.po``."""
    tmpl = template() if tmpl is None else tmpl
    cat, problems = _read(lang), []
    for msg in tmpl:
        if not msg.id:
            continue
        mine = cat.get(msg.id, context=msg.context)
        name = msg.id if isinstance(msg.id, str) else msg.id[0]
        where = ", ".join(sorted({loc for loc, _ in msg.locations}))
        if mine is None:
            problems.append(f"not in the catalogue (run refresh): {name!r} ({where})")
        elif not _translated(mine.string) or mine.fuzzy:
            problems.append(f"untranslated: {name!r} ({where})")
        elif _placeholders(mine.string) != _placeholders(msg.id):
            problems.append(f"placeholders differ: {name!r} → {mine.string!r}")
    if po_path(lang).exists() and (not mo_path(lang).exists() or mo_path(lang).read_bytes() != compiled(cat)):
        problems.append(f"{mo_path(lang).name} is not compiled from the current .po (run refresh)")
    return problems


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m se_viz.catalogue", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("refresh", help="extract messages, update every .po, compile every .mo")
    sub.add_parser("check", help="list untranslated messages and stale .mo files")
    take = sub.add_parser("adopt", help="fill untranslated messages from other .po files")
    take.add_argument("sources", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "refresh":
        refresh()
        for lang in TRANSLATED:
            print(f"{po_path(lang)}: {len(check(lang))} problems")
        return 0
    if args.command == "adopt":
        print(f"{adopt(args.sources)} translations adopted")
        return 0
    problems = [p for lang in TRANSLATED for p in check(lang)]
    print("\n".join(problems) or "every message is translated")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
