"""Faults and abuse, run against the real servers (checks, not speed):

- Lock held: another connection holds the hot tier's row lock (or the queue's) for 8 s (4 s quick)
  while a buyer checks out (or staff call the next ticket). The house rule says contention becomes
  ``Busy`` within the lock timeout (3 s) instead of a hung request. Reported as a target; the invariant
  is only that the inventory is right afterwards.
- Redis lost: a second daphne whose ``REDIS_URL`` points at a closed port serves the whole purchase
  flow. Broadcasts and the rate limiter are best effort (``core.broadcast``, ``core.ratelimit``), so the
  purchase must still succeed (target: zero 5xx); invariant: orders and inventory agree.
- Reference guessing: 10 000 random references and tokens match nothing (invariant), and one address
  asking for unknown references is answered 429 after the lookup limit (invariant).
"""

from __future__ import annotations

import socket
import threading
import time

from bench import _ticketing, harness, loadgen, servers
from bench.http_purchase import make_purchase_op

ORDER = 70
HOLD_SECONDS = 4 if harness.quick() else 8  # longer than the 3 s lock timeout either way


def _hold_row_lock(sql: str, params: list, held: threading.Event, release_after: float) -> None:
    from django.db import connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            held.set()
            time.sleep(release_after)
    finally:
        connection.close()


def _timed_under_lock(sql: str, params: list, action) -> dict:
    from django.db import connection

    from core.errors import DomainError

    held = threading.Event()
    holder = threading.Thread(target=_hold_row_lock, args=(sql, params, held, HOLD_SECONDS))
    holder.start()
    held.wait(30)
    began = time.monotonic()
    try:
        action()
        outcome = "completed"
    except DomainError as error:
        outcome = error.__class__.__name__
    except Exception as error:  # noqa: BLE001 - reported
        outcome = f"exception:{error.__class__.__name__}"
    finally:
        connection.close()
    waited = time.monotonic() - began
    holder.join()
    return {"outcome": outcome, "seconds": round(waited, 2), "lock_held_seconds": HOLD_SECONDS}


