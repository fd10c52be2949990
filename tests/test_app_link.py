"""Classroom input: a link that restores a view in a fresh session, and the camera (AppTest)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from test_app import APP, _assert_clean, _errors, _view

import se_viz
from se_viz.loading.choice import ModelChoice, Weights
from se_viz.ui.link import LINK_NOTE, ViewLink, from_query, to_query

TIMEOUT = 60
STAR, RING = "synthetic_star.png", "synthetic_ring.png"


def _fresh(app_env, query: dict):
    from streamlit.testing.v1 import AppTest

    app_env(None, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def test_a_link_round_trips_only_what_the_app_offers():
    mini = ModelChoice(se_viz.MINI_MODEL)
    options = [mini, ModelChoice(se_viz.MINI_MODEL, Weights.UNTRAINED)]
    link = ViewLink(mini, (STAR, RING), RING, "Block drill-down", "SE_4_1", 7, "pad")
    query = to_query(link)
    params = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    assert from_query(params, options=options, samples=[STAR, RING], tabs=["Block drill-down"]) == link
    # Nothing the app does not offer survives: code, files, unknown tabs and images, bad numbers.
    hostile = {
        "model": ["evil.py:build"],
        "img": ["/etc/passwd", STAR],
        "show": ["/etc/passwd"],
        "tab": ["Nope"],
        "ch": ["-1"],
        "fit": ["stretch"],
    }
    got = from_query(hostile, options=options, samples=[STAR, RING], tabs=["Block drill-down"])
    assert got == ViewLink(samples=(STAR,))
    # Projector mode travels with the link (the room's screen opens as the teacher set it).
    shown = ViewLink(mini, tab="Block drill-down", projector=True)
    query = {k: v if isinstance(v, list) else [v] for k, v in to_query(shown).items()}
    assert from_query(query, options=options, samples=[STAR], tabs=["Block drill-down"]) == shown
    # A local weights file is never written into a link.
    assert "model" not in to_query(ViewLink(ModelChoice("x", Weights.FILE, "/data/w.safetensors")))


def test_a_link_restores_model_images_tab_block_and_channel_in_a_fresh_session(app_env):
    query = {
        "model": se_viz.MINI_MODEL,
        "weights": "untrained",
        "img": [STAR, RING],
        "show": STAR,
        "tab": "Block drill-down",
        "block": "SE_4_1",
        "ch": "7",
        "fit": "pad",
    }
    at = _fresh(app_env, query)
    _assert_clean(at)
    assert at.session_state["model"] == ModelChoice(se_viz.MINI_MODEL, Weights.UNTRAINED)
    assert at.session_state["samples"] == [STAR, RING]
    assert at.session_state["fit"] == "pad"
    assert at.selectbox(key="detail_image").value == STAR  # not the newest image, the linked one
    assert at.selectbox(key="drill_block").value == "SE_4_1"
    assert at.selectbox(key="channel").value == 7
    assert any("**Channel 7**" in m.value for m in at.markdown)
    assert any(LINK_NOTE in c.value for c in at.sidebar.caption), "the page says uploads are not in it"
    # The address bar keeps what the link said (and the link box shows it).
    assert at.query_params["tab"] == "Block drill-down" and at.query_params["ch"] == "7"


def test_the_link_of_a_session_opens_the_same_view(app_env):
    from streamlit.testing.v1 import AppTest

    app_env(None, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.sidebar.multiselect(key="samples").set_value([STAR, RING]).run()
    at.selectbox(key="detail_image").set_value(STAR).run()
    at = _view(at, "Teach one block")
    at.selectbox(key="iv_teach_block").set_value("SE_3_2").run()
    at.sidebar.toggle(key="projector").set_value(True).run()
    _assert_clean(at)
    query = dict(at.query_params)
    assert query["tab"] == "Teach one block" and query["block"] == "SE_3_2"
    again = _fresh(app_env, query)
    _assert_clean(again)
    assert again.sidebar.toggle(key="projector").value, "the link opens in projector mode"
    assert again.session_state["view"] == "Teach one block"
    assert again.selectbox(key="iv_teach_block").value == "SE_3_2"
    assert again.selectbox(key="detail_image").value == STAR
    assert again.session_state["samples"] == [STAR, RING]


def test_uploads_are_never_in_the_link(app_env):
    from PIL import Image
    from streamlit.testing.v1 import AppTest

    app_env(None, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 30, 30)).save(buf, format="PNG")
    at.sidebar.file_uploader[0].set_value(("secret_face.png", buf.getvalue(), "image/png")).run()
    _assert_clean(at)
    assert "secret" not in repr(dict(at.query_params))


def test_a_camera_photo_goes_the_way_of_an_upload(app_env):
    from PIL import Image
    from streamlit.testing.v1 import AppTest

    from se_viz.ui.cache import capture_key, capture_store, image_digest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.sidebar.toggle(key="camera_on").set_value(True).run()
    assert at.get("camera_input"), "the camera appears once asked for"
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(buf, format="JPEG")
    photo = buf.getvalue()
    at.get("camera_input")[0].set_value(("image.jpg", photo, "image/jpeg")).run()
    _assert_clean(at)
    assert not _errors(at)
    name = f"camera photo {image_digest(photo)[:6]}.jpg"
    assert any(name in m.value for m in at.markdown), "the Predictions view lists the photo"
    # The same capture as an upload of the same bytes: one key, one store.
    key = capture_key(image_digest(photo), ModelChoice(se_viz.MINI_MODEL), "crop")
    assert capture_store().has(key, maps=False)
    assert "camera" not in repr(dict(at.query_params))


@pytest.mark.parametrize("tab", ["Gate heatmap"])
def test_an_unknown_block_in_a_link_is_ignored(app_env, tab):
    at = _fresh(app_env, {"model": se_viz.MINI_MODEL, "img": STAR, "tab": tab, "block": "SE_9_9", "ch": "3"})
    _assert_clean(at)
    assert at.session_state["view"] == tab
    assert "drill_block" not in at.session_state or at.session_state["drill_block"] != "SE_9_9"
