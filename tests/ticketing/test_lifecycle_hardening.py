"""Issue 15, the ticketing classes: the buyer pays what they were shown (#1), unpaid holds cannot drain
inventory (#2), checkouts are bound to their browser (#3), lifecycles agree (#4), orders keep their
buyer's contact (#9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import InvalidTransition, ValidationError
from notifications.models import OutboxMessage
from tests.ticketing.factories import VenueFactory, buy, make_event
from ticketing import services
from ticketing.lifecycle import orders_expire_unpaid
from ticketing.models import (
    CheckoutSession,
    Event,
    Order,
    OrderStatus,
    SessionStatus,
    TicketStatus,
    TicketTier,
)
from waitingroom.models import WaitingRoom

pytestmark = pytest.mark.django_db


def open_checkout(tenant, event, quantity=1, **kwargs):
    tier = event.tiers.get()
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: quantity}, **kwargs)
    return services.checkout_set_customer(
        tenant=tenant, session=session, name="Buyer", email="b@example.test"
    )


def pay(tenant, session, provider="test_card", **kwargs):
    return services.checkout_complete(
        tenant=tenant,
        session=session,
        provider=provider,
        payment_details={"card_number": "4242424242424242"},
        **kwargs,
    )


# --- 1. the buyer pays what they were shown ------------------------------------------------------------


def test_a_price_edit_after_opening_never_changes_what_the_checkout_charges(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 10),), fee_fixed_cents=100, tax_percent="10")
    session = open_checkout(tenant, event, 2)
    tier = event.tiers.get()
    services.tier_update(tenant=tenant, actor=None, tier=tier, price_cents=9500)
    services.event_update(tenant=tenant, actor=None, event=event, fee_fixed_cents=900, tax_percent="25")
    order = pay(tenant, session, expected_total_cents=2420)  # (2 × 10.00 + 2 × 1.00) + 10 % tax
    assert (order.subtotal_cents, order.fee_cents, order.tax_cents, order.total_cents) == (
        2000,
        200,
        220,
        2420,
    )
    assert order.items.get().unit_price_cents == 1000
    # A new checkout gets the new prices.
    later = open_checkout(tenant, event, 1)
    assert pay(tenant, later).subtotal_cents == 9500


def test_a_snapshot_that_cannot_be_honoured_needs_the_buyer_to_confirm_the_new_total(tenant, client):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 10),))
    session = open_checkout(tenant, event, 1)
    services.tier_update(tenant=tenant, actor=None, tier=event.tiers.get(), price_cents=1500)
    services.event_update(tenant=tenant, actor=None, event=event, currency="GBP")
    with pytest.raises(services.PriceChanged) as changed:
        pay(tenant, session, expected_total_cents=1000)
    assert changed.value.total_cents == 1500 and "15.00" in changed.value.message
    assert Order.objects.count() == 0
    order = pay(tenant, session, expected_total_cents=1500)  # confirmed
    assert (order.total_cents, order.currency) == (1500, "GBP")


def test_the_pay_page_refuses_a_total_the_buyer_was_not_shown(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 10),))
    browser = Client()
    start = reverse("ticketing_public:checkout_start", args=[tenant.slug, event.slug])
    response = browser.post(start, {f"tier_{event.tiers.get().id}": "1"})
    session = CheckoutSession.objects.get()
    page = response["Location"]
    browser.post(page, {"step": "details", "name": "B", "email": "b@example.test"})
    services.event_update(tenant=tenant, actor=None, event=event, currency="GBP")
    data = {
        "step": "pay",
        "provider": "test_card",
        "card_number": "4242424242424242",
        "idempotency_key": "k1",
    }
    shown = {"expected_total": "1000", "expected_currency": "EUR"}
    refused = browser.post(page, {**data, **shown})
    assert refused.status_code == 422 and "prices of this event changed" in refused.content.decode()
    assert not Order.objects.exists()
    assert browser.post(page, {**data, **shown, "idempotency_key": "k2"}).status_code == 422
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE
    # Confirming the new total (what the re-rendered form carries) pays it.
    new_total = {"expected_total": "1000", "expected_currency": "GBP"}
    confirmed = browser.post(page, {**data, **new_total, "idempotency_key": "k3"})
    assert confirmed.status_code == 302 and Order.objects.get().currency == "GBP"


# --- 2. unpaid holds cannot drain inventory --------------------------------------------------------------


def test_pay_at_the_door_is_off_by_default_behind_a_waiting_room(tenant):
    event = make_event(tenant=tenant, waiting_room_enabled=True, on_sale=False)
    assert event.pay_at_door_enabled is False
    plain = make_event(tenant=tenant, title="Small gig", on_sale=False)
    assert plain.pay_at_door_enabled is True
    services.event_update(tenant=tenant, actor=None, event=plain, waiting_room_enabled=True)
    assert Event.objects.get(pk=plain.pk).pay_at_door_enabled is False


def test_pay_at_the_door_refused_when_the_event_switches_it_off(tenant):
    event = make_event(tenant=tenant, pay_at_door_enabled=False)
    session = open_checkout(tenant, event)
    with pytest.raises(ValidationError) as refused:
        pay(tenant, session, provider="pay_at_door")
    assert "provider" in refused.value.field_errors
    assert not Order.objects.exists()


def test_one_buyer_cannot_hold_more_unpaid_tickets_than_the_limit(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),), pay_at_door_max_per_buyer=3)
    pay(tenant, open_checkout(tenant, event, 2), provider="pay_at_door")
    with pytest.raises(ValidationError, match="at most 3 unpaid"):
        pay(tenant, open_checkout(tenant, event, 2), provider="pay_at_door")
    assert pay(tenant, open_checkout(tenant, event, 1), provider="pay_at_door").status == OrderStatus.PENDING
    assert event.tiers.get().sold == 3


def test_unpaid_orders_expire_at_read_time_and_in_beat_and_the_promoter_is_told(tenant, owner):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 2),), pay_at_door_hold_hours=2)
    order = pay(tenant, open_checkout(tenant, event, 2), provider="pay_at_door")
    assert order.expires_at is not None
    later = timezone.now() + timedelta(hours=3)
    # Read time: a new buyer gets the seats (the stale hold is cancelled first), no "sold out".
    session = services.checkout_open(
        tenant=tenant, event=event, quantities={event.tiers.get().id: 2}, now=later
    )
    assert session.status == SessionStatus.ACTIVE
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.tickets.filter(status=TicketStatus.CANCELLED).count() == 2
    assert OutboxMessage.objects.filter(event_type="orders.expired").exists()
    assert OutboxMessage.objects.filter(event_type="order.cancelled", customer=order.customer).exists()
    with pytest.raises(InvalidTransition):
        services.order_mark_paid(tenant=tenant, actor=None, order=order)


def test_beat_expires_unpaid_orders_and_the_door_refuses_them_before(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 5),), pay_at_door_hold_hours=1)
    order = pay(tenant, open_checkout(tenant, event, 1), provider="pay_at_door")
    later = timezone.now() + timedelta(hours=2)
    ticket = order.tickets.get()
    answer = services.ticket_check_in(tenant=tenant, actor=None, event=event, code=ticket.code, now=later)
    assert answer.outcome == "unpaid_expired"
    with pytest.raises(InvalidTransition):
        services.order_mark_paid(tenant=tenant, actor=None, order=order, now=later)
    assert orders_expire_unpaid(now=later) == 1
    assert orders_expire_unpaid(now=later) == 0
    assert TicketTier.objects.get(event=event).sold == 0


# --- 3. checkouts are bound to their holder ---------------------------------------------------------------


def test_a_checkout_link_from_another_browser_is_refused_and_the_holder_keeps_it(tenant):
    event = make_event(tenant=tenant)
    holder, other = Client(), Client()
    start = reverse("ticketing_public:checkout_start", args=[tenant.slug, event.slug])
    page = holder.post(start, {f"tier_{event.tiers.get().id}": "2"})["Location"]
    holder.post(page, {"step": "details", "name": "Holder", "email": "holder@example.test"})
    seen = other.get(page)
    assert seen.status_code == 403 and "holder@example.test" not in seen.content.decode()
    cancel = reverse(
        "ticketing_public:checkout_abandon", args=[tenant.slug, CheckoutSession.objects.get().token]
    )
    assert other.post(cancel).status_code == 403
    assert (
        other.post(page, {"step": "details", "name": "Mallory", "email": "m@example.test"}).status_code == 403
    )
    session = CheckoutSession.objects.get()
    assert session.status == SessionStatus.ACTIVE and session.buyer_email == "holder@example.test"
    assert holder.get(page).status_code == 200


def test_the_order_page_does_not_show_the_buyers_email(tenant, client):
    event = make_event(tenant=tenant)
    order = buy(
        tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, email="jane.doe@example.test"
    )
    body = client.get(
        reverse("ticketing_public:order", args=[tenant.slug, order.access_token])
    ).content.decode()
    assert "jane.doe@example.test" not in body and "j•••@example.test" in body


# --- 4. lifecycles agree ----------------------------------------------------------------------------------


def test_cancelling_an_event_cancels_tickets_ends_checkouts_refunds_and_tells_buyers(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 10),))
    paid = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2})
    unpaid = buy(
        tenant=tenant,
        event=event,
        quantities={event.tiers.get().id: 1},
        email="u@example.test",
        provider="pay_at_door",
    )
    open_session = services.checkout_open(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    services.event_cancel(tenant=tenant, actor=None, event=event)
    paid.refresh_from_db()
    unpaid.refresh_from_db()
    open_session.refresh_from_db()
    assert paid.status == OrderStatus.REFUNDED and unpaid.status == OrderStatus.CANCELLED
    assert open_session.status != SessionStatus.ACTIVE
    ticket = paid.tickets.first()
    assert ticket.status == TicketStatus.CANCELLED
    answer = services.ticket_check_in(tenant=tenant, actor=None, event=event, code=ticket.code)
    assert answer.outcome == "event_cancelled" and "cancelled" in answer.message.lower()
    # Each buyer is told: the refund through the payments refund service, the cancellation here.
    assert OutboxMessage.objects.filter(event_type="order.cancelled", customer=unpaid.customer).count() == 1
    assert OutboxMessage.objects.filter(event_type="order.refunded", customer=paid.customer).exists()


def test_turning_on_the_waiting_room_creates_its_settings_so_the_link_works(tenant, client):
    event = make_event(tenant=tenant)
    assert not WaitingRoom.objects.filter(event=event).exists()
    services.event_update(tenant=tenant, actor=None, event=event, waiting_room_enabled=True)
    assert WaitingRoom.objects.filter(event=event).exists()
    url = reverse("waitingroom_public:room", args=[tenant.slug, event.slug])
    assert client.get(url).status_code == 200


def test_tiers_cannot_add_up_past_the_capacity_unless_the_promoter_raises_it(tenant):
    venue = VenueFactory(tenant=tenant, capacity=100)
    event = make_event(
        tenant=tenant, venue=venue, tiers=(("General", 1000, 60),), capacity=100, on_sale=False
    )
    with pytest.raises(ValidationError) as refused:
        services.tier_create(
            tenant=tenant, actor=None, event=event, name="VIP", price_cents=5000, quantity=50
        )
    assert "quantity" in refused.value.field_errors
    with pytest.raises(ValidationError):
        services.tier_update(tenant=tenant, actor=None, tier=event.tiers.get(), quantity=101)
    with pytest.raises(ValidationError):
        services.event_update(tenant=tenant, actor=None, event=event, capacity=50)
    services.event_update(tenant=tenant, actor=None, event=event, capacity=110)
    services.tier_create(tenant=tenant, actor=None, event=event, name="VIP", price_cents=5000, quantity=50)


def test_an_event_cannot_be_created_to_start_in_the_past(tenant):
    venue = VenueFactory(tenant=tenant)
    yesterday = timezone.now() - timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.event_create(
            tenant=tenant,
            actor=None,
            venue=venue,
            title="Late",
            starts_at=yesterday,
            ends_at=yesterday + timedelta(hours=2),
        )
    assert "starts_at" in refused.value.field_errors
    assert not Event.objects.exists()


# --- 9. the order keeps its own contact -------------------------------------------------------------------


def test_an_order_keeps_the_contact_typed_and_a_stranger_cannot_rename_the_customer(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 10),))
    tier = event.tiers.get()
    first = buy(tenant=tenant, event=event, quantities={tier.id: 1}, email="fan@example.test")
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
    session = services.checkout_set_customer(
        tenant=tenant, session=session, name="Mallory", email="fan@example.test"
    )
    second = pay(tenant, session)
    first.customer.refresh_from_db()
    assert first.customer.name == "Buyer"  # unchanged by the anonymous second purchase
    assert (first.buyer_name, second.buyer_name) == ("Buyer", "Mallory")
