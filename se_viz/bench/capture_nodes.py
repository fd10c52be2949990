"""What one more Ray node gives ``se-viz capture --engine ray``: images/s on one one-CPU node
against two one-CPU nodes, in one run.

A real cluster (:class:`~.ray_cluster.LocalRayCluster`): a head node of one CPU; the Ray engine
captures the same generated JPEGs with one model actor; a second one-CPU node joins and the same
capture runs with two actors (one per node: an actor, decoding its own batches, and a writing task
fill a node's one CPU, :data:`~se_viz.datasets.ray_engine.MODEL_CPUS`); the second node leaves and
the one-node run is repeated. The one-node rate is the mean over its two runs, so a load that
drifts steadily during the run weighs on both sides of the ratio. Each run's time includes the
actors' start-up (model load on every node), as a user's run does; the actors' calls in Ray's task
timeline split it from the steady rate. The job writes parts of the default size
(``rows_per_part``): parts of one batch each started a Ray worker per part, which Ray's worker
pool kills again after a second idle on a one-CPU node (see
:data:`~se_viz.datasets.ray_engine.MODEL_CPUS`).

On a machine whose cores are shared by the nodes and the driver (the project's 2-core one),
"two nodes" are two more Ray processes on the same cores, not twice the hardware: the gain
measured there is a floor on what a separate machine adds.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, TextIO

from ..datasets.job import CaptureJob
from ..datasets.sources import expand_inputs
from ..loading.load import load_model
from .capture_throughput import write_bench_images
from .ray_cluster import LocalRayCluster

__all__ = ["NodesResult", "Run", "run_capture_nodes_bench"]


@dataclass
class Run:
    """One Ray capture: images/s over the whole run (what a user waits for), the seconds until
    the first batch was captured (Ray's and the actors' start-up) and the images/s from then on
    (the rate a long capture runs at), from the model actors' calls in Ray's task timeline."""

    images_per_second: float
    first_batch_s: float
    steady: float

    def line(self, what: str) -> str:
        return (
            f"{what:<20} {self.images_per_second:6.2f} images/s overall, first batch captured after "
            f"{self.first_batch_s:5.1f} s, then {self.steady:6.2f} images/s"
        )


@dataclass
class NodesResult:
    """The Ray capture on one node (two runs: before and after the two-node one) and on two."""

    images: int
    one_node: tuple[Run, Run]
    two_nodes: Run

    def gain(self, rate: str = "images_per_second") -> float:
        """Two nodes' ``rate`` over one node's (mean of its runs): 2.0 would be perfect scaling."""
        one = sum(getattr(r, rate) for r in self.one_node) / len(self.one_node)
        return getattr(self.two_nodes, rate) / one


def _capture(job: CaptureJob, items, lm, address: str, actors: int, out: Path) -> Run:
    from ..datasets.ray_engine import actor_calls, ray_runtime, run_ray

    with ray_runtime(address):  # the driver stays connected to read the timeline afterwards
        started = time.time()
        report = run_ray(replace(job, out=out, address=address, actors=actors), items, progress=False, lm=lm)
        if report.written != len(items) or report.errors:
            raise RuntimeError(f"the Ray capture wrote {report.written} of {len(items)} rows")
        batches = math.ceil(len(items) / job.batch_size)
        ends = sorted((e["ts"] + e["dur"]) / 1e6 for e in actor_calls(started, batches))
    if len(ends) < batches:
        raise RuntimeError(f"Ray's timeline shows {len(ends)} of {batches} actor batches")
    first = ends[0]
    span = ends[-1] - first
    rest = len(items) - min(job.batch_size, len(items))
    return Run(report.images_per_second, first - started, rest / span if span > 0 else float("nan"))


def run_capture_nodes_bench(
    model_name: str = "legacy_seresnet50",
    images: int = 160,
    batch_size: int = 16,
    out: Optional[TextIO] = None,
) -> NodesResult:
    """Measure the Ray capture on one one-CPU node, on two, and on one again; print and return."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="se_viz_nodes_") as tmp:
        root = Path(tmp)
        write_bench_images(root / "images", images)
        items = expand_inputs([root / "images"])
        lm = load_model(model_name, pretrained=False)
        job = CaptureJob(
            model=model_name,
            out=root / "unused",
            pretrained=False,
            batch_size=batch_size,
        )
        print(
            f"se-viz bench --capture-nodes: {lm.name} (untrained), {len(items)} JPEGs 320x240, "
            f"batch {batch_size}; Ray nodes of 1 CPU each on this machine ({os.cpu_count()} cores); "
            f"load average at the start {_load()}",
            file=out,
            flush=True,
        )
        # The cluster opts out of token authentication (LocalRayCluster): so does this driver.
        os.environ["RAY_AUTH_MODE"] = "disabled"
        # A benchmark stopped with SIGTERM (or run in the background, where SIGINT is ignored)
        # still stops its cluster's nodes: SIGTERM unwinds through the `with` below.
        signal.signal(signal.SIGTERM, _exit_on_term)
        with LocalRayCluster(cpus=1) as cluster:
            first = _capture(job, items, lm, cluster.address, 1, root / "one-a")
            print(first.line("1 node, 1 actor"), file=out, flush=True)
            cluster.add_node()
            two = _capture(job, items, lm, cluster.address, 2, root / "two")
            print(two.line("2 nodes, 2 actors"), file=out, flush=True)
            cluster.stop_node()
            again = _capture(job, items, lm, cluster.address, 1, root / "one-b")
            print(again.line("1 node, 1 actor"), file=out, flush=True)
    result = NodesResult(images=len(items), one_node=(first, again), two_nodes=two)
    overall, steady = result.gain(), result.gain("steady")
    print(
        f"two nodes / one node: {overall:.2f}x overall, {steady:.2f}x after the first batch "
        f"(load average at the end {_load()})",
        file=out,
    )
    return result


def _exit_on_term(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())
