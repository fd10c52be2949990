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
