"""Ticketing fixtures and operations shared by the purchase benchmarks (not a benchmark itself).

Everything is created through the ticketing services, exactly as production creates it. A purchase is
the buyer's three steps: ``checkout_open`` (slot + seat), ``checkout_set_customer``,
``checkout_complete`` (test card). Invariants are read back from the database afterwards.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import Count, Sum
from django.utils import timezone

_cache: dict[tuple, object] = {}


def make_sale(*, label: str, tiers: int = 1, quantity: int = 1_000_000, checkout_limit: int = 400) -> dict:
    """A tenant and an on-sale event with ``tiers`` tiers of ``quantity`` seats. Returns picklable ids."""
    from tests.factories import TenantFactory
    from tests.ticketing.factories import VenueFactory
    from ticketing import services

    suffix = secrets.token_hex(3)
    tenant = TenantFactory(slug=f"bench-{label}-{suffix}", name=f"Bench {label}")
    venue = VenueFactory(tenant=tenant, capacity=quantity * tiers)
    starts_at = timezone.now() + timedelta(days=30)
    event = services.event_create(
        tenant=tenant,
        actor=None,
        venue=venue,
        title=f"Bench {label} {suffix}",
        performer="Bench",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        checkout_limit=checkout_limit,
        per_order_max=10,
    )
    tier_ids = []
    for position in range(tiers):
        tier = services.tier_create(
            tenant=tenant,
            actor=None,
            event=event,
            name=f"Tier {position + 1}",
            price_cents=2500,
            quantity=quantity,
            position=position,
        )
        tier_ids.append(tier.id)
    services.event_publish(tenant=tenant, actor=None, event=event)
    return {"tenant_id": tenant.id, "event_id": event.id, "tier_ids": tier_ids, "tenant_slug": tenant.slug,
            "event_slug": event.slug}  # fmt: skip


def _objects(context: dict):
    key = (context["tenant_id"], context["event_id"])
    if key not in _cache:
        from tenants.models import Tenant
        from ticketing.models import Event

        tenant = Tenant.objects.get(pk=context["tenant_id"])
        _cache[key] = (tenant, Event.objects.get(pk=context["event_id"]))
    return _cache[key]


def purchase(context: dict, client: int, iteration: int) -> str:
    """One buyer buys one seat of tier ``client % len(tiers)`` (or ``context["tier_index"]``)."""
    from ticketing import services

    tenant, event = _objects(context)
    tier_ids = context["tier_ids"]
    tier_id = tier_ids[context.get("tier_index", client) % len(tier_ids)]
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier_id: 1})
    session = services.checkout_set_customer(
        tenant=tenant, session=session, name="Bench Buyer", email=f"b{client}-{iteration}@bench.test"
    )
    services.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242 4242 4242 4242"},
        idempotency_key=secrets.token_hex(8),
    )
    return "ok"


def check_invariants(report, label: str, context: dict, *, expected_orders: int | None = None) -> dict:
    """No oversell, no lost or phantom order, one issued ticket per sold seat, nothing left held."""
    from ticketing.models import IssuedTicket, Order, OrderItem, TicketTier

    tiers = list(
        TicketTier.objects.filter(event_id=context["event_id"]).values("id", "quantity", "sold", "reserved")
    )
    oversold = [tier["id"] for tier in tiers if tier["sold"] + tier["reserved"] > tier["quantity"]]
    report.invariant(f"{label}: no oversell", not oversold, f"tiers over quantity: {oversold}")
    sold_items = dict(
        OrderItem.objects.filter(order__event_id=context["event_id"])
        .values_list("tier_id")
        .annotate(n=Sum("quantity"))
    )
    mismatched = [tier["id"] for tier in tiers if sold_items.get(tier["id"], 0) != tier["sold"]]
    report.invariant(
        f"{label}: sold counters equal ordered seats", not mismatched, f"mismatched tiers: {mismatched}"
    )
    orders = Order.objects.filter(event_id=context["event_id"]).count()
    tickets = IssuedTicket.objects.filter(event_id=context["event_id"]).count()
    sold = sum(tier["sold"] for tier in tiers)
    report.invariant(
        f"{label}: one issued ticket per sold seat", tickets == sold, f"{tickets} tickets, {sold} sold"
    )
    if expected_orders is not None:
        report.invariant(
            f"{label}: every successful purchase has exactly one order",
            orders == expected_orders,
            f"{orders} orders for {expected_orders} successful purchases",
        )
    duplicates = (
        Order.objects.filter(event_id=context["event_id"])
        .values("session_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    report.invariant(f"{label}: no session paid twice", not duplicates.exists())
    return {"orders": orders, "sold": sold, "tickets": tickets}
