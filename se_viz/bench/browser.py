"""How long does a view take to appear in a real browser? ``se-viz bench --browser`` measures it.

The capture benchmark (:mod:`se_viz.bench.capture`) times the network; a teacher waits for the page. This
benchmark starts ``streamlit run app.py`` on a free port, drives Debian's Chromium through every
view with Playwright, and times each step from the click until the page is *settled*: the script
run the click started has finished, no element is stale, every Plotly chart has drawn its SVG (or
WebGL) layers, every image has loaded, and two animation frames have passed. It does so with the
bundled SE-ResNet mini and with an untrained SE-ResNet-50 (random weights written to a local
file, so it runs offline), three times each, and prints the median seconds per step.

The page-state helpers (:func:`track_runs`, :func:`settle`, :func:`click_and_settle`) are the
ones the browser tests wait with, so a test never sleeps for a fixed time. Playwright is
imported lazily: the package does not need it unless a browser is driven.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence, TextIO

from se_viz.tabs import VIEWS

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "VIEWS",
    "BrowserBenchResult",
    "click_and_settle",
    "open_app",
    "run_browser_bench",
    "settle",
    "stop_group",
    "track_runs",
]

CHROMIUM = os.environ.get("SE_VIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # Many tabs at once: background tabs are otherwise throttled (20 tabs: 24 s → 4 s).
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
RUNS = 3
TIMEOUT_MS = 180_000
# How long a wait for a new run counts on seeing it start. On a loaded machine a short run can
# start and end between two renders of the page, so its script state never reaches the DOM: seen
# on 2026-12-05 with four live viewers streaming, a click on the Live tab drew the tab (its
# component and chart were loaded) while the run counter stayed put for 180 s. After this long,
# a settled page is taken as the run's result.
RUN_SEEN_MS = 30_000

# Counts the script runs the page has seen start: every change of the app root's
# data-test-script-state into "rerunRequested" or "running" (a click during a run goes running →
# rerunRequested → running). Each mutation record is read with its old value and the next
# record's (or the current) value as its new one, so a run that starts and ends between two
# observer callbacks still counts.
_TRACK_JS = """() => {
  if (window.__seRuns !== undefined) return window.__seRuns;
  window.__seRuns = 0;
  const app = document.querySelector('[data-testid=stApp]');
  const attr = 'data-test-script-state', busy = ['running', 'rerunRequested'];
  if (app.getAttribute(attr) !== 'notRunning') window.__seRuns += 1;
  new MutationObserver((records) => {
    records.forEach((r, i) => {
      const now = i + 1 < records.length ? records[i + 1].oldValue : app.getAttribute(attr);
      if (now !== r.oldValue && busy.includes(now)) window.__seRuns += 1;
    });
  }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: [attr]});
  return window.__seRuns;
}"""

# True when the page shows the finished result of the last run: not running, nothing stale, no
# skeleton (a chart whose code is still loading), every chart drawn, every image loaded.
_SETTLED_JS = """(after) => {
  const app = document.querySelector('[data-testid=stApp]');
  if (!app) return false;
  const state = app.getAttribute('data-test-script-state');
  if (state !== 'notRunning' && state !== 'compilationError') return false;
  if (after !== null && (window.__seRuns || 0) <= after) return false;
  if (document.querySelector('[data-stale=true], [data-testid=stSkeleton]')) return false;
  const charts = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'));
  if (charts.some(c => !c.querySelector('.js-plotly-plot .main-svg'))) return false;
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  if (plots.some(p => !p._fullLayout || (p._transitionData && p._transitionData._frameQueue
      && p._transitionData._frameQueue.length))) return false;
  return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0);
}"""

# What keeps a page from settling, for the error message.
_STATE_JS = """() => ({
  state: document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state'),
  runs: window.__seRuns,
  stale: document.querySelectorAll('[data-stale=true]').length,
  skeletons: document.querySelectorAll('[data-testid=stSkeleton]').length,
  undrawn: Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))
    .filter(c => !c.querySelector('.js-plotly-plot .main-svg')).length,
  images: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
    .map(i => i.src.slice(-60)),
})"""

# Resolves after two animation frames: what was settled has also been painted.
# A hidden page paints nothing and runs no frames: it is settled as it is.
_PAINTED_JS = """() => document.visibilityState === 'hidden' ? true
  : new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"""


def track_runs(page) -> int:
    """Start counting script runs on ``page`` (once per page); returns the runs seen so far."""
    page.wait_for_selector("[data-testid=stApp]")
    return int(page.evaluate(_TRACK_JS))


def settle(page, after: Optional[int] = None, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until the page is settled (see the module docstring); with ``after`` (a count from
    :func:`track_runs`), also until a script run newer than that one has finished — or, when none
    is seen start within :data:`RUN_SEEN_MS`, until the page is settled."""
    track_runs(page)
    waits = [(after, timeout_ms)]  # (runs to pass, milliseconds)
    if after is not None and timeout_ms > RUN_SEEN_MS:
        waits = [(after, RUN_SEEN_MS), (None, timeout_ms - RUN_SEEN_MS)]
    for k, (runs, ms) in enumerate(waits):
        try:
            page.wait_for_function(_SETTLED_JS, arg=runs, timeout=ms, polling=50)
            break
        except Exception as exc:  # Playwright's TimeoutError
            if k + 1 == len(waits):  # say what the page was still doing
                raise TimeoutError(f"the page did not settle: {page.evaluate(_STATE_JS)}") from exc
    page.evaluate(_PAINTED_JS)


