"""The write path of the help desk.

Ticket writes (submit, transition, assign, comment) go through ``queues.services``; these functions add
what the help desk needs around them: queue-scoped permission checks, routing and the due time at
submission, the support clock on every transition, escalation, and help-desk notifications.

Composition with the queues services (they own durable transactions): the clock is kept in step by
``support.kind`` (the support kind's handlers, ``queues.kinds``), which run *inside* the queues
transaction when it writes a TicketEvent (submit, transition) or a TicketComment, and call
:func:`route_new_ticket`, :func:`clock_on_transition` and :func:`notify_on_comment` here. So a ticket
changed through any path (the help-desk inbox, the queue board, the admin) keeps a correct due time, and
the clock change commits or rolls back with it.

Locks, in this order: the queue row (queues), the ticket row, then the ticket's support clock
(``SupportTicket`` ``FOR UPDATE``). Routing takes a per-tenant advisory lock so two submissions cannot
both pick the same "least-loaded" agent from stale counts. Escalation takes the ticket row then the
clock, re-checks the deadline under them, and relies on the unique ``(ticket, cycle, level)`` of
Escalation as the last guard: one breach escalates once, however many workers run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from core.locking import advisory_lock, lock_key
from notifications.webhooks import emit
from notifications.webhooks.payloads import comment as comment_payload
from queues import services as queue_services
from queues import workflow as wf
from queues.events import ChangeSet
from queues.models import Priority, Queue, QueueKind, Ticket, TicketComment
from support import business_hours
from support.models import (
    MAX_ESCALATION_LEVEL,
    AssignmentMode,
    BusinessHours,
    Escalation,
    Holiday,
    SupportAgent,
    SupportQueue,
    SupportTicket,
    Turnaround,
    Weekday,
)
from tenants.models import Membership, Role, Tenant

logger = logging.getLogger(__name__)

# Workflow states in which the ticket waits on the customer: its clock is paused.
PAUSED_STATES = frozenset({"awaiting_customer"})
ACTIVE_PHASES = (wf.WAITING, wf.SERVING, wf.PENDING)
CLOSED_PHASES = (wf.DONE, wf.CANCELLED)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- settings ---------------------------------------------------------------------------------------


def support_queue_for(queue: Queue) -> SupportQueue:
    """The queue's help-desk settings (created with defaults on first use). Not durable: callable inside
    another service's transaction."""
    if queue.kind != QueueKind.SUPPORT:
        raise NotFound(gettext("This is not a support queue."))
    support_queue, _ = SupportQueue.objects.get_or_create(
        queue=queue, defaults={"tenant_id": queue.tenant_id}
    )
    return (
        SupportQueue.objects.select_related("queue")
        .prefetch_related("hours", "holidays", "turnarounds")
        .get(pk=support_queue.pk)
    )


@dataclass(frozen=True)
class AgentSpec:
    user_id: int
    is_primary: bool = False
    priority: int = 10
    receives_assignments: bool = True


