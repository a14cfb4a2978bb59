"""Buyer-side pages of issue 16: the upcoming sale, the checkout's steps and live hold countdown."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.ticketing.factories import VenueFactory, make_event
from ticketing.events import availability_payload

pytestmark = pytest.mark.django_db


def public(name, tenant, **kwargs):
    return reverse(f"ticketing_public:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def test_event_before_its_sale_shows_when_it_opens_in_the_venue_zone(client, tenant):
    venue = VenueFactory(tenant=tenant, city="New York", time_zone="America/New_York")
    opens = datetime(2030, 7, 1, 14, 0, tzinfo=UTC)  # 10:00 in New York (EDT)
    event = make_event(
        tenant=tenant,
        venue=venue,
        title="Summer Opening",
        starts_at=datetime(2030, 8, 1, 23, 0, tzinfo=UTC),
        sale_starts_at=opens,
        sale_ends_at=opens + timedelta(days=20),
    )
    body = client.get(public("event", tenant, event_slug=event.slug)).content.decode()
    assert "Sale opens Mon 1 Jul 2030, 10:00 EDT (America/New_York)" in body
    assert "Tickets go on sale on <strong>Monday 1 July 2030, 10:00 EDT</strong>" in body
    assert "On sale</span>" not in body and 'name="tier_' not in body
    assert "Continue to checkout" not in body
    # The live badge says the same thing as the page.
    assert availability_payload(event.id)["fields"]["event-status"].startswith("Sale opens Mon 1 Jul 2030")
    listing = client.get(public("events", tenant)).content.decode()
    assert "Sale opens Mon 1 Jul, 10:00 EDT" in listing


def test_open_sale_is_on_sale_and_a_closed_one_says_so(client, tenant):
    now = timezone.now()
    event = make_event(tenant=tenant, title="Open")
    body = client.get(public("event", tenant, event_slug=event.slug)).content.decode()
    assert re.search(r'badge badge-ok"[^>]*>On sale<', body)
    closed = make_event(
        tenant=tenant,
        title="Closed",
        sale_starts_at=now + timedelta(days=1),
        sale_ends_at=now + timedelta(days=2),
    )
    assert closed.sale_state(now + timedelta(days=3)) == "sale_ended"
    assert closed.sale_state(now) == "upcoming"
    assert closed.sale_state(now + timedelta(days=1, seconds=1)) == "on_sale"
    assert closed.sale_state(closed.ends_at) == "ended"


def test_checkout_steps_are_named_once_each_and_the_hold_counts_down(client, tenant):
    event = make_event(tenant=tenant)
    tier = event.tiers.get()
    start = client.post(public("checkout_start", tenant, event_slug=event.slug), {f"tier_{tier.id}": "1"})
    body = client.get(start["Location"]).content.decode()
    steps = re.findall(r"<li[^>]*>([^<]+)</li>", body[body.index('class="steps"') :].split("</ol>")[0])
    names = [step.replace("✓", "").strip() for step in steps]
    assert names == ["Choose tickets", "Your details", "Pay", "Get your tickets"]
    assert len(set(names)) == len(names)
    # The live countdown: seconds left from the server (no trust in the device clock), a static script,
    # and the server-rendered end time for readers without JavaScript.
    seconds = int(re.search(r'data-hold-seconds="(\d+)"', body).group(1))
    assert event.checkout_minutes * 60 - 5 <= seconds <= event.checkout_minutes * 60
    assert 'role="timer"' in body and "ticketing/hold-countdown.js" in body
    assert "held until <strong>" in body
    assert "<script>" not in body and " onclick=" not in body


def test_my_tickets_puts_upcoming_valid_tickets_first_and_the_rest_apart(client, tenant, other_tenant):
    from tests.ticketing.factories import buy
    from ticketing import services
    from ticketing.models import IssuedTicket
    from ticketing.views import signed_my_tickets_token

    now = timezone.now()
    email = "fan@example.test"
    soon = make_event(tenant=tenant, title="Soon Gig", starts_at=now + timedelta(days=3))
    later = make_event(tenant=tenant, title="Later Gig", starts_at=now + timedelta(days=30))
    over = make_event(tenant=tenant, title="Over Gig", starts_at=now - timedelta(days=3))
    called_off = make_event(tenant=tenant, title="Called Off Gig", starts_at=now + timedelta(days=10))
    for event in (later, soon, called_off):
        buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, email=email)
    refunded = buy(tenant=tenant, event=soon, quantities={soon.tiers.get().id: 1}, email=email)
    services.order_cancel(tenant=tenant, actor=None, order=refunded)
    services.event_cancel(tenant=tenant, actor=None, event=called_off)
    # A ticket bought back then for the event that is now over.
    buy(
        tenant=tenant,
        event=over,
        quantities={over.tiers.get().id: 1},
        email=email,
        now=now - timedelta(days=4),
    )
    make_event(tenant=other_tenant, title="Elsewhere Gig")
    assert IssuedTicket.objects.filter(order__customer__email=email).count() == 5

    body = client.get(
        public("my_tickets", tenant, signed=signed_my_tickets_token(tenant, email))
    ).content.decode()
    upcoming = body[body.index('id="tickets-upcoming"') : body.index('id="tickets-past"')]
    past = body[body.index('id="tickets-past"') : body.index('id="tickets-cancelled"')]
    cancelled = body[body.index('id="tickets-cancelled"') :]
    assert upcoming.index("Soon Gig") < upcoming.index("Later Gig")
    assert "Over Gig" not in upcoming and "Called Off Gig" not in upcoming
    assert upcoming.count("Soon Gig") == 1  # the cancelled one is not here
    assert "Over Gig" in past and "Soon Gig" not in past
    assert "Called Off Gig" in cancelled and "Soon Gig" in cancelled
    assert "Elsewhere Gig" not in body


def test_event_page_shows_what_the_buyer_pays_and_the_order_shows_the_parts(client, tenant):
    from decimal import Decimal

    from tests.ticketing.factories import buy
    from ticketing.models import Order

    event = make_event(
        tenant=tenant,
        tiers=(("General", 2500, 10),),
        currency="GBP",
        fee_fixed_cents=100,
        fee_percent=Decimal("5"),
        tax_percent=Decimal("20"),
    )
    body = client.get(public("event", tenant, event_slug=event.slug)).content.decode()
    # 25.00 + 2.25 fee (1.00 + 5 %) + 20 % of 27.25 = 5.45 → 32.70, the amount the checkout will charge.
    assert "<strong>£32.70</strong>" in body
    assert "£25.00 + £2.25 fee + £5.45 tax" in body
    assert "Prices include service fees and 20% tax" in body
    tier = event.tiers.get()
    start = client.post(public("checkout_start", tenant, event_slug=event.slug), {f"tier_{tier.id}": "1"})
    checkout = client.get(start["Location"]).content.decode()
    assert "£32.70" in checkout  # the first page and the checkout agree

    order = buy(tenant=tenant, event=event, quantities={tier.id: 2}, email="parts@example.test")
    order = Order.objects.get(pk=order.pk)
    assert (order.subtotal_cents, order.fee_cents, order.tax_cents, order.total_cents) == (
        5000,
        450,
        1090,
        6540,
    )
    page = client.get(public("order", tenant, token=order.access_token)).content.decode()
    for label, amount in (
        ("Subtotal", "£50.00"),
        ("Service fees", "£4.50"),
        ("Tax", "£10.90"),
        ("Total", "£65.40"),
    ):
        assert re.search(rf"<th[^>]*>{label}</th><td>(<strong>)?{re.escape(amount)}", page), label
    # The confirmation (through the outbox) states the same parts.
    from notifications.models import OutboxMessage

    confirmation = OutboxMessage.objects.get(event_type="order.confirmed", related_id=str(order.pk))
    text = str(confirmation.payload)
    for line in ("Subtotal: £50.00", "Service fees: £4.50", "Tax: £10.90", "Total: £65.40"):
        assert line in text, line
