"""``se-viz bench-datasets``: reading big gate datasets against the speed of the disk, measured.

A big dataset is cheap to make from a small captured one: :func:`replicate` hard-links its part
files over and over (no disk space, no capture time). The statistics of the copy equal the
original's (every image counted r times), which the benchmark checks too. Each measurement runs
in a fresh child process, which reports its own peak resident memory (``VmHWM``) as it exits, so
one measurement's allocations never inflate the next.

Measured per size, in one run: the **raw scan** (pyarrow's threaded dataset scan of every column
of every part file, each column to NumPy and summed: what reading the files costs at best; run
before and after the others, the mean is the reference),
``se-viz summarize`` with the cache ignored (one read of the gate columns, folded on every core),
the app's first open of the dataset from ``SE_VIZ_DATA`` (a Streamlit ``AppTest`` of ``app.py``:
the dataset is picked, the aggregates folded with a progress bar, the summary view drawn) and a
second open (the aggregates from the cache), and with ``--ray`` the Ray Data aggregate on a
local runtime. Times are taken inside the child (interpreter and torch start-up excluded, as they
do not grow with the data); ``summarize`` is also given with its start-up, as a user waits for it."""

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

__all__ = ["SCAN_RATIO_TARGETS", "capture_source", "measure_child", "replicate", "run_dataset_bench"]

#: The issue's bars at the largest size: summarize and the app's uncached open over the raw scan.
SCAN_RATIO_TARGETS = {"summarize_s": 1.5, "open1_s": 2.0}
#: ImageNet-train, for the projection from the measured rate.
IMAGENET_TRAIN_ROWS = 1_281_167

_SUMMARIZE = """
import io, sys, time
started = time.perf_counter()
from se_viz.cli import main
imported = time.perf_counter()
args = ["summarize", sys.argv[1], "--csv", sys.argv[2], "--no-progress"] + sys.argv[3:]
code = main(args)
print(f"SUMMARY {time.perf_counter() - imported:.3f} {time.perf_counter() - started:.3f}")
raise SystemExit(code)
"""

_SCAN = """
import sys, time
import numpy as np, pyarrow as pa, pyarrow.dataset as pads
started = time.perf_counter()
total = 0.0
for batch in pads.dataset(sys.argv[1], format="parquet").to_batches(use_threads=True):
    for col in batch.columns:
        if pa.types.is_fixed_size_list(col.type):
            total += float(col.flatten().to_numpy(zero_copy_only=False).sum())
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            total += float(col.to_numpy(zero_copy_only=False).sum())
print(f"SCAN {time.perf_counter() - started:.3f} {total}")
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


def capture_source(folder: Path, images: int = 64, classes: int = 8) -> Path:
    """A small labelled gate dataset to replicate: ``images`` generated 320×240 JPEGs in
    ``classes`` class folders (ImageFolder order: class by class), captured into one part file by
    an untrained SE-ResNet-50 (random weights, no download; the statistics' cost does not depend
    on the weights)."""
    from ..datasets.job import CaptureJob
    from ..datasets.local import run_local
    from ..datasets.sources import expand_inputs
    from .capture_throughput import write_bench_images

    folder = Path(folder)
    out = folder / "source.gates"
    if (out / "_manifest.json").is_file():
        return out
    flat = write_bench_images(folder / "images-flat", images)
    for i, path in enumerate(flat):
        labelled = folder / "images" / f"class{i * classes // images:02d}"
        labelled.mkdir(parents=True, exist_ok=True)
        path.rename(labelled / path.name)
    job = CaptureJob(
        model="legacy_seresnet50", out=out, pretrained=False, batch_size=16, threads=1, rows_per_part=images
    )
    run_local(job, expand_inputs([folder / "images"]), progress=False)
    return out


def measure_child(code: str, args: Sequence[str], env: Optional[dict] = None) -> tuple[float, float, str]:
    """Run ``python -c code *args`` in a child; ``(seconds, peak RSS in MB, stdout)``.

    The peak is the child's own ``VmHWM`` (``/proc/self/status``), printed as it exits. Not
    ``ru_maxrss`` from ``os.wait4``: Linux carries the parent's high-water mark into a child
    across fork and exec, so after this process had captured a source with SE-ResNet-50 every
    child "peaked" at its 1289 MB (seen 2026-12-05); off Linux, ``ru_maxrss`` it is."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _PEAK_AT_EXIT + code, *args],
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0), err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"child failed ({proc.returncode}): {err.read()[-3000:]}")
        text = out.read()
        peak_kb = float(text.split("PEAK_KB ")[-1].split()[0]) if "PEAK_KB " in text else usage.ru_maxrss
        return seconds, peak_kb / 1024, text


# Prints the child's own peak resident memory (kB) when it exits, SystemExit included.
_PEAK_AT_EXIT = """import atexit as _atexit
def _peak():
    try:
        with open("/proc/self/status") as f:
            print("PEAK_KB", next(line.split()[1] for line in f if line.startswith("VmHWM:")), flush=True)
    except OSError:
        pass
_atexit.register(_peak)
"""


def _app_path() -> str:
    here = Path(__file__).resolve().parents[2] / "app.py"
    if not here.is_file():
        raise FileNotFoundError("the app's measurement needs app.py (run from a source checkout)")
    return str(here)


def _timed(text: str, word: str) -> float:
    return float(text.split(f"{word} ")[-1].split()[0])


