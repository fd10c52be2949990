"""The output folder of a capture run: manifest, part files written atomically, resume, errors file.

A part file appears under its final name only once it is complete (written as a hidden
``.part-*.tmp`` and renamed, an atomic step on POSIX file systems), so a run killed at any
moment — SIGKILL included — leaves only complete parts behind, and ``--resume`` can trust them.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .schema import ERRORS_FILE, MANIFEST_FILE, parquet_options

__all__ = [
    "OutputError",
    "done_paths",
    "next_part_number",
    "prepare_output",
    "write_errors_file",
    "write_part",
]

_PART = "part-{:05d}.parquet"
# What must agree between the run that started a dataset and the one resuming it.
_MUST_MATCH = (("model", "id"), ("model", "weights_sha256"), ("dtype",), ("blocks",), ("preprocessing",))


class OutputError(RuntimeError):
    """The output folder cannot be used for this run (the message says what to do)."""


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _pick(manifest: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = manifest
    for k in keys:
        value = value.get(k) if isinstance(value, Mapping) else None
    return value


def _has_rows(out: Path) -> bool:
    return any(p.suffix == ".parquet" and not p.name.startswith((".", "_")) for p in out.iterdir())


def prepare_output(out: Path, manifest: Mapping[str, Any], resume: bool) -> None:
    """Create ``out`` and write the manifest; refuse to mix runs.

    A folder that already holds rows needs ``resume`` and a manifest that matches this run's model,
    weights, dtype, blocks and preprocessing; otherwise :class:`OutputError` says why.
    """
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(".*.tmp"):  # parts a killed run did not finish
        stale.unlink()
    old_path = out / MANIFEST_FILE
    if _has_rows(out):
        if not resume:
            raise OutputError(
                f"{out} already holds a gate dataset; pass --resume to continue it or choose another --out."
            )
        if old_path.is_file():
            old = json.loads(old_path.read_text())
            for keys in _MUST_MATCH:
                if _pick(old, keys) != _pick(manifest, keys):
                    raise OutputError(
                        f"Cannot resume {out}: its {'.'.join(keys)} differs from this run's "
                        "(it was made with another model, weights, dtype or preprocessing)."
                    )
            return  # keep the original manifest (created time, command) of the dataset
    _atomic_write(old_path, json.dumps(manifest, indent=1).encode())


def _parts(out: Path) -> Optional[pads.Dataset]:
    if not out.is_dir() or not _has_rows(out):
        return None
    return pads.dataset(str(out), format="parquet")


def done_paths(out: Path) -> set[str]:
    """Input paths that already have a row in ``out`` (read from the ``path`` column only)."""
    parts = _parts(out)
    if parts is None:
        return set()
    return set(parts.to_table(columns=["path"]).column("path").to_pylist())


def next_part_number(out: Path) -> int:
    """The number of the next local part file (after every existing ``part-NNNNN.parquet``)."""
    numbers = [
        int(p.stem.split("-")[1]) for p in out.glob("part-*.parquet") if p.stem.split("-")[1].isdigit()
    ]
    return max(numbers, default=-1) + 1


def write_part(out: Path, number: int, table: pa.Table, row_group_size: Optional[int] = None) -> Path:
    """Write ``table`` as part ``number`` atomically (temp file, then rename) and return its path."""
    final = out / _PART.format(number)
    tmp = final.with_name(f".{final.name}.tmp")
    pq.write_table(table, tmp, row_group_size=row_group_size, **parquet_options(table.schema))
    os.replace(tmp, final)
    return final


def write_errors_file(out: Path) -> int:
    """Rewrite ``_errors.csv`` (columns path, reason) from the error rows; return how many there are."""
    parts = _parts(out)
    rows: list[tuple[int, str, str]] = []
    if parts is not None:
        t = parts.to_table(columns=["index", "path", "error"], filter=pads.field("error").is_valid())
        rows = sorted(
            zip(
                t.column("index").to_pylist(),
                t.column("path").to_pylist(),
                t.column("error").to_pylist(),
                strict=True,
            )
        )
    tmp = out / f".{ERRORS_FILE}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "reason"])
        writer.writerows((p, e) for _, p, e in rows)
    os.replace(tmp, out / ERRORS_FILE)
    return len(rows)
