"""Tests for se_viz.export: every file parses back, with the captured numbers, without se_viz."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import datetime, timezone

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
    blocks = [
        BlockInfo(n, n, c, 2, "hard-sigmoid", None, f"{n}.conv_reduce", f"{n}.gate", "SqueezeExcite", i)
        for i, (n, c) in enumerate([("blocks.0.0.se", 8), ("blocks.1.0.se", 16)])
    ]
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
    assert fig.layout.title.text.split("<br>")[0] in html  # plotly's JSON escapes the "<" of "<br>"


def test_figure_html_of_a_tiny_figure_still_inlines_the_library():
    html = E.figure_html(go.Figure(go.Bar(x=[1], y=[2]))).decode("utf-8")
    assert re.search(r"plotly\.js v\d+\.\d+", html)
    assert not re.search(r"<script[^>]*\ssrc\s*=", html, flags=re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Provenance (issue 11)


MINI = "se_resnet_mini.synthetic"


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model(MINI)


@pytest.fixture(scope="module")
def mini_cap(mini, sample_images):
    last = mini.blocks[-1].name
    return se_viz.capture(mini.model, mini.preprocess(sample_images[:2]), maps=[last])


@pytest.fixture(scope="module")
def mini_manifest(mini):
    return E.manifest(mini, NAMES, fit="pad", extra={"sort": "gate ↓", "block": ("SE_5_2",)})


def test_manifest_names_model_weights_preprocessing_labels_blocks_and_versions(mini, mini_manifest):
    m = mini_manifest
    assert m["se_viz_manifest"] == 1
    assert m["model"] == {"id": MINI, "display_name": mini.display_name, "trained": True}
    path = mini.source.path
    assert m["weights"]["kind"] == "bundled" and m["weights"]["path"] == str(path)
    assert m["weights"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert m["preprocessing"] == {
        "input_size": [3, 64, 64],
        "interpolation": "bilinear",
        "mean": [0.5] * 3,
        "std": [0.25] * 3,
        "crop_pct": 1.0,
        "crop_mode": "center",
        "fit": "pad",
    }
    assert m["labels"] == mini.labels and len(m["labels"]) == 10
    assert m["se_blocks"][0] == {"name": "SE_2_1", "module_path": mini.blocks[0].path, "channels": 16}
    assert [b["channels"] for b in m["se_blocks"]] == [16, 16, 32, 32, 64, 64, 128, 128]
    assert m["images"] == NAMES
    import platform

    import numpy
    import plotly
    import timm
    import torch

    v = m["versions"]
    assert v["se_viz"] == se_viz.__version__ and v["timm"] == timm.__version__
    assert v["numpy"] == numpy.__version__ and v["plotly"] == plotly.__version__
    assert torch.__version__.startswith(v["torch"]) and v["python"] == platform.python_version()
    created = datetime.fromisoformat(m["created_utc"])
    assert created.tzinfo is not None and abs((datetime.now(timezone.utc) - created).total_seconds()) < 600
    assert m["extra"] == {"sort": "gate ↓", "block": ["SE_5_2"]}
    assert json.loads(json.dumps(m)) == m  # JSON-ready as it is


def test_manifest_of_an_untrained_model_has_no_hash(legacy_r50):
    m = E.manifest(legacy_r50, ["a.png"])
    assert m["weights"]["kind"] == "random init" and m["weights"]["sha256"] is None
    assert m["preprocessing"]["fit"] == "crop" and m["preprocessing"]["crop_pct"] == 0.875
    assert len(m["labels"]) == 1000 and len(m["se_blocks"]) == 16
    assert m["model"]["trained"] is False and m["model"]["display_name"].endswith("(untrained)")


def test_exported_file_names_say_untrained_when_the_network_is(legacy_r50, mini):
    """An untrained SE-ResNet-50 is not 'legacy_seresnet50_in1k': that tag suggests ImageNet weights."""
    assert E.file_stem(legacy_r50) == "legacy_seresnet50_untrained"
    assert "in1k" not in E.file_stem(legacy_r50)
    assert E.file_stem(mini) == "se_resnet_mini_synthetic"
    assert E.manifest(mini, ["a.png"])["model"]["trained"] is True


def test_capture_csv_with_manifest_reads_back_with_comment_hash(mini_cap, mini_manifest):
    names = ["photo #1.jpg", "b, c.png"]  # a '#' in a name must not start a comment
    plain = pd.read_csv(io.BytesIO(E.capture_csv(mini_cap, names)))
    data = E.capture_csv(mini_cap, names, manifest=mini_manifest)
    lines = data.decode("utf-8").splitlines()
    assert lines[0] == "# se_viz_manifest: 1"
    assert f"# model.id: {MINI}" in lines
    assert f"# weights.sha256: {mini_manifest['weights']['sha256']}" in lines
    assert "# preprocessing.fit: pad" in lines
    assert f"# labels: {json.dumps(mini_manifest['labels'])}" in lines
    back = pd.read_csv(io.BytesIO(data), comment="#")
    pd.testing.assert_frame_equal(back, plain)
    assert back["image"].unique().tolist() == names


def test_summary_csv_with_manifest_keeps_missing_stages(cap_paths, mini_manifest):
    df = A.block_summary(cap_paths)
    back = pd.read_csv(io.BytesIO(E.summary_csv(df, manifest=mini_manifest)), comment="#")
    assert back["block"].tolist() == df["block"].tolist()
    assert back["stage"].isna().all()
    assert np.allclose(back["mean"], df["mean"], rtol=1e-12, atol=0)


def test_capture_npz_with_manifest_and_feature_maps(mini_cap, mini_manifest):
    last = mini_cap.block_names[-1]
    data = E.capture_npz(mini_cap, NAMES, manifest=mini_manifest, maps_block=last)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        assert json.loads(str(npz["manifest"])) == mini_manifest
        assert npz[f"maps_in/{last}"].shape == (2, 128, 2, 2)
        assert np.array_equal(npz[f"maps_in/{last}"], mini_cap.maps_in[last])
        assert np.array_equal(npz[f"maps_out/{last}"], mini_cap.maps_out[last])
        assert not any(k.startswith("maps_") and not k.endswith(last) for k in npz.files)
    with pytest.raises(KeyError, match="maps="):
        E.capture_npz(mini_cap, NAMES, maps_block=mini_cap.block_names[0])
    with pytest.raises(KeyError):
        E.capture_npz(mini_cap, NAMES, maps_block="SE_9_9")


def test_figures_html_is_one_offline_report_with_one_plotly_and_the_manifest(mini, mini_cap, mini_manifest):
    last = mini_cap.block_names[-1]
    figs = [
        ("Gate heatmap", F.gate_heatmap(mini_cap)),
        ("Histograms", F.distribution_figure(mini_cap, kind="histogram")),
        (f"Gates of {last}", F.gate_bar(mini_cap, last)),
        ("Squeeze vs gate", F.squeeze_vs_gate(mini_cap, last)),
        ("Predictions <top 5>", F.predictions_bar(A.topk_predictions(mini_cap, mini.labels))),
    ]
    data = E.figures_html(figs, mini_manifest, "Report: cat & astronaut")
    text = data.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    assert len(re.findall(r"plotly\.js v\d+\.\d+", text)) == 1  # one bundle, shared
    assert not re.search(r"<script[^>]*\ssrc\s*=", text, flags=re.IGNORECASE)
    assert text.count("Plotly.newPlot") == 5
    assert all(f'id="se-viz-figure-{k}"' in text for k in range(5))
    assert "<h2>Predictions &lt;top 5&gt;</h2>" in text and "<h1>Report: cat &amp; astronaut</h1>" in text
    embedded = re.search(r'<script type="application/json" id="se-viz-manifest">(.*?)</script>', text, re.S)
    assert json.loads(embedded.group(1)) == mini_manifest
    # The provenance table is visible text, with the hash and every class in a fold.
    assert f"<td>{mini_manifest['weights']['sha256']}</td>" in text
    assert "<summary>10 classes</summary>" in text
    # Five charts cost little more than one: one chart alone is ≥ 3 MB (the library).
    one = len(E.figure_html(figs[0][1]))
    assert one > 3_000_000 and len(data) < 1.2 * one


def test_manifest_text_cannot_end_the_embedded_script(mini_manifest):
    hostile = dict(mini_manifest, images=["</script><script>alert(1)</script>.png"])
    text = E.figures_html([("x", go.Figure())], hostile, "t").decode("utf-8")
    # The bundle's, the manifest's and the one figure's own script end: nothing injected.
    assert text.count("</script>") == 3
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in text  # the table shows it as text
    embedded = re.search(r'id="se-viz-manifest">(.*?)</script>', text, re.S).group(1)
    assert json.loads(embedded)["images"] == hostile["images"]
