"""Real-time payloads for waitlist position pages.

Group ``waitlists.event.<tenant_id>.<event_id>``; message type ``waitlist.positions``; payload
``{"positions": {"<entry id>": <place>}}`` for every waiting entry of the event, computed ONCE per change
after commit (one query, one pass) — each connected consumer only looks up its own entry in it. An entry
that is no longer waiting is absent, which tells its page to show that its state changed.
A transaction that changes an event's waitlist several times (decline, then offers) broadcasts once.
"""

from __future__ import annotations

import logging

from django.db import transaction

from core.broadcast import group_name, send_now

logger = logging.getLogger(__name__)


def positions_group(tenant_id: int, event_id: int) -> str:
    return group_name("waitlists", "event", tenant_id, event_id)


def positions_payload(event_id: int) -> dict:
    from waitlists.selectors import event_positions

    return {"positions": {str(entry_id): place for entry_id, place in event_positions(event_id).items()}}


def broadcast_positions(event_id: int, tenant_id: int) -> None:
    key = ("waitlists.positions", event_id)
    connection = transaction.get_connection()
    if any(getattr(item[1], "broadcast_key", None) == key for item in connection.run_on_commit):
        return

    def send() -> None:
        try:
            payload = positions_payload(event_id)
        except Exception:  # noqa: BLE001 - the change has committed; a broadcast is best effort
            logger.exception("building waitlist positions for event %s failed", event_id)
            return
        send_now(positions_group(tenant_id, event_id), "waitlist.positions", payload)

    send.broadcast_key = key
    transaction.on_commit(send)
