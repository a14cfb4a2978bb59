"""Refunds: a whole order or some of its tickets, by staff, by the buyer (until the promoter's
deadline), or all orders of a cancelled event.

Order of work (so nothing is lost whatever fails):
1. One transaction (``_bounded_atomic``): lock the order, then its tickets (``FOR UPDATE``), check they
   are refundable (valid, not used), cancel them, return their seats to the tiers (``seats_released``
   on commit: waitlist offers and the waiting room get them), write a ``Refund`` row (pending) and the
   buyer's notification. An order with no valid ticket left becomes ``refunded``.
2. After commit, the provider call (Stripe: ``refunds.create`` with idempotency key ``vq-refund-<id>``),
   then a short transaction marks the refund succeeded. If the provider does not answer, the refund
   stays pending/failed and ``payments.tasks.settle`` retries it with the same key (never twice paid).
Built-in providers move no money, so their refunds succeed in step 1.

Amounts: for k refunded tickets of unit prices p, the refund is Σp plus the same share of the order's
fee and tax (``round_half_up(fee × Σp / subtotal)``, likewise tax); the refund that leaves no ticket
refunds exactly what is left of the total, so the shares always add up to what was paid.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from core.errors import Busy, DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationError
from core.money import format_money
from notifications.webhooks import emit
from payments.gateway import STRIPE, UNREACHABLE, client_for
from payments.models import EventRefundPolicy, Payment, PaymentStatus, Refund, RefundStatus
from tenants.models import Tenant, User
from ticketing import inventory
from ticketing.models import Event, IssuedTicket, Order, OrderStatus, TicketStatus
from ticketing.texts import customer_language, status_word

logger = logging.getLogger(__name__)

EVENT_CANCELLED_REASON = gettext_noop("Event cancelled")  # stored on the refund; shown through gettext

BUSY_ORDER = gettext_lazy("Someone else is changing this order or its tickets right now. Please try again.")


def _share(part: int, whole: int, amount: int) -> int:
    if whole <= 0:
        return 0
    exact = Decimal(amount) * Decimal(part) / Decimal(whole)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def refund_amount(*, order: Order, tickets: list[IssuedTicket], leaves_none: bool, already: int) -> int:
    """What refunding ``tickets`` gives back (see the module docstring)."""
    remaining = order.total_cents - already
    if leaves_none:
        return max(remaining, 0)
    prices = {item.tier_id: item.unit_price_cents for item in order.items.all()}
    part = sum(prices.get(ticket.tier_id, 0) for ticket in tickets)
    amount = part + _share(part, order.subtotal_cents, order.fee_cents)
    amount += _share(part, order.subtotal_cents, order.tax_cents)
    return min(amount, max(remaining, 0))


def order_refund_tickets(
    *,
    tenant: Tenant,
    actor: User | None,
    order: Order,
    ticket_ids: list[int] | None = None,
    reason: str = "",
    requested_by: str = "staff",
    now: datetime | None = None,
) -> Refund:
    """Refund ``ticket_ids`` of a paid ``order`` (all its valid tickets when None).

    Locks: the order row, then its tickets (``FOR UPDATE``), then the tiers (through ``inventory``).
    Raises NotFound (another tenant's order or tickets), InvalidTransition (the order is not paid —
    e.g. refunded meanwhile by someone else), ValidationError (a ticket already used or refunded, none
    chosen), Busy (lock wait ran out). Schedules on commit: ``seats_released`` and the provider call.
    Returns the Refund (its status says whether the provider has confirmed yet)."""
    from ticketing.services import _after_release, _bounded_atomic, _order_lock

    now = now or timezone.now()
    if order.tenant_id != tenant.id:
        raise NotFound()
    with _bounded_atomic(BUSY_ORDER):
        locked = _order_lock(tenant, order)
        if locked.status != OrderStatus.PAID:
            raise InvalidTransition(
                _("A %(status)s order cannot be refunded.")
                % {"status": status_word(locked.get_status_display())}
            )
        tickets_qs = IssuedTicket.objects.select_for_update().filter(order=locked).order_by("id")
        all_tickets = list(tickets_qs)
        if ticket_ids is None:
            chosen = [ticket for ticket in all_tickets if ticket.status == TicketStatus.VALID]
        else:
            wanted = {int(ticket_id) for ticket_id in ticket_ids}
            chosen = [ticket for ticket in all_tickets if ticket.id in wanted]
            if len(chosen) != len(wanted):
                raise NotFound(_("That ticket is not part of this order."))
            for ticket in chosen:
                if ticket.status == TicketStatus.USED:
                    raise ValidationError(_("A ticket that was already used at the door cannot be refunded."))
                if ticket.status == TicketStatus.CANCELLED:
                    raise ValidationError(_("That ticket was already refunded."))
        if not chosen:
            raise ValidationError(_("Choose at least one ticket to refund."))
        chosen_ids = {ticket.id for ticket in chosen}
        # No ticket left at all: refund exactly what is left of the total. No *valid* ticket left (the
        # rest were used at the door): the order is over, refunded, but used tickets are not paid back.
        leaves_none = all(t.status == TicketStatus.CANCELLED or t.id in chosen_ids for t in all_tickets)
        closes_order = all(t.status != TicketStatus.VALID or t.id in chosen_ids for t in all_tickets)
        already = Refund.objects.filter(order=locked).aggregate(total=Sum("amount_cents"))["total"] or 0
        amount = refund_amount(order=locked, tickets=chosen, leaves_none=leaves_none, already=already)
        returned: dict[int, int] = {}
        for ticket in chosen:
            ticket.cancel()
            ticket.save(update_fields=["status", "updated_at"])
            returned[ticket.tier_id] = returned.get(ticket.tier_id, 0) + 1
        inventory.return_sold(returned)
        _after_release(list(returned))
        if closes_order:
            locked.refund()
            locked.refunded_at = now
            locked.save(update_fields=["status", "refunded_at", "updated_at"])
        payment = (
            Payment.objects.filter(order=locked, status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED])
            .order_by("created_at")
            .first()
        )
        refund = Refund.objects.create(
            tenant=tenant,
            order=locked,
            payment=payment,
            amount_cents=amount,
            currency=locked.currency,
            reason=reason[:200],
            requested_by=requested_by,
            actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        )
        refund.tickets.set(chosen)
        if payment is None or payment.provider != STRIPE or amount == 0:
            # Built-in providers (test card, pay at the door, free) hold no money to send back.
            refund.status = RefundStatus.SUCCEEDED
            refund.reference = f"{locked.payment_provider}_refund_{secrets.token_hex(6)}"
            refund.succeeded_at = now
            refund.save(update_fields=["status", "reference", "succeeded_at", "updated_at"])
        _notify_refund(order=locked, refund=refund, tickets=chosen, now=now)
        emit(
            tenant=tenant,
            event_type="order.refunded",
            resource=locked,
            payload={
                "refund": {
                    "id": refund.id,
                    "amount_cents": amount,
                    "currency": refund.currency,
                    "tickets": [ticket.code for ticket in chosen],
                    "partial": not closes_order,
                    "requested_by": requested_by,
                }
            },
            now=now,
        )
        refund_id = refund.id
        if refund.status != RefundStatus.SUCCEEDED:
            transaction.on_commit(lambda: refund_execute_quietly(refund_id))
    refund.refresh_from_db()
    return refund


def refund_execute_quietly(refund_id: int) -> None:
    try:
        refund_execute(refund_id=refund_id)
    except DomainError as error:
        logger.info("refund %s not confirmed yet (%s); the settle task retries", refund_id, error.message)


def refund_execute(*, refund_id: int, now: datetime | None = None) -> Refund:
    """Ask the provider to send a recorded refund's money back. Idempotent: the provider sees the same
    key on every retry; a refund already confirmed is left alone. The provider call happens while the
    refund row is locked (``FOR UPDATE NOWAIT``; a second caller gets Busy), so it is made once at a
    time. Raises Busy when the provider does not answer (the refund is marked failed and retried)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        try:
            refund = (
                Refund.objects.select_for_update(nowait=True, of=("self",))
                .select_related("payment")
                .get(pk=refund_id)
            )
        except Exception as error:  # locked by another settle run
            raise Busy(_("This refund is being sent right now.")) from error
        if refund.status == RefundStatus.SUCCEEDED:
            return refund
        payment = refund.payment
        refund.attempts += 1
        try:
            result = client_for(refund.order.tenant).v1.refunds.create(
                params={
                    "payment_intent": payment.reference,
                    "amount": refund.amount_cents,
                    "metadata": {"vq_refund": str(refund.id), "vq_order": refund.order.reference},
                },
                options={"idempotency_key": f"vq-refund-{refund.id}"},
            )
        except stripe.StripeError as error:
            refund.status = RefundStatus.FAILED
            refund.failure_message = str(getattr(error, "user_message", "") or error)[:300]
            refund.save(update_fields=["status", "failure_message", "attempts", "updated_at"])
            failed = True
        else:
            failed = False
            refund.status = RefundStatus.SUCCEEDED
            refund.reference = str(result.id)
            refund.succeeded_at = now
            refund.failure_message = ""
            refund.save(
                update_fields=[
                    "status",
                    "reference",
                    "succeeded_at",
                    "failure_message",
                    "attempts",
                    "updated_at",
                ]
            )
            _payment_add_refunded(payment.pk, refund.amount_cents)
    if failed:
        raise Busy(str(UNREACHABLE))
    return refund


