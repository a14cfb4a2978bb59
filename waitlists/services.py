"""Waitlists write path: join, offer rounds, claim, decline, withdraw, expiry, settings.

Locking (always in this order, so no two transactions wait on each other in a cycle):
  1. the event's tier rows, ``SELECT … FOR UPDATE`` in id order (``_lock_tiers``) — every path that
     moves seats (offer rounds, decline, withdraw, expiry, staff "offer now") takes them ONCE, first;
  2. waitlist entry rows: ``FOR UPDATE SKIP LOCKED`` while picking the next entries (an offer round
     never waits on an entry; an entry somebody is claiming or declining is simply not picked), plain
     ``FOR UPDATE`` on the one entry a person acts on.
Claim is the only path that locks an entry without the tiers: it moves the offer's hold into a checkout
session (``ticketing.services.checkout_open_from_hold``) and touches no tier row. If the offer turns out
to be expired, the claim transaction ends and the expiry runs in its own transaction (tiers → entry).
Ticketing never locks entries, and its own order (slot → session → tiers) ends at the tiers, so the
two apps cannot deadlock.

Seats are taken with ``ticketing.services.seats_hold`` (one conditional UPDATE per tier: never
oversells even if a lock were missing) and given back with ``seats_release``. Seats that come back
(decline, withdraw, expiry) are offered to the next fitting entries IN THE SAME TRANSACTION, so a
released seat never sits free between two steps.

Expiry never depends on the scheduler: an offer with ``offer_expires_at <= now`` is expired for every
read and cannot be claimed; the beat task, any offer round of the event, and a late claim all make it
durable (release + offer on), whichever comes first.

Side effects: the "waitlist.offer" outbox message is written in the offering transaction
(``notifications.services.notify``); live position updates are broadcast on commit.
"""

from __future__ import annotations

import hmac
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import signing
from core.errors import Busy, Conflict, NotFound, PermissionDenied, SoldOut, ValidationError
from core.references import new_token
from core.times import format_zoned
from notifications.webhooks import emit
from tenants.models import Tenant, User
from tenants.services import customer_upsert
from ticketing import services as ticketing
from ticketing.models import CheckoutSession, Event, EventStatus, TicketTier
from ticketing.texts import status_word
from waitlists import events as live
from waitlists.models import EntryAction, EntryStatus, WaitlistEntry, WaitlistEntryEvent, WaitlistSettings

logger = logging.getLogger(__name__)

OFFER_SALT = "waitlists.offer"
SELLABLE = (EventStatus.ON_SALE, EventStatus.SOLD_OUT)
PICK_BATCH = 200


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _record(entries, action: str, *, now: datetime, actor: User | None = None, note: str = "") -> None:
    """Append history rows for ``entries`` in the caller's transaction."""
    WaitlistEntryEvent.objects.bulk_create(
        [
            WaitlistEntryEvent(
                entry=entry,
                action=action,
                actor=actor if actor and actor.is_authenticated else None,
                note=note,
                at=now,
            )
            for entry in entries
        ]
    )


# --- settings -------------------------------------------------------------------------------------


def settings_for(event: Event) -> WaitlistSettings:
    """The event's waitlist settings (defaults when none were saved; a read, nothing written)."""
    found = WaitlistSettings.objects.filter(event_id=event.pk).first()
    return found or WaitlistSettings(tenant_id=event.tenant_id, event=event)


def waitlist_settings_update(
    *, tenant: Tenant, actor: User | None, event: Event, enabled: bool, offer_hours: int, max_quantity: int
) -> WaitlistSettings:
    """Save the event's waitlist options. Raises ValidationError for out-of-range values. No locks."""
    if event.tenant_id != tenant.id:
        raise NotFound()
    errors = {}
    if not 1 <= int(offer_hours) <= 24 * 14:
        errors["offer_hours"] = [_("Choose between 1 hour and 14 days (336 hours).")]
    if not 1 <= int(max_quantity) <= event.per_order_max:
        errors["max_quantity"] = [
            _("Choose between 1 and %(most)s (the event's per-order limit).") % {"most": event.per_order_max}
        ]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], field_errors=errors)
    with transaction.atomic(durable=True):
        obj, _created = WaitlistSettings.objects.update_or_create(
            event=event,
            defaults={
                "tenant": tenant,
                "enabled": bool(enabled),
                "offer_hours": int(offer_hours),
                "max_quantity": int(max_quantity),
            },
        )
    return obj


