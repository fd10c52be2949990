"""The Ray Data engine: the same capture job on one machine or on a Ray cluster.

Following Ray's "offline batch inference" recipe: the input paths become a dataset
(``ray.data.from_items``), decoding and preprocessing run as stateless tasks (``map_batches``
with a function), the hooked model runs in a pool of stateful actors (``map_batches`` with the
class :class:`CaptureActor`, built once per actor, and ``compute=ActorPoolStrategy(size=N)``),
and the rows are written with ``write_parquet`` in the same schema as the local engine; the
manifest goes next to them. Actors return plain CPU arrays (an Arrow table), never tensors.

Without an address the engine starts a local Ray runtime and shuts it down afterwards; with
``address`` (or ``RAY_ADDRESS``, as set by ``ray job submit``) it joins that cluster. Every
path must be readable from every node (a shared file system).
"""

from __future__ import annotations

import math
import os
import time
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
from timm.data import create_transform

from ..engine.capture import capture
from .decode import decode_item
from .job import CaptureJob, machine_cpus, torch_threads
from .local import CaptureReport
from .output import done_paths, prepare_output, write_errors_file
from .schema import manifest_schema, parquet_options, records_table
from .sources import ImageItem

__all__ = ["CaptureActor", "actor_calls", "actor_threads", "decode_batch", "ray_runtime", "run_ray"]

# `ray` itself is imported where it is used: importing it costs about 3 s (measured), which every
# `import se_viz.datasets` would otherwise pay without ever running the Ray engine.

# A model actor and a writing task reserve one CPU together, so a one-CPU node runs the whole
# pipeline (before, the actor took 1 CPU and writing Ray's default 1: a one-CPU node could not hold
# them). The shares only place work: the actor's torch threads follow its node's CPUs
# (actor_threads); 0.875 also keeps two actors off one node.
#
# Decoding asks for exactly the actor's share, so Ray Data fuses it into the actor (a task map
# followed by an actor map with the same resources runs as one operator): each actor decodes its
# own batches. Decoding as separate tasks cost a second node its gain: Ray's worker pool keeps
# about one idle worker per CPU and kills the others after a second idle, so on one-CPU nodes the
# decoding workers were killed between batches and restarted, each importing torch and timm
# again. Measured on the two-node one-CPU cluster (/tmp diagnosis, 480 images, 2026-12-05, quiet):
# decoding took 0.65 cores and restarting workers 0.46 while the two actors got 0.47 — 3.4
# images/s against 6.9 on one node; with Ray's idle-worker killing switched off 8.5.
WRITE_CPUS = 0.125
MODEL_CPUS = 1 - WRITE_CPUS
_TEXT = ("path", "label", "sha256", "error")
_INTS = ("index", "width", "height")


def decode_batch(batch: Mapping[str, np.ndarray], data_config: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Ray task: read, decode and preprocess a batch of paths into input arrays (N, 3, H, W).

    Unreadable images keep their row with ``error`` set and zero pixels; the actor skips them.
    """
    transform = create_transform(**dict(data_config), is_training=False)

    def preprocess(images):
        return torch.stack([transform(img.convert("RGB")) for img in images])

    shape = tuple(data_config["input_size"])
    records, pixels = [], []
    for index, path, label in zip(batch["index"], batch["path"], batch["label"], strict=True):
        label = None if label is None or (isinstance(label, float) and math.isnan(label)) else str(label)
        record, x = decode_item(int(index), ImageItem(str(path), label), preprocess)
        records.append(record)
        pixels.append(x.numpy() if x is not None else np.zeros(shape, dtype=np.float32))
    # Ray turns object columns holding None into floats (NaN): send "" / -1 for "none" instead.
    out = {k: np.array(["" if r[k] is None else r[k] for r in records]) for k in _TEXT}
    out.update({k: np.array([-1 if r[k] is None else r[k] for r in records], dtype=np.int64) for k in _INTS})
    out["pixels"] = np.stack(pixels)
    return out


def _int_or_none(value: Any) -> Optional[int]:
    return None if int(value) < 0 else int(value)


def actor_threads(actors: int) -> int:
    """torch threads of a model actor when the job sets none: its node's CPUs shared among the
    actors the node can hold, as the local engine's model uses every core.

    Ray sets ``OMP_NUM_THREADS`` to an actor's ``num_cpus`` (1 for a share below 2), so without
    this the model ran on one thread where the local engine ran on two: the Ray engine's 0.56×
    of the local engine's images/s on this 2-core machine (``se-viz bench --capture-throughput``,
    384 images)."""
    import ray

    here = ray.get_runtime_context().get_node_id()
    cpus = next((n["Resources"].get("CPU", 1) for n in ray.nodes() if n["NodeID"] == here), 1)
    cpus = max(1, int(cpus))
    return max(1, cpus // max(1, min(actors, cpus)))


class CaptureActor:
    """Ray actor: loads the model once (in ``__init__``) and captures each batch into Arrow rows."""

    def __init__(
        self,
        model: str,
        weights: Optional[str],
        pretrained: bool,
        manifest: Mapping[str, Any],
        threads: Optional[int] = None,
        actors: int = 1,
    ) -> None:
        from ..loading.load import load_model

        self.lm = load_model(model, weights=weights, pretrained=pretrained)
        order = [b["name"] for b in manifest["blocks"]]
        self.blocks = sorted(self.lm.blocks, key=lambda b: order.index(b.name))
        self.schema = manifest_schema(manifest)
        self.threads = threads or actor_threads(actors)

    def __call__(self, batch: Mapping[str, np.ndarray]):
        records = [
            {k: (str(batch[k][i]) or None) for k in _TEXT} | {k: _int_or_none(batch[k][i]) for k in _INTS}
            for i in range(len(batch["index"]))
        ]
        ok = [i for i, r in enumerate(records) if r["error"] is None]
        cap = None
        if ok:
            with torch_threads(self.threads):
                cap = capture(
                    self.lm.model,
                    torch.from_numpy(np.ascontiguousarray(batch["pixels"][ok])),
                    blocks=self.blocks,
                )
        return records_table(records, cap, self.schema)


def actor_calls(since: float, expected: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The model actors' batch calls started after ``since`` (epoch seconds), as events of Ray's
    task timeline (``ray.timeline()``: ``cat`` names what the call ran, ``ts`` and ``dur`` in µs).

    Workers report their task events about once a second: waits until ``expected`` calls are
    there, or ``timeout`` seconds, and returns what it has. Needs a connected driver."""
    import ray

    deadline = time.time() + timeout
    while True:
        calls = [
            e
            for e in ray.timeline()
            if "CaptureActor" in e.get("cat", "") and e.get("name") == "submit" and e["ts"] / 1e6 >= since
        ]
        if len(calls) >= expected or time.time() > deadline:
            return calls
        time.sleep(0.5)


