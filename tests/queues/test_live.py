"""Websockets: the status socket follows a ticket without reloading; one broadcast per change; members only
on the dashboard socket; consumers do not query per message."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.asgi import application
from queues import services
from queues.models import Ticket
from tests import factories
from tests.queues.factories import creator_queue, submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_memory_channels")]
HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


def fresh(ticket):
    return Ticket.objects.select_related("ticket_type", "lane", "queue", "customer", "tenant").get(
        pk=ticket.pk
    )


def test_status_socket_updates_when_the_ticket_moves(tenant, owner):
    queue = creator_queue(tenant, default_service_minutes=5)
    ahead = submit(queue, "priority")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=ahead)
    mine = submit(queue, "personal")

    async def scenario():
        socket = WebsocketCommunicator(application, f"/ws/queues/status/{mine.reference}/", headers=HEADERS)
        connected, _ = await socket.connect()
        assert connected
        hello = await socket.receive_json_from(timeout=5)
        assert hello["fields"]["state"] == "pending" and hello["fields"]["position"] == "—"

        await database_sync_to_async(
            lambda: services.ticket_approve(tenant=tenant, actor=owner, ticket=fresh(mine))
        )()
        update = await socket.receive_json_from(timeout=5)
        assert update["fields"]["state"] == "approved"
        assert update["fields"]["phase"] == "You are in line."
        assert update["fields"]["position"] == "2"
        assert "minutes" in update["fields"]["eta"]
        assert update["fields"]["turn_text"] == " · your number F-1"
        assert update["history"][0].endswith("— Approve → approved")

        await database_sync_to_async(services.ticket_call_next)(tenant=tenant, actor=owner, queue=queue)
        update = await socket.receive_json_from(timeout=5)
        assert update["fields"]["position"] == "1"  # the ticket ahead was called: computed from the broadcast

        await database_sync_to_async(services.ticket_call_next)(tenant=tenant, actor=owner, queue=queue)
        update = await socket.receive_json_from(timeout=5)
        assert update["fields"]["state"] == "in progress" and update["fields"]["position"] == "—"
        assert await socket.receive_nothing(timeout=0.2)
        await socket.disconnect()

    async_to_sync(scenario)()


def test_consumer_makes_no_queries_per_message(tenant, owner):
    queue = creator_queue(tenant)
    mine = submit(queue, "personal")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=mine)
    from queues.consumers import StatusConsumer
    from queues.events import queue_payload
    from queues.live import StatusWatch, read_status_state

    watch = StatusWatch(read_status_state(mine.reference))
    other = submit(queue, "priority")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=other)
    payload = queue_payload(queue.pk, changes=[], tickets=[])
    consumer = StatusConsumer()
    consumer.watch = watch
    sent = []

    async def send_json(content, close=False):
        sent.append(content)

    consumer.send_json = send_json
    with CaptureQueriesContext(connection) as queries:
        async_to_sync(consumer.queue_changed)({"payload": payload})
    assert len(queries) == 0 and sent[0]["type"] == "status"


def test_unknown_reference_socket_is_refused():
    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/queues/status/AAA-BBB-CCC-DDD/", headers=HEADERS)
        connected, _ = await socket.connect()
        assert not connected

    async_to_sync(scenario)()


def test_public_card_and_dashboard_sockets(tenant, owner):
    queue = creator_queue(tenant)
    outsider = factories.MembershipFactory().user

    async def scenario():
        card = WebsocketCommunicator(application, f"/ws/queues/queue/{queue.pk}/", headers=HEADERS)
        assert (await card.connect())[0]
        path = f"/ws/queues/dashboard/{tenant.slug}/queues/{queue.slug}/"
        board = WebsocketCommunicator(application, path, headers=HEADERS)
        board.scope["user"] = owner
        assert (await board.connect())[0]
        stranger = WebsocketCommunicator(application, path, headers=HEADERS)
        stranger.scope["user"] = outsider
        assert not (await stranger.connect())[0]

        ticket = await database_sync_to_async(submit)(queue, "priority")
        await database_sync_to_async(
            lambda: services.ticket_approve(tenant=tenant, actor=owner, ticket=fresh(ticket))
        )()
        # Submitting (no line change for a pending request) and approving: one message each.
        await board.receive_json_from(timeout=5)
        refresh = await board.receive_json_from(timeout=5)
        assert refresh["type"] == "refresh" and refresh["waiting"] == 1
        await card.receive_json_from(timeout=5)
        message = await card.receive_json_from(timeout=5)
        assert any(key.endswith("-waiting") and value == "1" for key, value in message["fields"].items())
        assert await card.receive_nothing(timeout=0.2)
        await card.disconnect()
        await board.disconnect()

    async_to_sync(scenario)()


def test_dashboard_socket_keeps_the_support_scope(tenant, staff, manager):
    from tests.support.factories import agents, support_queue

    support_queue(tenant, slug="it", name="IT", agents=agents(staff), hours=[])
    support_queue(tenant, slug="facilities", name="Facilities", hours=[])

    async def connects(user, slug):
        path = f"/ws/queues/dashboard/{tenant.slug}/queues/{slug}/"
        socket = WebsocketCommunicator(application, path, headers=HEADERS)
        socket.scope["user"] = user
        connected = (await socket.connect())[0]
        await socket.disconnect()
        return connected

    assert async_to_sync(connects)(staff, "it")
    assert not async_to_sync(connects)(staff, "facilities")
    assert async_to_sync(connects)(manager, "facilities")
