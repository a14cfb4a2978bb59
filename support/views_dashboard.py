"""The staff side of the help desk: inbox, ticket page, bulk actions, queue settings.

Every view resolves the tenant and role with ``member_required`` (another tenant's member gets 404) and
every ticket through ``selectors.staff_ticket`` (a ticket outside the member's queue scope is 404 too).
State changes are POST-only (CSRF) and go through ``support.services``.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Conflict, DomainError, NotFound, ValidationError
from core.forms import show_domain_error
from core.numbers import whole_number
from queues.models import Queue, QueueKind, TicketAttachment, TicketComment
from queues.workflow import STANDARD_TRANSITION_LABELS
from support import selectors, services
from support.forms import EditCommentForm, StaffCommentForm, SubcategoriesForm, SupportSettingsForm
from support.models import MAX_ESCALATION_LEVEL
from support.selectors import ACTIVE_PHASES
from support.services import AgentSpec
from support.subcategories import active_subcategories, subcategories_set
from tenants.access import member_required
from tenants.models import Membership, Role, User


def _queue_zone(queue) -> zoneinfo.ZoneInfo:
    """A help desk's times are in its queue's zone (with the abbreviation), whoever looks: one ticket's
    history never mixes zones, and an agent and the customer read the same times."""
    try:
        return zoneinfo.ZoneInfo(queue.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _error_text(error: DomainError) -> str:
    details = [message for messages_ in error.field_errors.values() for message in messages_]
    return " ".join(details) or error.message


def _ticket_redirect(request, reference: str):
    return redirect("support:ticket", request.tenant.slug, reference)


@member_required()
def inbox(request):
    membership = request.membership
    now = timezone.now()
    view = request.GET.get("view", "mine")
    if view not in selectors.INBOX_VIEWS:
        view = "mine"
    queues = selectors.visible_queues(membership)
    scope = [queue.pk for queue in queues]
    queue_slug = request.GET.get("queue", "")
    chosen = next((queue for queue in queues if queue.slug == queue_slug), None)
    subcategory = request.GET.get("subcategory", "")[:100]
    metadata_key = request.GET.get("meta_key", "")[:100]
    metadata_value = request.GET.get("meta_value", "")[:200]
    page = selectors.inbox_page(
        membership,
        page=whole_number(request.GET.get("page", "1")[:10], low=1, high=1_000_000) or 1,
        view=view,
        now=now,
        queue_id=chosen.pk if chosen else None,
        metadata_key=metadata_key,
        metadata_value=metadata_value,
        subcategory=subcategory,
        scope=scope,
    )
    tickets = page.tickets
    # The filters every page link keeps (view, queue, metadata), without the page number.
    kept = {"view": view, "queue": chosen.slug if chosen else "", "meta_key": metadata_key}
    kept["meta_value"] = metadata_value
    kept["subcategory"] = subcategory
    page_query = urlencode({key: value for key, value in kept.items() if value})
    soon = selectors.due_soon_minutes_by_queue(scope)
    rows = [
        (
            ticket,
            selectors.sla_badge(
                ticket,
                now=now,
                viewer_zone=_queue_zone(ticket.queue),
                due_soon_minutes=soon.get(ticket.queue_id, 120),
            ),
        )
        for ticket in tickets
    ]
    people = (
        User.objects.filter(memberships__tenant=request.tenant, is_active=True)
        .filter(pk__in=_people_for_queues(request.tenant, scope))
        .order_by("name", "email")
    )
    return render(
        request,
        "support/inbox.html",
        {
            "tenant": request.tenant,
            "view": view,
            "views": selectors.INBOX_VIEWS,
            "counts": selectors.inbox_counts(membership, now=now, scope=scope),
            "rows": rows,
            "page": page,
            "page_query": page_query,
            "queues": queues,
            "chosen": chosen,
            "meta_key": metadata_key,
            "subcategory": subcategory,
            "subcategories": selectors.subcategory_choices(chosen.pk if chosen else None, scope),
            "meta_value": metadata_value,
            "people": people,
            "events": [
                (name, str(STANDARD_TRANSITION_LABELS[label]))
                for name, label in (
                    ("start", "Start work"),
                    ("ask_customer", "Ask customer"),
                    ("resolve", "Resolve"),
                    ("close", "Close"),
                )
            ],
            "is_lead": selectors.is_lead(membership),
        },
    )


def _people_for_queues(tenant, queue_ids: list[int]):
    from support.models import SupportAgent

    agents = SupportAgent.objects.filter(support_queue__queue_id__in=queue_ids).values("user_id")
    leads = Membership.objects.filter(tenant=tenant, role__in=[Role.OWNER, Role.MANAGER]).values("user_id")
    return User.objects.filter(Q(pk__in=agents) | Q(pk__in=leads)).values("pk")


@member_required()
@require_POST
def bulk(request):
    references = request.POST.getlist("tickets")
    back = request.POST.get("next", "")
    target = back if back.startswith(reverse("support:inbox", args=[request.tenant.slug])) else None
    if not references:
        messages.error(request, gettext("Select at least one ticket first."))
        return redirect(target or reverse("support:inbox", args=[request.tenant.slug]))
    action = request.POST.get("action", "")
    assignee = None
    event = ""
    if action.startswith("assign:"):
        user_id = action.split(":", 1)[1]
        if user_id != "nobody":
            assignee = User.objects.filter(pk=whole_number(user_id, default=0)).first()
            if assignee is None:
                messages.error(request, gettext("Choose someone to assign to."))
                return redirect(target or reverse("support:inbox", args=[request.tenant.slug]))
        action = "assign"
    elif action.startswith("event:"):
        event = action.split(":", 1)[1]
        action = "transition"
    try:
        result = services.support_bulk_apply(
            membership=request.membership,
            references=references[:200],
            action=action,
            assignee=assignee,
            event=event,
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        if result.done:
            messages.success(
                request,
                ngettext(
                    "Done for %(count)s ticket: %(references)s.",
                    "Done for %(count)s tickets: %(references)s.",
                    len(result.done),
                )
                % {"count": len(result.done), "references": ", ".join(result.done)},
            )
        for reference, reason in result.failed:
            messages.error(request, f"{reference}: {reason}")
    return redirect(target or reverse("support:inbox", args=[request.tenant.slug]))


@member_required()
def ticket(request, reference: str):
    membership = request.membership
    found = selectors.staff_ticket(membership, reference)
    if found.reference != reference:
        return _ticket_redirect(request, found.reference)
    now = timezone.now()
    zone = _queue_zone(found.queue)
    support_queue = selectors.settings_for(found.queue)
    badge = selectors.sla_badge(
        found, now=now, viewer_zone=zone, due_soon_minutes=support_queue.due_soon_minutes
    )
    attachments = list(TicketAttachment.objects.filter(ticket=found).order_by("id"))
    return render(
        request,
        "support/ticket.html",
        {
            "tenant": request.tenant,
            "ticket": found,
            "badge": badge,
            "clock": selectors.clock_of(found),
            "activity": selectors.staff_activity(found),
            # What the form asked (custom data) is shown once; metadata adds only what it does not repeat.
            "metadata_extra": {
                key: value
                for key, value in (found.metadata or {}).items()
                if (found.custom_data or {}).get(key) != value
            },
            "transitions": found.machine.allowed(found.state),
            "people": selectors.assignable_people(found),
            "comment_form": StaffCommentForm(),
            "edit_form": EditCommentForm(),
            "attachments_by_comment": _group_attachments(attachments),
            "ticket_attachments": [a for a in attachments if a.comment_id is None],
            "zone_name": zone.key,
            "escalations": found.escalations.order_by("escalated_at"),
            "can_escalate": found.phase in ACTIVE_PHASES and found.escalation_level < MAX_ESCALATION_LEVEL,
        },
    )


def _group_attachments(attachments):
    grouped: dict[int, list] = {}
    for attachment in attachments:
        if attachment.comment_id:
            grouped.setdefault(attachment.comment_id, []).append(attachment)
    return grouped


@member_required()
@require_POST
def comment(request, reference: str):
    found = selectors.staff_ticket(request.membership, reference)
    form = StaffCommentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(
            request,
            gettext("Write something first.")
            if "body" in form.errors
            else gettext("Check the comment form."),
        )
        return _ticket_redirect(request, found.reference)
    try:
        services.support_comment_add(
            membership=request.membership,
            ticket=found,
            body=form.cleaned_data["body"],
            is_internal=form.cleaned_data["visibility"] == "internal",
            attachments=form.cleaned_data["attachments"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        internal = form.cleaned_data["visibility"] == "internal"
        messages.success(
            request, gettext("Internal note added.") if internal else gettext("Reply sent to the customer.")
        )
    return _ticket_redirect(request, found.reference)


@member_required()
@require_POST
def comment_edit(request, reference: str, pk: int):
    found = selectors.staff_ticket(request.membership, reference)
    target = TicketComment.objects.filter(ticket=found, pk=pk).first()
    if target is None:
        raise NotFound()
    form = EditCommentForm(request.POST)
    if form.is_valid():
        try:
            services.support_comment_edit(
                membership=request.membership, comment=target, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, gettext("Comment updated; the earlier text is kept in its history."))
    else:
        messages.error(request, gettext("Write something first."))
    return _ticket_redirect(request, found.reference)


@member_required()
@require_POST
def transition(request, reference: str):
    found = selectors.staff_ticket(request.membership, reference)
    expected = request.POST.get("state", "")
    if expected and expected != found.state:
        messages.error(
            request,
            gettext("Someone changed this ticket meanwhile; nothing was changed. Check and try again."),
        )
        return _ticket_redirect(request, found.reference)
    try:
        services.support_ticket_transition(
            membership=request.membership,
            ticket=found,
            event=request.POST.get("event", ""),
            note=request.POST.get("note", ""),
        )
    except (ValidationError, Conflict) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, gettext("Ticket is now %(state)s.") % {"state": found.state_label})
    return _ticket_redirect(request, found.reference)


@member_required()
@require_POST
def escalate(request, reference: str):
    """Escalate by hand, with a reason (any member who may see the ticket)."""
    found = selectors.staff_ticket(request.membership, reference)
    try:
        escalation = services.support_ticket_escalate_by_hand(
            membership=request.membership, ticket=found, reason=request.POST.get("reason", "")[:2000]
        )
    except (ValidationError, Conflict) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Escalated to level %(level)d.") % {"level": escalation.level})
    return _ticket_redirect(request, found.reference)


@member_required()
@require_POST
def assign(request, reference: str):
    found = selectors.staff_ticket(request.membership, reference)
    value = request.POST.get("assignee", "")
    assignee = None
    if value:
        assignee = User.objects.filter(pk=whole_number(value, default=0)).first()
        if assignee is None:
            messages.error(request, gettext("Choose someone from the list."))
            return _ticket_redirect(request, found.reference)
    try:
        services.support_ticket_assign(membership=request.membership, ticket=found, assignee=assignee)
    except (ValidationError, Conflict) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            gettext("Assigned to %(name)s.") % {"name": assignee.get_full_name()}
            if assignee
            else gettext("Unassigned."),
        )
    return _ticket_redirect(request, found.reference)


@member_required()
def attachment(request, reference: str, pk: int):
    found = selectors.staff_ticket(request.membership, reference)
    file = TicketAttachment.objects.filter(ticket=found, pk=pk).first()
    if file is None:
        raise NotFound()
    response = FileResponse(file.file.open("rb"), as_attachment=True, filename=file.original_name)
    response["Content-Type"] = file.content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- settings (managers and owners) -------------------------------------------------------------------


@member_required(Role.MANAGER)
def settings_list(request):
    queues = Queue.objects.for_tenant(request.tenant).filter(kind=QueueKind.SUPPORT).order_by("name")
    rows = [(queue, selectors.settings_for(queue)) for queue in queues]
    return render(request, "support/settings_list.html", {"tenant": request.tenant, "rows": rows})


@dataclass(frozen=True)
class AgentRow:
    """One member's line of the agents table, as stored or as just typed (when the form is shown again)."""

    member: Membership
    is_agent: bool
    is_primary: bool
    priority: str
    receives: bool
    error: str = ""


