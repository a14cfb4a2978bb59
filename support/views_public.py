"""Public help-desk pages: the support form per support queue and the customer's ticket page.

The ticket page is found by the ticket's unguessable reference (rate limited per client, like the queue
status page). It shows public comments and plain-words state changes only: internal comments,
assignments, escalations and notification records are never read for it (``customer_activity``).
"""

from __future__ import annotations

import time

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from core.errors import NotFound, ValidationError
from core.forms import show_domain_error
from core.ratelimit import check_rate, client_address, limit_submission
from queues.models import Queue, QueueKind, TicketAttachment
from support import selectors, services
from support.forms import CustomerReplyForm, SupportTicketForm
from support.models import Subcategory
from support.subcategories import active_subcategories
from tenants.access import get_public_tenant


def _support_queue(tenant, queue_slug: str) -> Queue:
    queue = (
        Queue.objects.for_tenant(tenant)
        .select_related("ticket_type", "tenant")
        .filter(slug=queue_slug, kind=QueueKind.SUPPORT)
        .first()
    )
    if queue is None:
        raise NotFound(gettext("There is no help desk at this address."))
    return queue


def help_home(request, tenant_slug: str):
    """The tenant's help desks, and "follow my ticket" by reference (rate limited like the status page)."""
    tenant = get_public_tenant(tenant_slug)
    queues = list(selectors.listed_help_desks(tenant))
    # The categories (queues) and, under each, its subcategories: the customer picks one, then the form.
    by_queue: dict[int, list] = {}
    for row in Subcategory.objects.filter(tenant=tenant, support_queue__queue__in=queues).select_related(
        "support_queue"
    ):
        by_queue.setdefault(row.support_queue.queue_id, []).append(row)
    context = {
        "tenant": tenant,
        "queues": queues,
        "categories": [(queue, by_queue.get(queue.pk, [])) for queue in queues],
        "value": request.GET.get("reference", "")[:40],
    }
    if context["value"]:
        check_rate("ticket-status", client_address(request))
        try:
            ticket = selectors.customer_ticket(context["value"])
        except NotFound:
            ticket = None
        if ticket is not None and ticket.tenant_id == tenant.pk:
            return redirect("support:customer_ticket", reference=ticket.reference)
        context["error"] = gettext("There is no ticket with that number here. Check it and try again.")
        return render(request, "support/help_home.html", context, status=404)
    return render(request, "support/help_home.html", context)


@require_http_methods(["GET", "POST"])
def submit(request, tenant_slug: str, queue_slug: str):
    tenant = get_public_tenant(tenant_slug)
    queue = _support_queue(tenant, queue_slug)
    subcategories = active_subcategories(queue)
    form = SupportTicketForm(
        request.POST or None,
        request.FILES or None,
        queue=queue,
        user=request.user,
        subcategories=subcategories,
        initial={"subcategory": request.GET.get("subcategory", "")[:100]},
    )
    if request.method == "POST" and not queue.enabled:
        messages.error(
            request,
            gettext("%(queue)s is not taking new tickets right now. Nothing was sent.")
            % {"queue": queue.name},
        )
    elif request.method == "POST" and form.is_valid():
        limit_submission(request, "support-submit", email=form.cleaned_data["email"])
        try:
            ticket = services.support_ticket_submit(
                tenant=tenant,
                queue=queue,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                priority=form.cleaned_data["priority"],
                location=form.cleaned_data["location"],
                custom_data=form.custom_data(),
                metadata={**form.custom_data(), "channel": "web"},
                attachments=form.cleaned_data["attachments"],
                email_consent=form.cleaned_data["email_consent"],
                submission_token=form.cleaned_data["submission_token"],
                actor=request.user if request.user.is_authenticated else None,
                subcategory=form.cleaned_data.get("subcategory", ""),
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request,
                gettext("Sent! Your ticket number is %(reference)s. Keep it to follow and reply.")
                % {"reference": ticket.reference},
            )
            return redirect("support:customer_ticket", reference=ticket.reference)
    status = 200 if request.method == "GET" else 400
    return render(
        request, "support/submit.html", {"tenant": tenant, "queue": queue, "form": form}, status=status
    )


@require_http_methods(["GET", "POST"])
def customer_ticket(request, reference: str):
    read_at = time.time()  # before the read: the live socket reports anything announced after this
    check_rate("ticket-status", client_address(request))
    ticket = selectors.customer_ticket(reference)
    if ticket.reference != reference:
        return redirect("support:customer_ticket", reference=ticket.reference)
    form = CustomerReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        # A reply speaks as the ticket's customer: their email is the per-person key.
        author_email = ticket.customer.email if ticket.customer_id else None
        limit_submission(request, "support-reply", email=author_email)
        try:
            services.support_customer_reply(
                ticket=ticket,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, gettext("Thanks, your reply was sent to the team."))
            return redirect("support:customer_ticket", reference=ticket.reference)
    activity = selectors.customer_activity(ticket)
    public_comment_ids = [entry.comment.pk for entry in activity if entry.comment is not None]
    files = TicketAttachment.objects.filter(ticket=ticket).filter(
        comment__isnull=True
    ) | TicketAttachment.objects.filter(ticket=ticket, comment_id__in=public_comment_ids)
    attachments: dict = {}
    for file in files.order_by("id"):
        attachments.setdefault(file.comment_id, []).append(file)
    support_queue = selectors.settings_for(ticket.queue)
    badge = selectors.sla_badge(
        ticket,
        now=timezone.now(),
        viewer_zone=ticket.queue.zone,
        due_soon_minutes=support_queue.due_soon_minutes,
    )
    return render(
        request,
        "support/customer_ticket.html",
        {
            "ticket": ticket,
            "tenant": ticket.tenant,
            "queue": ticket.queue,
            "activity": activity,
            "form": form,
            "badge": badge,
            "closed": ticket.phase in services.CLOSED_PHASES,
            "attachments": attachments,
            "socket_path": f"/ws/support/status/{ticket.reference}/?seen={read_at:.3f}",
        },
        status=400 if request.method == "POST" else 200,
    )


def customer_attachment(request, reference: str, pk: int):
    """A file of the ticket itself or of a public comment; files of internal comments are 404."""
    check_rate("ticket-status", client_address(request))
    ticket = selectors.customer_ticket(reference)
    file = TicketAttachment.objects.filter(ticket=ticket, pk=pk).exclude(comment__is_internal=True).first()
    if file is None:
        raise NotFound()
    response = FileResponse(file.file.open("rb"), as_attachment=True, filename=file.original_name)
    response["Content-Type"] = file.content_type
    response["X-Content-Type-Options"] = "nosniff"
    return response
