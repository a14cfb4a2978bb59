"""Waiting room (join, position, leave) and waitlists (join, read, withdraw, offer now). Thin over
``waitingroom`` and ``waitlists`` services and selectors.

A key acts for a trusted integrator (a box office, a kiosk): it names the person by email and the
customer is found or created for it, where the public pages first verify the address by email.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.conf import settings
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status

from api.auth import READ, WRITE
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from api.schemas import ERROR_CODES, Email, Problem
from core.tenancy import get_for_tenant
from queues.accuracy import note_shown
from tenants.services import customer_upsert
from ticketing.models import Event, TicketTier
from waitingroom import seen
from waitingroom import selectors as room_selectors
from waitingroom import services as room_services
from waitingroom.models import EntryStatus as RoomStatus
from waitingroom.models import WaitingRoomEntry
from waitlists import selectors as waitlist_selectors
from waitlists import services as waitlist_services
from waitlists.models import EntryStatus as WaitlistStatus
from waitlists.models import WaitlistEntry

# Both apps call their enum EntryStatus; the document names schemas by class, so spell them out here.
RoomEntryStatus = Literal["waiting", "admitted", "completed", "expired", "left"]
WaitlistEntryStatus = Literal["waiting", "offered", "claimed", "declined", "expired", "withdrawn"]
assert set(RoomEntryStatus.__args__) == set(RoomStatus.values)
assert set(WaitlistEntryStatus.__args__) == set(WaitlistStatus.values)

waiting_room_router = Router(tags=["waiting room"])
waitlist_router = Router(tags=["waitlists"])

BIG = 2**62


class PersonIn(Schema):
    email: Email
    name: str = Field("", max_length=200)


class RoomEntryOut(Schema):
    token: str
    event_id: int
    status: RoomEntryStatus
    number: int
    position: int | None = Field(description="1 = next in; null unless waiting (and drawn, before opening).")
    eta: str | None
    admission_token: str | None = Field(
        description="While admitted: pass it as `admission` to POST /checkouts."
    )
    admission_expires_at: datetime | None
    checkout_token: str | None
    joined_at: datetime


class WaitlistJoinIn(PersonIn):
    event_id: int = Field(..., ge=1, le=BIG)
    tier_id: int | None = Field(None, ge=1, le=BIG, description="Null: any tier with enough seats.")
    quantity: int = Field(1, ge=1, le=100)


class WaitlistEntryOut(Schema):
    id: int
    event_id: int
    tier_id: int | None
    quantity: int
    status: WaitlistEntryStatus
    position: int | None = Field(description="1 = next; null unless waiting.")
    email: str
    offered_tier_id: int | None
    offer_expires_at: datetime | None
    offer_url: str | None = Field(description="The person's claim link while an offer is open.")
    created_at: datetime


class WaitlistPage(Schema):
    items: list[WaitlistEntryOut]
    next_cursor: str | None


class WaitlistFilters(Schema):
    event_id: int | None = Field(None, ge=1, le=BIG)
    status: WaitlistEntryStatus | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def room_entry_out(entry: WaitingRoomEntry) -> dict:
    now = timezone.now()
    room = entry.event.waiting_room
    status = room_selectors.effective_status(entry, room, now)
    position = eta = admission = checkout = None
    if status == RoomStatus.WAITING and not (entry.prequeue and room.shuffled_at is None):
        ahead = room_selectors.ahead_count(entry)
        position = ahead + 1
        # The same estimate as the place page and its socket (recalibrated), noted for its accuracy.
        shown = room_selectors.eta_shown(ahead, room_selectors.room_state(entry.event_id, now))
        eta = shown.text
        note_shown(
            scope="room",
            scope_id=entry.event_id,
            tenant_id=entry.tenant_id,
            item_id=entry.pk,
            forecast=shown.forecast,
        )
    if status == RoomStatus.ADMITTED:
        session = room_selectors.entry_session(entry)
        if session is not None and session.is_live(now):
            checkout = session.token
        else:
            admission = room_services.admission_token(entry, now)
    return {
        "token": entry.token,
        "event_id": entry.event_id,
        "status": status,
        "number": entry.number,
        "position": position,
        "eta": eta,
        "admission_token": admission,
        "admission_expires_at": entry.expires_at if status == RoomStatus.ADMITTED else None,
        "checkout_token": checkout,
        "joined_at": entry.joined_at,
    }


def _room_entry(tenant, token: str) -> WaitingRoomEntry:
    return room_selectors.entry_for_public(tenant, token)


def waitlist_out(entry: WaitlistEntry) -> dict:
    offered = entry.status == WaitlistStatus.OFFERED
    return {
        "id": entry.id,
        "event_id": entry.event_id,
        "tier_id": entry.tier_id,
        "quantity": entry.quantity,
        "status": entry.status,
        "position": waitlist_selectors.entry_position(entry),
        "email": entry.customer.email,
        "offered_tier_id": entry.offered_tier_id if offered else None,
        "offer_expires_at": entry.offer_expires_at if offered else None,
        "offer_url": settings.SITE_URL + waitlist_services.offer_url(entry) if offered else None,
        "created_at": entry.created_at,
    }


def _waitlist_entries(tenant):
    return WaitlistEntry.objects.for_tenant(tenant).select_related("customer", "event__tenant")


def _waitlist_entry(tenant, entry_id: int) -> WaitlistEntry:
    return get_for_tenant(_waitlist_entries(tenant), tenant, pk=entry_id)


# --- waiting room ---------------------------------------------------------------------------------


@waiting_room_router.post(
    "/events/{event_id}/entries",
    response={200: RoomEntryOut, 201: RoomEntryOut, ERROR_CODES: Problem},
    auth=WRITE,
    summary="Join a waiting room",
)
def join_room(request, payload: PersonIn, event_id: int = Path(..., ge=1, le=BIG)):
    """Scope `write`. Put a person (by email) in the event's waiting room: 201 with a new place, 200 with
    the place they already hold. During the rejoin cooldown, or with no open room: 409."""
    principal = request.auth
    event = get_for_tenant(Event, principal.tenant, pk=event_id)
    customer = customer_upsert(tenant=principal.tenant, email=payload.email, name=payload.name)
    entry, created = room_services.waiting_room_join(tenant=principal.tenant, event=event, customer=customer)
    return Status(201 if created else 200, room_entry_out(_room_entry(principal.tenant, entry.token)))


@waiting_room_router.get(
    "/entries/{token}",
    response={200: RoomEntryOut, ERROR_CODES: Problem},
    auth=READ,
    summary="A place in line",
)
def read_room_entry(request, token: str = Path(..., max_length=40)):
    """Scope `read`. Status, position and ETA; once admitted, the admission token for checkout. Reading
    counts as being seen (like the waiting page's heartbeat), so a polling kiosk keeps its place."""
    entry = _room_entry(request.auth.tenant, token)
    seen.mark_seen(entry.event_id, entry.pk)
    return room_entry_out(entry)


@waiting_room_router.post(
    "/entries/{token}/leave", response={200: RoomEntryOut, ERROR_CODES: Problem}, auth=WRITE, summary="Leave"
)
def leave_room(request, token: str = Path(..., max_length=40)):
    """Scope `write`. Give the place up (the rejoin cooldown starts). Idempotent."""
    principal = request.auth
    entry = _room_entry(principal.tenant, token)
    room_services.waiting_room_leave(tenant=principal.tenant, entry=entry)
    return room_entry_out(_room_entry(principal.tenant, token))


# --- waitlists ------------------------------------------------------------------------------------


@waitlist_router.get(
    "", response={200: WaitlistPage, ERROR_CODES: Problem}, auth=READ, summary="List entries"
)
def list_waitlist(request, filters: Query[WaitlistFilters]):
    """Scope `read`. In join order; filter by `event_id`, `status`."""
    entries = _waitlist_entries(request.auth.tenant)
    if filters.event_id:
        entries = entries.filter(event_id=filters.event_id)
    if filters.status:
        entries = entries.filter(status=filters.status)
    page = paginate(entries, cursor=filters.cursor, limit=filters.limit)
    return {"items": [waitlist_out(entry) for entry in page["items"]], "next_cursor": page["next_cursor"]}


@waitlist_router.post(
    "",
    response={200: WaitlistEntryOut, 201: WaitlistEntryOut, ERROR_CODES: Problem},
    auth=WRITE,
    summary="Join a waitlist",
)
def join_waitlist(request, payload: WaitlistJoinIn):
    """Scope `write`. Put a person on a sold-out event's waitlist: 201 new, 200 already waiting. When the
    seats can be bought now, or the waitlist is off: 409."""
    principal = request.auth
    event = get_for_tenant(Event, principal.tenant, pk=payload.event_id)
    tier = (
        get_for_tenant(TicketTier, principal.tenant, pk=payload.tier_id, event=event)
        if payload.tier_id
        else None
    )
    entry, created = waitlist_services.waitlist_join(
        tenant=principal.tenant,
        event=event,
        email=payload.email,
        name=payload.name,
        quantity=payload.quantity,
        tier=tier,
        actor=principal.actor,
    )
    return Status(201 if created else 200, waitlist_out(_waitlist_entry(principal.tenant, entry.pk)))


@waitlist_router.get(
    "/{entry_id}", response={200: WaitlistEntryOut, ERROR_CODES: Problem}, auth=READ, summary="Read an entry"
)
def read_waitlist_entry(request, entry_id: int = Path(..., ge=1, le=BIG)):
    """Scope `read`. Status, place in line, and the open offer."""
    return waitlist_out(_waitlist_entry(request.auth.tenant, entry_id))


@waitlist_router.post(
    "/{entry_id}/withdraw",
    response={200: WaitlistEntryOut, ERROR_CODES: Problem},
    auth=WRITE,
    summary="Withdraw",
)
def withdraw_waitlist_entry(request, entry_id: int = Path(..., ge=1, le=BIG)):
    """Scope `write`. Leave the waitlist (an open offer's seats go to the next people). 409 once closed."""
    principal = request.auth
    entry = _waitlist_entry(principal.tenant, entry_id)
    waitlist_services.waitlist_withdraw(tenant=principal.tenant, entry=entry, actor=principal.actor)
    return waitlist_out(_waitlist_entry(principal.tenant, entry_id))


@waitlist_router.post(
    "/{entry_id}/offer",
    response={200: WaitlistEntryOut, ERROR_CODES: Problem},
    auth=WRITE,
    summary="Offer now",
)
def offer_waitlist_entry(request, entry_id: int = Path(..., ge=1, le=BIG)):
    """Scope `write`. Offer free seats to this waiting entry now, ahead of its turn (the person is told).
    No single tier with enough free seats: 409 `sold_out`; not waiting: 409."""
    principal = request.auth
    entry = _waitlist_entry(principal.tenant, entry_id)
    waitlist_services.waitlist_offer_now(tenant=principal.tenant, actor=principal.actor, entry=entry)
    return waitlist_out(_waitlist_entry(principal.tenant, entry_id))
