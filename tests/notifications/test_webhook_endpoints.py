"""Endpoint services: validation, secrets, disabling (by staff and after repeated failure, owners told),
redelivery."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from core.errors import Conflict, NotFound, ValidationError
from notifications.dispatch import dispatch_messages
from notifications.models import OutboxMessage, WebhookEndpoint
from notifications.webhooks import services
from tests.notifications.factories import OutboxMessageFactory
from tests.queues.factories import service_queue, submit

pytestmark = pytest.mark.django_db


def _webhook(endpoint):
    return OutboxMessage.objects.filter(endpoint=endpoint).order_by("-pk").first()


def test_create_validates_and_makes_a_standard_webhooks_secret(tenant, owner, settings):
    with pytest.raises(ValidationError) as error:
        services.endpoint_create(tenant=tenant, actor=owner, url="ftp://x.example", event_types=[])
    assert set(error.value.field_errors) == {"url", "event_types"}
    with pytest.raises(ValidationError) as error:
        services.endpoint_create(tenant=tenant, actor=owner, url="https://x.example/", event_types=["nope"])
    assert set(error.value.field_errors) == {"event_types"}
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    for internal in (
        "http://127.0.0.1:8000/",
        "http://10.1.2.3/hook",
        "http://[::1]/",
        "http://169.254.169.254/",
        # Found by outside testing: multicast, and IPv6 forms that carry a loopback IPv4 address.
        "http://224.0.0.1/a",
        "http://[64:ff9b::7f00:1]/a",
        "http://[2002:7f00:1::]/a",
        "http://[::127.0.0.1]/a",
        "http://[::ffff:127.0.0.1]/a",
    ):
        with pytest.raises(ValidationError) as error:
            services.endpoint_create(tenant=tenant, actor=owner, url=internal, event_types=["order.paid"])
        assert "non-public address" in error.value.field_errors["url"][0]
    endpoint = services.endpoint_create(
        tenant=tenant,
        actor=owner,
        url="https://93.184.215.14/hooks",
        event_types=["order.paid", "order.paid"],
    )
    assert endpoint.event_types == ["order.paid"]
    assert endpoint.secret.startswith("whsec_")
    Webhook(endpoint.secret)  # the library accepts it
    assert endpoint.created_by == owner


def test_endpoint_services_are_tenant_scoped(tenant, other_tenant, make_endpoint):
    foreign = make_endpoint("http://127.0.0.1:9/x", for_tenant=other_tenant)
    for call in (
        lambda: services.endpoint_disable(tenant=tenant, actor=None, endpoint_id=foreign.pk),
        lambda: services.endpoint_enable(tenant=tenant, actor=None, endpoint_id=foreign.pk),
        lambda: services.endpoint_rotate_secret(tenant=tenant, actor=None, endpoint_id=foreign.pk),
        lambda: services.endpoint_update(
            tenant=tenant,
            actor=None,
            endpoint_id=foreign.pk,
            url="http://127.0.0.1:9/y",
            event_types=["order.paid"],
        ),
    ):
        with pytest.raises(NotFound):
            call()
    submit(service_queue(other_tenant))
    with pytest.raises(NotFound):
        services.webhook_redeliver(tenant=tenant, actor=None, message_id=_webhook(foreign).pk)
    assert WebhookEndpoint.objects.get(pk=foreign.pk).disabled_at is None


def test_rotating_the_secret_signs_waiting_messages_with_the_new_one(tenant, make_endpoint, webhook_receiver):
    endpoint = make_endpoint(webhook_receiver.url)
    submit(service_queue(tenant))
    rotated = services.endpoint_rotate_secret(tenant=tenant, actor=None, endpoint_id=endpoint.pk)
    assert rotated.secret != endpoint.secret
    dispatch_messages()
    (request,) = webhook_receiver.requests
    Webhook(rotated.secret).verify(request["body"], request["headers"])


def test_repeated_failure_disables_the_endpoint_and_tells_the_owners(
    tenant, owner, manager, make_endpoint, settings
):
    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_SECONDS = 3600
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 10
    endpoint = make_endpoint("http://127.0.0.1:9/closed", event_types=["ticket.submitted"])
    queue = service_queue(tenant)
    start = timezone.now() - timedelta(hours=3)
    submit(queue, now=start)
    submit(queue, now=start)
    now = start
    # Many failures within the first hour do not disable it; the first failure after the hour does.
    while now < start + timedelta(minutes=59):
        dispatch_messages(now=now)
        now += timedelta(minutes=5)
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    assert endpoint.consecutive_failures >= 3
    dispatch_messages(now=start + timedelta(minutes=90))  # the next retries fall due at 82 minutes
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "failing"
    assert start + timedelta(minutes=90) <= endpoint.disabled_at < start + timedelta(minutes=91)
    webhooks = OutboxMessage.objects.filter(endpoint=endpoint)
    assert {m.status for m in webhooks} == {"failed"}
    told = OutboxMessage.objects.filter(event_type="webhook.disabled")
    assert [m.recipient for m in told] == [owner.email]  # owners only
    assert endpoint.url in told[0].payload["body"]
    # Later events are not written for a disabled endpoint; enabling starts a clean streak.
    submit(queue)
    assert webhooks.count() == 2
    services.endpoint_enable(tenant=tenant, actor=owner, endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.consecutive_failures, endpoint.failing_since) == (None, 0, None)


def test_a_success_ends_the_failure_streak(tenant, make_endpoint, webhook_receiver):
    webhook_receiver.statuses = [500, 500]
    endpoint = make_endpoint(webhook_receiver.url)
    submit(service_queue(tenant))
    now = timezone.now()
    for step in range(3):
        dispatch_messages(now=now + timedelta(hours=step))
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)
    assert endpoint.last_success_at is not None
    assert [a.response_status for a in _webhook(endpoint).delivery_attempts.order_by("number")] == [
        500,
        500,
        200,
    ]


def test_redelivery(tenant, owner, make_endpoint, webhook_receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    endpoint = make_endpoint(webhook_receiver.url)
    submit(service_queue(tenant))
    original = _webhook(endpoint)
    dispatch_messages()
    original.refresh_from_db()
    assert original.status == "sent"
    # A delivered message: a new row, same webhook-id and body, its own attempts.
    copy = services.webhook_redeliver(tenant=tenant, actor=owner, message_id=original.pk)
    assert copy.pk != original.pk and copy.redelivery_of_id == original.pk
    assert copy.webhook_id == original.webhook_id
    dispatch_messages()
    first, second = webhook_receiver.requests
    assert first["body"] == second["body"]
    ids = [{k.lower(): v for k, v in r["headers"].items()}["webhook-id"] for r in (first, second)]
    assert ids == [f"msg_{original.pk}"] * 2
    # Redelivering the copy still points at the first message.
    again = services.webhook_redeliver(tenant=tenant, actor=owner, message_id=copy.pk)
    assert again.redelivery_of_id == original.pk
    # A failed one is redelivered too; a pending one is only made due.
    webhook_receiver.default_status = 500
    dispatch_messages()
    again.refresh_from_db()
    assert again.status == "failed"
    third = services.webhook_redeliver(tenant=tenant, actor=owner, message_id=again.pk)
    assert third.status == "pending"
    assert services.webhook_redeliver(tenant=tenant, actor=owner, message_id=third.pk).pk == third.pk
    # Not for emails, and not while the endpoint is disabled.
    services.endpoint_disable(tenant=tenant, actor=owner, endpoint_id=endpoint.pk)
    with pytest.raises(Conflict):
        services.webhook_redeliver(tenant=tenant, actor=owner, message_id=original.pk)
    text = OutboxMessageFactory(tenant=tenant)
    with pytest.raises(NotFound):
        services.webhook_redeliver(tenant=tenant, actor=owner, message_id=text.pk)


def test_a_message_waits_while_an_earlier_one_about_the_same_resource_is_pending(
    tenant, make_endpoint, webhook_receiver
):
    from notifications.dispatch import claim_due
    from queues import services as queue_services

    webhook_receiver.statuses = [503]
    endpoint = make_endpoint(webhook_receiver.url)
    queue = service_queue(tenant)
    first_ticket = submit(queue)
    queue_services.ticket_transition(tenant=tenant, actor=None, ticket=first_ticket, event="start")
    other_ticket = submit(queue)
    submitted, started, other = OutboxMessage.objects.filter(endpoint=endpoint).order_by("pk")
    claimed = claim_due()
    assert [m.pk for m in claimed] == [submitted.pk, other.pk]  # "started" waits behind "submitted"
    for message in claimed:
        from notifications.dispatch import deliver_claimed

        deliver_claimed(message)
    submitted.refresh_from_db()
    assert submitted.status == "pending"  # 503, in backoff: "started" still waits
    assert claim_due(now=timezone.now() + timedelta(seconds=5)) == []
    # When "submitted" is delivered, "started" follows in the same run.
    assert dispatch_messages(now=submitted.next_attempt_at) == 2
    started.refresh_from_db()
    assert started.status == "sent"
    events = [r["body"] for r in webhook_receiver.requests]
    assert [b.count(b'"event":"start"') for b in events] == [0, 0, 0, 1]
    assert other_ticket.reference.encode() in events[1]