class ray_runtime:
    """Context manager: join the cluster at ``address`` (or RAY_ADDRESS), or start a local runtime
    with the machine's CPUs (``num_cpus`` caps them); shut down only what it started."""

    def __init__(self, address: Optional[str] = None, num_cpus: Optional[int] = None) -> None:
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.num_cpus = machine_cpus(num_cpus)
        self.started = False

    def __enter__(self) -> "ray_runtime":
        import ray

        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False)
            self.started = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.started:
            import ray

            ray.shutdown()


def run_ray(
    job: CaptureJob, items: Sequence[ImageItem], progress: bool = True, lm: Optional[Any] = None
) -> CaptureReport:
    """Capture every item into the gate dataset at ``job.out`` with Ray Data.

    Starts (and afterwards stops) a local Ray runtime unless one is running or ``job.address``
    / RAY_ADDRESS names a cluster. ``job.actors`` model actors, ``job.batch_size`` images per
    batch; ``job.resume`` skips paths that already have a row. The output folder must be
    reachable from every node for a cluster run (a shared file system or a URI). ``lm``: the
    model, already loaded on the driver (for the manifest; loaded from ``job`` when None).
    """
    import ray

    started = time.perf_counter()
    lm = lm if lm is not None else job.load()
    with torch_threads(job.model_threads):
        manifest = job.manifest(lm, engine="ray")
    del lm  # the driver only needed it for the manifest; actors load their own copy
    prepare_output(job.out, manifest, job.resume)
    done = done_paths(job.out) if job.resume else set()
    rows = [
        {"index": i, "path": it.path, "label": it.label} for i, it in enumerate(items) if it.path not in done
    ]
    if rows:
        with ray_runtime(job.address, job.num_cpus):
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = progress
            ds = ray.data.from_items(rows, override_num_blocks=max(1, math.ceil(len(rows) / job.batch_size)))
            ds = ds.map_batches(
                decode_batch,
                batch_size=job.batch_size,
                batch_format="numpy",
                num_cpus=MODEL_CPUS,  # the actor's share: fused into it (see MODEL_CPUS)
                fn_kwargs={"data_config": manifest["preprocessing"]},
            )
            ds = ds.map_batches(
                CaptureActor,
                fn_constructor_kwargs={
                    "model": job.model,
                    "weights": str(job.weights) if job.weights else None,
                    "pretrained": job.pretrained,
                    "manifest": manifest,
                    "threads": job.model_threads,
                    "actors": job.actors,
                },
                compute=ray.data.ActorPoolStrategy(size=job.actors),
                num_cpus=MODEL_CPUS,
                batch_size=job.batch_size,
                batch_format="numpy",
            )
            schema = manifest_schema(manifest)  # exactly the local engine's schema, manifest included
            ds.write_parquet(
                str(job.out.resolve()),
                schema=schema,
                min_rows_per_file=job.rows_per_part,
                ray_remote_args={"num_cpus": WRITE_CPUS},
                **parquet_options(schema),
            )
    errors = write_errors_file(job.out)
    return CaptureReport(
        total=len(items),
        written=len(rows),
        skipped=len(items) - len(rows),
        errors=errors,
        seconds=time.perf_counter() - started,
    )
