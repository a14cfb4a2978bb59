"""The door and unpaid (pay-at-the-door) tickets (issue 15 #2c): a scan flags the ticket as not paid, with
the amount to collect, and admits nobody; "payment collected" marks the order paid and admits in one go."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.ticketing.factories import buy, make_event
from ticketing import services
from ticketing.models import Order, OrderStatus, TicketStatus

pytestmark = pytest.mark.django_db


def test_an_unpaid_ticket_is_flagged_not_admitted_until_payment_is_collected(tenant, owner):
    event = make_event(tenant=tenant, tiers=(("General", 1500, 10),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2}, provider="pay_at_door")
    first, second = order.tickets.order_by("id")
    answer = services.ticket_check_in(tenant=tenant, actor=owner, event=event, code=first.code)
    assert answer.outcome == "unpaid" and not answer.admitted
    assert "30.00" in answer.message and "collect" in answer.message.lower()
    first.refresh_from_db()
    assert first.status == TicketStatus.VALID
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    collected = services.ticket_check_in(
        tenant=tenant, actor=owner, event=event, code=first.code, payment_collected=True
    )
    assert collected.admitted
    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    # The order is paid now: its other ticket is admitted like any paid one.
    assert services.ticket_check_in(tenant=tenant, actor=owner, event=event, code=second.code).admitted


def test_payment_collected_on_a_paid_ticket_changes_nothing_but_admits(tenant, owner):
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    answer = services.ticket_check_in(
        tenant=tenant, actor=owner, event=event, code=order.tickets.get().code, payment_collected=True
    )
    assert answer.admitted and Order.objects.get(pk=order.pk).paid_at == order.paid_at


def test_the_check_in_page_says_not_paid_and_offers_payment_collected(tenant, owner):
    event = make_event(tenant=tenant, tiers=(("General", 1500, 10),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, provider="pay_at_door")
    ticket = order.tickets.get()
    door = Client()
    door.force_login(owner)
    url = reverse("ticketing:check_in", kwargs={"tenant_slug": tenant.slug, "event_id": event.id})
    page = door.post(url, {"code": ticket.code}).content.decode()
    assert "NOT PAID" in page and "VALID — admit one" not in page
    assert order.reference in page and 'name="payment_collected" value="1"' in page
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.VALID
    admitted = door.post(url, {"code": ticket.code, "payment_collected": "1"}).content.decode()
    assert "VALID — admit one" in admitted
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.USED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_the_api_door_flags_unpaid_and_admits_with_payment_collected(client, tenant):
    from tests.api.conftest import ApiClient, make_key

    event = make_event(tenant=tenant, tiers=(("General", 1500, 10),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, provider="pay_at_door")
    code = order.tickets.get().code
    door = ApiClient(client, make_key(tenant, ["check_in"])[1])
    url = f"/api/v1/events/{event.id}/check-ins"
    flagged = door.post(url, {"code": code}).json()
    assert (flagged["outcome"], flagged["admitted"]) == ("unpaid", False)
    admitted = door.post(url, {"code": code, "payment_collected": True}).json()
    assert (admitted["outcome"], admitted["admitted"]) == ("admitted", True)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
