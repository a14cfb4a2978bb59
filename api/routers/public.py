"""Public endpoints (no key): submit a ticket to a tenant's public queue, a ticket's status by its
reference, an event's live availability. Rate limited per client address (``API_PUBLIC_RATE_LIMIT``).
They show only what the public pages show: no customer details, no internal notes."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from api.routers.queues import EtaOut, TicketSubmitIn
from api.routers.ticketing import AvailabilityOut, availability_out
from api.schemas import responses
from core.errors import NotFound
from core.ratelimit import limit_submission
from queues import selectors as queue_selectors
from queues import services as queue_services
from queues.models import Phase, QueueKind
from tenants.access import get_public_tenant
from ticketing import selectors as ticketing_selectors

router = Router(tags=["public"])

SLUG = r"^[-a-zA-Z0-9_]+$"


class PublicTicketOut(Schema):
    reference: str
    tenant: str
    queue: str
    lane: str
    state: str
    phase: Phase
    position: int | None = Field(description="Place in the main line while waiting, else null.")
    eta: EtaOut | None
    expired: bool
    submitted_at: datetime


def public_ticket_out(ticket) -> dict:
    now = timezone.now()
    snapshot = queue_selectors.queue_snapshot(ticket.queue, rank_for=ticket)
    place, _rank = queue_selectors.ticket_position(ticket, snapshot)
    expired = ticket.is_expired(now)
    if expired:
        place = None
    eta = snapshot.eta(place) if place else None
    return {
        "reference": ticket.reference,
        "tenant": ticket.tenant.slug,
        "queue": ticket.queue.slug,
        "lane": ticket.lane.code,
        "state": ticket.state,
        "phase": ticket.phase,
        "position": place,
        "eta": (
            {"low_minutes": eta.low_minutes, "high_minutes": eta.high_minutes, "basis": eta.basis}
            if eta
            else None
        ),
        "expired": expired,
        "submitted_at": ticket.submitted_at,
    }


@router.post(
    "/{tenant_slug}/queues/{queue_slug}/tickets",
    response=responses(201, PublicTicketOut),
    auth=None,
    summary="Submit a ticket (public)",
)
def public_submit(
    request,
    payload: TicketSubmitIn,
    tenant_slug: str = Path(..., max_length=60, pattern=SLUG),
    queue_slug: str = Path(..., max_length=60, pattern=SLUG),
):
    """No key. Submit into a lane of a tenant's public queue, as the public form does (tip ≥ the lane's
    minimum, custom data valid against the type's schema). Keep the `reference` to check the status."""
    # The same per-address and per-email budget as the public form (the API's own 60 a minute is a
    # reading limit: a script could file thousands of requests an hour under it).
    limit_submission(request, "queue-submit", email=payload.email)
    tenant = get_public_tenant(tenant_slug)
    # Like the form page: an unlisted queue takes submissions by its direct address.
    queue = queue_selectors.linkable_queues(tenant).filter(slug=queue_slug).first()
    if queue is None:
        raise NotFound(_("There is no queue at this address."))
    lane = queue.lanes.filter(code=payload.lane).first()
    if lane is None:
        raise NotFound(_("There is no such lane in this queue."))
    ticket = queue_services.ticket_submit(
        tenant=tenant, queue=queue, lane=lane, **payload.model_dump(exclude={"lane"})
    )
    return Status(201, public_ticket_out(queue_selectors.ticket_for_status(ticket.reference)))


@router.get(
    "/tickets/{reference}", response=responses(200, PublicTicketOut), auth=None, summary="Ticket status"
)
def public_status(request, reference: str = Path(..., max_length=40)):
    """No key. A queue ticket's state, place in line and ETA by its reference (any spelling)."""
    ticket = queue_selectors.ticket_for_status(reference)
    if ticket.queue.kind == QueueKind.SUPPORT:
        # Help-desk tickets have a conversation, not a place in line (their own page shows it).
        raise NotFound(_("There is no ticket with that reference number. Check it and try again."))
    return public_ticket_out(ticket)


@router.get(
    "/{tenant_slug}/events/{event_slug}/availability",
    response=responses(200, AvailabilityOut),
    auth=None,
    summary="Event availability (public)",
)
def public_availability(
    request,
    tenant_slug: str = Path(..., max_length=60, pattern=SLUG),
    event_slug: str = Path(..., max_length=80, pattern=SLUG),
):
    """No key. Seats available per tier of a published event."""
    tenant = get_public_tenant(tenant_slug)
    return availability_out(ticketing_selectors.event_for_public(tenant, event_slug))
