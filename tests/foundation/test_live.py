"""core.live: one channel-layer subscription per group per process, group messages after connect()'s own,
cached authorisation facts (one database read under a stampede), the newest payload on connect, and
sockets closed (so pages reconnect) when the subscription fails."""

import asyncio

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from core import live
from queues import consumers as queue_consumers
from queues import services
from queues.events import queue_group
from tests.queues.factories import service_queue, submit, support_queue

pytestmark = pytest.mark.django_db(transaction=True)
HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]
FAIL = {"now": False}


class BreakingLayer(InMemoryChannelLayer):
    """In memory until FAIL["now"], then every receive fails the way a lost Redis does."""

    async def receive(self, channel):
        while not FAIL["now"]:
            try:
                return await asyncio.wait_for(super().receive(channel), 0.05)
            except TimeoutError:
                continue
        raise redis.ConnectionError("Redis lost")


@pytest.fixture
def breaking_channels(settings):
    FAIL["now"] = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.foundation.test_live.BreakingLayer"}}
    yield
    FAIL["now"] = False


def card(queue):
    return WebsocketCommunicator(application, f"/ws/queues/queue/{queue.pk}/", headers=HEADERS)


@pytest.mark.usefixtures("in_memory_channels")
def test_watchers_in_one_process_share_one_subscription_and_one_encoding(tenant):
    queue = service_queue(tenant)

    async def scenario():
        sockets = [card(queue) for _ in range(3)]
        for socket in sockets:
            assert (await socket.connect())[0]
        subscriptions = len(get_channel_layer().groups[queue_group(tenant.pk, queue.pk)])
        await database_sync_to_async(submit)(queue)
        frames = [await socket.receive_from(timeout=5) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        left = queue_group(tenant.pk, queue.pk) not in get_channel_layer().groups
        return subscriptions, frames, left

    subscriptions, frames, left = async_to_sync(scenario)()
    assert subscriptions == 1  # three sockets, one channel in the layer's group
    assert left  # the last one leaving unsubscribed the process
    assert len(set(frames)) == 1 and '"type": "card"' in frames[0]


@pytest.mark.usefixtures("in_memory_channels")
def test_a_new_card_gets_the_newest_state_at_once_and_an_unlisted_queue_keeps_it_live(tenant):
    """Unlisting a queue takes it off the tenant's page; its own form page (by direct link) still shows
    the card, which stays live (issue 15 #10: the card of an unlisted queue used to be refused)."""
    queue = service_queue(tenant)
    submit(queue)  # broadcast after commit: remembered as the queue's newest payload
    submit(queue)

    async def scenario():
        socket = card(queue)
        assert (await socket.connect())[0]
        first = await socket.receive_json_from(timeout=5)
        await database_sync_to_async(services.queue_update)(
            tenant=tenant, actor=None, queue=queue, changes={"is_public": False}
        )
        still_open = await socket.receive_json_from(timeout=5)
        late = card(queue)
        accepted = (await late.connect())[0]
        late_first = await late.receive_json_from(timeout=5)
        await database_sync_to_async(submit)(queue)
        updated = await late.receive_json_from(timeout=5)
        await socket.disconnect()
        await late.disconnect()
        return first, still_open, accepted, late_first, updated

    first, still_open, accepted, late_first, updated = async_to_sync(scenario)()
    assert first["type"] == "card"
    assert any(key.endswith("-waiting") and value == "2" for key, value in first["fields"].items())
    assert still_open["type"] == "card" and accepted and late_first["type"] == "card"
    assert any(key.endswith("-waiting") and value == "3" for key, value in updated["fields"].items())


@pytest.mark.usefixtures("in_memory_channels")
def test_a_help_desk_queue_has_no_public_card(tenant):
    queue = support_queue(tenant)

    async def scenario():
        return (await card(queue).connect())[0]

    assert not async_to_sync(scenario)()


@pytest.mark.usefixtures("in_memory_channels")
def test_a_connect_storm_reads_the_database_once(tenant, monkeypatch):
    queue = service_queue(tenant)
    loads = []
    original = queue_consumers._public_queue_tenant

    def counting(queue_id):
        loads.append(queue_id)
        return original(queue_id)

    monkeypatch.setattr(queue_consumers, "_public_queue_tenant", counting)

    async def scenario():
        sockets = [card(queue) for _ in range(8)]
        results = await asyncio.gather(*(socket.connect() for socket in sockets))
        again = card(queue)
        results.append(await again.connect())
        for socket in [*sockets, again]:
            await socket.disconnect()
        return [connected for connected, _ in results]

    assert async_to_sync(scenario)() == [True] * 9
    assert loads == [queue.pk]  # one read for 9 connects (8 at once), the rest from the cached fact


def test_facts_fall_back_to_the_database_when_redis_is_down(tenant, monkeypatch):
    queue = service_queue(tenant)

    class Down:
        async def get(self, key):
            raise redis.ConnectionError("down")

    monkeypatch.setattr(live, "async_redis", lambda: Down())

    async def scenario():
        load = lambda: queue_consumers._public_queue_tenant(queue.pk)  # noqa: E731
        return await live.fact("public-queue", queue.pk, load, ttl=5, negative_ttl=5)

    assert async_to_sync(scenario)() == tenant.pk


def test_the_remembered_payload_is_the_newest_built_not_the_last_sent(db):
    group = "test.live.order"
    live.remember(group, {"n": 2}, built_at=2_000_000_000.0)
    live.remember(group, {"n": 1}, built_at=1_000_000_000.0)  # built earlier, sent later: ignored

    async def read():
        return await live.last_payload(group)

    assert async_to_sync(read)() == {"n": 2}


class SlowHello(live.LiveConsumer):
    """Joins, waits for the test to broadcast, then accepts and says hello."""

    gate: asyncio.Event

    async def connect(self):
        await self.join("test.live.slow")
        await self.gate.wait()
        await self.accept()
        await self.send_json({"hello": True})

    async def queue_changed(self, message):
        await self.send_json({"changed": message["payload"]})


@pytest.mark.usefixtures("in_memory_channels")
def test_group_messages_wait_until_connect_has_finished():
    async def scenario():
        SlowHello.gate = asyncio.Event()
        socket = WebsocketCommunicator(SlowHello.as_asgi(), "/ws/slow/")
        connecting = asyncio.ensure_future(socket.connect())
        while "test.live.slow" not in get_channel_layer().groups:
            await asyncio.sleep(0.01)
        await get_channel_layer().group_send("test.live.slow", {"type": "queue.changed", "payload": 1})
        await asyncio.sleep(0.1)
        SlowHello.gate.set()
        assert (await connecting)[0]
        messages = [await socket.receive_json_from(timeout=5), await socket.receive_json_from(timeout=5)]
        await socket.disconnect()
        return messages

    assert async_to_sync(scenario)() == [{"hello": True}, {"changed": 1}]


@pytest.mark.usefixtures("breaking_channels")
def test_a_failed_subscription_closes_its_sockets_so_pages_reconnect(tenant):
    queue = service_queue(tenant)

    async def scenario():
        socket = card(queue)
        assert (await socket.connect())[0]
        FAIL["now"] = True
        return await socket.receive_output(timeout=5)

    assert async_to_sync(scenario)()["code"] == 1011


def test_a_refused_handshake_opens_no_channel_layer_channel(tenant, monkeypatch):
    """A foreign Origin is refused without a channel-layer channel or a blocking receive on it (channels'
    stock denier opened both per refused socket; cancelling that receive could hang a loop's shutdown)."""
    queue = service_queue(tenant)
    layer = get_channel_layer()
    opened = []
    original = type(layer).new_channel

    async def counting(self, *args, **kwargs):
        opened.append(args)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(type(layer), "new_channel", counting)

    async def refused():
        headers = [(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")]
        socket = WebsocketCommunicator(application, f"/ws/queues/queue/{queue.pk}/", headers=headers)
        connected, code = await socket.connect()
        return connected

    assert async_to_sync(refused)() is False
    assert opened == []
