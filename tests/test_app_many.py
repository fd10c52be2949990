"""The many-image views inside the app (AppTest): compare, classes, and the offline demonstration."""

from __future__ import annotations

import se_viz
from test_app import APP, TIMEOUT, _assert_clean, _errors, _figures, _png, _view


def test_compare_classes_and_the_offline_demonstration(app_env):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.file_uploader[0].set_value([("cat.png", _png("chelsea"), "image/png"),
                                           ("coffee.png", _png("coffee"), "image/png")])
    at.run()
    _assert_clean(at)
    at = _view(at, "Compare")
    titles = " ".join(f["layout"]["title"]["text"] for f in _figures(at))
    assert len(_figures(at)) == 2 and not _errors(at), titles
    at = _view(at, "Classes")
    assert not _errors(at)
    demo = next(b for b in at.button if b.key == "many_demo")
    demo.click().run()
    _assert_clean(at)
    assert at.segmented_control(key="class_source").value == "the offline demonstration"
    figs = _figures(at)
    assert len(figs) >= 4 and not _errors(at)
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Hu et al." in text or "paper" in text
    # Back to the user's own two images: the class views still draw.
    at.segmented_control(key="class_source").set_value("your images").run()
    _assert_clean(at)
    assert not _errors(at)
