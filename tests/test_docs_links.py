"""Every relative link and ``#anchor`` in the README and docs/ leads somewhere (issue 26.7).

The README was split into docs/; a moved section must not leave a dead link behind. Anchors are
GitHub's heading slugs: lower case, punctuation dropped, spaces to hyphens, ``-1``, ``-2`` … for
repeated headings; headings and links inside code are not headings or links.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (inline markup removed first)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its words
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every anchor a Markdown file offers (its headings' slugs, repeats numbered)."""
    seen: dict[str, int] = {}
    out = set()
    for _, text in _HEADING.findall(_FENCE.sub("", markdown)):
        base = slug(text)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def dead_links(root: Path = ROOT) -> list[str]:
    """``file: link`` for every relative link whose file or anchor does not exist."""
    pages = [*sorted(root.glob("README*.md")), *sorted((root / "docs").rglob("*.md"))]
    dead = []
    for page in pages:
        text = _CODE.sub("", _FENCE.sub("", page.read_text(encoding="utf-8")))
        for target in _LINK.findall(text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: …
                continue
            path, _, anchor = unquote(target).partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                dead.append(f"{page.relative_to(root)}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
                dead.append(f"{page.relative_to(root)}: {target} (no such heading)")
    return dead


def test_every_relative_link_and_anchor_in_the_docs_is_alive():
    assert dead_links() == []


def test_github_slugs():
    assert slug("Reading at scale (measured)") == "reading-at-scale-measured"
    assert slug("1 · The model file") == "1--the-model-file"
    assert slug("`se-viz atlas --json` (format `se_viz.channel_atlas/1`)") == (
        "se-viz-atlas---json-format-se_vizchannel_atlas1"
    )
    assert slug("The bundled model's results") == "the-bundled-models-results"


def test_the_checker_finds_a_dead_file_and_a_dead_anchor(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## Same\n\n## Same\n\n```\n## Not a heading\n```\n")
    (tmp_path / "README.md").write_text(
        "[ok](docs/a.md#same-1) [ok](#top) [gone](docs/b.md) [bad](docs/a.md#not-a-heading) "
        "`[code](nowhere.md)` [web](https://example.org/x)\n\n# Top\n"
    )
    assert dead_links(tmp_path) == [
        "README.md: docs/b.md (no such file)",
        "README.md: docs/a.md#not-a-heading (no such heading)",
    ]
