"""Ticketing write path: venues, events, tiers, checkout sessions, orders, tickets, check-in.

Locking (always in this order, so no two transactions wait on each other in a cycle):
  1. the checkout slot row (``CheckoutSlot``, claimed ``FOR UPDATE SKIP LOCKED`` when opening; locked by
     session when completing, abandoning or expiring),
  2. the checkout session / order / issued ticket row (``SELECT … FOR UPDATE``; the FSM models also carry
     ``ConcurrentTransitionMixin``),
  3. tier rows, in id order, through ``ticketing.inventory`` (conditional UPDATEs, no explicit lock).
Checkout sources (``ticketing.sources``, registered by the apps that open checkouts: the waiting room)
are called at two places inside these transactions: ``on_open`` after the slot claim (1) and before the
session row is inserted; ``on_complete`` after the order and its tickets are written (the session row
locked, 2), just before the session row is marked completed. The waiting room's hooks take its event's
admission-log lock (completion only) and then the admission's entry row; its admission pass takes those
in the same order and never waits on slots, sessions or tiers.
Every checkout transaction runs in ``_bounded_atomic``: ``SET LOCAL lock_timeout`` to
``core.locking.DEFAULT_LOCK_TIMEOUT_MS``, so a row held by someone else (a hot tier under a long
transaction, a stuck session) makes the call answer ``Busy`` ("try again") within 3 s instead of waiting.
The event row is never locked on the purchase path: the automatic "sold out" / "back on sale" moves are
guarded UPDATEs (``WHERE status = …``, the same state-filtered write ``ConcurrentTransitionMixin`` does).
A stale "sold out" flag never blocks a sale — checkout is gated by tier inventory, and the beat task
re-syncs the flag.

Expiry never depends on the scheduler: a session is expired as soon as ``expires_at <= now``. Reads count
such holds as available; the next person who needs the slot, the owner who comes back, and the beat task
all release it (whoever comes first; the others find nothing to do).

Side effects are scheduled with ``transaction.on_commit``: availability broadcasts, ``seats_released``
(the ``seats_freed`` signal for waitlists and the waiting room), and notification dispatch.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy, ngettext

from core.errors import Busy, Conflict, InvalidTransition, NotFound, ValidationError
from core.locking import DEFAULT_LOCK_TIMEOUT_MS, advisory_lock, is_lock_timeout, lock_key
from core.times import format_zoned
from notifications.webhooks import emit
from tenants.models import Customer, Tenant, User
from tenants.services import customer_upsert
from ticketing import events as live_events
from ticketing import inventory
from ticketing import sources as checkout_sources
from ticketing.admission import admission_verify
from ticketing.models import (
    CheckoutItem,
    CheckoutSession,
    CheckoutSlot,
    Event,
    EventStatus,
    IssuedTicket,
    Order,
    OrderItem,
    OrderStatus,
    SessionSource,
    SessionStatus,
    TicketStatus,
    TicketTier,
    Venue,
)
from ticketing.payments import get_provider
from ticketing.payments.receipts import money_lines, receipt_schedule, receipt_view
from ticketing.pricing import checkout_quote, fee_per_ticket, line_unit_price
from ticketing.search import text_trigrams
from ticketing.signals import seats_freed, waiting_room_switched_on
from ticketing.texts import customer_language, status_word

logger = logging.getLogger(__name__)

SELLABLE_STATUSES = (EventStatus.ON_SALE, EventStatus.SOLD_OUT)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


LOCK_TIMEOUT_SQL = f"SET LOCAL lock_timeout = {int(DEFAULT_LOCK_TIMEOUT_MS)}"
BUSY_TICKETS = gettext_lazy(
    "Lots of people are buying these tickets right now. Please try again in a moment."
)


@contextmanager
def _bounded_atomic(busy_message: str = BUSY_TICKETS) -> Iterator[None]:
    """A durable transaction in which no row-lock wait lasts longer than ``DEFAULT_LOCK_TIMEOUT_MS``
    (``SET LOCAL lock_timeout``, gone at commit or rollback). A wait that runs out (SQLSTATE 55P03,
    lock_not_available) rolls the whole transaction back and raises ``Busy(busy_message)``: contention
    on a hot tier (or a stuck lock) is "try again", never a request that hangs or a 500."""
    try:
        with transaction.atomic(durable=True):
            with connection.cursor() as cursor:
                cursor.execute(LOCK_TIMEOUT_SQL)
            yield
    except OperationalError as error:
        if is_lock_timeout(error):
            raise Busy(str(busy_message)) from error
        raise


def _integrity_to_validation(error: IntegrityError, messages: dict[str, str]) -> ValidationError:
    text = str(error)
    for constraint, message in messages.items():
        if constraint in text:
            return ValidationError(str(message))
    return ValidationError(_("That would break a rule of this event. Check the values and try again."))


# --- venues ---------------------------------------------------------------------------------------


VENUE_FIELDS = ("name", "address", "city", "time_zone", "latitude", "longitude", "capacity")


def venue_create(*, tenant: Tenant, actor: User | None, **fields) -> Venue:
    """Create a venue. Raises ValidationError for bad values or a duplicate name in the same city."""
    venue = Venue(tenant=tenant, **{key: fields[key] for key in VENUE_FIELDS if key in fields})
    return _venue_save(venue)


def venue_update(*, tenant: Tenant, actor: User | None, venue: Venue, **fields) -> Venue:
    """Edit a venue. Events already created keep their snapshot of the old name, address and zone."""
    if venue.tenant_id != tenant.id:
        raise NotFound()
    for key in VENUE_FIELDS:
        if key in fields:
            setattr(venue, key, fields[key])
    return _venue_save(venue)


def _venue_save(venue: Venue) -> Venue:
    _full_clean(venue)
    try:
        with transaction.atomic(durable=True):
            venue.save()
    except IntegrityError as error:
        raise _integrity_to_validation(
            error,
            {"venue_tenant_name_city_unique": _("You already have a venue with this name in this city.")},
        ) from None
    return venue


def _full_clean(instance, exclude: list[str] | None = None) -> None:
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        # FSM fields are protected (no direct assignment, which clean_fields does); never user input.
        instance.full_clean(
            exclude=[*(exclude or []), "status"], validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as error:
        fields = {key: [str(m) for m in messages] for key, messages in error.message_dict.items()}
        first = next(iter(fields.values()))[0] if fields else None
        raise ValidationError(first, field_errors=fields) from None


# --- events ---------------------------------------------------------------------------------------

EVENT_FIELDS = (
    "title",
    "description",
    "performer",
    "starts_at",
    "ends_at",
    "doors_open_at",
    "sale_starts_at",
    "sale_ends_at",
    "checkout_limit",
    "checkout_minutes",
    "per_order_max",
    "currency",
    "fee_fixed_cents",
    "fee_percent",
    "tax_percent",
    "waiting_room_enabled",
    "capacity",
    "pay_at_door_enabled",
    "pay_at_door_max_per_buyer",
    "pay_at_door_max_outstanding",
    "pay_at_door_hold_hours",
    "open_checkouts_per_buyer",
    "open_checkouts_per_address",
)

EVENT_CONSTRAINT_MESSAGES = {
    "event_dedupe_key_unique": gettext_lazy(
        "This event already exists (same performer, venue, start time and title)."
    ),
    "event_ends_after_start": gettext_lazy("The event must end after it starts."),
    "event_doors_before_start": gettext_lazy("Doors must open at or before the start time."),
    "event_sale_window_ordered": gettext_lazy("The sale must end after it starts."),
    "event_tenant_slug_unique": gettext_lazy("Another event already uses this address."),
}


def dedupe_key(*, performer: str, venue_id: int, starts_at: datetime, title: str) -> str:
    """``performer : venue : start (UTC, ISO) : slugified title`` — unique across events."""
    start = starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return ":".join([slugify(performer or ""), str(venue_id), start, slugify(title)])


def _unique_slug(tenant: Tenant, title: str, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:70] or "event"
    candidate, number = base, 2
    taken = Event.objects.for_tenant(tenant)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(slug=candidate).exists():
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _event_validate(event: Event) -> None:
    _full_clean(event, exclude=["venue_name", "venue_city", "time_zone", "dedupe_key", "slug"])
    errors: dict[str, list[str]] = {}
    if event.ends_at and event.starts_at and event.ends_at <= event.starts_at:
        errors["ends_at"] = [_("The event must end after it starts.")]
    if event.doors_open_at and event.starts_at and event.doors_open_at > event.starts_at:
        errors["doors_open_at"] = [_("Doors must open at or before the start time.")]
    if event.sale_starts_at and event.sale_ends_at and event.sale_ends_at <= event.sale_starts_at:
        errors["sale_ends_at"] = [_("The sale must end after it starts.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], field_errors=errors)


def _start_not_past(starts_at: datetime | None, now: datetime) -> None:
    if starts_at is not None and starts_at <= now:
        raise ValidationError(
            _("An event cannot start in the past."),
            field_errors={"starts_at": [_("Choose a start time in the future.")]},
        )


def _pay_at_door_default(fields: dict, *, waiting_room: bool) -> None:
    """Pay at the door reserves seats without paying; behind a waiting room (a high-demand sale) it is off
    unless the promoter turns it on explicitly."""
    if waiting_room and "pay_at_door_enabled" not in fields:
        fields["pay_at_door_enabled"] = False


def event_create(
    *,
    tenant: Tenant,
    actor: User | None,
    venue: Venue,
    title: str,
    starts_at,
    ends_at,
    now: datetime | None = None,
    **fields,
) -> Event:
    """Create a draft event at ``venue``, snapshotting the venue's name, address, city and time zone; its
    capacity starts at the venue's unless given.

    Raises ValidationError (a start in the past, bad times, duplicate dedupe key). Creates the checkout
    slots; with the waiting room on, its settings too (``waiting_room_switched_on``, in this transaction)."""
    if venue.tenant_id != tenant.id:
        raise NotFound()
    _start_not_past(starts_at, _now(now))
    fields = dict(fields)
    _pay_at_door_default(fields, waiting_room=bool(fields.get("waiting_room_enabled")))
    if not fields.get("capacity"):
        fields["capacity"] = venue.capacity
    event = Event(
        tenant=tenant,
        venue=venue,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        venue_name=venue.name,
        venue_address=venue.address,
        venue_city=venue.city,
        time_zone=venue.time_zone,
        currency=fields.pop("currency", None) or tenant.currency,
        **{key: value for key, value in fields.items() if key in EVENT_FIELDS},
    )
    _event_validate(event)
    event.dedupe_key = dedupe_key(
        performer=event.performer, venue_id=venue.id, starts_at=starts_at, title=title
    )
    try:
        with transaction.atomic(durable=True):
            event.slug = _unique_slug(tenant, title)
            event.save()
            _event_after_save(event)
            if event.waiting_room_enabled:
                waiting_room_switched_on.send(sender=Event, event=event)
    except IntegrityError as error:
        raise _integrity_to_validation(error, EVENT_CONSTRAINT_MESSAGES) from None
    return event


def event_update(
    *, tenant: Tenant, actor: User | None, event: Event, now: datetime | None = None, **fields
) -> Event:
    """Edit an event's details (not its venue snapshot). Raises ValidationError (a start moved into the
    past, a capacity below what the tiers already offer). Turning the waiting room on turns pay at the door
    off unless it is given, and creates the room's settings in this transaction. Takes the event's
    capacity lock (advisory, the one tier edits take)."""
    if event.tenant_id != tenant.id:
        raise NotFound()
    fields = dict(fields)
    if "starts_at" in fields and fields["starts_at"] != event.starts_at:
        _start_not_past(fields["starts_at"], _now(now))
    switched_on = bool(fields.get("waiting_room_enabled")) and not event.waiting_room_enabled
    _pay_at_door_default(fields, waiting_room=switched_on)
    if "capacity" in fields and not fields["capacity"]:
        fields.pop("capacity")
    for key, value in fields.items():
        if key in EVENT_FIELDS:
            setattr(event, key, value)
    _event_validate(event)
    event.dedupe_key = dedupe_key(
        performer=event.performer, venue_id=event.venue_id, starts_at=event.starts_at, title=event.title
    )
    try:
        with transaction.atomic(durable=True):
            _capacity_lock(event.id)
            offered = _tiers_offered(event.id)
            if event.capacity < offered:
                raise ValidationError(
                    ngettext(
                        "The tiers already offer %(count)s ticket; the capacity cannot be lower.",
                        "The tiers already offer %(count)s tickets; the capacity cannot be lower.",
                        offered,
                    )
                    % {"count": offered},
                    field_errors={
                        "capacity": [
                            _("At least %(count)s (what the tiers already offer).") % {"count": offered}
                        ]
                    },
                )
            event.save()
            _event_after_save(event)
            if switched_on:
                waiting_room_switched_on.send(sender=Event, event=event)
    except IntegrityError as error:
        raise _integrity_to_validation(error, EVENT_CONSTRAINT_MESSAGES) from None
    live_events.broadcast_availability(event.id, event.tenant_id)
    return event


def _capacity_lock(event_id: int) -> None:
    """Serialise edits of one event's tiers and capacity (transaction-scoped advisory lock, never the
    event row: the purchase path writes that row after the tiers, so locking it here first could deadlock)."""
    advisory_lock([lock_key("ticketing.event-capacity", event_id)])


def _tiers_offered(event_id: int, *, excluding: int | None = None) -> int:
    tiers = TicketTier.objects.filter(event_id=event_id, is_active=True)
    if excluding is not None:
        tiers = tiers.exclude(pk=excluding)
    return tiers.aggregate(total=Sum("quantity"))["total"] or 0


def _check_capacity(tier: TicketTier) -> None:
    """Under ``_capacity_lock``: the active tiers together stay within the event's capacity."""
    if not tier.is_active:
        return
    capacity = Event.objects.values_list("capacity", flat=True).get(pk=tier.event_id)
    others = _tiers_offered(tier.event_id, excluding=tier.pk)
    if others + tier.quantity > capacity:
        room = max(0, capacity - others)
        raise ValidationError(
            _(
                "All tiers together would offer %(offered)s tickets, more than the event's capacity of "
                "%(capacity)s. Lower the quantity or raise the event's capacity."
            )
            % {"offered": others + tier.quantity, "capacity": capacity},
            field_errors={
                "quantity": [
                    _("At most %(room)s (the event's capacity is %(capacity)s).")
                    % {"room": room, "capacity": capacity}
                ]
            },
        )


