"""Creator/staff dashboard for queues. Every view resolves the tenant and role through
``member_required`` and fetches objects with ``get_for_tenant`` (another tenant's object is a 404);
state changes are POST-only and go through ``queues.services``."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound, ValidationError
from core.forms import show_domain_error
from core.tenancy import get_for_tenant
from payments.tips import tip_states
from queues import item_services, selectors, services
from queues.forms import (
    FilterForm,
    LaneSettingsForm,
    QueueCreateForm,
    QueueSettingsForm,
    TicketItemForm,
    TicketTypeForm,
    TransitionForm,
)
from queues.models import Lane, Queue, Ticket, TicketAttachment, TicketItem, TicketType
from tenants.access import member_required
from tenants.models import Membership, Role


def _visible(request):
    """The queues this member may open (support queues only for their agents and the managers)."""
    return selectors.queues_visible_to(request.membership)


def _queue(request, queue_slug: str) -> Queue:
    return get_for_tenant(
        Queue.objects.select_related("ticket_type", "tenant").filter(pk__in=_visible(request).values("pk")),
        request.tenant,
        slug=queue_slug,
    )


def _ticket(request, reference: str) -> Ticket:
    return get_for_tenant(
        Ticket.objects.select_related(
            "ticket_type", "lane", "queue", "customer", "assignee", "tenant"
        ).filter(queue__in=_visible(request).values("pk")),
        request.tenant,
        reference=reference,
    )


def _members(tenant):
    return list(Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email"))


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target.startswith("/dashboard/") and "//" not in target:
        return redirect(target)
    return redirect(fallback)


@member_required()
def queue_list(request):
    queues = list(_visible(request))
    snapshots = [selectors.queue_snapshot(queue) for queue in queues]
    return render(
        request, "queues/dashboard/queue_list.html", {"snapshots": snapshots, "tenant": request.tenant}
    )


@member_required(Role.MANAGER)
def queue_create(request):
    form = QueueCreateForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            queue = services.queue_create(
                tenant=request.tenant,
                actor=request.user,
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                ticket_type=form.cleaned_data["ticket_type"],
                default_service_minutes=form.cleaned_data["default_service_minutes"],
            )
        except ValidationError as error:
            for key, errors in error.field_errors.items():
                for message in errors:
                    form.add_error(key if key in form.fields else None, message)
        else:
            messages.success(request, gettext("%(queue)s is ready.") % {"queue": queue.name})
            return redirect("queues:queue_board", request.tenant.slug, queue.slug)
    return render(request, "queues/dashboard/queue_create.html", {"form": form, "tenant": request.tenant})


@member_required()
def queue_board(request, queue_slug: str):
    """Pending tickets, who is being served, and the main line in order with positions — a constant
    number of queries whatever the queue length."""
    queue = _queue(request, queue_slug)
    snapshot = selectors.queue_snapshot(queue)
    line = selectors.main_line(snapshot, limit=50)
    now = timezone.now()
    pending = list(selectors.pending_tickets(queue))
    serving = list(selectors.serving_tickets(queue))
    tip_states([*pending, *serving, *(ticket for _place, ticket in line)])  # the tips' money state, one query
    context = {
        "tenant": request.tenant,
        "queue": queue,
        "snapshot": snapshot,
        "pending": pending,
        "serving": serving,
        "line": [(place, ticket, snapshot.eta(place), ticket.is_expired(now)) for place, ticket in line],
        "machine": queue.ticket_type.machine,
        "socket_path": reverse("queues:queue_board", args=[request.tenant.slug, queue.slug]).replace(
            "/dashboard/", "/ws/queues/dashboard/", 1
        ),
    }
    template = (
        "queues/dashboard/_board.html" if request.GET.get("fragment") else "queues/dashboard/board.html"
    )
    return render(request, template, context)


@member_required()
@require_POST
def call_next(request, queue_slug: str):
    queue = _queue(request, queue_slug)
    ticket = services.ticket_call_next(tenant=request.tenant, actor=request.user, queue=queue)
    if ticket is None:
        messages.info(request, gettext("Nobody is waiting."))
    else:
        messages.success(
            request,
            gettext("Called %(turn)s (%(who)s).")
            % {"turn": ticket.turn_label or ticket.reference, "who": str(ticket.contact) or gettext("guest")},
        )
    return redirect("queues:queue_board", request.tenant.slug, queue.slug)


@member_required()
def ticket_list(request, queue_slug: str):
    queue = _queue(request, queue_slug)
    lanes = list(queue.lanes.all())
    members = _members(request.tenant)
    form = FilterForm(request.GET or None, queue=queue, lanes=lanes, members=members)
    filters = form.cleaned_data if form.is_valid() else {}
    tickets = list(selectors.search_tickets(queue, filters=filters))
    return render(
        request,
        "queues/dashboard/ticket_list.html",
        {"tenant": request.tenant, "queue": queue, "form": form, "tickets": tickets},
    )


def _detail_page(request, ticket: Ticket, *, item_form=None, refused_item=None, status: int = 200):
    """The ticket page. ``item_form`` is the add-item form shown again with its errors; ``refused_item``
    (pk, form) an item's change form shown again with its errors — the other item forms come fresh."""
    snapshot = selectors.queue_snapshot(ticket.queue, rank_for=ticket)
    place, _rank = selectors.ticket_position(ticket, snapshot)
    item_states = ticket.ticket_type.item_states or []
    items = list(ticket.items.all())
    item_forms = [
        (
            item,
            refused_item[1]
            if refused_item and refused_item[0] == item.pk
            else TicketItemForm.for_item(item, item_states=item_states),
        )
        for item in items
    ]
    return render(
        request,
        "queues/dashboard/ticket_detail.html",
        {
            "tenant": request.tenant,
            "ticket": ticket,
            "queue": ticket.queue,
            "snapshot": snapshot,
            "position": place,
            "eta": snapshot.eta(place),
            "expired": ticket.is_expired(timezone.now()),
            "transitions": ticket.machine.allowed(ticket.state),
            "history": selectors.ticket_history(ticket, public=False),
            "comments": list(ticket.comments.select_related("author_user", "author_customer")),
            "attachments": list(ticket.attachments.all()),
            "items": items,
            "item_forms": item_forms,
            "item_form": item_form or TicketItemForm(item_states=item_states, prefix="new-item"),
            "items_open": ticket.phase not in item_services.FINISHED_PHASES,
            "members": _members(request.tenant),
            "lanes": list(ticket.queue.lanes.all()),
        },
        status=status,
    )