def _payment_add_refunded(payment_id: int, amount: int) -> None:
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.refunded_cents = min(payment.captured_cents, payment.refunded_cents + amount)
    if payment.refunded_cents >= payment.captured_cents:
        payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["refunded_cents", "status", "updated_at"])


def _notify_refund(*, order: Order, refund: Refund, tickets: list[IssuedTicket], now: datetime) -> None:
    from django.conf import settings
    from django.urls import reverse

    from notifications.services import notify

    order_url = settings.SITE_URL + reverse(
        "ticketing_public:order", kwargs={"tenant_slug": order.tenant.slug, "token": order.access_token}
    )
    with customer_language(order.customer):
        context = _refund_email(order=order, refund=refund, tickets=tickets, order_url=order_url)
    notify(
        tenant=order.tenant,
        event_type="order.refunded",
        context=context,
        customer=order.customer,
        related=order,
        now=now,
    )


def _refund_email(*, order: Order, refund: Refund, tickets: list[IssuedTicket], order_url: str) -> dict:
    """The refund email's texts, in the active language (the buyer's)."""
    from ticketing.payments.receipts import money_lines, receipt_view

    names = ", ".join(sorted({ticket.tier.name for ticket in tickets}))
    amount = format_money(refund.amount_cents, refund.currency)
    money = receipt_view(order)
    history = []
    for past in money.refunds:
        count = past.tickets.count()
        history.append(
            "- "
            + ngettext(
                "%(amount)s on %(date)s (%(count)s ticket)",
                "%(amount)s on %(date)s (%(count)s tickets)",
                count,
            )
            % {
                "amount": format_money(past.amount_cents, past.currency),
                "date": date_format(past.created_at, "j M Y"),
                "count": count,
            }
        )
    refunded = ngettext(
        "We refunded %(count)s ticket (%(names)s) of order %(reference)s for %(event)s.",
        "We refunded %(count)s tickets (%(names)s) of order %(reference)s for %(event)s.",
        len(tickets),
    ) % {"count": len(tickets), "names": names, "reference": order.reference, "event": order.event.title}
    body = "\n".join(
        [
            refunded,
            _("Amount: %(amount)s, to the payment method you used. Banks can take a few days to show it.")
            % {"amount": amount},
            _("Reason: %(reason)s") % {"reason": _(refund.reason)} if refund.reason else "",
            _("The refunded tickets no longer admit anyone.") if order.status == OrderStatus.PAID else "",
            "",
            *money_lines(order, method=money.method),
            _("Refunds so far:"),
            *history,
            _("Net paid: %(amount)s") % {"amount": format_money(money.net_cents, order.currency)},
        ]
    ).strip()
    return {
        "subject": _("Refund of %(amount)s for %(event)s") % {"amount": amount, "event": order.event.title},
        "headline": _("%(amount)s refunded") % {"amount": amount},
        "body": body,
        "action_url": order_url,
        "action_label": _("See your order and receipt"),
    }


