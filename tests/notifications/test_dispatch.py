"""The dispatcher and the channels: backoff and cap, signatures, email rendering, lost claims."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from notifications import services
from notifications.dispatch import LOST_ERROR, claim_due, dispatch_messages
from notifications.models import DeliveryAttempt, OutboxMessage
from notifications.services import notify
from notifications.types import ORDER_CONFIRMED
from tests.factories import CustomerFactory
from tests.notifications.backends import RecordingSmsBackend
from tests.notifications.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db

CONTEXT = {
    "subject": "Order confirmed",
    "body": "Thanks!\n\nYour tickets are attached.",
    "action_url": "/t/X/",
}


def _webhook_message(tenant, url):
    """A ``ticket.submitted`` webhook to ``url``, written by the real emit point (a queue submission)."""
    from notifications.webhooks.services import endpoint_create
    from tests.queues.factories import service_queue, submit

    endpoint_create(tenant=tenant, actor=None, url=url, event_types=["ticket.submitted"])
    ticket = submit(service_queue(tenant), email="")
    return OutboxMessage.objects.get(channel="webhook", related_id=str(ticket.pk))


def test_failing_webhook_is_retried_with_backoff_and_fails_after_the_cap(tenant, webhook_receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 10
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 25
    webhook_receiver.default_status = 503
    message = _webhook_message(tenant, webhook_receiver.url)
    now = timezone.now()
    delays = []
    for attempt in range(1, 5):
        assert dispatch_messages(now=now) == 1
        message.refresh_from_db()
        assert message.attempts == attempt
        assert "HTTP 503" in message.last_error
        if attempt < 4:
            assert message.status == "pending"
            assert message.claimed_until is None
            delays.append(round((message.next_attempt_at - now).total_seconds()))
            # Not due yet: a sweep a moment before the backoff ends does nothing.
            assert dispatch_messages(now=message.next_attempt_at - timedelta(seconds=1)) == 0
            now = message.next_attempt_at
    assert delays == [10, 20, 25]  # exponential, then capped
    assert message.status == "failed"
    assert len(webhook_receiver.requests) == 4
    attempts = list(DeliveryAttempt.objects.filter(message=message).order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3, 4]
    assert all(not a.succeeded and a.response_status == 503 and "HTTP 503" in a.error for a in attempts)
    # A failed message is never picked up again by the sweep.
    assert dispatch_messages(now=now + timedelta(days=1)) == 0


def test_webhook_recovers_after_a_failure(tenant, webhook_receiver):
    webhook_receiver.statuses = [500]
    message = _webhook_message(tenant, webhook_receiver.url)
    now = timezone.now()
    dispatch_messages(now=now)
    message.refresh_from_db()
    assert message.status == "pending"
    dispatch_messages(now=message.next_attempt_at)
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.sent_at is not None
    assert message.last_error == ""
    assert [a.succeeded for a in message.delivery_attempts.order_by("number")] == [False, True]


def test_webhook_is_signed_per_standard_webhooks(tenant, webhook_receiver):
    message = _webhook_message(tenant, webhook_receiver.url)
    secret = message.endpoint.secret
    dispatch_messages()
    (request,) = webhook_receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    body = request["body"]
    # The receiver's side, with the library itself.
    document = Webhook(secret).verify(body, headers)
    assert document["type"] == "ticket.submitted"
    assert document["data"]["reference"] == message.payload["data"]["reference"]
    assert headers["webhook-id"] == f"msg_{message.pk}"
    assert headers["content-type"] == "application/json"
    other = "whsec_" + "A" * 32
    for bad_secret, bad_body in [(other, body), (secret, body.replace(b"ticket", b"tacket"))]:
        with pytest.raises(WebhookVerificationError):
            Webhook(bad_secret).verify(bad_body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(
            body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
        )


def test_webhook_to_a_disabled_endpoint_fails_at_once(tenant, webhook_receiver):
    from notifications.webhooks.services import endpoint_disable

    message = _webhook_message(tenant, webhook_receiver.url)
    endpoint_disable(tenant=tenant, actor=None, endpoint_id=message.endpoint_id)
    assert dispatch_messages() == 0
    message.refresh_from_db()
    assert message.status == "failed"
    assert "disabled" in message.last_error
    assert webhook_receiver.requests == []


def test_unreachable_webhook_records_the_error(tenant, settings):
    message = _webhook_message(tenant, "http://127.0.0.1:9/closed")
    dispatch_messages()
    message.refresh_from_db()
    assert message.status == "pending"
    assert "Could not reach" in message.last_error


def test_email_is_rendered_with_text_html_and_a_working_unsubscribe_link(tenant, client):
    customer = CustomerFactory(tenant=tenant)
    with transaction.atomic():
        (message,) = notify(tenant=tenant, event_type=ORDER_CONFIRMED, context=CONTEXT, customer=customer)
    dispatch_messages()
    message.refresh_from_db()
    assert message.status == "sent"
    (email,) = mail.outbox
    assert email.to == [customer.email]
    assert email.subject == f"{tenant.name}: Order confirmed"
    assert "Your tickets are attached." in email.body
    assert "http://127.0.0.1:8000/t/X/" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "<p>Your tickets are attached.</p>" in html
    unsubscribe = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in email.body and unsubscribe in html
    path = unsubscribe.removeprefix("http://127.0.0.1:8000")
    assert client.get(path).status_code == 200
    assert client.post(path, {"scope": "event"}).status_code == 200
    with transaction.atomic():
        assert notify(tenant=tenant, event_type=ORDER_CONFIRMED, context=CONTEXT, customer=customer) == []


def test_sms_goes_through_the_configured_backend(tenant):
    message = OutboxMessageFactory(
        tenant=tenant, payload={"subject": "Your turn", "action_url": "http://x/s/"}
    )
    dispatch_messages(message_ids=[message.pk])
    assert RecordingSmsBackend.sent == [(message.recipient, f"{tenant.name}: Your turn\nhttp://x/s/")]
    message.refresh_from_db()
    assert message.status == "sent"


def test_deliver_task_ignores_messages_not_yet_due_or_already_sent(tenant):
    later = OutboxMessageFactory(tenant=tenant, next_attempt_at=timezone.now() + timedelta(minutes=5))
    done = OutboxMessageFactory(tenant=tenant)
    dispatch_messages(message_ids=[done.pk])
    assert dispatch_messages(message_ids=[later.pk, done.pk]) == 0
    assert len(RecordingSmsBackend.sent) == 1


def test_a_claim_left_by_a_dead_worker_is_recorded_and_reclaimed(tenant, settings):
    settings.NOTIFICATIONS_CLAIM_SECONDS = 60
    message = OutboxMessageFactory(tenant=tenant)
    now = timezone.now()
    (claimed,) = claim_due(now=now)  # a worker claims, then dies without recording anything
    assert claimed.attempts == 1
    assert dispatch_messages(now=now + timedelta(seconds=30)) == 0  # lease still held
    assert RecordingSmsBackend.sent == []
    assert dispatch_messages(now=now + timedelta(seconds=61)) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.attempts == 2
    attempts = list(message.delivery_attempts.order_by("number"))
    assert [(a.number, a.succeeded, a.error) for a in attempts] == [(1, False, LOST_ERROR), (2, True, "")]
    assert len(RecordingSmsBackend.sent) == 1


def test_a_message_that_keeps_killing_workers_still_reaches_the_cap(tenant, settings):
    settings.NOTIFICATIONS_CLAIM_SECONDS = 60
    message = OutboxMessageFactory(tenant=tenant, max_attempts=2)
    now = timezone.now()
    claim_due(now=now)
    claim_due(now=now + timedelta(seconds=61))
    assert claim_due(now=now + timedelta(seconds=122)) == []
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.delivery_attempts.count() == 2


def test_retry_now_gives_a_failed_message_a_new_budget(tenant, owner, webhook_receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    webhook_receiver.statuses = [500]
    message = _webhook_message(tenant, webhook_receiver.url)
    dispatch_messages()
    message.refresh_from_db()
    assert message.status == "failed"
    services.message_retry(tenant=tenant, actor=owner, message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "pending"
    assert message.max_attempts == 2
    dispatch_messages()
    message.refresh_from_db()
    assert message.status == "sent"
    assert len(webhook_receiver.requests) == 2


def test_retry_now_is_tenant_scoped(tenant, other_tenant, owner):
    from core.errors import NotFound

    message = OutboxMessageFactory(tenant=other_tenant)
    with pytest.raises(NotFound):
        services.message_retry(tenant=tenant, actor=owner, message_id=message.pk)


def test_fsm_protects_status_and_constraints_hold(tenant):
    from django.db import IntegrityError

    message = OutboxMessageFactory(tenant=tenant)
    with pytest.raises(AttributeError):
        message.status = "sent"
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(attempts=99)


def test_a_run_out_of_time_gives_back_the_claims_it_did_not_use(tenant, settings, monkeypatch):
    import itertools

    from notifications import dispatch

    settings.NOTIFICATIONS_SWEEP_SECONDS = 10
    first, second = OutboxMessageFactory(tenant=tenant), OutboxMessageFactory(tenant=tenant)
    # Clock: deadline set at 0, first batch claimed at 0, first delivery at 5, then time is up.
    clock = itertools.chain([0, 0, 5, 50], itertools.repeat(50))
    monkeypatch.setattr(dispatch.time, "monotonic", lambda: next(clock))
    assert dispatch_messages() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == ("sent", 1)
    assert (second.status, second.attempts, second.claimed_until) == ("pending", 0, None)
    monkeypatch.undo()
    assert dispatch_messages() == 1


def test_private_webhook_addresses_are_refused_when_not_allowed(tenant, webhook_receiver, settings):
    message = _webhook_message(tenant, webhook_receiver.url)
    # Allowed when the endpoint was saved, not any more at delivery (think of a name that now resolves
    # to an internal address): the delivery-time check still refuses.
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    dispatch_messages()
    message.refresh_from_db()
    assert message.status == "failed"
    assert "non-public address (127.0.0.1)" in message.last_error
    assert webhook_receiver.requests == []


def test_production_never_allows_private_addresses(settings):
    from notifications import conf

    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = True
    assert conf.webhook_allow_private()
    settings.SECURE = True
    assert not conf.webhook_allow_private()
