"""The app's heavy runs: one worker behind a bounded queue, one run per session, ended with it.

A class shares one laptop. A pruning study on SE-ResNet-50 takes minutes and gigabytes; run in
the script thread it would hold a core per student, keep computing after the page is closed and
offer no way to stop. Here every heavy run (:func:`run_button`) goes to **one** worker thread:

* the worker has ``WORKER_THREADS`` torch threads (one core of two is left to interactive work:
  uploads, tab changes) and a lower scheduling priority (nice +10, Linux threads only);
* runs wait in a queue of at most ``MAX_WAITING``; a session has at most one run — a newer run
  replaces its older one, which is cancelled;
* a run stops at its next step (:class:`~se_viz.runs.RunControl`) when its user clicks Cancel,
  when its browser session ends (the page was closed: Streamlit's runtime no longer counts the
  session as active) or when it is replaced; afterwards its memory is handed back
  (:func:`~se_viz.runs.release_memory`);
* the page is not blocked while a run waits or works: a fragment polls the run once a second and
  reruns the app when the result is in the result store;
* a run works in the language of the session that asked for it (its context is copied at submit
  and the worker runs the job inside it), so its progress words are the reader's.

The library never sees Streamlit: a run is ``compute(control) -> result``, where ``control`` is
the progress callback the library's loops already accept.
"""

from __future__ import annotations

import collections
import contextvars
import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import streamlit as st
import torch

from se_viz import LoadedModel, cost
from se_viz.i18n import _
from se_viz.runs import Cancelled, RunControl, release_memory

from .cache import ResultKey, held, keep, process_wide
from .common import served
from .language import session_fragment

__all__ = [
    "WORKER_THREADS",
    "HeavyRuns",
    "Job",
    "heavy_runs",
    "measured_costs",
    "probe",
    "run_button",
    "say_cost",
    "say_seconds",
]

log = logging.getLogger(__name__)

#: Torch threads of the worker: every core but one, so interactive work always has a core.
WORKER_THREADS = max(1, (os.cpu_count() or 2) - 1)
MAX_WAITING = 6
#: A read a view cannot do without starts by itself when its estimate is at most this; a longer one
#: says its cost and waits for the click.
AUTO_START_SECONDS = 10.0
NICE = 10
POLL_SECONDS = 1.0
SWITCH_SECONDS = 0.0005

#: The worker's name in the operating system (``top -H``, /proc/PID/task/*/comm).
THREAD_NAME = "se-viz-heavy"

WAITING, RUNNING, DONE, FAILED, CANCELLED = "waiting", "running", "done", "failed", "cancelled"


@dataclass(eq=False)
class Job:
    """One heavy run of one session: what it computes, under which result key, and how far it is."""

    session: str
    key: ResultKey
    label: str
    compute: Optional[Callable[[RunControl], Any]]
    estimate: Optional[float]  # seconds, measured per model (se_viz.cost); None when unknown
    control: RunControl
    size: str = ""  # what it covers, in words ("300 images")
    state: str = WAITING
    message: str = ""  # why it stopped or failed, for the user
    ended: threading.Event = field(default_factory=threading.Event)
    #: The submitting session's context (its language): the worker runs the job inside it.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    delivered: bool = False  # a result handed over once per click (run_button's each_click) was


