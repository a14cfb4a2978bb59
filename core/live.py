"""What every websocket consumer shares, built so one daphne process can hold thousands of watchers.

Rules this module enforces:

- **One subscription per group per process** (:class:`LocalGroups`): a change reaches the process once
  and is handed to each watching consumer directly — no per-socket channel, Redis key, task wake-up or
  group membership (joining is free once the process follows the group).
- **No per-message thread hop.** Channels 4.2+ runs ``close_old_connections`` through ``sync_to_async``
  before EVERY handler call (``AsyncConsumer.dispatch``). All sync work of a process goes through one
  thread, so a change fanned out to 2 000 watchers queued 2 000 hops behind each other (seconds of
  latency). :class:`LiveConsumer` dispatches directly: its subclasses never touch the ORM in the event
  loop; every query goes through ``database_sync_to_async``, which closes old connections itself.
- **Connect without a database round trip** where the answer is shared by many watchers:
  :func:`fact` keeps small, read-only authorisation facts (which tenant owns queue 7, is it public) in
  Redis for a short time, loaded once per process under a stampede (single flight) and only from the
  database. A fact is never written by a consumer and never decides anything a service enforces.
- **The current state on connect** comes from the last broadcast of the group (:func:`remember`, written
  by ``core.broadcast`` after commit, newest read wins by build time), so a page that lost its socket is
  up to date again as soon as it reconnects, without a query.
- Keys are namespaced by database (name and OID), so a recreated database (tests, benchmarks) never sees
  facts about its predecessor's rows. Redis being down costs only speed: facts come from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import redis
import redis.asyncio as aredis
from channels.auth import AuthMiddleware, UserLazyObject, get_user
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator, WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.functional import empty

logger = logging.getLogger(__name__)

# How long the newest payload of a group is kept for late joiners (longer than any page stays open
# without a change is not needed: the page itself was rendered from the database).
LAST_PAYLOAD_SECONDS = 6 * 3600
MISSING = object()
STOP = "live.stop"  # a message to a subscription's own channel: stop listening


# --- consumers ------------------------------------------------------------------------------------


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Base of every consumer: direct dispatch, one group joined through :class:`LocalGroups` (the consumer
    itself has no channel-layer channel), ping → pong, and group messages held back until ``connect()``
    has finished (so the first message a page gets is what ``connect()`` sent, as before)."""

    channel_layer_alias = None  # groups go through the process's LocalGroups, not a channel per socket
    group: str | None = None
    _connected = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._held: list[dict] = []

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_connect(self, message):
        await super().websocket_connect(message)
        while self._held:  # no await between the last check and the flag: nothing overtakes these
            await self.dispatch(self._held.pop(0))
        self._connected = True

    async def deliver(self, message: dict) -> None:
        """A group message (called by LocalGroups, in order)."""
        if not self._connected:
            self._held.append(message)
            return
        await self.dispatch(message)

    async def join(self, group: str) -> None:
        """Subscribe to ``group``; every message sent to it after this returns reaches this consumer."""
        await local_groups().join(group, self)
        self.group = group

    async def disconnect(self, code):
        if self.group:
            await local_groups().leave(self.group, self)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.on_ping()
            await self.send_json({"type": "pong"})

    async def on_ping(self) -> None:
        """Hook for consumers that record presence on the client's keep-alive ping."""

    async def send_shared(self, message: dict, key: str, build: Callable[[], dict]) -> None:
        """Send ``build()`` encoded once per message for every watcher in this process (the message dict
        is shared by all of them)."""
        encoded = message.setdefault("_encoded", {})
        text = encoded.get(key)
        if text is None:
            text = encoded[key] = await self.encode_json(build())
        await self.send(text_data=text)

    @classmethod
    async def encode_json(cls, content):
        return json.dumps(content, cls=DjangoJSONEncoder)


