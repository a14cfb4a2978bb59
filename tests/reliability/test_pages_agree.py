"""Issue 15 #10: pages agree with their settings.

- An unlisted help desk is on no public list (the tenant's page, the help home) and works by direct link.
- An unlisted queue's own form page shows its live card, and the card's websocket is accepted and live;
  the API takes submissions by the same direct address.
- Public comments on creator and service tickets appear on the customer's status page; internal never.
"""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from config.asgi import application
from queues import services as queue_services
from tests.queues.factories import creator_queue, service_queue, submit
from tests.support.factories import file_ticket, support_queue

pytestmark = pytest.mark.django_db
HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


def _unlist(queue):
    return queue_services.queue_update(
        tenant=queue.tenant, actor=None, queue=queue, changes={"is_public": False}
    )


def test_an_unlisted_help_desk_is_listed_nowhere_but_works_by_direct_link(tenant):
    listed = support_queue(tenant, slug="listed-desk", name="Listed desk")
    hidden = support_queue(tenant, slug="hidden-desk", name="Hidden desk")
    _unlist(hidden)
    anonymous = Client()
    for url in (
        reverse("tenant_home", args=[tenant.slug]),
        reverse("support_public:help_home", args=[tenant.slug]),
    ):
        page = anonymous.get(url).content.decode()
        assert "Listed desk" in page, url
        assert "Hidden desk" not in page and "hidden-desk" not in page, url
    form = anonymous.get(reverse("support_public:submit", args=[tenant.slug, "hidden-desk"]))
    assert form.status_code == 200 and "Hidden desk" in form.content.decode()
    ticket = file_ticket(hidden)  # filing by the direct link still works
    page = anonymous.get(reverse("support:customer_ticket", args=[ticket.reference]))
    assert page.status_code in (200, 302)
    assert listed.pk != hidden.pk


def _card_connects(queue) -> tuple[bool, dict | None]:
    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/queues/queue/{queue.pk}/", headers=HEADERS)
        connected, _ = await socket.connect()
        first = None
        if connected:
            first = await socket.receive_json_from(timeout=5)
            await socket.disconnect()
        return connected, first

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)  # the consumer reads from its own thread's connection
@pytest.mark.usefixtures("in_memory_channels")
def test_an_unlisted_queue_form_shows_a_working_live_card(tenant):
    queue = service_queue(tenant, slug="back-room")
    _unlist(queue)
    submit(queue)
    home = Client().get(reverse("tenant_home", args=[tenant.slug])).content.decode()
    assert f"/ws/queues/queue/{queue.pk}/" not in home  # not listed
    page = Client().get(reverse("queues_public:submit", args=[tenant.slug, queue.slug])).content.decode()
    assert f'data-live-socket="/ws/queues/queue/{queue.pk}/"' in page
    connected, first = _card_connects(queue)
    assert connected and first["type"] == "card"
    assert any(key.endswith("-waiting") and value == "1" for key, value in first["fields"].items())
    created = Client().post(
        f"/api/v1/public/{tenant.slug}/queues/{queue.slug}/tickets",
        {"lane": queue.lanes.first().code, "name": "Fan", "email": "fan@by-link.test"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content


@pytest.mark.parametrize("make_queue", [creator_queue, service_queue])
def test_public_comments_appear_on_the_status_page_and_internal_ones_never(tenant, owner, make_queue):
    queue = make_queue(tenant)
    ticket = submit(queue)
    queue_services.ticket_comment_add(
        tenant=tenant, ticket=ticket, actor=owner, body="We start on yours <b>tomorrow</b>."
    )
    queue_services.ticket_comment_add(
        tenant=tenant, ticket=ticket, actor=owner, body="Internal: this fan tips badly", is_internal=True
    )
    queue_services.ticket_comment_add(
        tenant=tenant, ticket=ticket, customer=ticket.customer, body="Thanks, can't wait!"
    )
    page = Client().get(reverse("queues:status", args=[ticket.reference]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "We start on yours &lt;b&gt;tomorrow&lt;/b&gt;." in body  # shown, and escaped
    assert "Thanks, can&#x27;t wait!" in body
    assert "tips badly" not in body
