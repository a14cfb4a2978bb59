"""Escalation under concurrency, with real threads on real PostgreSQL: however many workers run the
escalation at the same moment, one breach escalates once (one level, one record, one set of notices)."""

import threading
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.db import connection

from notifications.models import OutboxMessage
from queues.models import Ticket
from support import services
from support.models import Escalation
from tenants.models import Role
from tests.factories import MembershipFactory, TenantFactory
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = pytest.mark.django_db(transaction=True)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def local(*args):
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def _setup():
    tenant = TenantFactory()
    MembershipFactory(tenant=tenant, role=Role.OWNER)
    manager = MembershipFactory(tenant=tenant, role=Role.MANAGER).user
    staff = MembershipFactory(tenant=tenant, role=Role.STAFF).user
    queue = support_queue(tenant, agents=agents(staff), default_turnaround_minutes=60)
    ticket = file_ticket(queue, now=local(2026, 1, 12, 9, 0))  # due Monday 10:00
    return ticket, manager


def _race(target, runners: int) -> list:
    barrier = threading.Barrier(runners)
    results, errors = [], []

    def run():
        try:
            barrier.wait(10)
            results.append(target())
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "wait-for-lock"])
def test_concurrent_escalations_of_one_ticket_escalate_once(skip_locked):
    ticket, manager = _setup()
    now = local(2026, 1, 12, 10, 30)
    results = _race(
        lambda: services.support_ticket_escalate(ticket_id=ticket.pk, now=now, skip_locked=skip_locked), 8
    )
    assert sum(1 for result in results if result is not None) == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.assignee == manager
    assert Escalation.objects.filter(ticket=ticket).count() == 1
    assert OutboxMessage.objects.filter(event_type="support.escalated", user=manager).count() == 1


def test_two_beat_runs_at_once_escalate_each_breach_once():
    tickets = [_setup()[0] for _ in range(5)]
    now = local(2026, 1, 12, 10, 30)
    results = _race(lambda: services.support_escalate_due(now=now), 2)
    assert sum(results) == 5
    assert Escalation.objects.count() == 5
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("escalation_level", flat=True)
    ) == {1}
    # A later run for the same breach does nothing.
    assert services.support_escalate_due(now=now) == 0


def test_without_the_row_locks_the_unique_record_still_stops_a_double_escalation(monkeypatch):
    """Switch the ticket/clock locks off (as a broken implementation would): the unique (ticket, cycle,
    level) record is the last guard, so the level still rises once."""
    from django.db.models import QuerySet

    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    ticket, _manager = _setup()
    now = local(2026, 1, 12, 10, 30)
    _race(lambda: services.support_ticket_escalate(ticket_id=ticket.pk, now=now), 6)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    assert Escalation.objects.filter(ticket=ticket).count() == 1


@pytest.fixture
def without_unique_escalation_record():
    """Drop the (ticket, cycle, level) constraint for one test and put it back afterwards."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE support_escalation DROP CONSTRAINT escalation_once_per_level")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM support_escalation")
            cursor.execute(
                "ALTER TABLE support_escalation ADD CONSTRAINT escalation_once_per_level "
                "UNIQUE (ticket_id, cycle, level)"
            )


def _slow_chain(monkeypatch):
    """Widen the race window: a pause between reading the deadline and writing the escalation."""
    import time

    original = services._chain_target

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_chain_target", slow)


def test_control_without_locks_or_unique_record_the_race_escalates_twice(
    monkeypatch, without_unique_escalation_record
):
    """Proves the race is real: with neither guard, concurrent runs escalate one breach several times."""
    from django.db.models import QuerySet

    _slow_chain(monkeypatch)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    ticket, _manager = _setup()
    now = local(2026, 1, 12, 10, 30)
    _race(lambda: services.support_ticket_escalate(ticket_id=ticket.pk, now=now), 4)
    assert Escalation.objects.filter(ticket=ticket).count() > 1


@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "wait-for-lock"])
def test_the_row_locks_alone_escalate_once(monkeypatch, without_unique_escalation_record, skip_locked):
    _slow_chain(monkeypatch)
    ticket, _manager = _setup()
    now = local(2026, 1, 12, 10, 30)
    _race(lambda: services.support_ticket_escalate(ticket_id=ticket.pk, now=now, skip_locked=skip_locked), 4)
    assert Escalation.objects.filter(ticket=ticket).count() == 1
