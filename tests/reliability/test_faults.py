"""Faults with real processes: a web process or a Celery worker killed with SIGKILL at a chosen point,
two beats at once, a crash between commit and enqueue, a slow payment provider. After each fault the
database is checked for the invariants that must survive it: no oversell (sold + reserved = what live
holds and orders account for), no lost order, each side effect exactly once, admission never above the
limit.

How a process is stopped "mid-task": ``tests.reliability.faultpoints`` pauses the process at a named
function (inside the real transaction, which stays open) and writes a marker; the test sees the marker
and sends SIGKILL. A killed worker's task stays unacknowledged on Redis; ``redeliver_unacked`` does what
Redis does once the visibility timeout passes, so the next worker runs the very same message again.

Redis stopped during an on-sale and PostgreSQL restarted under load are in test_outages.py (their own
servers); the kill-during-delivery of an outbox message is tests/notifications/test_worker_integration.py.
"""

from __future__ import annotations

import re
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.reliability.conftest import (
    backends,
    fault,
    redeliver_unacked,
    wait_for,
)
from tests.ticketing.factories import make_event
from ticketing import services as ticketing
from ticketing.models import CheckoutSession, CheckoutSlot, TicketTier

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

if sys.platform != "linux":  # pragma: no cover
    pytestmark.append(pytest.mark.skip(reason="process signals as on Linux"))


def fresh(instance):
    """FSM fields are protected: fetch a new instance instead of refresh_from_db."""
    return type(instance).objects.get(pk=instance.pk)


def succeeded(worker, task: str) -> list[str]:
    """The results of ``task`` runs the worker logged as succeeded, in order."""
    return re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in [0-9.]+s: (.*)", worker.log())


def kill_at_fault(processes, process) -> None:
    """SIGKILL once the process sits at its fault point; then wait until its database sessions are gone
    (PostgreSQL rolls back the open transaction when the client's socket closes)."""
    processes.fault_reached(process)
    process.kill()
    wait_for(lambda: backends(process.name) == 0, 30, f"{process.name}'s database sessions to end")


def open_session(tenant, event, quantities, *, now=None, email="buyer@example.test") -> CheckoutSession:
    session = ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, now=now)
    return ticketing.checkout_set_customer(tenant=tenant, session=session, name="Buyer", email=email, now=now)


# --- Celery worker killed mid-task ----------------------------------------------------------------


def test_worker_killed_mid_expiry_sweep_releases_each_hold_once(tenant, processes):
    """The sweep expires sessions one transaction each. Killed inside the second one (its seats already
    released in the open transaction): the first stays expired, the second is untouched. The redelivered
    task and another beat run then expire the rest, and every tier's ``reserved`` equals exactly what
    the still-live holds account for — no seat released twice, none lost."""
    event = make_event(tenant=tenant, tiers=(("A", 1000, 10), ("B", 1000, 10)), checkout_limit=6)
    tier_a, tier_b = event.tiers.order_by("position")
    # The live hold first: opening a session takes a free checkout slot, and an expired session's slot
    # counts as free (its seats are released by whoever takes it).
    live = open_session(tenant, event, {tier_a.id: 3})
    past = timezone.now() - timedelta(hours=1)
    due = [
        open_session(tenant, event, {tier_a.id: 2}, now=past),
        open_session(tenant, event, {tier_b.id: 1}, now=past + timedelta(minutes=1)),
        open_session(tenant, event, {tier_a.id: 1}, now=past + timedelta(minutes=2)),
    ]
    assert [fresh(s).status for s in due] == ["active"] * 3

    first = processes.worker("worker-1", fault=fault("ticketing.services:_after_release", call=2))
    from ticketing.tasks import expire_checkout_sessions

    expire_checkout_sessions.apply_async(queue=processes.queue)
    kill_at_fault(processes, first)

    assert [fresh(s).status for s in due] == ["expired", "active", "active"]
    assert TicketTier.objects.get(pk=tier_a.pk).reserved == 1 + 3
    assert TicketTier.objects.get(pk=tier_b.pk).reserved == 1

    assert redeliver_unacked(processes.queue) == 1  # the killed task was not lost
    second = processes.worker("worker-2")
    task = "ticketing.tasks.expire_checkout_sessions"
    wait_for(lambda: len(succeeded(second, task)) == 1, 60, "the redelivered sweep", second)
    expire_checkout_sessions.apply_async(queue=processes.queue)  # beat's next tick
    wait_for(lambda: len(succeeded(second, task)) == 2, 60, "the next sweep", second)

    assert succeeded(second, task) == ["2", "0"]
    assert [fresh(s).status for s in due] == ["expired"] * 3
    assert fresh(live).status == "active"
    assert [(t.sold, t.reserved) for t in event.tiers.order_by("position")] == [(0, 3), (0, 0)]
    assert CheckoutSlot.objects.filter(event=event, session__isnull=False).count() == 1
