"""Throughput of ``se-viz capture``: a plain timm inference loop vs the local engine vs Ray.

All three run in one process on the same generated JPEGs with the same DataLoader, batch size,
worker count and torch threads, in the order plain, local, Ray, local, plain (plain and local
images/s are over both of their runs), so the ratios compare like with like even while the
load of a shared machine drifts (absolute images/s on a shared machine mean little). The plain
loop decodes and runs the model and keeps nothing; the local engine also hooks, converts and
writes Parquet; the Ray engine runs the same job through Ray Data on a local runtime started
before its clock starts (model actor start-up and the driver's model load are inside its time).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, TextIO

import torch
from PIL import Image

from ..datasets.job import CaptureJob, torch_threads
from ..datasets.local import image_loader, run_local
from ..datasets.sources import expand_inputs
from ..demo.synthetic import generate
from ..loading.load import load_model

__all__ = ["LOCAL_TARGET", "RAY_TARGET", "ThroughputResult", "run_capture_bench", "write_bench_images"]

LOCAL_TARGET = 0.90  # capture local / plain loop
RAY_TARGET = 0.70  # Ray engine / local engine


@dataclass
class ThroughputResult:
    """Images/s of the three paths and the two ratios the issue sets targets for."""

    images: int
    plain: float
    local: float
    ray: Optional[float]
    bytes_per_image: float

    @property
    def local_ratio(self) -> float:
        """Local engine images/s over the plain loop's (target >= 0.90)."""
        return self.local / self.plain

    @property
    def ray_ratio(self) -> Optional[float]:
        """Ray engine images/s over the local engine's (target >= 0.70)."""
        return None if self.ray is None else self.ray / self.local


def write_bench_images(folder: Path, n: int, size: tuple[int, int] = (320, 240), seed: int = 0) -> list[Path]:
    """``n`` JPEGs of the synthetic task, upscaled to ``size`` (ImageNet-like decode cost)."""
    folder.mkdir(parents=True, exist_ok=True)
    images, _ = generate(n, seed=seed)
    paths = []
    for i, arr in enumerate(images):
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(arr).resize(size, Image.BILINEAR).save(path, quality=90)
        paths.append(path)
    return paths


def _plain_loop(lm, items, batch_size: int, workers: int, threads: Optional[int]) -> float:
    started = time.perf_counter()
    with torch_threads(threads), torch.inference_mode():
        for _records, x in image_loader(list(enumerate(items)), lm, batch_size, workers):
            if x is not None:
                lm.model(x)
    return time.perf_counter() - started


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.parquet"))


def run_capture_bench(
    model_name: str = "legacy_seresnet50",
    images: int = 200,
    batch_size: int = 16,
    workers: int = 2,
    actors: int = 1,
    threads: Optional[int] = None,
    ray: bool = True,
    out: Optional[TextIO] = None,
) -> ThroughputResult:
    """Measure plain loop and local engine twice, and (with ``ray``) the Ray engine once; print and return."""
    out = out or sys.stdout
    with tempfile.TemporaryDirectory(prefix="se_viz_bench_") as tmp:
        root = Path(tmp)
        write_bench_images(root / "images", images)
        items = expand_inputs([root / "images"])
        lm = load_model(model_name, pretrained=False)
        print(
            f"se-viz bench --capture-throughput: {lm.name} (untrained, {len(lm.blocks)} SE blocks), "
            f"{len(items)} JPEGs 320x240 -> {tuple(lm.data_config['input_size'])}, batch {batch_size}, "
            f"{workers} decoding workers, torch threads {threads or torch.get_num_threads()}",
            file=out,
        )
        job = CaptureJob(
            model=model_name,
            out=root / "local",
            pretrained=False,
            batch_size=batch_size,
            workers=workers,
            threads=threads,
            actors=actors,
        )
        # plain, local, [Ray,] local, plain: a load that drifts steadily during the run weighs on
        # both local and plain equally, and on Ray as on the mean of the two local runs.
        plain_s = _plain_loop(lm, items, batch_size, workers, threads)
        local_s = run_local(job, items, lm=lm, progress=False).seconds
        ray_ips = None
        if ray:
            from ..datasets.ray_engine import ray_runtime, run_ray

            with ray_runtime():
                report = run_ray(replace(job, out=root / "ray"), items, progress=False, lm=lm)
                ray_ips = report.images_per_second
        local_s += run_local(replace(job, out=root / "local2"), items, lm=lm, progress=False).seconds
        plain_s += _plain_loop(lm, items, batch_size, workers, threads)
        result = ThroughputResult(
            images=len(items),
            plain=2 * len(items) / plain_s,
            local=2 * len(items) / local_s,
            ray=ray_ips,
            bytes_per_image=_folder_bytes(root / "local") / len(items),
        )
    print(f"{'path':<22} {'images/s':>9} {'ratio':>7} {'target':>7} {'ok':>3}", file=out)
    print(f"{'plain timm loop':<22} {result.plain:>9.2f}", file=out)
    ok = "yes" if result.local_ratio >= LOCAL_TARGET else "NO"
    print(
        f"{'capture, local engine':<22} {result.local:>9.2f} {result.local_ratio:>7.3f} "
        f"{LOCAL_TARGET:>7.2f} {ok:>3}",
        file=out,
    )
    if result.ray is not None:
        ok = "yes" if result.ray_ratio >= RAY_TARGET else "NO"
        print(
            f"{'capture, Ray engine':<22} {result.ray:>9.2f} {result.ray_ratio:>7.3f} "
            f"{RAY_TARGET:>7.2f} {ok:>3}",
            file=out,
        )
    print(
        f"local ratio = local / plain, Ray ratio = Ray / local; "
        f"output {result.bytes_per_image / 1024:.1f} KiB "
        f"per image (float32, Parquet)",
        file=out,
    )
    return result