def support_queue_configure(
    *,
    tenant: Tenant,
    actor,
    queue: Queue,
    assignment_mode: str = AssignmentMode.LEAST_LOADED,
    default_turnaround_minutes: int = 480,
    second_escalation_minutes: int = 240,
    due_soon_minutes: int = 120,
    turnarounds: dict[str, int] | None = None,
    hours: Iterable[tuple[int, time, time]] = (),
    holidays: Iterable[tuple[date, str]] = (),
    agents: Iterable[AgentSpec] = (),
    escalation_manager=None,
    escalation_owner=None,
) -> SupportQueue:
    """Replace a support queue's help-desk settings: assignment mode, turnaround per priority (business
    minutes), business hours ``(weekday, opens, closes)`` in the queue's zone (none = around the clock),
    holidays, agents (the queue-scoped staff, one primary at most) and the escalation chain.

    Due times of open tickets are not recomputed (they keep what was promised). Locks the settings row.
    Raises ValidationError (field errors) for non-members, two primaries, bad minutes, overlapping or
    empty hours, or a schedule that is never open; NotFound for another tenant's or a non-support queue.
    """
    queue_services._check_tenant(tenant, queue)
    if queue.kind != QueueKind.SUPPORT:
        raise NotFound(gettext("This is not a support queue."))
    errors: dict[str, list[str]] = {}
    if assignment_mode not in AssignmentMode.values:
        errors["assignment_mode"] = [gettext("Choose an assignment rule.")]
    for name, value in [
        ("default_turnaround_minutes", default_turnaround_minutes),
        ("second_escalation_minutes", second_escalation_minutes),
    ]:
        if value is None or int(value) < 1:
            errors[name] = [gettext("At least 1 minute.")]
    if due_soon_minutes is None or int(due_soon_minutes) < 0:
        errors["due_soon_minutes"] = [gettext("Zero or more minutes.")]
    turnarounds = {key: value for key, value in (turnarounds or {}).items() if value}
    for priority, minutes in turnarounds.items():
        if priority not in Priority.values:
            errors[f"turnaround_{priority}"] = [gettext("Unknown priority.")]
        elif int(minutes) < 1:
            errors[f"turnaround_{priority}"] = [gettext("At least 1 minute.")]
    hours = sorted(hours)
    for weekday, opens, closes in hours:
        if not (closes > opens or closes == time(0)):
            errors.setdefault("hours", []).append(
                gettext("%(day)s: closing must be after opening.") % {"day": Weekday(weekday).label}
            )
    for (day_a, _o, close_a), (day_b, open_b, _c) in zip(hours, hours[1:], strict=False):
        if day_a == day_b and (close_a == time(0) or close_a > open_b):
            errors.setdefault("hours", []).append(gettext("Opening intervals of a day must not overlap."))
    agents = list(agents)
    if sum(1 for agent in agents if agent.is_primary) > 1:
        errors["agents"] = [gettext("Choose one primary agent at most.")]
    member_ids = set(Membership.objects.filter(tenant=tenant).values_list("user_id", flat=True))
    if any(agent.user_id not in member_ids for agent in agents):
        errors.setdefault("agents", []).append(gettext("Agents must be members of this team."))
    for field, person in [("escalation_manager", escalation_manager), ("escalation_owner", escalation_owner)]:
        if person is not None and person.pk not in member_ids:
            errors[field] = [gettext("Choose a member of this team.")]
    holidays = list(holidays)
    if not errors and hours:
        schedule = business_hours.Schedule(
            zone=queue.zone,
            hours={day: tuple((o, c) for d, o, c in hours if d == day) for day in {h[0] for h in hours}},
            holidays=frozenset(day for day, _name in holidays),
        )
        try:
            business_hours.add_business_time(schedule, timezone.now(), 60)
        except ValueError as error:
            errors["hours"] = [str(error)]
    if errors:
        raise ValidationError(gettext("The support settings have errors."), field_errors=errors)
    with transaction.atomic(durable=True):
        support_queue, _ = SupportQueue.objects.get_or_create(queue=queue, defaults={"tenant": tenant})
        support_queue = SupportQueue.objects.select_for_update().get(pk=support_queue.pk)
        support_queue.assignment_mode = assignment_mode
        support_queue.default_turnaround_minutes = int(default_turnaround_minutes)
        support_queue.second_escalation_minutes = int(second_escalation_minutes)
        support_queue.due_soon_minutes = int(due_soon_minutes)
        support_queue.escalation_manager = escalation_manager
        support_queue.escalation_owner = escalation_owner
        support_queue.save()
        support_queue.turnarounds.all().delete()
        Turnaround.objects.bulk_create(
            Turnaround(tenant=tenant, support_queue=support_queue, priority=p, business_minutes=int(m))
            for p, m in turnarounds.items()
        )
        support_queue.hours.all().delete()
        BusinessHours.objects.bulk_create(
            BusinessHours(tenant=tenant, support_queue=support_queue, weekday=d, opens=o, closes=c)
            for d, o, c in hours
        )
        support_queue.holidays.all().delete()
        seen_days: set[date] = set()
        for day, name in holidays:
            if day not in seen_days:
                seen_days.add(day)
                Holiday.objects.create(tenant=tenant, support_queue=support_queue, date=day, name=name[:100])
        support_queue.agents.all().delete()
        SupportAgent.objects.bulk_create(
            SupportAgent(
                tenant=tenant,
                support_queue=support_queue,
                user_id=agent.user_id,
                is_primary=agent.is_primary,
                priority=agent.priority,
                receives_assignments=agent.receives_assignments,
            )
            for agent in {agent.user_id: agent for agent in agents}.values()
        )
    return support_queue


# --- the clock --------------------------------------------------------------------------------------


def _schedule(support_queue: SupportQueue) -> business_hours.Schedule:
    schedule = support_queue.schedule()
    try:
        business_hours.add_business_time(schedule, timezone.now(), 0)
    except ValueError:
        logger.warning("support queue %s is never open; counting around the clock", support_queue.pk)
        return business_hours.Schedule(zone=schedule.zone)
    return schedule


def due_time(support_queue: SupportQueue, *, start: datetime, minutes: int) -> datetime:
    """``minutes`` of business time after ``start`` in the queue's hours, holidays and zone."""
    return business_hours.add_business_time(_schedule(support_queue), start, minutes * 60)


