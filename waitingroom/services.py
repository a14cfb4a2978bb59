"""Waiting-room write path: settings, join, leave, the admission pass (with the pre-queue draw), expiry.

Locks (always in this order):
  1. the per-event admission advisory lock ``waitingroom.admit:<event_id>`` (admission pass only; joins
     never take it, so joining has no hot row: the number comes from a sequence and the one-live-entry
     rule is a partial unique index);
  2. entry rows (``SELECT … FOR UPDATE``, ``SKIP LOCKED`` when picking the next people to admit;
     ``WaitingRoomEntry`` also carries ``ConcurrentTransitionMixin``).
Checkout's own locks (slot, session, tiers) are taken by ``ticketing.services`` in separate transactions.

Admission: the pass lets people in while ``used < event.checkout_limit`` where ``used`` = checkout slots
holding a live session + admissions whose token is still valid, not bought and not in a live checkout
(see ``used_places``) — one SQL statement, under the per-event lock, so concurrent passes (beat,
``seats_freed`` receivers, staff) can never admit past the limit. Admitted people get a signed admission token
(``ticketing.admission.admission_sign``) that expires with their admission window; ``checkout_open``
verifies it.

Expiry never depends on the scheduler: ``selectors.effective_status`` treats unseen waiting entries and
passed admissions as expired on every read; the pass (beat every 5 s) makes it durable with state-filtered
bulk UPDATEs (``WHERE status = 'waiting'`` — the same guard ``ConcurrentTransitionMixin`` writes).

Admission log (``waitingroom.fairness``): every join, the draw, each admission, completion, expiry and
leave is recorded in the same transaction as the change. Joins take no lock (their record is sealed into
the chain by the next writer); every other writer takes the per-event log advisory lock
``waitingroom.log:<event_id>`` BEFORE entry rows. Full lock order:
  1. the admission advisory lock (admission pass only);
  2. the log lock (the pass, leave, lazy settling, checkout's guard — which arrives holding its slot and
     session rows; nothing takes a slot or session after it);
  3. entry rows;  4. the room row (the draw, sold-out marks).
The admission pass admits strictly in line order (no ``SKIP LOCKED`` on the way: it waits for a row a
leave is changing), and only entries whose join is in the chain, so the log can show that nobody was
passed over.

Side effects: one ``waitingroom.moved`` broadcast per transaction, on commit (``waitingroom.events``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Busy, Conflict, NotFound, ValidationError
from core.locking import advisory_lock, lock_key
from core.times import format_zoned
from tenants.models import Customer, Tenant, User
from ticketing.admission import admission_sign
from ticketing.models import CheckoutSession, CheckoutSlot, Event, EventStatus, SessionSource, SessionStatus
from ticketing.texts import status_word
from waitingroom import fairness, selectors, verify
from waitingroom.events import broadcast_moved
from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry
from waitingroom.seen import flush_seen

logger = logging.getLogger(__name__)

SETTINGS_FIELDS = ("opens_at", "admission_minutes", "unseen_minutes", "cooldown_minutes", "prequeue_shuffle")
JOINABLE_STATUSES = (EventStatus.ON_SALE, EventStatus.SOLD_OUT)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- settings -------------------------------------------------------------------------------------


def waiting_room_configure(
    *, tenant: Tenant, actor: User | None, event: Event, enabled: bool = True, **fields
) -> WaitingRoom:
    """Create or edit the event's waiting room and switch ``Event.waiting_room_enabled`` (through
    ``ticketing.services.event_update``). Raises ValidationError for bad values."""
    from ticketing.services import event_update

    if event.tenant_id != tenant.id:
        raise NotFound()
    for name in ("admission_minutes", "unseen_minutes"):
        if name in fields and (fields[name] is None or int(fields[name]) < 1):
            raise ValidationError(
                _("Use at least one minute."), field_errors={name: [_("Use at least one minute.")]}
            )
    if "cooldown_minutes" in fields and (
        fields["cooldown_minutes"] is None or int(fields["cooldown_minutes"]) < 0
    ):
        raise ValidationError(
            _("The cooldown cannot be negative."),
            field_errors={"cooldown_minutes": [_("Cannot be negative.")]},
        )
    with transaction.atomic(durable=True):
        fairness.log_lock(event.id)  # before the room row (lock order)
        room, _created = WaitingRoom.objects.select_for_update().get_or_create(
            event=event, defaults={"tenant": tenant}
        )
        for key in SETTINGS_FIELDS:
            if key in fields:
                setattr(room, key, fields[key])
        room.save()
        if room.shuffled_at is None:
            # The seed is chosen now and only its commitment is published, before anyone can join.
            fairness.room_commit(room, timezone.now())
    if event.waiting_room_enabled != enabled:
        event_update(tenant=tenant, actor=actor, event=event, waiting_room_enabled=enabled)
    return room


def waiting_room_pause(*, tenant: Tenant, actor: User | None, event: Event, paused: bool) -> WaitingRoom:
    """Pause or resume admission (waiting people keep their places). Resuming runs an admission pass."""
    if event.tenant_id != tenant.id:
        raise NotFound()
    with transaction.atomic(durable=True):
        updated = WaitingRoom.objects.filter(event=event).update(
            admission_paused=paused, updated_at=timezone.now()
        )
        if not updated:
            raise NotFound(_("This event has no waiting room."))
        broadcast_moved(tenant_id=tenant.id, event_id=event.id)
    if not paused:
        _admit_quietly(event.id)
    return WaitingRoom.objects.get(event=event)


# --- join / leave ---------------------------------------------------------------------------------


def _person(user: User | None, customer: Customer | None) -> dict:
    if (user is None) == (customer is None):
        raise ValueError(_("join needs exactly one of user or customer"))
    return {"user": user} if user is not None else {"customer": customer}


def _settle_one(entry: WaitingRoomEntry, status: str, now: datetime) -> None:
    """Make a lazily decided end (expired / completed) durable for one entry."""
    with transaction.atomic(durable=True):
        fairness.log_lock(entry.event_id)
        locked = WaitingRoomEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != entry.status:
            return
        completed = status == EntryStatus.COMPLETED
        getattr(locked, "complete" if completed else "expire")()
        locked.ended_at = now
        locked.save(update_fields=["status", "ended_at", "updated_at"])
        fairness.log_append(
            tenant_id=locked.tenant_id,
            event_id=locked.event_id,
            records=fairness.entry_records("complete" if completed else "expire", [locked.public_id]),
            now=now,
        )
        if entry.status == EntryStatus.WAITING:
            broadcast_moved(tenant_id=locked.tenant_id, event_id=locked.event_id, gone=[locked.number])


def waiting_room_join(
    *,
    tenant: Tenant,
    event: Event,
    user: User | None = None,
    customer: Customer | None = None,
    holder_key: str = "",
    now: datetime | None = None,
) -> tuple[WaitingRoomEntry, bool]:
    """Join the event's waiting room as a signed-in ``user`` or a verified ``customer``, from the browser
    ``holder_key`` (its session key; ``core.holders``): the place is bound to it.

    Returns ``(entry, created)``: joining twice returns the existing live entry — moved to this browser,
    since joining proves who one is (signed in, or the link emailed to the address). An entry that has lazily
    expired is closed first and the person joins again AT THE BACK (a new number). Refused (Conflict)
    during the rejoin cooldown after leaving, with the time it ends; refused when the event has no open
    waiting room. No lock: the number comes from a sequence; a concurrent second join of the same person
    hits the partial unique index and returns the winner's entry. Broadcasts (staff counts) on commit."""
    now = _now(now)
    if event.tenant_id != tenant.id:
        raise NotFound()
    person = _person(user, customer)
    room = selectors.room_for_event(event)
    if room is None or not event.waiting_room_enabled:
        raise Conflict(_("This sale has no waiting room."))
    if event.status not in JOINABLE_STATUSES:
        raise Conflict(
            _("Tickets for this event are not on sale (%(status)s).")
            % {"status": status_word(event.get_status_display())}
        )
    for _attempt in range(5):
        existing = selectors.live_entry_for(event=event, **person)
        if existing is not None:
            status = selectors.effective_status(existing, room, now)
            if status in (EntryStatus.WAITING, EntryStatus.ADMITTED):
                if holder_key and existing.holder_key != holder_key:
                    WaitingRoomEntry.objects.filter(pk=existing.pk).update(
                        holder_key=holder_key, updated_at=now
                    )
                    existing.holder_key = holder_key
                return existing, False
            _settle_one(existing, status, now)
            continue
        cooling = (
            WaitingRoomEntry.objects.filter(event=event, cooldown_until__gt=now, **person)
            .order_by("-cooldown_until")
            .values_list("cooldown_until", flat=True)
            .first()
        )
        if cooling is not None:
            raise Conflict(
                _("You left this waiting room, so you can join again from %(time)s on %(day)s.")
                % {
                    "time": format_zoned(cooling, event.time_zone, "H:i"),
                    "day": format_zoned(cooling, event.time_zone, "D j M"),
                }
            )
        try:
            with transaction.atomic(durable=True):
                entry = WaitingRoomEntry.objects.create(
                    tenant=tenant,
                    event=event,
                    prequeue=room.prequeue_shuffle and not selectors.is_open(room, now),
                    joined_at=now,
                    last_seen_at=now,
                    holder_key=holder_key,
                    **person,
                )
                # Pending: no lock, so joining stays free of a hot spot; sealed by the next chain writer.
                fairness.log_pending(
                    tenant_id=tenant.id,
                    event_id=event.id,
                    kind="join",
                    data={"entry": entry.public_id, "number": entry.number, "prequeue": entry.prequeue},
                    now=now,
                )
                broadcast_moved(tenant_id=tenant.id, event_id=event.id)
                transaction.on_commit(lambda: admit_if_free(event.id))
        except IntegrityError as error:
            if "wr_entry_one_live_per" in str(error):
                continue
            raise
        return entry, True
    raise Busy(_("Many requests for this place at once. Please try again."))


