"""Baselines, measured in every run on the same servers as the app (``Report.baseline(name, **params)``).

- ``pgbench_hot_row``: one conditional UPDATE on one row (``reserved + 1 <= quantity``), the floor a
  hot-tier purchase is compared with.
- ``pgbench_spread``: the same UPDATE over 10 000 rows (no hot spot: the server's commit rate).
- ``pgbench_skip_locked``: claim one of 64 slot rows with ``FOR UPDATE SKIP LOCKED`` and update it.
- ``pgbench_join_insert``: INSERT one row into a table with a unique (room, token) key and an ordering
  index, the shape of a waiting-room join.
- ``http_trivial``: ``GET /healthz`` on the app under daphne (same middleware, no database).
- ``ws_minimal``: the minimal asyncio websocket server broadcasting to the same number of watchers.

pgbench runs against its own database (``virtualq_bench_pgbench``) on the app's PostgreSQL server,
with the connection parameters from Django settings, the simple query protocol (like the app), and
``-l`` per-transaction logs for percentiles.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import harness, loadgen, servers

PGBENCH_SCRIPTS = {
    "hot_row": (
        "UPDATE bench_tier SET reserved = reserved + 1 WHERE id = 1 AND sold + reserved + 1 <= quantity;\n"
    ),
    "spread": (
        "\\set id random(1, 10000)\n"
        "UPDATE bench_tier SET reserved = reserved + 1 WHERE id = :id AND sold + reserved + 1 <= quantity;\n"
    ),
    "skip_locked": (
        "BEGIN;\n"
        "SELECT id AS slot_id FROM bench_slot WHERE held_until IS NULL OR held_until < now() "
        "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED \\gset\n"
        "UPDATE bench_slot SET claims = claims + 1, held_until = NULL WHERE id = :slot_id;\n"
        "COMMIT;\n"
    ),
    "join_insert": (
        "INSERT INTO bench_entry (room_id, token) "
        "VALUES (1, md5(random()::text || clock_timestamp()::text));\n"
    ),
}

PGBENCH_SCHEMA = """
DROP TABLE IF EXISTS bench_tier, bench_slot, bench_entry;
CREATE TABLE bench_tier (
    id integer PRIMARY KEY,
    quantity integer NOT NULL,
    sold integer NOT NULL DEFAULT 0,
    reserved integer NOT NULL DEFAULT 0,
    CONSTRAINT bench_tier_never_oversold CHECK (sold + reserved <= quantity)
);
INSERT INTO bench_tier (id, quantity) SELECT g, 2000000000 FROM generate_series(1, 10000) AS g;
CREATE TABLE bench_slot (
    id integer PRIMARY KEY,
    held_until timestamptz,
    claims bigint NOT NULL DEFAULT 0
);
INSERT INTO bench_slot (id) SELECT g FROM generate_series(1, 64) AS g;
CREATE TABLE bench_entry (
    id bigserial PRIMARY KEY,
    room_id integer NOT NULL,
    token text NOT NULL,
    joined_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bench_entry_room_token_unique UNIQUE (room_id, token)
);
CREATE INDEX bench_entry_room_order ON bench_entry (room_id, id);
VACUUM ANALYZE;
"""

_pgbench_ready = {"done": False}


def pgbench_binary() -> str:
    """The pgbench matching the server: the embedded pgserver's, else the system's."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    try:
        import pgserver

        candidate = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("pgbench")
    if not found:
        raise RuntimeError("pgbench not found (install postgresql-client or pgserver)")
    return found


def _pgbench_env() -> tuple[list[str], dict[str, str]]:
    dsn = harness.admin_dsn()
    args = ["-U", dsn["user"]]
    if "host" in dsn:
        args += ["-h", dsn["host"]]
    if "port" in dsn:
        args += ["-p", dsn["port"]]
    env = dict(os.environ)
    if "password" in dsn:
        env["PGPASSWORD"] = dsn["password"]
    return args, env


def _prepare_pgbench() -> None:
    if _pgbench_ready["done"]:
        return
    import psycopg

    harness.setup_django()
    harness.recreate_database(harness.PGBENCH_DATABASE)
    dsn = {**harness.admin_dsn(), "dbname": harness.PGBENCH_DATABASE}
    with psycopg.connect(**dsn, autocommit=True) as conn:
        for statement in PGBENCH_SCHEMA.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    _pgbench_ready["done"] = True


