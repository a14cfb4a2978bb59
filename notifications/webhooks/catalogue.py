"""The webhook event catalogue: every event type a tenant's endpoint can subscribe to, in one place.

Each type names the resource it is about (``resource`` in :func:`notifications.webhooks.emit`); the
payload's ``data`` is built from that resource by :mod:`notifications.webhooks.payloads`, so every
emitter of one type sends the same shape. Adding a type: add it here, give its resource a payload
builder, and call ``emit`` from the service that makes the change, inside its transaction.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.TextChoices):
    TICKET_SUBMITTED = "ticket.submitted", _("A queue ticket was submitted")
    TICKET_TRANSITIONED = "ticket.transitioned", _("A queue ticket changed state")
    ORDER_PAID = "order.paid", _("An order was paid")
    ORDER_CANCELLED = "order.cancelled", _("An order was cancelled")
    ORDER_REFUNDED = "order.refunded", _("An order was refunded")
    CHECKIN_RECORDED = "checkin.recorded", _("A ticket was checked in at the door")
    WAITLIST_OFFERED = "waitlist.offered", _("A waitlist entry got an offer")
    SUPPORT_TICKET_SUBMITTED = "support.ticket.submitted", _("A help-desk ticket was submitted")
    SUPPORT_TICKET_TRANSITIONED = "support.ticket.transitioned", _("A help-desk ticket changed state")
    SUPPORT_TICKET_ASSIGNED = "support.ticket.assigned", _("A help-desk ticket was assigned")
    SUPPORT_TICKET_COMMENTED = "support.ticket.commented", _("A public reply on a help-desk ticket")
    SUPPORT_TICKET_ESCALATED = "support.ticket.escalated", _("A help-desk ticket was escalated")


# Groups for the subscription form (the label is the family, e.g. "support.ticket.*").
GROUPS: list[tuple[str, list[str]]] = [
    (_("Queue tickets (ticket.*)"), [WebhookEvent.TICKET_SUBMITTED, WebhookEvent.TICKET_TRANSITIONED]),
    (
        _("Orders (order.*)"),
        [WebhookEvent.ORDER_PAID, WebhookEvent.ORDER_CANCELLED, WebhookEvent.ORDER_REFUNDED],
    ),
    (_("Door (checkin.*)"), [WebhookEvent.CHECKIN_RECORDED]),
    (_("Waitlists (waitlist.*)"), [WebhookEvent.WAITLIST_OFFERED]),
    (
        _("Help desk (support.ticket.*)"),
        [
            WebhookEvent.SUPPORT_TICKET_SUBMITTED,
            WebhookEvent.SUPPORT_TICKET_TRANSITIONED,
            WebhookEvent.SUPPORT_TICKET_ASSIGNED,
            WebhookEvent.SUPPORT_TICKET_COMMENTED,
            WebhookEvent.SUPPORT_TICKET_ESCALATED,
        ],
    ),
]

assert sorted(v for _, values in GROUPS for v in values) == sorted(WebhookEvent.values)  # noqa: S101
