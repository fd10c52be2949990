"""The ``se-viz`` command: capture from the shell, benchmark, and train the bundled demo model."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

__all__ = ["main"]


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench, run_sweep_bench

    if args.sweep:
        run_sweep_bench(model_name=args.model, rounds=min(args.rounds, 7), out=sys.stdout)
        return 0
    run_bench(model_name=args.model, batches=tuple(args.batch), rounds=args.rounds, out=sys.stdout,
              memory=not args.no_memory)
    return 0


def _cmd_train_demo(args: argparse.Namespace) -> int:
    from .demo.train import train_demo_cli

    return int(train_demo_cli(args) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``se-viz`` (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="se-viz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    bench = sub.add_parser("bench", help="overhead of capture() against a plain forward pass")
    bench.add_argument("--model", default="legacy_seresnet50", help="timm model, random init (default legacy_seresnet50, the paper's SE-ResNet-50)")
    bench.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (default 1 8)")
    bench.add_argument("--rounds", type=int, default=21, help="paired rounds per batch size (default 21)")
    bench.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    bench.add_argument("--sweep", action="store_true",
                       help="time the knock-out sweep (each SE block neutralised in turn) against a plain "
                            "forward pass instead, and print its FLOP-count limit (rounds capped at 7)")
    bench.set_defaults(func=_cmd_bench)

    train = sub.add_parser("train-demo", help="train the bundled SE-ResNet mini on synthetic shapes")
    try:
        from .demo.train import add_arguments
    except ImportError:  # the training module is optional until the demo model exists
        add_arguments = None
    if add_arguments is not None:
        add_arguments(train)
    train.set_defaults(func=_cmd_train_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``se-viz`` console command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
