"""The language switch (issue 23): the default follows the link, SE_VIZ_LANG and the browser; a
switch keeps the images, the model and the tab; the share link carries ``lang=``."""

from __future__ import annotations

import pytest
from test_app import APP, TIMEOUT, _assert_clean, _png

import se_viz
from se_viz.tabs import VIEWS
from se_viz.ui.link import ViewLink, from_query, to_query


def _app(app_env, locale: str | None = None, query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if locale is not None:
        at.context["locale"] = locale
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    _assert_clean(at)
    return at


def _switch(at):
    return next(b for b in at.sidebar.button_group if b.key == "language")


def test_the_link_carries_the_language_and_ignores_unknown_ones():
    assert to_query(ViewLink(language="zh_CN"))["lang"] == "zh_CN"
    assert "lang" not in to_query(ViewLink())
    kw = dict(options=[], samples=[], tabs=VIEWS)
    assert from_query({"lang": ["zh-CN"]}, **kw).language == "zh_CN"
    assert from_query({"lang": ["zh"]}, **kw).language == "zh_CN"
    assert from_query({"lang": ["en"]}, **kw).language == "en"
    assert from_query({"lang": ["fr"]}, **kw).language is None
    assert from_query({"lang": ["<script>"]}, **kw).language is None


@pytest.mark.parametrize(
    ("locale", "env", "expected"),
    [("zh-CN", None, "zh_CN"), ("en-US", None, "en"), ("zh-TW", None, "en"), ("en-US", "zh_CN", "zh_CN")],
)
def test_a_new_session_starts_in_the_browser_language_unless_the_server_sets_one(
    app_env, monkeypatch, locale, env, expected
):
    if env:
        monkeypatch.setenv("SE_VIZ_LANG", env)
    else:
        monkeypatch.delenv("SE_VIZ_LANG", raising=False)
    at = _app(app_env, locale=locale)
    assert _switch(at).value == expected
    assert ("挤压-激励" in at.title[0].value) == (expected == "zh_CN")


def test_a_link_names_the_language_of_a_fresh_session(app_env, monkeypatch):
    monkeypatch.delenv("SE_VIZ_LANG", raising=False)
    at = _app(app_env, locale="en-US", query={"lang": "zh_CN"})
    assert _switch(at).value == "zh_CN" and "挤压-激励" in at.title[0].value
    assert at.query_params["lang"] == "zh_CN"  # the address bar keeps it for the next link


def test_switching_keeps_the_images_the_model_and_the_tab(app_env, monkeypatch):
    monkeypatch.delenv("SE_VIZ_LANG", raising=False)
    at = _app(app_env, locale="en-US")
    files = [(f"{n}.png", _png(n, (96, 96)), "image/png") for n in ("chelsea", "coffee")]
    at.sidebar.file_uploader[0].set_value(files).run()
    at.session_state["view"] = "Distributions"
    at.run()
    _assert_clean(at)
    model = at.session_state["model"]
    detail = at.session_state["detail_image"]
    assert [t.label for t in at.tabs][:2] == ["Predictions", "Gate heatmap"]

    _switch(at).set_value("zh_CN").run()
    _assert_clean(at)
    assert [t.label for t in at.tabs][:2] == ["预测", "门控值热力图"]
    assert at.session_state["view"] == "分布"  # the same tab, named in Chinese
    assert at.session_state["model"] == model and at.session_state["detail_image"] == detail
    assert len(at.sidebar.file_uploader[0].value) == 2
    assert at.query_params["tab"] == "Distributions"  # links name tabs by identifier

    _switch(at).set_value("en").run()
    _assert_clean(at)
    assert at.session_state["view"] == "Distributions"
