"""se-viz bench runs end to end and reports paired ratios and peak memory (no timing asserts)."""

import io

import pytest

from se_viz.bench.capture import peak_rss_delta, run_bench
from se_viz.cli import main


def test_bench_reports_ratio_and_memory():
    out = io.StringIO()
    results = run_bench("legacy_seresnet18", batches=(2,), rounds=2, size=64, out=out)
    text = out.getvalue()
    assert "legacy_seresnet18" in text and "8 SE blocks" in text
    assert "ratio" in text and "peak plain MB" in text and "extra MB/img" in text
    assert "no blocks= ms" in text and "vs blocks=" in text
    assert [r.batch for r in results] == [2]
    for r in results:
        assert r.plain_ms > 0 and r.capture_ms > 0 and 0.2 < r.ratio < 5
        assert r.peak_plain_mb is not None and r.peak_capture_mb is not None
        assert r.extra_mb_per_image is not None
        # capture(model, x) without blocks= is timed too, against the explicit call.
        assert r.default_ms is not None and r.default_ms > 0 and 0.2 < r.default_ratio < 5
        # What a capture keeps is tiny: z and s per block plus logits, in float32.
        channels = 2 * (64 + 128 + 256 + 512)
        assert r.kept_mb * 2**20 == pytest.approx(r.batch * 4 * (2 * channels + 1000))


def test_peak_rss_delta_sees_an_allocation():
    import mmap

    def touch_64_mb() -> None:
        # Fresh pages straight from the kernel: a malloc'd buffer may reuse memory that earlier
        # tests freed but the allocator kept resident, which would not raise the peak.
        buf = mmap.mmap(-1, 64 * 2**20)
        for offset in range(0, len(buf), mmap.PAGESIZE):
            buf[offset] = 1
        buf.close()

    grew = peak_rss_delta(touch_64_mb)
    assert grew is not None and grew > 40


def test_cli_bench(capsys):
    assert (
        main(["bench", "--model", "legacy_seresnet18", "--batch", "1", "--rounds", "2", "--no-memory"]) == 0
    )
    out = capsys.readouterr().out
    assert "target <= 1.03" in out and "n/a" in out
