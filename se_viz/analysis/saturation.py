"""Saturated SE blocks: which blocks, over many images, barely rescale their features at all?

Hu et al. (§7.2) found SE_5_2 of SE-ResNet-50 "saturated": most of its gates sit close to 1
for every class, and a block whose gates are all 1 is the identity — it passes its features
through unchanged. Per block, over all images and channels, this module reports

* ``frac_above_0.9`` — the fraction of gate values s > 0.9 (kept nearly whole),
* ``frac_below_0.1`` — the fraction with s < 0.1 (nearly switched off),
* ``mean`` and ``gap = 1 − mean`` — how far the block is, on average, from leaving features alone,

and flags a block as **close to identity** when both

* ``mean ≥ NEAR_IDENTITY_MEAN`` (0.9: on average a feature keeps at least 90 % of its size), and
* ``frac_above_0.9 ≥ NEAR_IDENTITY_FRACTION`` (0.5: most gates are near 1, so the mean is not
  a mix of open and closed channels).

The thresholds are this project's reading of "most activations close to one", not numbers from
the paper; they are module constants so a caller can choose others.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from ..i18n import _

__all__ = [
    "NEAR_IDENTITY_FRACTION",
    "NEAR_IDENTITY_MEAN",
    "SATURATION_COLUMNS",
    "saturation_row",
    "saturation_sentences",
    "saturation_table",
]

NEAR_IDENTITY_MEAN = 0.9
NEAR_IDENTITY_FRACTION = 0.5
HIGH = 0.9
LOW = 0.1

SATURATION_COLUMNS: tuple[str, ...] = (
    "block",
    "depth",
    "channels",
    "frac_above_0.9",
    "frac_below_0.1",
    "mean",
    "gap",
    "near_identity",
)


def saturation_table(
    gates_by_block: Mapping[str, np.ndarray],
    blocks: Optional[Sequence[str]] = None,
    *,
    mean_threshold: float = NEAR_IDENTITY_MEAN,
    fraction_threshold: float = NEAR_IDENTITY_FRACTION,
) -> pd.DataFrame:
    """One row per block: columns :data:`SATURATION_COLUMNS`, over all images and channels.

    ``gates_by_block`` maps block name → gates (N, C); ``blocks`` fixes the order (default: the
    mapping's, forward order for a capture). Fractions are strict (s > 0.9, s < 0.1), as in
    :func:`~se_viz.analysis.block_summary`; ``near_identity`` applies the rule in the module
    docstring with the given thresholds. Computed in float64.
    """
    rows = []
    for depth, name in enumerate(list(blocks) if blocks is not None else list(gates_by_block)):
        g = np.asarray(gates_by_block[name], dtype=np.float64)
        rows.append(
            saturation_row(
                name,
                depth,
                int(g.shape[1]),
                above=float(np.mean(g > HIGH)),
                below=float(np.mean(g < LOW)),
                mean=float(g.mean()),
                mean_threshold=mean_threshold,
                fraction_threshold=fraction_threshold,
            )
        )
    return pd.DataFrame(rows, columns=list(SATURATION_COLUMNS))


def saturation_row(
    name: str,
    depth: int,
    channels: int,
    *,
    above: float,
    below: float,
    mean: float,
    mean_threshold: float = NEAR_IDENTITY_MEAN,
    fraction_threshold: float = NEAR_IDENTITY_FRACTION,
) -> dict:
    """One row of :func:`saturation_table` from a block's fractions and mean gate: the same rule
    whether the numbers come from arrays in memory or from a streamed gate dataset
    (:mod:`se_viz.datasets.aggregate`)."""
    return {
        "block": name,
        "depth": depth,
        "channels": channels,
        "frac_above_0.9": above,
        "frac_below_0.1": below,
        "mean": mean,
        "gap": 1.0 - mean,
        "near_identity": bool(mean >= mean_threshold and above >= fraction_threshold),
    }


def saturation_sentences(table: pd.DataFrame) -> list[str]:
    """Plain-words findings of a :func:`saturation_table`: one sentence per flagged block.

    When no block is flagged, one sentence says so and names the block closest to identity
    (the highest mean gate), so the reader always learns where the network is nearest to the
    paper's SE_5_2.
    """
    if table.empty:
        return [_("There are no SE blocks to judge.")]
    out = []
    for row in table[table["near_identity"]].to_dict("records"):
        out.append(
            _(
                "{block}: {above} of its gates are above 0.9 and the mean gate is {mean} ({gap} below 1) "
                "— like the paper's SE_5_2, this block passes its features through almost unchanged "
                "(close to identity)."
            ).format(
                block=row["block"],
                above=f"{row['frac_above_0.9']:.0%}",
                mean=f"{row['mean']:.2f}",
                gap=f"{row['gap']:.0%}",
            )
        )
    if out:
        return out
    top = table.loc[table["mean"].idxmax()]
    return [
        _(
            "No block is close to identity (mean gate ≥ {threshold} with at least {fraction} of gates "
            "above 0.9). The nearest is {block}: mean gate {mean}, {above} of gates above 0.9."
        ).format(
            threshold=NEAR_IDENTITY_MEAN,
            fraction=f"{NEAR_IDENTITY_FRACTION:.0%}",
            block=top["block"],
            mean=f"{top['mean']:.2f}",
            above=f"{top['frac_above_0.9']:.0%}",
        )
    ]
