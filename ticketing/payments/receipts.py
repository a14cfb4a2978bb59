"""Receipts: one numbered receipt per paid order, numbers sequential per tenant (R-000001, R-000002 …).

The number is taken in its own short transaction after the order's payment committed (on commit, and
again by the beat sweep for any paid order still without one), not inside the purchase: a per-tenant
counter row locked until the purchase commits would serialise every purchase of the tenant, across all
its tiers. The counter is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (gapless: a number is only
used by the transaction that also writes the receipt). A receipt therefore appears a moment after
payment; pages say "receipt being prepared" until then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from payments.models import Payment, PaymentStatus, Receipt, ReceiptCounter, Refund
from ticketing.models import Order, OrderStatus

logger = logging.getLogger(__name__)


def receipt_schedule(order: Order) -> None:
    """Inside the transaction that made ``order`` paid: number its receipt once that commits."""
    order_id = order.pk
    transaction.on_commit(lambda: _issue_quietly(order_id))


def _issue_quietly(order_id: int) -> None:
    try:
        receipt_issue(order_id=order_id)
    except Exception:  # the sweep numbers it later; the payment itself has committed
        logger.exception("receipt for order %s not numbered yet; the sweep retries", order_id)


def receipt_issue(*, order_id: int, now: datetime | None = None) -> Receipt | None:
    """Number the receipt of a paid (or since refunded) order. Idempotent: an order keeps its number.
    Locks: the tenant's counter row, for this short transaction only. Returns None for an order that
    was never paid."""
    now = now or timezone.now()
    existing = Receipt.objects.filter(order_id=order_id).first()
    if existing is not None:
        return existing
    order = Order.objects.filter(pk=order_id, paid_at__isnull=False).first()
    if order is None:
        return None
    counter_table = ReceiptCounter._meta.db_table
    try:
        with transaction.atomic(durable=True):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {counter_table} (tenant_id, last_number) VALUES (%s, 1) "  # noqa: S608
                    "ON CONFLICT (tenant_id) DO UPDATE SET last_number = "
                    f"{counter_table}.last_number + 1 RETURNING last_number",
                    [order.tenant_id],
                )
                (number,) = cursor.fetchone()
            return Receipt.objects.create(
                tenant_id=order.tenant_id, order=order, number=number, issued_at=now
            )
    except IntegrityError:
        # Numbered concurrently (the on-commit call and the sweep); that one stands, this rolled back.
        return Receipt.objects.get(order_id=order_id)


def receipts_issue_missing(*, limit: int = 500) -> int:
    """Beat: number receipts of paid orders that have none yet (an on-commit call that failed)."""
    done = 0
    missing = Order.objects.filter(paid_at__isnull=False, receipt__isnull=True).order_by("paid_at")
    for order_id in missing.values_list("pk", flat=True)[:limit]:
        if receipt_issue(order_id=order_id) is not None:
            done += 1
    return done


def money_lines(order: Order, *, method: str) -> list[str]:
    """The money part of an email about ``order`` (subtotal, fees, tax, total, how it was paid)."""
    from core.money import format_money

    def amount(cents: int) -> str:
        return format_money(cents, order.currency)

    return [
        _("Subtotal: %(amount)s") % {"amount": amount(order.subtotal_cents)},
        _("Service fees: %(amount)s") % {"amount": amount(order.fee_cents)},
        _("Tax: %(amount)s") % {"amount": amount(order.tax_cents)},
        _("Total: %(amount)s") % {"amount": amount(order.total_cents)},
        _("Payment method: %(method)s") % {"method": method},
    ]


@dataclass(frozen=True)
class ReceiptView:
    """What the order page, the printable receipt and the email show about money."""

    order: Order
    receipt: Receipt | None
    method: str
    refunds: list[Refund]
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.order.total_cents - self.refunded_cents


def receipt_view(order: Order) -> ReceiptView:
    payment = (
        Payment.objects.filter(order=order, status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED])
        .order_by("created_at")
        .first()
    )
    if payment is not None:
        method = payment.method_label
    elif order.payment_provider == "pay_at_door":
        method = _("Paid at the door") if order.status != OrderStatus.PENDING else _("To pay at the door")
    else:
        method = {"test_card": _("Card (test mode)"), "free": _("Free")}.get(
            order.payment_provider, order.payment_provider
        )
    refunds = list(order.refunds.prefetch_related("tickets__tier").order_by("created_at", "id"))
    # Failed provider calls are retried until they succeed: the money is owed, so it counts.
    refunded = sum(refund.amount_cents for refund in refunds)
    receipt = Receipt.objects.filter(order=order).first()
    return ReceiptView(order=order, receipt=receipt, method=method, refunds=refunds, refunded_cents=refunded)
