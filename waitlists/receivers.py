"""Signal receivers. ``ticketing.signals.seats_freed`` arrives after the transaction that returned
seats has committed; the offer round runs in its own transaction right away, so freed seats go to the
next people in line immediately (the beat task is only the safety net)."""

from __future__ import annotations

import logging

from core.errors import Busy

logger = logging.getLogger(__name__)


def on_seats_freed(sender, *, tenant_id: int, event_id: int, tier_ids: list[int], **kwargs) -> None:
    from waitlists.services import waitlist_offer_next

    try:
        waitlist_offer_next(event_id=event_id)
    except Busy:
        logger.info("waitlist offer round for event %s busy; the beat task will retry", event_id)
