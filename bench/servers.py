"""Server processes the benchmarks drive: the app under daphne (``bench.asgi``: ``config.asgi`` plus a
query counter) and the minimal websocket server. Started once per run, on ports from
``BENCH_PORT_BASE`` (default 8110), stopped by ``stop_all()`` (only the processes started here)."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from bench.harness import BASE_DIR, PORT_BASE, RESULTS_DIR, prepare_environment

HOST = "127.0.0.1"


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_mb(self) -> float | None:
        try:
            with open(f"/proc/{self.process.pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None


_running: dict[str, Server] = {}


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine, a listener is not
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server for {url} did not answer within {timeout}s")


def _start(name: str, port: int, command: list[str], probe_path: str, env: dict[str, str] | None) -> Server:
    if name in _running and _running[name].process.poll() is None:
        return _running[name]
    if not _port_free(port):
        raise RuntimeError(f"port {port} is in use; set BENCH_PORT_BASE to a free range")
    prepare_environment()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log = open(RESULTS_DIR / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
    process = subprocess.Popen(
        command,
        cwd=BASE_DIR,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(name, port, process)
    _running[name] = server
    _wait_http(f"http://{HOST}:{port}{probe_path}", process)
    return server


def daphne(*, name: str = "daphne", port_offset: int = 0, env: dict[str, str] | None = None) -> Server:
    """The app under daphne (one process, the way ``make run`` serves it)."""
    port = PORT_BASE + port_offset
    # As the Procfile runs it (--proxy-headers: the client address comes from X-Forwarded-For, which lets
    # the load generator present many buyers to the per-address rate limits).
    command = [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "--proxy-headers",
               "bench.asgi:application"]  # fmt: skip
    return _start(name, port, command, "/healthz", env)


def uvicorn(
    *, name: str = "uvicorn", port_offset: int = 5, env: dict[str, str] | None = None
) -> Server | None:
    """The same application under uvicorn, if it is installed (the HTTP server comparison)."""
    try:
        import uvicorn as _  # noqa: F401
    except ImportError:
        return None
    port = PORT_BASE + port_offset
    command = [sys.executable, "-m", "uvicorn", "--host", HOST, "--port", str(port), "--no-access-log",
               "--proxy-headers", "--log-level", "warning", "bench.asgi:application"]  # fmt: skip
    return _start(name, port, command, "/healthz", env)


def wsminimal() -> Server:
    port = PORT_BASE + 1
    return _start("wsminimal", port, [sys.executable, "-m", "bench.wsminimal", str(port)], "/", None)


def stop(name: str) -> None:
    server = _running.pop(name, None)
    if server is None or server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=5)


def stop_all() -> None:
    for name in list(_running):
        stop(name)


atexit.register(stop_all)
