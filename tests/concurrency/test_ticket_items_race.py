"""Ticket items under concurrent staff edits (issue 16): real threads, one PostgreSQL connection each,
every racer holding the item as its page showed it. One change wins, the others get a Conflict (never
a lost update or a 500); a double removal removes once; parallel adds all land, each in the history."""

from __future__ import annotations

import pytest

from core.errors import Conflict, NotFound
from queues import item_services
from queues.models import TicketEvent, TicketItem
from tests.concurrency.test_staff_actions import kinds, race
from tests.queues.factories import service_queue, submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_changes_of_one_item_one_wins(tenant, owner):
    ticket = submit(service_queue(tenant))
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    results = race(
        3,
        lambda i: TicketItem.objects.select_related("ticket__ticket_type").get(pk=item.pk),
        lambda i, mine: item_services.ticket_item_update(
            tenant=tenant, actor=owner, item=mine, name="Tea", quantity=i + 2, seen=mine.updated_at
        ),
    )
    wins = [r for r in results if not isinstance(r, Exception)]
    assert len(wins) == 1 and all(isinstance(r, Conflict) for r in results if r not in wins), kinds(results)
    assert TicketItem.objects.get(pk=item.pk).quantity == wins[0].quantity
    assert TicketEvent.objects.filter(ticket=ticket, event="item_change").count() == 1


def test_parallel_removals_remove_once(tenant, owner):
    ticket = submit(service_queue(tenant))
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    results = race(
        3,
        lambda i: TicketItem.objects.select_related("ticket__ticket_type").get(pk=item.pk),
        lambda i, mine: item_services.ticket_item_remove(
            tenant=tenant, actor=owner, item=mine, seen=mine.updated_at
        ),
    )
    assert kinds(results)["ok"] == 1, kinds(results)
    assert all(isinstance(r, NotFound) for r in results if r is not None), kinds(results)
    assert TicketEvent.objects.filter(ticket=ticket, event="item_remove").count() == 1


def test_parallel_adds_all_land(tenant, owner):
    ticket = submit(service_queue(tenant))
    results = race(
        4,
        lambda i: None,
        lambda i, _: item_services.ticket_item_add(
            tenant=tenant, actor=owner, ticket=ticket, name=f"Item {i}"
        ),
    )
    assert kinds(results)["ok"] == 4, kinds(results)
    assert TicketItem.objects.filter(ticket=ticket).count() == 4
    assert TicketEvent.objects.filter(ticket=ticket, event="item_add").count() == 4
