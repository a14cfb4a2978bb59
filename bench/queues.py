"""Queue reads at 100 000 waiting tickets: the position lookup (what the status page and the live socket
need) and the dashboard's main line, next to a trivial indexed query measured in the same run.

A creator queue (priority 3 : personal 1) is filled with 100 000 approved tickets by one bulk INSERT
(75 % priority, 25 % personal), the lane counters and lane blocks are set to match, and the table is
vacuumed/analysed as autovacuum would. Then, interleaved in random order:

- ``trivial``: ``Tenant`` by unique slug (one index lookup) — the baseline;
- ``position``: one query — the lanes with the ticket's lane rank (lane blocks before the ticket's
  block + a count inside its block) — then the closed form, for random tickets uniform over the line;
- ``main line``: the lanes snapshot + one UNION of each lane's first 50 (with what the board shows);
- ``status page``: the whole page through the Django test client (ticket, lanes, rank, history, render).

Invariants: constant query counts (position 1, main line 2) and positions that match a brute-force
interleave for a sample. Target: p95 < 20 ms for the position lookup and the main line.

Run alone: ``python bench/queues.py`` (or ``python -m bench.queues``); ``make bench`` runs it too.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, this file's folder would shadow the ``queues`` app; use the repository root.
    ROOT = Path(__file__).resolve().parent.parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from bench import harness  # noqa: E402

ORDER = 30
TICKETS = 100_000
REFERENCE_OFFSET = 987654321000  # where the generated references start (a second fill starts after)
SMALL_LINE = 1_000


def _reference_sql(offset: int = REFERENCE_OFFSET) -> str:
    """A valid, unique reference per row (Crockford base32 of an offset row number, grouped by three)."""
    from core.references import ALPHABET

    symbols = [
        f"substr('{ALPHABET}', (((i::bigint + {offset}) >> {5 * k}) & 31)::int + 1, 1)"
        for k in range(11, -1, -1)
    ]
    groups = [" || ".join(symbols[n : n + 3]) for n in range(0, 12, 3)]
    return " || '-' || ".join(f"({group})" for group in groups)


def _fill(queue, lanes: dict, count: int, *, offset: int = REFERENCE_OFFSET) -> None:
    from django.db import connection

    from queues.models import BLOCK_SIZE, Lane

    priority, personal = lanes["priority"], lanes["personal"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO queues_ticket (
                created_at, updated_at, tenant_id, queue_id, lane_id, ticket_type_id, state, phase, reference,
                submission_token, title, need_text, custom_data, tip_cents, currency, email_consent,
                lane_sequence, turn_number, submitted_at, approved_at, priority, location, metadata,
                escalation_level)
            SELECT now(), now(), %(tenant)s, %(queue)s,
                   CASE WHEN i %% 4 = 0 THEN %(personal)s ELSE %(priority)s END,
                   %(type)s, 'approved', 'waiting', {reference_sql},
                   '', '', 'bench request ' || i, jsonb_build_object('n', i), 500, 'USD', false,
                   nextval('queues_ticket_lane_sequence'),
                   CASE WHEN i %% 4 = 0 THEN i / 4 ELSE i - i / 4 END,
                   now() - make_interval(secs => %(count)s - i), now(), 'normal', '', '{}'::jsonb, 0
            FROM generate_series(1, %(count)s) AS i
            """.replace("{reference_sql}", _reference_sql(offset)),
            {
                "tenant": queue.tenant_id,
                "queue": queue.pk,
                "priority": priority.pk,
                "personal": personal.pk,
                "type": queue.ticket_type_id,
                "count": count,
            },
        )
        cursor.execute(
            "INSERT INTO queues_laneblock (lane_id, block, waiting) SELECT lane_id, lane_sequence / %s, "
            "count(*) FROM queues_ticket WHERE queue_id = %s AND phase = 'waiting' GROUP BY 1, 2",
            [BLOCK_SIZE, queue.pk],
        )
        # What autovacuum does soon after a bulk load: statistics and the visibility map (index-only counts).
        cursor.execute("VACUUM ANALYZE queues_ticket")
    n_personal = count // 4
    n_priority = count - n_personal
    Lane.objects.filter(pk=priority.pk).update(waiting_count=n_priority, next_turn=n_priority + 1, version=1)
    Lane.objects.filter(pk=personal.pk).update(waiting_count=n_personal, next_turn=n_personal + 1, version=1)