def max_quantity(event: Event, options: WaitlistSettings, tier: TicketTier | None = None) -> int:
    """Most seats one entry may wait for: the waitlist's limit, within the event's (and tier's) per-order
    limits, so a claimed offer is always a valid order."""
    limits = [options.max_quantity, event.per_order_max]
    if tier is not None:
        limits.append(tier.max_per_order)
    return max(1, min(limits))


# --- rules ----------------------------------------------------------------------------------------


def _event_offerable(event: Event, now: datetime) -> bool:
    if event.status not in SELLABLE or now >= event.ends_at:
        return False
    if event.sale_starts_at and now < event.sale_starts_at:
        return False
    return not (event.sale_ends_at and now >= event.sale_ends_at)


def _tier_offerable(tier: TicketTier, now: datetime) -> bool:
    if not tier.is_active:
        return False
    if tier.sale_starts_at and now < tier.sale_starts_at:
        return False
    return not (tier.sale_ends_at and now >= tier.sale_ends_at)


def _offer_expiry(event: Event, hours: int, now: datetime) -> datetime:
    """The offer window, never past the end of the sale or of the event."""
    limits = [now + timedelta(hours=hours), event.ends_at]
    if event.sale_ends_at:
        limits.append(event.sale_ends_at)
    return min(limits)


# --- join / withdraw ------------------------------------------------------------------------------


