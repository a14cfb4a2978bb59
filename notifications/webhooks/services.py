"""Write path of webhook endpoints: create, edit, disable / enable, rotate the secret, redeliver, and the
failure streak that disables an endpoint on its own.

Locks, in this order: the endpoint row (``FOR UPDATE``), then its pending messages. The dispatcher never
holds a message lock while it takes the endpoint's (it records the attempt first, in its own
transaction), so the two orders never cross.

Secrets are Standard Webhooks secrets (``whsec_`` + base64 of 24 random bytes). They are stored readable
because every delivery is signed with them; the dashboard shows one in full only right after it was
made (create, rotate) and a short hint afterwards.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from core.errors import Conflict, NotFound, ValidationError
from core.times import format_zoned
from notifications import conf
from notifications.models import DisabledReason, OutboxMessage, OutboxStatus, WebhookEndpoint
from notifications.services import dispatch_soon
from notifications.types import Channel
from notifications.webhooks.catalogue import WebhookEvent

logger = logging.getLogger(__name__)

# Stored in English; the delivery log translates it when it shows it.
DISABLED_ERROR = gettext_noop("Not sent: the webhook endpoint was disabled.")
MAX_ENDPOINTS_PER_TENANT = 20


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _clean(*, url: str, event_types: list[str], description: str) -> dict:
    from notifications.channels import WebhookError, private_address_reason

    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")):
        errors["url"] = [_("Enter an http:// or https:// address.")]
    elif len(url) > 500:
        errors["url"] = [_("Keep the address under 500 characters.")]
    else:
        try:
            reason = private_address_reason(url)
        except WebhookError as error:
            reason = _("%(error)s Check the address.") % {"error": error}
        if reason:
            errors["url"] = [reason]
    chosen = sorted(set(event_types or []))
    if not chosen:
        errors["event_types"] = [_("Choose at least one event.")]
    elif any(value not in WebhookEvent.values for value in chosen):
        errors["event_types"] = [_("Choose events from the list.")]
    if len(description or "") > 200:
        errors["description"] = [_("Keep the description under 200 characters.")]
    if errors:
        raise ValidationError(field_errors=errors)
    return {"url": url, "event_types": chosen, "description": (description or "").strip()}


def _lock(tenant, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(tenant=tenant, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound()
    return endpoint


def endpoint_create(
    *,
    tenant,
    actor,
    url: str,
    event_types: list[str],
    description: str = "",
    creation_token: str = "",
) -> WebhookEndpoint:
    """Add an endpoint with a fresh secret. ``creation_token`` (one per rendered form) makes a double
    submit return the first endpoint instead of a second one. Raises ValidationError (field errors: url —
    not http(s), or a private address —, event_types, description) and Conflict past
    ``MAX_ENDPOINTS_PER_TENANT``. Takes no locks: the token's unique constraint settles a race between
    two submits of one form (the count check may let concurrent creates slip one over the cap)."""
    creation_token = (creation_token or "")[:64]
    if creation_token:
        existing = WebhookEndpoint.objects.filter(tenant=tenant, creation_token=creation_token).first()
        if existing is not None:
            return existing
    fields = _clean(url=url, event_types=event_types, description=description)
    try:
        with transaction.atomic(durable=True):
            if WebhookEndpoint.objects.filter(tenant=tenant).count() >= MAX_ENDPOINTS_PER_TENANT:
                raise Conflict(
                    _("A tenant can have at most %(count)s webhook endpoints.")
                    % {"count": MAX_ENDPOINTS_PER_TENANT}
                )
            endpoint = WebhookEndpoint.objects.create(
                tenant=tenant, created_by=actor, secret=new_secret(), creation_token=creation_token, **fields
            )
    except IntegrityError:
        existing = WebhookEndpoint.objects.filter(tenant=tenant, creation_token=creation_token).first()
        if creation_token and existing is not None:
            return existing  # the other submit of the same form won the race
        raise
    logger.info("webhooks: endpoint %s created by %s", endpoint.pk, getattr(actor, "pk", None))
    return endpoint


@transaction.atomic(durable=True)
def endpoint_update(
    *, tenant, actor, endpoint_id: int, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    """Change the URL, subscriptions or description. Messages already waiting go to the new URL.
    Locks the endpoint row. Raises NotFound (another tenant's) and ValidationError as for create."""
    fields = _clean(url=url, event_types=event_types, description=description)
    endpoint = _lock(tenant, endpoint_id)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


@transaction.atomic(durable=True)
def endpoint_rotate_secret(*, tenant, actor, endpoint_id: int) -> WebhookEndpoint:
    """Replace the signing secret; the next attempt of every message is signed with the new one.
    Locks the endpoint row. Raises NotFound."""
    endpoint = _lock(tenant, endpoint_id)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    logger.info("webhooks: endpoint %s secret rotated by %s", endpoint.pk, getattr(actor, "pk", None))
    return endpoint


def _disable_locked(endpoint: WebhookEndpoint, *, reason: str, now: datetime) -> int:
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["disabled_at", "disabled_reason", "updated_at"])
    # Waiting messages end now (a dispatcher still holding one finds it no longer pending and lets go);
    # staff can redeliver any of them once the endpoint works again.
    return OutboxMessage.objects.filter(endpoint=endpoint, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.FAILED, claimed_until=None, last_error=DISABLED_ERROR, updated_at=now
    )


@transaction.atomic(durable=True)
def endpoint_disable(*, tenant, actor, endpoint_id: int, now: datetime | None = None) -> WebhookEndpoint:
    """Stop sending to an endpoint; its pending messages end as failed. Idempotent. Locks the endpoint,
    then its pending messages. Raises NotFound."""
    endpoint = _lock(tenant, endpoint_id)
    if endpoint.disabled_at is None:
        _disable_locked(endpoint, reason=DisabledReason.MANUAL, now=_now(now))
    return endpoint


