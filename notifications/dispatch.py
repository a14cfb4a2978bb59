"""The outbox dispatcher: claim due messages, deliver them outside any transaction, record the outcome.

Rules this module enforces:
- Claiming is one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` over pending, due, unclaimed
  messages, then ``attempts += 1`` and a lease (``claimed_until``). Two dispatchers never claim the same
  message: the second skips the locked row while the first claims it, and ignores it once the lease is
  written. No transaction stays open across network I/O.
- A lease that expires means its worker died (the lease outlives the Celery hard time limit); the sweep
  records that attempt as lost and claims the message again, so a killed worker loses nothing. Counting
  attempts at claim time means a message that keeps killing workers still reaches its cap.
- Finishing locks the row (``FOR UPDATE``) and fires one FSM transition: sent, or failed after
  ``max_attempts``; otherwise it stays pending with ``next_attempt_at`` pushed back exponentially.
- Delivery is at-least-once with a duplicate only if a worker dies between sending and recording; every
  delivery carries the message id so receivers can drop that duplicate.
- Webhooks are ordered per (endpoint, resource): a message is not claimed while an earlier message for
  the same endpoint and resource is still pending (in backoff, or claimed by another dispatcher), so a
  receiver that was down gets a resource's events in the order they happened. A message that ends
  (sent, or failed for good) releases the next one, which this run delivers at once.
- Each webhook attempt also updates its endpoint's failure streak in a transaction of its own, after the
  message's (lock order: message, then endpoint, never both at once); a long enough streak disables the
  endpoint (``notifications.webhooks.services.endpoint_record_attempt``).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from notifications import conf
from notifications.channels import PermanentDeliveryError, deliver
from notifications.models import DeliveryAttempt, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# Stored in English; the delivery log translates it when it shows it.
LOST_ERROR = gettext_noop("The worker stopped before recording this attempt (claim expired); retried.")


def claim_due(
    *, message_ids: list[int] | None = None, now: datetime | None = None, limit: int | None = None
) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages (all of ``message_ids`` that are due, when given).

    Locks: row locks with SKIP LOCKED for the length of one short transaction. Returns the claimed
    messages with ``attempts`` already counting this attempt.
    """
    now = now or timezone.now()
    limit = limit or conf.batch_size()
    earlier_pending = OutboxMessage.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        related_type=OuterRef("related_type"),
        related_id=OuterRef("related_id"),
        status=OutboxStatus.PENDING,
        pk__lt=OuterRef("pk"),
    )
    with transaction.atomic():
        queryset = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "tenant")
            .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .filter(Q(endpoint__isnull=True) | ~Exists(earlier_pending))
            .order_by("next_attempt_at", "pk")
        )
        if message_ids is not None:
            queryset = queryset.filter(pk__in=message_ids)
        rows = list(queryset[:limit])
        claimable = []
        for message in rows:
            if message.claimed_until is not None:
                _record_lost_attempt(message, now)
            if message.attempts >= message.max_attempts:
                message.mark_failed()
                message.claimed_until = None
                message.last_error = message.last_error or LOST_ERROR
                message.save(update_fields=["status", "claimed_until", "last_error", "updated_at"])
                continue
            claimable.append(message)
        if not claimable:
            return []
        lease_end = now + timedelta(seconds=conf.claim_seconds())
        OutboxMessage.objects.filter(pk__in=[m.pk for m in claimable]).update(
            attempts=F("attempts") + 1, claimed_until=lease_end, updated_at=now
        )
        for message in claimable:
            message.attempts += 1
            message.claimed_until = lease_end
        return claimable


def _record_lost_attempt(message: OutboxMessage, now: datetime) -> None:
    started = message.claimed_until - timedelta(seconds=conf.claim_seconds())
    DeliveryAttempt.objects.get_or_create(
        message=message,
        number=message.attempts,
        defaults={
            "tenant_id": message.tenant_id,
            "started_at": started,
            "finished_at": max(now, started),
            "succeeded": False,
            "error": LOST_ERROR,
        },
    )
    logger.warning("outbox: message %s attempt %s was lost with its worker", message.pk, message.attempts)


