"""Real-time payloads for waiting-room pages.

Group ``waitingroom.event.<tenant_id>.<event_id>`` (every waiting page and the staff page of the event);
message type ``waitingroom.moved``; payload::

    {"gone": [numbers that left the waiting line], "admitted": [entry ids admitted],
     "recount": bool, "rate": admissions per minute, "sold_out": bool, "paused": bool}

Built ONCE per change after commit, with no per-watcher query: each consumer knows its own number and
how many were ahead, and subtracts the gone numbers smaller than its own. When the change is too big to
list (a mass expiry, the pre-queue draw) ``recount`` tells consumers to count once themselves.
"""

from __future__ import annotations

import logging

from django.db import transaction

from core.broadcast import group_name, send_now

logger = logging.getLogger(__name__)

MAX_LISTED = 2000


def room_group(tenant_id: int, event_id: int) -> str:
    return group_name("waitingroom", "event", tenant_id, event_id)


def broadcast_moved(
    *,
    tenant_id: int,
    event_id: int,
    gone: list[int] = (),
    admitted: list[int] = (),
    recount: bool = False,
) -> None:
    """Schedule one broadcast after commit (several calls in one transaction merge into one)."""
    connection = transaction.get_connection()
    key = ("waitingroom.moved", event_id)
    for _sids, func, *_rest in connection.run_on_commit:
        if getattr(func, "broadcast_key", None) == key:
            func.gone.extend(gone)
            func.admitted.extend(admitted)
            func.recount = func.recount or recount
            return

    def send() -> None:
        from waitingroom.positions import bump_line_version

        bump_line_version(event_id)  # people left or were renumbered: position checkpoints are stale
        try:
            from waitingroom.selectors import room_state

            state = room_state(event_id)
            many = len(send.gone) > MAX_LISTED
            payload = {
                "gone": [] if many else sorted(send.gone),
                "admitted": send.admitted,
                "recount": send.recount or many,
                **state,
            }
        except Exception:  # noqa: BLE001 - the change has committed; a broadcast is best effort
            logger.exception("building waiting-room payload for event %s failed", event_id)
            return
        send_now(room_group(tenant_id, event_id), "waitingroom.moved", payload)

    send.broadcast_key = key
    send.gone = list(gone)
    send.admitted = list(admitted)
    send.recount = recount
    transaction.on_commit(send)
