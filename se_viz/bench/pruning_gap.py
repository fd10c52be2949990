"""How far is the pruning simulator's gate edit from deleting the channels?

Run: ``python -m se_viz.bench.pruning_gap``.

The simulator zeroes gates (:class:`~se_viz.channels.pruning.ChannelMask`); deleting a filter also
removes u_c from the block's squeeze, so the other channels' gates change too
(:func:`~se_viz.channels.pruning.deleted_channels`). This prints, per pruned fraction (every block
loses the lowest mean-gate channels), how often the two edits give the same top-1 class and how far
their log p of the unedited top-1 class part. Deterministic (no timing): the numbers in
docs/channels.md come from this command as is.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence, TextIO

from ..channels.images import generated_set
from ..channels.pruning import chosen_channels, deletion_gap
from ..channels.rankings import mean_gate_ranking
from ..engine.capture import capture
from ..loading.load import load_model

__all__ = ["main"]


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None) -> int:
    """Print the gap between gate zeroing and deletion for the bundled mini model (or ``--model``)."""
    parser = argparse.ArgumentParser(prog="python -m se_viz.bench.pruning_gap")
    parser.add_argument("--model", default="se_resnet_mini.synthetic")
    parser.add_argument("-n", type=int, default=200, help="generated images (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.5, 0.7])
    args = parser.parse_args(argv)
    out = out or sys.stdout
    lm = load_model(args.model)
    images = generated_set(lm, args.n, seed=args.seed)
    ranking = mean_gate_ranking(capture(lm.model, images.images, blocks=lm.blocks).gates)
    print(
        f"{lm.name}, {len(images)} generated images (seed {args.seed}), mean-gate ranking, every block",
        file=out,
    )
    print("pruned | same top-1 (mask vs delete) | mean |Δ log p| (nats) | max |Δ logit|", file=out)
    for fraction in args.fractions:
        gap = deletion_gap(lm.model, images.images, lm.blocks, chosen_channels(ranking, fraction, lm.blocks))
        print(
            f"{fraction:6.0%} | {gap.agreement:27.1%} | {gap.mean_abs_delta_logprob:21.4f}"
            f" | {gap.max_abs_logit:.3f}",
            file=out,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
