"""Delivery log, message detail, retry, preferences and unsubscribe pages."""

import pytest
from django.db import transaction
from django.urls import reverse

from notifications.links import person_token
from notifications.models import DeliveryAttempt, NotificationPreference
from notifications.selectors import delivery_log_for
from notifications.services import notify, preferences_for
from notifications.types import ORDER_CONFIRMED, TICKET_CALLED, TICKET_SUBMITTED
from tests.factories import CustomerFactory
from tests.notifications.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_message(tenant):
    customer = CustomerFactory(tenant=tenant)
    message = OutboxMessageFactory(
        tenant=tenant, customer=customer, related_type="queues.ticket", related_id="123", attempts=1
    )
    DeliveryAttempt.objects.create(
        tenant=tenant,
        message=message,
        number=1,
        started_at=message.created_at,
        finished_at=message.created_at,
        succeeded=False,
        error="HTTP 500 from somewhere",
        response_status=500,
    )
    OutboxMessageFactory(tenant=tenant, related_type="queues.ticket", related_id="999")
    return message


def test_delivery_log_per_related_object(owner_client, tenant, logged_message, django_assert_max_num_queries):
    url = reverse("notifications:log", args=[tenant.slug])
    with django_assert_max_num_queries(12):
        response = owner_client.get(url, {"related": "queues.ticket:123"})
    assert response.status_code == 200
    assert list(response.context["delivery_log"]) == [logged_message]
    assert owner_client.get(url).context["page"].paginator.count == 2
    detail = owner_client.get(reverse("notifications:message", args=[tenant.slug, logged_message.pk]))
    assert b"HTTP 500 from somewhere" in detail.content
    assert b"Retry now" in detail.content


def test_delivery_log_selector_and_include(tenant, logged_message):
    log = delivery_log_for(tenant, ("queues.ticket", "123"))
    assert log == [logged_message]
    assert [a.number for a in log[0].delivery_attempts.all()] == [1]
    from django.template import Context, Template

    html = Template("{% load notifications %}{% delivery_log tenant related %}").render(
        Context({"tenant": tenant, "related": ("queues.ticket", "123")})
    )
    assert logged_message.recipient in html


def test_other_tenants_members_get_404_everywhere(outsider_client, tenant, logged_message):
    urls = [
        reverse("notifications:log", args=[tenant.slug]),
        reverse("notifications:message", args=[tenant.slug, logged_message.pk]),
        reverse("notifications:preferences", args=[tenant.slug]),
    ]
    for url in urls:
        assert outsider_client.get(url).status_code == 404, url
    retry = reverse("notifications:retry", args=[tenant.slug, logged_message.pk])
    assert outsider_client.post(retry).status_code == 404


def test_a_message_of_another_tenant_is_404_for_a_member(owner_client, tenant, other_tenant):
    foreign = OutboxMessageFactory(tenant=other_tenant)
    assert (
        owner_client.get(reverse("notifications:message", args=[tenant.slug, foreign.pk])).status_code == 404
    )
    assert (
        owner_client.post(reverse("notifications:retry", args=[tenant.slug, foreign.pk])).status_code == 404
    )


def test_retry_needs_post_and_manager(staff, owner_client, tenant, logged_message, settings):
    from django.test import Client

    settings.NOTIFICATIONS_TASK_QUEUE = "vq-test-nowhere"
    retry = reverse("notifications:retry", args=[tenant.slug, logged_message.pk])
    assert owner_client.get(retry).status_code == 405
    staff_client = Client()
    staff_client.force_login(staff)
    assert staff_client.post(retry).status_code == 403
    assert owner_client.post(retry).status_code == 302


