"""Tables as a class reads them: column names in words, with units, and no "None" cells.

The library's tables keep short identifiers (``frac_below_0.1``, ``delta_logprob``): they are
what a notebook, a CSV export and the CLI's JSON carry. On screen the same columns get the names
below, in one place, so every view says "fraction of channels with s < 0.1" the same way.
"""

from __future__ import annotations

from typing import Mapping, Optional

import pandas as pd

from se_viz.i18n import N_, _

__all__ = ["COLUMN_NAMES", "readable"]

#: Library column → what the screen calls it (units in brackets; s and z as in the SE paper).
COLUMN_NAMES: dict[str, str] = {
    "block": N_("SE block"),
    "paper_name": N_("paper name"),
    "module_path": N_("module"),
    "stage": N_("stage"),
    "channels": N_("channels C"),
    "images": N_("images"),
    "mean": N_("mean gate s"),
    "std": N_("std of s"),
    "min": N_("min s"),
    "max": N_("max s"),
    "frac_below_0.1": N_("channels with s < 0.1 (fraction)"),
    "frac_above_0.9": N_("channels with s > 0.9 (fraction)"),
    "entropy": N_("gate entropy (0–1)"),
    "z_mean": N_("mean squeeze z"),
    "z_std": N_("std of z"),
    "between": N_("between-class spread of s"),
    "within": N_("within-class spread of s"),
    "specificity": N_("class specificity (between / within)"),
    "channel": N_("channel"),
    "s": N_("gate s (0–1)"),
    "z": N_("squeeze z (mean of u)"),
    "rank": N_("rank"),
    "index": N_("row"),
    "image": N_("image no."),
    "name": N_("image"),
    "distance": N_("cosine distance (0–2)"),
    "path": N_("file"),
    "label": N_("true class"),
    "prediction": N_("predicted class"),
    "reason": N_("why it could not be read"),
    "ranking": N_("ranking"),
    "fraction": N_("channels pruned (fraction)"),
    "repeats": N_("repeats"),
}


def readable(df: pd.DataFrame, names: Optional[Mapping[str, str]] = None, empty: str = "") -> pd.DataFrame:
    """``df`` with its columns named for the screen in the reader's language (``names`` first, then
    :data:`COLUMN_NAMES`; a column neither knows keeps its name) and missing cells shown as
    ``empty``, never "None". ``names`` are translated by the caller (they are its own messages)."""
    table = {**{k: _(v) for k, v in COLUMN_NAMES.items()}, **(names or {})}
    out = df.rename(columns={c: table.get(c, c) for c in df.columns})
    return out.astype(object).where(out.notna(), empty) if out.isna().any().any() else out
