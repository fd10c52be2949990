"""No dead code in the library (issue 26.8): every top-level function, class and constant of
``se_viz``, every method and every dataclass field is named somewhere besides its own definition
(and its ``__all__`` entry) — in the library, the app, the tests or the docs' examples.

It reads names as words, so it can only under-report (a name used as text counts as used); what it
flags is certainly written once and never read. It caught ``PruningCurves.reused``,
``DatasetAggregates._counts``, ``job.block_widths``, ``many_views.GROUP_SOURCES``, ``style._TAG``
and ``images.SUPPORTED_FORMATS``, all removed.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _defined(tree: ast.Module) -> list[tuple[str, str]]:
    """(shown name, bare name) of every top-level definition and every class member."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append((node.name, node.name))
        elif isinstance(node, ast.Assign):
            out += [(t.id, t.id) for t in node.targets if isinstance(t, ast.Name)]
        if isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.append((f"{node.name}.{sub.name}", sub.name))
                elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Name):
                    out.append((f"{node.name}.{sub.target.id}", sub.target.id))
    return [(shown, bare) for shown, bare in out if not bare.startswith("__")]


def unused_names(root: Path = ROOT) -> list[str]:
    """``path: name`` of every definition under ``root/se_viz`` no other text names."""
    library = sorted((root / "se_viz").rglob("*.py"))
    tests = [p for p in (root / "tests").rglob("*.py") if p.name != Path(__file__).name]  # not this list
    readers = [*library, *tests, root / "app.py", *(root / "docs").rglob("*.md")]
    words = Counter(w for p in readers if p.exists() for w in _WORD.findall(p.read_text(encoding="utf-8")))
    found = []
    for path in library:
        text = path.read_text(encoding="utf-8")
        for shown, bare in _defined(ast.parse(text)):
            listed = f'"{bare}"' in text  # its own __all__ entry
            if words[bare] <= 1 + listed:
                found.append(f"{path.relative_to(root)}: {shown}")
    return found


def test_every_definition_in_the_library_is_used():
    assert unused_names() == [], "written once and never read: remove it, or use it"


def test_the_check_finds_a_name_nobody_reads(tmp_path):
    (tmp_path / "se_viz").mkdir()
    (tmp_path / "se_viz" / "m.py").write_text(
        '__all__ = ["used", "LEFT_OVER"]\nLEFT_OVER = 1\n\n\ndef used():\n    return 2\n\n\n'
        "class Record:\n    kept: int\n    forgotten: int\n\n    def shown(self):\n        return self.kept\n"
    )
    (tmp_path / "app.py").write_text("from se_viz.m import used, Record\nprint(used(), Record().shown())\n")
    assert unused_names(tmp_path) == ["se_viz/m.py: LEFT_OVER", "se_viz/m.py: Record.forgotten"]
