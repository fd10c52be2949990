"""Real-browser fixtures: `streamlit run app.py` on a free localhost port, Debian's Chromium.

The server is started by the test and always stopped by its PID in the fixture teardown. The
browser is Debian's /usr/bin/chromium driven by Playwright (never `playwright install`). Without
the browser the tests skip with a reason — unless SE_VIZ_REQUIRE_BROWSER is set (CI), where
they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# One list of browser flags for the tests and the browser benchmark.
from se_viz.bench.browser import CHROMIUM, CHROMIUM_ARGS, stop_group

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 120


def _require_browser() -> None:
    missing = []
    if not Path(CHROMIUM).is_file():
        missing.append(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401  (only whether it imports matters)
    except ImportError:
        missing.append("the playwright Python package is not installed")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("SE_VIZ_REQUIRE_BROWSER"):
            pytest.fail(f"SE_VIZ_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` as a child process in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **env}
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = SERVER_START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            try:  # the pause between polls also notices a server that exits
                self.proc.wait(timeout=0.3)
            except subprocess.TimeoutExpired:
                pass
        raise RuntimeError(f"streamlit did not become healthy in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_group(self.proc)  # our own child's group, by its PID
        self._log.close()


def mini_bundled() -> bool:
    import se_viz

    entry = se_viz.catalog_entry(se_viz.MINI_MODEL)
    return bool(entry and entry.bundled_available)


@pytest.fixture(scope="session")
def mini_env(tmp_path_factory) -> dict[str, str]:
    """Env that starts the app with SE-ResNet mini: bundled weights, else an untrained checkpoint."""
    import se_viz

    if mini_bundled():
        return {"SE_VIZ_MODEL": se_viz.MINI_MODEL, "SE_VIZ_WEIGHTS": ""}
    from safetensors.torch import save_file

    path = tmp_path_factory.mktemp("mini") / "se_resnet_mini_untrained.safetensors"
    lm = se_viz.load_model(se_viz.MINI_MODEL, pretrained=False)
    save_file(lm.model.state_dict(), str(path))
    return {"SE_VIZ_MODEL": se_viz.MINI_MODEL, "SE_VIZ_WEIGHTS": str(path)}


def start_server(env: dict[str, str], tmp_path: Path) -> StreamlitServer:
    server = StreamlitServer(env, tmp_path / f"streamlit-{time.time_ns()}.log")
    try:
        server.wait_healthy()
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def app_server(tmp_path):
    """Start `streamlit run app.py` with extra env; every server started is stopped at teardown."""
    servers: list[StreamlitServer] = []

    def start(env: dict[str, str]) -> StreamlitServer:
        server = start_server(env, tmp_path)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def _servers(tmp_path_factory):
    """Servers shared by several tests (one per env), stopped at the end of the session."""
    started: dict[tuple, StreamlitServer] = {}
    folder = tmp_path_factory.mktemp("servers")

    def get(env: dict[str, str]) -> StreamlitServer:
        key = tuple(sorted(env.items()))
        if key not in started:
            started[key] = start_server(env, folder)
        return started[key]

    try:
        yield get
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def r50_server(browser, _servers, r50_checkpoint) -> StreamlitServer:
    """The app on the paper's SE-ResNet-50 architecture, untrained weights from a local file."""
    return _servers({"SE_VIZ_MODEL": "legacy_seresnet50.in1k", "SE_VIZ_WEIGHTS": str(r50_checkpoint)})


@pytest.fixture
def mini_server(browser, _servers, mini_env) -> StreamlitServer:
    """The app on SE-ResNet mini (bundled weights when present)."""
    return _servers(mini_env)


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots_dir(tmp_path) -> Path:
    """Where screenshots go: $SE_VIZ_SCREENSHOTS if set (README images), else the test's tmp dir."""
    target = os.environ.get("SE_VIZ_SCREENSHOTS")
    path = (ROOT / target) if target and not os.path.isabs(target) else Path(target or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path
