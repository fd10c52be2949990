"""se-viz capture (local engine), reading back, summarize: real models, real Parquet files."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datasets_helpers import BAD, CLASSES, PER_CLASS, expected_capture, make_image_folder, rows_equal

import se_viz
from se_viz.cli import main
from se_viz.datasets.job import CaptureJob
from se_viz.datasets.local import run_local
from se_viz.datasets.reader import open_gate_dataset
from se_viz.datasets.sources import expand_inputs
from se_viz.datasets.summary import summarize_gate_dataset

MINI = se_viz.MINI_MODEL
FAST = ["--batch-size", "8", "--workers", "1", "--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return make_image_folder(tmp_path_factory.mktemp("images") / "shapes")


@pytest.fixture(scope="module")
def mini():
    return se_viz.load_model(MINI)


@pytest.fixture(scope="module")
def captured(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gd") / "shapes.gates"
    assert (
        main(["capture", str(folder), "--model", MINI, "--out", str(out), "--rows-per-part", "10", *FAST])
        == 0
    )
    return out


def _good_paths(folder: Path) -> list[str]:
    return [
        str(p.resolve())
        for c in CLASSES
        for p in sorted((folder / c).iterdir())
        if f"{c}/{p.name}" not in BAD
    ]


def test_folder_rows_labels_values_and_errors(folder, captured, mini):
    ds = open_gate_dataset(captured)
    good = _good_paths(folder)
    # One row per readable image, in input order, labelled by its class folder.
    assert len(ds) == len(CLASSES) * PER_CLASS and ds.paths == good
    assert ds.labels == [Path(p).parent.name for p in good]
    assert ds.block_names == [b.name for b in mini.blocks]
    # Values equal an in-process capture of the same images.
    want = expected_capture(mini, good)
    for b in want.blocks:
        got = ds.gates(b.name)
        assert got.dtype == np.float32 and got.shape == want.gates[b.name].shape
        np.testing.assert_allclose(got, want.gates[b.name], atol=1e-5, rtol=0)
        np.testing.assert_allclose(ds.squeeze(b.name), want.squeeze[b.name], atol=1e-5, rtol=0)
    np.testing.assert_allclose(ds.logits(), want.logits, atol=1e-5, rtol=0)
    probs = want.probabilities()
    np.testing.assert_array_equal(ds.top5_classes, np.argsort(-probs, axis=1, kind="stable")[:, :5])
    np.testing.assert_allclose(ds.top5_probs, np.sort(probs, axis=1)[:, ::-1][:, :5], atol=1e-6)
    assert ds.predictions[0] == mini.labels[int(np.argmax(probs[0]))]
    # Metadata of the files themselves.
    first = ds.table.iloc[0]
    assert first["width"] == 64 and first["height"] == 64
    import hashlib

    assert first["sha256"] == hashlib.sha256(Path(good[0]).read_bytes()).hexdigest()
    # The unreadable files are listed with a reason, and in the errors file.
    assert sorted(ds.errors["path"]) == sorted(str((folder / b).resolve()) for b in BAD)
    with open(captured / "_errors.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["path"] for r in rows) == sorted(ds.errors["path"])
    reasons = {Path(r["path"]).name: r["reason"] for r in rows}
    assert "empty" in reasons["empty.png"] and "truncated" in reasons["broken.jpg"]


def test_manifest_records_the_run(captured, mini):
    manifest = json.loads((captured / "_manifest.json").read_text())
    assert manifest["model"]["id"] == MINI and manifest["dtype"] == "float32"
    bundled = se_viz.catalog_entry(MINI).bundled_path
    import hashlib

    assert manifest["model"]["weights_sha256"] == hashlib.sha256(bundled.read_bytes()).hexdigest()
    assert manifest["model"]["weights"]["kind"] == "bundled"
    assert [b["name"] for b in manifest["blocks"]] == [b.name for b in mini.blocks]
    assert [b["channels"] for b in manifest["blocks"]] == [b.channels for b in mini.blocks]
    assert manifest["preprocessing"]["input_size"] == [3, 64, 64]
    assert {"torch", "timm", "pyarrow", "python"} <= set(manifest["versions"])
    assert manifest["command"][:3] == [
        "se-viz",
        "capture",
        str(captured.parent.parent / "images0" / "shapes"),
    ] or manifest["command"][:2] == ["se-viz", "capture"]
    # Each part also carries the manifest in its Parquet metadata.
    import pyarrow.parquet as pq

    part = sorted(captured.glob("part-*.parquet"))[0]
    assert json.loads(pq.read_schema(part).metadata[b"se_viz.manifest"])["model"]["id"] == MINI


def test_reading_back_selects_columns_and_rows(captured):
    ds = open_gate_dataset(f"file://{captured}")
    cap = ds.to_capture([2, 5])
    assert isinstance(cap, se_viz.Capture) and cap.num_images == 2
    assert cap.block_names == ds.block_names
    for b in ds.block_names:
        np.testing.assert_array_equal(cap.gates[b], ds.gates(b)[[2, 5]])
    np.testing.assert_array_equal(cap.logits, ds.logits()[[2, 5]])
    with pytest.raises(KeyError, match="No SE block"):
        ds.gates("SE_9_9")


def test_summarize_matches_hand_computation(captured, tmp_path, capsys):
    ds = open_gate_dataset(captured)
    table = summarize_gate_dataset(ds)
    assert table["block"].tolist() == ds.block_names
    row = table.iloc[-1]
    g = ds.gates(row["block"]).astype(np.float64)
    assert row["images"] == len(ds) and row["channels"] == g.shape[1]
    assert row["mean"] == pytest.approx(g.sum() / g.size)
    assert row["std"] == pytest.approx(np.sqrt(((g - g.mean()) ** 2).sum() / g.size))
    assert row["frac_below_0.1"] == pytest.approx((g < 0.1).sum() / g.size)
    assert row["frac_above_0.9"] == pytest.approx((g > 0.9).sum() / g.size)
    p = g / g.sum(axis=1, keepdims=True)
    assert row["entropy"] == pytest.approx(np.mean(-(p * np.log(p)).sum(axis=1) / np.log(g.shape[1])))
    # Class specificity by hand: class means, mean pairwise distance / mean RMS within distance.
    labels = np.array(ds.labels)
    means = {c: g[labels == c].mean(axis=0) for c in CLASSES}
    scale = np.sqrt(g.shape[1])
    pairs = [(a, b) for i, a in enumerate(CLASSES) for b in CLASSES[i + 1 :]]
    between = np.mean([np.linalg.norm(means[a] - means[b]) for a, b in pairs]) / scale
    rms = [np.sqrt(np.mean(np.linalg.norm(g[labels == c] - means[c], axis=1) ** 2)) for c in CLASSES]
    within = np.mean(rms) / scale
    assert row["between"] == pytest.approx(between) and row["within"] == pytest.approx(within)
    assert row["specificity"] == pytest.approx(between / within)
    # The command prints the table and writes the same numbers as CSV.
    out_csv = tmp_path / "summary.csv"
    assert main(["summarize", str(captured), "--csv", str(out_csv)]) == 0
    printed = capsys.readouterr().out
    assert "SE_5_2" in printed and "specificity" in printed and "3 unreadable" in printed
    pd.testing.assert_frame_equal(pd.read_csv(out_csv), table.astype({"stage": "int64"}), check_dtype=False)


def test_zip_and_list_inputs_give_the_same_rows(folder, captured, tmp_path):
    archive = tmp_path / "shapes.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # one wrapping folder, as zipping a folder gives
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, f"shapes/{p.relative_to(folder).as_posix()}")
    listing = tmp_path / "list.csv"
    good = _good_paths(folder)
    with open(listing, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label"])
        for p in good:
            w.writerow([os.path.relpath(p, tmp_path), "L-" + Path(p).parent.name])
    from_folder = open_gate_dataset(captured)
    for source in (archive, listing):
        out = tmp_path / f"{source.suffix[1:]}.gates"
        assert main(["capture", str(source), "--model", MINI, "--out", str(out), *FAST]) == 0
        ds = open_gate_dataset(out)
        assert len(ds) == len(good)
        np.testing.assert_allclose(ds.gates("SE_4_1"), from_folder.gates("SE_4_1"), atol=1e-5, rtol=0)
        assert ds.table["sha256"].tolist() == from_folder.table["sha256"].tolist()
        if source == archive:
            assert ds.labels == from_folder.labels and len(ds.errors) == len(BAD)
            assert any(r.startswith("empty.png:") for r in ds.errors["reason"])  # the member, not the archive
            assert ds.paths[0] == f"zip://shapes/circle/img_000.png::{archive.resolve()}"
        else:
            assert ds.labels == ["L-" + label for label in from_folder.labels] and ds.paths == good


def test_float16_halves_the_values(folder, captured, tmp_path):
    out = tmp_path / "half.gates"
    assert (
        main(["capture", str(folder), "--model", MINI, "--out", str(out), "--dtype", "float16", *FAST]) == 0
    )
    half, full = open_gate_dataset(out), open_gate_dataset(captured)
    np.testing.assert_allclose(half.gates("SE_5_2"), full.gates("SE_5_2"), atol=1e-3, rtol=0)

    def size(d):
        return sum(p.stat().st_size for p in d.glob("*.parquet"))

    assert size(out) < 0.7 * size(captured)


def test_an_existing_dataset_needs_resume(folder, captured, capsys):
    assert main(["capture", str(folder), "--model", MINI, "--out", str(captured), *FAST]) == 2
    assert "--resume" in capsys.readouterr().err


def test_sigkill_then_resume_gives_one_row_per_image(folder, tmp_path):
    out = tmp_path / "killed.gates"
    cmd = [
        sys.executable,
        "-m",
        "se_viz.cli",
        "capture",
        str(folder),
        "--model",
        MINI,
        "--out",
        str(out),
        "--batch-size",
        "1",
        "--rows-per-part",
        "1",
        "--workers",
        "0",
        "--threads",
        "1",
        "--no-progress",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("part-*.parquet")) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    inputs = expand_inputs([folder])
    before = len(list(out.glob("part-*.parquet")))
    assert 0 < before < len(inputs), "the run should have been killed part-way"
    report = run_local(
        CaptureJob(model=MINI, out=out, batch_size=4, workers=0, threads=1, resume=True),
        inputs,
        progress=False,
    )
    assert report.skipped >= before and report.skipped + report.written == len(inputs)
    ds = open_gate_dataset(out)
    assert ds.paths == _good_paths(folder) and len(ds.errors) == len(BAD)
    assert len(set(ds.paths)) == len(ds.paths)
    # Resuming a finished dataset adds nothing.
    again = run_local(
        CaptureJob(model=MINI, out=out, workers=0, threads=1, resume=True), inputs, progress=False
    )
    assert again.written == 0 and len(open_gate_dataset(out)) == len(ds)
    rows_equal(ds, open_gate_dataset(out))


def test_capture_throughput_bench_prints_both_paths(capsys):
    assert (
        main(
            [
                "bench",
                "--capture-throughput",
                "--model",
                MINI,
                "--images",
                "16",
                "--batch-size",
                "8",
                "--workers",
                "1",
                "--threads",
                "1",
            ]
            + ["--no-ray"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "plain timm loop" in out and "capture, local engine" in out and "KiB per image" in out
    assert "Ray engine" not in out


def test_capture_leaves_the_statistics_the_app_opens_with(captured, monkeypatch):
    """`se-viz capture` streams the statistics once and caches them next to the dataset, so
    opening it (the app, `se-viz summarize`) reads no gate column again, at any row count."""
    from se_viz.datasets.aggregate import dataset_aggregates
    from se_viz.datasets.reader import GateDataset

    ds = open_gate_dataset(captured)
    expected = summarize_gate_dataset(ds, cache=False)

    def no_reading(*args, **kwargs):
        raise AssertionError("the statistics of a captured dataset must come from its cache")

    monkeypatch.setattr(GateDataset, "iter_batches", no_reading)
    agg = dataset_aggregates(ds, ds.labels if ds.has_labels else None)
    pd.testing.assert_frame_equal(agg.summary(), expected)