def _name_thread(name: str) -> None:
    """Name the calling thread for the operating system (Linux; elsewhere nothing happens), so an
    operator sees which thread is the heavy one."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.prctl(15, name.encode()[:15], 0, 0, 0)  # 15 = PR_SET_NAME
    except (OSError, AttributeError):
        pass


class Busy(Exception):
    """The queue is full; the sentence says what to do."""


class HeavyRuns:
    """The queue and its one worker thread (started with the first run)."""

    def __init__(self, alive: Callable[[str], bool], keep: Callable[[ResultKey, Any], Any]) -> None:
        self._alive = alive
        self._keep = keep  # where a finished run's result goes (ui/cache.keep)
        self._queue: collections.deque[Job] = collections.deque()
        self._current: dict[str, Job] = {}
        self._cond = threading.Condition()
        self._worker: Optional[threading.Thread] = None

    def submit(
        self,
        session: str,
        key: ResultKey,
        label: str,
        compute: Callable[[RunControl], Any],
        estimate: Optional[float] = None,
        size: str = "",
    ) -> Job:
        """Queue a run for ``session``; its older run (if any) is cancelled. Raises :class:`Busy`."""
        control = RunControl(should_stop=lambda: None if self._alive(session) else _("the page was closed"))
        job = Job(session, key, label, compute, estimate, control, size)
        with self._cond:
            waiting = [j for j in self._queue if j.session != session]
            if len(waiting) >= MAX_WAITING:
                raise Busy(
                    _(
                        "{n} long runs are already waiting on this server. Try again in a minute, or "
                        "choose fewer images."
                    ).format(n=len(waiting))
                )
            old = self._current.get(session)
            if old is not None and old.state in (WAITING, RUNNING):
                old.control.cancel(_("a newer run replaced it"))
            self._current[session] = job
            self._queue.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="se-viz-heavy-runs", daemon=True)
                self._worker.start()
            self._cond.notify()
        return job

    def current(self, session: str) -> Optional[Job]:
        """The session's latest run (waiting, running or ended)."""
        with self._cond:
            return self._current.get(session)

    def cancel(self, session: str, reason: Optional[str] = None) -> None:
        """Stop the session's run at its next step (or before it starts)."""
        job = self.current(session)
        if job is not None and job.state in (WAITING, RUNNING):
            job.control.cancel(reason or _("you cancelled it"))

    def ahead(self, job: Job) -> int:
        """How many runs will go before ``job`` (0 once it runs)."""
        with self._cond:
            live = [j for j in self._queue if not j.control.cancelled]
            return live.index(job) if job in live else 0

    def _next(self) -> Job:
        with self._cond:
            while not self._queue:
                self._cond.wait()
            return self._queue[0]

    def _work(self) -> None:
        # The worker and the sessions' scripts share one interpreter lock. A study on few images
        # runs many small tensor operations, each taking the lock; a session waiting for the lock
        # waits out the switch interval (5 ms by default) at every hand-over, which made uploads
        # 6.7x slower during a study (se-viz bench --room). A short interval hands it over sooner.
        sys.setswitchinterval(SWITCH_SECONDS)
        _name_thread(THREAD_NAME)
        torch.set_num_threads(WORKER_THREADS)  # per thread under OpenMP: the app's own threads keep theirs
        torch.get_num_threads()  # fixes it for this thread now: torch reads the process-wide value lazily
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        except (AttributeError, OSError):  # not Linux, or not allowed: the thread count still holds
            pass
        while True:
            job = self._next()
            try:
                job.context.run(self._run, job)
            finally:
                with self._cond:
                    self._queue.popleft()
                job.compute = None  # the run's tensors and images go with it
                release_memory()
                job.ended.set()

    def _run(self, job: Job) -> None:
        try:
            job.control.check()  # cancelled while waiting, or its page is gone
            job.state = RUNNING
            assert job.compute is not None
            result = job.compute(job.control)
            self._keep(job.key, result)
            job.state = DONE
        except Cancelled as exc:
            job.state, job.message = CANCELLED, str(exc)
        except Exception:
            log.exception("heavy run %s failed", job.label)
            job.state = FAILED
            job.message = _(
                "The run failed with these images and settings. Try fewer images or other settings; "
                "the details are in the server's log."
            )


def _session_alive(session: str) -> bool:
    from streamlit import runtime

    if not served():  # no server, no page that could be closed
        return True
    return runtime.get_instance().is_active_session(session)


def heavy_runs() -> HeavyRuns:
    """The process-wide queue of heavy runs."""
    return process_wide("heavy runs", lambda: HeavyRuns(_session_alive, keep))


def _session() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no session"


def measured_costs(lm: LoadedModel) -> cost.StepCosts:
    """This model's measured speed on this server, with the worker's thread count (once per model)."""
    with st.spinner(_("Measuring how fast this model runs on this server (once per model) …")):
        return cost.calibrate(lm.model, lm.data_config["input_size"], lm.blocks, WORKER_THREADS)


def probe(lm: LoadedModel) -> torch.Tensor:
    """One blank input of the model's size: what the cost estimate plans the reruns with."""
    return torch.zeros(1, *lm.data_config["input_size"])


def say_seconds(seconds: float) -> str:
    """ "about 40 s", "about 3 min" — an estimate, said as one."""
    if seconds < 90:
        return _("about {s} s").format(s=max(1, round(seconds)))
    return _("about {m} min").format(m=round(seconds / 60))


