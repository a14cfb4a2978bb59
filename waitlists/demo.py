"""Demo content for the promoter tenant (nightowl-live): a small sold-out event with three people on
its waitlist, so the waitlist pages and the staff view have something to show. Everything goes through
the services. Idempotent: found by event slug; a second run changes nothing."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.utils import timezone

from ticketing import services as ticketing
from ticketing.models import Event, Venue
from waitlists import services

EVENT_SLUG = "owl-sessions-acoustic-night"  # what event_create makes of the title


def seed(tenants: dict, users: dict) -> None:
    tenant = tenants["promoter"]
    owner = users.get("promoter")
    if Event.objects.for_tenant(tenant).filter(slug=EVENT_SLUG).exists():
        return
    venue = Venue.objects.for_tenant(tenant).filter(name="The Night Owl").first()
    if venue is None:
        venue = ticketing.venue_create(
            tenant=tenant,
            actor=owner,
            name="The Night Owl",
            address="12 Camden High Street",
            city="London",
            time_zone="Europe/London",
            capacity=400,
        )
    zone = zoneinfo.ZoneInfo("Europe/London")
    day = (timezone.now() + timedelta(days=20)).astimezone(zone).date()
    starts = datetime(day.year, day.month, day.day, 19, 30, tzinfo=zone)
    event = ticketing.event_create(
        tenant=tenant,
        actor=owner,
        venue=venue,
        title="Owl Sessions: Acoustic Night",
        performer="Moth Lamp",
        description="An intimate unplugged set in the back room. Only a handful of places.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        currency=tenant.currency,
    )
    tier = ticketing.tier_create(
        tenant=tenant,
        actor=owner,
        event=event,
        name="Back room",
        price_cents=1500,
        quantity=4,
        max_per_order=4,
    )
    event = ticketing.event_publish(tenant=tenant, actor=owner, event=event)
    session = ticketing.checkout_open(tenant=tenant, event=event, quantities={tier.id: 4})
    session = ticketing.checkout_set_customer(
        tenant=tenant, session=session, name="Early Fan", email="early.fan@example.com"
    )
    ticketing.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )
    event = Event.objects.get(pk=event.pk)
    for name, email, quantity in [
        ("Robin Vale", "robin.vale@example.com", 2),
        ("Sam Okafor", "sam.okafor@example.com", 1),
        ("Lee Marsh", "lee.marsh@example.com", 1),
    ]:
        services.waitlist_join(tenant=tenant, event=event, email=email, name=name, quantity=quantity)