def lock_held(report: harness.Report) -> None:
    from core.locking import DEFAULT_LOCK_TIMEOUT_MS
    from tenants.models import Tenant
    from ticketing import services
    from ticketing.models import Event

    limit = DEFAULT_LOCK_TIMEOUT_MS / 1000
    sale = _ticketing.make_sale(label="locks", tiers=1)
    tenant = Tenant.objects.get(pk=sale["tenant_id"])
    event = Event.objects.get(pk=sale["event_id"])
    tier_id = sale["tier_ids"][0]
    checkout = _timed_under_lock(
        "SELECT id FROM ticketing_tickettier WHERE id = %s FOR UPDATE",
        [tier_id],
        lambda: services.checkout_open(tenant=tenant, event=event, quantities={tier_id: 1}),
    )
    report.result("fault_tier_lock_held", **checkout)
    report.compare(
        f"tier row locked {HOLD_SECONDS} s: checkout answers",
        value=checkout["seconds"],
        baseline=limit,
        baseline_name="the lock timeout (3 s)",
        target="≤ 1 with Busy",
        meets=checkout["outcome"] == "Busy" and checkout["seconds"] <= limit + 0.5,
        unit="s",
        note=f"outcome: {checkout['outcome']}",
    )
    _ticketing.check_invariants(report, "tier lock held", sale)
    try:
        from queues import services as queue_services
        from tests.factories import TenantFactory
        from tests.queues.factories import service_queue, submit
    except ImportError:
        return
    queue_tenant = TenantFactory(slug=f"bench-locks-q-{int(time.time())}")
    queue = service_queue(queue_tenant, slug="counter")
    submit(queue)
    call = _timed_under_lock(
        "SELECT id FROM queues_queue WHERE id = %s FOR UPDATE",
        [queue.id],
        lambda: queue_services.ticket_call_next(tenant=queue_tenant, actor=None, queue=queue),
    )
    report.result("fault_queue_lock_held", **call)
    report.compare(
        f"queue row locked {HOLD_SECONDS} s: call next answers",
        value=call["seconds"],
        baseline=limit,
        baseline_name="the lock timeout (3 s)",
        target="≤ 1 with Busy",
        meets=call["outcome"] == "Busy" and call["seconds"] <= limit + 0.5,
        unit="s",
        note=f"outcome: {call['outcome']}",
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe goes: nothing listens there


def redis_lost(report: harness.Report) -> None:
    sale = _ticketing.make_sale(label="no-redis", tiers=1, checkout_limit=50)
    dead = f"redis://127.0.0.1:{_closed_port()}/0"
    server = servers.daphne(
        name="daphne-no-redis", port_offset=3, env={"REDIS_URL": dead, "CELERY_BROKER_URL": dead}
    )
    prepare, op = make_purchase_op(sale)
    result = loadgen.http_session_load(
        servers.HOST, server.port, op, concurrency=4, seconds=harness.duration(10), prepare=prepare
    )
    purchases = result.outcomes.get("ok", 0)
    report.result(
        "fault_redis_lost",
        outcomes=dict(result.outcomes),
        statuses={str(status): count for status, count in result.statuses.items()},
        purchases=purchases,
    )
    print(f"   redis lost: {dict(result.outcomes)} {dict(result.statuses)}", flush=True)
    _ticketing.check_invariants(report, "redis lost", sale, expected_orders=purchases)
    report.compare(
        "purchases with Redis down (HTTP)",
        value=purchases,
        baseline=sum(result.outcomes.values()),
        baseline_name="purchases attempted",
        target="= 1, zero 5xx",
        meets=result.server_errors == 0 and purchases == sum(result.outcomes.values()),
        unit="purchases",
        note=f"statuses {dict(result.statuses)}",
    )
    servers.stop("daphne-no-redis")


def reference_guessing(report: harness.Report) -> None:
    from django.test import Client, override_settings

    from core.references import new_reference, new_token
    from ticketing.models import CheckoutSession, IssuedTicket, Order

    tokens = [new_token() for _ in range(10_000)]
    references = [new_reference() for _ in range(10_000)]
    hits = (
        CheckoutSession.objects.filter(token__in=tokens).count()
        + Order.objects.filter(access_token__in=tokens).count()
        + IssuedTicket.objects.filter(code__in=tokens).count()
        + Order.objects.filter(reference__in=references).count()
    )
    try:
        from queues.models import Ticket
    except ImportError:
        Ticket = None  # noqa: N806
    if Ticket is not None:
        hits += Ticket.objects.filter(reference__in=references).count()
    report.invariant("10 000 random references/tokens: 0 hits", hits == 0, f"{hits} hits")

    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # 429/404 by design: keep the output short
    client = Client(REMOTE_ADDR="10.66.0.1")
    sale = _ticketing.make_sale(label="guess", tiers=1, checkout_limit=5)
    statuses = []
    # The shipped default limit, whatever an earlier module in this process set.
    with override_settings(RATE_LIMIT_LOOKUPS="30/60"):
        for _ in range(60):
            response = client.get(f"/{sale['tenant_slug']}/orders/{new_token()}/")
            statuses.append(response.status_code)
    limited = statuses.count(429)
    report.result("abuse_order_token_guessing", statuses={str(s): statuses.count(s) for s in set(statuses)})
    report.invariant(
        "guessing order links from one address: only 404 then 429",
        set(statuses) <= {404, 429} and limited > 0,
        f"statuses {sorted(set(statuses))}, {limited} × 429 of 60",
    )
    statuses = []
    with override_settings(RATE_LIMIT_LOOKUPS="30/60"):
        for _ in range(60):
            response = client.get(f"/status/{new_reference()}/")
            statuses.append(response.status_code)
    report.result(
        "abuse_queue_reference_guessing", statuses={str(s): statuses.count(s) for s in set(statuses)}
    )
    report.invariant(
        "guessing queue status references from one address: only 404 then 429",
        set(statuses) <= {404, 429} and statuses.count(429) > 0,
        f"statuses {sorted(set(statuses))}, {statuses.count(429)} × 429 of 60",
    )


def run(report: harness.Report) -> None:
    harness.setup_django()
    lock_held(report)
    reference_guessing(report)
    redis_lost(report)


if __name__ == "__main__":
    harness.main(run)