def _next_escalation(support_queue: SupportQueue, *, due_at: datetime | None, level: int) -> datetime | None:
    if due_at is None or level >= MAX_ESCALATION_LEVEL:
        return None
    if level == 0:
        return due_at
    return due_time(support_queue, start=due_at, minutes=support_queue.second_escalation_minutes)


def _agent_members(support_queue: SupportQueue) -> list[SupportAgent]:
    members = Membership.objects.filter(tenant_id=support_queue.tenant_id).values("user_id")
    return list(
        support_queue.agents.filter(receives_assignments=True, user_id__in=members, user__is_active=True)
        .select_related("user")
        .order_by("-is_primary", "priority", "id")
    )


def pick_assignee(support_queue: SupportQueue):
    """The agent a new ticket goes to, by the queue's rule: the primary (else the first by priority), or
    the agent with the fewest open support tickets in this tenant (ties: primary, then priority order).
    None when the rule is manual or nobody takes assignments."""
    if support_queue.assignment_mode == AssignmentMode.MANUAL:
        return None
    agents = _agent_members(support_queue)
    if not agents:
        return None
    if support_queue.assignment_mode == AssignmentMode.PRIMARY:
        return agents[0].user
    loads = dict(
        Ticket.objects.filter(
            tenant_id=support_queue.tenant_id,
            queue__kind=QueueKind.SUPPORT,
            phase__in=ACTIVE_PHASES,
            assignee_id__in=[agent.user_id for agent in agents],
        )
        .values("assignee_id")
        .annotate(open=Count("id"))
        .values_list("assignee_id", "open")
    )
    chosen = min(
        enumerate(agents), key=lambda pair: (loads.get(pair[1].user_id, 0), pair[0])
    )  # agents are already in primary-then-priority order
    return chosen[1].user


def _set_assignee(ticket: Ticket, assignee, *, actor, note: str, now: datetime) -> None:
    """Inside the caller's transaction: point the ticket at ``assignee`` and record an "assign" event
    (the same record ``queues.services.ticket_assign`` writes)."""
    Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee, updated_at=now)
    ticket.assignee = assignee
    queue_services._event(
        ticket,
        event="assign",
        from_state=ticket.state,
        to_state=ticket.state,
        actor=actor,
        note=note,
        now=now,
        label="" if actor else "system",
    )


def staff_ticket_url(ticket: Ticket) -> str:
    return reverse("support:ticket", args=[ticket.tenant.slug, ticket.reference])


RULE_WORDS = {
    AssignmentMode.PRIMARY: gettext_lazy("primary agent first"),
    AssignmentMode.LEAST_LOADED: gettext_lazy("least-loaded agent"),
    AssignmentMode.MANUAL: gettext_lazy("by hand"),
}


class _lazy_format:  # noqa: N801 - reads like the function it stands for
    """A marked text with its values, worded when str() is called (in the recipient's language)."""

    def __init__(self, text, **values):
        self.text, self.values = text, values

    def __str__(self) -> str:
        return str(self.text) % self.values


def customer_ticket_url(ticket: Ticket) -> str:
    return reverse("support:customer_ticket", args=[ticket.reference])


def _notify_staff(ticket: Ticket, user, *, event_type: str, headline, body, now) -> None:
    """``headline``/``body``: lazy texts or what someone wrote; notify words them in the member's
    language (the context is built under it)."""
    from notifications.services import notify

    def context() -> dict:
        text = str(headline)
        return {
            "subject": f"[{ticket.reference}] {text}",
            "headline": text,
            "body": str(body)[:1000],
            "action_url": staff_ticket_url(ticket),
            "action_label": gettext("Open the ticket"),
        }

    notify(tenant=ticket.tenant, event_type=event_type, user=user, related=ticket, now=now, context=context)


def _notify_customer(ticket: Ticket, *, headline, body, now) -> None:
    """As _notify_staff, worded in the customer's language."""
    if ticket.customer_id is None:
        return
    from notifications.services import notify

    def context() -> dict:
        text = str(headline)
        return {
            "subject": f"[{ticket.reference}] {text}",
            "headline": text,
            "body": str(body)[:2000],
            "action_url": customer_ticket_url(ticket),
            "action_label": gettext("See your ticket and reply"),
        }

    notify(
        tenant=ticket.tenant,
        event_type="support.updated",
        customer=ticket.customer,
        related=ticket,
        now=now,
        context=context,
    )


