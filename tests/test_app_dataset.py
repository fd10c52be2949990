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
from se_viz.ui.tables import COLUMN_NAMES

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
    summary = at.table[0].value  # the screen's column names, in words
    assert list(summary[COLUMN_NAMES["block"]]) == ds.block_names
    assert not [c for c in summary.columns if "_" in c], list(summary.columns)
    assert float(summary[COLUMN_NAMES["mean"]].iloc[0]) == pytest.approx(
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


# --------------------------------------------------------------------------------------------
# Uploads never reach the server's disk (issue 15, item 2)


@pytest.fixture(scope="module")
def secret_set(tmp_path_factory):
    """A labelled dataset whose first row names a file elsewhere on the server (``private.png``,
    a real image), the others images of a folder; captured from a CSV list."""
    import shutil

    images = make_image_folder(tmp_path_factory.mktemp("sandbox") / "shapes")
    secret = tmp_path_factory.mktemp("elsewhere") / "private.png"
    shutil.copy(images / "circle" / "img_000.png", secret)
    rows = [(secret, "circle")] + [(p, p.parent.name) for p in sorted(images.glob("*/img_*.png"))[:6]]
    listing = images.parent / "list.csv"
    listing.write_text("path,label\n" + "".join(f"{p},{lab}\n" for p, lab in rows))
    out = images.parent / "sandbox.gates"
    assert main(["capture", str(listing), "--model", se_viz.MINI_MODEL, "--out", str(out), *FAST]) == 0
    return out, images, secret


def _opens_of(name: str) -> list:
    """Every ``open`` of a path containing ``name`` from now on in this process (an audit hook:
    whichever library opens the file, the interpreter reports it)."""
    import sys

    seen: list = []

    def hook(event, args):
        if event == "open" and args and name in str(args[0]):
            seen.append(args[0])

    sys.addaudithook(hook)  # hooks cannot be removed: it only records
    return seen


def test_an_uploaded_dataset_never_opens_a_file_its_rows_name_on_the_server(app_env, secret_set):
    from streamlit.testing.v1 import AppTest

    out, images, secret = secret_set
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in out.rglob("*"):
            if path.is_file():
                zf.write(path, Path("sandbox.gates") / path.relative_to(out))
        for path in images.rglob("*.png"):
            zf.write(path, Path("shapes") / path.relative_to(images))
    app_env(se_viz.MINI_MODEL, None)
    opened = _opens_of("private.png")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    upload = at.sidebar.file_uploader(key="dataset_upload")
    upload.set_value(("s.zip", buf.getvalue(), "application/zip")).run()
    _assert_clean(at)
    for view in ("Summary", "Compare", "Classes", "Channel atlas", "Stage ablation"):
        at.session_state["dataset_view"] = view
        at.run()
        _assert_clean(at)
        assert not _errors(at), view
    # The ablation runs on the six images inside the upload and says the seventh is not in it.
    assert any("1 are not in the upload" in c.value for c in at.caption)
    run = next(b for b in at.button if b.key == "iv_set_run")
    assert run.label == "Run over 6 images"
    run.click().run()
    _assert_clean(at)
    assert opened == [], f"the server opened {opened}"
    assert secret.exists()


def test_a_data_folder_dataset_reads_images_only_under_allowed_folders(secret_set, tmp_path, monkeypatch):
    from se_viz.datasets.access import FolderImages, ImageNotReadable, image_roots

    out, images, secret = secret_set
    ds = open_gate_dataset(out)
    # Default: the dataset's folder and the folders it was captured from (the list's folder).
    reader = FolderImages(image_roots(str(out), ds.manifest))
    assert reader.read(ds.paths[1]) == Path(ds.paths[1]).read_bytes()
    with pytest.raises(ImageNotReadable, match="outside the allowed folders"):
        reader.read(str(secret))
    link = images / "circle" / "innocent.png"  # a link inside an allowed folder, to a file outside
    link.symlink_to(secret)
    try:
        with pytest.raises(ImageNotReadable):
            reader.read(str(link))
        with pytest.raises(ImageNotReadable):
            reader.read(str(images / ".." / ".." / secret.parent.name / secret.name))
    finally:
        link.unlink()
    # A manifest written on another machine names folders of that machine: not honoured.
    elsewhere = {**ds.manifest, "host": "another-machine"}
    assert image_roots(str(out), elsewhere) == [out.resolve()]
    # The operator names the folders: exactly those.
    monkeypatch.setenv("SE_VIZ_IMAGE_ROOTS", str(secret.parent))
    named = FolderImages(image_roots(str(out), ds.manifest))
    assert named.read(str(secret)) == secret.read_bytes()
    with pytest.raises(ImageNotReadable):
        named.read(ds.paths[1])
