"""The app's shell in Chinese (issue 23): the sidebar, the welcome page, a bad upload and a model
that does not load leave no English sentence outside the tabs (the tabs have their own tests).

Started in Chinese the way an operator does (``SE_VIZ_LANG=zh_CN``); every page is read with
``chinese_page.page_texts`` and ``english_sentences``. What stays English in both languages is
allowed by name: file names, model names and the catalog's own words for its recipes.
"""

from __future__ import annotations

import tomllib
from types import SimpleNamespace

import pytest
from chinese_page import english_sentences, page_texts
from test_app import APP, TIMEOUT, _assert_clean, _png

import se_viz
from se_viz.demo.synthetic import CLASSES
from se_viz.loading import catalog_words
from se_viz.loading.catalog import MODELS_DIR
from se_viz.ui.state import ModelChoice

#: Names that are names in Chinese too: a timm training recipe, people, a paper's title. The mini
#: model's class names go through ``i18n.class_name`` (their Chinese is the catalogue's "class name"
#: context, which arrives with the lead's class-names commit): allowed here until then.
NAMES = ["ResNet Strikes Back", "Ross Wightman", "Squeeze-and-Excitation Networks", "Hu et al", *CLASSES]


@pytest.fixture(autouse=True)
def chinese(monkeypatch):
    monkeypatch.setenv("SE_VIZ_LANG", "zh_CN")


def _outside_tabs(node):
    """``node`` without its tabs: the shell's own words (a stand-in ``page_texts`` can walk)."""
    children = {
        k: _outside_tabs(c)
        for k, c in getattr(node, "children", {}).items()
        if getattr(c, "type", "") != "tab"
    }
    return SimpleNamespace(
        proto=getattr(node, "proto", None), type=getattr(node, "type", ""), children=children
    )


def _english(at, allow=()) -> list[str]:
    return english_sentences(
        page_texts(SimpleNamespace(_tree=_outside_tabs(at._tree))), allow=[*NAMES, *allow]
    )


def _start(app_env, model, weights=None):
    from streamlit.testing.v1 import AppTest

    app_env(model, weights)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    return at


@pytest.fixture(scope="module")
def mini_weights(tmp_path_factory):
    """SE-ResNet mini's weights in a local file: the operator's offline start."""
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("zh_mini") / "mini.safetensors"
    save_file(se_viz.load_model(se_viz.MINI_MODEL).model.state_dict(), str(path))
    return path


def test_the_welcome_page_and_the_sidebar_speak_chinese(app_env, mini_weights):
    at = _start(app_env, se_viz.MINI_MODEL, mini_weights)
    assert _english(at) == []
    # The introduction names the two steps with the glossary's words; its equations stay LaTeX.
    intro = " ".join(m.value for m in at.expander[0].markdown)
    assert "挤压" in intro and "激励" in intro and "特征图" in intro
    assert len(at.latex) == 3
    assert any("还没有图片" in i.value for i in at.info)
    assert any("已加载" in s.value and "本地文件" in s.value for s in at.sidebar.info)
    # The gallery's captions are Chinese: a photo's title and licence, a synthetic example's kind.
    captions = page_texts(at)
    assert "猫咪 Chelsea —— CC0" in captions and "宇航员艾琳·柯林斯 —— 公有领域" in captions
    assert any(c.startswith("合成：") for c in captions)


def test_one_upload_a_broken_image_and_a_broken_zip_are_told_in_chinese(app_env, mini_weights):
    at = _start(app_env, se_viz.MINI_MODEL, mini_weights)
    at.sidebar.file_uploader[0].set_value(
        [
            ("cat.png", _png("chelsea"), "image/png"),
            ("broken.jpg", b"this is not a jpeg", "image/jpeg"),
            ("photos.zip", b"PK not a zip", "application/zip"),
        ]
    ).run()
    _assert_clean(at)
    assert _english(at) == []
    errors = [e.value for e in at.error] + [e.value for e in at.sidebar.error]
    assert any("broken.jpg" in e and "不是 se_viz 能读取的图片" in e for e in errors), errors
    assert any("photos.zip" in e and "不是可读取的 ZIP 压缩包" in e for e in errors), errors
    # The good image is analysed: the tabs are there, and the sidebar still speaks Chinese.
    assert at.tabs and at.sidebar.header[0].value == "1 · 模型"


def test_a_model_that_needs_a_download_offline_is_explained_in_chinese(app_env, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    at = _start(app_env, None)  # no operator choice, no network: the bundled model, and why
    assert any("没有网络连接" in i.value for i in at.info)
    at.sidebar.selectbox[0].set_value(ModelChoice(se_viz.DEFAULT_MODEL)).run()
    _assert_clean(at)
    assert _english(at) == []
    assert any("需要下载" in e.value for e in at.error)
    details = next(e for e in at.expander if e.label == "给管理员的详细信息")
    assert any("HF_HUB_OFFLINE" in m.value and "本地缓存" in m.value for m in details.markdown)
    assert {b.label for b in at.button} >= {"使用 SE-ResNet mini（可离线使用）", "重试"}


def test_a_weights_file_that_does_not_load_is_explained_in_chinese(app_env, tmp_path):
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    at = _start(app_env, se_viz.MINI_MODEL, empty)
    assert _english(at) == []
    assert any("权重文件是空的" in e.value for e in at.error)
    assert any("未加载" in e.value for e in at.sidebar.error)


def test_the_built_in_catalog_words_are_marked_for_translation():
    # catalog_words is the translator's copy of models/catalog.toml: a new entry must join it.
    with open(MODELS_DIR / "catalog.toml", "rb") as fh:
        models = tomllib.load(fh)["model"]
    assert {m["name"] for m in models} <= set(catalog_words.NAMES)
    assert {m["source"] for m in models} <= set(catalog_words.SOURCES)