def waiting_room_leave(
    *, tenant: Tenant, entry: WaitingRoomEntry, now: datetime | None = None
) -> WaitingRoomEntry:
    """Leave on purpose: waiting/admitted → left, and the rejoin cooldown starts. Idempotent for an entry
    that already ended. Locks the entry row. Broadcasts the freed place in line on commit; an admitted
    person's place goes to the next person at once (their token no longer opens a checkout)."""
    now = _now(now)
    if entry.tenant_id != tenant.id:
        raise NotFound()
    with transaction.atomic(durable=True):
        fairness.log_lock(entry.event_id)
        locked = (
            WaitingRoomEntry.objects.select_for_update(of=("self",))
            .select_related("event__waiting_room")
            .get(pk=entry.pk)
        )
        if locked.status not in (EntryStatus.WAITING, EntryStatus.ADMITTED):
            return locked
        was_waiting = locked.status == EntryStatus.WAITING
        locked.leave()
        locked.ended_at = now
        locked.cooldown_until = now + timedelta(minutes=locked.event.waiting_room.cooldown_minutes)
        locked.save(update_fields=["status", "ended_at", "cooldown_until", "updated_at"])
        fairness.log_append(
            tenant_id=locked.tenant_id,
            event_id=locked.event_id,
            records=fairness.entry_records("leave", [locked.public_id]),
            now=now,
        )
        broadcast_moved(
            tenant_id=locked.tenant_id, event_id=locked.event_id, gone=[locked.number] if was_waiting else []
        )
    if not was_waiting:
        # An admitted place was given back: let the next person in.
        transaction.on_commit(lambda: _admit_quietly(locked.event_id))
    return locked


