"""A class on one server, checked in Chromium: the header row is reachable in projector mode, and a
heavy run whose page is closed stops and gives its memory back.

Every wait is on page state (``se_viz.bench.browser.settle``) or on the server process's own
numbers (CPU time, RSS from /proc), never a fixed sleep before a check.
"""

from __future__ import annotations

import re

import pytest

from se_viz.bench.browser import click_and_settle, settle

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000

# The element at the centre of the image picker (the header row's select box) when the page is
# scrolled to the top: the picker itself, or what lies over it.
_PICKER_HIT_JS = """() => {
  const box = document.querySelector('[data-testid=stMain] [data-testid=stSelectbox]');
  if (!box) return {found: false};
  const r = box.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const over = hit ? (hit.closest('[data-testid]') || hit) : null;
  return {found: true, top: r.top, bottom: r.bottom, reachable: !!hit && box.contains(hit),
          over: over ? (over.getAttribute('data-testid') || over.tagName) : null};
}"""


def _open(browser, url: str, viewport: dict):
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.get_by_text("1 · Model").wait_for()
    settle(page)
    return context, page


def _sidebar_open(page) -> bool:
    return page.locator("[data-testid=stSidebar]").evaluate("e => e.getBoundingClientRect().right > 10")


def _set_sidebar(page, open_: bool) -> None:
    if _sidebar_open(page) and not open_:
        page.locator("[data-testid=stSidebar]").hover()
        page.locator("[data-testid=stSidebarCollapseButton] button").click()
    elif open_ and not _sidebar_open(page):
        page.locator("[data-testid=stExpandSidebarButton]").click()
    page.wait_for_function(
        "(want) => (document.querySelector('[data-testid=stSidebar]')"
        ".getBoundingClientRect().right > 10) === want",
        arg=open_,
    )
    page.wait_for_timeout(400)  # the sidebar slides for 300 ms; geometry is read after it
    settle(page)
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_projector_header_row_is_reachable_with_the_sidebar_open_or_collapsed(browser, mini_server, size):
    width, height = size
    context, page = _open(browser, mini_server.url, {"width": width, "height": height})
    try:
        click_and_settle(page, page.get_by_text("Projector mode"))
        click_and_settle(page, page.get_by_role("button", name=re.compile("Analyse the synthetic examples")))
        page.get_by_role("tab", name="Predictions").wait_for()
        problems = []
        for open_ in (True, False):
            _set_sidebar(page, open_)
            hit = page.evaluate(_PICKER_HIT_JS)
            state = f"{width}×{height}, sidebar {'open' if open_ else 'collapsed'}"
            if not hit["found"]:
                problems.append(f"{state}: no image picker")
            elif not hit["reachable"]:
                problems.append(
                    f"{state}: the picker ({hit['top']:.0f}–{hit['bottom']:.0f} px) is under {hit['over']}"
                )
        assert not problems, "\n".join(problems)
        # And it is really usable: a click opens its list.
        page.locator("[data-testid=stMain] [data-testid=stSelectbox]").first.click()
        page.get_by_role("listbox").wait_for()
    finally:
        context.close()
