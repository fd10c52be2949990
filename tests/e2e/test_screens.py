"""What a class sees, checked in Chromium by element geometry and real downloads.

* two download buttons clicked 0.15 s apart both deliver their file, five rounds in a row, and no
  button stays disabled;
* projector mode at 1024×768 and 1280×720: the header above the tabs is one line, the selected
  tab is in view, the first chart (or picture) of every view starts above the fold, nothing
  scrolls sideways and no text is under 18 px.

Every wait is on page state (``se_viz.bench.browser.settle``), never a fixed sleep.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from se_viz.bench.browser import VIEWS, click_and_settle, open_app, settle

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 180_000
PROJECTOR_SIZES = [(1024, 768), (1280, 720)]
MIN_TEXT_PX = 18


def _analyse_samples(page) -> None:
    click_and_settle(page, page.get_by_role("button", name=re.compile("Analyse the synthetic examples")))
    page.get_by_role("tab", name="Predictions").wait_for()


def _to_top(page) -> None:
    """Clicks scroll what they click into view; the geometry is of the page as it opens."""
    page.evaluate("() => document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")


def _tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        click_and_settle(page, tab)
    _to_top(page)


# ---------------------------------------------------------------------------------------------
# Downloads

PAIRS = [("Capture as CSV", "Summary as CSV"), ("Capture as NPZ", "Charts as one HTML report")]


def test_two_quick_downloads_both_arrive_five_times(browser, mini_server):
    """Item: no download lost. The second click lands 150 ms after the first, while the first
    is being served; both files arrive, the same bytes every round, and every button comes back."""
    context, page = open_app(browser, mini_server.url, {"width": 1400, "height": 1600}, accept_downloads=True)
    try:
        _analyse_samples(page)
        _tab(page, "Export")
        seen: dict[str, bytes] = {}
        for round_ in range(5):
            first, second = PAIRS[round_ % 2]
            got = []

            def keep(download, got=got) -> None:
                got.append(download)

            page.on("download", keep)
            # Both clicks from inside the page, 150 ms apart, as a hurried user makes them.
            page.evaluate(
                """([a, b]) => {
                    const find = (t) => Array.from(document.querySelectorAll('button'))
                        .find(e => e.innerText.includes(t));
                    find(a).click();
                    setTimeout(() => find(b).click(), 150);
                }""",
                [first, second],
            )
            while len(got) < 2:
                page.wait_for_event("download", timeout=60_000)
            page.remove_listener("download", keep)
            names = sorted(d.suggested_filename for d in got)
            assert len(names) == 2 and names[0] != names[1], names
            for d in got:
                data = Path(d.path()).read_bytes()
                assert data, d.suggested_filename
                # The same file every time: the rows are equal (the manifest's "#" lines carry a time).
                body = b"\n".join(x for x in data.splitlines() if not x.startswith(b"#"))
                key = d.suggested_filename
                if key.endswith(".csv"):
                    assert seen.setdefault(key, body) == body, key
            settle(page)
            buttons = page.locator("[data-testid=stDownloadButton] button")
            assert buttons.count() >= 4
            assert all(buttons.nth(i).is_enabled() for i in range(buttons.count())), (
                f"round {round_ + 1}: a button stays disabled"
            )
        log = mini_server.log()
        assert "MediaFileStorageError" not in log and "not found" not in log, log[-2000:]
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------
# Projector geometry

_HEADER_JS = """() => {
  const main = document.querySelector('[data-testid=stMainBlockContainer]');
  const tabs = main.querySelector('[data-testid=stTabs]');
  const strip = tabs.querySelector('[role=tablist]').getBoundingClientRect();
  const top = main.getBoundingClientRect().top;
  const kinds = '[data-testid=stElementContainer], [data-testid=stLayoutWrapper]';
  const blocks = Array.from(main.querySelectorAll(kinds))
    .filter(e => !tabs.contains(e) && e.offsetParent !== null)
    .map(e => e.getBoundingClientRect())
    .filter(r => r.height > 0 && r.bottom <= strip.top + 1);
  // Lines: blocks that overlap vertically share one.
  let rows = 0, bottom = -Infinity;
  for (const r of blocks.sort((a, b) => a.top - b.top)) {
    if (r.top >= bottom - 2) rows += 1;
    bottom = Math.max(bottom, r.bottom);
  }
  return {tabs_top: strip.top - top, rows, tops: blocks.map(r => Math.round(r.top))};
}"""

_SELECTED_TAB_JS = """() => {
  const t = document.querySelector('[data-testid=stTabs] [role=tab][aria-selected=true]');
  const strip = t.closest('[role=tablist]').getBoundingClientRect(), r = t.getBoundingClientRect();
  return r.left >= strip.left - 1 && r.right <= strip.right + 1 && r.right <= window.innerWidth
    && r.top >= strip.top - 1 && r.bottom <= strip.bottom + 1;
}"""

# The top of the first chart (or, without one, the first picture or table) of the open tab,
# relative to the window, with the page scrolled to the top.
_FIRST_RESULT_JS = """() => {
  const panel = Array.from(document.querySelectorAll('[data-testid=stTabs] [role=tabpanel]'))
    .find(p => p.offsetParent !== null && !p.hidden);
  const pick = (sel) => Array.from(panel.querySelectorAll(sel)).find(e => e.offsetParent !== null);
  const el = pick('.js-plotly-plot') || pick('[data-testid=stImage] img') || pick('[data-testid=stTable]');
  return el ? {top: el.getBoundingClientRect().top, kind: el.tagName} : null;
}"""

# Visible text under MIN px: elements with their own text (not SVG charts, not equations).
_SMALL_TEXT_JS = """(min) => {
  const out = [];
  const app = document.querySelector('[data-testid=stApp]');
  const walker = document.createTreeWalker(app, NodeFilter.SHOW_TEXT);
  const skip = 'svg, .katex, [role=tooltip], [data-testid=stTooltipContent]';
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest(skip)) continue;
    if (el.offsetParent === null) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < min - 0.05) out.push(`${px}px: ${node.textContent.trim().slice(0, 40)}`);
  }
  return Array.from(new Set(out)).slice(0, 12);
}"""


def _cut_equations(page) -> int:
    """How many equations are wider than the column they sit in (KaTeX scrolls them sideways; a few
    pixels of italic overhang do not count)."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.katex-display'))"
        ".filter(e => e.offsetParent !== null && e.clientWidth > 0"
        " && e.scrollWidth > e.clientWidth + 4).length"
    )


