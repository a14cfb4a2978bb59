"""The notification and webhook pages, and the emails, in German: every word the apps own is translated."""

import re

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications import services as notification_services
from notifications.channels import deliver
from notifications.links import person_token
from notifications.models import DeliveryAttempt, DisabledReason, OutboxMessage
from notifications.services import notify
from notifications.types import TICKET_CALLED
from notifications.webhooks.catalogue import WebhookEvent
from notifications.webhooks.services import endpoint_record_attempt
from tests.factories import CustomerFactory
from tests.german_text import english_left

pytestmark = pytest.mark.django_db
PARTS = ("notifications", "tenants", "core")


@pytest.fixture
def no_dispatch(monkeypatch):
    monkeypatch.setattr(notification_services, "dispatch_soon", lambda ids: None)


@pytest.fixture
def german_client(client, owner):
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


def _failing_endpoint(tenant, make_endpoint, settings):
    """An endpoint disabled after failures, with one webhook message and its failed attempt."""
    from notifications.webhooks import emit
    from tests.queues.factories import service_queue, submit

    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES = 2
    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_SECONDS = 0
    endpoint = make_endpoint("https://hooks.example.test/in", event_types=["ticket.submitted"])
    ticket = submit(service_queue(tenant))
    with transaction.atomic():
        (message,) = emit(tenant=tenant, event_type="ticket.submitted", resource=ticket)
    now = timezone.now()
    DeliveryAttempt.objects.create(
        tenant=tenant, message=message, number=1, started_at=now, finished_at=now, succeeded=False, error="x"
    )
    for _attempt in range(2):
        endpoint_record_attempt(endpoint_id=endpoint.pk, succeeded=False, now=now)
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == DisabledReason.FAILING
    return endpoint, message


@pytest.fixture
def failing_endpoint(tenant, make_endpoint, settings, no_dispatch):
    return _failing_endpoint(tenant, make_endpoint, settings)


def test_webhook_and_delivery_log_pages_speak_german(german_client, tenant, failing_endpoint):
    endpoint, message = failing_endpoint
    pages = {
        "list": reverse("notifications:webhooks", args=[tenant.slug]),
        "detail": reverse("notifications:webhook", args=[tenant.slug, endpoint.pk]),
        "new": reverse("notifications:webhook_new", args=[tenant.slug]),
        "edit": reverse("notifications:webhook_edit", args=[tenant.slug, endpoint.pk]),
        "message": reverse("notifications:message", args=[tenant.slug, message.pk]),
        "log": reverse("notifications:log", args=[tenant.slug]),
        "preferences": reverse("notifications:preferences", args=[tenant.slug]),
    }
    data = [tenant.name, endpoint.url, "ticket.submitted", "queues.ticket", "Counter", "whsec"]
    # Django admin's catalog comes first in INSTALLED_APPS and says "Filter" (German too) for "Filter".
    data.append("Filter")
    data += WebhookEvent.values  # the event types' codes are identifiers, shown next to their labels
    for name, path in pages.items():
        response = german_client.get(path)
        assert response.status_code == 200, name
        content = response.content.decode()
        assert '<html lang="de">' in content, name
        # A webhook's body is JSON for machines (its keys are English on purpose).
        content = re.sub(r'<pre class="webhook-body">.*?</pre>', "", content, flags=re.S)
        assert english_left(content, parts=PARTS, allow=data) == [], name
    # Fixed delivery errors are stored in English and shown translated.
    assert message.endpoint.messages.filter(
        last_error="Not sent: the webhook endpoint was disabled."
    ).exists()
    detail = german_client.get(pages["detail"]).content.decode()
    assert "Nach wiederholten Zustellfehlern deaktiviert" in detail and "fehlgeschlagenen Versuchen" in detail
    assert "Webhook-Endpunkte" not in german_client.get(pages["list"]).content.decode()  # one is listed
    no_events = german_client.post(pages["new"], {"url": "https://x.example.test/", "event_types": []})
    assert "Wählen Sie mindestens ein Ereignis." in no_events.content.decode()
    bad_url = german_client.post(pages["new"], {"url": "gopher://x", "event_types": ["order.paid"]})
    assert "Geben Sie eine Adresse mit http:// oder https:// ein." in bad_url.content.decode()


def test_unsubscribe_and_public_preferences_speak_german(client, tenant):
    customer = CustomerFactory(tenant=tenant, email_consent=False)
    token = person_token(tenant=tenant, customer=customer, event_type=TICKET_CALLED)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    for path in (
        reverse("notifications:unsubscribe", args=[token]),
        reverse("notifications:preferences_public", args=[token]),
    ):
        content = client.get(path).content.decode()
        assert english_left(content, parts=PARTS, allow=[tenant.name]) == [], path
    unsubscribe = client.get(reverse("notifications:unsubscribe", args=[token])).content.decode()
    assert (
        "<strong>Sie sind an der Reihe</strong>" in unsubscribe and "Nur diese Art von E-Mail" in unsubscribe
    )


def test_a_german_customer_gets_the_event_in_german_when_the_caller_gave_no_subject(
    tenant, no_dispatch, mailoutbox
):
    german = CustomerFactory(tenant=tenant, language="de", email_consent=True)
    with transaction.atomic():
        notify(tenant=tenant, event_type=TICKET_CALLED, context={"body": "B"}, customer=german)
    (message,) = OutboxMessage.objects.filter(channel="email")
    assert message.payload["subject"] == "Sie sind an der Reihe"
    deliver(message)
    assert mailoutbox[-1].subject == f"{tenant.name}: Sie sind an der Reihe"
    assert "Diese E-Mails abbestellen (Sie sind an der Reihe)" in mailoutbox[-1].body


def test_the_webhook_disabled_email_is_written_in_each_owners_language(
    tenant, owner, make_endpoint, settings, no_dispatch
):
    owner.language = "de"
    owner.save()
    _failing_endpoint(tenant, make_endpoint, settings)
    (message,) = OutboxMessage.objects.filter(event_type="webhook.disabled")
    assert message.language == "de"
    assert message.payload["subject"] == "Webhook-Endpunkt deaktiviert: https://hooks.example.test/in"
    assert "(2 Versuche in Folge)" in message.payload["body"]
    assert "2 wartende Ereignisse wurden nicht gesendet." in message.payload["body"]
    assert message.payload["action_label"] == "Endpunkt öffnen"
