"""Issue 15 #12: two (or more) staff pressing the same action at once. One wins; the others are told it
already changed (a Conflict — InvalidTransition is one), never a 500, and nothing is done twice. Real
threads, one PostgreSQL connection each; every racer acted on the object as it was loaded before anyone
wrote (what two open dashboard pages hold)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from core.errors import Conflict
from queues import services as queue_services
from queues.models import Ticket, TicketEvent
from support import services as support_services
from support.selectors import staff_ticket
from tenants.models import Membership, Role
from tests.factories import MembershipFactory, TenantFactory
from tests.queues.factories import service_queue, submit
from tests.support.factories import agents, file_ticket, support_queue
from tests.ticketing.factories import buy, make_event
from ticketing import services as ticketing_services
from ticketing.models import Order, OrderStatus, TicketStatus, TicketTier

pytestmark = pytest.mark.django_db(transaction=True)


def race(count: int, prepare, act) -> list:
    """``prepare(i)`` runs in each thread before the barrier (loads what the staff member saw), then all
    ``act(i, loaded)`` at once. Returns each result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            loaded = prepare(index)
            barrier.wait(30)
            results[index] = act(index, loaded)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return results


def kinds(results) -> Counter:
    return Counter("ok" if not isinstance(r, Exception) else type(r).__name__ for r in results)


def one_won_rest_conflict(results) -> None:
    wins = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1, kinds(results)
    assert all(isinstance(r, Conflict) for r in losers), kinds(results)


def test_parallel_assign_one_wins(tenant, owner):
    queue = service_queue(tenant)
    ticket = submit(queue)
    people = [MembershipFactory(tenant=tenant, role=Role.STAFF).user for _ in range(3)]
    results = race(
        3,
        lambda i: Ticket.objects.get(pk=ticket.pk),
        lambda i, mine: queue_services.ticket_assign(
            tenant=tenant, actor=owner, ticket=mine, assignee=people[i]
        ),
    )
    one_won_rest_conflict(results)
    winner = next(r for r in results if not isinstance(r, Exception))
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == winner.assignee_id
    assert TicketEvent.objects.filter(ticket=ticket, event="assign").count() == 1


def test_parallel_support_bulk_transition_each_ticket_once(tenant, owner, staff):
    queue = support_queue(tenant, agents=agents(staff))
    tickets = [file_ticket(queue) for _ in range(3)]
    references = [t.reference for t in tickets]
    membership = Membership.objects.get(tenant=tenant, user=owner)
    results = race(
        2,
        lambda i: None,
        lambda i, _: support_services.support_bulk_apply(
            membership=membership, references=references, action="transition", event="start"
        ),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    done = Counter(ref for r in results for ref in r.done)
    failed = [(ref, text) for r in results for ref, text in r.failed]
    assert done == Counter(references), (done, failed)  # each ticket started by exactly one of them
    assert len(failed) == 3 and all("changed" in text or "not allowed" in text for _, text in failed)
    for ticket in tickets:
        assert staff_ticket(membership, ticket.reference).state == "in_progress"
        assert TicketEvent.objects.filter(ticket=ticket, event="start").count() == 1


def _paid_order(quantity: int = 2):
    tenant = TenantFactory()
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    tier = event.tiers.get()
    return tenant, event, tier, buy(tenant=tenant, event=event, quantities={tier.id: quantity})


@pytest.mark.parametrize("action", ["order_refund", "order_cancel"])
def test_parallel_refund_or_cancel_returns_seats_once(action):
    tenant, event, tier, order = _paid_order()
    service = getattr(ticketing_services, action)
    results = race(
        4,
        lambda i: Order.objects.get(pk=order.pk),
        lambda i, mine: service(tenant=tenant, actor=None, order=mine),
    )
    one_won_rest_conflict(results)
    tier = TicketTier.objects.get(pk=tier.pk)
    assert tier.sold == 0 and tier.reserved == 0
    assert order.tickets.filter(status=TicketStatus.CANCELLED).count() == 2


def test_parallel_mark_paid_once():
    tenant = TenantFactory()
    event = make_event(tenant=tenant, pay_at_door_enabled=True)
    tier = event.tiers.get()
    order = buy(tenant=tenant, event=event, quantities={tier.id: 1}, provider="pay_at_door")
    assert order.status == OrderStatus.PENDING
    results = race(
        3,
        lambda i: Order.objects.get(pk=order.pk),
        lambda i, mine: ticketing_services.order_mark_paid(tenant=tenant, actor=None, order=mine),
    )
    one_won_rest_conflict(results)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_parallel_event_cancel_once():
    tenant, event, tier, order = _paid_order()
    results = race(
        3,
        lambda i: type(event).objects.get(pk=event.pk),
        lambda i, mine: ticketing_services.event_cancel(tenant=tenant, actor=None, event=mine),
    )
    one_won_rest_conflict(results)
    order.refresh_from_db()
    assert order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED)
    assert order.tickets.filter(status=TicketStatus.VALID).count() == 0
