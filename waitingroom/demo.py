"""Demo content: a high-demand on-sale at nightowl-live ("The Velvet Owls — Farewell Night") behind a
waiting room that lets one person into checkout at a time, so two browsers show one buying while the other
waits. Idempotent: found by event slug; a second run changes nothing."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.utils import timezone

from ticketing import services as ticketing
from ticketing.models import Event, EventStatus, Venue
from waitingroom import services

SLUG = "the-velvet-owls-farewell-night"


def seed(tenants: dict, users: dict) -> None:
    tenant = tenants["promoter"]
    owner = users.get("promoter")
    event = Event.objects.for_tenant(tenant).filter(slug=SLUG).first()
    if event is None:
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
        day = (timezone.now() + timedelta(days=60)).astimezone(zone).date()
        starts = datetime(day.year, day.month, day.day, 21, 0, tzinfo=zone)
        event = ticketing.event_create(
            tenant=tenant,
            actor=owner,
            venue=venue,
            title="The Velvet Owls — Farewell Night",
            performer="The Velvet Owls",
            description="The last show. Expect a rush: tickets go through a waiting room.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            checkout_limit=1,
            per_order_max=4,
            currency=tenant.currency,
        )
        ticketing.tier_create(
            tenant=tenant, actor=owner, event=event, name="Standing", price_cents=3500, quantity=200,
            position=0, max_per_order=4,
        )  # fmt: skip
    if event.status == EventStatus.DRAFT:
        event = ticketing.event_publish(tenant=tenant, actor=owner, event=event)
    if not event.waiting_room_enabled:
        services.waiting_room_configure(
            tenant=tenant,
            actor=owner,
            event=event,
            enabled=True,
            admission_minutes=10,
            prequeue_shuffle=False,
        )
