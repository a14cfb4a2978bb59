"""The benchmark harness: one report per run, baselines measured on demand in the same run, load runners.

Rules this module enforces:
- Every figure is a ratio against a baseline measured in the same run on the same servers
  (``Report.baseline(name, **params)`` measures it once and caches it); nothing asserts a timing.
- Correctness invariants (no oversell, no duplicates, 100 % delivery, O(1) queries) are recorded with
  ``Report.invariant``; one failure makes the run exit non-zero after the report is written.
- Benchmarks use their own database (``virtualq_bench`` on the app's PostgreSQL server, recreated and
  migrated per run by ``bench.run``), never the developer's data; pgbench uses
  ``virtualq_bench_pgbench``.

A benchmark is a module ``bench/<name>.py`` with ``run(report)`` (and optionally ``ORDER``, an int that
sorts modules, and ``QUICK_OK = False`` to skip it under ``BENCH_QUICK=1``). Run one alone with
``python -m bench.<name>`` (which calls ``harness.main(run)``).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "virtualq_bench")
PGBENCH_DATABASE = os.environ.get("BENCH_PGBENCH_DATABASE", "virtualq_bench_pgbench")
# Client counts shared by a benchmark and its baseline ("at the same client count").
APP_CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
HTTP_CONCURRENCY = int(os.environ.get("BENCH_HTTP_CONCURRENCY", "16"))
WATCHERS = int(os.environ.get("BENCH_WATCHERS", "200" if os.environ.get("BENCH_QUICK") == "1" else "2000"))
# Ports this harness may use (daphne, the minimal websocket server); overridable per machine.
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "8110"))


def quick() -> bool:
    """``BENCH_QUICK=1``: a smoke run (short durations, small sizes); the figures are not meaningful."""
    return os.environ.get("BENCH_QUICK", "0") == "1"


def soak() -> bool:
    return os.environ.get("SOAK", "0") == "1"


def duration(seconds: float) -> float:
    """A measuring window: ``seconds`` normally, much shorter under ``BENCH_QUICK``."""
    return max(1.0, seconds / 5) if quick() else seconds


# --- environment ----------------------------------------------------------------------------------


def bench_database_url() -> str:
    """``DATABASE_URL`` with the database name swapped for the benchmark database."""
    from urllib.parse import urlsplit, urlunsplit

    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    base = os.environ.get("DATABASE_URL")
    if not base:
        from config.embedded import ensure_postgres

        base = ensure_postgres()
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + BENCH_DATABASE, parts.query, parts.fragment))


def prepare_environment() -> None:
    """Point this process (and the servers it starts) at the benchmark database. Idempotent."""
    if os.environ.get("VQ_BENCH_ENV") == "1":
        return
    from config.embedded import service_env

    services = service_env()  # starts the embedded servers when the URLs are unset
    os.environ.setdefault("REDIS_URL", services["REDIS_URL"])
    os.environ["VQ_APP_DATABASE_URL"] = services["DATABASE_URL"]
    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("VQ_FAST_PASSWORD_HASHER", "1")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["VQ_BENCH_ENV"] = "1"


def setup_django() -> None:
    prepare_environment()
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def admin_dsn() -> dict[str, Any]:
    """libpq parameters of the app's PostgreSQL server (from Django settings), for the ``postgres`` DB."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {"dbname": "postgres", "user": db.get("USER") or "postgres"}
    if db.get("HOST"):
        params["host"] = db["HOST"]
    if db.get("PORT"):
        params["port"] = str(db["PORT"])
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    return params


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(**admin_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare_bench_database() -> None:
    """A fresh, migrated benchmark database (a few seconds; keeps every run comparable)."""
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    recreate_database(BENCH_DATABASE)
    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()


# --- statistics -----------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def latency_summary(seconds: list[float]) -> dict[str, float | None]:
    """Milliseconds: p50/p95/p99/max/mean of ``seconds``."""
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    ms = [value * 1000 for value in seconds]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or not base:
        return None
    return round(value / base, 3)


# --- the report -----------------------------------------------------------------------------------


@dataclass
class Report:
    started_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    host: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, dict] = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)
    ratios: list[dict] = field(default_factory=list)
    invariants: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    _baseline_functions: dict[str, Callable] = field(default_factory=dict, repr=False)

    # baselines ------------------------------------------------------------------------------------
    def baseline(self, name: str, **params) -> dict:
        """Measure baseline ``name`` with ``params`` once per run (see ``bench.baselines``)."""
        key = name + "".join(f"|{k}={params[k]}" for k in sorted(params))
        if key not in self.baselines:
            if not self._baseline_functions:
                from bench import baselines

                self._baseline_functions.update(baselines.BASELINES)
            started = time.monotonic()
            print(f"   baseline {key} …", flush=True)
            measured = self._baseline_functions[name](**params)
            measured["name"] = name
            measured["params"] = params
            measured["seconds"] = round(time.monotonic() - started, 1)
            self.baselines[key] = measured
        return self.baselines[key]

    # results --------------------------------------------------------------------------------------
    def result(self, name: str, **data) -> dict:
        self.results[name] = {**self.results.get(name, {}), **data}
        return self.results[name]

    def compare(
        self,
        name: str,
        *,
        value: float | None,
        baseline: float | None,
        baseline_name: str,
        target: str,
        unit: str = "ops/s",
        meets: bool | None = None,
        note: str = "",
    ) -> dict:
        """Record ``value / baseline`` with the issue's target (text) and whether it is reached."""
        row = {
            "name": name,
            "value": None if value is None else round(value, 3),
            "unit": unit,
            "baseline": baseline_name,
            "baseline_value": None if baseline is None else round(baseline, 3),
            "ratio": ratio(value, baseline),
            "target": target,
            "meets_target": meets,
            "note": note,
        }
        self.ratios.append(row)
        return row

    def invariant(self, name: str, ok: bool, detail: str = "") -> bool:
        """A correctness invariant: a failure fails the run (after the report is written)."""
        self.invariants.append({"name": name, "ok": bool(ok), "detail": detail})
        mark = "ok  " if ok else "FAIL"
        print(f"   invariant {mark} {name} {detail}", flush=True)
        return bool(ok)

    def error(self, bench: str, error: BaseException) -> None:
        self.errors.append({"bench": bench, "error": repr(error), "traceback": traceback.format_exc()})

    @property
    def failed(self) -> bool:
        return any(not item["ok"] for item in self.invariants) or bool(self.errors)

    def as_dict(self) -> dict:
        return {
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "mode": "quick" if quick() else ("soak" if soak() else "full"),
            "host": self.host,
            "baselines": self.baselines,
            "results": self.results,
            "ratios": self.ratios,
            "invariants": self.invariants,
            "errors": self.errors,
            "ok": not self.failed,
        }

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamp = self.started_at.replace(":", "").replace("-", "")
        path = RESULTS_DIR / f"report-{stamp}.json"
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")
        return path

    def table(self) -> str:
        lines = [f"{'baseline':44} {'ops/s':>12} {'p99 ms':>12}"]
        for key, item in self.baselines.items():
            rate = item.get("ops_per_second")
            p99 = item.get("p99_ms")
            rate_text = "-" if rate is None else f"{rate:.1f}"
            p99_text = "-" if p99 is None else f"{p99:.1f}"
            lines.append(f"{key[:44]:44} {rate_text:>12} {p99_text:>12}")
        lines.append("")
        lines.append(f"{'benchmark':44} {'value':>12} {'baseline':>12} {'ratio':>7}  target")
        for row in self.ratios:
            value = "-" if row["value"] is None else f"{row['value']:.1f}"
            base = "-" if row["baseline_value"] is None else f"{row['baseline_value']:.1f}"
            rat = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
            mark = {True: "met", False: "NOT met", None: ""}[row["meets_target"]]
            lines.append(f"{row['name'][:44]:44} {value:>12} {base:>12} {rat:>7}  {row['target']} {mark}")
        failed = [item for item in self.invariants if not item["ok"]]
        lines.append(
            f"invariants: {len(self.invariants) - len(failed)}/{len(self.invariants)} held"
            + "".join(f"\n  FAILED {item['name']}: {item['detail']}" for item in failed)
        )
        for item in self.errors:
            lines.append(f"  ERROR in {item['bench']}: {item['error']}")
        return "\n".join(lines)


