"""``se-viz bench-datasets``: time and peak memory of reading big gate datasets, measured.

A big dataset is cheap to make from a small captured one: :func:`replicate` hard-links its part
files over and over (no disk space, no capture time). The statistics of the copy equal the
original's (every image counted r times), which the benchmark checks too. Each measurement runs
in a fresh child process, whose peak resident memory the kernel reports (``os.wait4`` →
``ru_maxrss``), so one measurement's allocations never inflate the next.

Measured per size: ``se-viz summarize`` with the cache ignored (the full streamed passes), the
app's first open of the dataset from ``SE_VIZ_DATA`` (a Streamlit ``AppTest`` of ``app.py``:
the dataset is picked, the summary view drawn) and a second open (the aggregates from the
cache), and with ``--ray`` the Ray Data aggregate on a local runtime.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence, TextIO

__all__ = ["measure_child", "replicate", "run_dataset_bench"]

_SUMMARIZE = """
import io, sys
from se_viz.cli import main
args = ["summarize", sys.argv[1], "--csv", sys.argv[2]] + sys.argv[3:]
raise SystemExit(main(args))
"""

# The app-open timer is Streamlit code, so it lives in the UI package (se_viz/ui/open_timer.py).
_APP_OPEN = "from se_viz.ui.open_timer import main; main()"


def replicate(source: Path, target: Path, copies: int) -> Path:
    """A gate dataset at ``target`` holding ``copies`` hard links of every part file of
    ``source`` (plus its manifest): ``copies`` × the rows, no extra disk space."""
    source, target = Path(source), Path(target)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy2(source / "_manifest.json", target / "_manifest.json")
    parts = sorted(source.glob("*.parquet"))
    for c in range(copies):
        for p in parts:
            os.link(p, target / f"copy-{c:05d}-{p.name}")
    return target


def measure_child(code: str, args: Sequence[str], env: Optional[dict] = None) -> tuple[float, float, str]:
    """Run ``python -c code *args`` in a child; ``(seconds, peak RSS in MB, stdout)``.

    The child is reaped with ``os.wait4``, whose ``ru_maxrss`` is that process's own peak."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=out, stderr=err, env={**os.environ, **(env or {})}
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0), err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"child failed ({proc.returncode}): {err.read()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def _app_path() -> str:
    here = Path(__file__).resolve().parents[2] / "app.py"
    if not here.is_file():
        raise FileNotFoundError("the app's measurement needs app.py (run from a source checkout)")
    return str(here)


def run_dataset_bench(
    source: Path,
    work: Path,
    rows: Sequence[int] = (5000, 20000, 50000),
    ray: bool = False,
    num_cpus: Optional[int] = None,
    app: bool = True,
    out: TextIO = sys.stdout,
) -> list[dict]:
    """Measure summarize / app open (first and second) / Ray aggregate on ``source`` itself and
    on replicas of about ``rows`` rows each, built under ``work``; print a Markdown table and
    return its rows. Each replica's summary must equal the source's (1e-6)."""
    import pandas as pd

    from ..datasets.reader import open_gate_dataset

    source = Path(source).resolve()
    base = len(open_gate_dataset(source))
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cpus = ["--num-cpus", str(num_cpus)] if num_cpus else []
    results = []
    ref_csv = work / "summary-source.csv"
    targets = [(base, source)] + [(base * max(1, round(r / base)), work / f"replica-{r}") for r in rows]
    for i, (n, path) in enumerate(targets):
        if path != source:
            replicate(source, path, n // base)
        csv = work / f"summary-{n}.csv"
        row: dict = {"rows": n}
        for cache in list(path.glob("_se_viz_cache")):
            shutil.rmtree(cache)
        row["summarize_s"], row["summarize_mb"], _ = measure_child(
            _SUMMARIZE, [str(path), str(csv), "--no-cache", *cpus]
        )
        if i == 0:
            shutil.copy(csv, ref_csv)
        else:  # the replica's numbers are the source's
            a, b = pd.read_csv(ref_csv), pd.read_csv(csv)
            b["images"] = a["images"]
            pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=1e-9)
        if app:
            for key in ("open1", "open2"):  # open2: the aggregates cached by open1
                seconds, mb, text = measure_child(_APP_OPEN, [str(path), _app_path()])
                row[f"{key}_s"] = float(text.split("OPEN ")[-1].split()[0])
                row[f"{key}_mb"] = mb
        if ray:
            row["ray_s"], row["ray_mb"], _ = measure_child(
                _SUMMARIZE,
                [str(path), str(work / f"ray-{n}.csv"), "--engine", "ray", *cpus],
                env={"RAY_TMPDIR": str(work / "ray_tmp")},
            )
            a, b = pd.read_csv(csv), pd.read_csv(work / f"ray-{n}.csv")
            pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=1e-9)
        results.append(row)
        print(json.dumps(row), file=out, flush=True)
    print(_table(results), file=out)
    return results


def _table(results: list[dict]) -> str:
    heads = {
        "rows": "rows",
        "summarize_s": "summarize (s)",
        "summarize_mb": "summarize peak (MB)",
        "open1_s": "app open, first (s)",
        "open1_mb": "app peak (MB)",
        "open2_s": "app open, cached (s)",
        "open2_mb": "app peak, cached (MB)",
        "ray_s": "Ray aggregate (s)",
        "ray_mb": "Ray driver peak (MB)",
    }
    keys = [k for k in heads if any(k in r for r in results)]
    lines = ["| " + " | ".join(heads[k] for k in keys) + " |", "|" + "---|" * len(keys)]
    for r in results:
        cells = [f"{r[k]:,}" if k == "rows" else (f"{r[k]:.1f}" if k in r else "—") for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
