"""Queues and lanes; queue tickets (submit, read by reference, list with filters, transitions as
actions, comments); ticket types (create, update, read — workflow and schema validated by the service).

Help-desk (support) queues and their tickets are served by ``api.routers.support`` (the help desk's scope
rules apply there); here they are not listed and their tickets answer 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from api.auth import READ, WRITE
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from api.schemas import responses
from core.errors import NotFound, ValidationError
from core.references import normalize_reference
from core.tenancy import get_for_tenant
from queues import selectors, services
from queues import workflow as wf
from queues.models import Phase, Queue, QueueKind, Ticket, TicketComment, TicketType
from queues.schema_forms import MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH
from tenants.models import Role

queues_router = Router(tags=["queues"])
tickets_router = Router(tags=["queue tickets"])
types_router = Router(tags=["ticket types"])

BIG = 2**62


# --- schemas --------------------------------------------------------------------------------------


class LaneOut(Schema):
    id: int
    code: str
    name: str
    weight: int
    minimum_tip_cents: int
    enabled: bool
    now_serving: int | None
    waiting_count: int


class QueueOut(Schema):
    id: int
    slug: str
    name: str
    kind: str
    enabled: bool
    is_public: bool
    time_zone: str
    ticket_type_id: int
    lanes: list[LaneOut]


class QueuePage(Schema):
    items: list[QueueOut]
    next_cursor: str | None


class EtaOut(Schema):
    low_minutes: int
    high_minutes: int
    basis: str


class TicketOut(Schema):
    reference: str
    queue_id: int
    lane: str
    state: str
    phase: Phase
    title: str
    need_text: str
    custom_data: dict[str, Any]
    tip_cents: int
    currency: str
    priority: str
    turn_number: int | None
    customer_name: str
    customer_email: str
    assignee_id: int | None
    submitted_at: datetime
    expires_at: datetime | None
    expired: bool
    available_actions: list[str] = Field(description="Workflow events that can be applied now.")


class TicketDetailOut(TicketOut):
    position: int | None = Field(description="Place in the main line while waiting, else null.")
    eta: EtaOut | None


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class TicketSubmitIn(Schema):
    lane: str = Field(..., min_length=1, max_length=40, description="Lane code (e.g. personal, priority).")
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    title: str = Field("", max_length=200)
    need_text: str = Field("", max_length=5000)
    custom_data: dict[str, Any] = Field(default_factory=dict)
    tip_cents: int = Field(0, ge=0, le=10_000_000)
    email_consent: bool = False


class TransitionIn(Schema):
    event: str = Field(..., min_length=1, max_length=50, description="A workflow event (approve, start …).")
    note: str = Field("", max_length=2000)


class CommentIn(Schema):
    body: str = Field(..., min_length=1, max_length=10_000)
    internal: bool = Field(False, description="Only members see internal comments.")


class CommentOut(Schema):
    id: int
    body: str
    internal: bool
    author: str
    created_at: datetime
    edited_at: datetime | None


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


class TicketTypeOut(Schema):
    id: int
    code: str
    name: str
    description: str
    system: bool
    workflow: dict[str, Any]
    custom_fields_schema: dict[str, Any]
    ttl_minutes: int | None
    version: int


class TicketTypePage(Schema):
    items: list[TicketTypeOut]
    next_cursor: str | None


class TicketTypeIn(Schema):
    code: str = Field(..., min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    workflow: dict[str, Any]
    custom_fields_schema: dict[str, Any] = Field(default_factory=dict)
    ttl_minutes: int | None = Field(None, ge=1, le=525_600)


class TicketTypeUpdateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    workflow: dict[str, Any]
    custom_fields_schema: dict[str, Any] = Field(default_factory=dict)
    ttl_minutes: int | None = Field(None, ge=1, le=525_600)


class TicketFilters(Schema):
    queue_id: int | None = Field(None, ge=1, le=BIG)
    state: str | None = Field(None, max_length=50)
    phase: Phase | None = None
    lane: str | None = Field(None, max_length=40, description="Lane code.")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- shaping --------------------------------------------------------------------------------------


def lane_out(lane) -> dict:
    return {field: getattr(lane, field) for field in LaneOut.model_fields}


def queue_out(queue: Queue) -> dict:
    lanes = sorted(queue.lanes.all(), key=lambda lane: (lane.display_order, lane.id))
    return {
        **{field: getattr(queue, field) for field in QueueOut.model_fields if field != "lanes"},
        "lanes": [lane_out(lane) for lane in lanes],
    }


def ticket_out(ticket: Ticket, now=None) -> dict:
    now = now or timezone.now()
    return {
        "reference": ticket.reference,
        "queue_id": ticket.queue_id,
        "lane": ticket.lane.code,
        "state": ticket.state,
        "phase": ticket.phase,
        "title": ticket.title,
        "need_text": ticket.need_text,
        "custom_data": ticket.custom_data or {},
        "tip_cents": ticket.tip_cents,
        "currency": ticket.currency,
        "priority": ticket.priority,
        "turn_number": ticket.turn_number,
        # The contact this ticket was submitted with (not the shared customer record).
        "customer_name": ticket.contact_name,
        "customer_email": ticket.contact_email,
        "assignee_id": ticket.assignee_id,
        "submitted_at": ticket.submitted_at,
        "expires_at": ticket.expires_at,
        "expired": ticket.is_expired(now),
        "available_actions": [t.name for t in ticket.ticket_type.machine.allowed(ticket.state)],
    }


def ticket_detail(ticket: Ticket) -> dict:
    now = timezone.now()
    data = ticket_out(ticket, now)
    snapshot = selectors.queue_snapshot(ticket.queue, rank_for=ticket)
    place, _rank = selectors.ticket_position(ticket, snapshot)
    if data["expired"]:
        place = None
    eta = snapshot.eta(place) if place else None
    data["position"] = place
    data["eta"] = (
        {"low_minutes": eta.low_minutes, "high_minutes": eta.high_minutes, "basis": eta.basis}
        if eta
        else None
    )
    return data


def comment_out(comment: TicketComment) -> dict:
    author = comment.author_user or comment.author_customer
    name = ""
    if author is not None:
        name = getattr(author, "name", "") or getattr(author, "email", "")
    return {
        "id": comment.id,
        "body": comment.body,
        "internal": comment.is_internal,
        "author": name,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
    }


def type_out(ticket_type: TicketType) -> dict:
    return {
        "id": ticket_type.id,
        "code": ticket_type.code,
        "name": ticket_type.name,
        "description": ticket_type.description,
        "system": ticket_type.is_system,
        "workflow": ticket_type.workflow,
        "custom_fields_schema": ticket_type.custom_fields_schema or {},
        "ttl_minutes": ticket_type.ttl_minutes,
        "version": ticket_type.version,
    }


def _queues(tenant):
    return Queue.objects.for_tenant(tenant).exclude(kind=QueueKind.SUPPORT).prefetch_related("lanes")


def _queue(tenant, queue_id: int) -> Queue:
    return get_for_tenant(_queues(tenant), tenant, pk=queue_id)


def _tickets(tenant):
    return (
        Ticket.objects.for_tenant(tenant)
        .exclude(queue__kind=QueueKind.SUPPORT)
        .select_related("queue", "lane", "ticket_type", "customer")
    )


def _ticket(tenant, reference: str) -> Ticket:
    normalized = normalize_reference(reference)
    if normalized is None:
        raise NotFound(_("There is no ticket with that reference."))
    return get_for_tenant(_tickets(tenant), tenant, reference=normalized)


def _check_json_shape(field: str, value: dict, *, max_depth: int, max_bytes: int) -> None:
    problem = wf.json_shape_problem(value, max_depth=max_depth, max_bytes=max_bytes)
    if problem:
        message = _("This JSON is %(problem)s.") % {"problem": problem}
        raise ValidationError(message, field_errors={field: [message]})


# --- queues ---------------------------------------------------------------------------------------


@queues_router.get("", response=responses(200, QueuePage), auth=READ, summary="List queues")
def list_queues(request, page: Query[PageQuery]):
    """Scope `read`. Creator and service queues with their lanes (help-desk queues: `/support/queues`)."""
    result = paginate(_queues(request.auth.tenant), cursor=page.cursor, limit=page.limit)
    return {"items": [queue_out(queue) for queue in result["items"]], "next_cursor": result["next_cursor"]}


@queues_router.get("/{queue_id}", response=responses(200, QueueOut), auth=READ, summary="Read a queue")
def read_queue(request, queue_id: int = Path(..., ge=1, le=BIG)):
    """Scope `read`. One queue with its lanes (now serving, waiting counts)."""
    return queue_out(_queue(request.auth.tenant, queue_id))


@queues_router.post(
    "/{queue_id}/tickets", response=responses(201, TicketDetailOut), auth=WRITE, summary="Submit a ticket"
)
def submit_ticket(request, payload: TicketSubmitIn, queue_id: int = Path(..., ge=1, le=BIG)):
    """Scope `write`. Submit a ticket into a lane (a member submitting for someone, e.g. at a kiosk).
    Custom data is validated against the ticket type's JSON Schema (422 with field errors)."""
    principal = request.auth
    queue = _queue(principal.tenant, queue_id)
    lane = get_for_tenant(queue.lanes.all(), principal.tenant, code=payload.lane)
    ticket = services.ticket_submit(
        tenant=principal.tenant,
        queue=queue,
        lane=lane,
        actor=principal.actor,
        **payload.model_dump(exclude={"lane"}),
    )
    return Status(201, ticket_detail(_ticket(principal.tenant, ticket.reference)))


