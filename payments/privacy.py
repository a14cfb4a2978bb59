"""The payments app's part of a customer's data rights: the card payments behind their orders and tips.
Payments are kept for accounting when a person is erased (amounts, states and the provider's id stay, so
refunds and reconciliation still work); what identifies the card — its brand and last four digits — is
blanked."""

from __future__ import annotations

from django.db.models import Q

from payments.models import Payment


def _payments(customers):
    return Payment.objects.filter(Q(order__customer__in=customers) | Q(ticket__customer__in=customers))


def export_customer(customers) -> dict[str, list[dict]]:
    rows = [
        {
            "purpose": payment.purpose,
            "order": payment.order.reference if payment.order_id else None,
            "queue_ticket": payment.ticket.reference if payment.ticket_id else None,
            "provider": payment.provider,
            "status": payment.status,
            "amount_cents": payment.amount_cents,
            "captured_cents": payment.captured_cents,
            "refunded_cents": payment.refunded_cents,
            "currency": payment.currency,
            "card_brand": payment.card_brand,
            "card_last4": payment.card_last4,
            "created_at": payment.created_at.isoformat(),
        }
        for payment in _payments(customers).select_related("order", "ticket").order_by("created_at", "pk")
    ]
    return {"payments": rows}


def erase_customer(customers, *, now, related=()) -> None:
    _payments(customers).update(card_brand="", card_last4="")