def _overflow(page) -> int:
    return page.evaluate(
        "() => { const m = document.querySelector('[data-testid=stMain]') || document.body;"
        " return Math.max(0, m.scrollWidth - m.clientWidth); }"
    )


@pytest.mark.parametrize("size", PROJECTOR_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_projector_mode_fits_by_geometry(browser, mini_server, size, shots_dir):
    width, height = size
    context, page = open_app(
        browser, mini_server.url, {"width": width, "height": height}, accept_downloads=True
    )
    try:
        click_and_settle(page, page.get_by_text("Projector mode"))
        _analyse_samples(page)
        _to_top(page)
        header = page.evaluate(_HEADER_JS)
        assert header["rows"] <= 1, f"the header above the tabs has {header['rows']} lines: {header}"
        problems = []  # every problem of every view, so one run shows them all
        for view in VIEWS:
            _tab(page, view)
            where = f"{view} at {width}×{height}"
            if not page.evaluate(_SELECTED_TAB_JS):
                problems.append(f"{where}: the selected tab is out of view")
            first = page.evaluate(_FIRST_RESULT_JS)
            if view != "Export" and first is None:  # the export tab holds buttons only
                problems.append(f"{where}: nothing drawn")
            elif first is not None and first["top"] >= height:
                problems.append(f"{where}: the first result starts at {first['top']:.0f} px")
            if _overflow(page) > 1:
                problems.append(f"{where}: the page scrolls sideways")
            if _cut_equations(page):
                problems.append(f"{where}: an equation is cut off")
            small = page.evaluate(_SMALL_TEXT_JS, MIN_TEXT_PX)
            if small:
                problems.append(f"{where}: text under {MIN_TEXT_PX} px: {small}")
            page.screenshot(
                path=str(shots_dir / f"projector_{width}x{height}_{view.replace(' ', '_').lower()}.png")
            )
        assert not problems, "\n".join(problems)
    finally:
        context.close()