# --- queue tickets --------------------------------------------------------------------------------


@tickets_router.get("", response=responses(200, TicketPage), auth=READ, summary="List queue tickets")
def list_tickets(request, filters: Query[TicketFilters]):
    """Scope `read`. In submission order; filter by `queue_id`, `state`, `phase`, `lane` code."""
    tickets = _tickets(request.auth.tenant)
    if filters.queue_id:
        tickets = tickets.filter(queue_id=filters.queue_id)
    if filters.state:
        tickets = tickets.filter(state=filters.state)
    if filters.phase:
        tickets = tickets.filter(phase=filters.phase)
    if filters.lane:
        tickets = tickets.filter(lane__code=filters.lane)
    page = paginate(tickets, cursor=filters.cursor, limit=filters.limit)
    now = timezone.now()
    return {
        "items": [ticket_out(ticket, now) for ticket in page["items"]],
        "next_cursor": page["next_cursor"],
    }


@tickets_router.get(
    "/{reference}", response=responses(200, TicketDetailOut), auth=READ, summary="Read a ticket"
)
def read_ticket(request, reference: str = Path(..., max_length=40)):
    """Scope `read`. One ticket by its reference, with its place in line and ETA while waiting."""
    return ticket_detail(_ticket(request.auth.tenant, reference))


