"""A place in the waiting room, and the admission it hands out, belong to the browser that joined (or the
signed-in user) — issue 15 #3. From a second, separate client the place page, its poll, its socket,
"leave" and the admission token are refused with a clear answer, show no email address, and leave the
holder's place as it was."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.test import Client
from django.urls import reverse

from config.asgi import application
from tests.waitingroom.factories import make_room
from ticketing.models import CheckoutSession
from waitingroom import services
from waitingroom.models import EntryStatus, WaitingRoomEntry

pytestmark = pytest.mark.django_db

WS_HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]
EMAIL = "holder.person@example.test"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()  # every test joins from the test client's one address (10 joins a minute)
    yield
    cache.clear()


def public(name, tenant, **kwargs):
    return reverse(f"waitingroom_public:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def join_by_email(browser, tenant, event, email=EMAIL):
    """The public way in: ask for the link, open it, press the button. Returns the entry."""
    browser.post(public("room", tenant, event_slug=event.slug), {"email": email, "name": "Holder"})
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    path = link.split("testserver", 1)[1]
    confirm = browser.get(path).content.decode()
    assert email not in confirm  # the link's page masks the address too
    browser.post(path)
    return WaitingRoomEntry.objects.get(
        event=event, customer__email=email, status__in=["waiting", "admitted"]
    )


def test_another_browser_cannot_see_poll_or_leave_someone_elses_place(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    holder, other = Client(), Client()
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    entry = join_by_email(holder, tenant, event)
    url = public("entry", tenant, token=entry.token)
    assert holder.get(url).status_code == 200
    seen = other.get(url)
    body = seen.content.decode()
    assert seen.status_code == 403 and "belongs to another browser" in body
    assert EMAIL not in body and "h•••@example.test" not in body and entry.public_id not in body
    poll = other.get(public("status", tenant, token=entry.token))
    assert poll.status_code == 403 and "position" not in poll.content.decode()
    assert other.post(public("leave", tenant, token=entry.token)).status_code == 403
    assert WaitingRoomEntry.objects.get(pk=entry.pk).status == EntryStatus.WAITING
    # The holder still has their place and page.
    page = holder.get(url).content.decode()
    assert "Waiting room" in page and "h•••@example.test" in page and EMAIL not in page


def test_an_admission_opens_a_checkout_only_in_the_holders_browser(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    holder, other = Client(), Client()
    entry = join_by_email(holder, tenant, event)
    services.waiting_room_admit(event_id=event.id)
    page = holder.get(public("entry", tenant, token=entry.token)).content.decode()
    admission = re.search(r'name="admission" value="([^"]+)"', page).group(1)
    start = reverse(
        "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    tier = event.tiers.get()
    # The token copied out of the holder's page (a forwarded page, a shared screenshot) is refused elsewhere.
    refused = other.post(start, {"admission": admission, f"tier_{tier.id}": "2"})
    body = refused.content.decode()
    assert refused.status_code == 403 and "another browser" in body and EMAIL not in body
    assert not CheckoutSession.objects.exists()
    assert WaitingRoomEntry.objects.get(pk=entry.pk).status == EntryStatus.ADMITTED
    # The holder's turn is untouched: their own browser opens the checkout with it.
    opened = holder.post(start, {"admission": admission, f"tier_{tier.id}": "2"})
    assert opened.status_code == 302 and CheckoutSession.objects.get().token in opened["Location"]
    # And the checkout it opened is the holder's only.
    assert other.get(opened["Location"]).status_code == 403


def test_a_signed_in_users_admission_works_in_their_other_browser_only(tenant):
    from tests.factories import UserFactory

    event, _room = make_room(tenant=tenant, checkout_limit=1)
    user = UserFactory()
    laptop, phone, stranger = Client(), Client(), Client()
    laptop.force_login(user)
    phone.force_login(user)
    laptop.post(public("room", tenant, event_slug=event.slug), {"as_user": "1"})
    entry = WaitingRoomEntry.objects.get(event=event, user=user)
    services.waiting_room_admit(event_id=event.id)
    page = phone.get(public("entry", tenant, token=entry.token)).content.decode()  # same account
    admission = re.search(r'name="admission" value="([^"]+)"', page).group(1)
    assert stranger.get(public("entry", tenant, token=entry.token)).status_code == 403
    start = reverse(
        "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    tier = event.tiers.get()
    assert stranger.post(start, {"admission": admission, f"tier_{tier.id}": "1"}).status_code == 403
    assert phone.post(start, {"admission": admission, f"tier_{tier.id}": "1"}).status_code == 302


def test_joining_again_with_a_fresh_email_link_moves_the_place_to_that_browser(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    laptop, phone = Client(), Client()
    entry = join_by_email(laptop, tenant, event)
    again = join_by_email(phone, tenant, event)  # the link went to the address: proof it is them
    assert again.pk == entry.pk and again.number == entry.number
    assert phone.get(public("entry", tenant, token=entry.token)).status_code == 200
    assert laptop.get(public("entry", tenant, token=entry.token)).status_code == 403


def test_the_place_socket_answers_only_the_holders_browser(tenant, transactional_db):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    holder = Client()
    entry = join_by_email(holder, tenant, event)
    cookie = f"sessionid={holder.cookies['sessionid'].value}".encode()
    path = f"/ws/waitingroom/{entry.token}/"

    async def scenario():
        own = WebsocketCommunicator(application, path, headers=[*WS_HEADERS, (b"cookie", cookie)])
        connected, _ = await own.connect()
        first = await own.receive_json_from(timeout=10)
        await own.disconnect()
        foreign = WebsocketCommunicator(application, path, headers=WS_HEADERS)
        refused, code = await foreign.connect()
        return connected, first, refused, code

    connected, first, refused, code = async_to_sync(scenario)()
    assert connected and first["fields"]["position"] == "1"
    assert refused is False and code == 4403
