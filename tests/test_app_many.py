"""The many-image views inside the app (AppTest): compare, classes, and the offline demonstration."""

from __future__ import annotations

from test_app import APP, TIMEOUT, _assert_clean, _errors, _figures, _png, _view

import se_viz


def test_compare_classes_and_the_offline_demonstration(app_env):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.file_uploader[0].set_value(
        [("cat.png", _png("chelsea"), "image/png"), ("coffee.png", _png("coffee"), "image/png")]
    )
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


def test_a_zip_with_one_folder_per_class_gives_the_class_groups(app_env):
    """Uploaded as a ZIP, the images keep their folders; the Classes view can group by them."""
    import io
    import zipfile

    from streamlit.testing.v1 import AppTest

    from se_viz.demo.synthetic import example_images

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, (name, img) in enumerate(example_images(per_class=2)[:8]):
            png = io.BytesIO()
            img.save(png, format="PNG")
            zf.writestr(f"{name.replace(' ', '_')}/{i}.png", png.getvalue())
        zf.writestr("notes.txt", "not an image")
    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.sidebar.file_uploader[0].set_value(("shapes.zip", buf.getvalue(), "application/zip")).run()
    _assert_clean(at)
    assert len(at.table) == 8 and not _errors(at)  # one top-5 table per image, notes.txt ignored
    at = _view(at, "Classes")
    grouping = next(w for w in at.radio if "folder" in w.options) if at.radio else None
    options = grouping.options if grouping else next(s.options for s in at.selectbox if "folder" in s.options)
    assert "folder" in options
