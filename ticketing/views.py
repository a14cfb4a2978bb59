"""Ticketing pages. Views only resolve the tenant (and member role), validate forms and call services;
domain errors become messages next to the form, or the error page through ``core.middleware``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Busy, Conflict, NotFound, PermissionDenied, SoldOut, ValidationError
from core.forms import show_domain_error
from core.holders import address_key, browser_key, is_holder
from core.ratelimit import check_rate, client_address
from core.references import new_token
from core.signing import sign, unsign
from core.templatetags.vq import mask_email
from core.tenancy import get_for_tenant
from tenants.access import get_public_tenant, member_required
from tenants.models import Role
from ticketing import selectors, services
from ticketing.admission import AdmissionElsewhere
from ticketing.charts import sales_chart
from ticketing.events import availability_group, availability_text
from ticketing.forms import (
    CheckInForm,
    CustomerDetailsForm,
    EventForm,
    MyTicketsForm,
    PaymentForm,
    TierForm,
    VenueForm,
)
from ticketing.models import Event, Order, OrderStatus, SessionStatus, TicketTier, Venue
from ticketing.panels import render_event_panels
from ticketing.payments import PaymentDeclined, providers_for
from ticketing.payments.receipts import receipt_view
from ticketing.pricing import checkout_quote, fee_per_ticket, line_unit_price, price_lines
from ticketing.qr import ticket_qr_svg
from ticketing.views_payments import buyer_refundable
from ticketing.views_wait import wait_url

MY_TICKETS_SALT = "ticketing.my_tickets"
MY_TICKETS_MAX_AGE = 7 * 24 * 3600
CHECKOUT_RATE = "20/60"


# --- public ---------------------------------------------------------------------------------------


def event_detail(request, tenant_slug, event_slug):
    tenant = get_public_tenant(tenant_slug)
    event = selectors.event_for_public(tenant, event_slug)
    now = timezone.now()
    tiers = selectors.tiers_with_availability(event, now=now)
    for tier in tiers:
        tier.fee_cents = fee_per_ticket(event=event, unit_price_cents=tier.price_cents)
        # What one ticket costs the buyer, fee and tax in, priced as the checkout prices it.
        tier.pay = price_lines(event=event, lines=[(tier.price_cents, 1)])
        tier.available_text = availability_text(tier.live_available)
        tier.choices = range(0, max(0, min(tier.max_per_order, tier.live_available, event.per_order_max)) + 1)
    sale_open = (
        event.status in services.SELLABLE_STATUSES
        and (event.sale_starts_at is None or event.sale_starts_at <= now)
        and (event.sale_ends_at is None or now < event.sale_ends_at)
        and now < event.ends_at
    )
    any_left = any(tier.live_available > 0 and tier.on_sale_now for tier in tiers)
    return render(
        request,
        "ticketing/event_detail.html",
        {
            "tenant": tenant,
            "event": event,
            "tiers": tiers,
            "sale_open": sale_open,
            "any_left": any_left,
            # A sale behind a waiting room is bought from the entry page with an admission token.
            "through_waiting_room": event.waiting_room_enabled,
            "panels": render_event_panels(request, event),  # other apps' pieces (ticketing.panels)
            "sale_state": event.sale_state(now),
            "status_label": selectors.sale_status_label(event, now=now, any_left=any_left),
            "socket_path": f"/ws/ticketing/{tenant.id}/events/{event.id}/",
            "group": availability_group(tenant.id, event.id),
        },
    )


@require_POST
def checkout_start(request, tenant_slug, event_slug):
    tenant = get_public_tenant(tenant_slug)
    event = selectors.event_for_public(tenant, event_slug)
    check_rate("ticketing-checkout", client_address(request), CHECKOUT_RATE)
    quantities = {}
    for key, value in request.POST.items():
        if not key.startswith("tier_"):
            continue  # anything else (a price, a total) is not the buyer's to set: prices are ours
        tier_id, value = key[5:], value.strip() or "0"
        if not (tier_id.isascii() and tier_id.isdigit() and value.isascii() and value.isdigit()):
            # "1.5", "-1", "abc": say so instead of silently buying the other lines without it.
            messages.error(request, _("Choose a whole number of tickets (0 or more) for each ticket type."))
            return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
        if len(tier_id) > 18:
            raise NotFound(_("That ticket type is not available."))
        # An absurdly long number stays absurd (the per-order limit refuses it) without being parsed.
        quantities[int(tier_id)] = int(value) if len(value) <= 18 else 10**18
    admission = request.POST.get("admission") or request.session.get(f"admission:{event.id}")
    try:
        session = services.checkout_open(
            tenant=tenant,
            event=event,
            quantities=quantities,
            actor=request.user,
            admission=admission,
            holder_key=browser_key(request),
            address_key=address_key(request),
        )
    except AdmissionElsewhere as error:
        # Someone else's admission (a forwarded page or link): refused; the holder's turn is untouched.
        return render(
            request,
            "ticketing/admission_elsewhere.html",
            {"tenant": tenant, "event": event, "message": error.message},
            status=403,
        )
    except services.CheckoutAlreadyOpen as error:
        messages.error(request, error.message)
        if error.session_token:  # this browser's own checkout: back to it
            return redirect("ticketing_public:checkout", tenant_slug=tenant.slug, token=error.session_token)
        return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
    except services.CheckoutFull:
        if event.waiting_room_enabled:
            messages.error(request, _("Every checkout place is taken. Please try again in a minute."))
            return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
        # Wait on a page that lets the buyer in by itself when a place frees, keeping their choice.
        return redirect(wait_url(tenant, event, quantities))
    except (SoldOut, ValidationError, Busy, Conflict, PermissionDenied) as error:
        messages.error(request, error.message)
        return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
    return redirect("ticketing_public:checkout", tenant_slug=tenant.slug, token=session.token)


def _refuse_other_browser(request, tenant, session):
    """A checkout link opened in another browser than the one that started it: refused, and nothing of
    the holder's checkout (seats, details, time) is touched or shown."""
    return render(
        request, "ticketing/checkout_elsewhere.html", {"tenant": tenant, "event": session.event}, status=403
    )


