"""The waiting room as a checkout source (``ticketing.sources``, registered in ``WaitingRoomConfig.ready``):
sessions opened with a waiting-room admission carry the entry as ``source_reference`` (``"entry:<id>"``).

- ``on_open``: a NEW session must belong to an entry that is still admitted (window open, not left, not
  bought). ``checkout_open`` verifies the token's signature, expiry and holder only, and a signed token
  cannot be revoked, so without this a person who left or already bought could reuse it and take a
  checkout place from the next person. Raising PermissionDenied rolls checkout_open's transaction back.
- ``on_complete``: completing the session completes its entry in the same transaction, so the place is
  free for the next person the moment the purchase commits.

Both lock the entry row (``FOR UPDATE``), which serialises "open another checkout" against "the first one
was bought". Lock order: ticketing's checkout holds its slot (and on completion its session row),
then this takes the event's admission-log lock (completion only) → the entry; the admission pass takes the
admission lock → log lock → entries and never waits on slots, sessions or tiers."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import PermissionDenied


def _entry_id(session) -> int | None:
    if not session.source_reference.startswith("entry:"):
        return None
    return int(session.source_reference.split(":", 1)[1])


def _locked_entry(session, entry_id: int):
    from waitingroom.models import WaitingRoomEntry

    return WaitingRoomEntry.objects.select_for_update().filter(pk=entry_id, event_id=session.event_id).first()


def admitted_checkout_opening(session) -> None:
    from waitingroom.models import EntryStatus, WaitingRoom

    entry_id = _entry_id(session)
    if entry_id is None:
        return
    entry = _locked_entry(session, entry_id)
    if entry is None and not WaitingRoom.objects.filter(event_id=session.event_id).exists():
        return  # this app issued no admissions for the event (no room): ticketing's token check alone
    if entry is None or entry.status != EntryStatus.ADMITTED or entry.expires_at <= timezone.now():
        raise PermissionDenied(_("Your turn from the waiting room is over. Join the waiting room again."))


def admitted_checkout_completing(session) -> None:
    from waitingroom import fairness
    from waitingroom.events import broadcast_moved
    from waitingroom.models import EntryStatus
    from waitingroom.services import admit_if_free

    entry_id = _entry_id(session)
    if entry_id is None:
        return
    # Completing writes a log record: the log lock comes before the entry row (waitingroom.fairness).
    fairness.log_lock(session.event_id)
    entry = _locked_entry(session, entry_id)
    if entry is None or entry.status != EntryStatus.ADMITTED:
        return
    now = timezone.now()
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
