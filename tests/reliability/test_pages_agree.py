"""Issue 15 #10: pages agree with their settings.

- An unlisted help desk is on no public list (the tenant's page, the help home) and works by direct link.
- An unlisted queue's own form page shows its live card, and the card's websocket is accepted and live;
  the API takes submissions by the same direct address.
- Public comments on creator and service tickets appear on the customer's status page; internal never.
- The help-desk inbox pages by 50 past 100 tickets, keeping its filters and its counts on every page.
- Agents escalate by hand with a reason (POST, a service, history, the same notifications as the
  automatic escalation), within their tenant and queue scope.
"""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from config.asgi import application
from notifications.models import OutboxMessage
from queues import services as queue_services
from queues.models import TicketEvent
from support.models import Escalation
from tenants.models import Membership, Role
from tests.factories import MembershipFactory
from tests.queues.factories import creator_queue, service_queue, submit
from tests.support.factories import agents, file_ticket, support_queue

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


def _inbox(client, tenant, **query):
    return client.get(reverse("support:inbox", args=[tenant.slug]), query)


def _references(response) -> list[str]:
    return re.findall(r'name="tickets" value="([A-Z0-9-]+)"', response.content.decode())


def test_the_help_desk_inbox_pages_by_50_past_100_tickets_keeping_filters_and_counts(client, tenant, staff):
    desk = support_queue(tenant, slug="it", name="IT", agents=agents(staff), hours=[])
    other = support_queue(tenant, slug="facilities", name="Facilities", agents=agents(staff), hours=[])
    made = [file_ticket(desk, metadata={"building": "Main"}).reference for _ in range(120)]
    for _ in range(5):
        file_ticket(other, metadata={"building": "Main"})
    client.force_login(staff)
    query = {"view": "all", "queue": "it", "meta_key": "building"}
    first = _inbox(client, tenant, **query)
    body = first.content.decode()
    assert len(_references(first)) == 50
    assert "Tickets 1–50 of 120" in body and "page 1 of 3" in body
    assert re.search(r'<span class="sd-count">125</span>', body)  # the tab counts stay whole
    next_link = re.search(r'<a rel="next" href="\?([^"]+)"', body).group(1).replace("&amp;", "&")
    assert "view=all" in next_link and "queue=it" in next_link and "meta_key=building" in next_link
    second = client.get(reverse("support:inbox", args=[tenant.slug]) + "?" + next_link)
    third = _inbox(client, tenant, page="3", **query)
    pages = [_references(first), _references(second), _references(third)]
    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [reference for page in pages for reference in page]
    assert sorted(seen) == sorted(made)  # every ticket once, none of the other queue's
    assert '<a rel="next"' not in third.content.decode() and '<a rel="prev"' in third.content.decode()
    assert _references(_inbox(client, tenant, page="99", **query)) == pages[2]  # past the end: the last
    for bad in ("0", "-1", "abc", "1%00", "9" * 30):
        assert _inbox(client, tenant, page=bad, **query).status_code in (200, 400)
    assert len(_references(_inbox(client, tenant, view="all", meta_key="nothing"))) == 0


@pytest.fixture
def escalation_desk(tenant, owner, manager, staff):
    desk = support_queue(
        tenant, slug="it", name="IT", agents=agents(staff), hours=[], escalation_manager=manager
    )
    ticket = file_ticket(desk)
    return desk, ticket


def test_an_agent_escalates_by_hand_with_a_reason(client, tenant, owner, manager, staff, escalation_desk):
    desk, ticket = escalation_desk
    client.force_login(staff)
    url = reverse("support:escalate", args=[tenant.slug, ticket.reference])
    refused = client.post(url, {"reason": "   "}, follow=True)
    assert "Say why you escalate" in refused.content.decode()
    assert not Escalation.objects.filter(ticket=ticket).exists()
    assert client.get(url).status_code == 405  # never on GET
    response = client.post(url, {"reason": "Printer on fire, <script>x</script>"})
    assert response.status_code == 302
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.level, escalation.escalated_by, escalation.to_assignee) == (1, staff, manager)
    assert escalation.reason == "Printer on fire, <script>x</script>"
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.assignee == manager
    history = TicketEvent.objects.filter(ticket=ticket, event="escalate").get()
    assert history.actor == staff and history.note.startswith("Printer on fire")
    told = OutboxMessage.objects.filter(event_type="support.escalated")
    assert told.filter(user=manager).count() == 1 and not told.filter(user=staff).exists()
    page = client.get(reverse("support:ticket", args=[tenant.slug, ticket.reference])).content.decode()
    assert "Printer on fire, &lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page
    # The customer sees no escalation.
    customer_page = Client().get(reverse("support:customer_ticket", args=[ticket.reference]))
    assert "Printer on fire" not in customer_page.content.decode()
    client.force_login(manager)
    assert client.post(url, {"reason": "Still burning"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2 and ticket.assignee == owner
    again = client.post(url, {"reason": "More"}, follow=True)
    assert "highest escalation level" in again.content.decode()
    assert Escalation.objects.filter(ticket=ticket).count() == 2


def test_manual_escalation_is_scoped_to_the_ticket_s_tenant_and_queue(
    client, tenant, outsider, escalation_desk
):
    desk, ticket = escalation_desk
    url = reverse("support:escalate", args=[tenant.slug, ticket.reference])
    client.force_login(outsider)
    assert client.post(url, {"reason": "mine now"}).status_code == 404
    own = Membership.objects.get(user=outsider).tenant
    assert (
        client.post(
            reverse("support:escalate", args=[own.slug, ticket.reference]), {"reason": "x"}
        ).status_code
        == 404
    )
    not_an_agent = MembershipFactory(tenant=tenant, role=Role.STAFF).user
    client.force_login(not_an_agent)
    assert client.post(url, {"reason": "not my queue"}).status_code == 404
    assert not Escalation.objects.filter(ticket=ticket).exists()
