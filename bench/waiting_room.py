"""The waiting room: join throughput over HTTP and the position lookup at 100 000 waiting.

1. Join over HTTP (daphne, full middleware: sessions, CSRF, messages, rate limits) at 1, 8 and 32
   concurrent clients, next to ``GET /healthz`` (the trivial Django view) on the same server at the same
   concurrency in the same run. One join is the verified-email path a real person takes: POST the
   emailed (signed) link → customer upsert by email → entry (sequence number, partial unique index) →
   302 to the place page. Every client presents its own address (``X-Forwarded-For``) and every join a
   fresh email, as an on-sale's crowd does. Invariants: zero 5xx, one entry per 302, distinct numbers.
   Target (DESIGN): no single-row hot spot — joins/s grow with clients until the database's commit rate.
2. Position lookup with 1 000 and with 100 000 people waiting (same run): ``selectors.ahead_count``
   (checkpoints + a short index-only count, ``waitingroom.positions``) for random entries uniform over
   the line, interleaved with a trivial indexed query (``Tenant`` by slug). Targets: p95 @100 000 ≤ 1.5 ×
   p95 @1 000 (the cost does not grow with the line), p95 < 20 ms.

Run alone: ``python bench/waiting_room.py`` (or ``python -m bench.waiting_room``).
"""

from __future__ import annotations

import random
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

if __name__ == "__main__":
    ROOT = Path(__file__).resolve().parent.parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from bench import _ticketing, harness, loadgen, servers  # noqa: E402

ORDER = 32
CONCURRENCIES = (1, 8, 32)
WAITING = 100_000
SMALL_LINE = 1_000
FORM = "application/x-www-form-urlencoded"


def _csrf_cookie(response: loadgen.Response) -> str:
    for cookie in response.headers.get("set-cookie", "").split("\n"):
        if cookie.startswith("csrftoken="):
            return cookie.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no CSRF cookie on the waiting-room page (status {response.status})")


def make_join_op(sale: dict, run_tag: str):
    from core.signing import sign
    from waitingroom.views import JOIN_SALT

    tenant, event_slug, event_id = sale["tenant_slug"], sale["event_slug"], sale["event_id"]
    room_path = f"/{tenant}/e/{event_slug}/waiting-room/"

    async def prepare(conn: loadgen.HttpConnection, number: int) -> dict:
        response = await conn.request("GET", room_path, headers={"X-Forwarded-For": f"10.201.0.{number + 1}"})
        return {"csrf": _csrf_cookie(response)}

    async def op(conn: loadgen.HttpConnection, number: int, iteration: int, context: dict) -> str:
        csrf = context["csrf"]
        email = f"{run_tag}-{number}-{iteration}@bench.test"
        signed = sign({"ev": event_id, "email": email, "name": ""}, salt=JOIN_SALT)
        response = await conn.request(
            "POST",
            f"{room_path}join/{signed}/",
            headers={
                "Cookie": f"csrftoken={csrf}",
                "Content-Type": FORM,
                "X-Forwarded-For": f"10.{number % 250}.{iteration // 250 % 250}.{iteration % 250 + 1}",
            },
            body=urlencode({"csrfmiddlewaretoken": csrf}).encode(),
        )
        if response.status >= 500:
            return "5xx"
        if response.status != 302 or "/line/" not in response.headers.get("location", ""):
            return f"join_{response.status}"
        return "ok"

    return prepare, op


def _room_sale(label: str) -> dict:
    from tenants.models import Tenant
    from ticketing.models import Event
    from waitingroom import services

    sale = _ticketing.make_sale(label=label, tiers=1, checkout_limit=5)
    tenant = Tenant.objects.get(pk=sale["tenant_id"])
    event = Event.objects.get(pk=sale["event_id"])
    services.waiting_room_configure(tenant=tenant, actor=None, event=event, prequeue_shuffle=False)
    return sale


def join_throughput(report: harness.Report) -> None:
    from waitingroom.models import WaitingRoomEntry

    for concurrency in CONCURRENCIES:
        trivial = report.baseline("http_trivial", concurrency=concurrency)
        sale = _room_sale(f"wrjoin{concurrency}")
        server = servers.daphne()
        prepare, op = make_join_op(sale, secrets.token_hex(3))
        result = loadgen.http_session_load(
            servers.HOST,
            server.port,
            op,
            concurrency=concurrency,
            seconds=harness.duration(10),
            prepare=prepare,
        )
        joins = result.outcomes.get("ok", 0)
        rate = joins / result.seconds if result.seconds else 0.0
        numbers = list(
            WaitingRoomEntry.objects.filter(event_id=sale["event_id"]).values_list("number", flat=True)
        )
        summary = {
            "concurrency": concurrency,
            "seconds": round(result.seconds, 2),
            "joins_per_second": round(rate, 1),
            "outcomes": dict(result.outcomes),
            "statuses": {str(status): count for status, count in result.statuses.items()},
            "join_latency": harness.latency_summary(result.latencies),
        }
        report.result(f"waiting_room_join@{concurrency}", **summary)
        print(f"   {summary}", flush=True)
        report.invariant(
            f"waiting-room join @{concurrency}: zero 5xx", result.server_errors == 0, str(summary["statuses"])
        )
        report.invariant(
            f"waiting-room join @{concurrency}: one entry per join, distinct numbers",
            len(numbers) == joins and len(set(numbers)) == len(numbers),
            f"{joins} joins, {len(numbers)} entries, {len(set(numbers))} numbers",
        )
        report.compare(
            f"waiting-room join over HTTP vs trivial view @{concurrency}",
            value=rate,
            baseline=trivial["ops_per_second"],
            baseline_name=f"GET /healthz under daphne @{concurrency}",
            target="no hot row: joins/s grow with clients; zero 5xx",
            meets=result.server_errors == 0 and joins > 0,
            unit="joins/s",
            note=f"join p95 {summary['join_latency']['p95_ms']} ms",
        )