def _agent_rows(request, members, agents) -> tuple[list[AgentRow], list[AgentSpec], bool]:
    """The agents table: rows to show, the specs to save (POST) and whether an order was refused. An order
    that is not a whole number 0–1000 is an error next to that member's input, never a silent default."""
    rows, specs, refused = [], [], False
    for member in members:
        key = str(member.user_id)
        if request.method != "POST":
            agent = agents.get(member.user_id)
            rows.append(
                AgentRow(
                    member=member,
                    is_agent=agent is not None,
                    is_primary=bool(agent and agent.is_primary),
                    priority=str(agent.priority if agent else 10),
                    receives=agent is None or agent.receives_assignments,
                )
            )
            continue
        typed = request.POST.get(f"priority_{key}", "10").strip()
        priority = whole_number(typed, low=0, high=1000)
        is_agent = bool(request.POST.get(f"agent_{key}"))
        error = ""
        if priority is None and (is_agent or typed):
            error = _("Enter a whole number from 0 to 1000.")
            refused = True
        row = AgentRow(
            member=member,
            is_agent=is_agent,
            is_primary=request.POST.get("primary", "") == key,
            priority=typed[:20],
            receives=bool(request.POST.get(f"receives_{key}")),
            error=error,
        )
        rows.append(row)
        if is_agent and not error:
            specs.append(
                AgentSpec(
                    user_id=member.user_id,
                    is_primary=row.is_primary,
                    priority=priority,
                    receives_assignments=row.receives,
                )
            )
    return rows, specs, refused


