"""The bodies of ``se-viz capture`` and ``se-viz summarize`` (``se_viz.cli`` only parses)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Optional, TextIO

from ..errors import ModelLoadError
from .job import CaptureJob
from .output import OutputError
from .reader import open_gate_dataset
from .schema import ERRORS_FILE
from .sources import expand_inputs
from .summary import summarize_gate_dataset

__all__ = ["capture_command", "summarize_command"]


def capture_command(
    args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None
) -> int:
    """Run ``se-viz capture``: expand the inputs, run the chosen engine, report counts.

    Exit status 0 when the run finished (unreadable images are counted, not fatal), 2 when the
    inputs, the model or the output folder cannot be used (the message says why).
    """
    out, err = out or sys.stdout, err or sys.stderr
    try:
        items = expand_inputs(args.inputs)
        job = CaptureJob(
            model=args.model,
            out=Path(args.out),
            weights=Path(args.weights) if args.weights else None,
            pretrained=not args.untrained,
            dtype=args.dtype,
            batch_size=args.batch_size,
            workers=args.workers,
            rows_per_part=args.rows_per_part,
            resume=args.resume,
            actors=args.actors,
            threads=args.threads,
            address=args.address,
            num_cpus=getattr(args, "num_cpus", None),
            inputs=tuple(args.inputs),
            command=("se-viz", *getattr(args, "argv", sys.argv[1:])),
        )
        if not items:
            print("se-viz capture: the inputs hold no images.", file=err)
            return 2
        if args.engine == "ray":
            from .ray_engine import run_ray

            report = run_ray(job, items, progress=not args.no_progress)
        else:
            from .local import run_local

            report = run_local(job, items, progress=not args.no_progress, out=err)
    except (FileNotFoundError, ValueError, ModelLoadError, OutputError) as exc:
        print(f"se-viz capture: {exc}", file=err)
        return 2
    # The statistics the app opens a dataset with, streamed once now and cached next to it: a
    # dataset that se-viz wrote then opens as fast at 50,000 rows as at 50 (docs/datasets.md).
    started = time.perf_counter()
    summarize_gate_dataset(open_gate_dataset(job.out))
    summarized = time.perf_counter() - started
    print(
        f"{job.out}: {report.written} image(s) captured in {report.seconds:.1f} s "
        f"({report.images_per_second:.1f} images/s), {report.skipped} already done, "
        f"{report.total} input(s); {report.errors} unreadable (listed in {job.out / ERRORS_FILE}); "
        f"statistics cached for the app in {summarized:.1f} s.",
        file=out,
    )
    return 0


def summarize_command(
    args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None
) -> int:
    """Run ``se-viz summarize``: print the per-block table, optionally write it as CSV.

    The local engine streams the dataset in bounded memory and caches the aggregates next to it
    (the app then opens the dataset at once); ``--engine ray`` computes them with Ray Data,
    on a local runtime or the cluster at ``--address``."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        ds = open_gate_dataset(args.dataset)
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"se-viz summarize: {exc}", file=err)
        return 2
    if getattr(args, "engine", "local") == "ray":
        from .ray_aggregate import ray_aggregates

        labels = ds.labels if ds.has_labels else None
        table = ray_aggregates(ds, labels, address=args.address, num_cpus=args.num_cpus).summary()
    else:
        from tqdm import tqdm

        quiet = getattr(args, "no_progress", False)
        with tqdm(total=len(ds), unit="rows", desc="summarize", file=err, disable=quiet) as bar:
            table = summarize_gate_dataset(
                ds,
                cache=not getattr(args, "no_cache", False),
                threads=getattr(args, "num_cpus", None),
                progress=lambda done, _total: bar.update(done - bar.n),
                processes=True,  # a command's main thread: forked folders use every core
            )
    print(f"{ds!r}; {len(ds.errors)} unreadable input(s)", file=out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"), file=out)
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}", file=out)
    return 0
