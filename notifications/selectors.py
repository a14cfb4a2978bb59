"""Reads for the delivery log. Every read is scoped to one tenant."""

from __future__ import annotations

from django.db.models import Model, Prefetch, QuerySet

from core.errors import NotFound
from notifications.models import DeliveryAttempt, OutboxMessage
from notifications.services import related_key


def parse_related(text: str) -> tuple[str, str] | None:
    """``"queues.ticket:123"`` → ``("queues.ticket", "123")``; None when malformed."""
    related_type, _, related_id = (text or "").partition(":")
    if not related_type or not related_id or "." not in related_type or len(related_type) > 100:
        return None
    return related_type.lower(), related_id[:64]


def messages_for_tenant(
    tenant, *, related: tuple[str, str] | None = None, status: str = "", channel: str = ""
) -> QuerySet[OutboxMessage]:
    queryset = OutboxMessage.objects.for_tenant(tenant).select_related("customer", "user")
    if related is not None:
        queryset = queryset.filter(related_type=related[0], related_id=related[1])
    if status:
        queryset = queryset.filter(status=status)
    if channel:
        queryset = queryset.filter(channel=channel)
    return queryset.order_by("-created_at", "-id")


def delivery_log_for(tenant, related: Model | tuple[str, str]) -> list[OutboxMessage]:
    """Every message about ``related`` (a model instance or ``(related_type, related_id)``), newest first,
    each with ``delivery_attempts`` prefetched: two queries whatever the size. For embedding in other
    apps' staff pages with ``{% include "notifications/_delivery_log.html" with delivery_log=… %}``."""
    key = related if isinstance(related, tuple) else related_key(related)
    return list(
        messages_for_tenant(tenant, related=key).prefetch_related(
            Prefetch("delivery_attempts", queryset=DeliveryAttempt.objects.order_by("number"))
        )
    )


def message_for_tenant(tenant, message_id: int) -> OutboxMessage:
    message = (
        OutboxMessage.objects.for_tenant(tenant)
        .select_related("customer", "user", "tenant", "endpoint")
        .prefetch_related(Prefetch("delivery_attempts", queryset=DeliveryAttempt.objects.order_by("number")))
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound()
    return message