@tickets_router.post(
    "/{reference}/transitions",
    response=responses(200, TicketDetailOut),
    auth=WRITE,
    summary="Apply a transition",
)
def transition_ticket(request, payload: TransitionIn, reference: str = Path(..., max_length=40)):
    """Scope `write`. Apply a workflow event (see `available_actions`). Not allowed now → 409
    `invalid_transition`; a reason required → 422."""
    principal = request.auth
    ticket = _ticket(principal.tenant, reference)
    services.ticket_transition(
        tenant=principal.tenant, actor=principal.actor, ticket=ticket, event=payload.event, note=payload.note
    )
    return ticket_detail(_ticket(principal.tenant, reference))


@tickets_router.get(
    "/{reference}/comments",
    response=responses(200, CommentPage),
    auth=READ,
    summary="List a ticket's comments",
)
def list_comments(request, page: Query[PageQuery], reference: str = Path(..., max_length=40)):
    """Scope `read`. Oldest first, internal ones included (keys act for members)."""
    ticket = _ticket(request.auth.tenant, reference)
    comments = TicketComment.objects.for_tenant(request.auth.tenant).filter(ticket=ticket)
    result = paginate(
        comments.select_related("author_user", "author_customer"), cursor=page.cursor, limit=page.limit
    )
    return {"items": [comment_out(c) for c in result["items"]], "next_cursor": result["next_cursor"]}


