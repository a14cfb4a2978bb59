"""The help desk: support queues, their tickets (file, list, read, transitions, assign, comments).
Thin over ``support.services`` / ``support.selectors``; the help desk's scope applies: a key acts with
the rights of the member who created it (agents see their queues, managers and owners all)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from api.auth import READ, WRITE
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from api.routers.queues import CommentIn, CommentOut, CommentPage, PageQuery, comment_out
from api.schemas import Email, responses
from core.errors import NotFound
from queues.models import Phase, Priority, Queue, QueueKind, Ticket, TicketComment
from support import selectors, services

router = Router(tags=["help desk"])

BIG = 2**62


class SupportQueueOut(Schema):
    id: int
    slug: str
    name: str
    enabled: bool


class SupportQueuePage(Schema):
    items: list[SupportQueueOut]
    next_cursor: str | None


class SupportTicketOut(Schema):
    reference: str
    queue_id: int
    title: str
    description: str
    state: str
    phase: Phase
    priority: str
    customer_name: str
    customer_email: str
    assignee_id: int | None
    due_at: datetime | None = Field(description="Null while the clock is paused (waiting on the customer).")
    escalation_level: int
    metadata: dict[str, Any]
    custom_data: dict[str, Any]
    submitted_at: datetime
    resolved_at: datetime | None
    available_actions: list[str]


class SupportTicketPage(Schema):
    items: list[SupportTicketOut]
    next_cursor: str | None


class SupportTicketIn(Schema):
    name: str = Field("", max_length=200)
    email: Email
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    priority: Priority = Priority.NORMAL
    location: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)
    custom_data: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    email_consent: bool = False
    subcategory: str = Field(
        "", max_length=100, description="One of the queue's subcategories; required when it has any."
    )


class SupportTransitionIn(Schema):
    event: str = Field(..., min_length=1, max_length=50, description="start, ask_customer, resolve, close …")
    note: str = Field("", max_length=2000)


class AssignIn(Schema):
    assignee_id: int | None = Field(..., ge=1, le=BIG, description="A user id, or null for nobody.")


class SupportTicketFilters(Schema):
    queue_id: int | None = Field(None, ge=1, le=BIG)
    state: str | None = Field(None, max_length=50)
    phase: Phase | None = None
    priority: Priority | None = None
    assignee_id: int | None = Field(None, ge=1, le=BIG)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def support_ticket_out(ticket: Ticket) -> dict:
    return {
        "reference": ticket.reference,
        "queue_id": ticket.queue_id,
        "title": ticket.title,
        "description": ticket.need_text,
        "state": ticket.state,
        "phase": ticket.phase,
        "priority": ticket.priority,
        # The contact this ticket was submitted with (not the shared customer record).
        "customer_name": ticket.contact_name,
        "customer_email": ticket.contact_email,
        "assignee_id": ticket.assignee_id,
        "due_at": ticket.due_at,
        "escalation_level": ticket.escalation_level,
        "metadata": ticket.metadata or {},
        "custom_data": ticket.custom_data or {},
        "submitted_at": ticket.submitted_at,
        "resolved_at": ticket.resolved_at,
        "available_actions": [t.name for t in ticket.ticket_type.machine.allowed(ticket.state)],
    }


def _ticket(request, reference: str) -> Ticket:
    return selectors.staff_ticket(request.auth.member(), reference)


def _queue(request, queue_id: int) -> Queue:
    membership = request.auth.member()
    queue = (
        Queue.objects.for_tenant(membership.tenant)
        .filter(pk=queue_id, kind=QueueKind.SUPPORT, pk__in=selectors.visible_queue_ids(membership))
        .first()
    )
    if queue is None:
        raise NotFound(_("There is no such help-desk queue."))
    return queue


@router.get("/queues", response=responses(200, SupportQueuePage), auth=READ, summary="List help-desk queues")
def list_support_queues(request, page: Query[PageQuery]):
    """Scope `read`. The support queues the key's member can see."""
    membership = request.auth.member()
    queues = Queue.objects.for_tenant(membership.tenant).filter(
        pk__in=selectors.visible_queue_ids(membership)
    )
    result = paginate(queues, cursor=page.cursor, limit=page.limit)
    return {
        "items": [
            {"id": q.id, "slug": q.slug, "name": q.name, "enabled": q.enabled} for q in result["items"]
        ],
        "next_cursor": result["next_cursor"],
    }