def route_new_ticket(ticket: Ticket, *, now: datetime) -> SupportTicket:
    """Inside the submission's transaction: start the clock (due = TAT of the ticket's priority in
    business time), pick the assignee by the queue's rule and tell them. Takes the tenant's routing
    advisory lock. Not durable; called by ``support.kind``."""
    support_queue = support_queue_for(ticket.queue)
    advisory_lock([lock_key("support-routing", ticket.tenant_id)])
    minutes = support_queue.turnaround_for(ticket.priority)
    due = due_time(support_queue, start=now, minutes=minutes)
    clock = SupportTicket.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        support_queue=support_queue,
        turnaround_minutes=minutes,
        first_due_at=due,
        next_escalation_at=due,
    )
    Ticket.objects.filter(pk=ticket.pk).update(due_at=due)
    ticket.due_at = due
    from support.subcategories import METADATA_KEY, routed_assignee

    routed = routed_assignee(ticket)  # a subcategory's routing rule comes before the queue's
    assignee = routed or pick_assignee(support_queue)
    if assignee is not None:
        rule = str(RULE_WORDS.get(support_queue.assignment_mode, support_queue.assignment_mode))
        if routed is not None:
            rule = gettext("routing rule of subcategory %(name)s") % {"name": ticket.metadata[METADATA_KEY]}
        _set_assignee(
            ticket,
            assignee,
            actor=None,
            note=gettext("Assigned to %(name)s (%(rule)s)")
            % {"name": assignee.get_full_name(), "rule": rule},
            now=now,
        )
        _notify_staff(
            ticket,
            assignee,
            event_type="support.updated",
            headline=_lazy_format(
                gettext_lazy("New ticket for you: %(title)s"), title=ticket.title or ticket.reference
            ),
            body=ticket.need_text,
            now=now,
        )
    return clock


def clock_on_transition(ticket: Ticket, *, from_state: str, to_state: str, now: datetime) -> None:
    """Inside the transition's transaction (queue row and ticket already written): pause the clock when
    the ticket starts waiting on the customer, resume it (due time moved by the business time paused)
    when it stops, stop escalations when it is resolved, closed or forwarded, and start a new due time
    and escalation cycle when it is reopened. Locks the clock row. Not durable."""
    clock = (
        SupportTicket.objects.select_for_update()
        .select_related("support_queue__queue")
        .filter(ticket_id=ticket.pk)
        .first()
    )
    if clock is None:
        return
    support_queue = support_queue_for(clock.support_queue.queue)
    machine = ticket.machine
    from_phase, to_phase = machine.phase(from_state), machine.phase(to_state)
    due_at = Ticket.objects.filter(pk=ticket.pk).values_list("due_at", flat=True).get()
    level = Ticket.objects.filter(pk=ticket.pk).values_list("escalation_level", flat=True).get()
    updates: dict = {}

    if from_state in PAUSED_STATES and clock.paused_at is not None:
        schedule = _schedule(support_queue)
        paused_business = max(0.0, business_hours.business_seconds_between(schedule, clock.paused_at, now))
        clock.paused_business_seconds += int(paused_business)
        clock.paused_seconds += max(0, int((now - clock.paused_at).total_seconds()))
        due_at = clock.due_at_when_paused
        if paused_business > 0:
            due_at = business_hours.add_business_time(schedule, due_at, paused_business)
        clock.paused_at = None
        clock.due_at_when_paused = None
        updates["due_at"] = due_at
    if from_phase in CLOSED_PHASES and to_phase not in CLOSED_PHASES:
        clock.cycle += 1
        clock.turnaround_minutes = support_queue.turnaround_for(ticket.priority)
        due_at = due_time(support_queue, start=now, minutes=clock.turnaround_minutes)
        level = 0
        updates.update(due_at=due_at, escalation_level=0)
    if to_state in PAUSED_STATES and from_state not in PAUSED_STATES:
        clock.paused_at = now
        clock.due_at_when_paused = due_at or now
        clock.next_escalation_at = None
        updates["due_at"] = None
    elif to_phase in CLOSED_PHASES:
        clock.next_escalation_at = None
    else:
        clock.next_escalation_at = _next_escalation(support_queue, due_at=due_at, level=level)
    clock.save()
    if updates:
        Ticket.objects.filter(pk=ticket.pk).update(**updates)
        for key, value in updates.items():
            setattr(ticket, key, value)
    if to_state in PAUSED_STATES and from_state not in PAUSED_STATES:
        _notify_customer(
            ticket,
            headline=gettext_lazy("We need a reply from you"),
            body=gettext_lazy(
                "Our team needs more information to go on. Open your ticket to read our question and reply."
            ),
            now=now,
        )


def notify_manual_assignment(ticket: Ticket, *, actor, now: datetime) -> None:
    """Inside the assignment's transaction: tell the new assignee when someone else assigned the ticket
    to them (routing and escalation tell them themselves; nobody is told about their own choice)."""
    assignee = ticket.assignee
    if actor is None or assignee is None or assignee.pk == actor.pk:
        return
    _notify_staff(
        ticket,
        assignee,
        event_type="support.updated",
        headline=_lazy_format(
            gettext_lazy("%(name)s assigned you %(title)s"),
            name=actor.get_full_name(),
            title=ticket.title or ticket.reference,
        ),
        body=ticket.need_text,
        now=now,
    )