def click_and_settle(page, target, timeout_ms: int = TIMEOUT_MS) -> None:
    """Click ``target`` (a Playwright locator) and wait for the run it starts to be drawn.

    The page is settled first: a click that lands while a run is still going can restart that
    run without the script state ever leaving "running", and would then never be seen to start.
    """
    settle(page, timeout_ms=timeout_ms)
    before = track_runs(page)
    target.click()
    settle(page, after=before, timeout_ms=timeout_ms)


# ---------------------------------------------------------------------------------------------
# The server


#: The language switch's label (se_viz.ui.language.LABEL, bilingual): drawn first in every language.
LANGUAGE_SWITCH = "Language / 语言"


def open_app(browser, url: str, viewport: Optional[dict] = None, **context):
    """A fresh browser context (one user's session) on the app at ``url``, returned with its page once
    the first run has drawn the sidebar and settled. ``context`` goes to ``new_context``; the
    browser's language is English unless it says otherwise (the app follows the browser's locale,
    and a Chromium on a Chinese system would otherwise open the app in Chinese)."""
    context.setdefault("locale", "en-US")
    ctx = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 800}, device_scale_factor=1, **context
    )
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.get_by_text(LANGUAGE_SWITCH).wait_for()  # the sidebar's first widget, named in both languages
    settle(page)
    return ctx, page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """``streamlit run app.py`` in its own process group, stopped by its PID."""

    def __init__(self, env: dict[str, str], port: Optional[int], log: Path) -> None:
        root = Path(__file__).resolve().parents[2]  # the checkout: se_viz/bench/ → repository root
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(self.port)]
            + ["--server.address", "127.0.0.1", "--server.headless", "true"]
            + ["--browser.gatherUsageStats", "false"],
            cwd=root,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("streamlit exited before it was ready")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s")

    def stop(self) -> None:
        stop_group(self.proc)
        self._log.close()


def stop_group(proc: subprocess.Popen) -> None:
    """Stop a server started in its own process group, by its PID: SIGTERM, then SIGKILL after 10 s
    (a server with live WebRTC streams can take longer than that to stop)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class BrowserBenchResult:
    """Seconds per step of one model, one list per step (one entry per run)."""

    model: str
    seconds: dict[str, list[float]] = field(default_factory=dict)
    proc_stopped: bool = False  # the benchmark's server was stopped (its exit code collected)

    def median(self, step: str) -> float:
        return float(statistics.median(self.seconds[step]))


@dataclass(frozen=True)
class _Setup:
    name: str
    env: dict[str, str]
    samples_button: str


def _untrained_r50(folder: Path) -> Path:
    """Random SE-ResNet-50 weights in a local file (seeded): the paper's network, offline."""
    import timm
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    path = folder / "legacy_seresnet50_untrained.safetensors"
    save_file(timm.create_model("legacy_seresnet50").state_dict(), str(path))
    return path


