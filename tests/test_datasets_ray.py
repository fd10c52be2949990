"""The Ray Data engine on a real local Ray runtime (2 CPUs): same rows and values as the local engine."""

from __future__ import annotations

import json

import pytest
from datasets_helpers import BAD, make_image_folder, rows_equal

import se_viz
from se_viz.datasets.job import CaptureJob
from se_viz.datasets.local import run_local
from se_viz.datasets.reader import open_gate_dataset
from se_viz.datasets.sources import expand_inputs

ray = pytest.importorskip("ray")
MINI = se_viz.MINI_MODEL


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray runtime with 2 CPUs for the module, shut down afterwards."""
    from se_viz.datasets.ray_engine import ray_runtime

    with ray_runtime(num_cpus=2) as runtime:
        assert runtime.started and ray.cluster_resources()["CPU"] == 2
        yield runtime
    assert not ray.is_initialized()


def test_ray_engine_gives_the_local_rows_and_values(ray_local, tmp_path):
    from se_viz.datasets.ray_engine import run_ray

    folder = make_image_folder(tmp_path / "shapes")
    items = expand_inputs([folder])
    common = dict(model=MINI, batch_size=8, threads=1)
    local = run_local(CaptureJob(out=tmp_path / "local", workers=1, **common), items, progress=False)
    report = run_ray(CaptureJob(out=tmp_path / "ray", **common), items, progress=False)
    assert ray.is_initialized(), "the engine must not shut down a runtime it did not start"
    assert (report.written, report.total) == (len(items), len(items))
    assert local.errors == report.errors == len(BAD)
    a, b = open_gate_dataset(tmp_path / "local"), open_gate_dataset(tmp_path / "ray")
    rows_equal(a, b)
    assert sorted(a.errors["path"]) == sorted(b.errors["path"])
    manifest = json.loads((tmp_path / "ray" / "_manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["blocks"] == a.manifest["blocks"]
    # Ray wrote the same schema as the local engine, with the manifest in the Parquet metadata.
    assert b.dataset.schema.remove_metadata() == a.dataset.schema.remove_metadata()
    import pyarrow.parquet as pq

    part = json.loads(pq.read_schema(next((tmp_path / "ray").glob("*.parquet"))).metadata[b"se_viz.manifest"])
    assert part["engine"] == "ray" and part["model"]["id"] == MINI


def test_ray_folds_equal_the_local_threads(ray_local, tmp_path):
    """`se-viz summarize --engine ray`: blocks of part files folded on the workers, merged on the
    driver, the same numbers as the local threads (classes included)."""
    import pandas as pd

    from se_viz.datasets.aggregate import dataset_aggregates
    from se_viz.datasets.ray_aggregate import ray_aggregates

    job = CaptureJob(model=MINI, out=tmp_path / "g", batch_size=8, workers=0, threads=1, rows_per_part=5)
    run_local(job, expand_inputs([make_image_folder(tmp_path / "shapes")]), progress=False)
    ds = open_gate_dataset(tmp_path / "g")
    local = dataset_aggregates(ds, ds.labels, cache=False)
    remote = ray_aggregates(ds, ds.labels)
    pd.testing.assert_frame_equal(remote.summary(), local.summary(), atol=1e-9)
    for name, p in local.class_profiles().items():
        assert (remote.class_profiles()[name].std - p.std).max() < 1e-9


def test_a_model_actor_uses_its_nodes_cpus(ray_local):
    """Ray pins an actor's OpenMP threads to its one reserved CPU; the model actor takes its node's
    CPUs shared among the actors the node holds, as the local engine's model uses every core."""
    from se_viz.datasets.ray_engine import actor_threads

    @ray.remote(num_cpus=1)
    def threads(actors):
        return actor_threads(actors)

    assert ray.get([threads.remote(1), threads.remote(2), threads.remote(8)]) == [2, 1, 1]


def test_each_model_actor_decodes_its_own_batches(ray_local, tmp_path):
    """Decoding runs inside the model actors (Ray Data fuses the two maps), not as tasks: on a
    one-CPU node Ray's worker pool killed idle decoding workers after a second and restarted them,
    each importing torch again, and a second node captured at half one node's rate. Ray's task
    timeline names what each actor call ran."""
    import time

    from se_viz.datasets.ray_engine import actor_calls, run_ray

    started = time.time()
    items = expand_inputs([make_image_folder(tmp_path / "shapes")])
    run_ray(CaptureJob(model=MINI, out=tmp_path / "g", batch_size=4, threads=1), items, progress=False)
    calls = [e["cat"] for e in actor_calls(started, -(-len(items) // 4))]
    assert calls, "no model actor call in Ray's timeline"
    assert all("MapBatches(decode_batch)->MapBatches(CaptureActor)" in c for c in calls), set(calls)
    tasks = {
        e["cat"] for e in ray.timeline() if e["ts"] / 1e6 >= started and "_map_task" in e.get("name", "")
    }
    assert not any("decode_batch" in t for t in tasks), tasks


def test_a_one_cpu_node_runs_the_whole_capture(tmp_path):
    """`se-viz capture --engine ray --num-cpus 1` ends with every row written: a model actor
    (decoding its own batches) and a writing task fit one CPU (with 1 + 0.5 + 1 the run waited
    forever), so a cluster of one-CPU nodes gains an actor per node."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    folder = make_image_folder(tmp_path / "shapes")
    temp = tempfile.mkdtemp(prefix="sevr", dir="/tmp")  # its own Ray runtime, short socket paths
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "RAY_TMPDIR": temp, "PYTHONPATH": repo, "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    args = ["capture", str(folder), "--model", MINI, "--out", str(tmp_path / "g"), "--engine", "ray"]
    args += ["--num-cpus", "1", "--batch-size", "4", "--threads", "1", "--no-progress"]
    try:
        run = subprocess.run(
            [sys.executable, "-m", "se_viz.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert run.returncode == 0, run.stderr[-3000:]
    ds = open_gate_dataset(tmp_path / "g")
    assert len(ds) + len(ds.errors) == len(expand_inputs([folder])) and len(ds.errors) == len(BAD)
