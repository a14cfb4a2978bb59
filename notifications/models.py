"""Outbox, delivery attempts and notification preferences.

Rules this module enforces:
- An OutboxMessage is written by ``notifications.services.notify`` inside the caller's transaction, so a
  rolled-back change never announces itself and a committed one always has its message.
- ``status`` is a protected FSM (pending → sent | failed, failed → pending on "retry now");
  ``ConcurrentTransitionMixin`` makes two concurrent finalisations of one message impossible.
- A dispatcher owns a message while ``claimed_until`` is in the future (a lease); an expired lease means
  the worker died and the message may be claimed again. ``attempts`` counts claims, so a message that
  crashes workers still reaches its cap.
- Every attempt leaves a DeliveryAttempt row (what staff see in the delivery log).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.models import TenantManager, TenantOwned
from notifications.types import Channel, EventType
from notifications.webhooks.catalogue import WebhookEvent

# Message event types: personal notifications (EventType) and webhook events (WebhookEvent) share the
# outbox, so its column takes either catalogue.
MESSAGE_EVENT_CHOICES = EventType.choices + WebhookEvent.choices


class DisabledReason(models.TextChoices):
    MANUAL = "manual", _("Disabled by staff")
    FAILING = "failing", _("Disabled after repeated delivery failures")


class WebhookEndpoint(TenantOwned):
    """One receiver of the tenant's webhooks: a URL, the event types it subscribed to, its signing
    secret (Standard Webhooks ``whsec_<base64>``; kept readable because every delivery is signed with
    it, shown to staff once), and the failure streak that disables it automatically."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = ArrayField(models.CharField(max_length=40), default=list)
    secret = models.CharField(max_length=100)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=10, choices=DisabledReason.choices, blank=True)
    # Failed attempts since the last success, and when that streak started (``now``-based, so tests
    # control it); both reset on a success or when staff enable the endpoint again.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # One per rendered "add endpoint" form: a double submit returns the endpoint the first one made.
    creation_token = models.CharField(max_length=64, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "creation_token"],
                condition=~Q(creation_token=""),
                name="webhook_endpoint_creation_token_unique",
            ),
            models.CheckConstraint(condition=~Q(event_types=[]), name="webhook_endpoint_has_events"),
            models.CheckConstraint(condition=Q(secret__startswith="whsec_"), name="webhook_endpoint_secret"),
            models.CheckConstraint(
                condition=Q(disabled_at__isnull=True, disabled_reason="")
                | (Q(disabled_at__isnull=False) & ~Q(disabled_reason="")),
                name="webhook_endpoint_disabled_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant"], condition=Q(disabled_at__isnull=True), name="webhook_endpoint_active_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def secret_hint(self) -> str:
        return f"{self.secret[:10]}…"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("message status", "Pending")
    SENT = "sent", pgettext_lazy("message status", "Sent")
    FAILED = "failed", pgettext_lazy("message status", "Failed")


