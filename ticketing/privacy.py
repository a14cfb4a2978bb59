"""The ticketing app's part of a customer's data rights: export their orders and tickets; on erasure
blank the contact each order and checkout kept (what the buyer typed). Orders are kept for accounting
when a person is erased; they stay linked to the anonymised customer row, so nothing is deleted and
every total stays as it was."""

from __future__ import annotations

from ticketing.models import IssuedTicket, Order


def export_customer(customers) -> dict[str, list[dict]]:
    orders = (
        Order.objects.filter(customer__in=customers).select_related("event").prefetch_related("items")
        .order_by("created_at", "pk")
    )  # fmt: skip
    order_rows = [
        {
            "reference": order.reference,
            "event": order.event.title,
            "event_starts_at": order.event.starts_at.isoformat(),
            "status": order.status,
            "items": [
                {"tier": item.tier_name, "quantity": item.quantity, "unit_price_cents": item.unit_price_cents}
                for item in order.items.all()
            ],
            "subtotal_cents": order.subtotal_cents,
            "fee_cents": order.fee_cents,
            "tax_cents": order.tax_cents,
            "total_cents": order.total_cents,
            "currency": order.currency,
            "payment": order.payment_provider,
            "placed_at": order.created_at.isoformat(),
        }
        for order in orders
    ]
    tickets = IssuedTicket.objects.filter(order__customer__in=customers).select_related(
        "event", "tier", "order"
    )
    ticket_rows = [
        {
            "order": ticket.order.reference,
            "event": ticket.event.title,
            "tier": ticket.tier.name,
            "status": ticket.status,
            "used_at": ticket.used_at.isoformat() if ticket.used_at else None,
        }
        for ticket in tickets.order_by("pk")
    ]
    return {"orders": order_rows, "tickets": ticket_rows}


def related_keys(customers) -> list[tuple[str, str]]:
    return [
        ("ticketing.order", str(pk))
        for pk in Order.objects.filter(customer__in=customers).values_list("pk", flat=True)
    ]


def erase_customer(customers, *, now, related=()) -> None:
    """The contact each order and checkout kept of what the buyer typed is blanked like the customer
    row; amounts, items and tickets stay for accounting."""
    from ticketing.models import CheckoutSession

    blank = {"buyer_name": "", "buyer_email": "", "buyer_phone": ""}
    Order.objects.filter(customer__in=customers).update(**blank, updated_at=now)
    CheckoutSession.objects.filter(customer__in=customers).update(**blank, updated_at=now)