def deliver_claimed(message: OutboxMessage, *, now: datetime | None = None) -> bool:
    """Deliver one claimed message and record the outcome. Returns True when it was sent."""
    started_at = now or timezone.now()
    clock = timezone.now()
    error = ""
    status = None
    permanent = False
    try:
        result = deliver(message)
        status = result.response_status
    except PermanentDeliveryError as exc:
        error, permanent = str(exc), True
    except Exception as exc:  # noqa: BLE001 - any channel failure is recorded and retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
        status = getattr(exc, "status", None)
    finished_at = started_at + (timezone.now() - clock)
    succeeded = finish_attempt(
        message_id=message.pk,
        number=message.attempts,
        error=error,
        permanent=permanent,
        response_status=status,
        started_at=started_at,
        finished_at=finished_at,
    )
    if message.endpoint_id is not None:
        from notifications.webhooks.services import endpoint_record_attempt

        endpoint_record_attempt(endpoint_id=message.endpoint_id, succeeded=not error, now=finished_at)
    return succeeded


@transaction.atomic
def finish_attempt(
    *,
    message_id: int,
    number: int,
    error: str,
    permanent: bool,
    response_status: int | None,
    started_at: datetime,
    finished_at: datetime,
) -> bool:
    """Record attempt ``number`` and move the message on. Locks the message row (FOR UPDATE)."""
    message = OutboxMessage.objects.select_for_update().get(pk=message_id)
    succeeded = not error
    DeliveryAttempt.objects.update_or_create(
        message=message,
        number=number,
        defaults={
            "tenant_id": message.tenant_id,
            "started_at": started_at,
            "finished_at": finished_at,
            "succeeded": succeeded,
            "error": error,
            "response_status": response_status,
        },
    )
    if message.status != OutboxStatus.PENDING:
        return False
    owns_claim = message.attempts == number
    if succeeded:
        message.mark_sent()
        message.sent_at = finished_at
        message.last_error = ""
    elif not owns_claim:
        # Our lease expired and another dispatcher owns the message now; it decides what happens next.
        return False
    else:
        message.last_error = error
        if permanent or message.attempts >= message.max_attempts:
            message.mark_failed()
            logger.warning("outbox: message %s failed after %s attempts: %s", message.pk, number, error)
        else:
            message.next_attempt_at = finished_at + timedelta(seconds=conf.backoff_seconds(number))
    if owns_claim:
        message.claimed_until = None
    message.save()
    return succeeded


def release_claims(messages: list[OutboxMessage]) -> None:
    """Give back claims this dispatcher will not use (out of time): the attempt is not counted."""
    for message in messages:
        OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxStatus.PENDING, claimed_until=message.claimed_until
        ).update(claimed_until=None, attempts=F("attempts") - 1)


def next_in_line(messages: list[OutboxMessage]) -> list[int]:
    """For webhook messages that have ended (sent or failed), the next pending message of the same
    endpoint and resource, if any: the one ordering held back."""
    ended = OutboxMessage.objects.filter(
        pk__in=[m.pk for m in messages if m.endpoint_id is not None], endpoint__isnull=False
    ).exclude(status=OutboxStatus.PENDING)
    following = []
    for endpoint_id, related_type, related_id, pk in ended.values_list(
        "endpoint_id", "related_type", "related_id", "pk"
    ):
        successor = (
            OutboxMessage.objects.filter(
                endpoint_id=endpoint_id,
                related_type=related_type,
                related_id=related_id,
                status=OutboxStatus.PENDING,
                pk__gt=pk,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if successor is not None:
            following.append(successor)
    return following


def dispatch_messages(*, message_ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Claim and deliver due messages (only ``message_ids`` when given; otherwise sweep in batches).

    After a webhook ends, the message ordering held back behind it (same endpoint and resource) is
    delivered in the same run. Stops claiming, and gives back claims it has not started, once
    ``NOTIFICATIONS_SWEEP_SECONDS`` have passed, so a run finishes well inside the Celery soft time
    limit. Returns deliveries attempted.
    """
    deadline = time.monotonic() + conf.sweep_seconds()
    attempted = 0
    while time.monotonic() < deadline:
        claimed = claim_due(message_ids=message_ids, now=now)
        for index, message in enumerate(claimed):
            if time.monotonic() >= deadline:
                release_claims(claimed[index:])
                return attempted
            deliver_claimed(message, now=now)
            attempted += 1
        following = next_in_line(claimed)
        if message_ids is not None:
            message_ids = following
            if not message_ids:
                break
        elif len(claimed) < conf.batch_size() and not following:
            break
    return attempted
