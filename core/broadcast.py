"""Real-time broadcasts, sent only after the transaction that caused them commits.

Consumers never query per message for what a broadcast could carry; payload builders live in each app's
``events.py``. A lost Redis must not fail the write that already committed: sending errors are logged.
With ``remember=True`` the payload is also kept as the group's newest state (``core.live.remember``), so
a socket that (re)connects gets it at once without a query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def group_name(*parts: object) -> str:
    """Channel group names may hold only ASCII letters, digits, hyphens, underscores and periods."""
    return ".".join(str(part) for part in parts)


def send_now(
    group: str, message_type: str, payload: dict, *, remember: bool = False, built_at: float | None = None
) -> None:
    """``built_at``: when the payload's data was read (default: now); it orders remembered payloads."""
    layer = get_channel_layer()
    if layer is None:
        return
    if remember:
        from core.live import remember as remember_payload

        remember_payload(group, payload, built_at=built_at)
    try:
        async_to_sync(layer.group_send)(group, {"type": message_type, "payload": payload})
    except Exception:  # noqa: BLE001 - a broadcast is best effort; the committed change stands
        logger.warning("broadcast to %s failed", group, exc_info=True)


def broadcast_on_commit(
    group: str, message_type: str, payload: dict | Callable[[], dict], *, remember: bool = False
) -> None:
    """Send ``payload`` (or the result of calling it, computed once after commit) to ``group``."""

    def send() -> None:
        built_at = time.time()
        try:
            body = payload() if callable(payload) else payload
        except Exception:  # noqa: BLE001
            logger.exception("building broadcast payload for %s failed", group)
            return
        send_now(group, message_type, body, remember=remember, built_at=built_at)

    transaction.on_commit(send)