# --- host facts -----------------------------------------------------------------------------------


def host_facts() -> dict[str, Any]:
    setup_django()
    from django.conf import settings
    from django.db import connection

    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        facts["memory_mb"] = pages * page_size // (1024 * 1024)
    except (ValueError, OSError):
        facts["memory_mb"] = None
    try:
        facts["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        facts["git_dirty"] = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=BASE_DIR,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        facts["git_commit"] = None
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        facts["postgresql"] = cursor.fetchone()[0]
        for setting in ("max_connections", "shared_buffers", "synchronous_commit", "fsync"):
            cursor.execute(f"SHOW {setting}")
            facts[f"pg_{setting}"] = cursor.fetchone()[0]
    connection.close()
    facts["database"] = (
        "embedded (pgserver)" if "%2F" in os.environ.get("VQ_APP_DATABASE_URL", "") else "DATABASE_URL"
    )
    try:
        import redis

        info = redis.Redis.from_url(settings.REDIS_URL).info("server")
        facts["redis"] = info.get("redis_version")
    except Exception as error:  # noqa: BLE001
        facts["redis"] = f"unavailable: {error.__class__.__name__}"
    facts["db_pool_max_size"] = os.environ.get("DB_POOL_MAX_SIZE", "0")
    return facts


# --- load runners ---------------------------------------------------------------------------------


@dataclass
class LoadResult:
    clients: int
    seconds: float
    outcomes: Counter
    latencies: list[float]

    @property
    def ok(self) -> int:
        return self.outcomes.get("ok", 0)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "ok_per_second": round(self.throughput, 1),
            "outcomes": dict(self.outcomes),
            **latency_summary(self.latencies),
        }


