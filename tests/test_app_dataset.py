"""A gate dataset in the app (AppTest): picked from SE_VIZ_DATA or uploaded zipped, summarised and
shown in the many-image views without a single forward pass."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from datasets_helpers import make_image_folder
from test_app import APP, TIMEOUT, _assert_clean, _errors, _figures

import se_viz
from se_viz.cli import main
from se_viz.datasets.reader import open_gate_dataset

FAST = ["--batch-size", "8", "--workers", "1", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    folder = make_image_folder(tmp_path_factory.mktemp("images") / "shapes")
    assert (
        main(
            ["capture", str(folder), "--model", se_viz.MINI_MODEL, "--out", str(root / "shapes.gates"), *FAST]
        )
        == 0
    )
    return root


def _no_passes(monkeypatch):
    """Fail the test if any SE-ResNet mini forward pass runs (the dataset is already captured)."""
    import torch

    calls = []
    original = torch.nn.Module.__call__

    def counting(self, *args, **kwargs):
        if type(self).__name__ == "ResNet":
            calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "__call__", counting)
    return calls


def test_dataset_from_the_data_folder(app_env, monkeypatch, data_dir):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    monkeypatch.setenv("SE_VIZ_DATA", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    _assert_clean(at)
    passes = _no_passes(monkeypatch)
    at.selectbox(key="dataset").set_value(str(data_dir / "shapes.gates")).run()
    _assert_clean(at)
    ds = open_gate_dataset(data_dir / "shapes.gates")
    summary = at.table[0].value
    assert list(summary["block"]) == ds.block_names
    assert float(summary["mean"].iloc[0]) == pytest.approx(
        float(ds.gates(ds.block_names[0]).mean()), abs=1e-4
    )
    assert any(f"{len(ds)} images" in c.value and "labelled" in c.value for c in at.caption)
    for view in ("Compare", "Classes"):
        at.session_state["dataset_view"] = view
        at.run()
        _assert_clean(at)
        assert _figures(at) and not _errors(at), f"the {view} view draws from the dataset"
    assert passes == []


def test_dataset_uploaded_as_zip_and_a_bad_zip_is_refused(app_env, data_dir):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in (data_dir / "shapes.gates").rglob("*"):
            if path.is_file():
                zf.write(path, Path("shapes.gates") / path.relative_to(data_dir / "shapes.gates"))
    at.sidebar.file_uploader(key="dataset_upload").set_value(
        ("shapes.zip", buf.getvalue(), "application/zip")
    ).run()
    _assert_clean(at)
    assert any("Gate dataset" in s.value for s in at.subheader)
    at.sidebar.file_uploader(key="dataset_upload").set_value(
        ("nope.zip", b"not a zip", "application/zip")
    ).run()
    _assert_clean(at)
    assert any("cannot be opened" in e and "not a ZIP" in e for e in _errors(at))


def test_stage_ablation_over_a_datasets_images(app_env, monkeypatch, data_dir):
    from streamlit.testing.v1 import AppTest

    app_env(se_viz.MINI_MODEL, None)
    monkeypatch.setenv("SE_VIZ_DATA", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.selectbox(key="dataset").set_value(str(data_dir / "shapes.gates")).run()
    at.session_state["dataset_view"] = "Stage ablation"
    at.run()
    _assert_clean(at)
    run = next(b for b in at.button if b.key == "iv_set_run")
    assert run.label == "Run over 36 images"  # every readable image of the dataset
    run.click().run()
    _assert_clean(at)
    assert not _errors(at)
    table = next(d.value for d in at.dataframe if "condition" in d.value.columns)
    assert table["condition"].iloc[0] == "unmodified" and "no SE (all neutralised)" in set(table["condition"])
