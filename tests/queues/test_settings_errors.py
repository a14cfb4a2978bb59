"""Staff settings forms: every refused value gets a message next to its own field, and what was typed is
kept (issue 16: lane settings used to redirect with a banner, the weight silently back to its old value)."""

import pytest
from django.urls import reverse

from queues.models import Lane
from tests.queues.factories import creator_queue, lane

pytestmark = pytest.mark.django_db


def _field_block(body: str, field_id: str) -> str:
    """The ``<div class="field …">`` that holds the input ``field_id``."""
    at = body.index(f'id="{field_id}"')
    start = body.rindex('<div class="field', 0, at)
    return body[start : body.index("</div>", at)]


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("101", "less than or equal to 100"),
        ("abc", "Enter a whole number"),
        ("", "This field is required"),
    ],
)
def test_a_refused_lane_weight_is_reported_next_to_the_weight(owner_client, tenant, weight, message):
    queue = creator_queue(tenant)
    personal = lane(queue, "personal")
    prefix = f"lane-{personal.pk}"
    url = reverse("queues:lane_settings", args=[tenant.slug, queue.slug, personal.pk])
    response = owner_client.post(
        url, {f"{prefix}-name": "Typed name", f"{prefix}-weight": weight, f"{prefix}-minimum_tip": "2.50"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    block = _field_block(body, f"id_{prefix}-weight")
    assert "field-invalid" in block and message in block
    # Nothing saved, nothing typed lost.
    assert Lane.objects.get(pk=personal.pk).weight == personal.weight
    assert Lane.objects.get(pk=personal.pk).name == personal.name
    assert 'value="Typed name"' in _field_block(body, f"id_{prefix}-name")
    assert 'value="2.50"' in _field_block(body, f"id_{prefix}-minimum_tip")
    assert "was not saved" in body


def test_a_refused_minimum_tip_is_reported_next_to_the_tip(owner_client, tenant):
    queue = creator_queue(tenant)
    priority = lane(queue, "priority")
    prefix = f"lane-{priority.pk}"
    url = reverse("queues:lane_settings", args=[tenant.slug, queue.slug, priority.pk])
    response = owner_client.post(
        url, {f"{prefix}-name": "Priority", f"{prefix}-weight": "3", f"{prefix}-minimum_tip": "lots"}
    )
    assert response.status_code == 400
    block = _field_block(response.content.decode(), f"id_{prefix}-minimum_tip")
    assert "field-invalid" in block and "field-error" in block


def test_a_valid_lane_is_saved_and_the_page_redirects(owner_client, tenant):
    queue = creator_queue(tenant)
    personal = lane(queue, "personal")
    prefix = f"lane-{personal.pk}"
    url = reverse("queues:lane_settings", args=[tenant.slug, queue.slug, personal.pk])
    response = owner_client.post(url, {f"{prefix}-name": "Free", f"{prefix}-weight": "4"})
    assert response.status_code == 302
    assert Lane.objects.get(pk=personal.pk).weight == 4


def test_a_refused_queue_setting_is_reported_next_to_its_field(owner_client, tenant):
    queue = creator_queue(tenant)
    url = reverse("queues:queue_settings", args=[tenant.slug, queue.slug])
    response = owner_client.post(url, {"queue-name": "Requests", "queue-default_service_minutes": "0"})
    assert response.status_code == 400
    block = _field_block(response.content.decode(), "id_queue-default_service_minutes")
    assert "field-invalid" in block and "greater than or equal to 1" in block