def _setup(count: int = TICKETS, *, offset: int = REFERENCE_OFFSET):
    from django.conf import settings

    from queues import services
    from queues.models import Queue, QueueKind
    from tenants.models import Account, User
    from tenants.services import tenant_create

    settings.RATE_LIMIT_LOOKUPS = "1000000/60"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    owner = User.objects.create_user(email=f"bench-{time.time_ns()}@example.test", password="x")
    tenant = tenant_create(
        account=Account.objects.create(name="Bench"),
        slug=f"bench-{time.time_ns() % 10**9}",
        name="Bench",
        owner=owner,
    )
    queue = services.queue_create(
        tenant=tenant, actor=owner, slug="requests", name="Requests", kind=QueueKind.CREATOR
    )
    lanes = {lane.code: lane for lane in queue.lanes.all()}
    started = time.monotonic()
    _fill(queue, lanes, count, offset=offset)
    filled = time.monotonic() - started
    return tenant, Queue.objects.select_related("ticket_type").get(pk=queue.pk), filled


def run(report: harness.Report) -> None:
    harness.setup_django()
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from queues.models import Ticket
    from queues.selectors import main_line, queue_snapshot, ticket_position
    from tenants.models import Tenant

    tenant, queue, filled = _setup()
    print(f"   filled {TICKETS} waiting tickets in {filled:.1f} s", flush=True)
    ids = list(Ticket.objects.filter(queue=queue).values_list("id", flat=True))
    samples = 60 if harness.quick() else 400
    rng = random.Random(7)
    picks = [rng.choice(ids) for _ in range(samples)]
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=picks)}
    client = Client()

    def trivial():
        Tenant.objects.filter(slug=tenant.slug).first()

    def position(ticket):
        snapshot = queue_snapshot(queue, rank_for=ticket)
        return ticket_position(ticket, snapshot)[0]

    def line():
        return main_line(queue_snapshot(queue), limit=50)

    def status(ticket):
        response = client.get(f"/status/{ticket.reference}/")
        assert response.status_code == 200, response.status_code

    # Warm up caches and connections, then check the query counts stay constant.
    for _ in range(5):
        trivial(), line(), position(tickets[picks[0]])
    with CaptureQueriesContext(connection) as queries:
        position(tickets[picks[0]])
    position_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        line()
    line_queries = len(queries)
    report.invariant(
        "queues: position lookup is 1 query at 100k", position_queries == 1, str(position_queries)
    )
    report.invariant("queues: main line is 2 queries at 100k", line_queries == 2, str(line_queries))

    timings = {"trivial": [], "position": [], "main_line": [], "status_page": []}
    jobs = []
    for pk in picks:
        jobs += [("trivial", None), ("position", tickets[pk]), ("main_line", None)]
    jobs += [("status_page", tickets[pk]) for pk in picks[: max(20, samples // 4)]]
    rng.shuffle(jobs)
    for kind, ticket in jobs:
        reset_queries()
        started = time.perf_counter()
        if kind == "trivial":
            trivial()
        elif kind == "position":
            position(ticket)
        elif kind == "main_line":
            line()
        else:
            status(ticket)
        timings[kind].append(time.perf_counter() - started)

    # Correctness on a sample: the closed form against a brute-force interleave of the whole line.
    snapshot = queue_snapshot(queue)
    lanes = {lane.id: [] for lane in snapshot.lanes}
    for pk, lane_id in (
        Ticket.objects.filter(queue=queue, phase="waiting")
        .order_by("lane_sequence")
        .values_list("id", "lane_id")
    ):
        lanes[lane_id].append(pk)
    order, heads, index = [], dict.fromkeys(lanes, 0), snapshot.phase
    while len(order) < TICKETS:
        lane_id = snapshot.cycle[index % len(snapshot.cycle)]
        if heads[lane_id] < len(lanes[lane_id]):
            order.append(lanes[lane_id][heads[lane_id]])
            heads[lane_id] += 1
        index += 1
    place = {pk: i for i, pk in enumerate(order, start=1)}
    sample = picks[:50]
    report.invariant(
        "queues: positions match brute force at 100k",
        all(position(tickets[pk]) == place[pk] for pk in sample),
        f"{len(sample)} tickets",
    )
    report.invariant(
        "queues: main line matches brute force", [t.pk for _p, t in line()] == order[:50], "first 50"
    )

    summary = {kind: harness.latency_summary(values) for kind, values in timings.items()}
    report.result(
        "queues_reads",
        tickets=TICKETS,
        fill_seconds=round(filled, 2),
        samples=samples,
        latency=summary,
        queries={"position": position_queries, "main_line": line_queries},
    )
    base = summary["trivial"]
    for kind, label in [
        ("position", "position lookup"),
        ("main_line", "dashboard main line"),
        ("status_page", "status page (full render)"),
    ]:
        for pct in ("p50_ms", "p95_ms"):
            value = summary[kind][pct]
            meets = (value < 20) if pct == "p95_ms" and kind != "status_page" else None
            report.compare(
                f"queues 100k: {label} {pct[:3]}",
                value=value,
                baseline=base[pct],
                baseline_name="trivial indexed query (same run)",
                target="p95 < 20 ms" if meets is not None else "",
                unit="ms",
                meets=meets,
            )
        print(
            f"   {label:28} p50 {summary[kind]['p50_ms']:7.2f} ms  p95 {summary[kind]['p95_ms']:7.2f} ms"
            f"   (p95 ×{summary[kind]['p95_ms'] / base['p95_ms']:.1f} the trivial query's"
            f" {base['p95_ms']:.2f} ms)",
            flush=True,
        )

    _position_by_line_length(report, queue, tickets, samples, rng)


def _position_by_line_length(report: harness.Report, queue, tickets: dict, samples: int, rng) -> None:
    """The same position lookup on a queue of 1 000 waiting, interleaved with lookups on the 100 000 one
    (same run, same connection): the cost must not grow with the line (p95 ratio ≤ 1.5)."""
    from queues.models import Ticket
    from queues.selectors import queue_snapshot, ticket_position

    # Its references start after the big fill's, so the two never collide.
    _tenant, small_queue, _filled = _setup(SMALL_LINE, offset=REFERENCE_OFFSET + TICKETS)
    small_ids = list(Ticket.objects.filter(queue=small_queue).values_list("id", flat=True))
    small = list(Ticket.objects.filter(pk__in=[rng.choice(small_ids) for _ in range(samples)]))
    jobs = [(small_queue, rng.choice(small)) for _ in range(samples)]
    jobs += [(queue, ticket) for ticket in rng.choices(list(tickets.values()), k=samples)]
    rng.shuffle(jobs)
    timings: dict[int, list[float]] = {small_queue.pk: [], queue.pk: []}
    for which, ticket in jobs:
        started = time.perf_counter()
        ticket_position(ticket, queue_snapshot(which, rank_for=ticket))
        timings[which.pk].append(time.perf_counter() - started)
    small_summary = harness.latency_summary(timings[small_queue.pk])
    large_summary = harness.latency_summary(timings[queue.pk])
    report.result("queues_position_by_line", small_line=SMALL_LINE, small=small_summary, large=large_summary)
    print(f"   position @{SMALL_LINE}: {small_summary}\n   position @{TICKETS}: {large_summary}", flush=True)
    report.compare(
        f"queues position lookup p95 @{TICKETS} vs @{SMALL_LINE} waiting",
        value=large_summary["p95_ms"],
        baseline=small_summary["p95_ms"],
        baseline_name=f"the same lookup with {SMALL_LINE} waiting (same run)",
        target="≤ 1.5",
        unit="ms",
        meets=(large_summary["p95_ms"] or 1e9) <= 1.5 * (small_summary["p95_ms"] or 0),
    )


if __name__ == "__main__":
    harness.main(run)