def _fill(event_id: int, tenant_id: int, count: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH people AS (
                INSERT INTO tenants_customer (created_at, updated_at, name, email, phone, social_handle,
                                              location, email_consent, language, tenant_id)
                SELECT now(), now(), '', 'wr' || i || '@fill.test', '', '', '', false, '', %(tenant)s
                  FROM generate_series(1, %(count)s) AS i
                RETURNING id
            )
            INSERT INTO waitingroom_waitingroomentry (created_at, updated_at, tenant_id, event_id,
                customer_id, token, public_id, holder_key, prequeue, status, joined_at, last_seen_at)
            SELECT now(), now(), %(tenant)s, %(event)s, id, md5(random()::text || id), 'FILL-' || id, '',
                   false, 'waiting', now(), now()
              FROM people ORDER BY id
            """,
            {"tenant": tenant_id, "event": event_id, "count": count},
        )
        cursor.execute("VACUUM ANALYZE waitingroom_waitingroomentry")


def _measure_positions(label: str, count: int, samples: int) -> tuple[dict, bool]:
    """p50/p95 of ``selectors.ahead_count`` for random entries of a line of ``count`` waiting, interleaved
    with a trivial indexed query; and whether 20 sampled positions equal the entry's index in the line."""
    from tenants.models import Tenant
    from waitingroom import selectors
    from waitingroom.models import WaitingRoomEntry

    sale = _room_sale(label)
    _fill(sale["event_id"], sale["tenant_id"], count)
    entries = list(
        WaitingRoomEntry.objects.filter(event_id=sale["event_id"]).only("pk", "event_id", "number")
    )
    by_number = sorted(entries, key=lambda entry: entry.number)
    slug = sale["tenant_slug"]
    rng = random.Random(5)
    timings: dict[str, list[float]] = {"trivial": [], "position": []}
    # Warm up, then interleave in random order.
    for _ in range(50):
        Tenant.objects.filter(slug=slug).first()
        selectors.ahead_count(rng.choice(entries))
    jobs = ["trivial", "position"] * int(samples)
    rng.shuffle(jobs)
    for kind in jobs:
        started = time.perf_counter()
        if kind == "trivial":
            Tenant.objects.filter(slug=slug).first()
        else:
            selectors.ahead_count(rng.choice(entries))
        timings[kind].append(time.perf_counter() - started)
    checks = [rng.randrange(len(by_number)) for _ in range(20)]
    correct = all(selectors.ahead_count(by_number[index]) == index for index in checks)
    return {name: harness.latency_summary(values) for name, values in timings.items()}, correct


def position_lookup(report: harness.Report) -> None:
    """The same lookup with 1 000 and with 100 000 waiting, in this run: the cost must not grow with the
    line (issue target: p95 @100 000 ≤ 1.5 × p95 @1 000)."""
    from django.db import connection

    connection.ensure_connection()
    autocommit = connection.get_autocommit()
    samples = 400 if harness.quick() else 2000
    small, small_ok = _measure_positions("wrpos1k", SMALL_LINE, samples)
    large, large_ok = _measure_positions("wrpos", WAITING, samples)
    report.result(
        "waiting_room_position", waiting=WAITING, small_line=SMALL_LINE, autocommit=autocommit,
        small=small, **large,
    )  # fmt: skip
    print(f"   @{SMALL_LINE}: {small}\n   @{WAITING}: {large}", flush=True)
    report.invariant(
        "waiting-room position = waiting entries ahead (sample of 20, both lines)", small_ok and large_ok
    )
    report.compare(
        f"waiting-room position lookup p95 @{WAITING} vs @{SMALL_LINE} waiting",
        value=large["position"]["p95_ms"],
        baseline=small["position"]["p95_ms"],
        baseline_name=f"the same lookup with {SMALL_LINE} waiting (same run)",
        target="≤ 1.5",
        meets=(large["position"]["p95_ms"] or 1e9) <= 1.5 * (small["position"]["p95_ms"] or 0),
        unit="ms",
        note=f"trivial indexed query p95 {large['trivial']['p95_ms']} ms",
    )
    report.compare(
        f"waiting-room position lookup p95 @{WAITING} waiting",
        value=large["position"]["p95_ms"],
        baseline=large["trivial"]["p95_ms"],
        baseline_name="trivial indexed query p95 (same run)",
        target="p95 < 20 ms",
        meets=(large["position"]["p95_ms"] or 1e9) < 20,
        unit="ms",
    )


def run(report: harness.Report) -> None:
    harness.setup_django()
    join_throughput(report)
    position_lookup(report)


if __name__ == "__main__":
    harness.main(run)
