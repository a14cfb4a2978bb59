"""Notifications write path: announce an event (``notify``), retry a message, change preferences.

Consent policy (what reaches a customer's inbox):
- Queue-ticket updates (``ticket.approved/rejected/called/completed``) and help-desk updates
  (``support.updated``) go to a customer's email only when ``Customer.email_consent`` is true — the
  email-consent box on the submission form. Without it the customer follows the status page instead.
- ``order.confirmed`` (their tickets) and ``waitlist.offer`` (the offer they queued for) are essential
  answers to something the customer explicitly did, and go to email without that box.
- An explicit opt-out always wins: a NotificationPreference row with ``enabled=False`` (the signed
  unsubscribe link in every email writes one) stops that event type on that channel, essential or not.
- SMS is opt-in only (no row → off), and needs a phone number. Staff (users) get email by default.
- Webhooks are not people: the tenant's endpoints get their own catalogue of events, written by
  ``notifications.webhooks.emit`` from the services that make the change (``notify`` writes none).

Transactions: ``notify`` runs inside the caller's transaction (it refuses to run outside one), so the
message rows commit or roll back with the change they announce; delivery is scheduled with
``transaction.on_commit``. If the broker is down at commit the beat sweep delivers instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.functional import Promise

from core.errors import NotFound
from core.i18n import recipient_language
from notifications import conf
from notifications.models import NotificationPreference, OutboxMessage, OutboxStatus
from notifications.types import (
    CUSTOMER_EVENTS,
    DEFAULT_CHANNELS,
    ESSENTIAL_CUSTOMER_EVENTS,
    PERSONAL_CHANNELS,
    STAFF_EVENTS,
    Channel,
    EventType,
)

logger = logging.getLogger(__name__)

STANDARD_CONTEXT_KEYS = ("subject", "headline", "body", "action_url", "action_label")


def absolute_url(url: str) -> str:
    if not url:
        return ""
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.SITE_URL}/{url.lstrip('/')}"


def related_key(related: Model | None) -> tuple[str, str]:
    """``(related_type, related_id)`` for a model instance, e.g. ``("queues.ticket", "17")``."""
    if related is None:
        return "", ""
    return related._meta.label_lower, str(related.pk)


def _payload(event_type: str, context) -> dict:
    # Lazy translations are resolved now, in the language being written (not when the row is saved).
    payload = {
        key: str(value) if isinstance(value, Promise) else value
        for key, value in (context() if callable(context) else context).items()
    }
    for key in STANDARD_CONTEXT_KEYS:
        payload.setdefault(key, "")
    payload["subject"] = str(payload["subject"] or EventType(event_type).label)
    payload["action_url"] = absolute_url(str(payload["action_url"] or ""))
    return payload


def _enabled(preferences: dict, owner_key: tuple, event_type: str, channel: str) -> bool:
    return preferences.get((*owner_key, event_type, channel), DEFAULT_CHANNELS[channel])


def notify(
    *,
    tenant,
    event_type: str,
    context: dict | Callable[[], dict],
    customer=None,
    user=None,
    related: Model | None = None,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Write one outbox message per channel the recipient should get for ``event_type``.

    Must run inside the caller's ``transaction.atomic`` (raises RuntimeError otherwise) so the messages
    share the fate of the change they announce. Recipients: ``customer`` (tenants.Customer), or ``user``
    (a staff member); with neither, a staff event goes to every active member of the tenant. Respects
    NotificationPreference and the consent policy in this module's docstring. Takes no locks. Raises
    ValueError for an unknown event type or a customer of another tenant. Schedules delivery of the
    written messages on commit. Returns the messages (possibly none).

    Language: each message is written for its recipient's language (``core.i18n.recipient_language``:
    the customer's remembered language, the user's saved one, else the tenant's default) and rendered in
    it at delivery. Pass ``context`` as a callable (``lambda: {"subject": _("…"), …}``) so the subject,
    headline and body are built under ``translation.override`` of that language; a plain dict is taken
    as it is (already in the caller's active language).
    """
    if event_type not in EventType.values:
        raise ValueError(f"Unknown notification event type {event_type!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("notify() must be called inside the caller's transaction.atomic()")
    if customer is not None and customer.tenant_id != tenant.pk:
        raise ValueError("The customer belongs to another tenant")
    # Delivery runs on the real clock: a caller's simulated future ``now`` must not hold messages back.
    due_at = min(now, timezone.now()) if now else timezone.now()
    payloads: dict[str, dict] = {}

    def payload_in(language: str) -> dict:
        if language not in payloads:
            with translation.override(language):
                payloads[language] = _payload(event_type, context)
        return payloads[language]

    related_type, related_id = related_key(related)
    cap = conf.max_attempts()

    def message(channel: str, recipient: str, **people) -> OutboxMessage:
        language = recipient_language(tenant=tenant, **people)
        return OutboxMessage(
            tenant=tenant,
            event_type=event_type,
            channel=channel,
            recipient=recipient,
            related_type=related_type,
            related_id=related_id,
            payload=payload_in(language),
            language=language,
            max_attempts=cap,
            next_attempt_at=due_at,
            **people,
        )

    messages: list[OutboxMessage] = []
    if customer is not None:
        if event_type in CUSTOMER_EVENTS:
            preferences = {
                ("c", p.customer_id, p.event_type, p.channel): p.enabled
                for p in NotificationPreference.objects.filter(customer=customer, event_type=event_type)
            }
            owner = ("c", customer.pk)
            consent = customer.email_consent or event_type in ESSENTIAL_CUSTOMER_EVENTS
            if customer.email and consent and _enabled(preferences, owner, event_type, Channel.EMAIL):
                messages.append(message(Channel.EMAIL, customer.email, customer=customer))
            if customer.phone and _enabled(preferences, owner, event_type, Channel.SMS):
                messages.append(message(Channel.SMS, customer.phone, customer=customer))
    else:
        if user is not None:
            users = [user]
        elif event_type in STAFF_EVENTS:
            from tenants.models import User

            users = list(User.objects.filter(memberships__tenant=tenant, is_active=True).order_by("pk"))
        else:
            users = []
        if users:
            preferences = {
                ("u", p.user_id, p.event_type, p.channel): p.enabled
                for p in NotificationPreference.objects.filter(
                    tenant=tenant, user__in=users, event_type=event_type
                )
            }
            for person in users:
                wanted = _enabled(preferences, ("u", person.pk), event_type, Channel.EMAIL)
                if person.is_active and person.email and wanted:
                    messages.append(message(Channel.EMAIL, person.email, user=person))
    if messages:
        OutboxMessage.objects.bulk_create(messages)
        ids = [m.pk for m in messages]
        transaction.on_commit(lambda: dispatch_soon(ids))
    return messages


def dispatch_soon(message_ids: list[int]) -> None:
    """Hand committed messages to a worker. A broker outage only delays them: the beat sweep (every
    ``outbox-dispatch-due`` period) delivers anything pending and due."""
    from notifications.tasks import deliver_messages

    try:
        deliver_messages.apply_async(args=[message_ids], queue=conf.task_queue())
    except Exception:  # noqa: BLE001 - the sweep is the safety net; the commit already happened
        logger.warning("outbox: could not enqueue delivery of %s; the sweep will", message_ids, exc_info=True)


@transaction.atomic(durable=True)
def message_retry(*, tenant, actor, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """Make a message due now ("retry now"). A failed message goes back to pending with a fresh budget
    of attempts; a pending one just loses its backoff wait; a sent one is left alone (delivered once).

    Locks the message row (FOR UPDATE). Raises NotFound for another tenant's message. Schedules
    delivery on commit.
    """
    now = now or timezone.now()
    message = OutboxMessage.objects.select_for_update().filter(tenant=tenant, pk=message_id).first()
    if message is None:
        raise NotFound()
    if message.status == OutboxStatus.SENT:
        return message
    if message.status == OutboxStatus.FAILED:
        message.requeue()
        message.max_attempts = message.attempts + conf.max_attempts()
    message.next_attempt_at = now
    message.claimed_until = None
    message.save()
    logger.info("outbox: message %s retried by %s", message.pk, getattr(actor, "pk", actor))
    transaction.on_commit(lambda: dispatch_soon([message.pk]))
    return message


def _preference_owner(*, tenant, user=None, customer=None) -> dict:
    if (user is None) == (customer is None):
        raise ValueError("Preferences belong to exactly one user or one customer")
    if customer is not None and customer.tenant_id != tenant.pk:
        raise NotFound()
    return {"user": user} if user is not None else {"customer": customer}


@transaction.atomic(durable=True)
def preferences_update(*, tenant, choices: dict[tuple[str, str], bool], user=None, customer=None) -> None:
    """Store ``{(event_type, channel): enabled}`` for one user (in this tenant) or one customer.

    Takes no locks beyond the unique constraints (an upsert per switch). Raises ValueError for unknown
    event types or channels (users: email only).
    """
    owner = _preference_owner(tenant=tenant, user=user, customer=customer)
    allowed = PERSONAL_CHANNELS if customer is not None else (Channel.EMAIL.value,)
    for (event_type, channel), enabled in choices.items():
        if event_type not in EventType.values or channel not in allowed:
            raise ValueError(f"Unknown preference {event_type}/{channel}")
        NotificationPreference.objects.update_or_create(
            tenant=tenant,
            event_type=event_type,
            channel=channel,
            **owner,
            defaults={"enabled": bool(enabled)},
        )


def preferences_for(*, tenant, user=None, customer=None) -> dict[tuple[str, str], bool]:
    """Every switch for one person with defaults filled in (a read, kept next to its writer)."""
    owner = _preference_owner(tenant=tenant, user=user, customer=customer)
    stored = {
        (p.event_type, p.channel): p.enabled
        for p in NotificationPreference.objects.filter(tenant=tenant, **owner)
    }
    events = CUSTOMER_EVENTS if customer is not None else STAFF_EVENTS
    # Staff have no phone number on file, and a customer without one cannot get texts.
    channels = PERSONAL_CHANNELS if customer is not None and customer.phone else (Channel.EMAIL.value,)
    return {
        (event_type, channel): stored.get((event_type, channel), DEFAULT_CHANNELS[channel])
        for event_type in EventType.values
        if event_type in events
        for channel in channels
    }