def notify_on_comment(comment: TicketComment) -> None:
    """Inside the comment's transaction: a public staff comment goes to the customer; a customer's reply
    goes to the assignee. Internal comments notify nobody outside the team and never the customer."""
    ticket = comment.ticket
    now = comment.created_at or timezone.now()
    if comment.is_internal:
        return
    emit(
        tenant=ticket.tenant,
        event_type="support.ticket.commented",
        resource=ticket,
        payload={"comment": comment_payload(comment)},
        now=now,
    )
    if comment.author_customer_id is not None:
        if ticket.assignee_id is not None:
            _notify_staff(
                ticket,
                ticket.assignee,
                event_type="support.updated",
                headline=_lazy_format(
                    gettext_lazy("The customer replied on %(reference)s"), reference=ticket.reference
                ),
                body=comment.body,
                now=now,
            )
        return
    _notify_customer(
        ticket,
        headline=_lazy_format(
            gettext_lazy("New reply on your ticket %(reference)s"), reference=ticket.reference
        ),
        body=comment.body,
        now=now,
    )


# --- escalation -------------------------------------------------------------------------------------


def _chain_target(support_queue: SupportQueue, level: int):
    """Level 1 → the queue's escalation manager (else the team's first manager, else an owner);
    level 2 → the queue's escalation owner (else the team's first owner)."""
    members = Membership.objects.filter(tenant_id=support_queue.tenant_id, user__is_active=True)
    if level == 1:
        chosen = support_queue.escalation_manager
        if chosen is not None and members.filter(user=chosen).exists():
            return chosen
        membership = members.filter(role=Role.MANAGER).order_by("id").select_related("user").first()
        if membership is not None:
            return membership.user
    chosen = support_queue.escalation_owner
    if chosen is not None and members.filter(user=chosen).exists():
        return chosen
    membership = members.filter(role=Role.OWNER).order_by("id").select_related("user").first()
    return membership.user if membership else None


def support_ticket_escalate(
    *, ticket_id: int, now: datetime | None = None, skip_locked: bool = True
) -> Escalation | None:
    """Escalate one ticket if its escalation deadline has passed: raise the level, reassign per the chain
    (1 → manager, 2 → owner), record an Escalation, notify the new assignee (``support.escalated``) and
    broadcast the queue. Returns None when there is nothing to do (not due, paused, resolved, already
    escalated for this breach, or — with ``skip_locked`` — being escalated by someone else right now).

    Locks the ticket row then its clock, re-checks under them; the unique (ticket, cycle, level) is the
    last guard. Safe to run twice or concurrently: one breach escalates once.
    """
    now = _now(now)
    with transaction.atomic(durable=True):
        locked = Ticket.objects.select_for_update(of=("self",), skip_locked=skip_locked).filter(pk=ticket_id)
        ticket = locked.select_related("tenant", "queue", "ticket_type", "lane", "assignee").first()
        if ticket is None:
            return None
        clock = SupportTicket.objects.select_for_update().filter(ticket_id=ticket.pk).first()
        if (
            clock is None
            or clock.next_escalation_at is None
            or clock.next_escalation_at > now
            or clock.paused_at is not None
            or ticket.phase not in ACTIVE_PHASES
            or ticket.state in PAUSED_STATES
        ):
            return None
        support_queue = support_queue_for(ticket.queue)
        level = ticket.escalation_level + 1
        if level > MAX_ESCALATION_LEVEL:
            clock.next_escalation_at = None
            clock.save(update_fields=["next_escalation_at", "updated_at"])
            return None
        return _escalate_locked(
            ticket, clock, support_queue, level=level, breached=clock.next_escalation_at, now=now
        )


ESCALATE_REASON_MAX = 1000


