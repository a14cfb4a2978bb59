"""Reads for the help desk: queue scope, the staff inbox, SLA badges, the activity log, the customer view.

Scope: owners and managers see every support queue of their tenant; staff see the support queues where
they are an agent (``SupportAgent``), nothing else — every staff read goes through
:func:`visible_queue_ids` / :func:`staff_ticket`, and anything outside the scope is NotFound.

Customers see only public things: public comments (never ``is_internal``) and state changes — the
customer view is built by :func:`customer_activity`, which filters internal comments in the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.references import normalize_reference
from core.times import format_zoned
from queues import workflow as wf
from queues.models import Queue, QueueKind, Ticket, TicketComment, TicketEvent
from support.models import Escalation, SupportAgent, SupportQueue, SupportTicket
from tenants.models import Membership, Role

ACTIVE_PHASES = (wf.PENDING, wf.WAITING, wf.SERVING)
PAUSED_STATES = ("awaiting_customer",)
INBOX_VIEWS = {
    "mine": gettext_lazy("My tickets"),
    "unassigned": gettext_lazy("Unassigned"),
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due soon"),
    "escalated": gettext_lazy("Escalated"),
    "waiting": gettext_lazy("Waiting on customer"),
    "all": gettext_lazy("All open"),
    "closed": gettext_lazy("Resolved & closed"),
}
INBOX_LIMIT = 100
INBOX_PAGE_SIZE = 50  # seed 004: lists page by 50


def listed_help_desks(tenant) -> QuerySet[Queue]:
    """The help desks shown on the tenant's public pages (its home and the help home): enabled and
    listed. An unlisted one (``is_public`` off) is on no public list, and its form and tickets still
    work by direct link."""
    return (
        Queue.objects.for_tenant(tenant)
        .filter(kind=QueueKind.SUPPORT, enabled=True, is_public=True)
        .order_by("name")
    )


def is_lead(membership: Membership) -> bool:
    return membership.has_role(Role.MANAGER)


def _visible(membership: Membership) -> QuerySet[Queue]:
    queues = Queue.objects.filter(tenant_id=membership.tenant_id, kind=QueueKind.SUPPORT)
    if not is_lead(membership):
        queues = queues.filter(support__agents__user_id=membership.user_id)
    return queues.order_by("name")


def visible_queue_ids(membership: Membership) -> list[int]:
    return list(_visible(membership).values_list("id", flat=True))


def visible_queues(membership: Membership) -> list[Queue]:
    return list(_visible(membership))


def can_see_queue(membership: Membership, queue_id: int) -> bool:
    queue = Queue.objects.filter(pk=queue_id, tenant_id=membership.tenant_id, kind=QueueKind.SUPPORT)
    if not is_lead(membership):
        queue = queue.filter(support__agents__user_id=membership.user_id)
    return queue.exists()


def staff_ticket(membership: Membership, reference: str) -> Ticket:
    """The ticket with this reference in a support queue the member can see, or NotFound."""
    normalized = normalize_reference(reference)
    ticket = (
        Ticket.objects.for_tenant(membership.tenant)
        .select_related("queue", "lane", "ticket_type", "tenant", "customer", "assignee", "support_clock")
        .filter(reference=normalized or "", queue_id__in=visible_queue_ids(membership))
        .first()
    )
    if ticket is None:
        raise NotFound(gettext("There is no such ticket in your help-desk queues."))
    return ticket


@dataclass(frozen=True)
class SlaBadge:
    """What the SLA column shows: a short label, a CSS modifier and the due time in the viewer's zone."""

    label: str
    tone: str  # ok | soon | overdue | paused | done
    due_local: datetime | None