def run_dataset_bench(
    source: Optional[Path],
    work: Path,
    rows: Sequence[int] = (20000, 50000),
    ray: bool = False,
    num_cpus: Optional[int] = None,
    app: bool = True,
    out: TextIO = sys.stdout,
) -> list[dict]:
    """Measure the raw scan, summarize, the app's opens (first and cached) and optionally the Ray
    aggregate on ``source`` itself and on replicas of about ``rows`` rows each, built under
    ``work`` (without ``source``, one is captured there first: :func:`capture_source`); print a
    Markdown table, the ratios to the scan at the largest size against
    :data:`SCAN_RATIO_TARGETS` and the ImageNet-train projection, and return the table's rows.
    Each replica's summary must equal the source's (1e-6)."""
    import pandas as pd

    from ..datasets.reader import open_gate_dataset

    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    source = Path(source).resolve() if source else capture_source(work)
    base = len(open_gate_dataset(source))
    cpus = ["--num-cpus", str(num_cpus)] if num_cpus else []
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", file=out, flush=True)
    results = []
    ref_csv = work / "summary-source.csv"
    targets = [(base, source)] + [(base * max(1, round(r / base)), work / f"replica-{r}") for r in rows]
    for i, (n, path) in enumerate(targets):
        if path != source:
            replicate(source, path, n // base)
        csv = work / f"summary-{n}.csv"
        row: dict = {"rows": n, "gb": sum(p.stat().st_size for p in path.glob("*.parquet")) / 1e9}
        for cache in list(path.glob("_se_viz_cache")):
            shutil.rmtree(cache)
        # The scan runs before and after the others (its mean is the reference), so a load that
        # drifts during the run weighs on both sides of every ratio.
        scans = [_timed(measure_child(_SCAN, [str(path)])[2], "SCAN")]
        wall, row["summarize_mb"], text = measure_child(
            _SUMMARIZE, [str(path), str(csv), "--no-cache", *cpus]
        )
        row["summarize_s"], row["summarize_cli_s"] = _timed(text, "SUMMARY"), wall
        if i == 0:
            shutil.copy(csv, ref_csv)
        else:  # the replica's numbers are the source's
            a, b = pd.read_csv(ref_csv), pd.read_csv(csv)
            b["images"] = a["images"]
            pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=1e-9)
        if app:
            for cache in list(path.glob("_se_viz_cache")):  # summarize cached them: the app folds anew
                shutil.rmtree(cache)
            for key in ("open1", "open2"):  # open2: the aggregates cached by open1
                _, mb, text = measure_child(_APP_OPEN, [str(path), _app_path()])
                row[f"{key}_s"], row[f"{key}_mb"] = _timed(text, "OPEN"), mb
        scans.append(_timed(measure_child(_SCAN, [str(path)])[2], "SCAN"))
        row["scan_s"] = sum(scans) / len(scans)
        if ray:
            _, row["ray_mb"], text = measure_child(
                _SUMMARIZE,
                [str(path), str(work / f"ray-{n}.csv"), "--engine", "ray", *cpus],
                env={"RAY_TMPDIR": str(work / "ray_tmp")},
            )
            row["ray_s"] = _timed(text, "SUMMARY")
            a, b = pd.read_csv(csv), pd.read_csv(work / f"ray-{n}.csv")
            pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=1e-9)
        if path != source:
            shutil.rmtree(path)  # hard links: nothing to keep
        results.append(row)
        print(json.dumps(row), file=out, flush=True)
    print(_table(results), file=out)
    print(_verdict(results[-1]), file=out)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", file=out)
    return results


def _verdict(last: dict) -> str:
    """The ratios to the raw scan at the largest size and the ImageNet-train projection."""
    lines = [
        f"at {last['rows']:,} rows ({last['gb']:.2f} GB), against the raw scan ({last['scan_s']:.1f} s):"
    ]
    for key, target in SCAN_RATIO_TARGETS.items():
        if key in last:
            ratio = last[key] / last["scan_s"]
            ok = "yes" if ratio <= target else "NO"
            lines.append(f"  {_HEADS[key]}: {ratio:.2f}x the scan (target <= {target}x: {ok})")
    scale = IMAGENET_TRAIN_ROWS / last["rows"]
    lines.append(
        f"  ImageNet-train ({IMAGENET_TRAIN_ROWS:,} rows, {last['gb'] * scale:.0f} GB) at these rates: "
        f"raw scan {last['scan_s'] * scale / 60:.1f} min, "
        f"summarize {last['summarize_s'] * scale / 60:.1f} min"
    )
    return "\n".join(lines)


_HEADS = {
    "rows": "rows",
    "gb": "GB",
    "scan_s": "raw scan (s)",
    "summarize_s": "summarize (s)",
    "summarize_cli_s": "summarize with start-up (s)",
    "summarize_mb": "summarize peak (MB)",
    "open1_s": "app open, first (s)",
    "open1_mb": "app peak (MB)",
    "open2_s": "app open, cached (s)",
    "open2_mb": "app peak, cached (MB)",
    "ray_s": "Ray aggregate (s)",
    "ray_mb": "Ray driver peak (MB)",
}


def _table(results: list[dict]) -> str:
    keys = [k for k in _HEADS if k != "scan_mb" and any(k in r for r in results)]
    lines = ["| " + " | ".join(_HEADS[k] for k in keys) + " |", "|" + "---|" * len(keys)]
    for r in results:
        cells = []
        for k in keys:
            if k not in r:
                cells.append("—")
            elif k == "rows":
                cells.append(f"{r[k]:,}")
            else:
                cells.append(
                    f"{r[k]:.2f}"
                    if k in ("gb", "scan_s", "summarize_s", "open1_s", "open2_s")
                    else f"{r[k]:.1f}"
                )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
