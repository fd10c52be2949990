"""Long runs state their cost and stop when asked (issue 27.1–2): the estimate is checked against
a real run, and a cancelled run stops within about two seconds with the model left clean."""

from __future__ import annotations

import threading
import time

import pytest
import torch

import se_viz
from se_viz import cost
from se_viz.bench.room import timed_prune_study
from se_viz.channels import prune_curves, standard_rankings
from se_viz.channels.faithfulness import faithfulness_curves
from se_viz.runs import Cancelled, RunControl, release_memory

THREADS = 1  # the worker of the app's heavy runs has one torch thread (se_viz.ui.runner)


def _study(lm, images: int, repeats: int, fractions, threads: int = THREADS) -> float:
    """Seconds of a real pruning study, as the app runs it (rankings, then the curves)."""
    return timed_prune_study(lm, images, repeats, fractions, threads)


@pytest.mark.parametrize("which", ["mini", "r50"])
def test_the_estimate_of_a_pruning_study_is_within_2x_of_the_real_run(which, legacy_r50):
    lm = legacy_r50 if which == "r50" else se_viz.load_model(se_viz.MINI_MODEL)
    images, repeats, fractions = (4, 1, (0.0, 0.5)) if which == "r50" else (24, 2, (0.0, 0.3, 0.6))
    size = lm.data_config["input_size"]
    costs = cost.calibrate(lm.model, size, lm.blocks, threads=THREADS)
    probe = torch.rand(1, *size)
    guess = cost.prune_seconds(
        lm.model, lm.blocks, costs, probe, images=images, rankings=3 + repeats, fractions=fractions
    )
    real = _study(lm, images, repeats, fractions)
    assert real / 2 <= guess <= real * 2, f"{which}: estimated {guess:.2f} s, the run took {real:.2f} s"


def test_the_estimate_of_faithfulness_curves_is_within_2x(legacy_r50):
    lm = se_viz.load_model(se_viz.MINI_MODEL)
    size = lm.data_config["input_size"]
    costs = cost.calibrate(lm.model, size, lm.blocks, threads=THREADS)
    batch = torch.rand(16, *size)
    guess = cost.faithfulness_seconds(
        lm.model, lm.blocks, costs, batch[:1], images=16, rankings=4, block=None, steps=6
    )
    torch.set_num_threads(THREADS)
    try:
        t0 = time.perf_counter()
        gates = se_viz.capture(lm.model, batch, blocks=lm.blocks).gates
        rankings = standard_rankings(lm.model, batch, lm.blocks, gates, repeats=1)
        faithfulness_curves(lm.model, batch, rankings, lm.blocks, block=None, steps=6)
        real = time.perf_counter() - t0
    finally:
        torch.set_num_threads(2)
    assert real / 2 <= guess <= real * 2, f"estimated {guess:.2f} s, the run took {real:.2f} s"


def test_a_cancelled_study_stops_within_two_seconds_and_leaves_the_model_clean(legacy_r50):
    lm = legacy_r50
    batch = torch.rand(8, *lm.data_config["input_size"])
    gates = se_viz.capture(lm.model, batch, blocks=lm.blocks).gates
    control = RunControl()
    rankings = standard_rankings(lm.model, batch, lm.blocks, gates, repeats=5, progress=control.progress)
    failure: list[BaseException] = []
    stopped = threading.Event()

    def run() -> None:
        try:
            with control.inside(lm.model):  # as the app runs it: checks before every convolution
                prune_curves(lm.model, batch, rankings, lm.blocks, progress=control.progress, max_rows=64)
        except BaseException as exc:  # the test reads what ended the run
            failure.append(exc)
        finally:
            stopped.set()

    worker = threading.Thread(target=run)
    worker.start()
    while control.done < 3:  # the study is under way (a few steps of the chain done)
        time.sleep(0.05)
    t0 = time.perf_counter()
    control.cancel("its user cancelled it")
    assert stopped.wait(30)
    took = time.perf_counter() - t0
    worker.join()
    assert failure and isinstance(failure[0], Cancelled), failure
    assert "its user cancelled it" in str(failure[0])
    assert took < 2.5, f"the run stopped {took:.1f} s after the cancel"
    # No hook is left on the model, and its lock is free: a capture right after gives the same gates.
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in lm.model.modules())
    again = se_viz.capture(lm.model, batch, blocks=lm.blocks).gates
    assert all((again[b] == gates[b]).all() for b in gates)
    release_memory()


def test_a_run_stops_when_its_watcher_says_so():
    """``should_stop`` is how the app ends the run of a closed page: the reason travels along."""
    gone = {"closed": False}
    control = RunControl(should_stop=lambda: "the page was closed" if gone["closed"] else None)
    control.progress(1, 10, "step")
    gone["closed"] = True
    time.sleep(RunControl.ASK_EVERY)  # the watcher is asked at most every ASK_EVERY seconds
    with pytest.raises(Cancelled, match="the page was closed"):
        control.progress(2, 10, "step")
    assert control.cancelled and control.fraction == 0.2
