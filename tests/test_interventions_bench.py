"""`se-viz bench --sweep`: the knock-out sweep's time against a plain pass, and its FLOP limit."""

import io

from se_viz.bench.capture import run_sweep_bench
from se_viz.cli import main


def test_sweep_bench_reports_ratio_and_flop_limit():
    out = io.StringIO()
    res = run_sweep_bench("legacy_seresnet18", rounds=1, size=64, out=out)
    text = out.getvalue()
    assert "8 SE blocks" in text and "prefix reuse" in text and "FLOP-count limit" in text
    assert res.reused and res.blocks == 8 and res.plain_ms > 0 and res.sweep_ms > 0
    # One unmodified pass plus eight reruns, each cheaper than a full pass.
    assert 1.0 < res.flop_limit < 9.0


def test_cli_bench_sweep_flag(capsys):
    assert main(["bench", "--sweep", "--model", "legacy_seresnet18", "--rounds", "1"]) == 0
    assert "target <= 9 plain passes" in capsys.readouterr().out
