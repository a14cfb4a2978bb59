"""Waitlist test helpers. Everything goes through the services (events, tiers, joins, purchases)."""

from __future__ import annotations

from tests.ticketing.factories import buy, make_event  # noqa: F401 - re-exported for tests
from ticketing.models import TicketTier
from waitlists import services
from waitlists.models import WaitlistEntry


def fresh(instance):
    """FSM fields are protected, so ``refresh_from_db`` cannot reassign them; fetch a new instance."""
    return type(instance).objects.get(pk=instance.pk)


def sold_out_event(*, tenant, tiers=(("General", 2500, 3),), **fields):
    """A published event whose tiers are all bought out (one order per tier). Returns (event, orders)."""
    event = make_event(tenant=tenant, tiers=tiers, **fields)
    orders = []
    for tier in event.tiers.order_by("position"):
        orders.append(
            buy(tenant=tenant, event=event, quantities={tier.id: tier.quantity}, email=f"{tier.name}@x.test")
        )
    return event, orders


def join(*, tenant, event, n=1, tier=None, email=None, now=None) -> WaitlistEntry:
    entry, _ = services.waitlist_join(
        tenant=tenant,
        event=event,
        email=email or f"w{WaitlistEntry.objects.count()}@example.test",
        quantity=n,
        tier=tier,
        now=now,
    )
    return entry


def tier_counts(tier_id: int) -> tuple[int, int, int]:
    tier = TicketTier.objects.get(pk=tier_id)
    return tier.quantity, tier.sold, tier.reserved