@tickets_router.post(
    "/{reference}/comments", response=responses(201, CommentOut), auth=WRITE, summary="Comment on a ticket"
)
def add_comment(request, payload: CommentIn, reference: str = Path(..., max_length=40)):
    """Scope `write`. A public or internal comment by the key's member."""
    principal = request.auth
    ticket = _ticket(principal.tenant, reference)
    comment = services.ticket_comment_add(
        tenant=principal.tenant,
        ticket=ticket,
        body=payload.body,
        actor=principal.actor,
        is_internal=payload.internal,
    )
    return Status(201, comment_out(comment))


# --- ticket types ---------------------------------------------------------------------------------


def _types(tenant):
    return TicketType.objects.available_to(tenant)


@types_router.get("", response=responses(200, TicketTypePage), auth=READ, summary="List ticket types")
def list_types(request, page: Query[PageQuery]):
    """Scope `read`. The system types and the tenant's own."""
    result = paginate(_types(request.auth.tenant), cursor=page.cursor, limit=page.limit)
    return {"items": [type_out(t) for t in result["items"]], "next_cursor": result["next_cursor"]}


@types_router.get(
    "/{type_id}", response=responses(200, TicketTypeOut), auth=READ, summary="Read a ticket type"
)
def read_type(request, type_id: int = Path(..., ge=1, le=BIG)):
    """Scope `read`."""
    ticket_type = _types(request.auth.tenant).filter(pk=type_id).first()
    if ticket_type is None:
        raise NotFound()
    return type_out(ticket_type)


@types_router.post("", response=responses(201, TicketTypeOut), auth=WRITE, summary="Create a ticket type")
def create_type(request, payload: TicketTypeIn):
    """Scope `write`, manager role. The workflow (javascript-state-machine JSON with phases) and the
    custom-field JSON Schema are validated; errors name the bad state, transition or field (422)."""
    principal = request.auth
    principal.require_role(Role.MANAGER)
    _check_json_shape(
        "workflow", payload.workflow, max_depth=wf.MAX_WORKFLOW_DEPTH, max_bytes=wf.MAX_WORKFLOW_BYTES
    )
    _check_json_shape(
        "custom_fields_schema",
        payload.custom_fields_schema,
        max_depth=MAX_SCHEMA_DEPTH,
        max_bytes=MAX_SCHEMA_BYTES,
    )
    ticket_type = services.ticket_type_save(
        tenant=principal.tenant, actor=principal.actor, **payload.model_dump()
    )
    return Status(201, type_out(ticket_type))


@types_router.put(
    "/{type_id}", response=responses(200, TicketTypeOut), auth=WRITE, summary="Update a ticket type"
)
def update_type(request, payload: TicketTypeUpdateIn, type_id: int = Path(..., ge=1, le=BIG)):
    """Scope `write`, manager role. Replace a tenant type's definition (system types: 403). A state
    still held by tickets cannot be removed (422)."""
    principal = request.auth
    principal.require_role(Role.MANAGER)
    ticket_type = _types(principal.tenant).filter(pk=type_id).first()
    if ticket_type is None:
        raise NotFound()
    _check_json_shape(
        "workflow", payload.workflow, max_depth=wf.MAX_WORKFLOW_DEPTH, max_bytes=wf.MAX_WORKFLOW_BYTES
    )
    _check_json_shape(
        "custom_fields_schema",
        payload.custom_fields_schema,
        max_depth=MAX_SCHEMA_DEPTH,
        max_bytes=MAX_SCHEMA_BYTES,
    )
    saved = services.ticket_type_save(
        tenant=principal.tenant,
        actor=principal.actor,
        ticket_type=ticket_type,
        code=ticket_type.code,
        **payload.model_dump(),
    )
    return type_out(saved)