def _event_after_save(event: Event) -> None:
    text = " ".join([event.title, event.performer, event.venue_name, event.venue_city]).lower()
    Event.objects.filter(pk=event.pk).update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("performer", weight="A", config="english")
        + SearchVector("venue_name", weight="B", config="english")
        + SearchVector("venue_city", weight="B", config="english"),
        search_text=text,
        search_trigrams=text_trigrams(text),
    )
    CheckoutSlot.objects.bulk_create(
        [CheckoutSlot(event=event, number=number) for number in range(1, event.checkout_limit + 1)],
        ignore_conflicts=True,
    )


def _event_transition(*, tenant: Tenant, event: Event, name: str) -> Event:
    if event.tenant_id != tenant.id:
        raise NotFound()
    with transaction.atomic(durable=True):
        locked = Event.objects.select_for_update().get(pk=event.pk)
        method = getattr(locked, name)
        if not django_fsm_can(method):
            raise InvalidTransition(
                _("A %(status)s event cannot do that.") % {"status": status_word(locked.get_status_display())}
            )
        method()
        locked.save(update_fields=["status", "updated_at"])
        live_events.broadcast_availability(locked.id, locked.tenant_id)
    return locked


def django_fsm_can(method) -> bool:
    import django_fsm

    return django_fsm.can_proceed(method)


def event_publish(*, tenant: Tenant, actor: User | None, event: Event) -> Event:
    """Draft → on sale. Locks the event row. Raises InvalidTransition."""
    if not event.tiers.filter(is_active=True).exists():
        raise ValidationError(_("Add at least one active ticket tier before putting the event on sale."))
    return _event_transition(tenant=tenant, event=event, name="publish")


