"""Time the app's open of a gate dataset, as a user would (a Streamlit ``AppTest`` of ``app.py``).

Run by ``se-viz bench-datasets`` in a fresh child process per measurement (its peak memory is read
with ``os.wait4``), so it lives here, with the rest of the Streamlit code:
``python -c "from se_viz.ui.open_timer import main; main()" DATASET APP_PY`` prints ``OPEN seconds``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

import se_viz
from se_viz.datasets import open_gate_dataset

__all__ = ["main"]

#: The dataset view's "Summarise the gate dataset" button (se_viz/ui/dataset_view.py).
READ_BUTTON = "dataset_open_run"


def main(argv: list[str] | None = None) -> None:
    """Open ``DATASET`` from ``SE_VIZ_DATA`` in the app at ``APP_PY``; print the seconds it took,
    a user's click on "Summarise the gate dataset" included when the read's estimate asks for one."""
    dataset, app = argv or sys.argv[1:3]
    os.environ["SE_VIZ_DATA"] = str(Path(dataset).parent)
    os.environ["SE_VIZ_MODEL"] = se_viz.MINI_MODEL
    at = AppTest.from_file(app, default_timeout=1800)
    at.run()
    started = time.perf_counter()
    at.selectbox(key="dataset").set_value(dataset).run()
    asked = [b for b in at.button if b.key == READ_BUTTON]
    if asked:  # a read estimated over the runner's auto-start limit states its cost and waits for the click
        asked[0].click().run()
    assert not at.exception, at.exception
    images = f"{len(open_gate_dataset(dataset)):,} images"  # as the caption writes it
    assert any(images in c.value for c in at.caption), "the dataset view did not open"
    print(f"OPEN {time.perf_counter() - started:.3f}")
