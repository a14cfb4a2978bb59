"""PostgreSQL advisory locks for scarce capacity (pretix's recipe).

Take every lock a transaction needs *once*, in sorted key order (so two transactions can never wait
for each other in a cycle), with a ``lock_timeout`` so contention surfaces as ``Busy`` ("try again")
rather than a hung request or a 500. Then re-check availability under the lock. Transaction-scoped
locks (``pg_advisory_xact_lock``) release themselves at commit or rollback; there is no unlock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import DatabaseError, connection, transaction

from core.errors import Busy

DEFAULT_LOCK_TIMEOUT_MS = 3000


def lock_key(namespace: str, identifier: object) -> int:
    """A stable signed 64-bit key for ``(namespace, identifier)``."""
    digest = hashlib.blake2b(f"{namespace}:{identifier}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_lock(keys: Iterable[int], *, timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS) -> None:
    """Take transaction-scoped advisory locks on ``keys`` in sorted order; raise Busy on timeout.

    Must run inside ``transaction.atomic``. Call it once per transaction with every key needed.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("advisory_lock() must be called inside transaction.atomic()")
    ordered = sorted(set(keys))
    if not ordered:
        return
    with connection.cursor() as cursor:
        # The caller's own bound (a service's ``SET LOCAL lock_timeout``) is put back afterwards: row
        # locks taken later in the transaction stay bounded.
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(timeout_ms)}ms"])
        try:
            with transaction.atomic():
                for key in ordered:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        except DatabaseError as error:
            if getattr(error.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
                raise Busy() from error
            raise
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def is_lock_timeout(error: BaseException) -> bool:
    return getattr(getattr(error, "__cause__", None), "sqlstate", None) == "55P03"