def admit_if_free(event_id: int) -> None:
    """After a join or a purchase: run a pass at once when a checkout place is free (one cheap count
    first, and never waiting for a pass already running), so nobody waits for the beat tick in a quiet
    room. During a rush the places are full and joins skip this."""
    event = Event.objects.filter(pk=event_id).only("id", "checkout_limit").first()
    if event is None or used_places(event, timezone.now()) >= event.checkout_limit:
        return
    try:
        waiting_room_admit(event_id=event_id, wait=False)
    except Busy:
        logger.info("admission pass for event %s busy; beat retries", event_id)


def _admit_quietly(event_id: int) -> None:
    try:
        waiting_room_admit(event_id=event_id)
    except Busy:
        logger.info("admission pass for event %s busy; beat retries", event_id)


# --- admission ------------------------------------------------------------------------------------


def admission_token(entry: WaitingRoomEntry, now: datetime | None = None) -> str | None:
    """The signed admission token for an admitted entry whose window is open (else None)."""
    now = _now(now)
    if entry.status != EntryStatus.ADMITTED or entry.expires_at is None or entry.expires_at <= now:
        return None
    return admission_sign(
        event_id=entry.event_id,
        entry_id=entry.pk,
        expires_at=entry.expires_at,
        holder_key=entry.holder_key,
        user_id=entry.user_id,
    )


