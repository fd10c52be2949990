"""The bundled model's channel results as Markdown tables, from the JSON the commands print.

docs/channels.md's numbers (and the README's summary of them) are made by running ``se-viz prune``
and ``se-viz faithfulness`` with ``--json`` into one folder (the exact commands are in
docs/channels.md) and then ``python -m se_viz.channels.reading FOLDER``, so anyone — and every
retraining of the bundled model — can regenerate them instead of trusting numbers typed by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

__all__ = ["faithfulness_table", "main", "pruning_table"]

SETS = {"generated": "generated shapes", "plain": "plain drawings"}
SHOWN = (0.3, 0.5, 0.7, 0.9)


def _by_kind(curves: Sequence[dict[str, Any]], field: str) -> dict[str, np.ndarray]:
    out: dict[str, list] = {}
    for c in curves:
        out.setdefault(c["kind"], []).append(c[field])
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _cell(values: np.ndarray, scale: float = 100.0, fmt: str = "{:.0f}") -> str:
    if len(values) == 1:
        return fmt.format(scale * values[0])
    low, high = fmt.format(scale * values.min()), fmt.format(scale * values.max())
    return f"{fmt.format(scale * values.mean())} ({low}–{high})"


def pruning_table(doc: dict[str, Any]) -> str:
    """Top-1 accuracy (%) at 30/50/70/90 % of channels pruned per ranking (random: mean and min–max over
    the repeats), with the multiply-adds removed: one row when every ranking removes the same (per-block
    scope), in each cell otherwise (network scope: rankings prune different blocks)."""
    fr = [round(f, 2) for f in doc["fractions"]]
    cols = [fr.index(f) for f in SHOWN if f in fr]
    measure = "accuracy" if doc["base_accuracy"] is not None else "agreement"
    values, macs = _by_kind(doc["curves"], measure), _by_kind(doc["curves"], "macs_removed")
    head = " | ".join(f"{int(100 * fr[j])} % pruned" for j in cols)
    lines = [f"| ranking | {head} |", "|---" * (len(cols) + 1) + "|"]
    same = doc["scope"] == "block"
    for kind, v in values.items():
        cells = [_cell(v[:, j]) + ("" if same else f" · {100 * macs[kind][:, j].mean():.1f} %") for j in cols]
        lines.append(f"| {kind} | {' | '.join(cells)} |")
    if same:
        first = next(iter(macs.values()))
        lines.append(
            "| *multiply-adds removed* | " + " | ".join(f"{100 * first[0, j]:.1f} %" for j in cols) + " |"
        )
    return "\n".join(lines)


def faithfulness_table(doc: dict[str, Any]) -> str:
    """Network-wide deletion / insertion AUC per ranking, and in how many blocks each ranking beats the
    random mean on deletion (lower) and on insertion (higher)."""
    per_block = [r for r in doc["results"] if r["block"] != "network"]
    net = next((r for r in doc["results"] if r["block"] == "network"), None)
    lines = [
        "| ranking | deletion AUC (network) | insertion AUC (network) "
        "| blocks beating random: deletion · insertion |",
        "|---|---|---|---|",
    ]
    kinds = list(dict.fromkeys(c["kind"] for c in doc["results"][0]["curves"]))
    for kind in kinds:
        wins_d = wins_i = 0
        for r in per_block:
            d, i = _by_kind(r["curves"], "deletion_auc"), _by_kind(r["curves"], "insertion_auc")
            wins_d += d[kind].mean() < d["random"].mean()
            wins_i += i[kind].mean() > i["random"].mean()
        cells = ["–", "–"]
        if net is not None:
            d, i = _by_kind(net["curves"], "deletion_auc"), _by_kind(net["curves"], "insertion_auc")
            cells = [_cell(d[kind], 1.0, "{:.3f}"), _cell(i[kind], 1.0, "{:.3f}")]
        wins = "–" if kind == "random" else f"{wins_d} · {wins_i} of {len(per_block)}"
        lines.append(f"| {kind} | {cells[0]} | {cells[1]} | {wins} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tables for every ``prune_<set>_<scope>.json`` and ``faith_<set>.json`` in the folder."""
    folder = Path((argv or sys.argv[1:])[0])
    for key, name in SETS.items():
        for scope, words in (
            ("block", "each block pruned by its own ranking"),
            ("network", "one ranking over the network"),
        ):
            path = folder / f"prune_{key}_{scope}.json"
            if path.is_file() and path.stat().st_size:
                doc = json.loads(path.read_text())
                measure = "top-1 accuracy" if doc["base_accuracy"] is not None else "top-1 agreement"
                base = (
                    f", unpruned {100 * doc['base_accuracy']:.0f} %"
                    if doc["base_accuracy"] is not None
                    else ""
                )
                cost = "" if scope == "block" else " · multiply-adds removed %"
                print(f"\n**{name}, {words}** ({doc['images']} images{base}; {measure} %{cost})\n")
                print(pruning_table(doc))
        path = folder / f"faith_{key}.json"
        if path.is_file() and path.stat().st_size:
            doc = json.loads(path.read_text())
            print(f"\n**{name}: deletion and insertion** ({doc['images']} images; p of the original top-1)\n")
            print(faithfulness_table(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
