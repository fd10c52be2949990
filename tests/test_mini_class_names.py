"""The bundled mini model's ten class names read in the reader's language; its labels stay English."""

import json

from se_viz.demo import synthetic
from se_viz.i18n import class_name, language
from se_viz.loading.catalog import MODELS_DIR


def test_mini_class_names_are_chinese_in_a_chinese_session():
    with language("zh_CN"):
        shown = [class_name(name) for name in synthetic.CLASSES]
    # Every name translated, no two alike, none left with English letters in it.
    assert len(set(shown)) == len(synthetic.CLASSES)
    assert all(not any(c.isascii() and c.isalpha() for c in s) for s in shown), shown
    assert shown[synthetic.CLASSES.index("checkerboard")] == "棋盘格"  # docs/glossary.md


def test_other_models_labels_and_english_sessions_are_unchanged():
    with language("zh_CN"):
        assert class_name("tabby cat") == "tabby cat"  # an ImageNet label: not in the catalogue
    with language("en"):
        assert [class_name(name) for name in synthetic.CLASSES] == synthetic.CLASSES


def test_the_weights_labels_stay_english_identifiers():
    config = json.loads((MODELS_DIR / "se_resnet_mini.json").read_text(encoding="utf-8"))
    assert (
        config["classes"]
        == synthetic.CLASSES
        == [
            "red circle",
            "blue square",
            "green triangle",
            "star",
            "ring",
            "horizontal stripes",
            "vertical stripes",
            "diagonal stripes",
            "checkerboard",
            "dots",
        ]
    )