def support_ticket_escalate_by_hand(
    *, membership: Membership, ticket: Ticket, reason: str, now: datetime | None = None
) -> Escalation:
    """An agent escalates a ticket now, with a reason: the same effects as an automatic escalation (the
    next level, reassigned per the chain, an Escalation row, ``support.escalated`` notifications, the
    queue broadcast), plus the agent and the reason on the Escalation and an "escalate" history row.

    Any member who may see the ticket (an agent of its queue, a manager) may escalate. Refused with a
    field error without a reason, and with Conflict when the ticket is closed or already at the highest
    level (or someone escalated it to that level a moment ago). Locks the ticket row then its clock."""
    now = _now(now)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(field_errors={"reason": [_("Say why you escalate this ticket.")]})
    if len(reason) > ESCALATE_REASON_MAX:
        raise ValidationError(
            field_errors={"reason": [_("At most %(count)d characters.") % {"count": ESCALATE_REASON_MAX}]}
        )
    from support.selectors import can_see_queue

    if not can_see_queue(membership, ticket.queue_id):
        raise NotFound()
    with transaction.atomic(durable=True):
        locked = Ticket.objects.select_for_update(of=("self",)).filter(
            pk=ticket.pk, tenant_id=membership.tenant_id
        )
        current = locked.select_related("tenant", "queue", "ticket_type", "lane", "assignee").first()
        if current is None:
            raise NotFound()
        clock = SupportTicket.objects.select_for_update().filter(ticket_id=current.pk).first()
        if current.phase not in ACTIVE_PHASES:
            raise Conflict(_("This ticket is resolved or closed; reopen it before escalating."))
        level = current.escalation_level + 1
        if level > MAX_ESCALATION_LEVEL:
            raise Conflict(_("This ticket is already at the highest escalation level."))
        support_queue = support_queue_for(current.queue)
        queue_services._event(
            current,
            event="escalate",
            from_state=current.state,
            to_state=current.state,
            actor=membership.user,
            note=reason,
            now=now,
        )
        escalation = _escalate_locked(
            current,
            clock,
            support_queue,
            level=level,
            breached=(clock.next_escalation_at if clock else None) or current.due_at or now,
            now=now,
            actor=membership.user,
            reason=reason,
        )
        if escalation is None:
            raise Conflict(_("Someone escalated this ticket to that level a moment ago."))
    ticket.refresh_from_db()
    return escalation


def _escalate_locked(
    ticket: Ticket,
    clock: SupportTicket | None,
    support_queue: SupportQueue,
    *,
    level: int,
    breached: datetime,
    now: datetime,
    actor=None,
    reason: str = "",
) -> Escalation | None:
    """Inside the caller's transaction, with the ticket and its clock locked: escalate to ``level`` (by
    the deadline or by ``actor`` with ``reason``). None when that level was reached already."""
    target = _chain_target(support_queue, level)
    previous = ticket.assignee
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                tenant_id=ticket.tenant_id,
                ticket=ticket,
                cycle=clock.cycle if clock else 1,
                level=level,
                breached_deadline=breached,
                escalated_at=now,
                from_assignee=previous,
                to_assignee=target,
                escalated_by=actor,
                reason=reason,
            )
    except IntegrityError:
        return None  # this breach (or this level, by hand) was escalated already
    Ticket.objects.filter(pk=ticket.pk).update(escalation_level=level, last_escalated_at=now)
    ticket.escalation_level, ticket.last_escalated_at = level, now
    if clock is not None:
        if actor is None:
            clock.breached_at = clock.breached_at or now
        clock.next_escalation_at = _next_escalation(support_queue, due_at=ticket.due_at, level=level)
        clock.save(update_fields=["breached_at", "next_escalation_at", "updated_at"])
    who = gettext("manager") if level == 1 else gettext("owner")
    emit(
        tenant=ticket.tenant,
        event_type="support.ticket.escalated",
        resource=ticket,
        payload={
            "escalation": {
                "level": level,
                "to": target.email if target else None,
                "by_hand": actor is not None,
                "reason": reason,
            }
        },
        now=now,
    )
    if target is not None and target.pk != ticket.assignee_id:
        _set_assignee(
            ticket,
            target,
            actor=None,
            note=gettext("Escalated to level %(level)s (%(who)s): %(name)s")
            % {"level": level, "who": who, "name": target.get_full_name()},
            now=now,
        )
    recipients = [target] if target is not None else []
    if previous is not None and previous not in recipients:
        recipients.append(previous)
    values = {
        "reference": ticket.reference,
        "queue": ticket.queue.name,
        "level": level,
        "name": target.get_full_name() if target else "",
        "by": actor.get_full_name() if actor else "",
        "reason": reason,
    }
    if actor is None:
        body = (
            gettext_lazy(
                "%(reference)s in %(queue)s passed its due time and was escalated to level %(level)s "
                "(now with %(name)s)."
            )
            if target
            else gettext_lazy(
                "%(reference)s in %(queue)s passed its due time and was escalated to level %(level)s."
            )
        )
    else:
        body = (
            gettext_lazy(
                "%(reference)s in %(queue)s was escalated to level %(level)s by %(by)s: %(reason)s "
                "(now with %(name)s)."
            )
            if target
            else gettext_lazy(
                "%(reference)s in %(queue)s was escalated to level %(level)s by %(by)s: %(reason)s."
            )
        )
    for person in recipients:
        if actor is not None and person.pk == actor.pk:
            continue  # nobody is told about their own choice
        _notify_staff(
            ticket,
            person,
            event_type="support.escalated",
            headline=_lazy_format(
                gettext_lazy("Escalated to level %(level)s: %(title)s"),
                level=level,
                title=ticket.title or ticket.reference,
            ),
            body=_lazy_format(body, **values),
            now=now,
        )
    ChangeSet(tenant_id=ticket.tenant_id, queue_id=ticket.queue_id).broadcast_on_commit()
    return escalation


