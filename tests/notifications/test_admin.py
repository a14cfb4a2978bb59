"""Operators: filter the outbox by status and retry from the admin."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.notifications.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_lists_filters_and_retries(operator_client, tenant, settings):
    settings.NOTIFICATIONS_TASK_QUEUE = "vq-test-nowhere"
    failed = OutboxMessageFactory(tenant=tenant, attempts=6)
    failed.mark_failed()
    failed.save()
    OutboxMessageFactory(tenant=tenant)
    url = reverse("admin:notifications_outboxmessage_changelist")
    response = operator_client.get(url, {"status__exact": "failed"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [failed]
    assert (
        operator_client.get(reverse("admin:notifications_outboxmessage_change", args=[failed.pk])).status_code
        == 200
    )
    response = operator_client.post(url, {"action": "retry_now", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "pending"
    assert failed.max_attempts == 12


def test_attempts_are_listed_read_only(operator_client, tenant):
    from django.utils import timezone

    from notifications.models import DeliveryAttempt

    message = OutboxMessageFactory(tenant=tenant, attempts=1)
    now = timezone.now()
    DeliveryAttempt.objects.create(
        tenant=tenant,
        message=message,
        number=1,
        started_at=now,
        finished_at=now,
        succeeded=False,
        error="boom",
    )
    url = reverse("admin:notifications_deliveryattempt_changelist")
    response = operator_client.get(url, {"succeeded__exact": "0"})
    assert response.status_code == 200
    assert b"boom" in response.content
