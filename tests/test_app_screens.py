"""Honest, classroom-ready screens (AppTest): what is loaded is said truthfully, the newest upload
is shown, odd images are explained, and the projector setting changes the look."""

from __future__ import annotations

import io

import timm
from hub_cache import write_hub_cache
from PIL import Image
from test_app import APP, TIMEOUT, _assert_clean, _decode, _figures, _png, _view

import se_viz


def _app(app_env, model, weights=None):
    from streamlit.testing.v1 import AppTest

    app_env(model, weights)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    return at


def _sidebar_text(at) -> str:
    return " ".join(
        el.value for kind in ("success", "info", "warning", "error") for el in getattr(at.sidebar, kind)
    )


def test_status_names_the_real_source_of_the_weights(app_env, hf_cache, tmp_path):
    # bundled
    at = _app(app_env, se_viz.MINI_MODEL)
    assert "weights: bundled with se_viz" in _sidebar_text(at)
    # a hub model found in this computer's cache (offline)
    write_hub_cache(
        hf_cache, "timm/legacy_seresnet18.in1k", timm.create_model("legacy_seresnet18").state_dict()
    )
    at = _app(app_env, "legacy_seresnet18.in1k")
    text = _sidebar_text(at)
    assert "published, from this computer's cache (timm/legacy_seresnet18.in1k)" in text
    assert "downloaded before, works offline" in at.sidebar.selectbox[0].options[0] or any(
        "SE-ResNet-18" in o and "downloaded before" in o for o in at.sidebar.selectbox[0].options
    )
    # a local file: the architecture is named, the weights are not vouched for
    from safetensors.torch import save_file

    path = tmp_path / "mine.safetensors"
    save_file(se_viz.load_model(se_viz.MINI_MODEL, pretrained=False).model.state_dict(), str(path))
    at = _app(app_env, se_viz.MINI_MODEL, path)
    text = _sidebar_text(at)
    assert "local file `mine.safetensors`" in text and "cannot tell what they were trained on" in text
    assert any("Weights from a local file" in w.value for w in at.warning)
    # random init
    at = _app(app_env, se_viz.MINI_MODEL)
    from se_viz.ui.state import ModelChoice, Weights

    at.sidebar.selectbox[0].set_value(ModelChoice(se_viz.MINI_MODEL, Weights.UNTRAINED)).run()
    assert "untrained, random weights" in _sidebar_text(at)
    assert any("Untrained network" in w.value for w in at.warning)


def test_newest_upload_is_shown_and_removal_keeps_the_view(app_env):
    at = _app(app_env, se_viz.MINI_MODEL)
    up = at.sidebar.file_uploader[0]
    up.set_value(("cat.png", _png("chelsea"), "image/png"))
    at.run()
    _view(at, "Gate heatmap")
    first = _decode(_figures(at)[0]["data"][0]["z"])
    at.sidebar.file_uploader[0].set_value(
        [("cat.png", _png("chelsea"), "image/png"), ("coffee.png", _png("coffee"), "image/png")]
    )
    at.run()
    _assert_clean(at)
    assert at.selectbox(key="detail_image").value == "coffee.png"
    assert at.session_state["view"] == "Gate heatmap"  # the open view stays open
    second = _decode(_figures(at)[0]["data"][0]["z"])
    assert not (first == second).all()
    at.sidebar.file_uploader[0].set_value([("cat.png", _png("chelsea"), "image/png")])
    at.run()
    _assert_clean(at)
    assert at.session_state["detail_image"] == "cat.png" and at.session_state["view"] == "Gate heatmap"
    assert (_decode(_figures(at)[0]["data"][0]["z"]) == first).all()


def _encoded(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_odd_images_are_explained_and_thumbnails_stay_visible(app_env):
    at = _app(app_env, se_viz.MINI_MODEL)
    frames = [Image.new("RGB", (64, 64), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    gif = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    at.sidebar.file_uploader[0].set_value(
        [
            ("strip.png", _encoded(Image.new("RGB", (2000, 10), (200, 30, 30))), "image/png"),
            ("dot.png", _encoded(Image.new("RGB", (1, 1), (0, 0, 255))), "image/png"),
            ("anim.gif", gif, "image/gif"),
        ]
    )
    at.run()
    _assert_clean(at)
    notices = " ".join(i.value for i in at.info)
    assert "centre crop" in notices and "pad" in notices  # the strip
    assert "1×1" in notices  # the tiny image
    assert "3 frames" in notices and "first" in notices  # the animation
    from se_viz.ui.cache import MIN_THUMB_SIDE, image_digest, thumbnail_png

    data = _encoded(Image.new("RGB", (2000, 10), (200, 30, 30)))
    thumb = Image.open(io.BytesIO(thumbnail_png(image_digest(data), data)))
    assert min(thumb.size) >= MIN_THUMB_SIDE
    # Switching to pad changes what the network sees: the crop notice goes.
    at.sidebar.segmented_control(key="fit").set_value("pad").run()
    _assert_clean(at)
    assert not any("centre crop" in i.value and "strip.png" in i.value for i in at.info)


def test_projector_setting_enlarges_chart_fonts(app_env):
    at = _app(app_env, se_viz.MINI_MODEL)
    at.sidebar.file_uploader[0].set_value(("cat.png", _png("chelsea"), "image/png"))
    _view(at, "Gate heatmap")
    normal = _figures(at)[0]["layout"]["font"]["size"]
    at.sidebar.toggle(key="projector").set_value(True).run()
    _assert_clean(at)
    big = _figures(at)[0]["layout"]["font"]["size"]
    assert big >= 1.3 * normal
    assert any("font-size" in m.value for m in at.markdown)  # the page CSS grows too
