"""Demo content for the promoter tenant (nightowl-live): a venue and an on-sale event with three tiers.
Idempotent: found by venue name and event slug; a second run changes nothing."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from ticketing import services
from ticketing.models import Event, EventStatus, Venue


def seed(tenants: dict, users: dict) -> None:
    tenant = tenants["promoter"]
    owner = users.get("promoter")
    venue = Venue.objects.for_tenant(tenant).filter(name="The Night Owl").first()
    if venue is None:
        venue = services.venue_create(
            tenant=tenant,
            actor=owner,
            name="The Night Owl",
            address="12 Camden High Street",
            city="London",
            time_zone="Europe/London",
            capacity=400,
        )
    if Event.objects.for_tenant(tenant).filter(slug="midnight-echoes").exists():
        return
    zone = zoneinfo.ZoneInfo("Europe/London")
    day = (timezone.now() + timedelta(days=45)).astimezone(zone).date()
    starts = datetime(day.year, day.month, day.day, 20, 0, tzinfo=zone)
    event = services.event_create(
        tenant=tenant,
        actor=owner,
        venue=venue,
        title="Midnight Echoes",
        performer="The Velvet Owls",
        description="An evening of late-night synth pop. Support from Moth Lamp.",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3, minutes=30),
        doors_open_at=starts - timedelta(hours=1),
        fee_fixed_cents=100,
        fee_percent=Decimal("5"),
        tax_percent=Decimal("20"),
        currency=tenant.currency,
    )
    for position, (name, kind, price, quantity) in enumerate(
        [
            ("Early bird", "early_bird", 1800, 50),
            ("General admission", "general", 2500, 300),
            ("VIP balcony", "vip", 6000, 20),
        ]  # noqa: E501
    ):
        services.tier_create(
            tenant=tenant, actor=owner, event=event, name=name, kind=kind, price_cents=price,
            quantity=quantity, position=position, max_per_order=6,
        )  # fmt: skip
    if event.status == EventStatus.DRAFT:
        services.event_publish(tenant=tenant, actor=owner, event=event)