@session_fragment(run_every=POLL_SECONDS)
def _watch(session: str, key: ResultKey) -> None:
    runs = heavy_runs()
    job = runs.current(session)
    if job is None or job.key != key:
        return
    if job.state in (DONE, FAILED, CANCELLED):
        st.rerun()  # the whole page: the result (or the message) is drawn where it belongs
    if job.size:
        st.caption(say_cost(job.size, job.estimate))
    row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    with row:
        if job.state == WAITING:
            st.info(
                _("{run}: waiting for {n} run(s) of other users to finish …").format(
                    run=job.label, n=runs.ahead(job)
                ),
                icon=":material/schedule:",
            )
        else:
            c = job.control
            step = _("{stage}: {what}").format(stage=c.stage, what=c.what) if c.what else c.stage
            if job.estimate:
                text = _("{run} — {step} ({s} s of {estimate})").format(
                    run=job.label, step=step, s=f"{c.elapsed:.0f}", estimate=say_seconds(job.estimate)
                )
            else:
                text = _("{run} — {step} ({s} s)").format(run=job.label, step=step, s=f"{c.elapsed:.0f}")
            st.progress(c.fraction, text=text)
        st.button(
            _("Cancel"),
            key=f"cancel_{abs(hash(key))}",
            icon=":material/stop:",
            on_click=runs.cancel,
            args=(session, _("you cancelled it")),
        )


def say_cost(size: str, estimate: Optional[float]) -> str:
    """What a run will cost, said before it starts: "300 images: about 4 s on this server"."""
    if estimate is None:
        return size
    return _("{size}: {estimate} on this server").format(size=size, estimate=say_seconds(estimate))


def run_button(
    key: ResultKey,
    label: str,
    button: str,
    compute: Callable[[RunControl], Any],
    estimate: Optional[float] = None,
    size: str = "",
    *,
    each_click: bool = False,
    icon: str = ":material/play_arrow:",
    primary: bool = True,
    start: bool = False,
) -> Optional[Any]:
    """A heavy result: from the store, or queued by a button that states its cost first.

    ``size`` says what the run covers ("60 images × 8 rankings × 10 fractions"); ``estimate`` its
    measured seconds. While the run waits or works, its progress and a Cancel button are shown
    (the rest of the page stays usable); when it ends, the page shows the result.

    ``each_click``: the result is handed over once per click, on the run after it is ready (a set
    the caller keeps in its session, such as the demonstration's), not on every run; a result
    already held (another user made it) is handed over at the click without running again.
    ``start``: queue the run without waiting for a click (a read the view cannot do without) when its
    estimate is at most :data:`AUTO_START_SECONDS`, unless this session already has a run under
    way or cancelled this one: otherwise the button says the cost and waits. While it waits and
    runs, its size and estimate stay on the page above its progress.
    """
    runs, session = heavy_runs(), _session()
    job = runs.current(session)
    mine = job is not None and job.key == key
    done = held(key)
    if done is not None and not each_click:
        return done
    if mine and job.state in (WAITING, RUNNING):
        _watch(session, key)
        return None
    if mine and job.state == DONE and each_click and not job.delivered:
        job.delivered = True
        return done
    if mine and job.state in (FAILED, CANCELLED) and job.message:
        st.warning(job.message, icon=":material/info:")
    busy = job is not None and job.state in (WAITING, RUNNING)  # another run of this session
    short = estimate is not None and estimate <= AUTO_START_SECONDS
    if not (start and short and not mine and not busy):
        said = say_cost(size, estimate)
        row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
        clicked = row.button(label, type="primary" if primary else "secondary", key=button, icon=icon)
        if said:
            row.caption(_("{cost} (you can cancel it)").format(cost=said))
        if not clicked:
            return None
    if done is not None:  # each_click, and someone already made it: nothing to run
        return done
    try:
        job = runs.submit(session, key, label, compute, estimate, size)
    except Busy as exc:
        st.warning(str(exc), icon=":material/hourglass_top:")
        return None
    if not served():  # a script run without a server has no page to poll: wait for the run
        job.ended.wait()
        job.delivered = True
        if job.state != DONE:
            st.warning(job.message, icon=":material/info:")
        return held(key)
    _watch(session, key)
    return None
