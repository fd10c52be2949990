"""The app in a real browser: `streamlit run app.py` + Debian Chromium driven by Playwright.

* a photo uploaded to SE-ResNet-50 (local weights file) gives predictions and the heatmap;
* ten browser sessions at once, each with its own image, each see their own top-1;
* the README screenshots of the main views (written to $SE_VIZ_SCREENSHOTS by
  `make screenshots`, to a temporary directory otherwise).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from se_viz.bench.browser import click_and_settle, settle

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1400, "height": 2400}
TIMEOUT_MS = 180_000
PHOTOS = [
    "chelsea",
    "coffee",
    "astronaut",
    "rocket",
    "camera",
    "coins",
    "moon",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
]


def _photo(folder: Path, name: str = "chelsea", fmt: str = "JPEG") -> Path:
    from PIL import Image
    from skimage import data

    img = Image.fromarray(getattr(data, name)())
    out = folder / f"{name}.{'jpg' if fmt == 'JPEG' else fmt.lower()}"
    img.convert("RGB").save(out, format=fmt)
    return out


def _open(browser, url: str, viewport=VIEWPORT):
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("[data-testid=stApp]")
    page.get_by_text("1 · Model").wait_for()
    return context, page


def _idle(page) -> None:
    """Wait until the page shows the finished run: drawn, loaded, painted (no fixed sleep)."""
    settle(page, timeout_ms=TIMEOUT_MS)


def _images_loaded(page) -> None:
    page.wait_for_function(
        "() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)",
        timeout=TIMEOUT_MS,
    )


def _shot(page, path: Path, max_height: int = 3200) -> None:
    """Screenshot the whole app: grow the viewport to the content (Streamlit scrolls inside)."""
    page.mouse.move(5, 5)  # no hover highlight or focus ring in the picture
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    height = page.evaluate(
        "() => { const el = document.querySelector('[data-testid=stMainBlockContainer]');"
        " return el ? Math.ceil(el.scrollHeight + el.getBoundingClientRect().top + 40) : 0; }"
    )
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": max(900, min(int(height), max_height))})
    settle(page)  # Plotly relayouts to the new size
    page.screenshot(path=str(path))


def _no_exception(page) -> None:
    boxes = page.locator("[data-testid=stException]")
    assert boxes.count() == 0, boxes.first.inner_text()
    assert "Traceback (most recent call last)" not in page.content()


def _tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        click_and_settle(page, tab, timeout_ms=TIMEOUT_MS)


def _wait_plots(page, n: int = 1) -> None:
    page.wait_for_function(
        f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {n}",
        timeout=TIMEOUT_MS,
    )
    settle(page, timeout_ms=TIMEOUT_MS)  # every chart drawn before a screenshot


def test_upload_photo_shows_predictions_and_heatmap(browser, r50_server, tmp_path, shots_dir):
    """SE-ResNet-50 from a local weights file: upload, predictions, per-stage heatmap."""
    server = r50_server
    context, page = _open(browser, server.url)
    try:
        page.get_by_text("Loaded").first.wait_for()
        broken = tmp_path / "broken.png"
        broken.write_bytes(b"this is not a PNG")
        page.set_input_files("input[type=file]", [str(_photo(tmp_path)), str(broken)])
        page.get_by_text(re.compile(r"chelsea\.jpg — top-1:")).wait_for()
        page.get_by_text(re.compile(r"broken\.png cannot be used")).wait_for()
        _tab(page, "Gate heatmap")
        _wait_plots(page)
        text = page.locator(".js-plotly-plot").first.inner_text()
        assert "SE_2_1 · layer1.0.se_module" in text and "SE_5_3 · layer4.2.se_module" in text
        assert "2048 channels" in text and "256 channels" in text
        _no_exception(page)
        page.screenshot(path=str(shots_dir / "e2e_seresnet50_heatmap.png"))
        _tab(page, "Export")
        page.get_by_role("button", name=re.compile("Capture as CSV")).wait_for()
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile("Summary as CSV")).click()
        path = download.value.path()
        text = Path(path).read_text(encoding="utf-8").splitlines()
        assert text[0].startswith("# se_viz")  # the manifest comes first
        lines = [line for line in text if not line.startswith("#")]
        assert lines[0].replace('"', "").startswith("block,") and len(lines) == 1 + 16  # header + 16 blocks
        _no_exception(page)
    finally:
        context.close()


def _expected_top1(env: dict[str, str], paths: list[Path]) -> dict[str, tuple[str, float]]:
    import se_viz

    lm = se_viz.load_model(env["SE_VIZ_MODEL"], weights=env.get("SE_VIZ_WEIGHTS") or None)
    out = {}
    for path in paths:
        cap = se_viz.capture(lm.model, lm.preprocess([se_viz.load_image(path)]))
        p = cap.probabilities()[0]
        out[path.name] = (lm.labels[int(p.argmax())], float(p.max() * 100))
    return out


def test_ten_sessions_each_see_their_own_results(browser, mini_server, mini_env, tmp_path):
    """Ten browser sessions upload ten different images at once; each sees its own top-1."""
    server = mini_server
    paths = [_photo(tmp_path, name, "PNG") for name in PHOTOS]
    expected = _expected_top1(mini_env, paths)
    # Ten tabs: each tab has its own websocket, hence its own Streamlit session and uploads.
    # One browser context lets the tabs share the compiled JS bundle, which halves the CPU
    # time of opening them on a 2-core runner. All open without waiting: they load together.
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    sessions = []
    for _ in paths:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(server.url, wait_until="commit")
        sessions.append((context, page))
    try:
        for _, page in sessions:
            page.get_by_text("Loaded").first.wait_for()
        for (_, page), path in zip(
            sessions, paths, strict=True
        ):  # all uploads first: the server runs them together
            page.set_input_files("input[type=file]", str(path))
        for (_, page), path in zip(sessions, paths, strict=True):
            line = page.get_by_text(re.compile(r"— top-1:")).first
            line.wait_for()
            _idle(page)
            text = line.inner_text()
            label, prob = expected[path.name]
            assert text.startswith(f"{path.name} — top-1: {label} ("), (text, expected[path.name])
            shown = float(re.search(r"\(([\d.]+) %\)", text).group(1))
            assert shown == pytest.approx(prob, abs=0.11)
            other = [p.name for p in paths if p != path]
            assert not any(page.get_by_text(f"{n} — top-1").count() for n in other)
            _no_exception(page)
    finally:
        context.close()


def test_screenshots_of_the_main_views(browser, app_server, request, mini_env, tmp_path, shots_dir):
    """The README screenshots: predictions, heatmap, distributions, drill-down, offline fallback,
    and the paper's SE-ResNet-50 (untrained — the only way offline) in the heatmap.

    With SE-ResNet mini's bundled (trained) weights the app analyses the generated examples of
    its classes, so the pictures show a trained network; without them, an untrained
    SE-ResNet-50 (clearly labelled in the app) analyses the sample photos.
    """
    trained_mini = not mini_env.get("SE_VIZ_WEIGHTS")
    if trained_mini:
        server = request.getfixturevalue("mini_server")
        button = "Analyse the synthetic examples"
    else:
        server = request.getfixturevalue("r50_server")
        button = "Analyse the sample photos"
    context, page = _open(browser, server.url)
    try:
        page.get_by_text("Loaded").first.wait_for()
        page.get_by_role("button", name=re.compile(button)).click()
        page.get_by_text(re.compile(r"— top-1:")).first.wait_for()
        _idle(page)
        page.locator("[data-testid=stImage] img").last.wait_for()
        page.locator("[data-testid=stTable]").last.wait_for()
        _images_loaded(page)
        _no_exception(page)
        _shot(page, shots_dir / "predictions.png", max_height=2000)
        for n_plots, (tab, name) in enumerate(
            [
                ("Gate heatmap", "heatmap.png"),
                ("Distributions", "distributions.png"),
                ("Block drill-down", "drilldown.png"),
            ]
        ):
            _tab(page, tab)
            _wait_plots(page, min(n_plots + 1, 3))
            if tab == "Block drill-down":
                # An early block: its maps are large enough to see the recalibration.
                page.get_by_test_id("stSelectbox").filter(has_text="SE block").click()
                click_and_settle(page, page.get_by_role("option", name=re.compile(r"^SE_3_1")))
                _wait_plots(page, 3)
            _no_exception(page)
            _shot(page, shots_dir / name)
        _tab(page, "Export")
        page.get_by_role("button", name=re.compile("Capture as CSV")).wait_for()
        _no_exception(page)
    finally:
        context.close()

    # Offline with no model chosen: the app starts on what works and says why in one sentence.
    offline = app_server(
        {"SE_VIZ_MODEL": "", "SE_VIZ_WEIGHTS": "", "HF_HUB_CACHE": str(tmp_path / "empty_hf_cache")}
    )
    context, page = _open(browser, offline.url, {"width": 1400, "height": 1300})
    try:
        page.get_by_text(re.compile("no network here")).first.wait_for()
        _idle(page)
        _images_loaded(page)
        _no_exception(page)
        _shot(page, shots_dir / "offline_start.png", max_height=1600)
        # Picking the paper's network anyway: plain words, one-click alternatives.
        page.get_by_test_id("stSelectbox").filter(has_text="SE network").click()
        page.get_by_role("option", name=re.compile(r"^SE-ResNet-50 \(paper authors")).click()
        page.get_by_text(re.compile("needs a download, and this computer cannot reach")).wait_for()
        _idle(page)
        assert page.get_by_role("button", name=re.compile("UNTRAINED")).count() == 1
        assert page.get_by_role("button", name=re.compile("Use SE-ResNet mini")).count() == 1
        _no_exception(page)
        _shot(page, shots_dir / "offline_fallback.png", max_height=1600)
        # One click to the untrained paper network: clearly labelled, honest stage widths.
        page.get_by_role("button", name=re.compile("UNTRAINED")).click()
        page.get_by_text("Untrained network — random weights.").wait_for()
        page.set_input_files("input[type=file]", str(_photo(tmp_path)))
        page.get_by_text(re.compile(r"chelsea\.jpg — top-1:")).wait_for()
        _tab(page, "Gate heatmap")
        _wait_plots(page)
        assert "2048 channels" in page.locator(".js-plotly-plot").first.inner_text()
        _no_exception(page)
        _shot(page, shots_dir / "heatmap_seresnet50_untrained.png", max_height=2200)
    finally:
        context.close()


def test_drilldown_opens_a_channels_gate_atlas(browser, mini_server, shots_dir):
    """Drill-down → "Open this channel's gate atlas" → the Channels tab shows that channel's top and
    bottom images with u_c overlaid, their class mix and the gate histogram."""
    context, page = _open(browser, mini_server.url)
    try:
        page.get_by_text("Loaded").first.wait_for()
        page.get_by_role("button", name=re.compile("Analyse the synthetic examples")).click()
        page.get_by_text(re.compile(r"— top-1:")).first.wait_for()
        _idle(page)
        _tab(page, "Block drill-down")
        page.get_by_role("button", name=re.compile(r"Open channel \d+'s gate atlas")).click()
        _idle(page)
        page.get_by_text(re.compile(r"Channel \d+ of SE_5_2 · layer4\.1\.se: top \d+")).first.wait_for()
        page.get_by_text(re.compile("Class mix of the top")).wait_for()
        _wait_plots(page, 2)
        _no_exception(page)
        assert page.get_by_role("tab", name="Channels", selected=True).count() == 1
        _shot(page, shots_dir / "channel_atlas.png")
    finally:
        context.close()
