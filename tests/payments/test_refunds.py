"""Refunds: single tickets and whole orders, staff and buyer (deadline), bulk for a cancelled event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, PermissionDenied, ValidationError
from notifications.models import OutboxMessage
from payments.gateway import client_for
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from tests.ticketing.factories import buy, make_event
from ticketing import services
from ticketing.models import OrderStatus, TicketStatus
from ticketing.payments.refunds import (
    event_refund_all,
    order_refund_by_buyer,
    order_refund_tickets,
    refund_policy_set,
)
from ticketing.payments.stripe_checkout import checkout_pay_by_card_now

pytestmark = pytest.mark.django_db


def _stripe_order(tenant, event, quantity, email="fan@example.test"):
    tier = event.tiers.get()
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: quantity})
    session = services.checkout_set_customer(tenant=tenant, session=session, name="Fan", email=email)
    return checkout_pay_by_card_now(tenant=tenant, session=session, payment_method="pm_card_visa")


def test_refunding_one_ticket_of_three_returns_its_seat_and_the_right_amount(
    stripe_tenant, django_capture_on_commit_callbacks
):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 3),), fee_fixed_cents=150, tax_percent=10)
    tier = event.tiers.get()
    order = _stripe_order(tenant, event, 3)
    assert order.total_cents == 3 * 2500 + 3 * 150 + 795  # 8745
    tier.refresh_from_db()
    assert tier.available == 0
    first, second, third = order.tickets.order_by("id")

    with django_capture_on_commit_callbacks(execute=True):
        refund = order_refund_tickets(tenant=tenant, actor=None, order=order, ticket_ids=[second.id])

    refund.refresh_from_db()
    # one ticket's price + its fee + its share of the tax: 2500 + 150 + 265
    assert refund.amount_cents == 2915
    assert refund.status == RefundStatus.SUCCEEDED and refund.reference.startswith("re_")
    stripe_refund = client_for(tenant).v1.refunds.retrieve(refund.reference)
    assert stripe_refund.amount == 2915 and stripe_refund.payment_intent == order.payment_reference
    tier.refresh_from_db()
    assert (tier.sold, tier.available) == (2, 1)  # the seat is back on sale
    second.refresh_from_db()
    assert second.status == TicketStatus.CANCELLED
    assert {t.status for t in (first, third)} == {TicketStatus.VALID}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # two tickets still stand
    payment = Payment.objects.get(order=order)
    assert payment.refunded_cents == 2915 and payment.status == PaymentStatus.SUCCEEDED
    assert OutboxMessage.objects.filter(event_type="order.refunded", related_id=str(order.pk)).exists()

    # The rest of the order: exactly what is left of the total, order refunded.
    with django_capture_on_commit_callbacks(execute=True):
        rest = order_refund_tickets(tenant=tenant, actor=None, order=order)
    rest.refresh_from_db()
    assert rest.amount_cents == 8745 - 2915
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    payment.refresh_from_db()
    assert payment.refunded_cents == 8745 and payment.status == PaymentStatus.REFUNDED
    tier.refresh_from_db()
    assert (tier.sold, tier.available) == (0, 3)
    refunds = client_for(tenant).v1.refunds.list(params={"payment_intent": order.payment_reference})
    assert sorted(r.amount for r in refunds.data) == [2915, 5830]
    with pytest.raises(InvalidTransition):
        order_refund_tickets(tenant=tenant, actor=None, order=order)


def test_refund_refuses_used_and_already_refunded_tickets(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 3})
    used, other, _third = order.tickets.order_by("id")
    services.ticket_check_in(tenant=tenant, actor=None, event=event, code=used.code)
    with pytest.raises(ValidationError, match="already used"):
        order_refund_tickets(tenant=tenant, actor=None, order=order, ticket_ids=[used.id])
    order_refund_tickets(tenant=tenant, actor=None, order=order, ticket_ids=[other.id])
    with pytest.raises(ValidationError, match="already refunded"):
        order_refund_tickets(tenant=tenant, actor=None, order=order, ticket_ids=[other.id])
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID  # a valid ticket is left
    assert Refund.objects.filter(order=order).count() == 1
    # The last valid ticket: the order is over (refunded); the used ticket is not paid back.
    last = order_refund_tickets(tenant=tenant, actor=None, order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED and last.amount_cents == 2500
    assert event.tiers.get().sold == 1


def test_refund_of_another_tenants_ticket_is_not_found(tenant, other_tenant):
    from core.errors import NotFound

    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    other_event = make_event(tenant=other_tenant, tiers=(("General", 2500, 5),))
    other_order = buy(tenant=other_tenant, event=other_event, quantities={other_event.tiers.get().id: 1})
    with pytest.raises(NotFound):
        order_refund_tickets(tenant=other_tenant, actor=None, order=order)
    with pytest.raises(NotFound):
        order_refund_tickets(
            tenant=tenant, actor=None, order=order, ticket_ids=[other_order.tickets.get().id]
        )


def test_buyer_refunds_until_the_promoters_deadline(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2000, 5),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2})
    with pytest.raises(PermissionDenied):
        order_refund_by_buyer(tenant=tenant, order=order)  # no policy: no self-service refunds
    deadline = timezone.now() + timedelta(days=1)
    refund_policy_set(tenant=tenant, actor=None, event=event, buyer_refunds_until=deadline)
    with pytest.raises(PermissionDenied):
        order_refund_by_buyer(tenant=tenant, order=order, now=deadline + timedelta(seconds=1))
    refund = order_refund_by_buyer(tenant=tenant, order=order, ticket_ids=[order.tickets.first().id])
    assert refund.requested_by == "buyer" and refund.amount_cents == 2000
    with pytest.raises(ValidationError):
        refund_policy_set(
            tenant=tenant, actor=None, event=event, buyer_refunds_until=event.ends_at + timedelta(days=1)
        )


def test_cancelled_event_refunds_in_bulk(stripe_tenant, django_capture_on_commit_callbacks):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 1000, 20),), pay_at_door_enabled=True)
    tier = event.tiers.get()
    card_orders = [_stripe_order(tenant, event, 2, email=f"c{i}@example.test") for i in range(2)]
    test_card_order = buy(tenant=tenant, event=event, quantities={tier.id: 1}, email="t@example.test")
    door_order = buy(
        tenant=tenant, event=event, quantities={tier.id: 1}, email="d@example.test", provider="pay_at_door"
    )
    # Cancelling the event refunds in bulk (ticketing.lifecycle runs event_refund_all).
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(tenant=tenant, actor=None, event=event)

    for order in (*card_orders, test_card_order):
        order.refresh_from_db()
        assert order.status == OrderStatus.REFUNDED
    door_order.refresh_from_db()
    assert door_order.status == OrderStatus.CANCELLED
    assert not Refund.objects.exclude(status=RefundStatus.SUCCEEDED).exists()
    for order in card_orders:
        refunds = client_for(tenant).v1.refunds.list(params={"payment_intent": order.payment_reference})
        assert sum(r.amount for r in refunds.data) == order.total_cents
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 0)
    # Idempotent: a second run finds nothing left to do.
    again = event_refund_all(tenant=tenant, actor=None, event=event)
    assert (again.refunded, again.cancelled) == (0, 0)