def order_refund_by_buyer(
    *, tenant: Tenant, order: Order, ticket_ids: list[int] | None = None, now: datetime | None = None
) -> Refund:
    """The buyer refunds their own tickets, allowed until the event's ``buyer_refunds_until``.
    Raises PermissionDenied after the deadline (or when the promoter allows none); else as
    ``order_refund_tickets``."""
    now = now or timezone.now()
    if order.tenant_id != tenant.id:
        raise NotFound()
    policy = EventRefundPolicy.objects.filter(event_id=order.event_id).first()
    if policy is None or not policy.buyer_may_refund(now):
        raise PermissionDenied(
            _("Refunds for this event can no longer be requested here; contact the organiser.")
        )
    return order_refund_tickets(
        tenant=tenant,
        actor=None,
        order=order,
        ticket_ids=ticket_ids,
        reason=gettext_noop("Requested by the buyer"),  # stored; shown through gettext
        requested_by="buyer",
        now=now,
    )


def refund_policy_set(
    *, tenant: Tenant, actor: User | None, event: Event, buyer_refunds_until: datetime | None
) -> EventRefundPolicy:
    """Set (or clear) until when buyers may refund their own tickets for ``event``."""
    if event.tenant_id != tenant.id:
        raise NotFound()
    if buyer_refunds_until is not None and buyer_refunds_until > event.ends_at:
        raise ValidationError(
            _("The refund deadline cannot be after the event ends."),
            field_errors={"buyer_refunds_until": [_("Choose a time before the event ends.")]},
        )
    with transaction.atomic(durable=True):
        policy, _created = EventRefundPolicy.objects.update_or_create(
            event=event, defaults={"tenant": tenant, "buyer_refunds_until": buyer_refunds_until}
        )
    return policy


