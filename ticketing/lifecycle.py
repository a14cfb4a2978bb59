"""Lifecycles that reach across an event's orders: cancelling an event, and unpaid (pay-at-the-door)
orders that run out.

Cancelling an event (``ticketing.services.event_cancel`` flips the status, then calls
``event_settle_cancelled`` here): every open checkout ends and releases its seats, every order is closed —
paid orders refunded through their payment provider (``orders_refund_for_event``, the one bulk-refund
entry point), unpaid ones cancelled — which cancels their tickets (the door answers "event cancelled"),
and each buyer is told through the outbox. Each order is its own transaction (order row, then its
tickets, then tiers — the house order of ``ticketing.services``), so a crash half-way leaves a consistent
state; ``events_settle_cancelled_due`` (beat) finishes whatever is left, and a second run finds nothing.

Unpaid orders: a pay-at-the-door order holds its seats until ``Order.expires_at``. Reads treat a pending
order past it as expired (availability counts its seats as free, the order page and the door say so,
"mark paid" refuses); ``orders_expire_unpaid`` makes that durable — cancels it, releases its seats, tells
the buyer and the promoter — from beat, and from the next checkout of that event (so a stale hold never
makes a sale answer "sold out").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.errors import Busy, Conflict
from tenants.models import Tenant, User
from ticketing.models import (
    CheckoutSession,
    Event,
    EventStatus,
    IssuedTicket,
    Order,
    OrderStatus,
    SessionStatus,
    TicketStatus,
)

logger = logging.getLogger(__name__)

CANCELLED_EVENT_ANSWER = gettext_lazy("Event cancelled — do not admit. The ticket was refunded or cancelled.")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- cancelled events -----------------------------------------------------------------------------


def event_settle_cancelled(
    *, tenant: Tenant, actor: User | None, event: Event, now: datetime | None = None
) -> int:
    """Close everything a cancelled event still has open: end its active checkouts (seats released),
    refund or cancel its orders (``orders_refund_for_event``). Idempotent; returns how many orders it
    closed. Raises Conflict when the event is not cancelled. Each session and order in its own
    transaction (see the module docstring for locks)."""
    from ticketing import services

    now = _now(now)
    if event.tenant_id != tenant.id:
        raise Conflict(_("That event belongs to someone else."))
    if Event.objects.values_list("status", flat=True).get(pk=event.pk) != EventStatus.CANCELLED:
        raise Conflict(_("Only a cancelled event's orders are closed this way."))
    for session in CheckoutSession.objects.filter(event=event, status=SessionStatus.ACTIVE).only(
        "pk", "tenant_id"
    ):
        services.checkout_abandon(tenant=tenant, session=session, now=now)
    return orders_refund_for_event(tenant=tenant, actor=actor, event=event, now=now)


def orders_refund_for_event(
    *, tenant: Tenant, actor: User | None, event: Event, now: datetime | None = None
) -> int:
    """The bulk refund of a cancelled event: each paid order is refunded (``order_refund``, which calls
    its payment provider's refund), each pending one cancelled (``order_cancel``), and the buyer told
    (``order.cancelled``, in the same transaction). One transaction per order; an order someone else is
    changing right now (Busy) or that changed meanwhile (Conflict) is left for the next run. Returns how
    many orders this call closed. This is the one place a payments integration extends (e.g. refunds
    that call a processor)."""
    from ticketing import services

    now = _now(now)
    closed = 0
    open_orders = Order.objects.filter(
        event=event, status__in=[OrderStatus.PAID, OrderStatus.PENDING]
    ).order_by("pk")
    for order in open_orders:
        refund = order.status == OrderStatus.PAID
        try:
            if refund:
                services.order_refund(tenant=tenant, actor=actor, order=order, now=now, notify_reason="event")
            else:
                services.order_cancel(tenant=tenant, actor=actor, order=order, now=now, notify_reason="event")
        except (Busy, Conflict) as error:
            logger.info("event %s: order %s left for the next run (%s)", event.pk, order.reference, error)
            continue
        closed += 1
    return closed


def events_settle_cancelled_due(*, now: datetime | None = None, limit: int = 50) -> int:
    """Beat: finish settling cancelled events that still have open orders or checkouts (a crash or a busy
    order during ``event_cancel``). Returns how many orders were closed."""
    now = _now(now)
    open_orders = Order.objects.filter(status__in=[OrderStatus.PAID, OrderStatus.PENDING])
    open_sessions = CheckoutSession.objects.filter(status=SessionStatus.ACTIVE)
    event_ids = set(
        open_orders.filter(event__status=EventStatus.CANCELLED).values_list("event_id", flat=True)[:limit]
    ) | set(
        open_sessions.filter(event__status=EventStatus.CANCELLED).values_list("event_id", flat=True)[:limit]
    )
    closed = 0
    for event in Event.objects.filter(pk__in=event_ids).select_related("tenant"):
        closed += event_settle_cancelled(tenant=event.tenant, actor=None, event=event, now=now)
    return closed


def notify_order_closed(*, order: Order, reason: str, now: datetime) -> None:
    """Tell the buyer their order was closed (inside the closing transaction; the outbox delivers it).
    ``reason``: ``event`` (the event was cancelled), ``unpaid`` (the pay-at-the-door hold ran out) or
    ``staff`` (a member cancelled or refunded it)."""
    from django.conf import settings
    from django.urls import reverse

    from core.money import format_money
    from notifications.services import notify
    from ticketing.texts import customer_language

    event = order.event
    refunded = order.status == OrderStatus.REFUNDED
    amount = format_money(order.total_cents, order.currency)
    order_url = settings.SITE_URL + reverse(
        "ticketing_public:order", kwargs={"tenant_slug": order.tenant.slug, "token": order.access_token}
    )
    with customer_language(order.customer):
        names = {"event": event.title}
        if reason == "event":
            why = _("%(event)s has been cancelled by the organiser.") % names
        elif reason == "unpaid":
            why = _("Your pay-at-the-door reservation for %(event)s was not paid in time.") % names
        elif refunded:
            why = _("Your order for %(event)s was refunded by the organiser.") % names
        else:
            why = _("Your order for %(event)s was cancelled by the organiser.") % names
        if refunded:
            money = _("%(amount)s is being refunded to your payment method.") % {"amount": amount}
        else:
            money = _("Nothing was charged.")
        if order.status == OrderStatus.CANCELLED and order.paid_at is not None:
            money = _("Contact the organiser about the amount you paid.")
        subject = (
            _("Your order for %(event)s was refunded")
            if refunded
            else _("Your order for %(event)s was cancelled")
        ) % names
        context = {
            "subject": subject,
            "headline": why,
            "body": "\n".join(
                [
                    why,
                    _("Order %(reference)s: its tickets are no longer valid.")
                    % {"reference": order.reference},
                    money,
                ]
            ),
            "action_url": order_url,
            "action_label": _("See your order"),
        }
    notify(
        tenant=order.tenant,
        event_type="order.cancelled",
        context=context,
        customer=order.customer,
        related=order,
        now=now,
    )


# --- unpaid (pay at the door) orders --------------------------------------------------------------


def expired_unpaid_seats(event: Event, now: datetime) -> dict[int, int]:
    """Seats per tier still counted as sold for pending orders past their expiry (reads add them back)."""
    rows = (
        IssuedTicket.objects.filter(
            event=event,
            status=TicketStatus.VALID,
            order__status=OrderStatus.PENDING,
            order__expires_at__lte=now,
        )
        .values("tier_id")
        .annotate(n=Count("id"))
    )
    return {row["tier_id"]: row["n"] for row in rows}


def orders_expire_unpaid(
    *, event_id: int | None = None, now: datetime | None = None, limit: int = 200
) -> int:
    """Cancel pending (pay-at-the-door) orders past ``expires_at`` and release their seats — of one event,
    or of all (beat). Each order in its own transaction through ``order_cancel`` (order row lock: an order
    marked paid at the same moment is either paid first and left alone, or cancelled first and "mark
    paid" is refused). The buyer is told, and the promoter once per event and run (``orders.expired``).
    Idempotent; returns how many orders this call cancelled."""
    from notifications.services import notify
    from ticketing import services

    now = _now(now)
    due = Order.objects.filter(status=OrderStatus.PENDING, expires_at__lte=now).select_related(
        "tenant", "event"
    )
    if event_id is not None:
        due = due.filter(event_id=event_id)
    cancelled: dict[int, list[Order]] = defaultdict(list)
    for order in due.order_by("expires_at")[:limit]:
        try:
            services.order_cancel(
                tenant=order.tenant, actor=None, order=order, now=now, notify_reason="unpaid"
            )
        except (Busy, Conflict):
            continue  # paid or cancelled meanwhile, or busy: the next run looks again
        cancelled[order.event_id].append(order)
    for orders in cancelled.values():
        event = orders[0].event
        references = ", ".join(order.reference for order in orders)

        def context(event=event, orders=orders, references=references) -> dict:
            # Built in each staff recipient's language (notify calls it under translation.override).
            return {
                "subject": ngettext(
                    "%(count)s unpaid reservation for %(event)s expired",
                    "%(count)s unpaid reservations for %(event)s expired",
                    len(orders),
                )
                % {"count": len(orders), "event": event.title},
                "headline": _("Unpaid pay-at-the-door reservations for %(event)s expired")
                % {"event": event.title},
                "body": _("Cancelled and their seats put back on sale: %(references)s.")
                % {"references": references},
            }

        with transaction.atomic(durable=True):
            notify(
                tenant=event.tenant,
                event_type="orders.expired",
                context=context,
                related=event,
                now=now,
            )
    return sum(len(orders) for orders in cancelled.values())


def has_expired_unpaid(event: Event, now: datetime) -> bool:
    return Order.objects.filter(event=event, status=OrderStatus.PENDING, expires_at__lte=now).exists()
