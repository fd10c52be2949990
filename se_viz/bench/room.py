"""Does one student's heavy run freeze the room? ``se-viz bench --room`` measures it in Chromium.

One server (``streamlit run app.py`` on the bundled mini model, a free port) and many browser
sessions, each a Playwright page of Debian's Chromium:

0. **warm-up** — ``sessions`` pages each upload one image, untimed: a session's first upload
   pays for its first script run and the server's first calls, which no phase should carry;
1. **idle** — the same pages each upload an image of their own (random pixels, so nothing is
   served from a cache) and time upload → the Predictions heading ("… — top-1: …");
2. **loaded** — one more page opens SE-ResNet-50 (untrained) by link, starts "Prune 0–90 % by
   every ranking" in the Channels tab and leaves it running; the same pages upload new images
   and are timed again while the study runs; then that page is closed (the study stops);
3. **crowd** — ``crowd`` fresh pages on the idle server, timed the same way.

Idle and loaded phases alternate in ``rounds`` rounds, in the order idle, loaded, then loaded,
idle (ABBA), so neither side gains from what ran before it (warm caches, a machine whose other
load drifts); each phase's times are pooled over the rounds. It prints the median and p95 of each
phase and the loaded/idle ratios (the bar of issue 27: the loaded median and p95 within 2× of
idle) with the machine's load average. Uploads of one phase go one after another, so each time is
one user's wait, not a queue of simultaneous clicks; timings on a shared machine vary between
runs, so compare the ratios of one run.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, TextIO

import numpy as np

from .browser import _chromium, _Server, click_and_settle, open_app

__all__ = ["RoomBenchResult", "run_room_bench"]

MINI_ENV = {"SE_VIZ_MODEL": "se_resnet_mini.synthetic", "SE_VIZ_WEIGHTS": ""}
R50_LINK = (
    "?model=legacy_seresnet50.in1k&weights=untrained&img=chelsea_cat.png&img=coffee_cup.png&tab=Channels"
)


@dataclass
class RoomBenchResult:
    """Seconds of upload → predictions per phase (one entry per session)."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    study_running: bool = True  # the study was still running whenever a loaded phase ended
    load: list[float] = field(default_factory=list)  # 1-minute load average after each phase

    def stat(self, phase: str) -> tuple[float, float]:
        """(median, p95) of a phase."""
        xs = sorted(self.seconds[phase])
        p95 = xs[min(len(xs) - 1, int(np.ceil(0.95 * len(xs))) - 1)]
        return float(statistics.median(xs)), float(p95)


def _png(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _upload(page, folder: Path, seed: int) -> float:
    """Upload one new image; seconds until its predictions are on the page."""
    import re

    path = folder / f"room_{seed}.png"
    path.write_bytes(_png(seed))
    t0 = time.perf_counter()
    page.set_input_files("input[type=file]", [str(path)])
    page.get_by_text(re.compile(rf"room_{seed}\.png — top-1:")).wait_for()
    return time.perf_counter() - t0


def _start_study(browser, url: str):
    import re

    context, page = open_app(browser, url + R50_LINK)
    page.get_by_role("tab", name="Channels", exact=True).wait_for()
    click_and_settle(page, page.get_by_text("pruning", exact=True).first)
    click_and_settle(page, page.get_by_role("button", name=re.compile("Prune 0–90 %")))
    page.get_by_role("button", name="Cancel").wait_for()
    return context, page


def run_room_bench(
    sessions: int = 10, crowd: int = 30, out: Optional[TextIO] = None, browser=None, rounds: int = 2
) -> RoomBenchResult:
    """Run the phases (module docstring) and print the table; returns the timings."""
    import sys

    out = out or sys.stdout
    result = RoomBenchResult()
    with tempfile.TemporaryDirectory(prefix="se_viz_room_") as tmp:
        folder = Path(tmp)
        server = _Server(MINI_ENV, None, folder / "streamlit.log")
        try:
            server.wait_healthy()
            with _chromium(browser) as chromium:
                pages = [open_app(chromium, server.url) for _ in range(sessions)]
                seed = 0
                for _context, page in pages:  # warm-up, untimed
                    seed += 1
                    _upload(page, folder, seed)
                result.seconds = {"idle": [], "loaded": []}
                for r in range(rounds):
                    for phase in ("idle", "loaded") if r % 2 == 0 else ("loaded", "idle"):
                        study = _start_study(chromium, server.url) if phase == "loaded" else None
                        for _context, page in pages:
                            seed += 1
                            result.seconds[phase].append(_upload(page, folder, seed))
                        if study is not None:
                            running = study[1].get_by_role("button", name="Cancel").count() > 0
                            result.study_running = result.study_running and running
                            study[0].close()  # its session ends: the study stops (issue 27.2)
                        result.load.append(os.getloadavg()[0])
                for context, _ in pages:
                    context.close()
                times = []
                opened = [open_app(chromium, server.url) for _ in range(crowd)]
                for _context, page in opened:
                    seed += 1
                    times.append(_upload(page, folder, seed))
                result.seconds[f"{crowd} sessions"] = times
                result.load.append(os.getloadavg()[0])
                for context, _ in opened:
                    context.close()
        finally:
            server.stop()
    _print(result, sessions, rounds, out)
    return result


def _print(result: RoomBenchResult, sessions: int, rounds: int, out: TextIO) -> None:
    idle = result.stat("idle")
    print(
        f"upload → predictions, mini model, {sessions} sessions, idle and loaded alternating in "
        f"{rounds} rounds (seconds; 1-min load average after each phase: "
        f"{', '.join(f'{x:.1f}' for x in result.load)})",
        file=out,
    )
    print("| phase | median | p95 | median / idle | p95 / idle |", file=out)
    print("| --- | ---: | ---: | ---: | ---: |", file=out)
    for phase in result.seconds:
        med, p95 = result.stat(phase)
        print(f"| {phase} | {med:.2f} | {p95:.2f} | {med / idle[0]:.2f} | {p95 / idle[1]:.2f} |", file=out)
    if not result.study_running:
        print("note: an SE-ResNet-50 study ended before its loaded phase did", file=out)


# ---------------------------------------------------------------------------------------------
# The cost said before the click, against the run


#: (model, pretrained, images, random repeats) of the pruning studies; bigger than the tests' (24
#: and 4 images), so the estimate is held to the sizes a class uses.
ESTIMATE_CASES = (
    ("se_resnet_mini.synthetic", True, 100, 5),
    ("se_resnet_mini.synthetic", True, 300, 5),
    ("legacy_seresnet50.in1k", False, 8, 2),
    ("legacy_seresnet50.in1k", False, 24, 2),
)
#: Images per class of the demonstration, per model (300 and 100 images).
DEMO_PER_CLASS = {"se_resnet_mini.synthetic": 30, "legacy_seresnet50.in1k": 10}
ESTIMATE_FRACTIONS = (0.0, 0.3, 0.6)


def timed_prune_study(
    lm, images: int, repeats: int, fractions, threads: int, max_rows: Optional[int] = None
) -> float:
    """Seconds of a real pruning study on random images, as the app's worker runs it (``threads``
    torch threads; rankings, then the curves, ``max_rows`` rows per rerun: default the library's):
    what an estimate is held against."""
    import torch

    import se_viz
    from se_viz.channels import prune_curves, standard_rankings

    batch = torch.rand(images, *lm.data_config["input_size"])
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        t0 = time.perf_counter()
        gates = se_viz.capture(lm.model, batch, blocks=lm.blocks).gates
        rankings = standard_rankings(lm.model, batch, lm.blocks, gates, repeats=repeats)
        rows = {} if max_rows is None else {"max_rows": max_rows}
        prune_curves(lm.model, batch, rankings, lm.blocks, fractions=fractions, **rows)
        return time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)


