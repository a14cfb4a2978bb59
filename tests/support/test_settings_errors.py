"""Help-desk settings: an agent's order that is not a whole number 0–1000 is refused with a message next
to that member's input (it used to become 10 without a word), and nothing typed is lost."""

import pytest
from django.urls import reverse

from support.models import SupportAgent
from tests.support.factories import support_queue

pytestmark = pytest.mark.django_db


def _data(staff, priority):
    return {
        "assignment_mode": "primary",
        "default_turnaround_minutes": "300",
        "second_escalation_minutes": "120",
        "due_soon_minutes": "90",
        "hours": "Mon-Fri 08:00-16:00",
        f"agent_{staff.pk}": "1",
        f"receives_{staff.pk}": "1",
        f"priority_{staff.pk}": priority,
        "primary": str(staff.pk),
    }


@pytest.mark.parametrize("priority", ["abc", "-1", "1001", "1.5", ""])
def test_a_refused_agent_order_is_reported_next_to_it(client, tenant, owner, staff, priority):
    queue = support_queue(tenant, slug="it", name="IT", hours=[])
    client.force_login(owner)
    url = reverse("support:settings_edit", args=[tenant.slug, queue.slug])
    response = client.post(url, _data(staff, priority))
    assert response.status_code == 400
    body = response.content.decode()
    row = body[
        body.index(f'name="agent_{staff.pk}"') : body.index("</tr>", body.index(f'name="agent_{staff.pk}"'))
    ]
    assert f'id="priority_{staff.pk}_error"' in row and "whole number from 0 to 1000" in row
    assert 'aria-invalid="true"' in row and f'value="{priority}"' in row
    assert f'name="agent_{staff.pk}" value="1" aria-label' in row and "checked" in row
    assert "Mon-Fri 08:00-16:00" in body  # the rest of the form is kept too
    assert not SupportAgent.objects.filter(user=staff).exists()


def test_a_valid_agent_order_is_saved(client, tenant, owner, staff):
    queue = support_queue(tenant, slug="it", name="IT", hours=[])
    client.force_login(owner)
    url = reverse("support:settings_edit", args=[tenant.slug, queue.slug])
    assert client.post(url, _data(staff, "7")).status_code == 302
    assert SupportAgent.objects.get(user=staff).priority == 7
    page = client.get(url).content.decode()
    assert f'name="priority_{staff.pk}" id="priority_{staff.pk}" value="7"' in page
