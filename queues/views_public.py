"""Public pages: the submission form and the status page. They authorise nothing beyond the public
reference, rate limit lookups, and call services for every change."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from core.csp import allow_stripe_on
from core.errors import NotFound, ValidationError
from core.forms import show_domain_error
from core.ratelimit import check_rate, client_address, limit_submission
from core.references import normalize_reference
from payments.gateway import stripe_credentials
from payments.tips import ticket_submit_with_tip, tip_provider_for
from queues import selectors
from queues.accuracy import note_shown
from queues.forms import SubmitForm
from queues.live import eta_basis_text, phase_text
from queues.models import Lane, Queue, QueueKind
from tenants.access import get_public_tenant


def _stripe_context(tenant) -> dict:
    from django.conf import settings

    credentials = stripe_credentials(tenant)
    return {"publishable_key": credentials.publishable_key, "js_url": settings.STRIPE_JS_URL}


@require_http_methods(["GET", "POST"])
def submit(request, tenant_slug: str, queue_slug: str):
    tenant = get_public_tenant(tenant_slug)
    queue = (
        Queue.objects.for_tenant(tenant)
        .select_related("ticket_type", "tenant")
        .filter(slug=queue_slug)
        .first()
    )
    if queue is None:
        raise NotFound(gettext("There is no queue at this address."))
    if queue.kind == QueueKind.SUPPORT:  # help-desk tickets are filed through the help desk's own form
        return redirect("support_public:submit", tenant_slug=tenant.slug, queue_slug=queue.slug)
    lanes = list(Lane.objects.filter(queue=queue).order_by("display_order", "id"))
    snapshot = selectors.queue_snapshot(queue)
    tip_provider = tip_provider_for(tenant)
    form = SubmitForm(
        request.POST or None, request.FILES or None, queue=queue, lanes=lanes, tip_provider=tip_provider
    )
    if request.method == "POST" and queue.enabled and form.is_valid():
        limit_submission(request, "queue-submit", email=form.cleaned_data["email"])
        try:
            # The tip (if any) is authorised on the card first, then the request is submitted.
            ticket = ticket_submit_with_tip(
                card_number=form.cleaned_data.get("card", ""),
                payment_method=form.cleaned_data.get("payment_method", ""),
                tenant=tenant,
                queue=queue,
                lane=form.chosen_lane(),
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                location=form.cleaned_data["location"],
                social_handle=form.cleaned_data["social_handle"],
                need_text=form.cleaned_data["need_text"],
                custom_data=form.custom_data(),
                tip_cents=form.cleaned_data["tip"],
                email_consent=form.cleaned_data["email_consent"],
                attachments=form.cleaned_data["attachments"],
                submission_token=form.cleaned_data["submission_token"],
                actor=request.user if request.user.is_authenticated else None,
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request,
                gettext("Sent! Your reference number is %(reference)s. Keep it to check back.")
                % {"reference": ticket.reference},
            )
            return redirect("queues:status", reference=ticket.reference)
    if request.method == "POST" and not queue.enabled:
        messages.error(
            request,
            gettext("%(queue)s is not taking new requests right now. Nothing was sent.")
            % {"queue": queue.name},
        )
    status = 200 if request.method == "GET" else 400
    page = render(
        request,
        "queues/submit.html",
        {
            "tenant": tenant,
            "queue": queue,
            "form": form,
            "snapshot": snapshot,
            "lanes": snapshot.lanes,
            "stripe": _stripe_context(tenant) if tip_provider == "stripe" else None,
        },
        status=status,
    )
    # The tip's card form (Stripe's Payment Element) only where the creator takes card tips.
    return allow_stripe_on(page) if tip_provider == "stripe" else page


def status_lookup(request):
    """``/status/?reference=…`` (the home and 404 pages' lookup forms) → the status page."""
    text = request.GET.get("reference", "")
    if text:
        check_rate("ticket-status", client_address(request))
        reference = normalize_reference(text)
        if reference:
            return redirect("queues:status", reference=reference)
        return render(
            request,
            "queues/status_lookup.html",
            {
                "error": gettext("That does not look like a reference number (12 letters and digits)."),
                "value": text,
            },
            status=404,
        )
    return render(request, "queues/status_lookup.html", {})


def status(request, reference: str):
    """State in words, lane, position, ETA range, the queue's rule and history. Rate limited per client;
    constant query count: the ticket, the lanes, one lane-rank count, the history, the public comments."""
    check_rate("ticket-status", client_address(request))
    try:
        ticket = selectors.ticket_for_status(reference)
    except NotFound:
        return render(
            request,
            "queues/status_lookup.html",
            {
                "error": gettext("There is no ticket with that reference number. Check it and try again."),
                "value": reference,
            },
            status=404,
        )
    if ticket.queue.kind == QueueKind.SUPPORT:
        # A help-desk ticket has a conversation, not a place in line: its own page shows it.
        return redirect("support:customer_ticket", reference=ticket.reference)
    if ticket.reference != reference:
        return redirect("queues:status", reference=ticket.reference)
    now = timezone.now()
    snapshot = selectors.queue_snapshot(ticket.queue, rank_for=ticket)
    place, rank = selectors.ticket_position(ticket, snapshot)
    expired = ticket.is_expired(now)
    if expired:
        place = None
    eta = snapshot.eta(place)
    if eta is not None:
        # ETA accuracy: note the range shown at this position (Redis only; scored when served).
        note_shown(
            scope="queue",
            scope_id=ticket.queue_id,
            tenant_id=ticket.tenant_id,
            item_id=ticket.pk,
            forecast=eta.forecast,
        )
    history = selectors.ticket_history(ticket)
    return render(
        request,
        "queues/status.html",
        {
            "ticket": ticket,
            "queue": ticket.queue,
            "tenant": ticket.tenant,
            "snapshot": snapshot,
            "position": place,
            "rank": rank,
            "eta": eta,
            "expired": expired,
            "eta_basis": eta_basis_text(eta.basis if eta else None, in_line=bool(place)),
            "phase_text": phase_text(ticket.phase, expired=expired, tenant_name=ticket.tenant.name),
            "history": history,
            "comments": selectors.public_comments(ticket),
            "socket_path": reverse("queues:status", args=[ticket.reference]).replace(
                "/status/", "/ws/queues/status/", 1
            ),
        },
    )
