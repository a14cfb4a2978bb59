"""Waitlist pages. Public: join (from a sold-out event), the person's place in line (live), the offer
(claim / decline). Dashboard: events, one event's line with offers and conversion, staff actions.
State changes only on POST; services do all writes."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.errors import Conflict, SoldOut, ValidationError
from core.forms import show_domain_error
from core.holders import browser_key
from core.ratelimit import check_rate, client_address, limit_submission
from core.scope_language import with_language
from core.tenancy import get_for_tenant
from tenants.access import get_public_tenant, member_required
from tenants.models import Role
from ticketing.models import CheckoutSession, Event, EventStatus, TicketTier
from waitlists import selectors, services
from waitlists.forms import ANY_TIER, JoinForm, SettingsForm
from waitlists.models import EntryStatus

# --- public ---------------------------------------------------------------------------------------


def join(request, tenant_slug, event_slug):
    tenant = get_public_tenant(tenant_slug)
    event = selectors.public_event(tenant, event_slug)
    options = services.settings_for(event)
    tiers = list(TicketTier.objects.filter(event=event, is_active=True).order_by("position", "id"))
    form = JoinForm(request.POST or None, tiers=tiers, max_quantity=services.max_quantity(event, options))
    if request.method == "POST" and form.is_valid():
        limit_submission(request, "waitlist-join", email=form.cleaned_data["email"])
        choice = form.cleaned_data["tier"]
        tier = None if choice == ANY_TIER else next(t for t in tiers if str(t.id) == choice)
        try:
            entry, created = services.waitlist_join(
                tenant=tenant,
                event=event,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                quantity=form.cleaned_data["quantity"],
                tier=tier,
                actor=request.user,
            )
        except ValidationError as error:
            show_domain_error(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("You're on the waitlist.")
                if created
                else _("You were already on this waitlist: here is your place."),
            )
            return redirect("waitlists_public:entry", tenant_slug=tenant.slug, token=entry.access_token)
    available = sum(max(0, tier.available) for tier in tiers)
    open_for_joining = options.enabled and event.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT)
    return render(
        request,
        "waitlists/join.html",
        {
            "tenant": tenant,
            "event": event,
            "form": form,
            "tiers": tiers,
            "available": available,
            "open_for_joining": open_for_joining,
            "options": options,
        },
        status=422 if request.method == "POST" else 200,
    )


def entry_page(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    check_rate("waitlist-lookup", client_address(request))
    entry = selectors.entry_for_public(tenant, token)
    now = timezone.now()
    status = entry.effective_status(now)
    context = {
        "tenant": tenant,
        "event": entry.event,
        "entry": entry,
        "status": status,
        "status_label": EntryStatus(status).label,
        "position": selectors.entry_position(entry),
        "socket_path": with_language(f"/ws/waitlists/{entry.access_token}/"),
    }
    if status == EntryStatus.OFFERED:
        context["offer_path"] = services.offer_url(entry)
    if status == EntryStatus.CLAIMED and entry.checkout_token:
        session = CheckoutSession.objects.filter(token=entry.checkout_token).first()
        context["checkout_live"] = bool(session and session.is_live(now))
    return render(request, "waitlists/entry.html", context)


@require_POST
def leave(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    check_rate("waitlist-lookup", client_address(request))
    entry = selectors.entry_for_public(tenant, token)
    services.waitlist_withdraw(tenant=tenant, entry=entry, actor=request.user)
    messages.success(request, _("You left the waitlist. We won't send you offers for this place."))
    return redirect("waitlists_public:entry", tenant_slug=tenant.slug, token=entry.access_token)


def offer_page(request, tenant_slug, token, signed):
    tenant = get_public_tenant(tenant_slug)
    check_rate("waitlist-lookup", client_address(request))
    entry = selectors.entry_for_public(tenant, token)
    services.offer_verify(entry=entry, signed=signed)  # a link for another entry is refused here
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "claim":
                session = services.waitlist_claim(
                    tenant=tenant,
                    entry=entry,
                    signed=signed,
                    actor=request.user,
                    holder_key=browser_key(request),
                )
                return redirect("ticketing_public:checkout", tenant_slug=tenant.slug, token=session.token)
            if action == "decline":
                services.waitlist_decline(tenant=tenant, entry=entry, signed=signed)
                messages.success(
                    request, _("Thanks for letting us know: the tickets went to the next person in line.")
                )
                return redirect("waitlists_public:entry", tenant_slug=tenant.slug, token=entry.access_token)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("waitlists_public:offer", tenant_slug=tenant.slug, token=token, signed=signed)
    now = timezone.now()
    status = entry.effective_status(now)
    checkout_token = ""
    if status == EntryStatus.CLAIMED and entry.checkout_token:
        session = CheckoutSession.objects.filter(token=entry.checkout_token).first()
        checkout_token = session.token if session and session.is_live(now) else ""
    return render(
        request,
        "waitlists/offer.html",
        {
            "tenant": tenant,
            "event": entry.event,
            "entry": entry,
            "status": status,
            "signed": signed,
            "checkout_token": checkout_token,
            "price_cents": (entry.offered_tier.price_cents * entry.quantity) if entry.offered_tier_id else 0,
        },
        status=200 if status in (EntryStatus.OFFERED, EntryStatus.CLAIMED) else 410,
    )


# --- dashboard ------------------------------------------------------------------------------------


@member_required(Role.STAFF)
def dashboard_events(request):
    return render(request, "waitlists/dash_events.html", {"rows": selectors.dashboard_events(request.tenant)})


def _event(request, event_id) -> Event:
    return get_for_tenant(Event, request.tenant, pk=event_id)


@member_required(Role.STAFF)
def dashboard_event(request, event_id):
    event = _event(request, event_id)
    now = timezone.now()
    options = services.settings_for(event)
    entries = selectors.event_entries(event)
    for entry in entries:
        entry.shown_status = EntryStatus(entry.effective_status(now)).label
    return render(
        request,
        "waitlists/dash_event.html",
        {
            "event": event,
            "summary": selectors.event_summary(event, now=now),
            "entries": entries,
            "closed": selectors.event_closed_entries(event),
            "settings_form": SettingsForm(
                initial={
                    "enabled": options.enabled,
                    "offer_hours": options.offer_hours,
                    "max_quantity": options.max_quantity,
                }
            ),
            "can_manage": request.membership.has_role(Role.MANAGER),
            "public_join": reverse(
                "waitlists_public:join", kwargs={"tenant_slug": request.tenant.slug, "event_slug": event.slug}
            ),
            "now": now,
        },
    )


@member_required(Role.STAFF)
@require_POST
def dashboard_offer_round(request, event_id):
    event = _event(request, event_id)
    offered = services.waitlist_offer_next(event_id=event.id, actor=request.user)
    if offered:
        messages.success(
            request,
            ngettext("Sent %(count)s offer.", "Sent %(count)s offers.", len(offered))
            % {"count": len(offered)},
        )
    else:
        messages.info(request, _("No free seats fit the next people in line right now."))
    return redirect("waitlists:event", tenant_slug=request.tenant.slug, event_id=event.id)


@member_required(Role.STAFF)
@require_POST
def dashboard_offer_now(request, event_id, entry_id):
    event = _event(request, event_id)
    entry = selectors.entry_for_dashboard(request.tenant, event, entry_id)
    try:
        services.waitlist_offer_now(tenant=request.tenant, actor=request.user, entry=entry)
        messages.success(request, _("Offer sent to %(email)s.") % {"email": entry.customer.email})
    except (SoldOut, Conflict) as error:
        messages.error(request, error.message)
    return redirect("waitlists:event", tenant_slug=request.tenant.slug, event_id=event.id)


@member_required(Role.STAFF)
@require_POST
def dashboard_withdraw(request, event_id, entry_id):
    event = _event(request, event_id)
    entry = selectors.entry_for_dashboard(request.tenant, event, entry_id)
    try:
        services.waitlist_withdraw(tenant=request.tenant, entry=entry, actor=request.user)
        messages.success(request, _("Removed %(email)s from the waitlist.") % {"email": entry.customer.email})
    except Conflict as error:
        messages.error(request, error.message)
    return redirect("waitlists:event", tenant_slug=request.tenant.slug, event_id=event.id)


@member_required(Role.MANAGER)
@require_POST
def dashboard_settings(request, event_id):
    event = _event(request, event_id)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            services.waitlist_settings_update(
                tenant=request.tenant, actor=request.user, event=event, **form.cleaned_data
            )
            messages.success(request, _("Waitlist settings saved."))
        except ValidationError as error:
            messages.error(request, error.message)
    else:
        messages.error(
            request,
            _("Check the waitlist settings: %(errors)s")
            % {"errors": "; ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
    return redirect("waitlists:event", tenant_slug=request.tenant.slug, event_id=event.id)
