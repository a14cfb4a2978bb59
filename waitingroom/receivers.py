"""Signal receivers. ``ticketing.signals.seats_freed`` arrives after the transaction that released seats
(an expired or abandoned checkout, a refund …) has committed: that is a moment a checkout place may have
become free, so the admission pass runs at once in its own transaction (the beat task is the safety net).
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

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


def guard_admitted_checkout(sender, instance, **kwargs) -> None:
    """``pre_save`` of ``ticketing.CheckoutSession`` for sessions opened with a waiting-room admission.

    - A NEW session must belong to an entry that is still admitted (window open, not left, not bought).
      ``checkout_open`` verifies the token's signature and expiry only and a signed token cannot be
      revoked, so without this a person who left or already bought could reuse it and take a checkout
      place from the next person. Raising PermissionDenied rolls checkout_open's transaction back.
    - A session being COMPLETED completes its entry in the same transaction, so the place is free for
      the next person the moment the purchase commits.
    Both lock the entry row first (``FOR UPDATE``), which serialises "open another checkout" against
    "the first one was bought". Lock order stays acyclic: checkout holds slot → session, then the
    event's admission-log lock → entry; the admission pass takes the admission lock → log lock → entries
    and never waits on slots or sessions."""
    from django.db import transaction
    from django.utils import timezone

    from core.errors import PermissionDenied
    from ticketing.models import SessionSource, SessionStatus
    from waitingroom import fairness
    from waitingroom.events import broadcast_moved
    from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry
    from waitingroom.services import admit_if_free

    if instance.source != SessionSource.WAITING_ROOM or not instance.source_reference.startswith("entry:"):
        return
    adding = instance._state.adding
    if not adding and instance.status != SessionStatus.COMPLETED:
        return
    entry_id = int(instance.source_reference.split(":", 1)[1])
    if not adding:
        # Completing writes a log record: the log lock comes before the entry row (waitingroom.fairness).
        fairness.log_lock(instance.event_id)
    entry = (
        WaitingRoomEntry.objects.select_for_update().filter(pk=entry_id, event_id=instance.event_id).first()
    )
    now = timezone.now()
    if adding and entry is None and not WaitingRoom.objects.filter(event_id=instance.event_id).exists():
        return  # this app issued no admissions for the event (no room): ticketing's token check alone
    if adding:
        if entry is None or entry.status != EntryStatus.ADMITTED or entry.expires_at <= now:
            raise PermissionDenied(_("Your turn from the waiting room is over. Join the waiting room again."))
        return
    if entry is not None and entry.status == EntryStatus.ADMITTED:
        entry.complete()
        entry.ended_at = now
        entry.save(update_fields=["status", "ended_at", "updated_at"])
        fairness.log_append(
            tenant_id=entry.tenant_id,
            event_id=entry.event_id,
            records=fairness.entry_records("complete", [entry.public_id]),
            now=now,
        )
        broadcast_moved(tenant_id=entry.tenant_id, event_id=entry.event_id)
        # The place is free the moment the purchase commits: let the next person in then.
        event_id = entry.event_id
        transaction.on_commit(lambda: admit_if_free(event_id))


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
