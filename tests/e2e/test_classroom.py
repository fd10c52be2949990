"""Classroom input in a real browser (Debian Chromium):

* a link to this view, opened in a fresh page, restores the model, the images, the tab, the block
  and the channel, and the link that page then shows opens the same view;
* a photo taken with the camera (Chromium's fake camera) is analysed like an upload.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

import se_viz
from se_viz.bench.browser import settle

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000
LINK = {
    "model": se_viz.MINI_MODEL,
    "img": ["synthetic_star.png", "synthetic_ring.png"],
    "show": "synthetic_star.png",
    "tab": "Block drill-down",
    "block": "SE_4_1",
    "ch": "7",
}


def _fresh_page(browser, url: str):
    """A new browser context (no cookies, no session) on ``url``, once the drill-down has drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.get_by_text("Channel 7:").wait_for()  # the channel line: the model ran, the block is drawn
    return context, page


def _restored(page) -> None:
    tab = page.locator("[role=tab][aria-selected=true]")
    assert tab.inner_text().strip() == "Block drill-down"
    line = page.get_by_text("Channel 7:").inner_text()
    assert "gate s =" in line and "rank" in line
    main = page.locator("[data-testid=stMain]").inner_text()
    assert "SE_4_1" in main, "the linked block is the one drawn"
    picker = page.locator("[data-testid=stSelectbox]").filter(has_text="Image shown in")
    shown = picker.get_by_role("combobox").input_value()
    assert shown == "synthetic_star.png", "the linked image, not the newest, is the one shown"
    sidebar = page.locator("[data-testid=stSidebar]")
    assert "SE-ResNet mini" in sidebar.inner_text()
    sidebar.get_by_text("Link to this view").click()
    sidebar.get_by_text("Uploaded images and camera photos are not in it").wait_for()


def test_a_link_opens_the_same_view_in_a_fresh_page(browser, mini_server):
    url = f"{mini_server.url}/?{urlencode(LINK, doseq=True)}"
    context, page = _fresh_page(browser, url)
    try:
        _restored(page)
        shown = page.locator("[data-testid=stSidebar] [data-testid=stCode]").inner_text().strip()
        assert shown.startswith(mini_server.url) and "ch=7" in shown and "block=SE_4_1" in shown
    finally:
        context.close()
    context, page = _fresh_page(browser, shown)
    try:
        _restored(page)
    finally:
        context.close()


@pytest.fixture
def camera_browser(browser):
    """A second Chromium (same Playwright) with its fake camera: what a teacher's webcam gives."""
    from conftest import CHROMIUM, CHROMIUM_ARGS

    fake = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    b = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake, headless=True)
    try:
        yield b
    finally:
        b.close()


def test_a_camera_photo_is_analysed_like_an_upload(camera_browser, mini_server):
    context = camera_browser.new_context(viewport={"width": 1400, "height": 900}, permissions=["camera"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(mini_server.url)
        page.get_by_text("1 · Model").wait_for()
        page.get_by_text("Take a photo with the camera").click()
        # The stream must be playing before the shutter gives a picture.
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " return v && v.readyState >= 2 && v.videoWidth > 0; }"
        )
        page.get_by_role("button", name="Take Photo").click()
        heading = page.locator("[data-testid=stMain]").get_by_text(
            re.compile(r"camera photo [0-9a-f]{6}\.jpg — top-1")
        )
        heading.wait_for()
        assert "%" in heading.inner_text()
        settle(page)  # the heading can be drawn before the rest of the run (the captions) is
        assert page.get_by_text("what the network sees").count() == 1
        assert "camera" not in page.url, "a camera photo is never in the link"
    finally:
        context.close()
