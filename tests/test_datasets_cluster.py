"""Cluster mode, really run: a two-node Ray cluster on this machine (`ray start --head`, then a
second node with `ray start --address`), `se-viz capture --engine ray --address` and
`se-viz summarize --engine ray --address` against it, and a killed-then-resumed Ray capture.

Each node is a `ray start --block` process in its own session (se_viz.bench.ray_cluster); the
fixture ends those sessions (and so only this test's Ray processes), also when a test fails.
Kept tiny (a few images of the bundled mini model): the Ray engine's fixed costs are seconds per
run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import se_viz
from se_viz.bench.ray_cluster import LocalRayCluster
from se_viz.datasets.reader import open_gate_dataset

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    """A head node and a worker node, one CPU each; yields (address, env)."""
    with LocalRayCluster(cpus=1) as c:
        c.add_node()
        yield c.address, c.env


def _cli(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "se_viz.cli", *args], env=env, capture_output=True, text=True, **kw
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """Ten small images in two class folders and one unreadable file: 11 inputs."""
    from PIL import Image

    from se_viz.demo.synthetic import generate

    root = tmp_path_factory.mktemp("cluster_images") / "shapes"
    pixels, _ = generate(10, seed=4)
    for i, arr in enumerate(pixels):
        folder = root / ("a" if i % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr).save(folder / f"img_{i:02d}.png")
    (root / "a" / "broken.png").write_bytes(b"not a png")
    return root


INPUTS = 11


def test_cluster_capture_killed_resumed_and_summarized(cluster, images, tmp_path):
    """`se-viz capture --engine ray --address` on the two-node cluster, killed mid-way and resumed,
    ends with exactly one row per image; `se-viz summarize --engine ray --address` then gives the
    local stream's numbers."""
    address, env = cluster
    out = tmp_path / "cluster.gates"
    args = ["capture", str(images), "--model", se_viz.MINI_MODEL, "--out", str(out), "--engine", "ray"]
    args += ["--address", address, "--batch-size", "2", "--rows-per-part", "2", "--threads", "1"]
    args += ["--no-progress"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "se_viz.cli", *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not list(out.glob("*.parquet")):
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed mid-way"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = open_gate_dataset(out)
    assert 0 < len(before) + len(before.errors) < INPUTS, "killed mid-way: some rows, not all"

    resumed = _cli([*args, "--resume"], env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    ds = open_gate_dataset(out)
    paths = ds.paths + ds.errors["path"].tolist()
    assert len(paths) == len(set(paths)) == INPUTS  # exactly one row per input
    assert len(ds.errors) == 1 and set(ds.labels) == {"a", "b"}

    ray_csv, local_csv = tmp_path / "ray.csv", tmp_path / "local.csv"
    summ = _cli(["summarize", str(out), "--engine", "ray", "--address", address, "--csv", str(ray_csv)], env)
    assert summ.returncode == 0, summ.stderr[-3000:]
    assert _cli(["summarize", str(out), "--no-cache", "--csv", str(local_csv)], env).returncode == 0
    a, b = pd.read_csv(local_csv), pd.read_csv(ray_csv)
    pd.testing.assert_frame_equal(a, b, rtol=1e-6, atol=1e-9)
    assert np.isfinite(a["specificity"]).all() and (a["images"] == len(ds)).all()


def test_the_nodes_benchmark_times_each_run_from_rays_timeline():
    """`se-viz bench --capture-nodes`, tiny: one node, two, one again, each run split into its
    start-up and its steady rate by the model actors' calls in Ray's task timeline (parts of the
    job's default size, not one per batch). No bar here: rates at this size are start-up."""
    import re

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("RAY_ADDRESS", None)
    args = ["bench", "--capture-nodes", "--model", se_viz.MINI_MODEL, "--images", "48", "--batch-size", "8"]
    run = _cli(args, env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    runs = re.findall(
        r"^(1 node, 1 actor|2 nodes, 2 actors) +([\d.]+) images/s overall, "
        r"first batch captured after +([\d.]+) s, then +([\d.]+) images/s",
        run.stdout,
        re.M,
    )
    assert [r[0] for r in runs] == ["1 node, 1 actor", "2 nodes, 2 actors", "1 node, 1 actor"], run.stdout
    for _, overall, first, steady in runs:
        # The steady rate leaves the start-up out, so it is at least the overall rate.
        assert float(first) > 0 and float(steady) >= float(overall) > 0
    assert re.search(r"two nodes / one node: [\d.]+x overall, [\d.]+x after the first batch", run.stdout)
