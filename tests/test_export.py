"""Tests for se_viz.export: every file parses back, with the captured numbers, without se_viz."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import se_viz
from se_viz import analysis as A
from se_viz import export as E
from se_viz import figures as F
from se_viz.engine.blocks import BlockInfo
from se_viz.engine.capture import Capture

NAMES = ["chelsea, the cat.jpg", "astronaut – “Eileen”.png"]  # comma, quotes and non-ASCII on purpose


@pytest.fixture(scope="module")
def cap(legacy_r50, sample_images):
    """Two real photos through the untrained legacy SE-ResNet-50 (one forward pass per module)."""
    return se_viz.capture(legacy_r50.model, legacy_r50.preprocess(sample_images[:2]))


@pytest.fixture
def cap_paths() -> Capture:
    """A small capture whose block names are dotted module paths and have no paper name."""
    rng = np.random.default_rng(0)
    blocks = [BlockInfo(n, n, c, 2, "hard-sigmoid", None, f"{n}.conv_reduce", f"{n}.gate", "SqueezeExcite", i)
              for i, (n, c) in enumerate([("blocks.0.0.se", 8), ("blocks.1.0.se", 16)])]
    gates = {b.name: rng.random((1, b.channels), dtype=np.float32) for b in blocks}
    squeeze = {b.name: rng.normal(size=(1, b.channels)).astype(np.float32) for b in blocks}
    return Capture(blocks, gates, squeeze, rng.normal(size=(1, 10)).astype(np.float32))


def test_capture_csv_parses_with_pandas_with_every_value(cap):
    data = E.capture_csv(cap, NAMES)
    assert isinstance(data, bytes)
    text = data.decode("utf-8")
    assert text.splitlines()[0] == "image,block,paper_name,module_path,channel,z,s"
    df = pd.read_csv(io.BytesIO(data))
    assert list(df.columns) == ["image", "block", "paper_name", "module_path", "channel", "z", "s"]
    assert len(df) == 2 * sum(b.channels for b in cap.blocks)
    assert df["image"].unique().tolist() == NAMES  # quoting kept the commas and quotes intact
    for i, name in enumerate(NAMES):
        for b in cap.blocks:
            part = df[(df["image"] == name) & (df["block"] == b.name)]
            assert part["channel"].tolist() == list(range(b.channels))
            # float32 values written in full precision: exact after casting back to float32.
            assert np.array_equal(part["s"].to_numpy(np.float32), cap.gates[b.name][i])
            assert np.array_equal(part["z"].to_numpy(np.float32), cap.squeeze[b.name][i])


def test_capture_csv_without_paper_names_has_empty_cells(cap_paths):
    df = pd.read_csv(io.BytesIO(E.capture_csv(cap_paths, ["x"])), keep_default_na=False)
    assert len(df) == 24
    assert set(df["paper_name"]) == {""}
    assert df["module_path"].unique().tolist() == ["blocks.0.0.se", "blocks.1.0.se"]


def test_capture_npz_round_trips_without_pickle(cap, legacy_r50):
    data = E.capture_npz(cap, NAMES)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        keys = set(npz.files)
        expected = {f"gates/{n}" for n in cap.block_names} | {f"squeeze/{n}" for n in cap.block_names}
        expected |= {"logits", "image_names", "block_names", "module_paths", "paper_names"}
        assert keys == expected
        for b in cap.blocks:
            assert npz[f"gates/{b.name}"].dtype == np.float32
            assert np.array_equal(npz[f"gates/{b.name}"], cap.gates[b.name])
            assert np.array_equal(npz[f"squeeze/{b.name}"], cap.squeeze[b.name])
        assert np.array_equal(npz["logits"], cap.logits)
        assert npz["image_names"].tolist() == NAMES
        assert npz["block_names"].tolist() == cap.block_names
        assert npz["module_paths"].tolist() == [b.path for b in legacy_r50.blocks]
        assert npz["paper_names"].tolist() == cap.block_names
    # savez_compressed: entries are deflated, not stored.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in zf.infolist())


def test_capture_npz_handles_dotted_module_path_names(cap_paths):
    with np.load(io.BytesIO(E.capture_npz(cap_paths, ["x"])), allow_pickle=False) as npz:
        assert np.array_equal(npz["gates/blocks.1.0.se"], cap_paths.gates["blocks.1.0.se"])
        assert npz["paper_names"].tolist() == ["", ""]


def test_exports_need_one_name_per_image(cap):
    with pytest.raises(ValueError):
        E.capture_npz(cap, ["one"])
    with pytest.raises(ValueError):
        E.capture_csv(cap, ["one", "two", "three"])


def test_summary_csv_parses_back_to_the_same_table(cap, cap_paths):
    df = A.block_summary(cap, image=1)
    back = pd.read_csv(io.BytesIO(E.summary_csv(df)))
    assert list(back.columns) == list(df.columns)
    assert len(back) == 16
    assert back["block"].tolist() == df["block"].tolist()
    assert back["stage"].tolist() == df["stage"].tolist()
    for col in ("mean", "std", "min", "max", "entropy", "z_mean", "z_std", "frac_below_0.1"):
        assert np.allclose(back[col], df[col], rtol=1e-12, atol=0)
    # Missing stages become empty cells that read back as missing.
    no_stage = pd.read_csv(io.BytesIO(E.summary_csv(A.block_summary(cap_paths))))
    assert no_stage["stage"].isna().all()


def test_figure_html_is_standalone_with_plotly_inlined(cap):
    fig = F.gate_heatmap(cap)
    data = E.figure_html(fig)
    html = data.decode("utf-8")
    assert html.lstrip().lower().startswith(("<!doctype html>", "<html"))
    assert '<meta charset="utf-8"' in html.lower()  # titles contain "·" and "–"
    assert len(data) > 3_000_000  # plotly.js itself is several MB: it is inlined
    assert "Plotly.newPlot" in html
    assert re.search(r"plotly\.js v\d+\.\d+", html)  # the library's own banner
    # No script is loaded from anywhere: the file works offline.
    assert not re.search(r"<script[^>]*\ssrc\s*=", html, flags=re.IGNORECASE)
    assert fig.layout.title.text in html


def test_figure_html_of_a_tiny_figure_still_inlines_the_library():
    html = E.figure_html(go.Figure(go.Bar(x=[1], y=[2]))).decode("utf-8")
    assert re.search(r"plotly\.js v\d+\.\d+", html)
    assert not re.search(r"<script[^>]*\ssrc\s*=", html, flags=re.IGNORECASE)
