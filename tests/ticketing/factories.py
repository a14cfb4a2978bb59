"""Ticketing factories. Events and tiers are created through the services (so slots, snapshots and
the search vector exist exactly as in production)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from tests.factories import CustomerFactory, TenantFactory  # noqa: F401 - re-exported for tests
from ticketing import services
from ticketing.models import Venue


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Hall {n}")
    address = "1 Main Street"
    city = "London"
    time_zone = "Europe/London"
    capacity = 500


def make_event(
    *,
    tenant,
    venue=None,
    title="Night Owls Live",
    performer="The Owls",
    starts_at=None,
    on_sale=True,
    tiers=(("General", 2500, 10),),
    **fields,
):
    """An event with tiers ``(name, price_cents, quantity)``, published unless ``on_sale=False``."""
    venue = venue or VenueFactory(tenant=tenant)
    starts_at = starts_at or timezone.now() + timedelta(days=30)
    fields.setdefault("ends_at", starts_at + timedelta(hours=3))
    # Room for the tiers asked for (capacity checks have their own tests).
    fields.setdefault("capacity", max(venue.capacity, sum(quantity for _name, _price, quantity in tiers)))
    if starts_at <= timezone.now():
        # A past event is one created back then (no event can be created to start in the past).
        fields.setdefault("now", starts_at - timedelta(days=1))
    event = services.event_create(
        tenant=tenant,
        actor=None,
        venue=venue,
        title=title,
        performer=performer,
        starts_at=starts_at,
        **fields,
    )
    for position, (name, price, quantity) in enumerate(tiers):
        services.tier_create(
            tenant=tenant,
            actor=None,
            event=event,
            name=name,
            price_cents=price,
            quantity=quantity,
            position=position,
        )
    if on_sale:
        event = services.event_publish(tenant=tenant, actor=None, event=event)
    return event


def buy(*, tenant, event, quantities, email="buyer@example.test", provider="test_card", now=None, key=""):
    """Open a checkout, set the buyer and pay with the good test card. Returns the order."""
    session = services.checkout_open(tenant=tenant, event=event, quantities=quantities, now=now)
    session = services.checkout_set_customer(
        tenant=tenant, session=session, name="Buyer", email=email, now=now
    )
    return services.checkout_complete(
        tenant=tenant,
        session=session,
        provider=provider,
        payment_details={"card_number": "4242 4242 4242 4242"},
        idempotency_key=key,
        now=now,
    )