def support_escalate_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat task's body: escalate every ticket whose escalation deadline has passed, each in its own
    transaction (see support_ticket_escalate). Returns how many were escalated. Idempotent."""
    now = _now(now)
    due = list(
        SupportTicket.objects.filter(next_escalation_at__lt=now)
        .order_by("next_escalation_at")
        .values_list("ticket_id", flat=True)[:limit]
    )
    escalated = 0
    for ticket_id in due:
        if support_ticket_escalate(ticket_id=ticket_id, now=now) is not None:
            escalated += 1
    return escalated


# --- commands for staff and customers ----------------------------------------------------------------


def _check_scope(membership: Membership, ticket: Ticket) -> None:
    from support.selectors import can_see_queue

    if membership.tenant_id != ticket.tenant_id or not can_see_queue(membership, ticket.queue_id):
        raise NotFound()


def support_ticket_submit(
    *,
    tenant: Tenant,
    queue: Queue,
    name: str,
    email: str,
    title: str,
    description: str,
    priority: str = Priority.NORMAL,
    location: str = "",
    phone: str = "",
    custom_data: dict | None = None,
    metadata: dict | None = None,
    attachments: Iterable[UploadedFile] = (),
    email_consent: bool = False,
    submission_token: str = "",
    actor=None,
    subcategory: str = "",
    now: datetime | None = None,
) -> Ticket:
    """File a help-desk ticket in a support queue (via ``queues.services.ticket_submit``, in the queue's
    first open lane). Routing, the due time and the assignee's notice happen in the same transaction
    (``route_new_ticket``; a subcategory's routing rule first). ``subcategory``: the name of one of the
    queue's subcategories, required when it has any (kept in ``metadata["subcategory"]``). Raises
    ValidationError (field errors), NotFound for a non-support queue."""
    queue_services._check_tenant(tenant, queue)
    if queue.kind != QueueKind.SUPPORT:
        raise NotFound(gettext("There is no help desk at this address."))
    if priority not in Priority.values:
        raise ValidationError(field_errors={"priority": [gettext("Choose a priority.")]})
    if not title.strip():
        raise ValidationError(field_errors={"title": [gettext("Give your ticket a short title.")]})
    from support.subcategories import METADATA_KEY, subcategory_for_submission

    chosen = subcategory_for_submission(queue, subcategory)  # required when the queue has subcategories
    if chosen is not None:
        metadata = {**(metadata or {}), METADATA_KEY: chosen.name}
    lane = queue.lanes.filter(enabled=True).order_by("display_order", "id").first()
    if lane is None:
        raise ValidationError(
            gettext("%(queue)s is not taking new tickets right now. Nothing was sent.")
            % {"queue": queue.name}
        )
    return queue_services.ticket_submit(
        tenant=tenant,
        queue=queue,
        lane=lane,
        name=name,
        email=email,
        phone=phone,
        location=location,
        title=title,
        need_text=description,
        custom_data=custom_data,
        email_consent=email_consent,
        attachments=attachments,
        submission_token=submission_token,
        actor=actor,
        priority=priority,
        metadata=metadata,
        now=now,
    )


def support_ticket_transition(
    *, membership: Membership, ticket: Ticket, event: str, note: str = "", now: datetime | None = None
) -> Ticket:
    """A staff member applies a workflow event (start, ask_customer, resolve, …) to a ticket of a queue
    they can see. Raises NotFound outside their scope, plus whatever ``ticket_transition`` raises
    (InvalidTransition, Conflict, ValidationError). The clock follows through ``clock_on_transition``."""
    _check_scope(membership, ticket)
    return queue_services.ticket_transition(
        tenant=membership.tenant, actor=membership.user, ticket=ticket, event=event, note=note, now=now
    )


def support_ticket_assign(
    *, membership: Membership, ticket: Ticket, assignee, now: datetime | None = None
) -> Ticket:
    """Assign a ticket to someone who can see its queue (an agent of it, a manager or an owner), or to
    nobody. Raises NotFound outside the actor's scope, ValidationError for anyone else."""
    from support.selectors import can_see_queue

    _check_scope(membership, ticket)
    if assignee is not None:
        target = Membership.objects.filter(tenant_id=ticket.tenant_id, user=assignee).first()
        if target is None or not can_see_queue(target, ticket.queue_id):
            raise ValidationError(
                field_errors={
                    "assignee": [gettext("Assign to an agent of this queue, a manager or an owner.")]
                }
            )
    return queue_services.ticket_assign(
        tenant=membership.tenant, actor=membership.user, ticket=ticket, assignee=assignee, now=now
    )


def support_comment_add(
    *,
    membership: Membership,
    ticket: Ticket,
    body: str,
    is_internal: bool,
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> TicketComment:
    """A staff comment: public (the customer sees it and is told) or internal (the team only). Raises
    NotFound outside the actor's scope, ValidationError for an empty body or a bad attachment."""
    _check_scope(membership, ticket)
    return queue_services.ticket_comment_add(
        tenant=membership.tenant,
        ticket=ticket,
        body=body,
        actor=membership.user,
        is_internal=is_internal,
        attachments=attachments,
        now=now,
    )


def support_comment_edit(
    *, membership: Membership, comment: TicketComment, body: str, now: datetime | None = None
):
    """Edit one's own comment (earlier text kept in its history). Raises NotFound outside scope."""
    _check_scope(membership, comment.ticket)
    if not body.strip():
        raise ValidationError(field_errors={"body": [gettext("Write something first.")]})
    return queue_services.ticket_comment_edit(
        tenant=membership.tenant, actor=membership.user, comment=comment, body=body, now=now
    )


def support_customer_reply(
    *, ticket: Ticket, body: str, attachments: Iterable[UploadedFile] = (), now: datetime | None = None
) -> TicketComment:
    """The customer replies on their ticket page (found by its unguessable reference). The reply is a
    public comment (the assignee is told); a ticket waiting on the customer then goes back to the team
    (``customer_replied``), which resumes its clock. A resolved or closed ticket takes no replies.

    Two transactions: the reply is kept even if someone moved the ticket meanwhile (Conflict is ignored;
    the team sees the reply either way)."""
    if ticket.queue.kind != QueueKind.SUPPORT or ticket.customer_id is None:
        raise NotFound()
    if ticket.phase in CLOSED_PHASES:
        raise ValidationError(gettext("This ticket is closed. Please open a new one."))
    comment = queue_services.ticket_comment_add(
        tenant=ticket.tenant,
        ticket=ticket,
        body=body,
        customer=ticket.customer,
        attachments=attachments,
        now=now,
    )
    if ticket.state in PAUSED_STATES and ticket.machine.find(ticket.state, "customer_replied"):
        with contextlib.suppress(Conflict, InvalidTransition):
            queue_services.ticket_transition(
                tenant=ticket.tenant,
                actor=None,
                ticket=ticket,
                event="customer_replied",
                actor_label="customer",
                now=now,
            )
    return comment


@dataclass
class BulkResult:
    done: list[str]
    failed: list[tuple[str, str]]


def support_bulk_apply(
    *,
    membership: Membership,
    references: Iterable[str],
    action: str,
    assignee=None,
    event: str = "",
    now: datetime | None = None,
) -> BulkResult:
    """Assign (``action="assign"``) or transition (``action="transition"``, ``event``) several tickets,
    each in its own transaction; one ticket's failure (moved meanwhile, not allowed in its state) is
    reported and does not stop the others. Tickets outside the actor's scope count as not found."""
    from support.selectors import staff_ticket

    if action not in ("assign", "transition"):
        raise ValidationError(gettext("Choose what to do with the selected tickets."))
    result = BulkResult(done=[], failed=[])
    for reference in dict.fromkeys(references):
        try:
            ticket = staff_ticket(membership, reference)
            if action == "assign":
                support_ticket_assign(membership=membership, ticket=ticket, assignee=assignee, now=now)
            else:
                support_ticket_transition(membership=membership, ticket=ticket, event=event, now=now)
        except (NotFound, Conflict, ValidationError, PermissionDenied) as error:
            details = [text for texts in error.field_errors.values() for text in texts]
            result.failed.append((reference, " ".join(details) or error.message))
        else:
            result.done.append(reference)
    return result


def support_clock_shift(*, ticket: Ticket, hours: float) -> None:
    """Simulation helper (the ``support_simulate_overdue`` command, demos): move a ticket's deadlines
    ``hours`` into the past, as if it had been waiting that much longer. Locks the ticket, then the clock."""
    shift = timedelta(hours=hours)
    with transaction.atomic(durable=True):
        fresh = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        clock = SupportTicket.objects.select_for_update().get(ticket_id=ticket.pk)
        if fresh.due_at is not None:
            Ticket.objects.filter(pk=ticket.pk).update(due_at=fresh.due_at - shift)
        if clock.next_escalation_at is not None:
            clock.next_escalation_at -= shift
        clock.first_due_at -= shift
        clock.save(update_fields=["next_escalation_at", "first_due_at", "updated_at"])
