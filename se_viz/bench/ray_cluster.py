"""A real Ray cluster of one-CPU nodes on this machine, for the benchmarks and the cluster tests.

Each node is a ``ray start --block`` process in a session of its own, with the cluster's own
temporary folder (``RAY_TMPDIR``, short: Ray's socket paths have a length limit) and a free head
port, so it never meets another Ray runtime on the machine; :meth:`LocalRayCluster.stop_node`
and :meth:`LocalRayCluster.close` end those sessions by their process ids, and only them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

__all__ = ["LocalRayCluster"]

RAY = str(Path(sys.executable).parent / "ray")
_REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRayCluster:
    """A head node and any number of worker nodes, ``cpus`` CPUs each, all on 127.0.0.1.

    Use as a context manager: ``with LocalRayCluster() as cluster: cluster.add_node()``; on exit
    every node it started is stopped (also after an error) and its temporary folder removed."""

    def __init__(self, cpus: int = 1) -> None:
        self.cpus = cpus
        self.tmp = tempfile.mkdtemp(prefix="sevr", dir="/tmp")
        self.address = f"127.0.0.1:{_free_port()}"
        pythonpath = os.pathsep.join(p for p in (str(_REPO), os.environ.get("PYTHONPATH", "")) if p)
        # Token authentication (on by default for `ray start` in Ray 2.5x) needs a token shared by
        # every node and client; a throw-away cluster on 127.0.0.1 opts out, as Ray suggests.
        self.env = {
            **os.environ,
            "RAY_TMPDIR": self.tmp,
            "PYTHONPATH": pythonpath,
            "HF_HUB_OFFLINE": "1",
            "RAY_AUTH_MODE": "disabled",
        }
        self.nodes: list[subprocess.Popen] = []

    def __enter__(self) -> "LocalRayCluster":
        try:
            port = self.address.rsplit(":", 1)[1]
            # Ray's job server listens even without the dashboard: on a free port, not 8265.
            self._start(
                ["--head", "--port", port, "--include-dashboard=false", "--dashboard-port", str(_free_port())]
            )
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _common(self) -> list[str]:
        return ["--node-ip-address", "127.0.0.1", "--num-cpus", str(self.cpus), "--disable-usage-stats"]

    def _start(self, args: list[str]) -> None:
        cmd = [RAY, "start", *args, *self._common(), "--block"]
        self.nodes.append(
            subprocess.Popen(cmd, env=self.env, start_new_session=True, stdout=subprocess.DEVNULL)
        )
        self.wait_for_nodes(len(self.nodes))

    def add_node(self) -> None:
        """Start one more worker node and wait until the cluster counts it."""
        self._start(["--address", self.address])

    def stop_node(self) -> None:
        """Stop the newest worker node and wait until the cluster no longer counts it."""
        if len(self.nodes) < 2:
            raise ValueError("only the head node is left")
        _stop([self.nodes.pop()])
        self.wait_for_nodes(len(self.nodes))

    def close(self) -> None:
        """Stop every node this cluster started, newest first, and remove its temporary folder."""
        _stop(list(reversed(self.nodes)))
        self.nodes.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_for_nodes(self, n: int, timeout: float = 120) -> None:
        """Block until the cluster has exactly ``n`` live nodes and ``n × cpus`` CPUs."""
        probe = (
            "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); "
            "print(sum(1 for x in ray.nodes() if x['Alive']), int(ray.cluster_resources().get('CPU', 0)))"
        )
        want = [str(n), str(n * self.cpus)]
        deadline = time.monotonic() + timeout
        r: Optional[subprocess.CompletedProcess] = None
        while time.monotonic() < deadline:
            r = subprocess.run(
                [sys.executable, "-c", probe, self.address], env=self.env, capture_output=True, text=True
            )
            if r.returncode == 0 and r.stdout.split()[:2] == want:
                return
            time.sleep(1)
        raise TimeoutError(
            f"the Ray cluster at {self.address} did not reach {n} node(s): {r.stderr[-1500:] if r else ''}"
        )


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each node's session, then SIGKILL what is still there after 5 s."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 20)):
        for p in procs:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(p.poll() is None for p in procs):
            time.sleep(0.2)