def used_places(event: Event, now: datetime) -> int:
    """Checkout places in use, in one statement (one snapshot):

    - checkout slots holding a live session (any source), plus
    - every admitted entry whose window is open, that has not bought and has no live checkout right now
      (its turn lasts: after an abandoned checkout it may open one again). Leaving or buying frees the
      place at once — ``checkout_source.admitted_checkout_opening`` refuses a checkout for an entry that is no
      longer admitted or already bought, so its still-signed token is worthless."""
    slot = CheckoutSlot._meta.db_table
    entry = WaitingRoomEntry._meta.db_table
    session = CheckoutSession._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT count(*) FROM {slot}
                     WHERE event_id = %(event)s AND number <= %(limit)s
                       AND session_id IS NOT NULL AND held_until > %(now)s)
                 + (SELECT count(*) FROM {entry} e
                     WHERE e.event_id = %(event)s AND e.status = 'admitted' AND e.expires_at > %(now)s
                       AND NOT EXISTS (SELECT 1 FROM {session} s
                                        WHERE s.event_id = e.event_id AND s.source = %(source)s
                                          AND s.source_reference = 'entry:' || e.id
                                          AND (s.status = 'completed'
                                               OR (s.status = 'active' AND s.expires_at > %(now)s))))
            """,  # noqa: S608 - table names come from model metadata
            {
                "event": event.id,
                "limit": event.checkout_limit,
                "now": now,
                "source": SessionSource.WAITING_ROOM,
            },
        )
        return int(cursor.fetchone()[0])


def _draw(room: WaitingRoom, now: datetime, seed: str | None) -> tuple[int, list[tuple[str, dict]]]:
    """The pre-queue draw, with the seed committed when the room was set up (``seed``, if given, must be
    that seed: any other is refused with Conflict). Input: the waiting pre-queue entries in ascending
    join number; order: ``verify.draw_order`` (the algorithm is specified there). Drawn people get
    numbers −k … −1 in the drawn order: before every later arrival. Returns the count and the log record
    that reveals the seed."""
    if not room.draw_commitment or not room.draw_seed:
        raise Conflict(_("This waiting room has no published commitment, so it cannot draw."))
    if seed is not None and seed != room.draw_seed:
        raise Conflict(_("The draw only runs with the seed committed to when the room was set up."))
    if verify.commitment(room.event_id, room.draw_seed) != room.draw_commitment:
        raise Conflict(_("The stored seed does not match the published commitment; the draw is refused."))
    entries = list(
        WaitingRoomEntry.objects.filter(
            event_id=room.event_id, status=EntryStatus.WAITING, prequeue=True, number__gt=0
        )
        .exclude(fairness.unsealed_join())
        .order_by("number")
        .values_list("pk", "public_id")
    )
    by_public = {public_id: pk for pk, public_id in entries}
    draw_input = [public_id for _pk, public_id in entries]
    order = draw_order(draw_input, room.draw_seed)
    if order:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {WaitingRoomEntry._meta.db_table} AS e SET number = s.n
                  FROM unnest(%s::bigint[], %s::bigint[]) AS s(id, n)
                 WHERE e.id = s.id
                """,  # noqa: S608
                [[by_public[public_id] for public_id in order], [i - len(order) for i in range(len(order))]],
            )
    WaitingRoom.objects.filter(pk=room.pk).update(shuffled_at=now, shuffled_count=len(order), updated_at=now)
    room.shuffled_at, room.shuffled_count = now, len(order)
    return len(order), [("draw", {"seed": room.draw_seed, "input": draw_input, "order": order})]


def draw_order(entries: list, seed: str) -> list:
    """The draw itself (pure): ``entries`` in input order → the drawn order (``verify.draw_order``)."""
    return verify.draw_order(entries, seed)


UNSEEN_CHUNK = 2000  # per pass: each expired row rewrites ~14 index entries; keeps a tick well under 5 s


