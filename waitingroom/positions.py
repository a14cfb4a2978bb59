"""Position in a waiting room at constant cost, however long the line.

"People ahead" is the number of waiting entries with a smaller number. Counting them walks the partial
index ``wr_entry_waiting_number`` over everyone ahead: 50 000 index entries for the middle of a line of
100 000, so a lookup cost grew with the line (6 × a trivial query at 100 000). Numbers come from one
global sequence (joins have no hot row), so they are not dense per event and cannot be subtracted.

Instead each process keeps per event a few **checkpoints**: every ``EVERY``-th waiting entry's number and
its rank, read in one index-only pass. A lookup takes the nearest checkpoint at or before the entry and
counts only the waiting entries from there to the entry (fewer than ``EVERY`` + ``TAIL``): rank =
checkpoint rank + that count. The checkpoints are exact for the line they were read from, and are read
again when the line changes ahead of anyone: every change that removes people from the line (admit,
leave, expire) or renumbers it (the pre-queue draw) goes through ``waitingroom.events.broadcast_moved``,
which bumps the event's line version in Redis after commit; a lookup compares that version (one Redis
GET) and rebuilds once per process per change (one thread builds, the others wait for it).

Joins only add at the back. A join whose number was drawn before the checkpoints were read but which
commits after them would be missing from the ranks behind it, so the newest ``TAIL`` waiting entries get
no checkpoint (they are counted live), and checkpoints are re-read at least every ``MAX_AGE_SECONDS``.
Redis being down falls back to the plain count. The position shown is advisory; admission order is
decided by the database (``services.admission_pass``), never from these numbers.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from dataclasses import dataclass

import redis
from django.db import connection

EVERY = 500
TAIL = 1000
MAX_AGE_SECONDS = 30.0


@dataclass(frozen=True)
class Checkpoints:
    version: bytes
    read_at: float
    numbers: list[int]
    ranks: list[int]


_cache: dict[tuple[str, int], Checkpoints] = {}
_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_guard = threading.Lock()


def _version_key(space: str, event_id: int) -> str:
    return f"vq:wr:line:{space}:{event_id}"


def bump_line_version(event_id: int) -> None:
    """The line of ``event_id`` changed ahead of someone (call after commit). Best effort."""
    from core.live import _redis, namespace

    # With Redis gone, lookups cannot compare versions and fall back to counting (see ahead_count).
    with contextlib.suppress(redis.RedisError):
        _redis().incr(_version_key(namespace(), event_id))


def _line_version(space: str, event_id: int) -> bytes | None:
    from core.live import _redis

    try:
        return _redis().get(_version_key(space, event_id)) or b"0"
    except redis.RedisError:
        return None


def _read_checkpoints(event_id: int, version: bytes) -> Checkpoints:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT number, rank FROM (
                SELECT number, row_number() OVER (ORDER BY number) - 1 AS rank, count(*) OVER () AS total
                  FROM waitingroom_waitingroomentry
                 WHERE event_id = %(event)s AND status = 'waiting'
            ) AS line
             WHERE rank %% %(every)s = 0 AND rank < total - %(tail)s
             ORDER BY number
            """,
            {"event": event_id, "every": EVERY, "tail": TAIL},
        )
        rows = cursor.fetchall()
    return Checkpoints(version, time.monotonic(), [row[0] for row in rows], [row[1] for row in rows])


def _checkpoints(event_id: int) -> Checkpoints | None:
    from core.live import namespace

    space = namespace()
    version = _line_version(space, event_id)
    if version is None:
        return None
    key = (space, event_id)
    found = _cache.get(key)
    if found is not None and found.version == version and time.monotonic() - found.read_at < MAX_AGE_SECONDS:
        return found
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        found = _cache.get(key)
        if found is None or found.version != version or time.monotonic() - found.read_at >= MAX_AGE_SECONDS:
            found = _cache[key] = _read_checkpoints(event_id, version)
    return found


def _count_waiting(event_id: int, below: int, *, from_number: int | None = None) -> int:
    from waitingroom.models import EntryStatus, WaitingRoomEntry

    entries = WaitingRoomEntry.objects.filter(event_id=event_id, status=EntryStatus.WAITING, number__lt=below)
    if from_number is not None:
        entries = entries.filter(number__gte=from_number)
    return entries.count()


def ahead_count(event_id: int, number: int) -> int:
    """Waiting entries of ``event_id`` with a number below ``number`` (see the module docstring)."""
    marks = _checkpoints(event_id)
    if marks is None or not marks.numbers:
        return _count_waiting(event_id, number)
    index = bisect.bisect_right(marks.numbers, number) - 1
    if index < 0:
        return _count_waiting(event_id, number)
    return marks.ranks[index] + _count_waiting(event_id, number, from_number=marks.numbers[index])