def timed_demo(lm, per_class: int, threads: int) -> float:
    """Seconds of the offline demonstration (:func:`se_viz.demo.gate_set.demo_gate_set`) with
    ``threads`` torch threads, as the app's worker runs it."""
    import torch

    from se_viz.demo.gate_set import demo_gate_set

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        t0 = time.perf_counter()
        demo_gate_set(lm, per_class=per_class)
        return time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)


def run_estimate_check(out: Optional[TextIO] = None, threads: int = 1) -> list[tuple[str, float, float]]:
    """For each case: calibrate, estimate a pruning study (:func:`se_viz.cost.prune_seconds`), then
    run it (rankings and :func:`~se_viz.channels.prune_curves`) with ``threads`` torch threads, as
    the app's worker does; then the same for the demonstration (:func:`se_viz.demo.gate_set.demo_seconds`)
    of each model. Prints and returns (run, estimated s, real s)."""
    import sys

    import torch

    import se_viz
    from se_viz import cost
    from se_viz.demo.gate_set import demo_seconds
    from se_viz.demo.synthetic import CLASSES
    from se_viz.ui.channel_views import APP_ROWS  # the app's rows per rerun: the run it promises

    out = out or sys.stdout
    rows = []
    models = {}
    for name, pretrained, images, repeats in ESTIMATE_CASES:
        lm = models.get(name) or se_viz.load_model(name, pretrained=pretrained)
        models[name] = lm
        size = lm.data_config["input_size"]
        costs = cost.calibrate(lm.model, size, lm.blocks, threads=threads)
        guess = cost.prune_seconds(
            lm.model,
            lm.blocks,
            costs,
            torch.zeros(1, *size),
            images=images,
            rankings=3 + repeats,
            fractions=ESTIMATE_FRACTIONS,
            max_rows=APP_ROWS,
        )
        real = timed_prune_study(lm, images, repeats, ESTIMATE_FRACTIONS, threads, APP_ROWS)
        rows.append((f"pruning, {lm.display_name}, {images} images, {repeats} random repeats", guess, real))
    for name, lm in models.items():
        per_class = DEMO_PER_CLASS[name]
        costs = cost.calibrate(lm.model, lm.data_config["input_size"], lm.blocks, threads=threads)
        guess = demo_seconds(lm, costs, per_class)
        real = timed_demo(lm, per_class, threads)
        images = per_class * len(CLASSES)
        rows.append((f"demonstration, {lm.display_name}, {images} images", guess, real))
    print(
        f"| run (load average {os.getloadavg()[0]:.1f}) | estimated (s) | real run (s) | estimate / real |",
        file=out,
    )
    print("| --- | ---: | ---: | ---: |", file=out)
    for label, guess, real in rows:
        print(f"| {label} | {guess:.1f} | {real:.1f} | {guess / real:.2f} |", file=out)
    return rows