def pgbench(script: str, *, clients: int, seconds: float | None = None) -> dict:
    """Run one pgbench script; tps and latency percentiles from the per-transaction log."""
    _prepare_pgbench()
    seconds = int(round(seconds or harness.duration(10)))
    conn_args, env = _pgbench_env()
    with tempfile.TemporaryDirectory(prefix="vq-pgbench-") as tmp:
        script_path = Path(tmp) / f"{script}.sql"
        script_path.write_text(PGBENCH_SCRIPTS[script])
        command = [
            pgbench_binary(), "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 2)),
            "-T", str(seconds), "-f", str(script_path), "-l", f"--log-prefix={tmp}/log",
            *conn_args, harness.PGBENCH_DATABASE,
        ]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench {script} failed: {completed.stderr.strip()[-500:]}")
        latencies = []
        for log in glob.glob(f"{tmp}/log.*"):
            with open(log) as handle:
                for line in handle:
                    fields = line.split()
                    if len(fields) >= 3 and fields[2].isdigit():
                        latencies.append(int(fields[2]) / 1_000_000)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", completed.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", completed.stdout)
    return {
        "ops_per_second": round(float(tps.group(1)), 1) if tps else None,
        "clients": clients,
        "failed_transactions": int(failed.group(1)) if failed else 0,
        "transactions": len(latencies),
        **harness.latency_summary(latencies),
        "script": PGBENCH_SCRIPTS[script].strip(),
    }


def pgbench_hot_row(*, clients: int) -> dict:
    return pgbench("hot_row", clients=clients)


def pgbench_spread(*, clients: int) -> dict:
    return pgbench("spread", clients=clients)


def pgbench_skip_locked(*, clients: int) -> dict:
    return pgbench("skip_locked", clients=clients)


def pgbench_join_insert(*, clients: int) -> dict:
    return pgbench("join_insert", clients=clients)


def _healthz_request(number, iteration, context):
    return "GET", "/healthz", {}, b""


def http_trivial(*, concurrency: int, server: str = "daphne") -> dict:
    """``GET /healthz`` (Django, full middleware stack, no database) under the given ASGI server."""
    target = servers.daphne() if server == "daphne" else servers.uvicorn()
    if target is None:
        return {"ops_per_second": None, "skipped": f"{server} is not installed"}
    # A short warm-up so first-request costs (imports, URL resolver) are not measured.
    loadgen.http_load(servers.HOST, target.port, _healthz_request, concurrency=concurrency, seconds=1)
    result = loadgen.http_load(
        servers.HOST, target.port, _healthz_request, concurrency=concurrency, seconds=harness.duration(10)
    )
    return {
        "ops_per_second": round(result.rate(), 1),
        "concurrency": concurrency,
        "statuses": {str(status): count for status, count in result.statuses.items()},
        "failures": dict(result.failures),
        **harness.latency_summary(result.latencies),
    }


async def _ws_minimal(watchers: int, rounds: int) -> dict:
    server = servers.wsminimal()

    async def factory(number):
        return await loadgen.WebSocket.connect(servers.HOST, server.port, "/ws/watch")

    started = time.monotonic()
    sockets, failures = await loadgen.connect_many(factory, watchers)
    connect_seconds = time.monotonic() - started
    controller = await factory(-1)
    group = loadgen.Watchers(sockets)
    latencies, delivered, expected = [], 0, 0
    for number in range(rounds):

        async def trigger(number=number):
            await controller.send("broadcast " + json.dumps({"round": number, "waiting": 1000 + number}))

        outcome = await group.round(trigger)
        latencies += outcome["latencies"]
        delivered += outcome["delivered"]
        expected += outcome["expected"]
        await asyncio.sleep(0.05)
    await group.close()
    await controller.close()
    return {
        "watchers": watchers,
        "connected": len(sockets),
        "connect_failures": dict(failures),
        "connect_seconds": round(connect_seconds, 2),
        "rounds": rounds,
        "delivered": delivered,
        "expected": expected,
        **harness.latency_summary(latencies),
    }


def ws_minimal(*, watchers: int, rounds: int = 20) -> dict:
    return asyncio.run(_ws_minimal(watchers, rounds))


BASELINES = {
    "pgbench_hot_row": pgbench_hot_row,
    "pgbench_spread": pgbench_spread,
    "pgbench_skip_locked": pgbench_skip_locked,
    "pgbench_join_insert": pgbench_join_insert,
    "http_trivial": http_trivial,
    "ws_minimal": ws_minimal,
}