def waitlist_join(
    *,
    tenant: Tenant,
    event: Event,
    email: str,
    quantity: int,
    tier: TicketTier | None = None,
    name: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> tuple[WaitlistEntry, bool]:
    """Put a person on the event's waitlist for ``quantity`` seats of ``tier`` (None = any tier).

    Joining again while an entry is active (waiting or offered) returns that entry unchanged
    (``created=False``); the unique index settles concurrent joins. Refused (Conflict) when the event
    is not on sale, the waitlist is off, or the wanted seats can be bought right now (no skipping the
    checkout or the waiting room). Raises ValidationError for bad input, NotFound for a foreign
    event/tier. No row locks (the insert is the join: no counter row). Schedules a position broadcast."""
    now = _now(now)
    if event.tenant_id != tenant.id:
        raise NotFound()
    if tier is not None and (tier.event_id != event.id or not tier.is_active):
        raise NotFound(_("That ticket type is not available."))
    options = settings_for(event)
    email = (email or "").strip()
    if not email or "@" not in email:
        raise ValidationError(
            _("Enter your email address."), field_errors={"email": [_("Enter a valid email address.")]}
        )
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = 0
    most = max_quantity(event, options, tier)
    if not 1 <= quantity <= most:
        raise ValidationError(
            ngettext("You can wait for %(most)s ticket.", "You can wait for 1 to %(most)s tickets.", most)
            % {"most": most},
            field_errors={"quantity": [_("Choose between 1 and %(most)s.") % {"most": most}]},
        )
    if not options.enabled:
        raise Conflict(_("This event has no waitlist."))
    if not _event_offerable(event, now):
        raise Conflict(_("Tickets for this event are not on sale, so there is no waitlist."))
    with transaction.atomic(durable=True):
        customer = customer_upsert(
            tenant=tenant, email=email, name=name, user=actor if actor and actor.is_authenticated else None
        )
        existing = _active_entry(event=event, customer=customer, tier=tier)
        if existing is not None:
            return existing, False
        tiers = TicketTier.objects.filter(event=event, is_active=True)
        if tier is not None:
            tiers = tiers.filter(pk=tier.pk)
        if any(_tier_offerable(t, now) and t.available >= quantity for t in tiers):
            raise Conflict(_("Those tickets are available right now: buy them on the event page."))
        try:
            with transaction.atomic():
                entry = WaitlistEntry.objects.create(
                    tenant=tenant, event=event, tier=tier, customer=customer, quantity=quantity
                )
                _record([entry], EntryAction.JOINED, now=now, actor=actor)
        except IntegrityError as error:
            if "waitlist_entry_one_active_per_person" not in str(error):
                raise
            return _active_entry(event=event, customer=customer, tier=tier), False
        live.broadcast_positions(event.id, tenant.id)
    return entry, True


def _active_entry(*, event: Event, customer, tier: TicketTier | None) -> WaitlistEntry | None:
    return (
        WaitlistEntry.objects.filter(
            event=event, customer=customer, tier=tier, status__in=[EntryStatus.WAITING, EntryStatus.OFFERED]
        )
        .select_related("event", "tier", "customer")
        .first()
    )


def waitlist_withdraw(
    *, tenant: Tenant, entry: WaitlistEntry, actor: User | None = None, now: datetime | None = None
) -> WaitlistEntry:
    """The person (or staff) leaves the waitlist: waiting/offered → withdrawn, never offered again.
    An offer's seats are released and offered to the next entries at once. Idempotent for an entry
    already withdrawn; Conflict for one already claimed/declined/expired. Locks tiers, then the entry."""
    if entry.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    with transaction.atomic(durable=True):
        event = Event.objects.select_related("tenant").get(pk=entry.event_id)
        tiers = _lock_tiers(event.id)
        locked = _lock_entry(entry.pk)
        if locked.status == EntryStatus.WITHDRAWN:
            return locked
        if locked.status not in (EntryStatus.WAITING, EntryStatus.OFFERED):
            raise Conflict(
                _("This waitlist place is already %(status)s.")
                % {"status": status_word(locked.get_status_display())}
            )
        was_offered = locked.status == EntryStatus.OFFERED
        locked.withdraw()
        locked.closed_at = now
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        _record([locked], EntryAction.WITHDRAWN, now=now, actor=actor)
        if was_offered:
            ticketing.seats_release(tier_quantities={locked.offered_tier_id: locked.quantity})
            _refresh_counts(tiers)
            _offer_round_locked(event=event, tiers=tiers, now=now)
        live.broadcast_positions(event.id, event.tenant_id)
    return locked


# --- offers ---------------------------------------------------------------------------------------


def _lock_tiers(event_id: int) -> list[TicketTier]:
    """Step 1 of the lock order: all the event's tiers, once, in id order."""
    return list(TicketTier.objects.select_for_update(of=("self",)).filter(event_id=event_id).order_by("id"))


def _refresh_counts(tiers: list[TicketTier]) -> None:
    """Re-read sold/reserved of the (locked) tiers after a release in this transaction."""
    values = TicketTier.objects.filter(pk__in=[t.pk for t in tiers]).values_list("id", "sold", "reserved")
    rows = {tier_id: (sold, reserved) for tier_id, sold, reserved in values}
    for tier in tiers:
        tier.sold, tier.reserved = rows[tier.pk]


def _lock_entry(entry_id: int) -> WaitlistEntry:
    return (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("event", "customer", "offered_tier", "tier")
        .get(pk=entry_id)
    )


def _expire_due_locked(*, event: Event, now: datetime) -> int:
    """Expire the event's offers past their time (entries SKIP LOCKED: one being claimed or declined is
    left to that transaction). Releases their seats. Caller holds the tier locks. Returns the count."""
    due = list(
        WaitlistEntry.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(event=event, status=EntryStatus.OFFERED, offer_expires_at__lte=now)
        .order_by("id")
    )
    released: dict[int, int] = defaultdict(int)
    for entry in due:
        entry.expire()
        entry.closed_at = now
        entry.save(update_fields=["status", "closed_at", "updated_at"])
        released[entry.offered_tier_id] += entry.quantity
    _record(due, EntryAction.EXPIRED, now=now)
    if released:
        ticketing.seats_release(tier_quantities=dict(released))
    return len(due)


def _fitting_tier(entry: WaitlistEntry, free: dict[int, int], tier_order: list[int]) -> int | None:
    """The tier that can take the whole entry (never split across tiers or cut to fewer seats)."""
    if entry.tier_id is not None:
        return entry.tier_id if free.get(entry.tier_id, 0) >= entry.quantity else None
    for tier_id in tier_order:
        if free.get(tier_id, 0) >= entry.quantity:
            return tier_id
    return None


def _offer_round_locked(
    *, event: Event, tiers: list[TicketTier], now: datetime, actor: User | None = None
) -> list[WaitlistEntry]:
    """Offer the free seats of ``tiers`` (locked by the caller, counts current) to the next waiting
    entries that fit, in join order. Entries are picked ``FOR UPDATE SKIP LOCKED`` in batches; an entry
    wanting more seats than any one tier has free is skipped (not split) and keeps its place."""
    if not _event_offerable(event, now):
        return []
    options = settings_for(event)
    free = {t.id: t.available for t in tiers if _tier_offerable(t, now) and t.available > 0}
    if not free:
        return []
    tier_order = [t.id for t in sorted(tiers, key=lambda t: (t.position, t.id)) if t.id in free]
    chosen: list[tuple[WaitlistEntry, int]] = []
    last_id = 0
    while any(free.values()):
        open_tiers = [tier_id for tier_id, n in free.items() if n > 0]
        batch = list(
            WaitlistEntry.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(event=event, status=EntryStatus.WAITING, id__gt=last_id, quantity__lte=max(free.values()))
            .filter(Q(tier__isnull=True) | Q(tier_id__in=open_tiers))
            .select_related("customer")
            .order_by("id")[:PICK_BATCH]
        )
        for entry in batch:
            last_id = entry.id
            tier_id = _fitting_tier(entry, free, tier_order)
            if tier_id is None:
                continue
            free[tier_id] -= entry.quantity
            chosen.append((entry, tier_id))
            if not any(free.values()):
                break
        if len(batch) < PICK_BATCH:
            break
    if not chosen:
        return []
    held: dict[int, int] = defaultdict(int)
    for entry, tier_id in chosen:
        held[tier_id] += entry.quantity
    ticketing.seats_hold(tier_quantities=dict(held))
    tiers_by_id = {t.id: t for t in tiers}
    expires_at = _offer_expiry(event, options.offer_hours, now)
    offered = []
    for entry, tier_id in chosen:
        entry.offer()
        entry.offered_tier = tiers_by_id[tier_id]
        entry.offered_at = now
        entry.offer_expires_at = expires_at
        entry.offer_token = new_token()
        entry.offered_by = actor
        entry.event = event
        entry.save(
            update_fields=[
                "status",
                "offered_tier",
                "offered_at",
                "offer_expires_at",
                "offer_token",
                "offered_by",
                "updated_at",
            ]
        )
        _notify_offer(entry, now=now)
        offered.append(entry)
    _record(offered, EntryAction.OFFERED, now=now, actor=actor, note="next in line")
    for tier in tiers:
        tier.reserved += held.get(tier.id, 0)
    live.broadcast_positions(event.id, event.tenant_id)
    return offered


def waitlist_offer_next(
    *, event_id: int, now: datetime | None = None, actor: User | None = None
) -> list[int]:
    """One offer round for an event: expire offers past their time, then offer every free seat to the
    next waiting entries that fit. Idempotent and safe to run concurrently (the tier locks serialise
    rounds of one event; a second round finds nothing to do). Skips the locks entirely when an unlocked
    look shows nothing to do. Returns the ids of the entries offered.
    Locks: the event's tiers (FOR UPDATE, id order), entries SKIP LOCKED. Writes outbox messages."""
    now = _now(now)
    if not _has_work(event_id, now):
        return []
    with transaction.atomic(durable=True):
        event = Event.objects.select_related("tenant").get(pk=event_id)
        tiers = _lock_tiers(event_id)
        if _expire_due_locked(event=event, now=now):
            _refresh_counts(tiers)
        offered = _offer_round_locked(event=event, tiers=tiers, now=now, actor=actor)
    return [entry.id for entry in offered]


def _has_work(event_id: int, now: datetime) -> bool:
    entries = WaitlistEntry.objects.filter(event_id=event_id)
    if entries.filter(status=EntryStatus.OFFERED, offer_expires_at__lte=now).exists():
        return True
    if not entries.filter(status=EntryStatus.WAITING).exists():
        return False
    return TicketTier.objects.filter(
        event_id=event_id, is_active=True, quantity__gt=F("sold") + F("reserved")
    ).exists()


def waitlist_process_due(*, now: datetime | None = None) -> int:
    """Beat: one offer round for every event with waiting entries or offers past their time.
    Each event in its own transaction; an event whose tiers are busy is retried next minute."""
    now = _now(now)
    event_ids = set(
        WaitlistEntry.objects.filter(
            Q(status=EntryStatus.WAITING, event__status__in=SELLABLE)
            | Q(status=EntryStatus.OFFERED, offer_expires_at__lte=now)
        )
        .values_list("event_id", flat=True)
        .distinct()
    )
    offered = 0
    for event_id in sorted(event_ids):
        try:
            offered += len(waitlist_offer_next(event_id=event_id, now=now))
        except Busy:
            continue
    return offered


def waitlist_offer_now(
    *, tenant: Tenant, actor: User | None, entry: WaitlistEntry, now: datetime | None = None
) -> WaitlistEntry:
    """Staff: offer free seats to THIS waiting entry now, ahead of its turn. Raises SoldOut when no
    single tier has enough free seats for it, Conflict when it is not waiting, Busy when someone is acting
    on it right now. Locks tiers, then the entry (NOWAIT-style: SKIP LOCKED → Busy)."""
    if entry.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    with transaction.atomic(durable=True):
        event = Event.objects.select_related("tenant").get(pk=entry.event_id)
        tiers = _lock_tiers(event.id)
        _expire_due_locked(event=event, now=now)
        _refresh_counts(tiers)
        locked = (
            WaitlistEntry.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer")
            .filter(pk=entry.pk)
            .first()
        )
        if locked is None:
            raise Busy(_("Someone is acting on this entry right now. Try again in a moment."))
        if locked.status != EntryStatus.WAITING:
            raise Conflict(
                _("Only waiting entries can get an offer (this one is %(status)s).")
                % {"status": status_word(locked.get_status_display())}
            )
        if not _event_offerable(event, now):
            raise Conflict(_("Tickets for this event are not on sale."))
        free = {t.id: t.available for t in tiers if _tier_offerable(t, now) and t.available > 0}
        tier_order = [t.id for t in sorted(tiers, key=lambda t: (t.position, t.id)) if t.id in free]
        tier_id = _fitting_tier(locked, free, tier_order)
        if tier_id is None:
            raise SoldOut(
                ngettext(
                    "No ticket type has %(count)s free seat for this entry right now.",
                    "No ticket type has %(count)s free seats for this entry right now.",
                    locked.quantity,
                )
                % {"count": locked.quantity}
            )
        ticketing.seats_hold(tier_quantities={tier_id: locked.quantity})
        locked.offer()
        locked.offered_tier = next(t for t in tiers if t.id == tier_id)
        locked.offered_at = now
        locked.offer_expires_at = _offer_expiry(event, settings_for(event).offer_hours, now)
        locked.offer_token = new_token()
        locked.offered_by = actor
        locked.event = event
        locked.save(
            update_fields=[
                "status",
                "offered_tier",
                "offered_at",
                "offer_expires_at",
                "offer_token",
                "offered_by",
                "updated_at",
            ]
        )
        _notify_offer(locked, now=now)
        _record([locked], EntryAction.OFFERED, now=now, actor=actor, note="offered now by staff")
        live.broadcast_positions(event.id, event.tenant_id)
    return locked


# --- the claim link -------------------------------------------------------------------------------


def offer_link_token(entry: WaitlistEntry) -> str:
    """The signed part of the claim link: names the entry and its current offer."""
    return signing.sign({"e": entry.pk, "t": entry.offer_token}, salt=OFFER_SALT)


def offer_url(entry: WaitlistEntry) -> str:
    return reverse(
        "waitlists_public:offer",
        kwargs={
            "tenant_slug": entry.event.tenant.slug,
            "token": entry.access_token,
            "signed": offer_link_token(entry),
        },
    )


def offer_verify(*, entry: WaitlistEntry, signed: str) -> None:
    """Check that ``signed`` is the claim link of THIS entry's current offer. Raises NotFound (tampered
    link) or PermissionDenied (a link for another entry, or for an offer that is no longer this one's)."""
    payload = signing.unsign(signed, salt=OFFER_SALT)
    if payload.get("e") != entry.pk:
        raise PermissionDenied(
            _("This offer link belongs to another waitlist place. Use the link from your own email.")
        )
    if not entry.offer_token or not hmac.compare_digest(str(payload.get("t", "")), entry.offer_token):
        raise PermissionDenied(_("This offer link is not the current one for this waitlist place."))


def _refuse_closed(entry: WaitlistEntry, now: datetime) -> None:
    status = entry.effective_status(now)
    if status == EntryStatus.EXPIRED:
        raise Conflict(
            _("This offer expired at %(time)s on %(date)s and the seats went to the next person in line.")
            % {
                "time": format_zoned(entry.offer_expires_at, entry.event.time_zone, "H:i"),
                "date": format_zoned(entry.offer_expires_at, entry.event.time_zone, "j M Y"),
            }
        )
    if status == EntryStatus.DECLINED:
        raise Conflict(_("You declined this offer, so the seats went to the next person in line."))
    if status == EntryStatus.WITHDRAWN:
        raise Conflict(_("You left this waitlist, so this offer is no longer yours."))
    if status == EntryStatus.WAITING:
        raise Conflict(_("There is no offer for this waitlist place yet."))


def waitlist_claim(
    *,
    tenant: Tenant,
    entry: WaitlistEntry,
    signed: str,
    actor: User | None = None,
    holder_key: str = "",
    now: datetime | None = None,
) -> CheckoutSession:
    """Take an offer: offered → claimed, and its held seats move into a checkout session (no checkout slot,
    no waiting room) for the buyer to pay, held until the offer's own expiry (at least the event's
    checkout minutes). Idempotent: claiming again returns the same live session.
    Raises PermissionDenied/NotFound (wrong link), Conflict (expired, declined, withdrawn — an expired
    offer is expired durably in a second transaction and its seats offered on). Locks the entry only."""
    if entry.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    offer_verify(entry=entry, signed=signed)
    expired = False
    with transaction.atomic(durable=True):
        locked = _lock_entry(entry.pk)
        offer_verify(entry=locked, signed=signed)
        if locked.status == EntryStatus.CLAIMED:
            session = CheckoutSession.objects.filter(token=locked.checkout_token).first()
            if session is not None and session.is_live(now):
                return session
            raise Conflict(_("You already claimed this offer and the checkout has ended."))
        if locked.status == EntryStatus.OFFERED and not locked.offer_is_live(now):
            expired = True
        else:
            _refuse_closed(locked, now)
            session = ticketing.checkout_open_from_hold(
                tenant=tenant,
                event=locked.event,
                tier_quantities={locked.offered_tier_id: locked.quantity},
                source_reference=f"offer:{locked.pk}",
                customer=locked.customer,
                actor=actor,
                holder_key=holder_key,
                # The offer already held the seats until its expiry: the checkout keeps that time
                # (at least the event's usual checkout minutes), so claiming early never shortens it.
                expires_at=max(
                    locked.offer_expires_at, now + timedelta(minutes=locked.event.checkout_minutes)
                ),
                now=now,
            )
            locked.claim()
            locked.closed_at = now
            locked.checkout_token = session.token
            locked.save(update_fields=["status", "closed_at", "checkout_token", "updated_at"])
            _record([locked], EntryAction.CLAIMED, now=now, actor=actor)
            live.broadcast_positions(locked.event_id, locked.tenant_id)
            return session
    if expired:
        waitlist_offer_next(event_id=entry.event_id, now=now)
        _refuse_closed(WaitlistEntry.objects.select_related("event").get(pk=entry.pk), now)
    raise Conflict(_("This offer can no longer be claimed."))


def waitlist_decline(
    *, tenant: Tenant, entry: WaitlistEntry, signed: str, now: datetime | None = None
) -> WaitlistEntry:
    """Say no to an offer: offered → declined (never offered again); the seats are released and offered
    to the next entries in the same transaction. Idempotent for an already declined entry. Raises
    PermissionDenied/NotFound (wrong link), Conflict (claimed or expired). Locks tiers, then the entry."""
    if entry.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    offer_verify(entry=entry, signed=signed)
    expired = False
    with transaction.atomic(durable=True):
        event = Event.objects.select_related("tenant").get(pk=entry.event_id)
        tiers = _lock_tiers(event.id)
        locked = _lock_entry(entry.pk)
        if locked.status == EntryStatus.DECLINED:
            return locked
        if locked.status == EntryStatus.CLAIMED:
            raise Conflict(
                _("You already claimed this offer. To give the tickets back, cancel the checkout.")
            )
        if locked.status != EntryStatus.OFFERED:
            _refuse_closed(locked, now)
        if locked.offer_is_live(now):
            locked.decline()
        else:
            # Past its time: make the expiry durable here (same release and cascade), then say so.
            locked.expire()
            expired = True
        locked.closed_at = now
        locked.save(update_fields=["status", "closed_at", "updated_at"])
        _record([locked], EntryAction.EXPIRED if expired else EntryAction.DECLINED, now=now)
        ticketing.seats_release(tier_quantities={locked.offered_tier_id: locked.quantity})
        _refresh_counts(tiers)
        _offer_round_locked(event=event, tiers=tiers, now=now)
        live.broadcast_positions(event.id, event.tenant_id)
    if expired:
        _refuse_closed(locked, now)
    return locked


# --- notification ---------------------------------------------------------------------------------


def _notify_offer(entry: WaitlistEntry, *, now: datetime) -> None:
    """Write the "waitlist.offer" outbox message in the offering transaction."""
    from django.conf import settings

    from core.money import format_money
    from notifications.services import notify
    from ticketing.texts import customer_language

    event = entry.event
    tier = entry.offered_tier
    with customer_language(entry.customer):
        held = ngettext(
            "Good news: %(count)s ticket (%(tier)s) for %(event)s is now held for you.",
            "Good news: %(count)s tickets (%(tier)s) for %(event)s are now held for you.",
            entry.quantity,
        ) % {"count": entry.quantity, "tier": tier.name, "event": event.title}
        if tier.price_cents:
            price = _("Price: %(price)s plus any fees, paid at checkout.") % {
                "price": format_money(tier.price_cents * entry.quantity, event.currency)
            }
        else:
            price = _("Price: free.")
        body = "\n".join(
            [
                held,
                _("When: %(when)s")
                % {"when": format_zoned(event.starts_at, event.time_zone, "l j F Y, H:i")},
                _("Where: %(venue)s, %(city)s") % {"venue": event.venue_name, "city": event.venue_city},
                price,
                _("The offer is yours until %(time)s on %(day)s.")
                % {
                    "time": format_zoned(entry.offer_expires_at, event.time_zone, "H:i"),
                    "day": format_zoned(entry.offer_expires_at, event.time_zone, "l j F"),
                },
                _("After that the tickets go to the next person on the waitlist."),
                _("Not going? Decline from the same link so someone else can have them."),
            ]
        )
        context = {
            "subject": _("Tickets for %(event)s are waiting for you") % {"event": event.title},
            "headline": _("Your turn: %(event)s") % {"event": event.title},
            "body": body,
            "action_url": settings.SITE_URL + offer_url(entry),
            "action_label": _("Claim your tickets"),
        }
    notify(
        tenant=event.tenant,
        event_type="waitlist.offer",
        context=context,
        customer=entry.customer,
        related=entry,
        now=now,
    )
    emit(tenant=event.tenant, event_type="waitlist.offered", resource=entry, now=now)
