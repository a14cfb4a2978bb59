"""Signal receivers. ``ticketing.signals.seats_freed`` arrives after the transaction that released seats
(an expired or abandoned checkout, a refund …) has committed: that is a moment a checkout place may have
become free, so the admission pass runs at once in its own transaction (the beat task is the safety net).
"""

from __future__ import annotations

import logging

from core.errors import Busy

logger = logging.getLogger(__name__)


def on_seats_freed(sender, *, tenant_id: int, event_id: int, tier_ids: list[int], **kwargs) -> None:
    from waitingroom.models import WaitingRoom
    from waitingroom.services import waiting_room_admit

    if not WaitingRoom.objects.filter(event_id=event_id, event__waiting_room_enabled=True).exists():
        return
    try:
        waiting_room_admit(event_id=event_id)
    except Busy:
        logger.info("waiting-room admission for event %s busy; the beat task will retry", event_id)
