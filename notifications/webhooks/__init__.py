"""Webhooks: the one call other apps make (:func:`emit`), inside their own transaction.

Rules this package enforces:
- ``emit`` writes one outbox message per active endpoint of the tenant subscribed to the event type, in
  the caller's transaction (it refuses to run outside one): a rolled-back change never announces
  itself, a committed one always has its messages. Delivery is scheduled on commit.
- Order per resource: messages about one resource for one endpoint are delivered in the order they were
  written (``notifications.dispatch`` holds a message back while an earlier one for the same endpoint
  and resource is pending). Emitters call ``emit`` after taking the resource's lock, so writing order is
  commit order for that resource.
- Signing, delivery, backoff and the delivery log: ``notifications.channels`` and
  ``notifications.dispatch``; endpoint management (secrets, disabling, redelivery):
  ``notifications.webhooks.services``.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Model

from notifications.webhooks.catalogue import WebhookEvent

__all__ = ["WebhookEvent", "emit"]


def emit(
    *,
    tenant,
    event_type: str,
    resource: Model,
    payload: dict | None = None,
    now: datetime | None = None,
) -> list:
    """Announce ``event_type`` about ``resource`` to the tenant's subscribed webhook endpoints.

    ``payload`` is merged over the resource's standard ``data`` (``notifications.webhooks.payloads``),
    for facts only the emitter knows (the transition's name, the comment). Must run inside the caller's
    ``transaction.atomic`` (RuntimeError otherwise). One query when nobody subscribed. Takes no locks.
    Raises ValueError for an event type outside ``WebhookEvent`` or a resource of another tenant.
    Schedules delivery on commit. Returns the written messages.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications import conf
    from notifications.models import OutboxMessage, WebhookEndpoint
    from notifications.services import dispatch_soon, related_key
    from notifications.types import Channel
    from notifications.webhooks import payloads

    if event_type not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event type {event_type!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("emit() must be called inside the caller's transaction.atomic()")
    if getattr(resource, "tenant_id", tenant.pk) != tenant.pk:
        raise ValueError("The resource belongs to another tenant")
    endpoints = list(
        WebhookEndpoint.objects.filter(
            tenant=tenant, disabled_at__isnull=True, event_types__contains=[event_type]
        ).only("pk", "url")
    )
    if not endpoints:
        return []
    occurred_at = now or timezone.now()
    data = {**payloads.build(resource), **(payload or {})}
    document = {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data}
    related_type, related_id = related_key(resource)
    # Delivery runs on the real clock unless the caller's clock is behind it (tests step time from a
    # past ``now``); a simulated future ``now`` must not hold messages back.
    due_at = min(occurred_at, timezone.now())
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                tenant=tenant,
                event_type=event_type,
                channel=Channel.WEBHOOK,
                endpoint=endpoint,
                recipient=endpoint.url,
                related_type=related_type,
                related_id=related_id,
                payload=document,
                max_attempts=conf.max_attempts(),
                next_attempt_at=due_at,
            )
            for endpoint in endpoints
        ]
    )
    ids = [message.pk for message in messages]
    transaction.on_commit(lambda: dispatch_soon(ids))
    return messages


def emit_ticket_event(
    ticket, *, event: str, from_state: str, to_state: str, actor=None, note: str = "", now=None
):
    """The queue tickets' emit point: ``queues.services`` calls it for every TicketEvent it writes (before
    writing it, so a help-desk ticket's submission is announced before the routing that follows it).

    Tickets of support queues are announced as ``support.ticket.*`` (submitted, transitioned, assigned),
    the others as ``ticket.*`` (submitted, transitioned). Events that change nothing a receiver can see
    (an assignment in a plain queue, a comment-only history line) are not announced.
    """
    support = ticket.queue.kind == "support"
    if event == "submit":
        event_type = WebhookEvent.SUPPORT_TICKET_SUBMITTED if support else WebhookEvent.TICKET_SUBMITTED
    elif event == "assign":
        if not support:
            return []
        event_type = WebhookEvent.SUPPORT_TICKET_ASSIGNED
    elif from_state and to_state and from_state != to_state:
        event_type = WebhookEvent.SUPPORT_TICKET_TRANSITIONED if support else WebhookEvent.TICKET_TRANSITIONED
    else:
        return []
    transition = {
        "event": event,
        "from_state": from_state or None,
        "to_state": to_state,
        "actor": actor.email if getattr(actor, "is_authenticated", False) else None,
        "note": note,
    }
    return emit(
        tenant=ticket.tenant,
        event_type=event_type,
        resource=ticket,
        payload={"transition": transition},
        now=now,
    )