def _resolve(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def _run_threads(
    op_path: str, context: Any, threads: int, first_client: int, seconds: float, close_per_op: bool, barrier
) -> tuple[Counter, list[float], float, float]:
    """Run ``threads`` clients calling ``op(context, client, iteration)`` for ``seconds``."""
    from django.db import connections

    from core.errors import DomainError

    op = _resolve(op_path)
    outcomes: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    start_barrier = threading.Barrier(threads + 1)
    window: dict[str, float] = {}

    def client(number: int) -> None:
        local_outcomes: Counter = Counter()
        local_latencies: list[float] = []
        start_barrier.wait()
        deadline = window["start"] + seconds
        iteration = 0
        try:
            while time.monotonic() < deadline:
                began = time.monotonic()
                try:
                    outcome = op(context, number, iteration) or "ok"
                except DomainError as error:
                    outcome = error.__class__.__name__
                except Exception as error:  # noqa: BLE001 - counted and reported, never hidden
                    outcome = "exception:" + error.__class__.__name__
                    if local_outcomes[outcome] == 0:
                        traceback.print_exc()
                finally:
                    if close_per_op:
                        connections.close_all()
                local_outcomes[outcome] += 1
                if outcome == "ok":
                    local_latencies.append(time.monotonic() - began)
                iteration += 1
        finally:
            connections.close_all()
            with lock:
                outcomes.update(local_outcomes)
                latencies.extend(local_latencies)

    workers = [threading.Thread(target=client, args=(first_client + n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    if barrier is not None:
        barrier.wait()  # every process is ready: start together
    window["start"] = time.monotonic()
    start_barrier.wait()
    for worker in workers:
        worker.join()
    return outcomes, latencies, window["start"], time.monotonic()


def _process_main(op_path, context, threads, first_client, seconds, close_per_op, barrier, queue) -> None:
    setup_django()
    try:
        outcomes, latencies, start, end = _run_threads(
            op_path, context, threads, first_client, seconds, close_per_op, barrier
        )
        queue.put((dict(outcomes), latencies, end - start))
    except BaseException as error:  # noqa: BLE001
        traceback.print_exc()
        queue.put(({"exception:" + error.__class__.__name__: 1}, [], 0.0))


def run_load(
    op_path: str,
    *,
    clients: int,
    seconds: float,
    context: Any = None,
    processes: int = 1,
    close_per_op: bool = False,
    env: dict[str, str] | None = None,
) -> LoadResult:
    """Call ``op(context, client, iteration)`` (``"module:function"``) from ``clients`` threads for
    ``seconds``. ``processes > 1`` spreads the threads over fresh processes (each with ``env``), so the
    client side is not one GIL. ``op`` returns None/"ok" or an outcome name; DomainErrors are outcomes."""
    if processes <= 1 and not env:
        setup_django()
        outcomes, latencies, start, end = _run_threads(
            op_path, context, clients, 0, seconds, close_per_op, None
        )
        return LoadResult(clients, end - start, outcomes, latencies)
    processes = max(1, min(processes, clients))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes)
    queue = ctx.Queue()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        children = []
        first = 0
        for index in range(processes):
            threads = clients // processes + (1 if index < clients % processes else 0)
            child = ctx.Process(
                target=_process_main,
                args=(op_path, context, threads, first, seconds, close_per_op, barrier, queue),
                daemon=True,
            )
            first += threads
            child.start()
            children.append(child)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    outcomes: Counter = Counter()
    latencies: list[float] = []
    elapsed = 0.0
    for _ in children:
        child_outcomes, child_latencies, child_elapsed = queue.get(timeout=seconds + 300)
        outcomes.update(child_outcomes)
        latencies.extend(child_latencies)
        elapsed = max(elapsed, child_elapsed)
    for child in children:
        child.join(timeout=30)
    return LoadResult(clients, elapsed, outcomes, latencies)


# --- running one module alone ---------------------------------------------------------------------


def main(run: Callable[[Report], None], *, fresh_database: bool = True) -> None:
    """``python -m bench.<name>``: a fresh benchmark database, this module only, a report, the table."""
    prepare_environment()
    if fresh_database:
        prepare_bench_database()
    report = Report(host=host_facts())
    try:
        run(report)
    except Exception as error:  # noqa: BLE001
        traceback.print_exc()
        report.error(getattr(run, "__module__", "?"), error)
    finally:
        from bench import servers

        servers.stop_all()
    path = report.write()
    print(report.table())
    print(f"report: {path.relative_to(BASE_DIR)}")
    sys.exit(1 if report.failed else 0)
