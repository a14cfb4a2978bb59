"""Ticketing reads. Expiry is applied here: seats held by a session whose ``expires_at`` has passed are
counted as available even before anyone has released them (the scheduler only makes it durable)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.times import format_zoned
from ticketing.lifecycle import expired_unpaid_seats
from ticketing.models import (
    CheckoutItem,
    CheckoutSession,
    CheckoutSlot,
    Event,
    EventStatus,
    IssuedTicket,
    Order,
    OrderItem,
    OrderStatus,
    SessionStatus,
    TicketStatus,
    TicketTier,
)

# Public event search lives in ticketing.search (re-exported: pages and sections call it from here).
from ticketing.search import PUBLIC_STATUSES, SEARCH_LIMIT, public_events  # noqa: E402, F401


def expired_holds(event: Event, now: datetime) -> dict[int, int]:
    """``{tier_id: seats}`` held by the event's sessions that are past their expiry but not yet released.

    Driven by the partial index on active sessions' expiry, so it stays cheap however many (finished)
    sessions a hot tier has had."""
    return dict(
        CheckoutItem.objects.filter(
            session__event=event, session__status=SessionStatus.ACTIVE, session__expires_at__lte=now
        )
        .values("tier_id")
        .annotate(total=Sum("quantity"))
        .values_list("tier_id", "total")
    )


def tiers_with_availability(event: Event, *, now: datetime | None = None, active_only: bool = True):
    """The event's tiers with ``expired_held``, ``expired_unpaid``, ``live_available``, ``live_held`` and
    ``live_sold`` (three queries). Seats of checkouts past their expiry and of unpaid (pay-at-the-door)
    orders past theirs count as available before anyone has released them."""
    now = now or timezone.now()
    tiers = TicketTier.objects.filter(event=event).order_by("position", "id")
    if active_only:
        tiers = tiers.filter(is_active=True)
    rows = list(tiers)
    expired = expired_holds(event, now) if rows else {}
    unpaid = expired_unpaid_seats(event, now) if rows else {}
    for tier in rows:
        tier.expired_held = expired.get(tier.id, 0)
        tier.expired_unpaid = unpaid.get(tier.id, 0)
        tier.live_available = (
            tier.quantity - tier.sold - tier.reserved + tier.expired_held + tier.expired_unpaid
        )
        tier.live_held = tier.reserved - tier.expired_held
        tier.live_sold = tier.sold - tier.expired_unpaid
        tier.on_sale_now = (tier.sale_starts_at is None or tier.sale_starts_at <= now) and (
            tier.sale_ends_at is None or now < tier.sale_ends_at
        )
    return rows


def event_availability(event_id: int, *, now: datetime | None = None) -> tuple[dict, list[dict]]:
    event = Event.objects.get(pk=event_id)
    tiers = [
        {"id": tier.id, "name": tier.name, "available": max(tier.live_available, 0)}
        for tier in tiers_with_availability(event, now=now)
    ]
    now = now or timezone.now()
    any_left = any(tier["available"] > 0 for tier in tiers)
    status_label = sale_status_label(event, now=now, any_left=any_left)
    # ``event``/``now``/``any_left`` let the live broadcast write the label in every language.
    return {
        "id": event.id,
        "status": event.status,
        "status_label": status_label,
        "checkout_free": free_checkout_places(event, now=now),
        "any_left": any_left,
        "event": event,
        "now": now,
    }, tiers


def free_checkout_places(event: Event, *, now: datetime | None = None) -> int:
    """How many of the event's checkout places are free at ``now`` (a hold past its expiry is free)."""
    return max(0, event.checkout_limit - active_checkout_count(event, now=now))


def sale_status_label(event: Event, *, now: datetime, any_left: bool) -> str:
    """The event page's status badge (also sent live): "Sale opens …" before the sale, in the venue's
    zone with the zone named, then on sale / sold out by what is left."""
    state = event.sale_state(now)
    if state == "upcoming":
        opens = format_zoned(event.sale_starts_at, event.time_zone, "D j M Y, H:i")
        return _("Sale opens %(when)s (%(zone)s)") % {"when": opens, "zone": event.time_zone}
    if state == "sale_ended":
        return str(_("Sale ended"))
    if event.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT) and state != "ended":
        return str(_("On sale") if any_left else _("Sold out"))
    return str(event.get_status_display())


def event_for_public(tenant, slug: str) -> Event:
    event = Event.objects.for_tenant(tenant).filter(slug=slug).exclude(status=EventStatus.DRAFT).first()
    if event is None:
        raise NotFound("There is no event at this address.")
    return event


def session_for_public(tenant, token: str) -> CheckoutSession:
    session = (
        CheckoutSession.objects.for_tenant(tenant)
        .select_related("event", "customer")
        .filter(token=token)
        .first()
    )
    if session is None:
        raise NotFound("This checkout does not exist. Start again from the event page.")
    return session


def session_lines(session: CheckoutSession) -> list[CheckoutItem]:
    return list(session.items.select_related("tier").order_by("tier__position", "tier_id"))


def active_checkout_count(event: Event, *, now: datetime | None = None) -> int:
    """Sessions currently holding one of the event's checkout places (for the waiting room)."""
    now = now or timezone.now()
    return CheckoutSlot.objects.filter(
        event=event, number__lte=event.checkout_limit, session__isnull=False, held_until__gt=now
    ).count()


