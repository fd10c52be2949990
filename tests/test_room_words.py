"""Words a class reads: every error box is written for people, captions say where an image came
from, and the teaching model says what it knows (issue 27.5)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import streamlit as st
from test_app import APP, _assert_clean, _errors

import se_viz

UI = Path(se_viz.__file__).parent / "ui"
MESSAGE_CALLS = {"error", "warning", "exception"}
# What a person should never read in a message box: widget or parameter names, exception class
# names, Python identifiers in backticks.
CODE_WORDS = re.compile(
    r"`[a-z_]+`|\b(?!se_viz\b)[a-z]+_[a-z_]+\b|\bparameter|Exception|Error\b|__name__|Traceback"
)


def _message_calls():
    """Every st.error / st.warning call of the UI package: (file:line, the source of its text)."""
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in MESSAGE_CALLS
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id in ("log", "logging"))
                and node.args
            ):
                yield f"{path.name}:{node.lineno}", node.args[0]


def _literal_text(arg: ast.expr) -> str:
    """The words of a message as written in the code (f-string holes become {…})."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in arg.values)
    return ""


def test_every_error_box_is_written_for_people():
    calls = list(_message_calls())
    assert len(calls) >= 10, "the scan finds the app's message boxes"
    problems = []
    for where, arg in calls:
        text = _literal_text(arg)
        if CODE_WORDS.search(text):
            problems.append(f"{where}: {text!r}")
        for hole in ast.walk(arg):  # an exception's class name or raw first line is for the log
            if isinstance(hole, ast.Attribute) and hole.attr == "__name__":
                problems.append(f"{where}: shows an exception's class name")
            if isinstance(hole, ast.Call) and getattr(hole.func, "id", "") == "first_line":
                problems.append(f"{where}: shows an exception's own text")
    assert not problems, "\n".join(problems)


def test_a_failing_view_says_what_to_do_without_widget_words():
    """Streamlit's own errors (a slider whose ends meet) name parameters; the box must not."""
    from se_viz.ui.common import friendly_errors

    shown = []

    class Fake:
        def error(self, text, **_):
            shown.append(text)

    real = st.error
    st.error = Fake().error
    try:
        with friendly_errors("gate atlas"):
            raise st.errors.StreamlitAPIException(
                "The `min_value` and `max_value` parameters are both set to 1"
            )
    finally:
        st.error = real
    assert len(shown) == 1
    assert not CODE_WORDS.search(shown[0]) and "min_value" not in shown[0]
    assert "try" in shown[0], "the box says what to do next"


def test_captions_say_where_each_image_came_from_and_the_teaching_model_says_what_it_knows(app_env):
    from streamlit.testing.v1 import AppTest

    app_env(None, None)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.multiselect(key="samples").set_value(["synthetic_star.png", "chelsea_cat.png"]).run()
    _assert_clean(at)
    assert not _errors(at)
    text = " ".join(str(img.proto) for img in at.image)
    assert "bundled sample" in text and "uploaded" not in text
    assert any("knows only" in i.value and "drawn shapes and textures" in i.value for i in at.info)
