"""One estimate for a place in line, wherever it is read: the place page, its live socket and the API all
show the room's recalibrated range (``waitingroom.selectors.eta_shown``), and the API read is noted for
the ETA accuracy like the page's."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from config.asgi import application
from queues import accuracy
from tests.api.conftest import ApiClient, make_key
from tests.waitingroom.factories import join, make_room
from waitingroom import selectors, services
from waitingroom.models import WaitingRoom

WS_HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]

# A calibration whose range is far from the uncalibrated one, so a surface that ignores it shows.
CALIBRATED = {
    "alpha": 0.2,
    "z": [3.0] * 25,
    "low_z": 2.0,
    "high_z": 4.0,
    "samples": 25,
    "hits": 20,
    "shown": 25,
}


@pytest.fixture(autouse=True)
def _api_limits(settings):
    settings.API_RATE_LIMIT = "100000/60"


def _room_with_history(tenant):
    """Three people let in just now (0.2 per minute over the 15-minute window), then admission paused
    with two people waiting: the second of them has one ahead."""
    event, _room = make_room(tenant=tenant, checkout_limit=3)
    client = accuracy._redis()  # ids repeat across test databases: forget what earlier runs noted
    client.delete(accuracy.buffer_key("room", event.id), *client.keys(f"vq:eta:last:room:{event.id}:*"))
    for _ in range(3):
        join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    join(tenant, event)
    me = join(tenant, event)
    WaitingRoom.objects.filter(event=event).update(eta_calibration=CALIBRATED)
    return event, me


def _socket_eta(token: str) -> str:
    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/waitingroom/{token}/", headers=WS_HEADERS)
        connected, _ = await communicator.connect()
        assert connected
        message = await communicator.receive_json_from(timeout=10)
        await communicator.disconnect()
        return message["fields"]["eta"]

    return async_to_sync(scenario)()


def test_page_socket_and_api_show_the_same_recalibrated_range(client, tenant, transactional_db):
    event, me = _room_with_history(tenant)
    # Position 2 at 300 s a person: centre 600 s, scale √2 × 300 s; calibrated z 2..4 → 1449 s..2297 s.
    expected = "24–39 minutes"
    uncalibrated = selectors.eta_shown(1, {"rate": 0.2, "calibration": None}).text
    assert uncalibrated != expected  # the fixed margin would say something else

    page = client.get(reverse("waitingroom_public:entry", args=[tenant.slug, me.token])).content.decode()
    assert f'<span data-live-field="eta">{expected}</span>' in page
    assert _socket_eta(me.token) == expected

    accuracy._redis().delete(f"vq:eta:last:room:{event.id}:{me.pk}")
    api = ApiClient(client, make_key(tenant)[1])
    body = api.get(f"/api/v1/waiting-room/entries/{me.token}").json()
    assert body["position"] == 2 and body["eta"] == expected
    # The API's read was noted as a calibrated range shown at position 2 (scored when admitted).
    noted = [
        json.loads(item) for item in accuracy._redis().lrange(accuracy.buffer_key("room", event.id), 0, -1)
    ]
    mine = [item for item in noted if item["i"] == me.pk]  # the page's, then the API's
    assert len(mine) == 2 and mine[-1]["p"] == 2 and mine[-1]["k"] is True
    assert (mine[-1]["lo"], mine[-1]["hi"]) == (24 * 60.0, 39 * 60.0)


def test_without_history_every_surface_says_so(client, tenant, transactional_db):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    me = join(tenant, event)
    words = "Not known yet: nobody has been let in in the last 15 minutes."
    page = client.get(reverse("waitingroom_public:entry", args=[tenant.slug, me.token])).content.decode()
    assert words in page
    assert _socket_eta(me.token) == words
    api = ApiClient(client, make_key(tenant)[1])
    assert api.get(f"/api/v1/waiting-room/entries/{me.token}").json()["eta"] == words
