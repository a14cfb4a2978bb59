"""The notifications app's part of a customer's data rights.

Withdrawing email consent: ``notify`` already reads ``Customer.email_consent`` for every new message;
this also stops the customer's not-yet-claimed pending emails that needed consent (essential ones —
order confirmations, waitlist offers — are not consent-based, see ``notifications.services``).
Erasure: every pending message to the person stops, and the address and text of all their messages
are erased from the outbox (the delivery log keeps that a message existed). A message a dispatcher is
delivering at this moment (claimed, lease running) is left to finish.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_noop

from notifications.models import NotificationPreference, OutboxMessage, OutboxStatus
from notifications.types import ESSENTIAL_CUSTOMER_EVENTS, Channel


def _stop(messages, *, now, reason: str) -> None:
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    for message in (
        messages.filter(status=OutboxStatus.PENDING).filter(unclaimed).select_for_update(skip_locked=True)
    ):
        message.mark_failed()
        message.last_error = reason
        message.save(update_fields=["status", "last_error", "updated_at"])


def withdraw_consent(customers, *, now) -> None:
    messages = OutboxMessage.objects.filter(customer__in=customers, channel=Channel.EMAIL).exclude(
        event_type__in=ESSENTIAL_CUSTOMER_EVENTS
    )
    _stop(messages, now=now, reason=gettext_noop("Not sent: the customer withdrew email consent."))


def erase_customer(customers, *, now, related=()) -> None:
    """``related``: ``(related_type, related_id)`` of the person's things (their tickets, orders…), whose
    messages to the team or the tenant's webhook quote what the person wrote."""
    about_them = Q(pk__in=[])
    for related_type, related_id in related:
        about_them |= Q(related_type=related_type, related_id=related_id)
    for customer in customers:
        about_them |= Q(customer=customer)
    messages = OutboxMessage.objects.filter(about_them)
    _stop(
        messages,
        now=now,
        reason=gettext_noop("Not sent: the customer's personal data was erased at their request."),
    )
    OutboxMessage.objects.filter(customer__in=customers).update(recipient="[erased]")
    messages.update(payload={})
    NotificationPreference.objects.filter(customer__in=customers).delete()
