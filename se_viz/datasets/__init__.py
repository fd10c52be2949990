"""Gate datasets: what every SE block computed, over whole image collections, as Parquet.

``se-viz capture`` writes them (on this machine, or on a Ray cluster), :func:`open_gate_dataset`
reads them back column by column, :func:`summarize_gate_dataset` turns them into a per-block table.
"""

from .job import CaptureJob
from .local import CaptureReport, run_local
from .ray_engine import run_ray
from .reader import GateDataset, open_gate_dataset
from .sources import ImageItem, expand_inputs
from .summary import DATASET_SUMMARY_COLUMNS, summarize_gate_dataset

__all__ = [
    "CaptureJob",
    "CaptureReport",
    "DATASET_SUMMARY_COLUMNS",
    "GateDataset",
    "ImageItem",
    "expand_inputs",
    "open_gate_dataset",
    "run_local",
    "run_ray",
    "summarize_gate_dataset",
]
