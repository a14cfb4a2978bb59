"""Waiting-room pages: joining by email link and as a signed-in user, the place page (position, people
ahead, ETA, join time, rules), polling JSON, leaving with a cooldown, the admitted person's checkout,
sold out with the waitlist, the staff page (counts, settings, pause), tenant isolation on every URL, and
the websockets (position pushed when people ahead are admitted; staff counts; outsiders refused)."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.urls import reverse

from config.asgi import application
from tests import factories
from tests.waitingroom.factories import join, make_room
from ticketing.models import CheckoutSession, EventStatus, SessionSource
from waitingroom import services
from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry
from waitingroom.views import cookie_name

pytestmark = pytest.mark.django_db

WS_HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


def public(name, tenant, **kwargs):
    return reverse(f"waitingroom_public:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def dash(name, tenant, **kwargs):
    return reverse(f"waitingroom:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def fresh(entry):
    return WaitingRoomEntry.objects.get(pk=entry.pk)


def test_join_by_email_link_then_the_place_page(client, tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    ahead = join(tenant, event)
    page = client.get(public("room", tenant, event_slug=event.slug))
    assert page.status_code == 200
    assert b"lose your place" in page.content and b"join again only after" in page.content
    sent = client.post(
        public("room", tenant, event_slug=event.slug), {"email": "Fan@Example.test", "name": "Fan"}
    )
    assert sent.status_code == 200 and b"Check your email" in sent.content
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    path = link.split("testserver", 1)[1]
    confirm = client.get(path)
    assert confirm.status_code == 200 and b"Take my place in line" in confirm.content
    assert not WaitingRoomEntry.objects.filter(
        customer__email="fan@example.test"
    ).exists()  # GET joins nobody
    joined = client.post(path)
    entry = WaitingRoomEntry.objects.get(customer__email="fan@example.test")
    assert joined.status_code == 302 and entry.token in joined["Location"]
    assert joined.cookies[cookie_name(event.id)].value == entry.token
    page = client.get(joined["Location"])
    html = page.content.decode()
    assert 'data-live-field="position">2<' in html
    assert 'data-live-field="ahead">1<' in html
    assert "Estimated wait" in html and "Joined" in html
    assert f"/ws/waitingroom/{entry.token}/" in html
    # Coming back to the front door with the cookie leads to the same place; the link again joins nobody new.
    again = client.get(public("room", tenant, event_slug=event.slug))
    assert again.status_code == 302 and entry.token in again["Location"]
    client.post(path)
    assert WaitingRoomEntry.objects.filter(event=event).count() == 2
    assert ahead.status == EntryStatus.WAITING


def test_bad_or_foreign_join_link_is_refused(client, tenant):
    event, _room = make_room(tenant=tenant)
    other, _ = make_room(tenant=tenant, checkout_limit=1)
    assert client.get(public("verify", tenant, event_slug=event.slug, signed="nope")).status_code == 404
    client.post(public("room", tenant, event_slug=other.slug), {"email": "a@example.test"})
    signed = re.search(r"/join/([^/]+)/", mail.outbox[-1].body).group(1)
    assert client.post(public("verify", tenant, event_slug=event.slug, signed=signed)).status_code == 404
    assert not WaitingRoomEntry.objects.exists()


def test_signed_in_user_joins_with_one_button(client, tenant):
    event, _room = make_room(tenant=tenant)
    user = factories.UserFactory()
    client.force_login(user)
    response = client.post(public("room", tenant, event_slug=event.slug), {"as_user": "1"})
    entry = WaitingRoomEntry.objects.get(user=user)
    assert response.status_code == 302 and entry.token in response["Location"]
    client.post(public("room", tenant, event_slug=event.slug), {"as_user": "1"})
    assert WaitingRoomEntry.objects.filter(user=user).count() == 1


def test_place_page_query_count_is_constant(client, tenant, django_assert_max_num_queries):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    for _ in range(30):
        join(tenant, event)
    entry = join(tenant, event)
    with django_assert_max_num_queries(8):
        response = client.get(public("entry", tenant, token=entry.token))
    assert b'data-live-field="ahead">30<' in response.content
    with django_assert_max_num_queries(8):
        data = client.get(public("status", tenant, token=entry.token)).json()
    assert data["status"] == "waiting" and data["fields"]["ahead"] == "30"


def test_leave_shows_cooldown_and_rejoin_is_refused(client, tenant):
    event, _room = make_room(tenant=tenant, cooldown_minutes=60)
    user = factories.UserFactory()
    client.force_login(user)
    client.post(public("room", tenant, event_slug=event.slug), {"as_user": "1"})
    entry = WaitingRoomEntry.objects.get(user=user)
    page = client.post(public("leave", tenant, token=entry.token), follow=True)
    assert b"You can join again from" in page.content
    assert fresh(entry).status == EntryStatus.LEFT
    refused = client.post(public("room", tenant, event_slug=event.slug), {"as_user": "1"}, follow=True)
    assert b"you can join again from" in refused.content
    assert WaitingRoomEntry.objects.filter(user=user).count() == 1
    assert client.get(public("leave", tenant, token=entry.token)).status_code == 405


def test_admitted_person_gets_the_checkout_form_and_opens_checkout(client, tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    entry = join(tenant, event)
    waiting = join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    page = client.get(public("entry", tenant, token=entry.token))
    assert b"It&#x27;s your turn" in page.content or b"It's your turn" in page.content
    admission = re.search(rb'name="admission" value="([^"]+)"', page.content).group(1).decode()
    tier = event.tiers.get()
    # Someone still waiting has no token and cannot open checkout.
    assert b'name="admission"' not in client.get(public("entry", tenant, token=waiting.token)).content
    response = client.post(
        reverse(
            "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
        ),
        {"admission": admission, f"tier_{tier.id}": "2"},
    )
    session = CheckoutSession.objects.get()
    assert response.status_code == 302 and session.token in response["Location"]
    assert session.source == SessionSource.WAITING_ROOM and session.source_reference == f"entry:{entry.pk}"
    again = client.get(public("entry", tenant, token=entry.token))
    assert b"Continue your checkout" in again.content
    forged = client.post(
        reverse(
            "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
        ),
        {"admission": admission[:-2] + "xx", f"tier_{tier.id}": "1"},
        follow=True,
    )
    assert b"not valid" in forged.content
    assert CheckoutSession.objects.count() == 1


def test_sold_out_tells_waiting_people_and_offers_the_waitlist(client, tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1, tiers=(("General", 2500, 1),))
    from ticketing import services as ticketing

    first = join(tenant, event)
    waiting = join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    ticketing.checkout_open(
        tenant=tenant,
        event=event,
        quantities={event.tiers.get().id: 1},
        admission=services.admission_token(fresh(first)),
    )
    assert type(event).objects.get(pk=event.pk).status == EventStatus.SOLD_OUT
    page = client.get(public("entry", tenant, token=waiting.token))
    waitlist = reverse("waitlists_public:join", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    assert b"Sold out" in page.content and waitlist.encode() in page.content
    assert client.get(public("status", tenant, token=waiting.token)).json()["sold_out"] is True


def test_staff_page_counts_settings_and_pause(client, tenant, owner, staff):
    event, _room = make_room(tenant=tenant, checkout_limit=2)
    for _ in range(3):
        join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    client.force_login(owner)
    page = client.get(dash("room", tenant, event_id=event.id))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-live-field="count-waiting">1<' in html and 'data-live-field="count-admitted">2<' in html
    assert "Admission rate" in html
    assert event.title in client.get(dash("rooms", tenant)).content.decode()
    saved = client.post(
        dash("room", tenant, event_id=event.id),
        {
            "enabled": "on",
            "opens_at": "",
            "admission_minutes": "7",
            "unseen_minutes": "20",
            "cooldown_minutes": "30",
            "prequeue_shuffle": "on",
        },
    )
    assert saved.status_code == 302
    room = WaitingRoom.objects.get(event=event)
    assert (room.admission_minutes, room.unseen_minutes, room.cooldown_minutes, room.prequeue_shuffle) == (
        7,
        20,
        30,
        True,
    )
    bad = client.post(dash("room", tenant, event_id=event.id), {"admission_minutes": "0"})
    assert bad.status_code == 422
    client.post(dash("pause", tenant, event_id=event.id), {"paused": "1"})
    assert WaitingRoom.objects.get(event=event).admission_paused
    client.post(dash("pause", tenant, event_id=event.id), {"paused": "0"})
    assert not WaitingRoom.objects.get(event=event).admission_paused
    # Staff see the page but cannot change settings.
    client.force_login(staff)
    assert client.get(dash("room", tenant, event_id=event.id)).status_code == 200
    assert client.post(dash("room", tenant, event_id=event.id), {"admission_minutes": "9"}).status_code == 403


def test_another_tenants_member_gets_404_everywhere(client, tenant, outsider, other_tenant):
    event, _room = make_room(tenant=tenant)
    entry = join(tenant, event)
    client.force_login(outsider)
    for url in (
        dash("room", tenant, event_id=event.id),
        dash("rooms", tenant),
    ):
        assert client.get(url).status_code == 404
    for url in (
        dash("pause", tenant, event_id=event.id),
        dash("admit", tenant, event_id=event.id),
        dash("room", tenant, event_id=event.id),
    ):
        assert client.post(url, {"paused": "1"}).status_code == 404
    # Their own dashboard, our event id: still 404.
    assert client.get(dash("room", other_tenant, event_id=event.id)).status_code == 404
    assert client.post(dash("pause", other_tenant, event_id=event.id), {"paused": "1"}).status_code == 404
    # Public pages of one tenant are not reachable under another.
    assert client.get(public("entry", other_tenant, token=entry.token)).status_code == 404
    assert client.post(public("leave", other_tenant, token=entry.token)).status_code == 404
    assert not WaitingRoom.objects.get(event=event).admission_paused


async def receive_until(communicator, predicate, limit=10):
    """Messages until one matches (a change may broadcast more than once); returns the match."""
    for _ in range(limit):
        message = await communicator.receive_json_from(timeout=10)
        if predicate(message):
            return message
    raise AssertionError("no matching message")


def test_websocket_pushes_a_new_position_when_people_ahead_are_admitted(tenant, transactional_db):
    event, _room = make_room(tenant=tenant, checkout_limit=2)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    first, second = join(tenant, event), join(tenant, event)
    third, me = join(tenant, event), join(tenant, event)

    def position(value):
        return lambda message: message.get("fields", {}).get("position") == value

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/waitingroom/{me.token}/", headers=WS_HEADERS)
        connected, _ = await communicator.connect()
        assert connected
        initial = await communicator.receive_json_from(timeout=10)
        # Resuming admission lets the first two in: my page moves from 4th to 2nd.
        await database_sync_to_async(services.waiting_room_pause)(
            tenant=tenant, actor=None, event=event, paused=False
        )
        moved = await receive_until(communicator, position("2"))
        await database_sync_to_async(services.waiting_room_leave)(tenant=tenant, entry=third)
        moved_again = await receive_until(communicator, position("1"))
        await communicator.disconnect()
        return initial, moved, moved_again

    initial, moved, moved_again = async_to_sync(scenario)()
    assert initial["fields"]["position"] == "4" and initial["fields"]["ahead"] == "3"
    assert moved["fields"]["ahead"] == "1"
    assert moved_again["fields"]["ahead"] == "0"
    assert {fresh(first).status, fresh(second).status} == {EntryStatus.ADMITTED}


def test_websocket_tells_the_admitted_page_to_reload_and_refuses_unknown_tokens(tenant, transactional_db):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    blocker = join(tenant, event)  # let in at once (a free place, on commit of the join)
    me = join(tenant, event)
    assert fresh(blocker).status == EntryStatus.ADMITTED and fresh(me).status == EntryStatus.WAITING

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/waitingroom/{me.token}/", headers=WS_HEADERS)
        connected, _ = await communicator.connect()
        await communicator.receive_json_from(timeout=10)
        # The admitted person gives their turn away: the next (me) is let in and told to reload.
        await database_sync_to_async(services.waiting_room_leave)(tenant=tenant, entry=blocker)
        message = await receive_until(communicator, lambda m: m.get("reload"))
        await communicator.disconnect()
        unknown = WebsocketCommunicator(application, "/ws/waitingroom/not-a-token/", headers=WS_HEADERS)
        refused, _ = await unknown.connect()
        return connected, message, refused

    connected, message, refused = async_to_sync(scenario)()
    assert connected and message["fields"]["status"] == "Admitted"
    assert refused is False
    assert fresh(me).status == EntryStatus.ADMITTED

    async def reconnect():  # the waiting page lost its socket while it was let in: told to reload at once
        communicator = WebsocketCommunicator(application, f"/ws/waitingroom/{me.token}/", headers=WS_HEADERS)
        assert (await communicator.connect())[0]
        message = await communicator.receive_json_from(timeout=10)
        await communicator.disconnect()
        return message

    assert async_to_sync(reconnect)()["reload"] is True


def test_staff_websocket_sends_counts_to_members_only(tenant, owner, outsider, transactional_db):
    from channels.auth import login  # noqa: F401 - the session middleware stack reads the cookie below
    from django.test import Client

    event, _room = make_room(tenant=tenant, checkout_limit=1)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    path = f"/ws/waitingroom/staff/{tenant.id}/{event.id}/"

    def headers_for(user):
        client = Client()
        client.force_login(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
        return [*WS_HEADERS, (b"cookie", cookie)]

    owner_headers, outsider_headers = headers_for(owner), headers_for(outsider)

    async def scenario():
        member = WebsocketCommunicator(application, path, headers=owner_headers)
        connected, _ = await member.connect()
        await database_sync_to_async(join)(tenant, event)
        message = await receive_until(member, lambda m: m["fields"]["count-waiting"] == "1")
        await member.disconnect()
        stranger = WebsocketCommunicator(application, path, headers=outsider_headers)
        refused, _ = await stranger.connect()
        return connected, message, refused

    connected, message, refused = async_to_sync(scenario)()
    assert connected and message["fields"]["count-waiting"] == "1"
    assert refused is False