class _Subscription:
    def __init__(self, group: str):
        self.group = group
        self.members: weakref.WeakSet = weakref.WeakSet()
        self.channel: str | None = None
        self.ready: asyncio.Future | None = None
        self.listener: asyncio.Task | None = None
        self.added_at = 0.0
        self.stopped = False


class LocalGroups:
    """One channel-layer subscription per group per process, however many sockets watch it.

    A group message is received once and handed to each local member in turn (no task, no Redis key and
    no thread hop per watcher), the way the minimal broadcast server writes one frame to every socket.
    Joining a group this process already follows costs no round trip at all. The last member leaving
    unsubscribes (the first to come back subscribes again: one round trip), and a long-lived subscription
    renews its channel-layer membership before the layer's group expiry. If receiving fails (Redis lost),
    every member is closed so its page reconnects and resyncs, as a consumer's own failure would have
    done."""

    RENEW_SECONDS = 3600
    STOP_SECONDS = 2

    def __init__(self, layer):
        self.layer = layer
        self.subscriptions: dict[str, _Subscription] = {}
        self.janitor: asyncio.Task | None = None

    async def join(self, group: str, consumer) -> None:
        sub = self.subscriptions.get(group)
        if sub is None:
            sub = self.subscriptions[group] = _Subscription(group)
            sub.ready = asyncio.ensure_future(self._subscribe(sub))
        sub.members.add(consumer)
        try:
            await asyncio.shield(sub.ready)
        except BaseException:
            sub.members.discard(consumer)
            if self.subscriptions.get(group) is sub and sub.ready.done() and sub.ready.exception():
                del self.subscriptions[group]  # the next join tries again
            raise
        if self.janitor is None or self.janitor.done():
            self.janitor = asyncio.ensure_future(self._tidy_forever())

    async def leave(self, group: str, consumer) -> None:
        sub = self.subscriptions.get(group)
        if sub is None:
            return
        sub.members.discard(consumer)
        if sub.members or sub.ready is None or not sub.ready.done() or sub.ready.exception():
            return
        # The last local watcher left: unsubscribe now. The listener is stopped by a message on its own
        # channel, not by cancelling it (a channels_redis receive cancelled mid-BZPOPMIN can swallow the
        # cancellation and loop on, which kept event loops from closing).
        del self.subscriptions[group]
        sub.stopped = True  # the listener checks this between receives, whatever wakes it
        with contextlib.suppress(Exception):
            await self.layer.group_discard(group, sub.channel)
            await self.layer.send(sub.channel, {"type": STOP})
            await asyncio.wait_for(asyncio.shield(sub.listener), self.STOP_SECONDS)
        if sub.listener is not None and not sub.listener.done():
            # It did not see the stop message in time (Redis slow or gone): cancel it, so no listener
            # outlives its last watcher and keeps an event loop from closing.
            sub.listener.cancel()

    async def _subscribe(self, sub: _Subscription) -> None:
        sub.channel = await self.layer.new_channel("live")
        await self.layer.group_add(sub.group, sub.channel)
        sub.added_at = time.monotonic()
        sub.listener = asyncio.ensure_future(self._listen(sub))

    async def _listen(self, sub: _Subscription) -> None:
        try:
            while not sub.stopped:
                message = await self.layer.receive(sub.channel)
                if sub.stopped or message.get("type") == STOP:
                    return
                for member in list(sub.members):
                    try:
                        await member.deliver(message)
                    except Exception:  # noqa: BLE001 - one broken socket must not stop the others
                        logger.warning("live delivery to a %s watcher failed", sub.group, exc_info=True)
                        sub.members.discard(member)
                        with contextlib.suppress(Exception):
                            await member.close(code=1011)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - e.g. Redis lost: drop the subscription, pages reconnect
            logger.warning("live subscription to %s failed; closing its sockets", sub.group, exc_info=True)
            if self.subscriptions.get(sub.group) is sub:
                del self.subscriptions[sub.group]
            for member in list(sub.members):
                with contextlib.suppress(Exception):
                    await member.close(code=1011)

    async def _tidy_forever(self) -> None:
        while self.subscriptions:
            await asyncio.sleep(60)
            await self.tidy()

    async def tidy(self, now: float | None = None) -> None:
        """Renew channel-layer memberships before the layer's group expiry."""
        now = time.monotonic() if now is None else now
        for group, sub in list(self.subscriptions.items()):
            if sub.ready is None or not sub.ready.done() or sub.ready.exception():
                continue
            if now - sub.added_at >= self.RENEW_SECONDS:
                sub.added_at = now
                with contextlib.suppress(Exception):
                    await self.layer.group_add(group, sub.channel)