def test_staff_preferences_page_saves_choices(owner_client, owner, tenant):
    url = reverse("notifications:preferences", args=[tenant.slug])
    response = owner_client.get(url)
    assert response.status_code == 200
    data = {f"{e}|{c}": "on" for (e, c), on in preferences_for(tenant=tenant, user=owner).items() if on}
    data.pop(f"{TICKET_SUBMITTED}|email")
    assert owner_client.post(url, data).status_code == 302
    assert not preferences_for(tenant=tenant, user=owner)[(TICKET_SUBMITTED, "email")]
    with transaction.atomic():
        assert notify(tenant=tenant, event_type=TICKET_SUBMITTED, context={}, user=owner) == []


def test_unsubscribe_get_changes_nothing_and_post_confirms(client, tenant):
    customer = CustomerFactory(tenant=tenant)
    url = reverse(
        "notifications:unsubscribe",
        args=[person_token(tenant=tenant, customer=customer, event_type=TICKET_CALLED)],
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b"It is your turn" in response.content
    assert not NotificationPreference.objects.exists()
    response = client.post(url, {"scope": "event"})
    assert b"Done" in response.content
    prefs = preferences_for(tenant=tenant, customer=customer)
    assert prefs[(TICKET_CALLED, "email")] is False
    assert prefs[(ORDER_CONFIRMED, "email")] is True


def test_unsubscribe_from_everything(client, tenant):
    customer = CustomerFactory(tenant=tenant)
    url = reverse("notifications:unsubscribe", args=[person_token(tenant=tenant, customer=customer)])
    client.post(url, {"scope": "all"})
    assert not any(
        on for (e, c), on in preferences_for(tenant=tenant, customer=customer).items() if c == "email"
    )


def test_unsubscribe_needs_csrf(tenant):
    from django.test import Client

    customer = CustomerFactory(tenant=tenant)
    url = reverse("notifications:unsubscribe", args=[person_token(tenant=tenant, customer=customer)])
    assert Client(enforce_csrf_checks=True).post(url, {"scope": "all"}).status_code == 403
    assert not NotificationPreference.objects.exists()


def test_forged_or_tampered_link_is_404(client, tenant):
    customer = CustomerFactory(tenant=tenant)
    token = person_token(tenant=tenant, customer=customer)
    assert client.get(reverse("notifications:unsubscribe", args=["nonsense"])).status_code == 404
    assert client.get(reverse("notifications:unsubscribe", args=[token[:-2] + "xx"])).status_code == 404


def test_customer_preferences_by_link(client, tenant):
    customer = CustomerFactory(tenant=tenant, phone="+15550123", email_consent=False)
    url = reverse("notifications:preferences_public", args=[person_token(tenant=tenant, customer=customer)])
    response = client.get(url)
    assert response.status_code == 200
    assert b"did not agree to email updates" in response.content
    assert client.post(url, {f"{TICKET_CALLED}|sms": "on"}).status_code == 200
    prefs = preferences_for(tenant=tenant, customer=customer)
    assert prefs[(TICKET_CALLED, "sms")] is True
    assert prefs[(ORDER_CONFIRMED, "email")] is False
    with transaction.atomic():
        written = notify(tenant=tenant, event_type=TICKET_CALLED, context={}, customer=customer)
    assert [m.channel for m in written] == ["sms"]


def test_dashboard_nav_lists_notifications(owner_client, tenant):
    response = owner_client.get(reverse("dashboard:tenant", args=[tenant.slug]))
    assert reverse("notifications:log", args=[tenant.slug]).encode() in response.content


def test_switches_offer_only_channels_the_person_can_receive(tenant, owner):
    assert {c for _, c in preferences_for(tenant=tenant, user=owner)} == {"email"}
    no_phone = CustomerFactory(tenant=tenant, phone="")
    assert {c for _, c in preferences_for(tenant=tenant, customer=no_phone)} == {"email"}
    with_phone = CustomerFactory(tenant=tenant, phone="+15550199")
    assert {c for _, c in preferences_for(tenant=tenant, customer=with_phone)} == {"email", "sms"}
    from notifications.services import preferences_update

    with pytest.raises(ValueError):
        preferences_update(tenant=tenant, user=owner, choices={(TICKET_SUBMITTED, "sms"): True})