def checkout_page(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    session = selectors.session_for_public(tenant, token)
    if not is_holder(request, holder_key=session.holder_key, user_id=session.user_id):
        return _refuse_other_browser(request, tenant, session)
    if session.status == SessionStatus.COMPLETED:
        order = Order.objects.get(session=session)
        return redirect("ticketing_public:order", tenant_slug=tenant.slug, token=order.access_token)
    now = timezone.now()
    event = session.event
    lines = selectors.session_lines(session)
    for line in lines:
        line.unit_price = line_unit_price(line)
    quote = checkout_quote(session=session, lines=lines)
    amounts = quote.amounts
    context = {
        "tenant": tenant,
        "event": event,
        "session": session,
        "lines": lines,
        "amounts": amounts,
        "currency": quote.currency,
        "price_changed": not quote.honoured,
        "live": session.is_live(now),
        "seconds_left": max(0, int((session.expires_at - now).total_seconds())),
    }
    if not context["live"]:
        return render(request, "ticketing/checkout_ended.html", context, status=410)
    providers = providers_for(amounts.total_cents, tenant, event)
    step = request.POST.get("step") or (
        "details" if session.customer_id is None or "edit" in request.GET else "pay"
    )
    details_form = CustomerDetailsForm(
        request.POST if request.method == "POST" and step == "details" else None,
        initial={
            "name": session.buyer_name or getattr(session.customer, "name", ""),
            "email": session.buyer_email or getattr(session.customer, "email", ""),
        },
    )
    pay_form = PaymentForm(
        request.POST if request.method == "POST" and step == "pay" else None,
        providers=providers,
        initial={
            "idempotency_key": new_token(),
            "expected_total": amounts.total_cents,
            "expected_currency": quote.currency,
        },
    )
    if request.method == "POST" and step == "details" and details_form.is_valid():
        try:
            services.checkout_set_customer(
                tenant=tenant, session=session, actor=request.user, **details_form.cleaned_data
            )
            return redirect("ticketing_public:checkout", tenant_slug=tenant.slug, token=session.token)
        except ValidationError as error:
            show_domain_error(details_form, error)
    paying = request.method == "POST" and step == "pay" and pay_form.is_valid()
    if paying and pay_form.cleaned_data["provider"] == "stripe":
        # Card payments continue on the card page (Stripe's Payment Element); nothing is paid here.
        from ticketing.payments.stripe_checkout import checkout_stripe_start

        try:
            checkout_stripe_start(tenant=tenant, session=session)
            return redirect("ticketing_public:checkout_card", tenant_slug=tenant.slug, token=session.token)
        except ValidationError as error:
            show_domain_error(pay_form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
    if paying and not pay_form.errors:
        try:
            order = services.checkout_complete(
                tenant=tenant,
                session=session,
                provider=pay_form.cleaned_data["provider"],
                payment_details={"card_number": pay_form.cleaned_data.get("card_number", "")},
                idempotency_key=pay_form.cleaned_data["idempotency_key"],
                expected_total_cents=pay_form.cleaned_data.get("expected_total"),
                expected_currency=pay_form.cleaned_data.get("expected_currency") or "",
                actor=request.user,
            )
            return redirect("ticketing_public:order", tenant_slug=tenant.slug, token=order.access_token)
        except services.PriceChanged as error:
            # Show the new total and let the buyer confirm it: the next submit carries it.
            data = request.POST.copy()
            data["expected_total"] = str(error.total_cents)
            data["expected_currency"] = error.currency
            data["idempotency_key"] = new_token()
            pay_form = PaymentForm(data, providers=providers)
            pay_form.is_valid()
            show_domain_error(pay_form, error)
            context["price_changed"] = True
        except (PaymentDeclined, ValidationError) as error:
            show_domain_error(pay_form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
    context.update({"step": step, "details_form": details_form, "pay_form": pay_form})
    status = 422 if request.method == "POST" else 200
    return render(request, "ticketing/checkout.html", context, status=status)


@require_POST
def checkout_abandon(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    session = selectors.session_for_public(tenant, token)
    if not is_holder(request, holder_key=session.holder_key, user_id=session.user_id):
        return _refuse_other_browser(request, tenant, session)
    services.checkout_abandon(tenant=tenant, session=session)
    messages.success(request, _("Your checkout was cancelled and the tickets were released."))
    return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=session.event.slug)


def order_page(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    check_rate("ticketing-lookup", client_address(request))
    order = selectors.order_for_public(tenant, token)
    tickets = selectors.order_tickets(order)
    for ticket in tickets:
        ticket.qr = ticket_qr_svg(ticket.code, scale=4)
    return render(
        request,
        "ticketing/order.html",
        {
            "tenant": tenant,
            "order": order,
            "event": order.event,
            "tickets": tickets,
            "items": order.items.all(),
            "money": receipt_view(order),
            "refundable": buyer_refundable(order, timezone.now()),
        },
    )


def ticket_page(request, tenant_slug, code):
    tenant = get_public_tenant(tenant_slug)
    check_rate("ticketing-lookup", client_address(request))
    ticket = selectors.ticket_for_public(tenant, code)
    return render(
        request,
        "ticketing/ticket.html",
        {
            "tenant": tenant,
            "ticket": ticket,
            "event": ticket.event,
            "qr": ticket_qr_svg(ticket.code, scale=6),
        },
    )


def my_tickets_request(request, tenant_slug):
    tenant = get_public_tenant(tenant_slug)
    form = MyTicketsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check_rate("ticketing-my-tickets", client_address(request), "5/300")
        check_rate(
            "ticketing-my-tickets:email",
            form.cleaned_data["email"].lower(),
            settings.RATE_LIMIT_SUBMISSIONS_PER_EMAIL,
        )
        email = form.cleaned_data["email"].lower()
        if selectors.tickets_for_email(tenant, email):
            token = sign({"t": tenant.id, "e": email}, salt=MY_TICKETS_SALT)
            link = settings.SITE_URL + reverse(
                "ticketing_public:my_tickets", kwargs={"tenant_slug": tenant.slug, "signed": token}
            )
            send_mail(
                _("Your tickets from %(tenant)s") % {"tenant": tenant.name},
                _("Open this link to see your tickets (it works for 7 days):") + f"\n\n{link}\n",
                None,
                [email],
            )
        # The same answer either way: the page must not reveal who bought tickets.
        messages.success(
            request, _("If we have tickets for that address, we have emailed you a link to them.")
        )
        return redirect("ticketing_public:my_tickets_request", tenant_slug=tenant.slug)
    return render(request, "ticketing/my_tickets_request.html", {"tenant": tenant, "form": form})


@require_POST
def order_link_request(request, tenant_slug):
    """The reference lookup's "email me the link" for an order reference (``tenants.lookup``): the
    confirmation goes again to the address the order was bought with; the page never opens from the
    reference alone. Limited per address and per order."""
    from core.references import normalize_reference

    tenant = get_public_tenant(tenant_slug)
    reference = normalize_reference(str(request.POST.get("reference", ""))[:100])
    order = (
        Order.objects.for_tenant(tenant)
        .select_related("customer", "event")
        .filter(reference=reference)
        .first()
        if reference
        else None
    )
    if order is None:
        raise NotFound(_("We found no order with that reference. Check it and try again."))
    check_rate("ticketing-order-link", client_address(request), "5/300")
    check_rate("ticketing-order-link:order", order.reference, "3/3600")
    services.order_link_send(order=order)
    messages.success(
        request,
        _("We have emailed the link to order %(reference)s to %(email)s.")
        % {"reference": order.reference, "email": mask_email(order.customer.email)},
    )
    return redirect(reverse("tenant_lookup", kwargs={"tenant_slug": tenant.slug}))


def my_tickets(request, tenant_slug, signed):
    tenant = get_public_tenant(tenant_slug)
    payload = unsign(signed, salt=MY_TICKETS_SALT, max_age_seconds=MY_TICKETS_MAX_AGE)
    if payload.get("t") != tenant.id:
        raise NotFound(_("This link is not valid. Check that you copied all of it."))
    sections = selectors.my_tickets_sections(tenant, payload["e"])
    return render(
        request,
        "ticketing/my_tickets.html",
        {"tenant": tenant, "sections": sections, "email": payload["e"], "any": any(sections.values())},
    )


# --- dashboard ------------------------------------------------------------------------------------


def _event(request, event_id) -> Event:
    return get_for_tenant(Event.objects.select_related("venue"), request.tenant, pk=event_id)


@member_required(Role.STAFF)
def dashboard_events(request):
    return render(
        request,
        "ticketing/dash_events.html",
        {
            "events": selectors.dashboard_events(request.tenant),
            "venues": Venue.objects.for_tenant(request.tenant),
        },
    )


@member_required(Role.MANAGER)
def dashboard_event_create(request):
    form = EventForm(request.POST or None, tenant=request.tenant)
    if not Venue.objects.for_tenant(request.tenant).exists():
        messages.info(request, _("Add a venue first: events happen at a venue."))
        return redirect("ticketing:venue_create", tenant_slug=request.tenant.slug)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        venue = fields.pop("venue")
        try:
            event = services.event_create(tenant=request.tenant, actor=request.user, venue=venue, **fields)
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Event created as a draft. Add tiers, then put it on sale."))
            return redirect("ticketing:event", tenant_slug=request.tenant.slug, event_id=event.id)
    return render(request, "ticketing/dash_event_form.html", {"form": form, "event": None})


@member_required(Role.MANAGER)
def dashboard_event_edit(request, event_id):
    event = _event(request, event_id)
    form = EventForm(request.POST or None, tenant=request.tenant, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            services.event_update(
                tenant=request.tenant, actor=request.user, event=event, **form.service_fields()
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Event saved."))
            return redirect("ticketing:event", tenant_slug=request.tenant.slug, event_id=event.id)
    return render(request, "ticketing/dash_event_form.html", {"form": form, "event": event})


@member_required(Role.STAFF)
def dashboard_event(request, event_id):
    event = _event(request, event_id)
    summary = selectors.sales_summary(event)
    return render(
        request,
        "ticketing/dash_event.html",
        {
            "event": event,
            "summary": summary,
            "chart": sales_chart(summary["per_day"]),
            "orders": selectors.event_orders(event, limit=50),
            "public_url": reverse(
                "ticketing_public:event",
                kwargs={"tenant_slug": request.tenant.slug, "event_slug": event.slug},
            ),
        },
    )


@member_required(Role.MANAGER)
@require_POST
def dashboard_event_action(request, event_id, action):
    event = _event(request, event_id)
    actions = {"publish": services.event_publish, "cancel": services.event_cancel, "end": services.event_end}
    if action not in actions:
        raise NotFound()
    try:
        actions[action](tenant=request.tenant, actor=request.user, event=event)
        messages.success(
            request,
            {
                "publish": _("The event is on sale."),
                "cancel": _("The event is cancelled."),
                "end": _("The event has ended."),
            }[action],
        )  # noqa: E501
    except (ValidationError, Conflict) as error:
        messages.error(request, error.message)
    return redirect("ticketing:event", tenant_slug=request.tenant.slug, event_id=event.id)


@member_required(Role.MANAGER)
def dashboard_tier_form(request, event_id, tier_id=None):
    event = _event(request, event_id)
    tier = get_for_tenant(TicketTier, request.tenant, pk=tier_id, event=event) if tier_id else None
    form = TierForm(request.POST or None, event=event, tier=tier)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            if tier is None:
                services.tier_create(tenant=request.tenant, actor=request.user, event=event, **fields)
            else:
                services.tier_update(tenant=request.tenant, actor=request.user, tier=tier, **fields)
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Tier saved."))
            return redirect("ticketing:event", tenant_slug=request.tenant.slug, event_id=event.id)
    return render(request, "ticketing/dash_tier_form.html", {"form": form, "event": event, "tier": tier})


@member_required(Role.MANAGER)
def dashboard_venue_form(request, venue_id=None):
    venue = get_for_tenant(Venue, request.tenant, pk=venue_id) if venue_id else None
    form = VenueForm(request.POST or None, instance=venue)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            if venue is None:
                services.venue_create(tenant=request.tenant, actor=request.user, **fields)
            else:
                services.venue_update(tenant=request.tenant, actor=request.user, venue=venue, **fields)
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Venue saved."))
            return redirect("ticketing:events", tenant_slug=request.tenant.slug)
    return render(request, "ticketing/dash_venue_form.html", {"form": form, "venue": venue})


@member_required(Role.STAFF)
def dashboard_orders(request):
    status = request.GET.get("status", "")
    if status not in OrderStatus.values:
        status = ""
    query = request.GET.get("q", "")[:100]
    return render(
        request,
        "ticketing/dash_orders.html",
        {
            "orders": selectors.tenant_orders(request.tenant, status=status, query=query),
            "status": status,
            "query": query,
            "statuses": OrderStatus.choices,
        },
    )


@member_required(Role.STAFF)
def dashboard_order(request, order_id):
    order = get_for_tenant(Order.objects.select_related("event", "customer"), request.tenant, pk=order_id)
    return render(
        request,
        "ticketing/dash_order.html",
        {
            "order": order,
            "items": order.items.all(),
            "tickets": order.tickets.select_related("tier", "used_by"),
            "money": receipt_view(order),
        },
    )


@member_required(Role.MANAGER)
@require_POST
def dashboard_order_action(request, order_id, action):
    order = get_for_tenant(Order, request.tenant, pk=order_id)
    actions = {
        "mark-paid": (services.order_mark_paid, _("Marked as paid.")),
        "cancel": (services.order_cancel, _("Order cancelled; its seats are back on sale.")),
        "refund": (services.order_refund, _("Order refunded; its seats are back on sale.")),
    }
    if action not in actions:
        raise NotFound()
    service, done = actions[action]
    try:
        service(tenant=request.tenant, actor=request.user, order=order)
        messages.success(request, done)
    except Conflict as error:
        messages.error(request, error.message)
    return redirect("ticketing:order", tenant_slug=request.tenant.slug, order_id=order.id)


@member_required(Role.STAFF)
def dashboard_check_in(request, event_id):
    event = _event(request, event_id)
    form = CheckInForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.ticket_check_in(
            tenant=request.tenant,
            actor=request.user,
            event=event,
            code=form.cleaned_data["code"],
            payment_collected=form.cleaned_data["payment_collected"],
        )
        form = CheckInForm()  # ready for the next scan
    return render(
        request,
        "ticketing/check_in.html",
        {
            "event": event,
            "form": form,
            "result": result,
            "summary_checked_in": selectors.checked_in_count(event),
        },
    )


def signed_my_tickets_token(tenant, email: str) -> str:
    """For tests and the confirmation email: the signed my-tickets token of ``email``."""
    return sign({"t": tenant.id, "e": email.lower()}, salt=MY_TICKETS_SALT)
