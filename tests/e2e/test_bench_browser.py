"""The browser benchmark runs end to end (one model, one view, one run; no timing asserts)."""

from __future__ import annotations

import io

import pytest

from se_viz.bench import browser as bench_browser

pytestmark = pytest.mark.e2e


def test_browser_bench_smoke(browser):
    """`se-viz bench --browser` in miniature: it starts its own server, times each step, prints the
    table and stops the server."""
    out = io.StringIO()
    (result,) = bench_browser.run_browser_bench(
        models=["mini"], views=["Gate heatmap"], runs=1, out=out, browser=browser
    )
    steps = ["open the app", "analyse the samples", "tab Gate heatmap"]
    assert list(result.seconds) == steps
    assert all(len(v) == 1 and v[0] > 0 for v in result.seconds.values())
    table = out.getvalue()
    assert "| step | SE-ResNet mini (bundled) |" in table and "| tab Gate heatmap |" in table
    assert result.proc_stopped


def test_a_run_that_passes_unseen_still_settles_and_a_busy_page_does_not(browser, monkeypatch):
    """A short run can start and end between two renders of a loaded page, so the run counter
    never moves: after RUN_SEEN_MS a settled page is taken as the run's result. A page that keeps
    running still fails to settle, saying so."""
    monkeypatch.setattr(bench_browser, "RUN_SEEN_MS", 300)
    page = browser.new_page()
    try:
        page.set_content('<div data-testid="stApp" data-test-script-state="notRunning">se_viz</div>')
        before = bench_browser.track_runs(page)
        bench_browser.settle(page, after=before, timeout_ms=3000)  # no run seen: settled will do
        page.evaluate(
            "() => document.querySelector('[data-testid=stApp]')"
            ".setAttribute('data-test-script-state', 'running')"
        )
        with pytest.raises(TimeoutError, match="did not settle.*running"):
            bench_browser.settle(page, after=bench_browser.track_runs(page), timeout_ms=1000)
    finally:
        page.close()
