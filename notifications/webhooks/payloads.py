"""The ``data`` object of each webhook, built from the resource the event is about.

One builder per resource model (keyed by ``app_label.model``), so every event about a resource has the
same shape whichever service emitted it. Builders read attributes already loaded by the calling service
where they can (they run inside its transaction); identifiers are the public ones (references, codes),
never database ids alone. Customer contact details are included: the receiver is the tenant's own system.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import Model


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _customer(customer) -> dict | None:
    if customer is None:
        return None
    return {"id": customer.pk, "name": customer.name, "email": customer.email}


def queue_ticket(ticket) -> dict:
    queue = ticket.queue
    return {
        "object": "queue_ticket",
        "reference": ticket.reference,
        "queue": {"slug": queue.slug, "name": queue.name, "kind": queue.kind},
        "lane": ticket.lane.name,
        "state": ticket.state,
        "phase": ticket.phase,
        "title": ticket.title,
        "priority": ticket.priority,
        "tip_cents": ticket.tip_cents,
        "currency": ticket.currency,
        "assignee": ticket.assignee.email if ticket.assignee_id else None,
        "customer": _customer(ticket.customer) if ticket.customer_id else None,
        "custom_data": ticket.custom_data,
        "submitted_at": _when(ticket.submitted_at) if isinstance(ticket.submitted_at, datetime) else None,
        "due_at": _when(ticket.due_at),
    }


def comment(comment) -> dict:
    """A public comment on a ticket (internal notes are never sent)."""
    return {
        "id": comment.pk,
        "body": comment.body,
        "author": "customer" if comment.author_customer_id else "team",
        "created_at": _when(comment.created_at),
    }


def order(order) -> dict:
    event = order.event
    return {
        "object": "order",
        "reference": order.reference,
        "status": order.status,
        "event": {"slug": event.slug, "title": event.title, "starts_at": _when(event.starts_at)},
        "customer": _customer(order.customer),
        "subtotal_cents": order.subtotal_cents,
        "fee_cents": order.fee_cents,
        "tax_cents": order.tax_cents,
        "total_cents": order.total_cents,
        "currency": order.currency,
        "payment_provider": order.payment_provider,
        "paid_at": _when(order.paid_at),
        "cancelled_at": _when(order.cancelled_at),
        "refunded_at": _when(order.refunded_at),
    }


def issued_ticket(ticket) -> dict:
    return {
        "object": "issued_ticket",
        "code": ticket.code,
        "status": ticket.status,
        "order": ticket.order.reference,
        "tier": ticket.tier.name,
        "event": ticket.event.slug if hasattr(ticket, "event") else None,
        "used_at": _when(ticket.used_at),
        "used_by": ticket.used_by.email if ticket.used_by_id else None,
    }


def waitlist_entry(entry) -> dict:
    tier = entry.offered_tier
    return {
        "object": "waitlist_entry",
        "id": entry.pk,
        "status": entry.status,
        "event": entry.event.slug,
        "quantity": entry.quantity,
        "customer": _customer(entry.customer),
        "offered_tier": tier.name if tier is not None else None,
        "offered_at": _when(entry.offered_at),
        "offer_expires_at": _when(entry.offer_expires_at),
    }


BUILDERS: dict[str, Callable[[Model], dict]] = {
    "queues.ticket": queue_ticket,
    "ticketing.order": order,
    "ticketing.issuedticket": issued_ticket,
    "waitlists.waitlistentry": waitlist_entry,
}


def build(resource: Model) -> dict:
    builder = BUILDERS.get(resource._meta.label_lower)
    if builder is None:
        raise ValueError(f"No webhook payload for {resource._meta.label_lower}; add one to BUILDERS")
    return builder(resource)