_local_groups: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def local_groups() -> LocalGroups:
    """This event loop's LocalGroups over the current default channel layer."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    hub = _local_groups.get(loop)
    if hub is None or hub.layer is not layer:
        hub = _local_groups[loop] = LocalGroups(layer)
    return hub


# --- the user, only for consumers that need one --------------------------------------------------


class LazyAuthMiddleware(AuthMiddleware):
    """Channels' AuthMiddleware resolves ``scope["user"]`` on every connect (a thread hop, and with a
    session cookie a session and a user query) — for public sockets that never look at it too. Here the
    user stays a lazy object until a consumer asks for it with :func:`scope_user`."""

    async def resolve_scope(self, scope):
        return None


def LiveAuthMiddlewareStack(inner):  # noqa: N802 - named like channels.auth.AuthMiddlewareStack
    return CookieMiddleware(SessionMiddleware(LazyAuthMiddleware(inner)))


async def scope_user(scope):
    """The connection's user (resolved from the session once, on first use)."""
    user = scope.get("user")
    if isinstance(user, UserLazyObject) and user._wrapped is empty:
        user._wrapped = await get_user(scope)
    return user


# --- the origin check -----------------------------------------------------------------------------


class _Denier(WebsocketDenier):
    """Channels' denier, without a channel-layer channel: refusing a handshake needs no Redis channel
    and no blocking receive on it (the stock one opened both, per refused socket, and the receive's
    cancellation could hang an event loop's shutdown for as long as Redis took to answer)."""

    channel_layer_alias = None


class _OriginCheck(OriginValidator):
    """Channels' origin rules; only the denial differs (see :class:`_Denier`)."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await super().__call__(scope, receive, send)  # channels' own error
        if self.valid_origin(_origin(scope)):
            return await self.application(scope, receive, send)
        return await _Denier()(scope, receive, send)


def _origin(scope):
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                return urlparse(value.decode("latin1"))
            except UnicodeDecodeError:
                return None
    return None


def LiveOriginValidator(application):  # noqa: N802 - named like channels' AllowedHostsOriginValidator
    """``AllowedHostsOriginValidator`` (the same allowed origins, from channels itself) with a denier
    that holds no channel-layer channel."""
    return _OriginCheck(application, AllowedHostsOriginValidator(application).allowed_origins)


@database_sync_to_async
def lookup_allowed(scope) -> bool:
    """The public status sockets (found by an unguessable reference) share the status pages' per-client
    lookup limit; False when this client is over it."""
    from core.errors import RateLimited
    from core.ratelimit import check_rate

    client = scope.get("client") or ("unknown", 0)
    try:
        check_rate("ticket-status", str(client[0]))
    except RateLimited:
        return False
    return True


# --- Redis clients --------------------------------------------------------------------------------

_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_sync_client: redis.Redis | None = None


def async_redis() -> aredis.Redis:
    """One client per event loop (daphne has one), over a bounded pool that waits for a free connection
    instead of failing (a reconnect storm asks for thousands of facts at once)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        pool = aredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL, max_connections=50, timeout=5, socket_connect_timeout=2, socket_timeout=5
        )
        client = aredis.Redis(connection_pool=pool)
        _async_clients[loop] = client
    return client


