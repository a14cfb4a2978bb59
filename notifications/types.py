"""Event types and channels, and who may receive what by default.

Callers pass one of the ``EventType`` values to :func:`notifications.services.notify`. The audience of an
event type decides the default channels (see ``DEFAULT_CHANNELS``); people change them with
NotificationPreference rows.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    TICKET_SUBMITTED = "ticket.submitted", _("New request or ticket submitted (staff)")
    TICKET_APPROVED = "ticket.approved", _("Your request was approved")
    TICKET_REJECTED = "ticket.rejected", _("Your request was rejected")
    TICKET_CALLED = "ticket.called", _("It is your turn")
    TICKET_COMPLETED = "ticket.completed", _("Your request was completed")
    ORDER_CONFIRMED = "order.confirmed", _("Order confirmation with tickets")
    ORDER_REFUNDED = "order.refunded", _("Refund of an order or some of its tickets")
    ORDER_CANCELLED = "order.cancelled", _("Your order was cancelled or refunded")
    ORDERS_EXPIRED = "orders.expired", _("Unpaid pay-at-the-door reservations expired (staff)")
    WAITLIST_OFFER = "waitlist.offer", _("Waitlist offer")
    SUPPORT_UPDATED = "support.updated", _("Support ticket updated")
    SUPPORT_ESCALATED = "support.escalated", _("Support ticket escalated (staff)")
    WEBHOOK_DISABLED = "webhook.disabled", _("A webhook endpoint was disabled after failures (owners)")


# Plain string constants, so callers can write ``types.TICKET_CALLED``.
TICKET_SUBMITTED = EventType.TICKET_SUBMITTED.value
TICKET_APPROVED = EventType.TICKET_APPROVED.value
TICKET_REJECTED = EventType.TICKET_REJECTED.value
TICKET_CALLED = EventType.TICKET_CALLED.value
TICKET_COMPLETED = EventType.TICKET_COMPLETED.value
ORDER_CONFIRMED = EventType.ORDER_CONFIRMED.value
ORDER_REFUNDED = EventType.ORDER_REFUNDED.value
ORDER_CANCELLED = EventType.ORDER_CANCELLED.value
ORDERS_EXPIRED = EventType.ORDERS_EXPIRED.value
WAITLIST_OFFER = EventType.WAITLIST_OFFER.value
SUPPORT_UPDATED = EventType.SUPPORT_UPDATED.value
SUPPORT_ESCALATED = EventType.SUPPORT_ESCALATED.value
WEBHOOK_DISABLED = EventType.WEBHOOK_DISABLED.value


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WEBHOOK = "webhook", _("Webhook")


# Channels a person can choose (webhooks belong to the tenant, not to a person).
PERSONAL_CHANNELS = (Channel.EMAIL.value, Channel.SMS.value)

# Events meant for the tenant's team; sent to every member when no ``user`` is given.
STAFF_EVENTS = frozenset(
    {TICKET_SUBMITTED, SUPPORT_UPDATED, SUPPORT_ESCALATED, WEBHOOK_DISABLED, ORDERS_EXPIRED}
)
# Events meant for the customer.
CUSTOMER_EVENTS = frozenset(
    {
        TICKET_APPROVED,
        TICKET_REJECTED,
        TICKET_CALLED,
        TICKET_COMPLETED,
        ORDER_CONFIRMED,
        ORDER_REFUNDED,
        ORDER_CANCELLED,
        WAITLIST_OFFER,
        SUPPORT_UPDATED,
    }
)

# Customer events that answer something the customer explicitly asked for and that carry what they need
# (their tickets, the offer they queued for). They go to email without the submission form's consent
# box; an explicit opt-out (unsubscribe / preference) still stops them. Everything else to a customer by
# email needs ``Customer.email_consent``.
ESSENTIAL_CUSTOMER_EVENTS = frozenset({ORDER_CONFIRMED, ORDER_REFUNDED, ORDER_CANCELLED, WAITLIST_OFFER})

# With no NotificationPreference row: email is on, SMS is off (no consent for texts is ever collected
# implicitly; people opt in on the preferences page).
DEFAULT_CHANNELS = {Channel.EMAIL.value: True, Channel.SMS.value: False}


def events_for_customer() -> list[tuple[str, str]]:
    return [(value, label) for value, label in EventType.choices if value in CUSTOMER_EVENTS]


def events_for_staff() -> list[tuple[str, str]]:
    return [(value, label) for value, label in EventType.choices if value in STAFF_EVENTS]
