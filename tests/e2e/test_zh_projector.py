"""The Chinese interface on a projector, in Chromium (issue 23).

At 1024×768 in projector mode, opened by a link with ``lang=zh_CN&projector=1`` and one uploaded
photo: every tab is named in Chinese, the first chart (or picture) of every view starts above the
fold, nothing scrolls sideways, and the Chinese text is drawn with real glyphs (Debian's
``fonts-noto-cjk``), not the empty boxes a missing font gives. With ``SE_VIZ_SCREENSHOTS`` set it
writes the README.zh-CN screenshots (``zh_welcome.png``, ``zh_heatmap.png``,
``zh_projector_1024x768.png``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_screens import _FIRST_RESULT_JS, _overflow, _tab, _to_top

from se_viz import i18n
from se_viz.bench.browser import open_app, settle
from se_viz.tabs import VIEWS

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 1024, 768
#: Views that with one image show buttons or say what they need (more images), and no chart.
ONE_IMAGE_WORDS_ONLY = ("Compare", "Classes", "Channels", "Export", "Live")

# Two different Chinese characters drawn on a canvas in the page's own font: with a CJK font they
# differ; without one both are the same "missing glyph" box.
_GLYPHS_JS = """() => {
  const font = getComputedStyle(document.querySelector('[data-testid=stMain]')).fontFamily;
  const draw = (ch) => {
    const c = document.createElement('canvas'); c.width = 48; c.height = 48;
    const g = c.getContext('2d'); g.font = `32px ${font}`; g.fillText(ch, 4, 36);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(',');
  };
  const a = draw('挤'), b = draw('激'), blank = draw(' ');
  return {differ: a !== b, inked: a !== blank};
}"""


def _photo(folder: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = folder / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(path, quality=90)
    return path


def test_chinese_projector_fits_and_draws_glyphs(browser, mini_server, tmp_path, shots_dir):
    url = f"{mini_server.url}/?lang=zh_CN&projector=1"
    context, page = open_app(browser, url, {"width": WIDTH, "height": HEIGHT})
    try:
        glyphs = page.evaluate(_GLYPHS_JS)
        assert glyphs["inked"] and glyphs["differ"], f"Chinese text is drawn as empty boxes: {glyphs}"
        page.screenshot(path=str(shots_dir / "zh_welcome.png"))

        page.locator("[data-testid=stSidebar] input[type=file]").first.set_input_files(str(_photo(tmp_path)))
        with i18n.language("zh_CN"):
            labels = {v: i18n._(v) for v in VIEWS}
        page.get_by_role("tab", name=labels["Predictions"], exact=True).wait_for(timeout=180_000)
        settle(page)
        _to_top(page)
        page.screenshot(path=str(shots_dir / "zh_projector_1024x768.png"))
        problems = []
        for view in VIEWS:
            _tab(page, labels[view])
            where = f"{labels[view]} ({view})"
            first = page.evaluate(_FIRST_RESULT_JS)
            if view not in ONE_IMAGE_WORDS_ONLY and first is None:
                problems.append(f"{where}: nothing drawn")
            elif first is not None and first["top"] >= HEIGHT:
                problems.append(f"{where}: the first result starts at {first['top']:.0f} px")
            if _overflow(page) > 1 or page.evaluate(
                "() => document.scrollingElement.scrollWidth > window.innerWidth + 1"
            ):
                problems.append(f"{where}: the page scrolls sideways")
            if view == "Gate heatmap":
                page.screenshot(path=str(shots_dir / "zh_heatmap.png"))
        assert not problems, "\n".join(problems)
    finally:
        context.close()