def _redis() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _sync_client


# --- the database namespace -----------------------------------------------------------------------

_namespaces: dict[str, str] = {}


def _database_name() -> str:
    return str(settings.DATABASES["default"]["NAME"])


def namespace() -> str:
    """``<database name>.<its OID>`` (sync; one query per process and database, then cached)."""
    name = _database_name()
    found = _namespaces.get(name)
    if found is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
            found = f"{name}.{cursor.fetchone()[0]}"
        _namespaces[name] = found
    return found


async def anamespace() -> str:
    found = _namespaces.get(_database_name())
    if found is None:
        found = await database_sync_to_async(namespace)()
    return found


def _fact_key(space: str, kind: str, ident: str) -> str:
    return f"vq:live:{space}:fact:{kind}:{ident}"


def _last_key(space: str, group: str) -> str:
    return f"vq:live:{space}:last:{group}"


# --- facts ----------------------------------------------------------------------------------------

_inflight: dict[tuple[int, str], asyncio.Future] = {}


async def fact(kind: str, ident: object, load: Callable[[], Any], *, ttl: int, negative_ttl: int) -> Any:
    """The JSON value ``load()`` returns (a sync function reading the database), cached in Redis for
    ``ttl`` seconds (``negative_ttl`` when it is None: unknown ids are not looked up again and again).
    Concurrent callers in one process share one read-through (cache read, ``load()``, cache write), so a
    connect storm reads the database once even when a caller's cache miss comes back after another
    caller's load finished but before its cache write landed."""
    space = await anamespace()
    key = _fact_key(space, kind, str(ident))
    return await _single_flight(key, lambda: _read_through(key, load, ttl=ttl, negative_ttl=negative_ttl))


async def _read_through(key: str, load: Callable[[], Any], *, ttl: int, negative_ttl: int) -> Any:
    client = async_redis()
    cache_up = True
    try:
        raw = await client.get(key)
    except redis.RedisError:
        logger.warning("live fact %s: Redis unavailable, reading the database", key)
        raw, cache_up = None, False
    if raw is not None:
        return json.loads(raw)
    value = await database_sync_to_async(load)()
    if cache_up:
        with contextlib.suppress(redis.RedisError):
            await client.set(key, json.dumps(value), ex=ttl if value is not None else negative_ttl)
    return value


async def _single_flight(key: str, work: Callable[[], Awaitable[Any]]) -> Any:
    token = (id(asyncio.get_running_loop()), key)
    pending = _inflight.get(token)
    if pending is not None:
        return await asyncio.shield(pending)
    task = asyncio.ensure_future(work())
    _inflight[token] = task
    try:
        return await asyncio.shield(task)
    finally:
        if _inflight.get(token) is task:
            del _inflight[token]


# --- the newest payload of a group ----------------------------------------------------------------

# Replace the stored payload only with one built later (two processes may send out of order).
_REMEMBER = """
local stored = redis.call('HGET', KEYS[1], 't')
if stored and tonumber(stored) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'p', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


def remember(group: str, payload: dict, *, built_at: float | None = None) -> None:
    """Keep ``payload`` as the group's newest state (best effort: a failure only costs freshness)."""
    try:
        body = json.dumps(payload, cls=DjangoJSONEncoder)
        _redis().eval(
            _REMEMBER, 1, _last_key(namespace(), group), repr(built_at or time.time()), body,
            LAST_PAYLOAD_SECONDS,
        )  # fmt: skip
    except Exception:  # noqa: BLE001 - the broadcast itself already went out
        logger.warning("remembering the payload of %s failed", group, exc_info=True)


async def last_payload(group: str) -> dict | None:
    """The newest remembered payload of ``group`` (None when none or Redis is down)."""
    try:
        raw = await async_redis().hget(_last_key(await anamespace(), group), "p")
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None
