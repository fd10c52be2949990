"""Every tab in Chinese, as a student reads it (issue 23): no English sentence left on the page.

The app starts in Chinese (``SE_VIZ_LANG=zh_CN``) on the bundled mini model with one photo; each
tab of ``se_viz.tabs.VIEWS`` is opened in turn and everything the page shows — sidebar, header,
tab content, chart titles, axes, legends, hover text and table columns — is searched for runs of
English words (``tests/chinese_page.py``). What stays English in both languages is allowed:
names, symbols, units and formats (docs/glossary.md), the photo's file name, and the model's name.
The studies' other questions (Interventions' sweep and set ablation, Channels' pruning and
faithfulness) are opened as well.
"""

from __future__ import annotations

import pytest
from chinese_page import english_sentences, page_texts
from test_app import APP, TIMEOUT, _assert_clean, _png

import se_viz
from se_viz import i18n
from se_viz.tabs import VIEWS

#: English that stays English: the photo's name, the model's name and a paper's title (in a model name).
ALLOW = ["chelsea.png", "SE-ResNet mini", "se_resnet_mini", "ResNet Strikes Back"]  # a paper title


@pytest.fixture(scope="module")
def zh_app():
    from streamlit.testing.v1 import AppTest

    mp = pytest.MonkeyPatch()
    mp.setenv("SE_VIZ_LANG", "zh_CN")
    mp.setenv("SE_VIZ_MODEL", se_viz.MINI_MODEL)
    mp.delenv("SE_VIZ_WEIGHTS", raising=False)
    mp.setenv("HF_HUB_OFFLINE", "1")
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        at.sidebar.file_uploader[0].set_value(("chelsea.png", _png("chelsea", (96, 96)), "image/png")).run()
        _assert_clean(at)
        yield at
    finally:
        mp.undo()


def _english(at) -> list[str]:
    _assert_clean(at)
    return english_sentences(page_texts(at), allow=ALLOW)


def test_the_welcome_screen_is_in_chinese(monkeypatch, app_env):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SE_VIZ_LANG", "zh_CN")
    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert _english(at) == []


@pytest.mark.parametrize("view", VIEWS)
def test_every_tab_is_in_chinese(zh_app, view):
    zh_app.session_state["view"] = view
    zh_app.run()
    with i18n.language("zh_CN"):
        assert zh_app.session_state["view"] == i18n._(view) != view  # the tab opened, named in Chinese
    if view in ("Gate heatmap", "Distributions", "Block drill-down"):
        assert zh_app.get("plotly_chart"), "the tab drew its charts"
    assert _english(zh_app) == []


@pytest.mark.parametrize(
    ("view", "key", "questions"),
    [
        ("Interventions", "interventions_question", ["knock-out sweep", "over all images"]),
        ("Channels", "channels_question", ["pruning", "faithfulness"]),
    ],
)
def test_the_studies_other_questions_are_in_chinese(zh_app, view, key, questions):
    zh_app.session_state["view"] = view
    zh_app.run()
    for question in questions:
        zh_app.segmented_control(key=key).set_value(question).run()
        assert _english(zh_app) == [], question
