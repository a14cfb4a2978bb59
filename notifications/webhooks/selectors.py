"""Reads for the webhook pages. Every read is scoped to one tenant."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from core.errors import NotFound
from notifications.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint


def endpoints_for_tenant(tenant) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_tenant(tenant).order_by("created_at", "id")


def endpoint_for_tenant(tenant, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.for_tenant(tenant).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound()
    return endpoint


def endpoint_deliveries(endpoint: WebhookEndpoint, *, status: str = "") -> QuerySet[OutboxMessage]:
    """The endpoint's delivery log, newest first, each row with the HTTP status of its last attempt
    (``last_response``, null when none arrived) and its attempt count — one query per page."""
    last = (
        DeliveryAttempt.objects.filter(message=OuterRef("pk")).order_by("-number").values("response_status")
    )
    queryset = OutboxMessage.objects.filter(tenant_id=endpoint.tenant_id, endpoint=endpoint).annotate(
        last_response=Subquery(last[:1]), attempt_rows=Count("delivery_attempts")
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")
