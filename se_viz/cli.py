"""The ``se-viz`` command: capture SE gates over image collections into Parquet gate datasets
(on this machine or a Ray cluster), summarize them, benchmark capturing, and train the bundled demo model."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from .bench.capture import run_bench, run_sweep_bench
from .bench.capture_throughput import run_capture_bench
from .channels.commands import (
    add_atlas_arguments,
    add_study_arguments,
    atlas_command,
    faithfulness_command,
    prune_command,
)
from .datasets.commands import capture_command, summarize_command
from .demo.train import add_arguments, train_demo_cli

__all__ = ["main"]


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.live:
        from .bench.live import run_live_bench  # Playwright only when a browser is driven

        run_live_bench(models=args.browser_models, viewers=args.live_viewers, out=sys.stdout)
        return 0
    if args.estimates:
        from .bench.room import run_estimate_check

        run_estimate_check(out=sys.stdout)
        return 0
    if args.room:
        from .bench.room import run_room_bench  # Playwright only when a browser is driven

        run_room_bench(sessions=args.room_sessions, crowd=args.room_crowd, out=sys.stdout)
        return 0
    if args.browser:
        from .bench.browser import run_browser_bench  # Playwright only when a browser is driven

        run_browser_bench(models=args.browser_models, runs=args.browser_runs, out=sys.stdout)
        return 0
    if args.capture_nodes:
        from .bench.capture_nodes import run_capture_nodes_bench  # starts a Ray cluster

        run_capture_nodes_bench(model_name=args.model, images=args.images, batch_size=args.batch_size)
        return 0
    if args.capture_throughput:
        run_capture_bench(
            model_name=args.model,
            images=args.images,
            batch_size=args.batch_size,
            workers=args.workers,
            actors=args.actors,
            threads=args.threads,
            ray=not args.no_ray,
        )
        return 0
    rounds = {"rounds": args.rounds} if args.rounds is not None else {}
    if args.sweep:
        run_sweep_bench(model_name=args.model, out=sys.stdout, **rounds)
        return 0
    run_bench(
        model_name=args.model, batches=tuple(args.batch), out=sys.stdout, memory=not args.no_memory, **rounds
    )
    return 0


def _cmd_capture(args: argparse.Namespace) -> int:
    return capture_command(args)


def _cmd_summarize(args: argparse.Namespace) -> int:
    return summarize_command(args)


def _cmd_bench_datasets(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .bench.datasets import run_dataset_bench

    run_dataset_bench(
        Path(args.source) if args.source else None,
        Path(args.work),
        rows=tuple(args.rows),
        ray=args.ray,
        num_cpus=args.num_cpus,
        app=not args.no_app,
    )
    return 0


def _cmd_train_demo(args: argparse.Namespace) -> int:
    return int(train_demo_cli(args) or 0)


def _add_channel_commands(sub: argparse._SubParsersAction) -> None:
    """``atlas``, ``prune`` and ``faithfulness``: the channel studies (docs/channels.md)."""
    atlas = sub.add_parser("atlas", help="top and bottom images of one SE channel over a gate dataset")
    add_atlas_arguments(atlas)
    atlas.set_defaults(func=atlas_command)
    prune = sub.add_parser("prune", help="zero the least important channels by each ranking; curves")
    add_study_arguments(prune, pruning=True)
    prune.set_defaults(func=prune_command)
    faith = sub.add_parser("faithfulness", help="deletion and insertion curves over channels per ranking")
    add_study_arguments(faith, pruning=False)
    faith.set_defaults(func=faithfulness_command)


def _num_cpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--num-cpus",
        type=int,
        default=None,
        help="cap the CPUs used (local engine and local Ray runtime; default: all of this machine's)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``se-viz`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="se-viz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    bench = sub.add_parser("bench", help="overhead of capture() against a plain forward pass")
    bench.add_argument(
        "--model",
        default="legacy_seresnet50",
        help="timm model, random init (default legacy_seresnet50, the paper's SE-ResNet-50)",
    )
    bench.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (default 1 8)")
    bench.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="paired rounds per batch size (default: the bench's own, bench.DEFAULT_ROUNDS)",
    )
    bench.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    bench.add_argument(
        "--capture-throughput",
        action="store_true",
        help="instead: images/s of a plain timm loop vs se-viz capture (local and Ray engines)",
    )
    bench.add_argument(
        "--capture-nodes",
        action="store_true",
        help="instead: images/s of the Ray capture engine on one 1-CPU Ray node against two, in one run",
    )
    bench.add_argument(
        "--images",
        type=int,
        default=200,
        help="with --capture-throughput / --capture-nodes: generated images (default 200)",
    )
    bench.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="with --capture-throughput / --capture-nodes: batch size (16)",
    )
    bench.add_argument(
        "--workers", type=int, default=2, help="with --capture-throughput: decoding processes (default 2)"
    )
    bench.add_argument(
        "--actors", type=int, default=1, help="with --capture-throughput: Ray model actors (default 1)"
    )
    bench.add_argument(
        "--threads", type=int, default=None, help="with --capture-throughput: torch threads per model process"
    )
    bench.add_argument("--no-ray", action="store_true", help="with --capture-throughput: skip the Ray engine")
    bench.add_argument(
        "--sweep",
        action="store_true",
        help="time the knock-out sweep (each SE block neutralised in turn) against a plain "
        "forward pass instead, and print its FLOP-count limit",
    )
    bench.add_argument(
        "--room",
        action="store_true",
        help="instead: one server, many Chromium sessions: upload → predictions on an idle server, "
        "while one session prunes SE-ResNet-50, and with --room-crowd sessions (median and p95)",
    )
    bench.add_argument(
        "--estimates",
        action="store_true",
        help="instead: pruning studies' and the demonstration's estimated seconds against their real "
        "runs (mini and SE-ResNet-50)",
    )
    bench.add_argument("--room-sessions", type=int, default=10, help="sessions timed idle and loaded (10)")
    bench.add_argument("--room-crowd", type=int, default=30, help="sessions of the crowd phase (30)")
    bench.add_argument(
        "--browser",
        action="store_true",
        help="instead: start the app and time every view in Chromium (seconds from the click until "
        "the charts are drawn and the page is idle, median of --browser-runs)",
    )
    bench.add_argument(
        "--browser-models",
        nargs="+",
        default=["mini", "r50"],
        choices=["mini", "r50"],
        help="with --browser: the bundled SE-ResNet mini and/or untrained SE-ResNet-50 (default both)",
    )
    bench.add_argument(
        "--browser-runs", type=int, default=3, help="with --browser: runs per model (default 3)"
    )
    bench.add_argument(
        "--live",
        action="store_true",
        help="instead: play a video file as Chromium's camera into the Live tab and measure the frame "
        "rates and the lag behind the camera (models: --browser-models)",
    )
    bench.add_argument(
        "--live-viewers",
        type=int,
        default=5,
        help="with --live: viewers at once on the mini model (default 5)",
    )
    bench.set_defaults(func=_cmd_bench)

    cap = sub.add_parser("capture", help="capture the gates of every image into a Parquet gate dataset")
    cap.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files, folders (class = top-level sub-folder), ZIPs, or .txt/.csv lists of paths",
    )
    cap.add_argument(
        "--model", required=True, help="catalog id or timm model name (e.g. legacy_seresnet50.in1k)"
    )
    cap.add_argument("--weights", help="local .safetensors/.pth weights instead of the model's own")
    cap.add_argument(
        "--untrained", action="store_true", help="random init (structure only), no weights needed"
    )
    cap.add_argument("--out", required=True, help="output folder of the gate dataset")
    cap.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default 32)")
    cap.add_argument(
        "--workers",
        type=int,
        default=None,
        help="decoding worker processes, local engine (default: one per CPU beside the model's)",
    )
    cap.add_argument(
        "--dtype",
        choices=("float32", "float16"),
        default="float32",
        help="storage type of gates, squeeze and logits (float16 halves the size)",
    )
    cap.add_argument(
        "--resume", action="store_true", help="continue a killed run: skip images already written"
    )
    cap.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="local (default) or Ray Data"
    )
    cap.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local runtime)")
    cap.add_argument("--actors", type=int, default=1, help="Ray engine: model actors (default 1)")
    cap.add_argument(
        "--threads", type=int, default=None, help="torch threads per model process (default: torch's)"
    )
    cap.add_argument(
        "--rows-per-part", type=int, default=512, help="local engine: rows per part file (default 512)"
    )
    cap.add_argument("--no-progress", action="store_true", help="no progress bar")
    _num_cpus_argument(cap)
    cap.set_defaults(func=_cmd_capture)

    summ = sub.add_parser("summarize", help="per-block gate statistics of a gate dataset")
    summ.add_argument("dataset", metavar="DIR", help="gate dataset folder or URI (s3://, gs://, file://)")
    summ.add_argument("--csv", help="also write the table to this CSV file")
    summ.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default: streamed on this machine, cached next to the dataset) or Ray Data",
    )
    summ.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local runtime)")
    summ.add_argument("--no-cache", action="store_true", help="local engine: recompute, ignore the cache")
    summ.add_argument("--no-progress", action="store_true", help="no progress bar")
    _num_cpus_argument(summ)
    summ.set_defaults(func=_cmd_summarize)

    _add_channel_commands(sub)

    bd = sub.add_parser(
        "bench-datasets",
        help="time and peak memory of summarize and of the app's open on replicas of a gate dataset",
    )
    bd.add_argument(
        "source",
        metavar="DIR",
        nargs="?",
        help="a captured gate dataset to replicate (hard links); default: capture 64 images first",
    )
    bd.add_argument("--work", required=True, help="folder for the replicas (same file system as DIR)")
    bd.add_argument(
        "--rows", type=int, nargs="+", default=[20000, 50000], help="replica sizes (default 20k 50k)"
    )
    bd.add_argument("--ray", action="store_true", help="also the Ray Data aggregate (local runtime)")
    bd.add_argument("--no-app", action="store_true", help="skip the app's open")
    _num_cpus_argument(bd)
    bd.set_defaults(func=_cmd_bench_datasets)

    train = sub.add_parser("train-demo", help="train the bundled SE-ResNet mini on synthetic shapes")
    add_arguments(train)
    train.set_defaults(func=_cmd_train_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``se-viz`` console command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # recorded in gate-dataset manifests
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