class OutboxMessage(ConcurrentTransitionMixin, TenantOwned):
    event_type = models.CharField(max_length=40, choices=MESSAGE_EVENT_CHOICES)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Webhook messages: the endpoint they go to (its current URL and secret are used at each attempt,
    # so fixing a typo or rotating the secret also reaches messages already waiting).
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    # A manual redelivery of a delivered webhook is a new row; it keeps the original's ``webhook-id``.
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries"
    )
    # The address at the time of writing (email, phone number or webhook URL): later edits to the
    # customer do not redirect a message already announced.
    recipient = models.CharField(max_length=500)
    customer = models.ForeignKey(
        "tenants.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The thing the message is about, without a foreign key into other apps ("queues.ticket", "17").
    related_type = models.CharField(max_length=100, blank=True)
    related_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The recipient's language when the message was written (core.i18n.recipient_language); the email or
    # text is rendered in it ("" = the site's default). Webhooks are for machines and carry none.
    language = models.CharField(max_length=8, blank=True, default="")
    status = FSMField(default=OutboxStatus.PENDING, choices=OutboxStatus.choices, protected=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=6)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="outbox_channel_valid"),
            models.CheckConstraint(condition=~Q(recipient=""), name="outbox_recipient_present"),
            models.CheckConstraint(
                condition=Q(channel="webhook", endpoint__isnull=False)
                | (~Q(channel="webhook") & Q(endpoint__isnull=True)),
                name="outbox_webhook_has_endpoint",
            ),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="outbox_max_attempts_positive"),
            models.CheckConstraint(
                condition=Q(attempts__lte=F("max_attempts")), name="outbox_attempts_capped"
            ),
            models.CheckConstraint(
                condition=Q(related_type="", related_id="") | (~Q(related_type="") & ~Q(related_id="")),
                name="outbox_related_complete",
            ),
            models.CheckConstraint(
                condition=Q(status=OutboxStatus.SENT, sent_at__isnull=False)
                | (~Q(status=OutboxStatus.SENT) & Q(sent_at__isnull=True)),
                name="outbox_sent_at_iff_sent",
            ),
        ]
        indexes = [
            # The dispatcher's sweep: due pending messages only.
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due_idx"
            ),
            models.Index(fields=["tenant", "related_type", "related_id"], name="outbox_related_idx"),
            models.Index(fields=["tenant", "-created_at"], name="outbox_tenant_recent_idx"),
            # Per-resource ordering of webhooks: "is an earlier message for this endpoint and resource
            # still pending?" (notifications.dispatch).
            models.Index(
                fields=["endpoint", "related_type", "related_id", "id"],
                condition=Q(status="pending", endpoint__isnull=False),
                name="outbox_webhook_order_idx",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="outbox_endpoint_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.channel}:{self.recipient} ({self.status})"

    @transition(field=status, source=OutboxStatus.PENDING, target=OutboxStatus.SENT)
    def mark_sent(self) -> None:
        pass

    @transition(field=status, source=OutboxStatus.PENDING, target=OutboxStatus.FAILED)
    def mark_failed(self) -> None:
        pass

    @transition(field=status, source=OutboxStatus.FAILED, target=OutboxStatus.PENDING)
    def requeue(self) -> None:
        pass

    @property
    def related_key(self) -> str:
        return f"{self.related_type}:{self.related_id}" if self.related_type else ""

    @property
    def webhook_id(self) -> str:
        """Standard Webhooks ``webhook-id``: the same for every attempt and every redelivery."""
        return f"msg_{self.redelivery_of_id or self.pk}"


class DeliveryAttempt(TenantOwned):
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    succeeded = models.BooleanField()
    error = models.TextField(blank=True)
    # HTTP status for webhooks; null for other channels or when no response arrived.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="delivery_attempt_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="delivery_attempt_number_positive"),
            models.CheckConstraint(
                condition=Q(finished_at__gte=F("started_at")), name="delivery_attempt_time_order"
            ),
            models.CheckConstraint(
                condition=Q(succeeded=True, error="") | Q(succeeded=False),
                name="delivery_attempt_success_has_no_error",
            ),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of message {self.message_id}: {'ok' if self.succeeded else 'failed'}"

    @property
    def duration_ms(self) -> int:
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class NotificationPreference(TenantOwned):
    """One switch: does this person get this event type on this channel, for this tenant?

    No row means the default from ``notifications.types.DEFAULT_CHANNELS``.
    """

    user = models.ForeignKey(
        "tenants.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    customer = models.ForeignKey(
        "tenants.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enabled = models.BooleanField()

    objects = TenantManager()

    class Meta:
        ordering = ["event_type", "channel"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, customer__isnull=True)
                | Q(user__isnull=True, customer__isnull=False),
                name="preference_one_person",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["email", "sms"]), name="preference_personal_channel"
            ),
            models.UniqueConstraint(
                fields=["tenant", "user", "event_type", "channel"],
                condition=Q(user__isnull=False),
                name="preference_user_unique",
            ),
            models.UniqueConstraint(
                fields=["customer", "event_type", "channel"],
                condition=Q(customer__isnull=False),
                name="preference_customer_unique",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.customer
        return f"{who}: {self.event_type} by {self.channel} {'on' if self.enabled else 'off'}"