def event_cancel(*, tenant: Tenant, actor: User | None, event: Event, now: datetime | None = None) -> Event:
    """Cancel the event: no new sales (locks the event row; a second cancel raises InvalidTransition),
    then, after that commit, ``ticketing.lifecycle.event_settle_cancelled``: open checkouts end, paid
    orders are refunded and pending ones cancelled (their tickets cancelled, seats released), each buyer
    told. Whatever that leaves (a busy order) the beat task finishes."""
    from ticketing.lifecycle import event_settle_cancelled

    cancelled = _event_transition(tenant=tenant, event=event, name="cancel")
    event_settle_cancelled(tenant=tenant, actor=actor, event=cancelled, now=now)
    return cancelled


def event_end(*, tenant: Tenant, actor: User | None, event: Event) -> Event:
    return _event_transition(tenant=tenant, event=event, name="end")


def event_end_past(*, now: datetime | None = None, limit: int = 200) -> int:
    """Mark events whose end has passed as ended (beat). Reads already treat them as over (listing and
    sale checks use ``ends_at``); this makes it durable. Each event in its own transaction; idempotent."""
    now = _now(now)
    ended = 0
    for event in Event.objects.filter(status__in=SELLABLE_STATUSES, ends_at__lte=now).order_by("ends_at")[
        :limit
    ]:
        try:
            event_end(tenant=event.tenant, actor=None, event=event)
            ended += 1
        except InvalidTransition:
            continue  # changed meanwhile (cancelled, or another run ended it)
    return ended


def _event_sync_status(event_id: int) -> None:
    """Follow inventory: on sale ⇄ sold out. Guarded UPDATEs; no event row lock on the hot path."""
    available = TicketTier.objects.filter(
        event_id=OuterRef("pk"), is_active=True, quantity__gt=F("sold") + F("reserved")
    )
    Event.objects.filter(pk=event_id, status=EventStatus.ON_SALE).filter(~Exists(available)).update(
        status=EventStatus.SOLD_OUT
    )
    Event.objects.filter(pk=event_id, status=EventStatus.SOLD_OUT).filter(Exists(available)).update(
        status=EventStatus.ON_SALE
    )


# --- tiers ----------------------------------------------------------------------------------------

TIER_FIELDS = (
    "name",
    "kind",
    "price_cents",
    "quantity",
    "sale_starts_at",
    "sale_ends_at",
    "min_per_order",
    "max_per_order",
    "position",
    "is_active",
)
TIER_CONSTRAINT_MESSAGES = {
    "tier_never_oversold": gettext_lazy(
        "The quantity cannot be lower than the tickets already sold or held."
    ),
    "tier_min_not_above_max": gettext_lazy("The minimum per order cannot be above the maximum."),
    "tier_sale_window_ordered": gettext_lazy("The sale must end after it starts."),
    "tier_event_name_unique": gettext_lazy("This event already has a tier with that name."),
}