@router.post(
    "/queues/{queue_id}/tickets",
    response=responses(201, SupportTicketOut),
    auth=WRITE,
    summary="File a ticket",
)
def file_support_ticket(request, payload: SupportTicketIn, queue_id: int = Path(..., ge=1, le=BIG)):
    """Scope `write`. File a help-desk ticket for a customer: it is routed (assignee by the queue's rule)
    and its due time set in business hours, as from the public form."""
    queue = _queue(request, queue_id)
    ticket = services.support_ticket_submit(
        tenant=queue.tenant, queue=queue, actor=request.auth.actor, **payload.model_dump()
    )
    return Status(201, support_ticket_out(_ticket(request, ticket.reference)))


@router.get(
    "/tickets", response=responses(200, SupportTicketPage), auth=READ, summary="List help-desk tickets"
)
def list_support_tickets(request, filters: Query[SupportTicketFilters]):
    """Scope `read`. Tickets of the visible queues, oldest first; filter by `queue_id`, `state`, `phase`,
    `priority`, `assignee_id`."""
    membership = request.auth.member()
    tickets = (
        Ticket.objects.for_tenant(membership.tenant)
        .filter(queue_id__in=selectors.visible_queue_ids(membership))
        .select_related("customer", "ticket_type")
    )
    for field in ("queue_id", "state", "phase", "priority", "assignee_id"):
        value = getattr(filters, field)
        if value:
            tickets = tickets.filter(**{field: value})
    page = paginate(tickets, cursor=filters.cursor, limit=filters.limit)
    return {"items": [support_ticket_out(t) for t in page["items"]], "next_cursor": page["next_cursor"]}


@router.get(
    "/tickets/{reference}",
    response=responses(200, SupportTicketOut),
    auth=READ,
    summary="Read a help-desk ticket",
)
def read_support_ticket(request, reference: str = Path(..., max_length=40)):
    """Scope `read`."""
    return support_ticket_out(_ticket(request, reference))


@router.post(
    "/tickets/{reference}/transitions",
    response=responses(200, SupportTicketOut),
    auth=WRITE,
    summary="Apply a help-desk transition",
)
def transition_support_ticket(
    request, payload: SupportTransitionIn, reference: str = Path(..., max_length=40)
):
    """Scope `write`. start, ask_customer, resolve, close, reopen … (see `available_actions`); the SLA
    clock pauses while waiting on the customer. Not allowed now: 409 `invalid_transition`."""
    ticket = _ticket(request, reference)
    services.support_ticket_transition(
        membership=request.auth.member(), ticket=ticket, event=payload.event, note=payload.note
    )
    return support_ticket_out(_ticket(request, reference))


@router.post(
    "/tickets/{reference}/assign", response=responses(200, SupportTicketOut), auth=WRITE, summary="Assign"
)
def assign_support_ticket(request, payload: AssignIn, reference: str = Path(..., max_length=40)):
    """Scope `write`. Assign to someone who can see the queue (or nobody); anyone else: 422."""
    from tenants.models import User

    ticket = _ticket(request, reference)
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise NotFound(_("There is no such person."))
    services.support_ticket_assign(membership=request.auth.member(), ticket=ticket, assignee=assignee)
    return support_ticket_out(_ticket(request, reference))


@router.get(
    "/tickets/{reference}/comments", response=responses(200, CommentPage), auth=READ, summary="List comments"
)
def list_support_comments(request, page: Query[PageQuery], reference: str = Path(..., max_length=40)):
    """Scope `read`. Public and internal comments, oldest first."""
    ticket = _ticket(request, reference)
    comments = TicketComment.objects.for_tenant(ticket.tenant).filter(ticket=ticket)
    result = paginate(
        comments.select_related("author_user", "author_customer"), cursor=page.cursor, limit=page.limit
    )
    return {"items": [comment_out(c) for c in result["items"]], "next_cursor": result["next_cursor"]}


@router.post(
    "/tickets/{reference}/comments", response=responses(201, CommentOut), auth=WRITE, summary="Comment"
)
def add_support_comment(request, payload: CommentIn, reference: str = Path(..., max_length=40)):
    """Scope `write`. A public reply (the customer is told) or an internal note."""
    ticket = _ticket(request, reference)
    comment = services.support_comment_add(
        membership=request.auth.member(), ticket=ticket, body=payload.body, is_internal=payload.internal
    )
    return Status(201, comment_out(comment))