def _expire_unseen(room: WaitingRoom, now: datetime, log: list) -> list[int]:
    """Expire up to ``UNSEEN_CHUNK`` unseen waiting entries (reads already treat them as gone; a mass
    walk-out drains over a few ticks instead of holding the admission lock for seconds). Adds their
    log records to ``log``."""
    cutoff = now - timedelta(minutes=room.unseen_minutes)
    stale = (
        WaitingRoomEntry.objects.select_for_update(skip_locked=True)
        .filter(event_id=room.event_id, status=EntryStatus.WAITING, last_seen_at__lt=cutoff)
        .exclude(fairness.unsealed_join())
    )
    rows = list(stale.order_by("number").values_list("pk", "number", "public_id")[:UNSEEN_CHUNK])
    if rows:
        WaitingRoomEntry.objects.filter(pk__in=[pk for pk, _, _ in rows], status=EntryStatus.WAITING).update(
            status=EntryStatus.EXPIRED, ended_at=now, updated_at=now
        )
        log.extend(fairness.entry_records("expire", [public_id for _, _, public_id in rows]))
    return [number for _, number, _ in rows]


def _settle_admitted(room: WaitingRoom, now: datetime, log: list) -> None:
    """Admitted entries whose checkout completed → completed; whose window passed without a live
    checkout → expired. (Within the window an abandoned checkout may be opened again: it is their turn.)
    Adds their log records to ``log``."""
    public_ids = {}
    admitted = {}
    for pk, expires_at, public_id in (
        WaitingRoomEntry.objects.select_for_update()
        .filter(event_id=room.event_id, status=EntryStatus.ADMITTED)
        .order_by("number")
        .values_list("pk", "expires_at", "public_id")
    ):
        admitted[f"entry:{pk}"] = (pk, expires_at)
        public_ids[pk] = public_id
    if not admitted:
        return
    sessions: dict[str, list[tuple[str, datetime]]] = {}
    for reference, status, expires_at in CheckoutSession.objects.filter(
        event_id=room.event_id, source=SessionSource.WAITING_ROOM, source_reference__in=list(admitted)
    ).values_list("source_reference", "status", "expires_at"):
        sessions.setdefault(reference, []).append((status, expires_at))
    completed, expired = [], []
    for reference, (pk, expires_at) in admitted.items():
        mine = sessions.get(reference, [])
        if any(status == SessionStatus.COMPLETED for status, _ in mine):
            completed.append(pk)
        elif expires_at <= now and not any(s == SessionStatus.ACTIVE and e > now for s, e in mine):
            expired.append(pk)
    for ids, status, kind in (
        (completed, EntryStatus.COMPLETED, "complete"),
        (expired, EntryStatus.EXPIRED, "expire"),
    ):
        if ids:
            WaitingRoomEntry.objects.filter(pk__in=ids, status=EntryStatus.ADMITTED).update(
                status=status, ended_at=now, updated_at=now
            )
            log.extend(fairness.entry_records(kind, [public_ids[pk] for pk in ids]))


def _sale_open(event: Event, now: datetime) -> bool:
    return (
        event.status == EventStatus.ON_SALE
        and (event.sale_starts_at is None or event.sale_starts_at <= now)
        and (event.sale_ends_at is None or now < event.sale_ends_at)
        and now < event.ends_at
    )


