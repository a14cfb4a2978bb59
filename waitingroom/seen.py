""" "Seen" heartbeats, recorded cheaply in Redis and flushed to the database in batches.

Decision: a waiting person is seen whenever their page loads or polls, and whenever their websocket
connects or pings (live.js pings every 25 s). None of those write to the ORM: they ``ZADD`` the entry id
with the current time into one sorted set per event (``vq:wr:seen:<event_id>``), which costs one Redis
round trip and keeps only the newest time per entry. The admission pass (on every release and every few
seconds by beat) first flushes that set into ``WaitingRoomEntry.last_seen_at`` with ONE UPDATE … FROM
unnest(…), then expires entries not seen for the room's ``unseen_minutes``. A consumer additionally
throttles itself to one ZADD per 20 s.

Redis being down costs nothing but freshness: the flush finds nothing, ``last_seen_at`` keeps the time of
the last page load or flush, and a 30-minute window is far longer than any outage we would tolerate.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

_client: redis.Redis | None = None


def seen_key(event_id: int) -> str:
    return f"vq:wr:seen:{event_id}"


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _client


def mark_seen(event_id: int, entry_id: int, when: float | None = None) -> None:
    """Record that the entry's holder is here (sync callers: views)."""
    try:
        _redis().zadd(seen_key(event_id), {str(entry_id): when or time.time()})
    except redis.RedisError:
        logger.warning("recording seen for entry %s failed", entry_id, exc_info=True)


async def amark_seen(event_id: int, entry_id: int) -> None:
    """Record seen from a websocket consumer (the loop's pooled async Redis client, no ORM)."""
    from core.live import async_redis

    try:
        await async_redis().zadd(seen_key(event_id), {str(entry_id): time.time()})
    except redis.RedisError:
        logger.warning("recording seen for entry %s failed", entry_id, exc_info=True)


def seen_at(event_id: int, entry_id: int) -> datetime | None:
    """The newest not-yet-flushed heartbeat of one entry (None when none or Redis is down)."""
    try:
        score = _redis().zscore(seen_key(event_id), str(entry_id))
    except redis.RedisError:
        return None
    return datetime.fromtimestamp(score, tz=UTC) if score else None


def flush_seen(event_id: int) -> int:
    """Move the event's heartbeats into ``last_seen_at`` (never backwards). Returns how many entries.

    Runs in the caller's transaction when there is one (the admission pass). The Redis read-and-delete is
    atomic (MULTI), so a heartbeat arriving meanwhile lands in the next flush."""
    try:
        pipe = _redis().pipeline(transaction=True)
        pipe.zrange(seen_key(event_id), 0, -1, withscores=True)
        pipe.delete(seen_key(event_id))
        pairs, _deleted = pipe.execute()
    except redis.RedisError:
        logger.warning("flushing seen heartbeats for event %s failed", event_id, exc_info=True)
        return 0
    if not pairs:
        return 0
    ids = [int(member) for member, _score in pairs]
    stamps = [datetime.fromtimestamp(score, tz=UTC) for _member, score in pairs]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE waitingroom_waitingroomentry AS e
               SET last_seen_at = s.seen
              FROM unnest(%s::bigint[], %s::timestamptz[]) AS s(id, seen)
             WHERE e.id = s.id AND e.event_id = %s AND e.last_seen_at < s.seen
            """,
            [ids, stamps, event_id],
        )
        return cursor.rowcount