@transaction.atomic(durable=True)
def endpoint_enable(*, tenant, actor, endpoint_id: int) -> WebhookEndpoint:
    """Send to the endpoint again from the next event on, with a clean failure streak. Idempotent.
    Locks the endpoint row. Raises NotFound."""
    endpoint = _lock(tenant, endpoint_id)
    if endpoint.disabled_at is not None:
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.save()
    return endpoint


@transaction.atomic(durable=True)
def endpoint_record_attempt(*, endpoint_id: int, succeeded: bool, now: datetime) -> bool:
    """The dispatcher's report of one attempt (called after the attempt's own transaction). A success
    ends the failure streak; a failure extends it, and a streak of at least
    ``NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES`` attempts spanning at least
    ``NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_SECONDS`` disables the endpoint, fails its pending messages and
    tells the tenant's owners by email (``webhook.disabled``, on the outbox). Locks the endpoint row,
    then its pending messages. Returns True when this attempt disabled the endpoint."""
    endpoint = (
        WebhookEndpoint.objects.select_for_update().select_related("tenant").filter(pk=endpoint_id).first()
    )
    if endpoint is None or endpoint.disabled_at is not None:
        return False
    if succeeded:
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.last_success_at = now
        endpoint.save(update_fields=["consecutive_failures", "failing_since", "last_success_at"])
        return False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    endpoint.consecutive_failures += 1
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    streak = now - endpoint.failing_since
    if endpoint.consecutive_failures < conf.webhook_disable_after_failures() or streak < timedelta(
        seconds=conf.webhook_disable_after_seconds()
    ):
        return False
    ended = _disable_locked(endpoint, reason=DisabledReason.FAILING, now=now)
    _tell_owners(endpoint, ended=ended, now=now)
    logger.warning(
        "webhooks: endpoint %s disabled after %s failures since %s",
        endpoint.pk,
        endpoint.consecutive_failures,
        endpoint.failing_since,
    )
    return True


def _tell_owners(endpoint: WebhookEndpoint, *, ended: int, now: datetime) -> None:
    from notifications.services import notify
    from tenants.models import Membership, Role

    tenant = endpoint.tenant
    when = format_zoned(endpoint.failing_since, tenant.time_zone, "Y-m-d H:i")
    owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER).select_related("user")
    failures = endpoint.consecutive_failures

    def context() -> dict:
        # Built once per owner's language, under translation.override (notifications.services.notify).
        facts = {"url": endpoint.url, "since": when, "failures": failures, "ended": ended}
        failed = ngettext(
            "Every delivery to %(url)s has failed since %(since)s (%(failures)s attempt in a row), so we "
            "disabled it.",
            "Every delivery to %(url)s has failed since %(since)s (%(failures)s attempts in a row), so we "
            "disabled it.",
            failures,
        )
        not_sent = ngettext(
            "%(ended)s waiting event was not sent.", "%(ended)s waiting events were not sent.", ended
        )
        return {
            "subject": _("Webhook endpoint disabled: %(url)s") % facts,
            "headline": _("We stopped sending webhooks to one of your endpoints"),
            "body": f"{failed % facts} {not_sent % facts}\n\n"
            + _(
                "Fix the receiver, enable the endpoint again, and redeliver what it missed from its "
                "delivery log."
            ),
            "action_url": reverse("notifications:webhook", args=[tenant.slug, endpoint.pk]),
            "action_label": _("Open the endpoint"),
        }

    for membership in owners:
        notify(
            tenant=tenant,
            event_type="webhook.disabled",
            user=membership.user,
            related=endpoint,
            now=now,
            context=context,
        )


@transaction.atomic(durable=True)
def webhook_redeliver(*, tenant, actor, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """Send a webhook message again, with the same ``webhook-id`` and body (receivers can drop it if
    they already have it). A delivered or failed message gets a new outbox row (its own attempts in the
    log, behind any earlier pending message about the same resource); a pending one is just made due.

    Locks the endpoint row, then the message row. Raises NotFound for another tenant's message or a
    message that is not a webhook, Conflict when the endpoint is disabled. Schedules delivery on commit.
    """
    now = _now(now)
    original = (
        OutboxMessage.objects.filter(tenant=tenant, pk=message_id, channel=Channel.WEBHOOK)
        .only("pk", "endpoint_id")
        .first()
    )
    if original is None:
        raise NotFound()
    endpoint = _lock(tenant, original.endpoint_id)
    if endpoint.disabled_at is not None:
        raise Conflict(_("This endpoint is disabled. Enable it first, then redeliver."))
    message = OutboxMessage.objects.select_for_update().get(pk=original.pk)
    if message.status == OutboxStatus.PENDING:
        message.next_attempt_at = min(now, timezone.now())
        message.save(update_fields=["next_attempt_at", "updated_at"])
        target = message
    else:
        target = OutboxMessage.objects.create(
            tenant=tenant,
            event_type=message.event_type,
            channel=Channel.WEBHOOK,
            endpoint=endpoint,
            recipient=endpoint.url,
            related_type=message.related_type,
            related_id=message.related_id,
            payload=message.payload,
            redelivery_of_id=message.redelivery_of_id or message.pk,
            max_attempts=conf.max_attempts(),
            next_attempt_at=min(now, timezone.now()),
        )
    logger.info(
        "webhooks: message %s redelivered as %s by %s", message.pk, target.pk, getattr(actor, "pk", None)
    )
    transaction.on_commit(lambda: dispatch_soon([target.pk]))
    return target
