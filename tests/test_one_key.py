"""One result key, one owner of session keys (issue 26.1): these checks fail on a new bypass.

* Every kept result goes through ``ui/cache.py``: no ``st.cache_data`` / ``st.cache_resource``
  elsewhere, and no ``ResultKey`` built by hand outside it (views use ``result_key``,
  ``dataset_result_key`` or ``generated_key``, which check what they are given).
* Every session key lives in ``ui/state.py``: nothing else writes ``st.session_state`` (item,
  attribute, ``pop``, ``setdefault``, ``update``, ``del``…), and what others read, they name by a
  ``state`` constant, never a string typed again.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WRITERS = {"pop", "setdefault", "update", "clear", "popitem", "__setitem__", "__delitem__"}


def _is_session(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "session_state"


def bypasses(source: str, *, cache_owner: bool = False, state_owner: bool = False) -> list[str]:
    """What in ``source`` keeps a result or touches a session key the owners should."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if not cache_owner:
            if isinstance(node, ast.Attribute) and node.attr in ("cache_data", "cache_resource"):
                found.append(f"{line}: st.{node.attr} outside ui/cache.py")
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) == "ResultKey"
            ):
                found.append(f"{line}: ResultKey built by hand")
        if state_owner:
            continue
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            if isinstance(t, (ast.Subscript, ast.Attribute)) and _is_session(t.value):
                found.append(f"{line}: session key written outside ui/state.py")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _is_session(node.func.value)
        ):
            if node.func.attr in _WRITERS:
                found.append(f"{line}: session_state.{node.func.attr} outside ui/state.py")
            elif node.args and isinstance(node.args[0], ast.Constant):
                found.append(f"{line}: session key {node.args[0].value!r} typed outside ui/state.py")
        if (
            isinstance(node, ast.Subscript)
            and _is_session(node.value)
            and isinstance(node.slice, ast.Constant)
        ):
            found.append(f"{line}: session key {node.slice.value!r} typed outside ui/state.py")
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            if any(_is_session(c) for c in node.comparators):
                found.append(f"{line}: session key {node.left.value!r} typed outside ui/state.py")
    return found


def test_results_and_session_keys_have_one_owner_each():
    problems = []
    for path in [*(ROOT / "se_viz").rglob("*.py"), ROOT / "app.py"]:
        rel = path.relative_to(ROOT).as_posix()
        owner = {"cache_owner": rel == "se_viz/ui/cache.py", "state_owner": rel == "se_viz/ui/state.py"}
        problems += [f"{rel}:{p}" for p in bypasses(path.read_text(encoding="utf-8"), **owner)]
    assert problems == []


def test_the_check_catches_every_kind_of_bypass():
    src = (
        "import streamlit as st\n"
        "@st.cache_data\ndef f(path, stamp): ...\n"
        "key = ResultKey('atlas', (), 'm', '', ())\n"
        "st.session_state['atlas_source'] = 1\n"
        "st.session_state.pop(state.CHANNEL, None)\n"
        "st.session_state.setdefault(state.FIT, 'x')\n"
        "del st.session_state[state.MODEL]\n"
        "v = st.session_state.get('samples')\n"
        "w = 'view' in st.session_state\n"
        "ok = st.session_state.get(state.MODEL)\n"
    )
    found = bypasses(src)
    assert len(found) == 9, found
    assert bypasses(src, cache_owner=True, state_owner=True) == []
