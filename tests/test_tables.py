"""Tables on screen speak words: every column of the library's tables has a readable name with its
unit, and a missing value shows as an empty cell, never "None" (issue 15, results a class can read)."""

import numpy as np
import pandas as pd
from random_captures import random_capture

from se_viz import analysis
from se_viz.ui.tables import COLUMN_NAMES, readable


def _library_tables() -> dict[str, pd.DataFrame]:
    cap = random_capture(((2, 16), (1, 32)), n=6, num_classes=3, seed=0)
    up, _ = analysis.top_channels(cap, cap.block_names[-1], image=0, k=3)
    vectors = np.concatenate([cap.gates[b] for b in cap.block_names], axis=1)
    near = analysis.nearest_images(vectors, 0, 3, [f"img {i}" for i in range(6)])
    return {"summary": analysis.block_summary(cap, image=0), "top channels": up, "nearest": near}


def test_every_shown_column_has_a_name_in_words():
    for what, df in _library_tables().items():
        unnamed = [c for c in df.columns if c not in COLUMN_NAMES]
        assert not unnamed, f"{what}: no screen name for {unnamed}"
        shown = readable(df)
        assert not [c for c in shown.columns if "_" in c], f"{what}: {list(shown.columns)}"


def test_missing_values_are_empty_cells_not_none():
    df = pd.DataFrame({"block": ["SE_2_1", "SE_3_1"], "specificity": [1.5, np.nan], "stage": [2, None]})
    shown = readable(df)
    assert list(shown.columns) == ["SE block", "class specificity (between / within)", "stage"]
    cells = shown.astype(str).to_numpy().ravel().tolist()
    assert "None" not in cells and "nan" not in cells and "" in cells
    assert readable(df, {"specificity": "ratio"}).columns[1] == "ratio"
