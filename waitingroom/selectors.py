"""Waiting-room reads. Expiry is decided here from the clock (never by waiting for the scheduler): a
waiting entry not seen for the room's ``unseen_minutes`` and an admission past its window are treated as
expired by every read; the admission pass only makes that durable."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from core.errors import NotFound
from queues import eta
from ticketing.models import CheckoutSession, Event, EventStatus, SessionSource, SessionStatus
from waitingroom import positions, seen
from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry

RATE_WINDOW_MINUTES = 15


def room_for_event(event: Event) -> WaitingRoom | None:
    return WaitingRoom.objects.filter(event=event).first()


def entry_for_public_or_none(tenant, token: str) -> WaitingRoomEntry | None:
    return (
        WaitingRoomEntry.objects.for_tenant(tenant)
        .select_related("event", "event__waiting_room", "customer", "user")
        .filter(token=token)
        .first()
    )


def entry_for_public(tenant, token: str) -> WaitingRoomEntry:
    entry = entry_for_public_or_none(tenant, token)
    if entry is None:
        raise NotFound(_("We could not find this place in line. Check the link or join again."))
    return entry


def is_open(room: WaitingRoom, now: datetime) -> bool:
    opens = room.effective_opens_at()
    return opens is None or opens <= now


def ahead_count(entry: WaitingRoomEntry) -> int:
    """Waiting entries before this one, at constant cost (checkpoints: ``waitingroom.positions``)."""
    return positions.ahead_count(entry.event_id, entry.number)


def admission_rate(event_id: int, now: datetime | None = None) -> float:
    """Admissions per minute over the last ``RATE_WINDOW_MINUTES`` (0.0 when nobody was admitted)."""
    now = now or timezone.now()
    admitted = WaitingRoomEntry.objects.filter(
        event_id=event_id, admitted_at__gt=now - timedelta(minutes=RATE_WINDOW_MINUTES)
    ).count()
    return round(admitted / RATE_WINDOW_MINUTES, 2)


def eta_minutes(ahead: int, rate: float) -> int | None:
    """Minutes until one's turn at the observed rate; None when no rate is known yet."""
    if rate <= 0:
        return None
    return max(1, math.ceil((ahead + 1) / rate))


def eta_forecast(ahead: int, rate: float, calibration: dict | None = None):
    """The range shown for one's turn (``queues.eta``: recalibrated once the room has enough history),
    in whole minutes; None when no admission rate is known yet."""
    if rate <= 0:
        return None
    shown = eta.forecast(position=ahead + 1, average_seconds=60.0 / rate, state=calibration)
    return eta.rounded(shown) if shown else None


@dataclass(frozen=True)
class EtaShown:
    """The ETA a place shows: its words and the range behind them (what gets scored)."""

    text: str
    forecast: eta.Forecast | None
    calibrated: bool


def eta_shown(ahead: int, state: Mapping) -> EtaShown:
    """THE estimate for a place in line, the same on the place page, its live socket and the API.

    ``state`` is ``room_state(...)`` or a ``waitingroom.moved`` payload (both carry the room's admission
    ``rate`` and its ``calibration`` bounds), so every surface uses the recalibrated range once the room
    has enough history, and the fixed margin before."""
    shown = eta_forecast(ahead, state["rate"], state.get("calibration"))
    if shown is None:
        return EtaShown(gettext("Not known yet: nobody has been let in in the last 15 minutes."), None, False)
    text = eta.minutes_text(shown.low_seconds, shown.high_seconds)
    return EtaShown(text[0].upper() + text[1:], shown, shown.calibrated)


def room_state(event_id: int, now: datetime | None = None) -> dict:
    event = Event.objects.only("status").get(pk=event_id)
    paused, calibration = WaitingRoom.objects.filter(event_id=event_id).values_list(
        "admission_paused", "eta_calibration"
    ).first() or (False, None)
    return {
        "rate": admission_rate(event_id, now),
        "sold_out": event.status == EventStatus.SOLD_OUT,
        "paused": bool(paused),
        "calibration": eta.calibration_bounds(calibration),
    }


def entry_session(entry: WaitingRoomEntry) -> CheckoutSession | None:
    """The newest checkout session this entry's admission opened."""
    return (
        CheckoutSession.objects.filter(
            event_id=entry.event_id,
            source=SessionSource.WAITING_ROOM,
            source_reference=entry.source_reference,
        )
        .order_by("-created_at")
        .first()
    )


def last_seen(entry: WaitingRoomEntry) -> datetime:
    pending = seen.seen_at(entry.event_id, entry.pk)
    return max(entry.last_seen_at, pending) if pending else entry.last_seen_at


def effective_status(entry: WaitingRoomEntry, room: WaitingRoom, now: datetime) -> str:
    """The entry's status as of ``now``, whether or not the beat task has caught up."""
    if entry.status == EntryStatus.WAITING:
        if last_seen(entry) < now - timedelta(minutes=room.unseen_minutes):
            return EntryStatus.EXPIRED
    elif entry.status == EntryStatus.ADMITTED:
        session = entry_session(entry)
        if session is not None and session.status == SessionStatus.COMPLETED:
            return EntryStatus.COMPLETED
        if entry.expires_at <= now and not (session is not None and session.is_live(now)):
            return EntryStatus.EXPIRED
    return entry.status


def live_entry_for(*, event: Event, user=None, customer=None) -> WaitingRoomEntry | None:
    person = Q(user=user) if user is not None else Q(customer=customer)
    return (
        WaitingRoomEntry.objects.filter(
            person, event=event, status__in=[EntryStatus.WAITING, EntryStatus.ADMITTED]
        ).first()  # at most one: the partial unique index finds it
    )


@dataclass
class StaffCounts:
    waiting: int
    prequeue: int
    admitted: int
    in_checkout: int
    completed: int
    expired: int
    left: int
    rate: float


def staff_counts(event: Event, now: datetime | None = None) -> StaffCounts:
    """Live counts for the staff page: two queries (entries by status, live waiting-room sessions)."""
    now = now or timezone.now()
    counts = WaitingRoomEntry.objects.filter(event=event).aggregate(
        waiting=Count("pk", filter=Q(status=EntryStatus.WAITING)),
        prequeue=Count("pk", filter=Q(status=EntryStatus.WAITING, prequeue=True)),
        admitted=Count("pk", filter=Q(status=EntryStatus.ADMITTED)),
        completed=Count("pk", filter=Q(status=EntryStatus.COMPLETED)),
        expired=Count("pk", filter=Q(status=EntryStatus.EXPIRED)),
        left=Count("pk", filter=Q(status=EntryStatus.LEFT)),
        recent=Count("pk", filter=Q(admitted_at__gt=now - timedelta(minutes=RATE_WINDOW_MINUTES))),
    )
    in_checkout = CheckoutSession.objects.filter(
        event=event, source=SessionSource.WAITING_ROOM, status=SessionStatus.ACTIVE, expires_at__gt=now
    ).count()
    return StaffCounts(
        waiting=counts["waiting"],
        prequeue=counts["prequeue"],
        admitted=max(0, counts["admitted"] - in_checkout),
        in_checkout=in_checkout,
        completed=counts["completed"],
        expired=counts["expired"],
        left=counts["left"],
        rate=round(counts["recent"] / RATE_WINDOW_MINUTES, 2),
    )


def rooms_for_tenant(tenant):
    return (
        WaitingRoom.objects.for_tenant(tenant)
        .select_related("event")
        .annotate(
            waiting=Count(
                "event__waiting_room_entries", filter=Q(event__waiting_room_entries__status="waiting")
            )
        )
        .order_by("event__starts_at")
    )
