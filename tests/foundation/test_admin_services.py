"""The admin writes through the services (issue 14): a tier's quantity raised in the admin offers the new
seats to its waitlist; a refused value is shown next to its field and nothing is saved; orders, issued
tickets and checkouts cannot be deleted; a lane weight changed in the admin reaches live watchers."""

from html.parser import HTMLParser

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from config.asgi import application
from queues.models import Lane
from tests.factories import UserFactory
from tests.queues.factories import creator_queue
from tests.waitlists.factories import fresh, join, sold_out_event, tier_counts
from ticketing.models import IssuedTicket, Order, TicketTier

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


class _FormValues(HTMLParser):
    """The values a browser would post from the admin's change form (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            else:
                self.values[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(client, url) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200
    parser = _FormValues()
    parser.feed(page.content.decode())
    return {name: value for name, value in parser.values.items() if name != "_addanother"}


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.django_db
def test_tier_quantity_raised_in_the_admin_offers_the_new_seats_to_the_waitlist(
    client, operator, tenant, django_capture_on_commit_callbacks
):
    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 3),), capacity=10)
    tier = event.tiers.get()
    first, second, third = (join(tenant=tenant, event=event) for _ in range(3))
    client.force_login(operator)
    url = reverse("admin:ticketing_tickettier_change", args=[tier.pk])
    data = {**form_values(client, url), "quantity": "5"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [fresh(entry).status for entry in (first, second, third)] == ["offered", "offered", "waiting"]
    assert tier_counts(tier.id) == (5, 3, 2)


@pytest.mark.django_db
def test_a_value_the_tier_service_refuses_is_shown_on_the_admin_form_and_nothing_is_saved(
    client, operator, tenant
):
    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 3),), capacity=4)
    tier = event.tiers.get()
    client.force_login(operator)
    url = reverse("admin:ticketing_tickettier_change", args=[tier.pk])
    response = client.post(url, {**form_values(client, url), "quantity": "9"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "errorlist" in body and 'value="9"' in body
    assert TicketTier.objects.get(pk=tier.pk).quantity == 3


@pytest.mark.django_db
def test_orders_issued_tickets_and_tiers_cannot_be_deleted_in_the_admin(client, operator, tenant):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 2),))
    ticket = IssuedTicket.objects.filter(order=order).first()
    client.force_login(operator)
    for name, pk in (
        ("ticketing_order", order.pk),
        ("ticketing_issuedticket", ticket.pk),
        ("ticketing_tickettier", event.tiers.get().pk),
        ("ticketing_event", event.pk),
    ):
        assert client.get(reverse(f"admin:{name}_delete", args=[pk])).status_code == 403
        changelist = client.get(reverse(f"admin:{name}_changelist")).content.decode()
        assert 'value="delete_selected"' not in changelist
    response = client.post(
        reverse("admin:ticketing_order_changelist"),
        {"action": "delete_selected", "_selected_action": [order.pk]},
    )
    assert Order.objects.filter(pk=order.pk).exists() and response.status_code in (200, 302)
    assert tier_counts(event.tiers.get().pk) == (2, 2, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channels")
def test_a_lane_weight_changed_in_the_admin_reaches_live_watchers(client, operator, tenant):
    queue = creator_queue(tenant)
    lane = queue.lanes.get(code="priority")
    version = lane.version
    client.force_login(operator)
    url = reverse("admin:queues_lane_change", args=[lane.pk])
    data = {**form_values(client, url), "weight": "7"}

    async def scenario():
        card = WebsocketCommunicator(application, f"/ws/queues/queue/{queue.pk}/", headers=HEADERS)
        assert (await card.connect())[0]
        response = await database_sync_to_async(client.post)(url, data)
        assert response.status_code == 302
        message = await card.receive_json_from(timeout=5)
        assert message
        await card.disconnect()

    async_to_sync(scenario)()
    changed = Lane.objects.get(pk=lane.pk)
    assert changed.weight == 7 and changed.version == version + 1


@pytest.mark.django_db
def test_a_lane_weight_the_service_refuses_is_shown_next_to_the_field(client, operator, tenant):
    queue = creator_queue(tenant)
    lane = queue.lanes.get(code="priority")
    client.force_login(operator)
    url = reverse("admin:queues_lane_change", args=[lane.pk])
    response = client.post(url, {**form_values(client, url), "weight": "0"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Lane.objects.get(pk=lane.pk).weight == lane.weight
