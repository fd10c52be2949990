"""Gate-dataset statistics streamed in bounded memory: equal to the in-memory functions, cached by
content, memory flat in the row count; nearest images and the map over a dataset; rows read by
position only from the row groups that hold them."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from datasets_helpers import CLASSES, make_image_folder

import se_viz
from se_viz import analysis as A
from se_viz.bench.datasets import measure_child, replicate
from se_viz.datasets import aggregate as agg_mod
from se_viz.datasets.aggregate import HISTOGRAM_BINS, dataset_aggregates, fold_dataset, row_entropies
from se_viz.datasets.job import CaptureJob
from se_viz.datasets.local import run_local
from se_viz.datasets.neighbours import dataset_nearest, dataset_pca, sample_rows
from se_viz.datasets.reader import open_gate_dataset
from se_viz.datasets.schema import MANIFEST_FILE, manifest_schema, parquet_options
from se_viz.datasets.sources import expand_inputs
from se_viz.datasets.summary import summarize_gate_dataset
from se_viz.engine.blocks import BlockInfo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> Path:
    """The labelled test folder captured with the mini model, 8 rows per part file (5 parts)."""
    folder = make_image_folder(tmp_path_factory.mktemp("agg_images") / "shapes")
    out = tmp_path_factory.mktemp("agg") / "shapes.gates"
    job = CaptureJob(model=se_viz.MINI_MODEL, out=out, batch_size=8, workers=0, threads=1, rows_per_part=8)
    run_local(job, expand_inputs([folder]), progress=False)
    return out


def test_streamed_statistics_equal_the_in_memory_functions(captured):
    ds = open_gate_dataset(captured)
    assert len(list(captured.glob("*.parquet"))) >= 4  # several files: the folds really merge
    cap = ds.to_capture()
    labels = np.asarray(ds.labels)
    agg = dataset_aggregates(ds, ds.labels, batch_rows=3, cache=False)

    ref = A.class_specificity(cap.gates, labels, cap.blocks)
    got = agg.specificity()
    assert got.classes == ref.classes == list(CLASSES) and got.counts == ref.counts
    for a, b in zip(ref.blocks + ref.stages, got.blocks + got.stages, strict=True):
        for f in ("between", "within", "ratio", "mean_gate", "saturated"):
            assert getattr(b, f) == pytest.approx(getattr(a, f), abs=1e-6), f
    for name, p in A.class_profiles(cap.gates, labels).items():
        q = agg.class_profiles()[name]
        assert list(q.classes) == list(p.classes)
        for f in ("counts", "mean", "std", "overall"):
            np.testing.assert_allclose(getattr(q, f), getattr(p, f), atol=1e-6, rtol=0)
    pd.testing.assert_frame_equal(agg.saturation_table(), A.saturation_table(cap.gates, cap.block_names))

    table = agg.summary()
    for row in table.itertuples():
        g = cap.gates[row.block].astype(np.float64)
        assert row.mean == pytest.approx(g.mean(), abs=1e-6) and row.std == pytest.approx(g.std(), abs=1e-6)
        assert row.entropy == pytest.approx(np.mean([A.gate_entropy(r) for r in g]), abs=1e-6)
        edges, counts = agg.histograms()
        assert counts[row.block].sum() == g.size and len(edges) == HISTOGRAM_BINS + 1
        assert counts[row.block][-1] == np.count_nonzero(g >= 1 - 1 / HISTOGRAM_BINS)
    # The per-row entropy keeps gate_entropy's edge cases: one channel, all-zero gates.
    np.testing.assert_array_equal(row_entropies(np.array([[0.3], [0.0]])), [1.0, 1.0])
    assert np.isnan(row_entropies(np.zeros((1, 4)))[0])


def test_a_replicated_dataset_has_the_same_statistics_and_the_cache_follows_the_content(
    captured, tmp_path, monkeypatch
):
    ds = open_gate_dataset(captured)
    base = summarize_gate_dataset(ds, cache=False)
    big = open_gate_dataset(replicate(captured, tmp_path / "x3", 3))
    assert len(big) == 3 * len(ds)
    first = summarize_gate_dataset(big)  # streams, then writes the cache next to the dataset
    assert list((tmp_path / "x3" / "_se_viz_cache").glob("*.npz"))
    pd.testing.assert_frame_equal(first.drop(columns="images"), base.drop(columns="images"), atol=1e-9)
    assert (first["images"] == 3 * len(ds)).all()

    def no_reading(*args, **kwargs):
        raise AssertionError("a cached dataset must not be read again")

    monkeypatch.setattr(agg_mod, "fold_dataset", no_reading)
    pd.testing.assert_frame_equal(summarize_gate_dataset(open_gate_dataset(tmp_path / "x3")), first)
    # New content (another part file) is another key: streamed again, never the stale numbers.
    os.link(next(captured.glob("*.parquet")), tmp_path / "x3" / "extra.parquet")
    with pytest.raises(AssertionError, match="must not be read"):
        summarize_gate_dataset(open_gate_dataset(tmp_path / "x3"))
    monkeypatch.undo()
    # A dataset folder that cannot take the cache: the user's cache folder instead.
    (tmp_path / "x3" / "_se_viz_cache").rename(tmp_path / "old_cache")
    (tmp_path / "x3" / "_se_viz_cache").write_text("a file where the cache folder would go")
    monkeypatch.setenv("SE_VIZ_CACHE", str(tmp_path / "user_cache"))
    summarize_gate_dataset(open_gate_dataset(tmp_path / "x3"))
    assert list((tmp_path / "user_cache" / "aggregates").glob("*.npz"))


def test_nearest_images_and_the_map_over_a_dataset(captured):
    ds = open_gate_dataset(captured)
    cap = ds.to_capture()
    for where, blocks in list(A.vector_scopes(cap.blocks).items())[:3]:
        vectors = A.gate_vectors(cap.gates, blocks)
        for query in (0, 7, len(ds) - 1):
            ref = A.nearest_images(vectors, query, 5)
            got = dataset_nearest(ds, query, blocks, 5, batch_rows=4)
            assert got["image"].tolist() == ref["image"].tolist(), where
            np.testing.assert_allclose(got["distance"], ref["distance"], atol=1e-9)
        rows, pca = dataset_pca(ds, blocks)
        assert rows.tolist() == list(range(len(ds)))  # small: every image, the in-memory map
        np.testing.assert_allclose(pca.coords, A.gate_pca(vectors).coords, atol=1e-9)
    sample = sample_rows(50_000, 2000)
    assert (
        len(set(sample)) == 2000 and sample.tolist() == sorted(sample) == sample_rows(50_000, 2000).tolist()
    )


def test_rows_are_read_from_the_row_groups_that_hold_them(captured, monkeypatch):
    import pyarrow.parquet as pq

    ds = open_gate_dataset(captured)
    read: list = []
    original = pq.ParquetFile.iter_batches

    def recording(self, *args, **kwargs):
        read.extend(kwargs.get("row_groups") or [])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", recording)
    rows = [3, 20]
    cap = ds.to_capture(rows)
    # Parquet statistics rule out every row group but the two that hold the rows.
    assert len(read) == 2 and len(list(captured.glob("*.parquet"))) >= 4
    monkeypatch.undo()
    for b in ds.block_names:
        np.testing.assert_array_equal(cap.gates[b], ds.gates(b)[rows])
    np.testing.assert_array_equal(ds.to_capture([20, 3]).logits, ds.logits()[[20, 3]])


def _wide_dataset(root: Path, rows: int, copies: int, channels: int = 4096) -> Path:
    """A gate dataset of one ``channels``-wide block, ``rows`` random rows × ``copies`` files."""
    block = BlockInfo("SE_5_1", "b", channels, 16, "sigmoid", "SE_5_1", "r", "g", "SEModule", 0)
    labels = ["cat", "dog", "eel"]
    manifest = {
        "format": "se_viz.gate_dataset/1",
        "model": {"id": "wide", "labels": labels, "num_classes": 3},
        "blocks": [dataclasses.asdict(block)],
        "dtype": "float32",
    }
    schema = manifest_schema(manifest)
    rng = np.random.default_rng(0)

    def fixed(values: np.ndarray, type_) -> pa.Array:
        return pa.FixedSizeListArray.from_arrays(
            pa.array(values.reshape(-1), type=type_.value_type), values.shape[1]
        )

    cols = {
        "index": pa.array(np.arange(rows), pa.int64()),
        "path": pa.array([f"/x/{i}.png" for i in range(rows)]),
        "label": pa.array([labels[i % 3] for i in range(rows)]),
        "sha256": pa.array(["0" * 64] * rows),
        "width": pa.array(np.full(rows, 8), pa.int32()),
        "height": pa.array(np.full(rows, 8), pa.int32()),
        "error": pa.array([None] * rows, pa.string()),
        "top5_class": fixed(
            np.tile(np.arange(3, dtype=np.int32), (rows, 1)), schema.field("top5_class").type
        ),
        "top5_prob": fixed(np.full((rows, 3), 1 / 3, np.float32), schema.field("top5_prob").type),
        "logits": fixed(np.zeros((rows, 3), np.float32), schema.field("logits").type),
        "gate:SE_5_1": fixed(
            rng.random((rows, channels), dtype=np.float32), schema.field("gate:SE_5_1").type
        ),
        "squeeze:SE_5_1": fixed(np.zeros((rows, channels), np.float32), schema.field("squeeze:SE_5_1").type),
    }
    one = root / "one"
    one.mkdir(parents=True)
    import pyarrow.parquet as pq

    pq.write_table(pa.table(cols, schema=schema), one / "part-00000.parquet", **parquet_options(schema))
    (one / MANIFEST_FILE).write_text(json.dumps(manifest))
    return replicate(one, root / f"x{copies}", copies)


@pytest.mark.slow
def test_summarize_memory_does_not_grow_with_the_row_count(tmp_path):
    """1024 rows against 8192 rows of a 4096-channel block (128 MB of gates, 256 MB as float64 in
    memory), both in two or more files so both fold on every thread: the streamed summary's peak
    grows by less than a third of that."""
    small = _wide_dataset(tmp_path / "s", 512, 2)
    big = _wide_dataset(tmp_path / "b", 512, 16)
    # One child process (one torch import): summarise the small set, note the peak, then the big one.
    code = (
        "import sys; from se_viz.datasets.reader import open_gate_dataset; "
        "from se_viz.datasets.summary import summarize_gate_dataset\n"
        "def peak(p):\n"
        "    n = summarize_gate_dataset(open_gate_dataset(p), cache=False)['images'].iloc[0]\n"
        # The process's own high-water mark (ru_maxrss would start at the parent's, pytest's).
        "    hwm = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "    return n, int(hwm) / 1024\n"
        "print(*peak(sys.argv[1]), *peak(sys.argv[2]))"
    )
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    _, _, out = measure_child(code, [str(small), str(big)], env)
    n_small, small_mb, n_big, big_mb = out.splitlines()[0].split()
    assert (int(n_small), int(n_big)) == (1024, 8192)
    grown = float(big_mb) - float(small_mb)
    assert grown < 80, f"peak grew {grown:.0f} MB for 16× the rows"


def test_group_codes_follow_input_indices(captured):
    ds = open_gate_dataset(captured)
    classes, codes = agg_mod.group_codes(ds, ds.labels)
    assert list(classes) == list(CLASSES)
    assert [classes[codes[i]] for i in ds.row_index] == ds.labels
    with pytest.raises(ValueError, match="groups for"):
        agg_mod.group_codes(ds, ds.labels[:-1])


def test_engines_use_the_machines_cpus_and_num_cpus_caps_them(monkeypatch):
    from se_viz.cli import build_parser
    from se_viz.datasets.job import machine_cpus
    from se_viz.datasets.ray_engine import ray_runtime

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    assert machine_cpus() == 6 and machine_cpus(2) == 2 and machine_cpus(64) == 6
    job = CaptureJob(model=se_viz.MINI_MODEL, out=Path("x"))
    assert (job.cpus, job.decode_workers, job.model_threads) == (6, 5, None)
    capped = CaptureJob(model=se_viz.MINI_MODEL, out=Path("x"), num_cpus=2)
    assert (capped.cpus, capped.decode_workers, capped.model_threads) == (2, 1, 2)
    assert ray_runtime().num_cpus == 6 and ray_runtime(num_cpus=3).num_cpus == 3
    args = build_parser().parse_args(["summarize", "d", "--engine", "ray", "--num-cpus", "3"])
    assert (args.engine, args.num_cpus) == ("ray", 3)
    args = build_parser().parse_args(["capture", "i", "--model", "m", "--out", "o", "--num-cpus", "1"])
    assert args.num_cpus == 1 and args.workers is None


def test_folds_merge_in_any_order_and_on_any_thread_count(captured):
    """Batches in any order, split in any way, on one thread or several: the same class means and
    standard deviations as numpy over all rows at once (rows in no class order are sorted per batch)."""
    rng = np.random.default_rng(5)
    g = rng.random((300, 24), dtype=np.float32)
    codes = rng.integers(0, 5, 300)
    g64 = g.astype(np.float64)
    whole = agg_mod.BlockFold(24, 5)
    whole.push(g, codes)
    parts = [agg_mod.BlockFold(24, 5) for _ in range(3)]
    for i, rows in enumerate(np.array_split(rng.permutation(300), 7)):
        parts[i % 3].push(g[rows], codes[rows])
    merged = parts[2].merge(parts[0]).merge(parts[1])
    for fold in (whole, merged):
        for k in range(5):
            np.testing.assert_allclose(fold.mean[k], g64[codes == k].mean(axis=0), atol=1e-9)
            np.testing.assert_allclose(fold.m2[k] / fold.count[k], g64[codes == k].var(axis=0), atol=1e-9)
        assert fold.moments() == pytest.approx((g64.mean(), g64.std()))
        np.testing.assert_array_equal(fold.fine, whole.fine)
    ds = open_gate_dataset(captured)
    one = agg_mod.fold_dataset(ds, ds.labels, threads=1).summary()
    seen = []
    four = agg_mod.fold_dataset(ds, ds.labels, threads=4, batch_rows=5, progress=lambda *a: seen.append(a))
    pd.testing.assert_frame_equal(four.summary(), one, atol=1e-9)
    assert seen[-1] == (len(ds), len(ds))  # the progress ends at every row


def test_the_benchmark_times_the_apps_first_open_of_a_dataset_of_thousands(captured, tmp_path):
    """``se-viz bench-datasets`` times the app's open in a child (``se_viz/ui/open_timer.py``). It
    once looked for "49984 images" where the page says "49,984 images" and failed at every size
    the benchmark is for; its peak memory is the child's own (not the parent's carried over)."""
    from se_viz.bench.datasets import _APP_OPEN, _app_path

    big = replicate(captured, tmp_path / "big.gates", 30)
    assert len(open_gate_dataset(big)) >= 1000
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    seconds, peak_mb, out = measure_child(_APP_OPEN, [str(big), _app_path()], env)
    opened = float(out.split("OPEN ")[1].split()[0])
    assert 0 < opened < seconds
    assert 200 < peak_mb < 4000  # torch and Streamlit in one process: hundreds of MB, not the test's own


def test_forked_folders_give_the_threads_numbers_and_stop_when_cancelled(captured):
    """``se-viz summarize`` folds in forked processes (the fold holds the interpreter lock, so
    threads barely add up): the same numbers as the threads', every row counted, and a progress
    callback that raises (Cancel) stops the children and reaches the caller."""
    ds = open_gate_dataset(captured)
    seen: list[int] = []
    forked = fold_dataset(
        ds, ds.labels, batch_rows=3, threads=2, processes=True, progress=lambda d, n: seen.append(d)
    )
    threaded = fold_dataset(ds, ds.labels, batch_rows=3, threads=2)
    pd.testing.assert_frame_equal(forked.summary(), threaded.summary(), rtol=1e-12)
    assert seen[-1] == len(ds)

    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    before = set(multiprocessing.active_children())
    with pytest.raises(Cancelled):
        fold_dataset(ds, ds.labels, batch_rows=1, threads=2, processes=True, progress=cancel)
    assert set(multiprocessing.active_children()) <= before, "a fold process outlived its cancel"