@member_required()
def ticket_detail(request, reference: str):
    return _detail_page(request, _ticket(request, reference))


@member_required()
@require_POST
def ticket_item_add(request, reference: str):
    ticket = _ticket(request, reference)
    form = TicketItemForm(request.POST, item_states=ticket.ticket_type.item_states or [], prefix="new-item")
    if form.is_valid():
        try:
            item = item_services.ticket_item_add(
                tenant=request.tenant,
                actor=request.user,
                ticket=ticket,
                name=form.cleaned_data["name"],
                quantity=form.cleaned_data["quantity"],
                notes=form.cleaned_data["notes"],
                state=form.cleaned_data.get("state", ""),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Added %(item)s.") % {"item": item})
            return redirect("queues:ticket_detail", request.tenant.slug, ticket.reference)
    return _detail_page(request, ticket, item_form=form, status=400)


def _item(ticket: Ticket, pk: int) -> TicketItem:
    """An item of ``ticket`` (itself already fetched within the member's tenant and queue scope)."""
    item = TicketItem.objects.filter(ticket=ticket, pk=pk).select_related("ticket__ticket_type").first()
    if item is None:
        raise NotFound(_("This item is not on the ticket (it may have been removed)."))
    return item


@member_required()
@require_POST
def ticket_item_change(request, reference: str, pk: int):
    ticket = _ticket(request, reference)
    item = _item(ticket, pk)
    form = TicketItemForm(
        request.POST, item_states=ticket.ticket_type.item_states or [], prefix=f"item-{item.pk}"
    )
    if form.is_valid():
        try:
            item_services.ticket_item_update(
                tenant=request.tenant,
                actor=request.user,
                item=item,
                name=form.cleaned_data["name"],
                quantity=form.cleaned_data["quantity"],
                notes=form.cleaned_data["notes"],
                state=form.cleaned_data.get("state", ""),
                seen=form.cleaned_data["seen"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Saved %(item)s.") % {"item": item.name})
            return redirect("queues:ticket_detail", request.tenant.slug, ticket.reference)
    return _detail_page(request, ticket, refused_item=(item.pk, form), status=400)


@member_required()
@require_POST
def ticket_item_remove(request, reference: str, pk: int):
    ticket = _ticket(request, reference)
    item = TicketItem.objects.filter(ticket=ticket, pk=pk).select_related("ticket__ticket_type").first()
    if item is None:
        messages.info(request, _("That item was removed already."))
        return redirect("queues:ticket_detail", request.tenant.slug, ticket.reference)
    seen = TicketItemForm(request.POST, item_states=[], prefix=f"item-{item.pk}")
    seen.is_valid()  # only its "seen" matters here
    try:
        if "seen" in seen.errors:
            raise ValidationError(seen.errors["seen"][0])
        item_services.ticket_item_remove(
            tenant=request.tenant, actor=request.user, item=item, seen=seen.cleaned_data.get("seen")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Removed %(item)s.") % {"item": item})
    return redirect("queues:ticket_detail", request.tenant.slug, ticket.reference)


@member_required()
@require_POST
def ticket_transition(request, reference: str):
    ticket = _ticket(request, reference)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise ValidationError(gettext("Choose an action."))
    # The state the member saw: if it moved since, the optimistic check reports a conflict.
    seen = form.cleaned_data.get("state")
    if seen and seen != ticket.state:
        messages.error(
            request,
            gettext("%(reference)s changed meanwhile (now %(state)s); nothing was done.")
            % {"reference": ticket.reference, "state": ticket.state_label},
        )
        return _back(request, reverse("queues:ticket_detail", args=[request.tenant.slug, ticket.reference]))
    try:
        services.ticket_transition(
            tenant=request.tenant,
            actor=request.user,
            ticket=ticket,
            event=form.cleaned_data["event"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, f"{ticket.reference}: {error.message}")
    else:
        messages.success(
            request,
            gettext("%(reference)s is now %(state)s.")
            % {"reference": ticket.reference, "state": ticket.state_label},
        )
    return _back(request, reverse("queues:ticket_detail", args=[request.tenant.slug, ticket.reference]))


@member_required()
@require_POST
def ticket_assign(request, reference: str):
    ticket = _ticket(request, reference)
    user_id = request.POST.get("assignee", "")
    assignee = None
    if user_id:
        membership = Membership.objects.filter(
            tenant=request.tenant, user_id=user_id if user_id.isdigit() else 0
        )
        membership = membership.select_related("user").first()
        if membership is None:
            raise NotFound(gettext("That person is not on this team."))
        assignee = membership.user
    try:
        services.ticket_assign(tenant=request.tenant, actor=request.user, ticket=ticket, assignee=assignee)
    except DomainError as error:
        messages.error(request, f"{ticket.reference}: {error.message}")
    else:
        messages.success(
            request,
            gettext("%(reference)s assigned to %(who)s.")
            % {
                "reference": ticket.reference,
                "who": assignee.get_full_name() if assignee else gettext("nobody"),
            },
        )
    return _back(request, reverse("queues:ticket_detail", args=[request.tenant.slug, ticket.reference]))


@member_required()
@require_POST
def ticket_lane(request, reference: str):
    ticket = _ticket(request, reference)
    lane_id = request.POST.get("lane", "")
    lane = get_for_tenant(Lane, request.tenant, pk=lane_id if lane_id.isdigit() else 0)
    services.ticket_change_lane(tenant=request.tenant, actor=request.user, ticket=ticket, lane=lane)
    messages.success(
        request,
        gettext("%(reference)s moved to %(lane)s.") % {"reference": ticket.reference, "lane": lane.name},
    )
    return redirect("queues:ticket_detail", request.tenant.slug, ticket.reference)


@member_required()
@require_POST
def ticket_comment(request, reference: str):
    ticket = _ticket(request, reference)
    try:
        services.ticket_comment_add(
            tenant=request.tenant,
            ticket=ticket,
            body=request.POST.get("body", ""),
            actor=request.user,
            is_internal=bool(request.POST.get("is_internal")),
            attachments=request.FILES.getlist("attachments"),
        )
    except ValidationError as error:
        messages.error(request, " ".join(sum(error.field_errors.values(), [])) or error.message)
    return redirect("queues:ticket_detail", request.tenant.slug, ticket.reference)


@member_required()
def attachment_download(request, pk: int):
    visible = TicketAttachment.objects.filter(ticket__queue__in=_visible(request).values("pk"))
    attachment = get_for_tenant(visible, request.tenant, pk=pk)
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)
    response["Content-Type"] = attachment.content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _settings_page(request, queue: Queue, *, form=None, invalid_lane_form=None, status: int = 200):
    """The settings page: the queue form and one form per lane. A refused lane form is shown bound, with
    its errors next to its fields (the others fresh from the database)."""
    if form is None:
        form = QueueSettingsForm(instance=Queue.objects.get(pk=queue.pk), prefix="queue")
    lane_forms = [
        invalid_lane_form
        if invalid_lane_form is not None and invalid_lane_form.instance.pk == lane.pk
        else LaneSettingsForm(instance=lane, currency=request.tenant.currency, prefix=f"lane-{lane.pk}")
        for lane in queue.lanes.all()
    ]
    return render(
        request,
        "queues/dashboard/settings.html",
        {"tenant": request.tenant, "queue": queue, "form": form, "lane_forms": lane_forms},
        status=status,
    )


@member_required(Role.MANAGER)
def queue_settings(request, queue_slug: str):
    queue = _queue(request, queue_slug)
    form = QueueSettingsForm(request.POST or None, instance=Queue.objects.get(pk=queue.pk), prefix="queue")
    if request.method == "POST" and form.is_valid():
        services.queue_update(
            tenant=request.tenant,
            actor=request.user,
            queue=queue,
            changes={name: form.cleaned_data[name] for name in form.changed_data},
        )
        messages.success(request, gettext("Queue settings saved."))
        return redirect("queues:queue_settings", request.tenant.slug, queue.slug)
    return _settings_page(request, queue, form=form, status=400 if request.method == "POST" else 200)


@member_required(Role.MANAGER)
@require_POST
def lane_settings(request, queue_slug: str, lane_id: int):
    queue = _queue(request, queue_slug)
    lane = get_for_tenant(Lane, request.tenant, pk=lane_id, queue=queue)
    form = LaneSettingsForm(
        request.POST,
        instance=Lane.objects.get(pk=lane.pk),
        currency=request.tenant.currency,
        prefix=f"lane-{lane.pk}",
    )
    if form.is_valid():
        changes = {name: form.cleaned_data[name] for name in ("name", "enabled", "weight")}
        changes["minimum_tip_cents"] = form.cleaned_data["minimum_tip"]
        try:
            services.lane_update(tenant=request.tenant, actor=request.user, lane=lane, changes=changes)
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("%(lane)s saved.") % {"lane": lane.name})
            return redirect("queues:queue_settings", request.tenant.slug, queue.slug)
    # Refused: the page again, the lane's form keeping what was typed, each error next to its field.
    messages.error(request, _("%(lane)s was not saved: check the marked fields.") % {"lane": lane.name})
    return _settings_page(request, queue, invalid_lane_form=form, status=400)


@member_required()
def type_list(request):
    types = list(TicketType.objects.available_to(request.tenant).order_by("tenant_id", "name"))
    return render(request, "queues/dashboard/type_list.html", {"tenant": request.tenant, "types": types})


@member_required(Role.MANAGER)
def type_edit(request, pk: int | None = None):
    ticket_type = get_for_tenant(TicketType, request.tenant, pk=pk) if pk else None
    initial = {}
    if ticket_type is not None:
        initial = {
            "code": ticket_type.code,
            "name": ticket_type.name,
            "description": ticket_type.description,
            "workflow": ticket_type.workflow,
            "custom_fields_schema": ticket_type.custom_fields_schema,
            "ttl_minutes": ticket_type.ttl_minutes,
        }
    else:
        from queues.workflow import SERVICE

        initial = {"workflow": SERVICE, "custom_fields_schema": {"type": "object", "properties": {}}}
    form = TicketTypeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.ticket_type_save(
                tenant=request.tenant,
                actor=request.user,
                ticket_type=ticket_type,
                **{key: form.cleaned_data[key] for key in form.fields},
            )
        except ValidationError as error:
            for key, errors in error.field_errors.items():
                for message in errors:
                    form.add_error(key if key in form.fields else None, message)
        else:
            messages.success(
                request,
                gettext("Saved %(name)s (version %(version)s).")
                % {"name": saved.name, "version": saved.version},
            )
            return redirect("queues:type_list", request.tenant.slug)
    from queues.views_types import _preview

    typed = form.cleaned_data.get("workflow") if form.is_bound and hasattr(form, "cleaned_data") else None
    diagram, diagram_is_saved = _preview(typed if isinstance(typed, dict) else None, ticket_type)
    return render(
        request,
        "queues/dashboard/type_form.html",
        {
            "tenant": request.tenant,
            "form": form,
            "ticket_type": ticket_type,
            "diagram": diagram,
            "diagram_is_saved": diagram_is_saved,
        },
    )
