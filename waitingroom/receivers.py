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


def on_waiting_room_switched_on(sender, *, event, **kwargs) -> None:
    """Inside the transaction that turns an event's waiting room on: its settings row exists from that
    commit (the defaults of ``WaitingRoom``), so the public waiting-room link works at once."""
    from django.utils import timezone

    from waitingroom import fairness
    from waitingroom.models import WaitingRoom

    fairness.log_lock(event.id)  # before the room row (the lock order of waiting_room_configure)
    room, _created = WaitingRoom.objects.select_for_update().get_or_create(
        event=event, defaults={"tenant_id": event.tenant_id}
    )
    if room.shuffled_at is None:
        fairness.room_commit(room, timezone.now())  # the seed's commitment, before anyone can join