def order_for_public(tenant, token: str) -> Order:
    order = (
        Order.objects.for_tenant(tenant)
        .select_related("event", "customer")
        .filter(access_token=token)
        .first()
    )
    if order is None:
        raise NotFound("We could not find that order.")
    return order


def order_tickets(order: Order) -> list[IssuedTicket]:
    return list(order.tickets.select_related("tier").order_by("id"))


def ticket_for_public(tenant, code: str) -> IssuedTicket:
    ticket = (
        IssuedTicket.objects.for_tenant(tenant)
        .select_related("event", "tier", "order", "order__customer")
        .filter(code=code)
        .first()
    )
    if ticket is None:
        raise NotFound("We could not find that ticket.")
    return ticket


def tickets_for_email(tenant, email: str, *, now: datetime | None = None) -> list[IssuedTicket]:
    """Tickets of the tenant's customer with this email, upcoming events first."""
    return list(
        IssuedTicket.objects.for_tenant(tenant)
        .filter(order__customer__email__iexact=email)
        .select_related("event", "tier", "order")
        .order_by("event__starts_at", "id")[:200]
    )


def my_tickets_sections(tenant, email: str, *, now: datetime | None = None) -> dict[str, list[IssuedTicket]]:
    """The buyer's tickets in three parts: ``upcoming`` (valid, for an event still ahead or on, soonest
    first), ``past`` (the event is over, or the ticket was used; latest first) and ``cancelled`` (the
    ticket or its event was cancelled; latest event first)."""
    now = now or timezone.now()
    sections: dict[str, list[IssuedTicket]] = {"upcoming": [], "past": [], "cancelled": []}
    for ticket in tickets_for_email(tenant, email, now=now):
        if ticket.status == TicketStatus.CANCELLED or ticket.event.status == EventStatus.CANCELLED:
            sections["cancelled"].append(ticket)
        elif ticket.status == TicketStatus.VALID and ticket.event.ends_at > now:
            sections["upcoming"].append(ticket)
        else:
            sections["past"].append(ticket)
    sections["past"].reverse()
    sections["cancelled"].reverse()
    return sections


def dashboard_events(tenant):
    return list(
        Event.objects.for_tenant(tenant)
        .annotate(
            tickets_sold=Coalesce(Sum("tiers__sold"), Value(0)),
            tickets_total=Coalesce(Sum("tiers__quantity"), Value(0)),
        )
        .order_by("-starts_at")[:200]
    )


def event_orders(event: Event, *, limit: int = 200):
    return list(
        Order.objects.filter(event=event)
        .select_related("customer")
        .annotate(ticket_count=Count("tickets"))
        .order_by("-created_at")[:limit]
    )


def tenant_orders(tenant, *, status: str = "", query: str = "", limit: int = 200):
    orders = Order.objects.for_tenant(tenant).select_related("customer", "event")
    if status:
        orders = orders.filter(status=status)
    if query:
        orders = orders.filter(
            Q(reference__icontains=query.strip().upper()) | Q(customer__email__icontains=query.strip())
        )
    return list(orders.order_by("-created_at")[:limit])


def sales_summary(event: Event, *, now: datetime | None = None) -> dict:
    """Per tier: sold, held, available, revenue; totals of paid-or-pending orders; sales per day."""
    now = now or timezone.now()
    tiers = tiers_with_availability(event, now=now, active_only=False)
    # Unpaid orders past their hold are as good as cancelled (the sweep only makes it durable).
    live_orders = Order.objects.filter(event=event).filter(
        Q(status=OrderStatus.PAID)
        | Q(status=OrderStatus.PENDING) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )
    revenue_by_tier = dict(
        OrderItem.objects.filter(order__in=live_orders)
        .values("tier_id")
        .annotate(total=Sum("quantity"))
        .values_list("tier_id", "total")
    )
    money_by_tier = {}
    for tier_id, quantity, unit in OrderItem.objects.filter(order__in=live_orders).values_list(
        "tier_id", "quantity", "unit_price_cents"
    ):
        money_by_tier[tier_id] = money_by_tier.get(tier_id, 0) + quantity * unit
    totals = live_orders.aggregate(
        subtotal=Coalesce(Sum("subtotal_cents"), Value(0)),
        fees=Coalesce(Sum("fee_cents"), Value(0)),
        tax=Coalesce(Sum("tax_cents"), Value(0)),
        total=Coalesce(Sum("total_cents"), Value(0)),
        orders=Count("id"),
    )
    zone = event.zone
    per_day = list(
        IssuedTicket.objects.filter(event=event)
        .exclude(status=TicketStatus.CANCELLED)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("id"))
        .order_by("day")
    )
    rows = [
        {
            "tier": tier,
            "sold": max(tier.live_sold, 0),
            "held": max(tier.live_held, 0),
            "available": max(tier.live_available, 0),
            "revenue_cents": money_by_tier.get(tier.id, 0),
            "orders_quantity": revenue_by_tier.get(tier.id, 0),
        }
        for tier in tiers
    ]
    return {
        "rows": rows,
        "totals": totals,
        "sold": sum(row["sold"] for row in rows),
        "held": sum(row["held"] for row in rows),
        "available": sum(row["available"] for row in rows),
        "per_day": per_day,
        "checked_in": IssuedTicket.objects.filter(event=event, status=TicketStatus.USED).count(),
    }


def checked_in_count(event: Event) -> dict:
    counts = dict(
        IssuedTicket.objects.filter(event=event)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {"used": counts.get(TicketStatus.USED, 0), "valid": counts.get(TicketStatus.VALID, 0)}