@dataclass
class BulkRefundSummary:
    refunded: int = 0
    cancelled: int = 0
    refunded_cents: int = 0
    failed: list[str] = field(default_factory=list)  # order references left for a retry


def event_refund_all(
    *, tenant: Tenant, actor: User | None, event: Event, reason: str = EVENT_CANCELLED_REASON, now=None
) -> BulkRefundSummary:
    """Refund every paid order of ``event`` in full and cancel every unpaid (pay-at-the-door) one —
    for a cancelled event. Each order in its own transaction (``order_refund_tickets`` /
    ``order_cancel``), so one busy order does not hold the rest back; it is listed in ``failed`` and a
    second call picks it up (orders already refunded or cancelled are skipped: idempotent).
    Locks: per order, as those services. Provider calls happen after each order's commit."""
    from ticketing.services import order_cancel

    if event.tenant_id != tenant.id:
        raise NotFound()
    now = now or timezone.now()
    summary = BulkRefundSummary()
    orders = Order.objects.filter(event=event, status__in=[OrderStatus.PAID, OrderStatus.PENDING])
    for order in orders.order_by("id").iterator():
        try:
            if order.status == OrderStatus.PAID:
                refund = order_refund_tickets(
                    tenant=tenant,
                    actor=actor,
                    order=order,
                    reason=reason,
                    requested_by="event_cancelled",
                    now=now,
                )
                summary.refunded += 1
                summary.refunded_cents += refund.amount_cents
            else:
                order_cancel(tenant=tenant, actor=actor, order=order, now=now)
                summary.cancelled += 1
        except InvalidTransition:
            continue  # refunded or cancelled meanwhile
        except (Busy, ValidationError) as error:
            logger.info("bulk refund of %s: order %s left for a retry (%s)", event.pk, order.reference, error)
            summary.failed.append(order.reference)
    return summary