@member_required(Role.MANAGER)
def settings_edit(request, queue_slug: str):
    queue = Queue.objects.for_tenant(request.tenant).filter(slug=queue_slug, kind=QueueKind.SUPPORT).first()
    if queue is None:
        raise NotFound()
    support_queue = selectors.settings_for(queue)
    members = list(
        Membership.objects.filter(tenant=request.tenant)
        .select_related("user")
        .order_by("user__name", "user__email")
    )
    agents = {agent.user_id: agent for agent in selectors.queue_agents(support_queue)}
    form = SupportSettingsForm(
        request.POST or None, members=members, initial=SupportSettingsForm.initial_for(support_queue)
    )
    rows, specs, agent_errors = _agent_rows(request, members, agents)
    if request.method == "POST" and agent_errors:
        form.is_valid()  # its own errors are shown too, in the same answer
        form.add_error(None, _("An agent's order was refused; see the agents table."))
    elif request.method == "POST" and form.is_valid():
        people = {str(member.user_id): member.user for member in members}
        try:
            services.support_queue_configure(
                tenant=request.tenant,
                actor=request.user,
                queue=queue,
                assignment_mode=form.cleaned_data["assignment_mode"],
                default_turnaround_minutes=form.cleaned_data["default_turnaround_minutes"],
                second_escalation_minutes=form.cleaned_data["second_escalation_minutes"],
                due_soon_minutes=form.cleaned_data["due_soon_minutes"],
                turnarounds=form.turnarounds(),
                hours=form.cleaned_data["hours"],
                holidays=form.cleaned_data["holidays"],
                agents=specs,
                escalation_manager=people.get(form.cleaned_data["escalation_manager"]),
                escalation_owner=people.get(form.cleaned_data["escalation_owner"]),
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request, gettext("Saved the help-desk settings of %(queue)s.") % {"queue": queue.name}
            )
            return redirect("support:settings_edit", request.tenant.slug, queue.slug)
    return render(
        request,
        "support/settings_edit.html",
        {
            "tenant": request.tenant,
            "queue": queue,
            "form": form,
            "rows": rows,
            "subcategories_form": SubcategoriesForm(
                members=members, initial=SubcategoriesForm.initial_for(active_subcategories(queue))
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@member_required(Role.MANAGER)
def subcategories_edit(request, queue_slug: str):
    """A support queue's subcategories (GET shows the settings page's form; POST saves the list)."""
    queue = Queue.objects.for_tenant(request.tenant).filter(slug=queue_slug, kind=QueueKind.SUPPORT).first()
    if queue is None:
        raise NotFound()
    members = list(Membership.objects.filter(tenant=request.tenant).select_related("user"))
    form = SubcategoriesForm(
        request.POST or None,
        members=members,
        initial=SubcategoriesForm.initial_for(active_subcategories(queue)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            subcategories_set(
                tenant=request.tenant,
                actor=request.user,
                queue=queue,
                specs=form.cleaned_data["subcategories"],
            )
        except ValidationError as error:
            for problem in error.field_errors.get("subcategories", [error.message]):
                form.add_error("subcategories", problem)
        else:
            messages.success(request, _("Saved the subcategories of %(queue)s.") % {"queue": queue.name})
            return redirect("support:settings_edit", request.tenant.slug, queue.slug)
    return render(
        request,
        "support/subcategories_edit.html",
        {"tenant": request.tenant, "queue": queue, "form": form},
        status=400 if request.method == "POST" else 200,
    )