def _setups(models: Sequence[str], folder: Path) -> list[_Setup]:
    out = []
    for m in models:
        if m == "mini":
            env = {"SE_VIZ_MODEL": "se_resnet_mini.synthetic", "SE_VIZ_WEIGHTS": ""}
            out.append(_Setup("SE-ResNet mini (bundled)", env, "synthetic"))
        elif m == "r50":
            env = {"SE_VIZ_MODEL": "legacy_seresnet50.in1k", "SE_VIZ_WEIGHTS": str(_untrained_r50(folder))}
            out.append(_Setup("SE-ResNet-50 (untrained)", env, "sample photos"))
        else:
            raise ValueError(f"unknown model {m!r}: use 'mini' or 'r50'")
    return out


def _one_run(browser, url: str, setup: _Setup, views: Sequence[str], viewport: dict) -> dict[str, float]:
    """One pass through the app in a fresh browser context: seconds per step."""
    import re

    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    out: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        page.goto(url)
        page.get_by_text("1 · Model").wait_for()
        page.get_by_role("button", name=re.compile(f"Analyse the {setup.samples_button}")).wait_for()
        settle(page)
        out["open the app"] = time.perf_counter() - t0
        button = page.get_by_role("button", name=re.compile(f"Analyse the {setup.samples_button}"))
        t0 = time.perf_counter()
        click_and_settle(page, button)
        out["analyse the samples"] = time.perf_counter() - t0
        for view in views:
            tab = page.get_by_role("tab", name=view, exact=True)
            t0 = time.perf_counter()
            if tab.get_attribute("aria-selected") == "true":
                settle(page)
            else:
                click_and_settle(page, tab)
            out[f"tab {view}"] = time.perf_counter() - t0
    finally:
        context.close()
    return out


@contextmanager
def _chromium(browser=None) -> Iterator:
    """``browser`` itself, or Debian's Chromium started (and closed) here."""
    if browser is not None:
        yield browser
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        started = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield started
        finally:
            started.close()


def run_browser_bench(
    models: Sequence[str] = ("mini", "r50"),
    views: Sequence[str] = VIEWS,
    runs: int = RUNS,
    port: Optional[int] = None,
    out: TextIO = sys.stdout,
    viewport: Optional[dict] = None,
    browser=None,
) -> list[BrowserBenchResult]:
    """Time every step with each model ``runs`` times and print the median seconds per step.

    Each run opens a fresh browser context (a new session), so the server's caches are warm after
    the first run, as for the second student in a class: the medians are what a page costs once
    the network has run. The block drill-down opens on the last block (SE_5_3, 2048 channels, on
    SE-ResNet-50). ``browser``: a Playwright browser to use (else Debian's Chromium is started).
    """
    viewport = viewport or {"width": 1400, "height": 900}
    results: list[BrowserBenchResult] = []
    with tempfile.TemporaryDirectory(prefix="se_viz_bench_browser_") as tmp, _chromium(browser) as chromium:
        folder = Path(tmp)
        for setup in _setups(models, folder):
            server = _Server(setup.env, port, folder / f"streamlit_{len(results)}.log")
            try:
                server.wait_healthy()
                result = BrowserBenchResult(setup.name)
                for r in range(runs):
                    for step, sec in _one_run(chromium, server.url, setup, views, viewport).items():
                        result.seconds.setdefault(step, []).append(sec)
                    print(f"  {setup.name}: run {r + 1}/{runs} done", file=out, flush=True)
                results.append(result)
            finally:
                server.stop()
            result.proc_stopped = server.proc.poll() is not None
    _print_table(results, runs, viewport, out)
    return results


def _print_table(results: Sequence[BrowserBenchResult], runs: int, viewport: dict, out: TextIO) -> None:
    print(
        f"\nSeconds from the click until the page is drawn and idle, median of {runs} run(s), "
        f"Chromium {viewport['width']}×{viewport['height']}:\n",
        file=out,
    )
    steps = list(dict.fromkeys(s for r in results for s in r.seconds))
    print("| step | " + " | ".join(r.model for r in results) + " |", file=out)
    print("| --- | " + " | ".join("---:" for _ in results) + " |", file=out)
    for step in steps:
        cells = [f"{r.median(step):.2f}" if step in r.seconds else "—" for r in results]
        print(f"| {step} | " + " | ".join(cells) + " |", file=out)