def waiting_room_admit(
    *, event_id: int, now: datetime | None = None, seed: str | None = None, wait: bool = True
) -> list[int]:
    """The admission pass for one event. Returns the ids admitted now.

    In one durable transaction under the per-event advisory lock (Busy after 3 s; with ``wait=False``
    a pass already running means there is nothing to do here: returns [] at once): flush "seen"
    heartbeats, expire unseen waiting entries, settle admitted ones, run the pre-queue draw once the room
    is open (with the committed seed; a different ``seed`` is refused with Conflict), note sold out /
    back on sale, and — unless paused, sold out or the sale is closed — admit the first waiting entries
    in line order while ``max(used_places, open admissions) < checkout_limit`` (an entry at the head
    that was not seen in time is expired, not skipped). Every change is appended to the admission log
    at the end, under the log lock. Idempotent; safe to run concurrently. One broadcast on commit."""
    now = _now(now)
    with transaction.atomic(durable=True):
        key = lock_key("waitingroom.admit", event_id)
        if wait:
            advisory_lock([key])
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
                if not cursor.fetchone()[0]:
                    return []
        room = WaitingRoom.objects.select_related("event").filter(event_id=event_id).first()
        if room is None:
            return []
        event = room.event
        # The log lock for the whole pass, and every join committed so far sealed into the chain first:
        # the pass then considers only sealed entries (a join committing meanwhile waits for the next).
        fairness.log_seal(event_id)
        log: list[tuple[str, dict]] = []
        flush_seen(event_id)
        gone = _expire_unseen(room, now, log)
        _settle_admitted(room, now, log)
        recount = False
        admitted: list[WaitingRoomEntry] = []
        if selectors.is_open(room, now):
            if room.shuffled_at is None:
                drawn, records = _draw(room, now, seed)
                log.extend(records)
                recount = drawn > 0
            elif seed is not None and seed != room.draw_seed:
                raise Conflict(_("The draw only runs with the seed committed to when the room was set up."))
            sold_out = event.status == EventStatus.SOLD_OUT
            if sold_out != (room.sold_out_since is not None):
                WaitingRoom.objects.filter(pk=room.pk).update(
                    sold_out_since=now if sold_out else None, updated_at=now
                )
                recount = True  # everyone gets the new state
            if event.waiting_room_enabled and not room.admission_paused and _sale_open(event, now):
                admitted, late = _admit_next(room, event, now, log)
                gone += late
        fairness.log_append(tenant_id=event.tenant_id, event_id=event_id, records=log, now=now, seal=False)
        if gone or admitted or recount:
            broadcast_moved(
                tenant_id=event.tenant_id,
                event_id=event_id,
                gone=gone + [entry.number for entry in admitted],
                admitted=[entry.pk for entry in admitted],
                recount=recount,
            )
    return [entry.pk for entry in admitted]


ADMIT_SCAN_ROUNDS = 5


def _admit_next(room: WaitingRoom, event: Event, now: datetime, log: list) -> tuple[list, list[int]]:
    """Admit from the head of the line while places are free. The head is taken strictly in number
    order, waiting for a row lock rather than skipping it (a leave in progress finishes first), so
    nobody is passed over; an unseen person at the head is expired on the way. Returns (admitted
    entries, numbers of the expired)."""
    open_admissions = WaitingRoomEntry.objects.filter(event_id=event.id, status=EntryStatus.ADMITTED).count()
    free = event.checkout_limit - max(used_places(event, now), open_admissions)
    cutoff = now - timedelta(minutes=room.unseen_minutes)
    admitted: list[WaitingRoomEntry] = []
    late: list[WaitingRoomEntry] = []
    for _round in range(ADMIT_SCAN_ROUNDS):
        if free <= 0:
            break
        head = list(
            WaitingRoomEntry.objects.select_for_update()
            .filter(event_id=event.id, status=EntryStatus.WAITING)
            .exclude(fairness.unsealed_join())
            .order_by("number")[: free + 20]
        )
        if not head:
            break
        for entry in head:
            if free <= 0:
                break
            if entry.last_seen_at < cutoff:  # seen heartbeats were flushed at the start of the pass
                entry.expire()
                entry.ended_at = now
                entry.save(update_fields=["status", "ended_at", "updated_at"])
                late.append(entry)
                log.extend(fairness.entry_records("expire", [entry.public_id]))
                continue
            entry.admit()
            entry.admitted_at = now
            entry.expires_at = now + timedelta(minutes=room.admission_minutes)
            entry.save(update_fields=["status", "admitted_at", "expires_at", "updated_at"])
            log.append(("admit", {"entry": entry.public_id, "limit": event.checkout_limit}))
            admitted.append(entry)
            free -= 1
    return admitted, [entry.number for entry in late]


def waiting_room_process_due(*, now: datetime | None = None) -> int:
    """Beat: an admission pass for every enabled room with people in it or a draw still to make.
    Each pass is its own transaction; a busy event is skipped (the next tick retries). Returns admitted."""
    from django.db.models import Exists, OuterRef, Q

    live = WaitingRoomEntry.objects.filter(
        event_id=OuterRef("event_id"), status__in=[EntryStatus.WAITING, EntryStatus.ADMITTED]
    )
    event_ids = list(
        WaitingRoom.objects.filter(event__waiting_room_enabled=True, event__status__in=JOINABLE_STATUSES)
        .filter(Exists(live) | Q(sold_out_since__isnull=False))
        .values_list("event_id", flat=True)
    )
    total = 0
    for event_id in event_ids:
        try:
            total += len(waiting_room_admit(event_id=event_id, now=now))
        except Busy:
            continue
    return total