def _tier_validate(tier: TicketTier) -> None:
    _full_clean(tier, exclude=["event", "tenant"])
    errors: dict[str, list[str]] = {}
    if tier.min_per_order > tier.max_per_order:
        errors["max_per_order"] = [_("The minimum per order cannot be above the maximum.")]
    if tier.sale_starts_at and tier.sale_ends_at and tier.sale_ends_at <= tier.sale_starts_at:
        errors["sale_ends_at"] = [_("The sale must end after it starts.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], field_errors=errors)


def tier_create(
    *, tenant: Tenant, actor: User | None, event: Event, name: str, price_cents: int, quantity: int, **fields
) -> TicketTier:
    """Add a tier to ``event``. Raises ValidationError."""
    if event.tenant_id != tenant.id:
        raise NotFound()
    tier = TicketTier(
        tenant=tenant,
        event=event,
        name=name,
        price_cents=price_cents,
        quantity=quantity,
        **{key: value for key, value in fields.items() if key in TIER_FIELDS},
    )
    _tier_validate(tier)
    try:
        with transaction.atomic(durable=True):
            _capacity_lock(event.id)
            _check_capacity(tier)
            tier.save()
            transaction.on_commit(lambda: seats_released([tier.id]))
            live_events.broadcast_availability(event.id, event.tenant_id)
    except IntegrityError as error:
        raise _integrity_to_validation(error, TIER_CONSTRAINT_MESSAGES) from None
    return tier


def tier_update(*, tenant: Tenant, actor: User | None, tier: TicketTier, **fields) -> TicketTier:
    """Edit a tier. ``sold`` and ``reserved`` are never written here; the quantity is written with a
    guarded UPDATE so a concurrent sale cannot be overwritten (the CHECK refuses a quantity below
    sold + reserved → ValidationError). Raising the quantity schedules ``seats_released``."""
    if tier.tenant_id != tenant.id:
        raise NotFound()
    old_quantity = TicketTier.objects.values_list("quantity", flat=True).get(pk=tier.pk)
    for key, value in fields.items():
        if key in TIER_FIELDS:
            setattr(tier, key, value)
    _tier_validate(tier)
    try:
        with transaction.atomic(durable=True):
            _capacity_lock(tier.event_id)
            _check_capacity(tier)
            tier.save(update_fields=[*[key for key in TIER_FIELDS if key in fields], "updated_at"])
            _event_sync_status(tier.event_id)
            if tier.quantity > old_quantity or fields.get("is_active"):
                transaction.on_commit(lambda: seats_released([tier.id]))
            live_events.broadcast_availability(tier.event_id, tier.tenant_id)
    except IntegrityError as error:
        raise _integrity_to_validation(error, TIER_CONSTRAINT_MESSAGES) from None
    tier.refresh_from_db(fields=["sold", "reserved", "quantity"])
    return tier


def seats_released(tier_ids: list[int]) -> None:
    """Called on commit after seats went back to tiers: sends ``ticketing.signals.seats_freed`` once per
    event. Receivers (waitlists, waiting room) start their own transactions."""
    by_event: dict[tuple[int, int], list[int]] = defaultdict(list)
    for tier_id, tenant_id, event_id in TicketTier.objects.filter(pk__in=tier_ids).values_list(
        "id", "tenant_id", "event_id"
    ):
        by_event[(tenant_id, event_id)].append(tier_id)
    for (tenant_id, event_id), ids in by_event.items():
        # send_robust: every receiver runs even if one fails; the release has committed and stands.
        answers = seats_freed.send_robust(
            sender=TicketTier, tenant_id=tenant_id, event_id=event_id, tier_ids=sorted(ids)
        )
        for receiver, answer in answers:
            if isinstance(answer, Exception):
                logger.error(
                    "seats_freed receiver %s failed for event %s",
                    getattr(receiver, "__qualname__", receiver),
                    event_id,
                    exc_info=(type(answer), answer, answer.__traceback__),
                )


def seats_hold(*, tier_quantities: dict[int, int]) -> None:
    """Take seats for a hold outside checkout (a waitlist offer). Runs inside the CALLER's transaction
    (not durable). Raises SoldOut. Release them with ``seats_release`` or move them into a checkout
    with ``checkout_open_from_hold``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("seats_hold() must run inside the caller's transaction")
    inventory.take(tier_quantities)
    for event_id in set(TicketTier.objects.filter(pk__in=tier_quantities).values_list("event_id", flat=True)):
        _event_sync_status(event_id)
        live_events.broadcast_availability(event_id)


def seats_release(*, tier_quantities: dict[int, int]) -> None:
    """Give held seats back (a declined or expired waitlist offer). Runs inside the caller's transaction;
    schedules ``seats_released`` on commit. No lock needed."""
    inventory.release(tier_quantities)
    _after_release(list(tier_quantities))


def _after_release(tier_ids: list[int]) -> None:
    event_ids = set(TicketTier.objects.filter(pk__in=tier_ids).values_list("event_id", flat=True))
    for event_id in event_ids:
        _event_sync_status(event_id)
        live_events.broadcast_availability(event_id)
    transaction.on_commit(lambda: seats_released(tier_ids))


# --- checkout -------------------------------------------------------------------------------------


def _validate_quantities(*, event: Event, quantities: dict[int, int], now: datetime) -> dict[int, TicketTier]:
    """Check the request against the event's and tiers' rules (not inventory). Returns the tiers."""
    if event.status not in SELLABLE_STATUSES:
        raise Conflict(
            _("Tickets for this event are not on sale (%(status)s).")
            % {"status": status_word(event.get_status_display())}
        )
    if event.sale_starts_at and now < event.sale_starts_at:
        raise Conflict(_("The sale has not started yet."))
    if (event.sale_ends_at and now >= event.sale_ends_at) or now >= event.ends_at:
        raise Conflict(_("The sale has ended."))
    wanted = {int(tier_id): int(quantity) for tier_id, quantity in quantities.items() if int(quantity) > 0}
    if not wanted:
        raise ValidationError(_("Choose how many tickets you want."))
    if sum(wanted.values()) > event.per_order_max:
        raise ValidationError(
            ngettext(
                "You can buy at most %(count)s ticket in one order.",
                "You can buy at most %(count)s tickets in one order.",
                event.per_order_max,
            )
            % {"count": event.per_order_max}
        )
    tiers = {tier.id: tier for tier in TicketTier.objects.filter(event=event, pk__in=wanted, is_active=True)}
    errors: dict[str, list[str]] = {}
    for tier_id, quantity in wanted.items():
        tier = tiers.get(tier_id)
        if tier is None:
            raise NotFound(_("That ticket type is not available."))
        if tier.sale_starts_at and now < tier.sale_starts_at:
            errors[f"tier_{tier_id}"] = [_("%(tier)s is not on sale yet.") % {"tier": tier.name}]
        elif tier.sale_ends_at and now >= tier.sale_ends_at:
            errors[f"tier_{tier_id}"] = [_("The sale of %(tier)s has ended.") % {"tier": tier.name}]
        elif not tier.min_per_order <= quantity <= tier.max_per_order:
            errors[f"tier_{tier_id}"] = [
                _("%(tier)s: choose between %(min)s and %(max)s.")
                % {"tier": tier.name, "min": tier.min_per_order, "max": tier.max_per_order}
            ]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], field_errors=errors)
    return tiers


class CheckoutFull(Busy):
    """Every checkout place of the event is taken (not a lock wait): the buyer may wait for one."""

    code = "checkout_full"


def _claim_slot(*, event: Event, now: datetime) -> CheckoutSlot:
    """Claim a free checkout slot (``FOR UPDATE SKIP LOCKED``) or raise Busy. A slot whose session's
    hold has passed is free: its session is expired and released here, in this transaction."""
    slot = (
        CheckoutSlot.objects.select_for_update(skip_locked=True)
        .filter(event=event, number__lte=event.checkout_limit)
        .filter(Q(session__isnull=True) | Q(held_until__lte=now))
        .order_by("number")
        .first()
    )
    if slot is None:
        raise CheckoutFull(
            ngettext(
                "The only checkout place is in use. Please try again in a minute.",
                "All %(count)s checkout places are in use. Please try again in a minute.",
                event.checkout_limit,
            )
            % {"count": event.checkout_limit}
        )
    if slot.session_id is not None:
        _end_session(session_id=slot.session_id, outcome="expire", now=now)
    return slot


def checkout_open(
    *,
    tenant: Tenant,
    event: Event,
    quantities: dict[int, int],
    actor: User | None = None,
    customer: Customer | None = None,
    admission: str | None = None,
    holder_key: str = "",
    address_key: str = "",
    now: datetime | None = None,
) -> CheckoutSession:
    """Open a checkout session holding ``quantities`` (``{tier_id: n}``) for ``event.checkout_minutes``.

    Snapshots what the buyer is shown — each line's unit price and fee, the tax rate and currency — so a
    later edit of the tier or event never changes what this checkout charges. ``holder_key`` (the
    browser's session key) binds the checkout to who opened it; with ``address_key`` (``core.holders``)
    one browser or signed-in buyer has at most ``event.open_checkouts_per_buyer`` checkouts of the event
    open at once and one network address ``event.open_checkouts_per_address`` (parallel tabs cannot hold
    the sale: ``CheckoutAlreadyOpen``). Unpaid pay-at-the-door orders of the event
    past their hold are cancelled first (``ticketing.lifecycle.orders_expire_unpaid``), so their seats are
    sold, not reported sold out.

    Gate: with ``event.waiting_room_enabled`` a valid signed ``admission`` token for this event is
    required (``ticketing.admission``); one admission opens one live session.
    Locks: advisory locks on the buyer's keys (their open-checkout count), a checkout slot (SKIP LOCKED —
    the event's checkout limit), then the tiers through one
    conditional UPDATE each, waiting at most ``DEFAULT_LOCK_TIMEOUT_MS`` for a tier row. Raises
    ValidationError / Conflict (not on sale) / Busy (checkout full, lock wait ran out) / SoldOut /
    PermissionDenied (admission). Schedules an availability broadcast."""
    now = _now(now)
    if event.tenant_id != tenant.id:
        raise NotFound()
    tiers = _validate_quantities(event=event, quantities=quantities, now=now)
    source, source_reference = SessionSource.DIRECT, ""
    if event.waiting_room_enabled:
        admitted = admission_verify(
            event_id=event.id,
            token=admission,
            holder_key=holder_key,
            user_id=actor.pk if actor and actor.is_authenticated else None,
            now=now,
        )
        source, source_reference = SessionSource.WAITING_ROOM, f"entry:{admitted['entry_id']}"
    wanted = {tier_id: int(quantities.get(tier_id) or quantities.get(str(tier_id))) for tier_id in tiers}
    from ticketing.lifecycle import has_expired_unpaid, orders_expire_unpaid

    if has_expired_unpaid(event, now):
        orders_expire_unpaid(event_id=event.id, now=now)
    try:
        with _bounded_atomic():
            user = actor if actor and actor.is_authenticated else None
            _check_open_checkouts(
                event=event, holder_key=holder_key, address_key=address_key, user=user, now=now
            )
            slot = _claim_slot(event=event, now=now)
            session = CheckoutSession(
                tenant=tenant,
                event=event,
                customer=customer,
                user=user,
                source=source,
                source_reference=source_reference,
                holder_key=holder_key,
                address_key=address_key,
                currency=event.currency,
                tax_percent=event.tax_percent,
                expires_at=now + timedelta(minutes=event.checkout_minutes),
            )
            checkout_sources.opening(session)  # the source's check (ticketing.sources), before the insert
            session.save(force_insert=True)
            CheckoutItem.objects.bulk_create(_snapshot_items(session, event, tiers, wanted))
            CheckoutSlot.objects.filter(pk=slot.pk).update(session=session, held_until=session.expires_at)
            # Inventory last: the tier row lock (what every buyer of a hot tier queues on) is then held
            # only for this statement and the commit.
            if inventory.take(wanted, tier_names={tier.id: tier.name for tier in tiers.values()}):
                _event_sync_status(event.id)
            live_events.broadcast_availability(event.id, event.tenant_id)
    except IntegrityError as error:
        if "checkout_session_one_live_per_source" in str(error):
            raise Conflict(_("This admission already has a checkout open.")) from None
        raise
    return session


class CheckoutAlreadyOpen(Conflict):
    """The buyer (browser, account or network address) already has as many checkouts of the event open as
    it allows. ``session_token``: this browser's own open checkout, when it has one (to send them back)."""

    code = "checkout_already_open"

    def __init__(self, message: str, *, session_token: str = "") -> None:
        super().__init__(message)
        self.session_token = session_token


def _check_open_checkouts(
    *, event: Event, holder_key: str, address_key: str, user: User | None, now: datetime
) -> None:
    """Refuse a checkout past the event's per-buyer and per-address limits of open checkouts (sessions
    that take a checkout place: direct and waiting-room ones; a waitlist offer's hold is its own turn).
    Takes an advisory lock per key first, so parallel tabs of one buyer count one after the other."""
    keys = [("browser", holder_key), ("address", address_key), ("user", user.pk if user else "")]
    keys = [(kind, value) for kind, value in keys if value]
    if not keys:
        return  # no buyer to count by (the API, scripts): the event's checkout limit still holds
    advisory_lock([lock_key(f"checkout-open:{kind}", f"{event.id}:{value}") for kind, value in keys])
    live = CheckoutSession.objects.filter(
        event=event, status=SessionStatus.ACTIVE, expires_at__gt=now
    ).exclude(source=SessionSource.HOLD)
    mine = Q(holder_key=holder_key) if holder_key else Q(pk__in=[])
    if user is not None:
        mine |= Q(user=user)
    if holder_key or user is not None:
        own = list(live.filter(mine).order_by("expires_at").values_list("token", "holder_key")[:100])
        if len(own) >= event.open_checkouts_per_buyer:
            same_browser = next((token for token, key in own if holder_key and key == holder_key), "")
            raise CheckoutAlreadyOpen(
                _t(
                    "You already have a checkout open for this event. Finish or cancel it before "
                    "starting another one."
                ),
                session_token=same_browser,
            )
    if address_key and live.filter(address_key=address_key).count() >= event.open_checkouts_per_address:
        raise CheckoutAlreadyOpen(
            _t(
                "Too many checkouts for this event are open from your network right now. Finish or "
                "cancel one, or try again in %(minutes)s minutes."
            )
            % {"minutes": event.checkout_minutes}
        )


def _snapshot_items(
    session: CheckoutSession, event: Event, tiers: dict[int, TicketTier], wanted: dict[int, int]
) -> list[CheckoutItem]:
    return [
        CheckoutItem(
            session=session,
            tier_id=tier_id,
            quantity=quantity,
            unit_price_cents=tiers[tier_id].price_cents,
            unit_fee_cents=fee_per_ticket(event=event, unit_price_cents=tiers[tier_id].price_cents),
        )
        for tier_id, quantity in wanted.items()
    ]


def checkout_open_from_hold(
    *,
    tenant: Tenant,
    event: Event,
    tier_quantities: dict[int, int],
    source_reference: str,
    customer: Customer | None = None,
    actor: User | None = None,
    expires_at: datetime | None = None,
    holder_key: str = "",
    now: datetime | None = None,
) -> CheckoutSession:
    """Open a checkout over seats ALREADY held elsewhere (taken with ``seats_hold``, e.g. by a waitlist
    offer): inventory is not taken again, the hold moves into the session. No checkout slot and no
    waiting room (the offer already was the turn). Runs inside the CALLER's transaction (so the offer's
    state change and the session commit together). ``source_reference`` (e.g. ``"offer:42"``) opens at
    most one live session. Expiry or abandonment of the session releases the seats like any other."""
    now = _now(now)
    if event.tenant_id != tenant.id:
        raise NotFound()
    if event.status not in SELLABLE_STATUSES:
        raise Conflict(_("Tickets for this event are not on sale."))
    wanted = {int(k): int(v) for k, v in tier_quantities.items() if int(v) > 0}
    tiers = {tier.id: tier for tier in TicketTier.objects.filter(event=event, pk__in=wanted)}
    if not wanted or len(tiers) != len(wanted):
        raise NotFound(_("That ticket type is not available."))
    try:
        with transaction.atomic():
            session = CheckoutSession.objects.create(
                tenant=tenant,
                event=event,
                customer=customer,
                user=actor if actor and actor.is_authenticated else None,
                source=SessionSource.HOLD,
                source_reference=source_reference,
                holder_key=holder_key,
                currency=event.currency,
                tax_percent=event.tax_percent,
                expires_at=expires_at or now + timedelta(minutes=event.checkout_minutes),
            )
            CheckoutItem.objects.bulk_create(_snapshot_items(session, event, tiers, wanted))
    except IntegrityError as error:
        if "checkout_session_one_live_per_source" in str(error):
            raise Conflict(_("This offer already has a checkout open.")) from None
        raise
    return session


def _lock_session(
    session_id: int, *, with_customer: bool = False
) -> tuple[CheckoutSession, CheckoutSlot | None]:
    """Lock in the house order: the session's slot (if any), then the session row (with its event, and
    its customer when asked — one statement instead of a lazy load later)."""
    slot = (
        CheckoutSlot.objects.select_for_update(of=("self",))
        .filter(session_id=session_id)
        .order_by("pk")
        .first()
    )
    related = ("event", "customer") if with_customer else ("event",)
    session = (
        CheckoutSession.objects.select_for_update(of=("self",)).select_related(*related).get(pk=session_id)
    )
    return session, slot


def _end_session(*, session_id: int, outcome: str, now: datetime) -> CheckoutSession:
    """Expire or abandon an active session inside the current transaction and release its seats.
    A session that is no longer active is left alone (idempotent)."""
    session, slot = _lock_session(session_id)
    if session.status != SessionStatus.ACTIVE:
        return session
    getattr(session, outcome)()
    session.ended_at = now
    session.save(update_fields=["status", "ended_at", "updated_at"])
    held = dict(session.items.values_list("tier_id", "quantity"))
    inventory.release(held)
    if slot is not None:
        CheckoutSlot.objects.filter(pk=slot.pk).update(session=None, held_until=None)
    _after_release(list(held))
    return session


def checkout_abandon(
    *, tenant: Tenant, session: CheckoutSession, now: datetime | None = None
) -> CheckoutSession:
    """The buyer gives up: active → abandoned, seats released. Idempotent. Locks slot, session."""
    if session.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    with _bounded_atomic():
        return _end_session(session_id=session.id, outcome="abandon", now=now)


def checkout_expire(*, session_id: int, now: datetime | None = None) -> bool:
    """Expire one session if its hold has passed. Idempotent; safe to run concurrently. Returns whether
    this call expired it."""
    now = _now(now)
    with _bounded_atomic():
        session, _slot = _lock_session(session_id)
        if session.status != SessionStatus.ACTIVE or session.expires_at > now:
            return False
        _end_session(session_id=session_id, outcome="expire", now=now)
        return True


SWEEP_BATCH = 1000
SWEEP_BUDGET_SECONDS = 5.0


def checkout_expire_due(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    batch: int = SWEEP_BATCH,
    budget_seconds: float = SWEEP_BUDGET_SECONDS,
) -> int:
    """Expire every session whose hold has passed (beat, every 30 s). Returns how many this call expired.

    Batches of ``batch`` sessions, each one transaction (``_expire_batch``), until none is due, ``limit``
    sessions are done or ``budget_seconds`` have passed (the rest is the next tick's; reads already treat
    them as expired). Then, once per event for the whole tick: the availability broadcast and
    ``seats_freed`` (waitlist offers, waiting-room admission). Safe with other ticks, buyers coming back
    and slot claims running at once: sessions are claimed ``SKIP LOCKED`` and each is expired (and its
    seats released) by exactly the transaction that flips it from active."""
    now = _now(now)
    started = time.monotonic()
    expired = 0
    freed: dict[int, int] = {}  # tier id -> event id
    events: dict[int, int] = {}  # event id -> tenant id
    while limit is None or expired < limit:
        size = batch if limit is None else min(batch, limit - expired)
        try:
            claimed, done, tiers, batch_events = _expire_batch(now=now, size=size)
        except Busy:
            logger.info("checkout expiry sweep: a tier row stayed locked; the next tick retries")
            break
        expired += done
        freed.update(tiers)
        events.update(batch_events)
        if claimed < size or done == 0 or time.monotonic() - started >= budget_seconds:
            break
    for event_id, tenant_id in events.items():
        live_events.broadcast_availability(event_id, tenant_id)  # no transaction open: sent (or marked) now
    if freed:
        seats_released(sorted(freed))
    return expired


def _expire_batch(*, now: datetime, size: int) -> tuple[int, int, dict[int, int], dict[int, int]]:
    """One transaction of the sweep. Returns (sessions claimed, sessions expired, {tier: event} whose
    seats went back, {event: tenant} touched).

    Lock order stays acyclic although sessions are taken before slots here: both are claimed
    ``SKIP LOCKED``, so the sweep never waits on a session or a slot. A due session whose slot someone
    else holds (a buyer opening a checkout on that slot, or the owner paying or leaving right now) is left
    to them. Then, for the rest: one guarded UPDATE of the sessions, one UPDATE per tier (lower
    ``reserved``, no lock needed beyond the row's own), one UPDATE of their slots, and the sold-out flag
    re-synced once per event."""
    session_table = CheckoutSession._meta.db_table
    slot_table = CheckoutSlot._meta.db_table
    with _bounded_atomic(gettext_lazy("The checkout sweep is busy.")):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, event_id, tenant_id FROM {session_table} "  # noqa: S608 - model metadata
                "WHERE status = %s AND expires_at <= %s ORDER BY expires_at LIMIT %s FOR UPDATE SKIP LOCKED",
                [SessionStatus.ACTIVE, now, size],
            )
            claimed = cursor.fetchall()
            if not claimed:
                return 0, 0, {}, {}
            ids = [row[0] for row in claimed]
            cursor.execute(
                f"SELECT id, session_id FROM {slot_table} WHERE session_id = ANY(%s) FOR UPDATE SKIP LOCKED",  # noqa: S608
                [ids],
            )
            slots = dict(cursor.fetchall())
            cursor.execute(
                f"SELECT session_id FROM {slot_table} WHERE session_id = ANY(%s) AND NOT (id = ANY(%s))",  # noqa: S608
                [ids, list(slots)],
            )
            taken_elsewhere = {row[0] for row in cursor.fetchall()}
        mine = [row for row in claimed if row[0] not in taken_elsewhere]
        mine_ids = [row[0] for row in mine]
        if not mine_ids:
            return len(claimed), 0, {}, {}
        CheckoutSession.objects.filter(pk__in=mine_ids, status=SessionStatus.ACTIVE).update(
            status=SessionStatus.EXPIRED, ended_at=now, updated_at=now
        )
        event_of = {session_id: event_id for session_id, event_id, _tenant in mine}
        held: dict[int, int] = defaultdict(int)
        tier_events: dict[int, int] = {}
        for session_id, tier_id, quantity in CheckoutItem.objects.filter(session_id__in=mine_ids).values_list(
            "session_id", "tier_id", "quantity"
        ):
            held[tier_id] += quantity
            tier_events[tier_id] = event_of[session_id]
        inventory.release(dict(held))
        if slots:
            CheckoutSlot.objects.filter(pk__in=list(slots)).update(session=None, held_until=None)
        events = {event_id: tenant_id for _id, event_id, tenant_id in mine}
        for event_id in events:
            _event_sync_status(event_id)
    return len(claimed), len(mine_ids), tier_events, events


def checkout_set_customer(
    *,
    tenant: Tenant,
    session: CheckoutSession,
    name: str,
    email: str,
    phone: str = "",
    email_consent: bool | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> CheckoutSession:
    """Record who is buying (customer upsert by email). Raises Conflict when the session is over.

    No explicit lock: the session gets its customer through one UPDATE guarded by ``status = active AND
    expires_at > now`` (the row lock of that UPDATE serialises it with a concurrent pay, expiry or
    abandon); zero rows means the checkout is over and the transaction, customer upsert included, rolls
    back. Returns ``session`` with its customer set."""
    if session.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    if not email or "@" not in email:
        raise ValidationError(
            _("Enter your email address."), field_errors={"email": [_("Enter a valid email address.")]}
        )
    with _bounded_atomic():
        customer = customer_upsert(
            tenant=tenant,
            email=email,
            name=name,
            phone=phone,
            email_consent=email_consent,
            user=actor if actor and actor.is_authenticated else None,
        )
        updated = CheckoutSession.objects.filter(
            pk=session.pk, status=SessionStatus.ACTIVE, expires_at__gt=now
        ).update(
            customer=customer,
            buyer_name=name,
            buyer_email=email.strip().lower(),
            buyer_phone=phone,
            updated_at=now,
        )
        if not updated:
            raise Conflict(_("This checkout has ended. Start again from the event page."))
    session.customer = customer
    return session


@dataclass
class _Expired(Exception):
    session_id: int


def checkout_complete(
    *,
    tenant: Tenant,
    session: CheckoutSession,
    provider: str,
    payment_details: dict | None = None,
    idempotency_key: str = "",
    customer: Customer | None = None,
    actor: User | None = None,
    expected_total_cents: int | None = None,
    expected_currency: str = "",
    now: datetime | None = None,
) -> Order:
    """Pay for a session's seats and issue the tickets.

    Charges the session's price snapshot (``ticketing.pricing.checkout_quote``), never the tier's price
    now. ``expected_total_cents`` and ``expected_currency`` are what the buyer was shown: if the charge
    would differ (or the snapshot cannot be honoured and the buyer has not confirmed the new total)
    ``PriceChanged`` is raised with the new total and nothing happens; the buyer confirms by paying again
    with that total.
    Pay at the door only where the event allows it, within its per-buyer limit of unpaid tickets; such
    an order holds its seats until ``expires_at`` (``Event.pay_at_door_hold_hours``, at most the event's
    end).

    Idempotent: a replayed ``idempotency_key`` (or a second submit of a completed session) returns the
    same order. Locks the slot and the session row (so two submits of one session serialise), then the
    tiers (reserved → sold). The payment provider runs inside the transaction (built-in providers do no
    I/O): a decline raises ``PaymentDeclined`` and rolls everything back, the seats stay held.
    Raises Conflict (session expired / ended — the hold is released), ValidationError, PaymentDeclined.
    Schedules: the "order.confirmed" notification (outbox row in this transaction, delivery on commit).
    No availability broadcast: held → sold does not change what is available."""
    if session.tenant_id != tenant.id:
        raise NotFound()
    now = _now(now)
    # No idempotency look-up up front (one statement less per purchase): a replay of the same session
    # finds it completed under its lock and returns its order; a key already used elsewhere hits the
    # unique constraint, rolls back and returns that order (below).
    try:
        with _bounded_atomic():
            return _complete_locked(
                tenant=tenant,
                session_id=session.id,
                provider=provider,
                payment_details=payment_details or {},
                idempotency_key=idempotency_key,
                customer=customer,
                expected_total_cents=expected_total_cents,
                expected_currency=expected_currency,
                now=now,
            )
    except _Expired as expired:
        # Release now (reads already treat it as expired; this makes it durable), then tell the buyer.
        with _bounded_atomic():
            _end_session(session_id=expired.session_id, outcome="expire", now=now)
        raise Conflict(
            _("Your checkout time ran out and the tickets were released. Please start again.")
        ) from None
    except IntegrityError as error:
        if idempotency_key and "order_tenant_idempotency_key_unique" in str(error):
            return Order.objects.get(tenant=tenant, idempotency_key=idempotency_key)
        raise


def _complete_locked(
    *,
    tenant: Tenant,
    session_id: int,
    provider: str,
    payment_details: dict,
    idempotency_key: str,
    customer: Customer | None,
    now: datetime,
    expected_total_cents: int | None = None,
    expected_currency: str = "",
) -> Order:
    session, slot = _lock_session(session_id, with_customer=customer is None)
    if session.status == SessionStatus.COMPLETED:
        return Order.objects.get(session=session)
    if session.status != SessionStatus.ACTIVE:
        raise Conflict(_("This checkout has ended. Start again from the event page."))
    if session.expires_at <= now:
        raise _Expired(session.id)
    customer = customer or session.customer
    if customer is None:
        raise ValidationError(_("Tell us who the tickets are for first."))
    event = session.event
    items = list(session.items.select_related("tier"))
    quote = checkout_quote(session=session, lines=items)
    amounts = quote.amounts
    shown_other = (expected_total_cents is not None and expected_total_cents != amounts.total_cents) or (
        bool(expected_currency) and expected_currency != quote.currency
    )
    if shown_other or (not quote.honoured and expected_total_cents is None):
        raise PriceChanged(total_cents=amounts.total_cents, currency=quote.currency)
    payment_provider = get_provider(provider)
    if not payment_provider.is_available(total_cents=amounts.total_cents, tenant=tenant) or (
        payment_provider.name == "pay_at_door" and not event.pay_at_door_enabled
    ):
        raise ValidationError(
            _("That payment method cannot be used for this order."),
            field_errors={"provider": [_("Choose another payment method.")]},
        )
    if payment_provider.name == "pay_at_door":
        _check_unpaid_limit(
            event=event,
            customer=customer,
            session=session,
            adding=sum(item.quantity for item in items),
            now=now,
        )
    result = payment_provider.charge(
        amount_cents=amounts.total_cents, currency=quote.currency, details=payment_details
    )
    order = Order(
        tenant=tenant,
        event=event,
        customer=customer,
        session=session,
        subtotal_cents=amounts.subtotal_cents,
        fee_cents=amounts.fee_cents,
        tax_cents=amounts.tax_cents,
        total_cents=amounts.total_cents,
        currency=quote.currency,
        payment_provider=payment_provider.name,
        payment_reference=result.reference,
        idempotency_key=idempotency_key,
        buyer_name=session.buyer_name or customer.name,
        buyer_email=session.buyer_email or customer.email,
        buyer_phone=session.buyer_phone or customer.phone,
    )
    if result.paid:
        order.mark_paid()
        order.paid_at = now
    else:
        order.expires_at = min(now + timedelta(hours=event.pay_at_door_hold_hours), event.ends_at)
    order.save()
    payment_provider.after_order(order=order, result=result, details=payment_details, now=now)
    if order.status == OrderStatus.PAID:
        receipt_schedule(order)
    OrderItem.objects.bulk_create(
        [
            OrderItem(
                order=order,
                tier=item.tier,
                tier_name=item.tier.name,
                quantity=item.quantity,
                unit_price_cents=line_unit_price(item) if quote.honoured else item.tier.price_cents,
            )
            for item in items
        ]
    )
    tickets = IssuedTicket.objects.bulk_create(
        [
            IssuedTicket(tenant=tenant, order=order, tier=item.tier, event=event)
            for item in items
            for _ in range(item.quantity)
        ]
    )
    session.complete()
    session.ended_at = now
    if session.customer_id != customer.id:
        session.customer = customer
    checkout_sources.completing(session)  # the source's record of the purchase (ticketing.sources)
    session.save(update_fields=["status", "ended_at", "customer", "updated_at"])
    if slot is not None:
        CheckoutSlot.objects.filter(pk=slot.pk).update(session=None, held_until=None)
        # Held → sold leaves what is left unchanged, but a checkout place is free again: buyers waiting
        # for one (ticketing.views_wait) are let in by this broadcast (coalesced, built after commit).
        live_events.broadcast_availability(event.id, event.tenant_id)
    _notify_order_confirmed(
        order=order, tickets=tickets, now=now, method=payment_provider.method_label(payment_details)
    )
    if order.status == OrderStatus.PAID:
        emit(tenant=tenant, event_type="order.paid", resource=order, now=now)
    # Tier rows last (held → sold): their locks are then held only until the commit that follows.
    inventory.convert_to_sold({item.tier_id: item.quantity for item in items})
    return order


class PriceChanged(ValidationError):
    """The checkout would charge another total than the buyer was shown; they must see and confirm it."""

    code = "price_changed"

    def __init__(self, *, total_cents: int, currency: str) -> None:
        from core.money import format_money

        self.total_cents = total_cents
        self.currency = currency
        super().__init__(
            _(
                "The prices of this event changed since you opened the checkout. The total is now %(total)s. "
                "Check it and pay again to confirm."
            )
            % {"total": format_money(total_cents, currency)}
        )


def _check_unpaid_limit(
    *, event: Event, customer: Customer, session: CheckoutSession, adding: int, now: datetime
) -> None:
    """Unpaid (pay-at-the-door) tickets of the event, pending orders not yet expired plus this one: at most
    ``event.pay_at_door_max_per_buyer`` per buyer — counted by what a buyer cannot cheaply multiply as well
    as by the email typed: the customer, the checkout's browser (``holder_key``), its network address
    (``address_key``) and the signed-in account, whichever is most — and at most
    ``event.pay_at_door_max_outstanding`` for the whole event. Takes the event's pay-at-the-door advisory
    lock first, so two unpaid orders placed at once count one after the other."""
    advisory_lock([lock_key("pay-at-door", event.id)])
    unpaid = IssuedTicket.objects.filter(
        event=event,
        status=TicketStatus.VALID,
        order__status=OrderStatus.PENDING,
        order__expires_at__gt=now,
    )
    buyer = Q(order__customer=customer)
    if session.holder_key:
        buyer |= Q(order__session__holder_key=session.holder_key)
    if session.address_key:
        buyer |= Q(order__session__address_key=session.address_key)
    if session.user_id is not None:
        buyer |= Q(order__session__user_id=session.user_id)
    held = unpaid.filter(buyer).count()
    limit = event.pay_at_door_max_per_buyer
    if held + adding > limit:
        raise ValidationError(
            _(
                "You can reserve at most %(limit)s unpaid tickets for this event "
                "(you already hold %(held)s). Pay by card, or choose fewer tickets."
            )
            % {"limit": limit, "held": held},
            field_errors={
                "provider": [
                    ngettext(
                        "Pay at the door is limited to %(limit)s ticket per buyer.",
                        "Pay at the door is limited to %(limit)s tickets per buyer.",
                        limit,
                    )
                    % {"limit": limit}
                ]
            },
        )
    cap = event.pay_at_door_max_outstanding
    if cap is not None and unpaid.count() + adding > cap:
        raise ValidationError(
            _t(
                "Pay at the door is fully booked for this event: the organiser holds no more unpaid "
                "reservations. Pay by card instead."
            ),
            field_errors={"provider": [_t("No more pay-at-the-door reservations for this event.")]},
        )


@transaction.atomic(durable=True)
def order_link_send(*, order: Order, now: datetime | None = None) -> None:
    """Send the order's confirmation again (its page, its tickets and its receipt links) to the address it
    was bought with. This is what the tenant's reference lookup offers for an order reference: the
    reference is printed on receipts and read out at the door, so knowing it must not open the order page
    (its QR codes are the tickets) — the link goes to the buyer's mailbox instead. Raises NotFound for an
    order with no email address to send to, Conflict for a cancelled or refunded one (there is nothing to
    show at the door). Takes no locks; the message is written in this transaction (the outbox delivers it).
    The caller limits how often (per order and per address)."""
    now = now or timezone.now()
    if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        raise Conflict(_("That order was cancelled or refunded: it has no tickets to send."))
    if not (order.customer_id and order.customer.email):
        raise NotFound(_("That order has no email address to send its link to."))
    tickets = list(order.tickets.select_related("tier").order_by("pk"))
    _notify_order_confirmed(order=order, tickets=tickets, now=now, method=receipt_view(order).method)


def _notify_order_confirmed(
    *, order: Order, tickets: list[IssuedTicket], now: datetime, method: str = ""
) -> None:
    """Write the "order.confirmed" notification in this transaction (the outbox delivers it)."""
    try:
        from notifications.services import notify
    except ImportError:
        logger.info("notifications app not available; order %s confirmation not queued", order.reference)
        return

    with customer_language(order.customer):
        context = _order_confirmed_context(order=order, tickets=tickets, method=method)
    notify(
        tenant=order.tenant,
        event_type="order.confirmed",
        context=context,
        customer=order.customer,
        related=order,
        now=now,
    )


def _order_confirmed_context(*, order: Order, tickets: list[IssuedTicket], method: str) -> dict:
    """The confirmation email's texts, in the active language (the buyer's)."""
    from django.conf import settings

    from core.money import format_money

    event = order.event
    order_url = settings.SITE_URL + reverse(
        "ticketing_public:order", kwargs={"tenant_slug": order.tenant.slug, "token": order.access_token}
    )
    lines = [
        f"{ticket.tier.name}: "
        + settings.SITE_URL
        + reverse("ticketing_public:ticket", kwargs={"tenant_slug": order.tenant.slug, "code": ticket.code})
        for ticket in tickets
    ]
    status_line = (
        _("Paid.")
        if order.status == OrderStatus.PAID
        else _("Pay %(amount)s at the door.") % {"amount": format_money(order.total_cents, order.currency)}
    )
    total = format_money(order.total_cents, order.currency)
    place = {"event": event.title, "venue": event.venue_name, "city": event.venue_city}
    body = "\n".join(
        [
            _("Your tickets for %(event)s at %(venue)s, %(city)s.") % place,
            _("When: %(when)s") % {"when": format_zoned(event.starts_at, event.time_zone, "l j F Y, H:i")},
            _("Order %(reference)s, total %(total)s.") % {"reference": order.reference, "total": total}
            + " "
            + status_line,
            "",
            *money_lines(order, method=method),
            "",
            _("Your tickets (show the QR code at the door):"),
            *lines,
            "",
            _("Receipt: %(url)s") % {"url": f"{order_url}receipt/"},
        ]
    )
    return {
        "subject": _("Your tickets for %(event)s") % {"event": event.title},
        "headline": _("You're going to %(event)s!") % {"event": event.title},
        "body": body,
        "action_url": order_url,
        "action_label": _("See your tickets"),
    }


# --- orders ---------------------------------------------------------------------------------------


def _order_lock(tenant: Tenant, order: Order) -> Order:
    if order.tenant_id != tenant.id:
        raise NotFound()
    return Order.objects.select_for_update(of=("self",)).select_related("event").get(pk=order.pk)


def order_mark_paid(
    *, tenant: Tenant, actor: User | None, order: Order, now: datetime | None = None
) -> Order:
    """Pending (pay at the door) → paid. Locks the order row. Raises InvalidTransition (not pending, or its
    unpaid hold ran out: reads already gave its seats back, so it cannot be paid any more)."""
    now = _now(now)
    with transaction.atomic(durable=True):
        locked = _order_lock(tenant, order)
        if not django_fsm_can(locked.mark_paid):
            raise InvalidTransition(
                _("A %(status)s order cannot be marked paid.")
                % {"status": status_word(locked.get_status_display())}
            )
        if locked.is_expired_unpaid(now):
            raise InvalidTransition(
                _("This unpaid reservation expired and its seats went back on sale; it cannot be paid now.")
            )
        _mark_paid_locked(tenant, locked, now)
    return locked


def _mark_paid_locked(tenant: Tenant, order: Order, now: datetime) -> None:
    """Pending → paid on a locked order row; the webhook and the receipt follow (inside the caller's
    transaction; delivery on commit)."""
    order.mark_paid()
    order.paid_at = now
    order.save(update_fields=["status", "paid_at", "updated_at"])
    emit(tenant=tenant, event_type="order.paid", resource=order, now=now)
    receipt_schedule(order)


def _order_close(
    *, tenant: Tenant, order: Order, transition: str, now: datetime, notify_reason: str
) -> Order:
    with _bounded_atomic(
        gettext_lazy("Someone else is changing this order or its tickets right now. Please try again.")
    ):
        locked = _order_lock(tenant, order)
        method = getattr(locked, transition)
        if not django_fsm_can(method):
            status = status_word(locked.get_status_display())
            if transition == "cancel":
                message = _("A %(status)s order cannot be cancelled.") % {"status": status}
            else:
                message = _("A %(status)s order cannot be refunded.") % {"status": status}
            raise InvalidTransition(message)
        method()
        setattr(locked, "cancelled_at" if transition == "cancel" else "refunded_at", now)
        locked.save()
        # Seats of tickets not yet used go back on sale; used tickets stay counted as sold.
        returned: dict[int, int] = defaultdict(int)
        for ticket in IssuedTicket.objects.select_for_update().filter(
            order=locked, status=TicketStatus.VALID
        ):
            ticket.cancel()
            ticket.save(update_fields=["status", "updated_at"])
            returned[ticket.tier_id] += 1
        inventory.return_sold(dict(returned))
        _after_release(list(returned))
        emit(tenant=tenant, event_type=f"order.{locked.status}", resource=locked, now=now)
        if notify_reason:
            from ticketing.lifecycle import notify_order_closed

            notify_order_closed(order=locked, reason=notify_reason, now=now)
    return locked


def order_cancel(
    *,
    tenant: Tenant,
    actor: User | None,
    order: Order,
    now: datetime | None = None,
    notify_reason: str = "staff",
) -> Order:
    """Cancel an order (pending or paid): its valid tickets are cancelled and their seats return to the
    tiers; the buyer is told why (``notify_reason``: staff, event, unpaid; "" tells nobody). Locks order,
    then tickets, then tiers. Raises InvalidTransition, Busy. Schedules ``seats_released``."""
    return _order_close(
        tenant=tenant, order=order, transition="cancel", now=_now(now), notify_reason=notify_reason
    )


def order_refund(
    *,
    tenant: Tenant,
    actor: User | None,
    order: Order,
    now: datetime | None = None,
    notify_reason: str = "staff",
) -> Order:
    """Refund every remaining ticket of a paid order through its payment provider (see
    ``ticketing.payments.refunds.order_refund_tickets``: seats back, refund recorded, provider called
    after commit; it tells the buyer). ``notify_reason`` is accepted for symmetry with ``order_cancel``
    (an event's bulk refund passes "event"). Returns the order, refunded."""
    from ticketing.payments.refunds import order_refund_tickets

    order_refund_tickets(tenant=tenant, actor=actor, order=order, now=now)
    return Order.objects.get(pk=order.pk)


# --- check-in -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInResult:
    # admitted | unpaid | already_used | cancelled | event_cancelled | unpaid_expired | wrong_event |
    # not_found
    outcome: str
    ticket: IssuedTicket | None = None
    message: str = ""

    @property
    def admitted(self) -> bool:
        return self.outcome == "admitted"


def ticket_check_in(
    *,
    tenant: Tenant,
    actor: User | None,
    event: Event,
    code: str,
    payment_collected: bool = False,
    now: datetime | None = None,
) -> CheckInResult:
    """Scan a ticket at the door. ``code`` is the ticket code or the signed QR payload.

    A ticket of an unpaid (pay-at-the-door) order is not admitted like a paid one: the answer is
    ``unpaid`` with the amount to collect, and nothing changes. Scanned again with ``payment_collected``
    (the door took the money), its order is marked paid and the ticket admitted in one transaction.

    Locks the ticket row (``FOR UPDATE``): concurrent scans of one ticket serialise and exactly one is
    admitted; the others answer "already used at HH:MM". With ``payment_collected`` the order row is
    locked first (the house order: order, then its tickets). Never raises for a bad code (the answer
    says so)."""
    from ticketing.qr import code_from_scan

    now = _now(now)
    if event.tenant_id != tenant.id:
        raise NotFound()
    ticket_code = code_from_scan(code)
    if not ticket_code:
        return CheckInResult("not_found", message=_("Not a ticket we know."))
    with transaction.atomic(durable=True):
        order = None
        if payment_collected:
            order = (
                Order.objects.select_for_update(of=("self",))
                .filter(tenant=tenant, tickets__code=ticket_code)
                .first()
            )
        ticket = (
            IssuedTicket.objects.select_for_update(of=("self",))
            .select_related("order", "tier")
            .filter(tenant=tenant, code=ticket_code)
            .first()
        )
        if ticket is None:
            return CheckInResult("not_found", message=_("Not a ticket we know."))
        if ticket.event_id != event.id:
            return CheckInResult("wrong_event", ticket, _("This ticket is for another event."))
        if Event.objects.values_list("status", flat=True).get(pk=event.pk) == EventStatus.CANCELLED:
            from ticketing.lifecycle import CANCELLED_EVENT_ANSWER

            return CheckInResult("event_cancelled", ticket, str(CANCELLED_EVENT_ANSWER))
        if ticket.status == TicketStatus.VALID and ticket.order.is_expired_unpaid(now):
            return CheckInResult(
                "unpaid_expired",
                ticket,
                _("Unpaid reservation expired — its seats went back on sale. Do not admit."),
            )
        if ticket.status == TicketStatus.CANCELLED:
            return CheckInResult("cancelled", ticket, _("This ticket was cancelled."))
        if ticket.status == TicketStatus.USED:
            return CheckInResult("already_used", ticket, _("Already used."))
        if ticket.order.status == OrderStatus.PENDING:
            from core.money import format_money

            amount = format_money(ticket.order.total_cents, ticket.order.currency)
            if order is None:
                return CheckInResult(
                    "unpaid",
                    ticket,
                    _t("Not paid — collect %(amount)s (pay at the door), then admit.") % {"amount": amount},
                )
            _mark_paid_locked(tenant, order, now)
            ticket.order = order
        ticket.use()
        ticket.used_at = now
        ticket.used_by = actor
        ticket.save(update_fields=["status", "used_at", "used_by", "updated_at"])
        emit(tenant=tenant, event_type="checkin.recorded", resource=ticket, now=now)
    return CheckInResult("admitted", ticket, _("Valid — admit one."))
