"""Tables as a class reads them: column names in words, with units, and no "None" cells.

The library's tables keep short identifiers (``frac_below_0.1``, ``delta_logprob``): they are
what a notebook, a CSV export and the CLI's JSON carry. On screen the same columns get the names
below, in one place, so every view says "fraction of channels with s < 0.1" the same way.
"""

from __future__ import annotations

from typing import Mapping, Optional

import pandas as pd

__all__ = ["COLUMN_NAMES", "readable"]

#: Library column → what the screen calls it (units in brackets; s and z as in the SE paper).
COLUMN_NAMES: dict[str, str] = {
    "block": "SE block",
    "paper_name": "paper name",
    "module_path": "module",
    "stage": "stage",
    "channels": "channels C",
    "images": "images",
    "mean": "mean gate s",
    "std": "std of s",
    "min": "min s",
    "max": "max s",
    "frac_below_0.1": "channels with s < 0.1 (fraction)",
    "frac_above_0.9": "channels with s > 0.9 (fraction)",
    "entropy": "gate entropy (0–1)",
    "z_mean": "mean squeeze z",
    "z_std": "std of z",
    "between": "between-class spread of s",
    "within": "within-class spread of s",
    "specificity": "class specificity (between / within)",
    "channel": "channel",
    "s": "gate s (0–1)",
    "z": "squeeze z (mean of u)",
    "rank": "rank",
    "index": "row",
    "image": "image no.",
    "name": "image",
    "distance": "cosine distance (0–2)",
    "path": "file",
    "label": "true class",
    "prediction": "predicted class",
    "reason": "why it could not be read",
    "ranking": "ranking",
    "fraction": "channels pruned (fraction)",
    "repeats": "repeats",
}


def readable(df: pd.DataFrame, names: Optional[Mapping[str, str]] = None, empty: str = "") -> pd.DataFrame:
    """``df`` with its columns named for the screen (``names`` first, then :data:`COLUMN_NAMES`;
    a column neither knows keeps its name) and missing cells shown as ``empty``, never "None"."""
    table = {**COLUMN_NAMES, **(names or {})}
    out = df.rename(columns={c: table.get(c, c) for c in df.columns})
    return out.astype(object).where(out.notna(), empty) if out.isna().any().any() else out
