"""The customer's ticket page, live: a public reply or a state change reaches the open page; internal
notes, assignments and escalations never do; a page that reconnects learns what it missed."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from config.asgi import application
from support import consumers, services
from tenants.models import Membership
from tests.queues.factories import creator_queue, submit
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_memory_channels")]
HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


def socket(reference, seen=None):
    query = f"?seen={seen:.3f}" if seen is not None else ""
    return WebsocketCommunicator(application, f"/ws/support/status/{reference}/{query}", headers=HEADERS)


def test_the_open_page_hears_public_replies_and_state_changes_only(tenant, staff, manager):
    queue = support_queue(tenant, agents=agents(staff), hours=[])
    ticket = file_ticket(queue)
    member = Membership.objects.get(tenant=tenant, user=staff)

    def act(function, **kwargs):
        return database_sync_to_async(function)(membership=member, ticket=ticket, **kwargs)

    async def scenario():
        page = socket(ticket.reference, seen=time.time())
        assert (await page.connect())[0]
        assert await page.receive_nothing(timeout=0.3)  # nothing happened since the page was rendered
        await act(services.support_comment_add, body="Checking the logs (team only).", is_internal=True)
        await act(services.support_ticket_assign, assignee=manager)
        assert await page.receive_nothing(timeout=0.5)  # internal work is invisible to the customer
        await act(services.support_ticket_transition, event="start")
        started = await page.receive_json_from(timeout=5)
        await act(services.support_comment_add, body="We reset your password.", is_internal=False)
        replied = await page.receive_json_from(timeout=5)
        await page.disconnect()
        return started, replied

    started, replied = async_to_sync(scenario)()
    assert started == {"fields": {"status": "in progress", "changed": consumers.UPDATED}}
    assert replied == {"fields": {"status": "in progress", "changed": consumers.REPLY}}
    body = str(started) + str(replied)
    assert "team only" not in body and "logs" not in body and "reset" not in body  # no text is sent


def test_a_page_that_reconnects_learns_what_it_missed(tenant, staff):
    queue = support_queue(tenant, agents=agents(staff), hours=[])
    ticket = file_ticket(queue)
    member = Membership.objects.get(tenant=tenant, user=staff)
    rendered = time.time() - 0.5
    services.support_comment_add(
        membership=member, ticket=ticket, body="Fixed, please try.", is_internal=False
    )

    async def reconnect(seen):
        page = socket(ticket.reference, seen=seen)
        assert (await page.connect())[0]
        message = None if await page.receive_nothing(timeout=0.3) else await page.receive_json_from()
        await page.disconnect()
        return message

    assert async_to_sync(reconnect)(rendered) == {"fields": {"status": "open", "changed": consumers.REPLY}}
    assert async_to_sync(reconnect)(time.time()) is None  # rendered after the reply: already on the page


def test_the_page_opens_its_socket_and_unknown_or_non_support_references_are_refused(client, tenant, staff):
    queue = support_queue(tenant, agents=agents(staff), hours=[])
    ticket = file_ticket(queue)
    page = client.get(reverse("support:customer_ticket", args=[ticket.reference])).content.decode()
    assert f'data-live-socket="/ws/support/status/{ticket.reference}/?seen=' in page
    assert 'data-live-field="changed"' in page
    other = submit(creator_queue(tenant))

    async def refused(reference):
        page = socket(reference)
        connected, _ = await page.connect()
        return not connected

    assert async_to_sync(refused)("NOT-A-REAL-REF")
    assert async_to_sync(refused)(other.reference)  # a queue ticket has its own status socket
