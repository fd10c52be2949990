"""What a server may open of gate datasets (se_viz.datasets.serving, issue 26.3): the operator's
folder, uploaded ZIPs unpacked safely, which images each may read, and the content key that tells
two versions of a dataset apart. Plain functions on a real captured dataset; no Streamlit."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from datasets_helpers import make_image_folder

import se_viz
from se_viz.cli import main
from se_viz.datasets.access import ArchiveImages, FolderImages
from se_viz.datasets.aggregate import dataset_key
from se_viz.datasets.reader import open_gate_dataset
from se_viz.datasets.serving import (
    ablation_images,
    available_datasets,
    folder_key,
    image_access,
    unpack_dataset_zip,
)
from se_viz.loading.images import load_image

FAST = ["--batch-size", "8", "--workers", "1", "--threads", "1", "--no-progress", "--rows-per-part", "20"]


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> tuple[Path, Path]:
    """(data folder holding one dataset, the images it was captured from)."""
    images = make_image_folder(tmp_path_factory.mktemp("images") / "shapes")
    data = tmp_path_factory.mktemp("data")
    assert (
        main(
            ["capture", str(images), "--model", se_viz.MINI_MODEL, "--out", str(data / "shapes.gates"), *FAST]
        )
        == 0
    )
    return data, images


def _zipped(folder: Path, images: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.rglob("*"):
            if f.is_file():
                zf.write(f, f"shapes.gates/{f.relative_to(folder)}")
        for f in images.rglob("*.png"):
            zf.write(f, f"shapes/{f.relative_to(images)}")
    return buf.getvalue()


def test_the_data_folder_lists_its_datasets_and_lends_them_its_folders(captured, monkeypatch, tmp_path):
    data, _ = captured
    monkeypatch.delenv("SE_VIZ_IMAGE_ROOTS", raising=False)
    monkeypatch.setenv("SE_VIZ_DATA", str(data))
    (data / "not_a_dataset").mkdir(exist_ok=True)
    assert available_datasets() == [str(data / "shapes.gates")]
    path = str(data / "shapes.gates")
    ds = open_gate_dataset(path)
    assert isinstance(image_access(path, ds.manifest), FolderImages)
    elsewhere = tmp_path / "copy.gates"
    shutil.copytree(path, elsewhere)
    assert image_access(str(elsewhere), ds.manifest) is None  # outside SE_VIZ_DATA: no image is read
    monkeypatch.delenv("SE_VIZ_DATA")
    assert available_datasets() == []


def test_an_upload_is_unpacked_safely_and_reads_only_its_archive(captured, tmp_path):
    data, images = captured
    upload = unpack_dataset_zip(_zipped(data / "shapes.gates", images), tmp_path / "u")
    ds = open_gate_dataset(upload.folder)
    access = image_access(upload.folder, ds.manifest, upload)
    assert isinstance(access, ArchiveImages)
    png = next(p for p in ds.paths if p.endswith(".png"))
    assert access.read(png) == Path(png).read_bytes()

    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../../evil.txt", "x")
    with pytest.raises(se_viz.InputError, match="points outside the archive"):
        unpack_dataset_zip(slip.getvalue(), tmp_path / "slip")
    assert not (tmp_path / "evil.txt").exists()
    with pytest.raises(se_viz.InputError, match="not a ZIP"):
        unpack_dataset_zip(b"PK but not really", tmp_path / "bad")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("notes.txt", "no dataset here")
    with pytest.raises(se_viz.InputError, match="no gate dataset"):
        unpack_dataset_zip(empty.getvalue(), tmp_path / "empty")


def test_the_folder_key_is_the_datasets_content_key_and_moves_with_its_files(captured, tmp_path):
    data, _ = captured
    path = tmp_path / "shapes.gates"
    shutil.copytree(data / "shapes.gates", path)
    before = folder_key(str(path))
    assert before == dataset_key(open_gate_dataset(path))  # one key, computed without the rows
    assert folder_key(str(path)) == before
    part = sorted(path.glob("*.parquet"))[0]
    shutil.copy(part, path / "part-99999.parquet")  # a resumed capture adds a part
    assert folder_key(str(path)) != before


def test_a_rerun_uses_only_images_it_may_read_and_decode(captured, monkeypatch):
    data, _ = captured
    monkeypatch.setenv("SE_VIZ_DATA", str(data))
    path = str(data / "shapes.gates")
    ds = open_gate_dataset(path)
    lm_classes = ["circle", "square", "stripes"]
    got = ablation_images(ds, image_access(path, ds.manifest), lm_classes, 5, load_image)
    assert len(got.images) == 5 and got.allowed == len(ds) and got.refused == 0
    assert got.labels is None or all(0 <= i < 3 for i in got.labels)
    refused = ablation_images(ds, None, lm_classes, 5, load_image)
    assert refused.images == [] and refused.refused == len(ds)