def sla_badge(ticket: Ticket, *, now: datetime, viewer_zone, due_soon_minutes: int = 120) -> SlaBadge:
    """Badge for ``ticket`` at ``now``; the due time is converted to ``viewer_zone`` (a ZoneInfo), so a
    viewer in another zone sees their own wall-clock time. Overdue is decided on UTC instants."""
    due = ticket.due_at
    due_local = timezone.localtime(due, viewer_zone) if due else None
    if ticket.phase not in ACTIVE_PHASES:
        label = pgettext("SLA", "Resolved") if ticket.phase == wf.DONE else pgettext("SLA", "Closed")
        return SlaBadge(label, "done", due_local)
    if ticket.state in PAUSED_STATES or due is None:
        return SlaBadge(gettext("Paused (waiting on customer)"), "paused", None)
    remaining = due - now
    if remaining.total_seconds() < 0:
        return SlaBadge(
            gettext("Overdue by %(time)s") % {"time": _duration(-remaining)}, "overdue", due_local
        )
    if remaining <= timedelta(minutes=due_soon_minutes):
        return SlaBadge(gettext("Due in %(time)s") % {"time": _duration(remaining)}, "soon", due_local)
    return SlaBadge(gettext("Due in %(time)s") % {"time": _duration(remaining)}, "ok", due_local)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return gettext("%(minutes)s min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if minutes:
            return gettext("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
        return gettext("%(hours)s h") % {"hours": hours}
    return ngettext("%(days)s day", "%(days)s days", hours // 24) % {"days": hours // 24}


def _view_condition(view: str, *, now: datetime, user_id: int, due_soon: dict[int, int]) -> Q:
    """The filter of one inbox view, as a Q (shared by the list and the counts)."""
    open_tickets = Q(phase__in=ACTIVE_PHASES)
    running = open_tickets & ~Q(state__in=PAUSED_STATES)
    if view == "mine":
        return open_tickets & Q(assignee_id=user_id)
    if view == "unassigned":
        return open_tickets & Q(assignee__isnull=True)
    if view == "overdue":
        return running & Q(due_at__lt=now)
    if view == "due_soon":
        soon = Q(pk__in=[])
        for queue_id, minutes in due_soon.items():
            soon |= Q(queue_id=queue_id, due_at__lte=now + timedelta(minutes=minutes))
        return running & Q(due_at__gte=now) & soon
    if view == "escalated":
        return open_tickets & Q(escalation_level__gt=0)
    if view == "waiting":
        return open_tickets & Q(state__in=PAUSED_STATES)
    if view == "closed":
        return ~open_tickets
    return open_tickets


def inbox_tickets(
    membership: Membership,
    *,
    view: str = "mine",
    now: datetime,
    queue_id: int | None = None,
    metadata_key: str = "",
    metadata_value: str = "",
    limit: int | None = INBOX_LIMIT,
    offset: int = 0,
    scope: list[int] | None = None,
    subcategory: str = "",
) -> QuerySet[Ticket]:
    """The inbox list. ``view``: mine, unassigned, overdue (past due and not paused), due_soon (due within
    the queue's "due soon" window), escalated, waiting (on the customer), all (open) or closed. Filters:
    one visible queue, a subcategory, and a metadata key (optionally with a value) — the JSONB key-exists
    (``?``) and containment (``@>``) lookups are served by the ``ticket_metadata_gin`` index. ``scope``:
    the visible queue ids when the caller has them already. ``offset``/``limit``: one page of the sorted
    list."""
    tickets, order = _inbox_filtered(
        membership,
        view=view,
        now=now,
        queue_id=queue_id,
        metadata_key=metadata_key,
        metadata_value=metadata_value,
        scope=scope,
        subcategory=subcategory,
    )
    if limit is None:
        return tickets.select_related("queue", "assignee", "customer", "ticket_type").order_by(*order)
    # Sort and cut the narrow rows first, then join the wide ones for just the page (with tens of
    # thousands of open tickets, sorting joined rows costs ~40x more).
    page = tickets.order_by(*order).values("id")[offset : offset + limit]
    return (
        Ticket.objects.filter(pk__in=page)
        .select_related("queue", "assignee", "customer", "ticket_type")
        .order_by(*order)
    )


@dataclass(frozen=True)
class InboxPage:
    tickets: list[Ticket]
    number: int
    pages: int
    total: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)


def inbox_page(
    membership: Membership, *, page: int = 1, per_page: int = INBOX_PAGE_SIZE, **filters
) -> InboxPage:
    """One page (``per_page``, 50) of the inbox list with the same ``filters`` as ``inbox_tickets``, and
    the filtered total (one count query). A page past the end shows the last page."""
    filtered, _ = _inbox_filtered(membership, **filters)
    total = filtered.count()
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    tickets = list(inbox_tickets(membership, limit=per_page, offset=(number - 1) * per_page, **filters))
    return InboxPage(tickets=tickets, number=number, pages=pages, total=total, per_page=per_page)


def _inbox_filtered(
    membership: Membership,
    *,
    view: str = "mine",
    now: datetime,
    queue_id: int | None = None,
    metadata_key: str = "",
    metadata_value: str = "",
    scope: list[int] | None = None,
    subcategory: str = "",
) -> tuple[QuerySet[Ticket], list[str]]:
    queue_ids = visible_queue_ids(membership) if scope is None else scope
    if queue_id is not None:
        queue_ids = [queue_id] if queue_id in queue_ids else []
    due_soon = due_soon_minutes_by_queue(queue_ids) if view == "due_soon" else {}
    tickets = Ticket.objects.filter(tenant_id=membership.tenant_id, queue_id__in=queue_ids).filter(
        _view_condition(view, now=now, user_id=membership.user_id, due_soon=due_soon)
    )
    if subcategory.strip():  # kept in the metadata at submission: the GIN index serves it too
        tickets = tickets.filter(metadata__contains={"subcategory": subcategory.strip()})
    key = metadata_key.strip()
    if key:
        if metadata_value.strip():
            tickets = tickets.filter(metadata__contains={key: metadata_value.strip()})
        else:
            tickets = tickets.filter(metadata__has_key=key)
    order = ["-updated_at", "-id"] if view == "closed" else ["due_at", "submitted_at", "id"]
    return tickets, order


def subcategory_choices(queue_id: int | None, scope: list[int]) -> list[tuple[str, str]]:
    """The inbox's subcategory filter: (value, label) for the chosen queue's subcategories, or for every
    visible queue's (labelled "Queue › Subcategory"); names shared by two queues are offered once."""
    from support.models import Subcategory

    rows = Subcategory.objects.filter(support_queue__queue_id__in=[queue_id] if queue_id else scope)
    choices: dict[str, str] = {}
    for name, queue_name in rows.order_by("support_queue__queue__name", "position", "id").values_list(
        "name", "support_queue__queue__name"
    ):
        choices.setdefault(name, name if queue_id else f"{queue_name} › {name}")
    return list(choices.items())


def inbox_counts(membership: Membership, *, now: datetime, scope: list[int] | None = None) -> dict[str, int]:
    """How many tickets each open-ticket inbox view holds: one aggregate query."""
    queue_ids = visible_queue_ids(membership) if scope is None else scope
    due_soon = due_soon_minutes_by_queue(queue_ids)
    views = [view for view in INBOX_VIEWS if view != "closed"]
    return Ticket.objects.filter(tenant_id=membership.tenant_id, queue_id__in=queue_ids).aggregate(
        **{
            view: Count(
                "id", filter=_view_condition(view, now=now, user_id=membership.user_id, due_soon=due_soon)
            )
            for view in views
        }
    )


def due_soon_minutes_by_queue(queue_ids: list[int]) -> dict[int, int]:
    return dict(
        SupportQueue.objects.filter(queue_id__in=queue_ids).values_list("queue_id", "due_soon_minutes")
    )


@dataclass(frozen=True)
class ActivityEntry:
    at: datetime
    kind: str  # submit | transition | assign | comment | escalation | notification | event
    title: str
    body: str = ""
    actor: str = ""
    internal: bool = False
    comment: TicketComment | None = None
    details: tuple[str, ...] = ()  # what came with the change (the notifications an escalation sent)


def _event_title(event: TicketEvent, machine: wf.Workflow) -> str:
    if event.event == "submit":
        return gettext("Ticket filed")
    if event.event == "assign":
        return event.note or gettext("Assignment changed")
    action = machine.transition_label(event.event)
    if event.from_state != event.to_state:
        return gettext("%(from)s → %(to)s (%(action)s)") % {
            "from": machine.state_label(event.from_state),
            "to": machine.state_label(event.to_state),
            "action": action,
        }
    return action


ACTOR_LABELS = {"system": gettext_lazy("system"), "customer": gettext_lazy("customer")}


def _actor_name(user, label: str = "") -> str:
    if user is not None:
        return user.get_full_name()
    return str(ACTOR_LABELS.get(label or "system", label))


def staff_activity(ticket: Ticket) -> list[ActivityEntry]:
    """Everything that happened to the ticket, oldest first: state changes and assignments (history),
    comments (public and internal, with edits), escalations and the notifications sent about it
    (outbox messages with their delivery status). Four queries."""
    from notifications.models import OutboxMessage

    entries: list[tuple[tuple, ActivityEntry]] = []
    machine = ticket.machine
    # One escalation is one entry: the reassignment it made (a history row at the same instant) and the
    # notifications it sent are part of it, not entries of their own repeating "Escalated to level 1".
    escalations = list(
        Escalation.objects.filter(ticket=ticket)
        .select_related("to_assignee", "escalated_by")
        .order_by("created_at", "id")
    )
    escalation_times = {escalation.escalated_at for escalation in escalations}
    for event in TicketEvent.objects.filter(ticket=ticket).select_related("actor"):
        kind = "submit" if event.event == "submit" else "assign" if event.event == "assign" else "transition"
        if kind == "assign" and event.actor_id is None and event.occurred_at in escalation_times:
            continue
        if event.event == "escalate":
            continue  # the escalation's own entry says who and why
        entries.append(
            (
                (event.occurred_at, 0 if kind == "submit" else 1, event.pk),
                ActivityEntry(
                    at=event.occurred_at,
                    kind=kind,
                    title=_event_title(event, machine),
                    body=event.note if kind == "transition" else "",
                    actor=_actor_name(event.actor, event.actor_label),
                ),
            )
        )
    for comment in TicketComment.objects.filter(ticket=ticket).select_related(
        "author_user", "author_customer"
    ):
        author = (
            comment.author_user.get_full_name()
            if comment.author_user
            else str(comment.author_customer or gettext("customer"))
        )
        title = (
            gettext("Internal note")
            if comment.is_internal
            else (gettext("Customer reply") if comment.author_customer_id else gettext("Public reply"))
        )
        entries.append(
            (
                (comment.created_at, 2, comment.pk),
                ActivityEntry(
                    at=comment.created_at,
                    kind="comment",
                    title=title,
                    body=comment.body,
                    actor=author,
                    internal=comment.is_internal,
                    comment=comment,
                ),
            )
        )
    messages = OutboxMessage.objects.filter(
        tenant_id=ticket.tenant_id, related_type="queues.ticket", related_id=str(ticket.pk)
    ).exclude(channel="webhook")
    told: dict[int, list[str]] = {escalation.pk: [] for escalation in escalations}
    for message in messages.order_by("created_at", "id"):
        delivery = _("%(channel)s to %(recipient)s — %(status)s") % {
            "channel": message.get_channel_display(),
            "recipient": message.recipient,
            "status": message.get_status_display(),
        }
        if message.event_type == "support.escalated" and escalations:
            # Written in the escalation's transaction, after its row: the last escalation made before it.
            owner = escalations[0]
            for escalation in escalations:
                if escalation.created_at <= message.created_at:
                    owner = escalation
            told[owner.pk].append(delivery)
            continue
        entries.append(
            (
                (message.created_at, 3, message.pk),
                ActivityEntry(
                    at=message.created_at,
                    kind="notification",
                    title=gettext("Notification by %(channel)s: %(headline)s")
                    % {
                        "channel": message.get_channel_display(),
                        "headline": message.payload.get("headline") or message.event_type,
                    },
                    body=gettext("To %(recipient)s — %(status)s")
                    % {"recipient": message.recipient, "status": message.get_status_display()},
                    actor=gettext("system"),
                ),
            )
        )
    for escalation in escalations:
        target = (
            escalation.to_assignee.get_full_name() if escalation.to_assignee else gettext("nobody available")
        )
        if escalation.escalated_by_id:
            body = _("Escalated by hand: %(reason)s; now with %(target)s.") % {
                "reason": escalation.reason,
                "target": target,
            }
        else:
            body = _("Missed the deadline of %(deadline)s; now with %(target)s.") % {
                "deadline": format_zoned(escalation.breached_deadline, ticket.queue.time_zone),
                "target": target,
            }
        entries.append(
            (
                (escalation.escalated_at, 1, escalation.pk),
                ActivityEntry(
                    at=escalation.escalated_at,
                    kind="escalation",
                    title=gettext("Escalated to level %(level)s") % {"level": escalation.level},
                    body=body,
                    actor=_actor_name(escalation.escalated_by)
                    if escalation.escalated_by_id
                    else gettext("system"),
                    details=tuple(told[escalation.pk]),
                ),
            )
        )
    return [entry for _key, entry in sorted(entries, key=lambda pair: pair[0])]


CUSTOMER_EVENT_TEXT = {
    "submit": gettext_lazy("Ticket received"),
    "start": gettext_lazy("Our team started working on it"),
    "ask_customer": gettext_lazy("We asked you for more information"),
    "customer_replied": gettext_lazy("You replied; back with our team"),
    "resolve": pgettext_lazy("ticket history", "Resolved"),
    "close": pgettext_lazy("ticket history", "Closed"),
    "reopen": pgettext_lazy("ticket history", "Reopened"),
    "forward": gettext_lazy("Forwarded to another team"),
}


def customer_activity(ticket: Ticket) -> list[ActivityEntry]:
    """What the customer may see, oldest first: state changes in plain words and public comments.
    Internal comments are excluded in the query; assignments, escalations, notes and notification
    records are staff-only and never read here."""
    entries: list[tuple[tuple, ActivityEntry]] = []
    machine = ticket.machine
    events = (
        TicketEvent.objects.filter(ticket=ticket)
        .exclude(event="assign")
        .only("event", "occurred_at", "from_state", "to_state")
    )
    for event in events:
        if event.event != "submit" and event.from_state == event.to_state:
            continue
        standard = CUSTOMER_EVENT_TEXT.get(event.event)
        text = str(standard) if standard is not None else machine.state_label(event.to_state)
        entries.append(
            (
                (event.occurred_at, 0, event.pk),
                ActivityEntry(at=event.occurred_at, kind="transition", title=text),
            )
        )
    public = TicketComment.objects.filter(ticket=ticket, is_internal=False).select_related(
        "author_customer", "author_user"
    )
    for comment in public:
        author = (
            gettext("You")
            if comment.author_customer_id
            else gettext("%(tenant)s team") % {"tenant": ticket.tenant.name}
        )
        entries.append(
            (
                (comment.created_at, 1, comment.pk),
                ActivityEntry(
                    at=comment.created_at, kind="comment", title=author, body=comment.body, comment=comment
                ),
            )
        )
    return [entry for _key, entry in sorted(entries, key=lambda pair: pair[0])]


def customer_ticket(reference: str) -> Ticket:
    """A support ticket by its public reference (any spelling), or NotFound."""
    normalized = normalize_reference(reference)
    ticket = (
        Ticket.objects.select_related("queue", "tenant", "ticket_type", "customer", "support_clock")
        .filter(reference=normalized or "", queue__kind=QueueKind.SUPPORT)
        .first()
    )
    if ticket is None:
        raise NotFound(gettext("There is no help-desk ticket with that reference number."))
    return ticket


def settings_for(queue: Queue) -> SupportQueue:
    """The queue's help-desk settings, or unsaved defaults when none were saved yet (reads never write;
    the first ticket or the settings form saves them)."""
    found = (
        SupportQueue.objects.select_related("queue")
        .prefetch_related("hours", "holidays", "turnarounds")
        .filter(queue=queue)
        .first()
    )
    return found or SupportQueue(queue=queue, tenant_id=queue.tenant_id)


def queue_agents(support_queue: SupportQueue) -> list[SupportAgent]:
    if support_queue.pk is None:
        return []
    return list(support_queue.agents.select_related("user").order_by("-is_primary", "priority", "id"))


def assignable_people(ticket: Ticket):
    """Members who may take ``ticket``: agents of its queue, managers and owners."""
    from tenants.models import User

    agents = SupportAgent.objects.filter(support_queue__queue_id=ticket.queue_id).values("user_id")
    leads = Membership.objects.filter(tenant_id=ticket.tenant_id, role__in=[Role.OWNER, Role.MANAGER]).values(
        "user_id"
    )
    members = Membership.objects.filter(tenant_id=ticket.tenant_id).values("user_id")
    return User.objects.filter(Q(pk__in=agents) | Q(pk__in=leads), pk__in=members, is_active=True).order_by(
        "name", "email"
    )


def clock_of(ticket: Ticket) -> SupportTicket | None:
    return SupportTicket.objects.filter(ticket_id=ticket.pk).first()
