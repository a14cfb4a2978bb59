"""Ticketing pages about money: the Stripe card step, the return page, receipts, refunds (buyer and
staff) and the event's refund policy. Views resolve the tenant, validate forms and call services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.csp import allow_stripe_on
from core.errors import Conflict, DomainError, NotFound, ValidationError
from core.money import format_money
from core.ratelimit import check_rate, client_address
from core.tenancy import get_for_tenant
from payments.gateway import STRIPE, stripe_credentials
from payments.models import EventRefundPolicy, Payment, PaymentStatus, TenantPaymentSettings
from tenants.access import get_public_tenant, member_required
from tenants.models import Role
from ticketing import selectors
from ticketing.forms import RefundPolicyForm
from ticketing.models import Event, Order, OrderStatus, SessionStatus, TicketStatus
from ticketing.payments.receipts import receipt_view
from ticketing.payments.refunds import order_refund_by_buyer, order_refund_tickets, refund_policy_set
from ticketing.payments.stripe_checkout import client_secret_for, payment_confirm


def _latest_card_payment(session) -> Payment | None:
    return Payment.objects.filter(session=session, provider=STRIPE).order_by("-created_at").first()


def checkout_card(request, tenant_slug, token):
    """The card step: Stripe's Payment Element for the session's PaymentIntent (Stripe.js confirms it)."""
    tenant = get_public_tenant(tenant_slug)
    session = selectors.session_for_public(tenant, token)
    if session.status == SessionStatus.COMPLETED:
        order = Order.objects.get(session=session)
        return redirect("ticketing_public:order", tenant_slug=tenant.slug, token=order.access_token)
    payment = _latest_card_payment(session)
    if not session.is_live(timezone.now()) or payment is None or payment.status != PaymentStatus.PENDING:
        return redirect("ticketing_public:checkout", tenant_slug=tenant.slug, token=session.token)
    credentials = stripe_credentials(tenant)
    if credentials is None:
        raise NotFound()
    page = render(
        request,
        "ticketing/checkout_card.html",
        {
            "tenant": tenant,
            "event": session.event,
            "session": session,
            "payment": payment,
            "publishable_key": credentials.publishable_key,
            "client_secret": client_secret_for(payment),
            "stripe_js_url": settings.STRIPE_JS_URL,
            "return_url": request.build_absolute_uri(
                reverse("ticketing_public:checkout_paid", args=[tenant.slug, session.token])
            ),
        },
    )
    return allow_stripe_on(page)  # Stripe.js on this response only


def checkout_paid(request, tenant_slug, token):
    """Where Stripe sends the buyer back. GET only shows the state; "Check now" (POST) asks Stripe."""
    tenant = get_public_tenant(tenant_slug)
    session = selectors.session_for_public(tenant, token)
    order = (
        Order.objects.filter(session=session).first()
        or Order.objects.filter(payments__session=session, tenant=tenant).first()
    )
    payment = _latest_card_payment(session)
    if order is None and payment is not None and payment.order_id:
        order = payment.order
    if order is not None:
        return redirect("ticketing_public:order", tenant_slug=tenant.slug, token=order.access_token)
    if request.method == "POST":
        if payment is None:
            return redirect("ticketing_public:checkout", tenant_slug=tenant.slug, token=session.token)
        try:
            order = payment_confirm(tenant=tenant, intent_id=payment.reference)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("ticketing_public:checkout_paid", tenant_slug=tenant.slug, token=session.token)
        if order is not None:
            return redirect("ticketing_public:order", tenant_slug=tenant.slug, token=order.access_token)
        payment.refresh_from_db()
        if payment.status == PaymentStatus.FAILED:
            messages.error(
                request,
                _("%(reason)s Your tickets were released; nothing was charged.")
                % {"reason": _(payment.failure_message) if payment.failure_message else ""},
            )
            return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=session.event.slug)
        if payment.status == PaymentStatus.REFUNDED or payment.pending_action == "refund":
            messages.error(
                request,
                _(
                    "Your payment arrived after your tickets were released and they are gone; "
                    "we refunded the whole amount."
                ),
            )
            return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=session.event.slug)
        messages.info(
            request, _("The card processor is still confirming your payment. Check again in a moment.")
        )
        return redirect("ticketing_public:checkout_paid", tenant_slug=tenant.slug, token=session.token)
    return render(
        request,
        "ticketing/checkout_paid.html",
        {"tenant": tenant, "event": session.event, "session": session, "payment": payment},
    )


def _order_context(order: Order) -> dict:
    return {"money": receipt_view(order)}


def order_receipt(request, tenant_slug, token):
    """The printable receipt (a print stylesheet; the browser's "Save as PDF" makes the PDF)."""
    tenant = get_public_tenant(tenant_slug)
    check_rate("ticketing-lookup", client_address(request))
    order = selectors.order_for_public(tenant, token)
    details = TenantPaymentSettings.objects.filter(tenant=tenant).first()
    return render(
        request,
        "ticketing/receipt.html",
        {
            "tenant": tenant,
            "order": order,
            "event": order.event,
            "items": order.items.all(),
            "details": details,
            **_order_context(order),
        },
    )


@require_POST
def order_refund_request(request, tenant_slug, token):
    """The buyer refunds some or all of their tickets (until the promoter's deadline)."""
    tenant = get_public_tenant(tenant_slug)
    check_rate("ticketing-lookup", client_address(request))
    order = selectors.order_for_public(tenant, token)
    ticket_ids = _ticket_ids(request)
    try:
        refund = order_refund_by_buyer(tenant=tenant, order=order, ticket_ids=ticket_ids or None)
        messages.success(
            request,
            _("Refund of %(amount)s on its way.")
            % {"amount": format_money(refund.amount_cents, refund.currency)},
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("ticketing_public:order", tenant_slug=tenant.slug, token=order.access_token)


def _ticket_ids(request) -> list[int]:
    ids = []
    for value in request.POST.getlist("ticket"):
        try:
            ids.append(int(value))
        except ValueError:
            raise ValidationError(_("Choose tickets from the list.")) from None
    return ids


@member_required(Role.MANAGER)
@require_POST
def dashboard_order_refund(request, order_id):
    """Staff refund the chosen tickets of an order (all remaining ones when none is chosen)."""
    order = get_for_tenant(Order, request.tenant, pk=order_id)
    try:
        ticket_ids = _ticket_ids(request)
        refund = order_refund_tickets(
            tenant=request.tenant,
            actor=request.user,
            order=order,
            ticket_ids=ticket_ids or None,
            reason=request.POST.get("reason", "")[:200],
        )
        amount = format_money(refund.amount_cents, refund.currency)
        if refund.status == "succeeded":
            done = _("Refund of %(amount)s sent.") % {"amount": amount}
        else:
            done = _("Refund of %(amount)s recorded; the card processor is confirming it.") % {
                "amount": amount
            }
        messages.success(request, done)
    except (Conflict, ValidationError) as error:
        messages.error(request, error.message)
    return redirect("ticketing:order", tenant_slug=request.tenant.slug, order_id=order.id)


@member_required(Role.MANAGER)
def dashboard_refund_policy(request, event_id):
    """Set until when buyers may refund their own tickets for this event."""
    event = get_for_tenant(Event, request.tenant, pk=event_id)
    policy = EventRefundPolicy.objects.filter(event=event).first()
    initial = {"buyer_refunds_until": policy.buyer_refunds_until if policy else None}
    form = RefundPolicyForm(request.POST or None, event=event, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            refund_policy_set(
                tenant=request.tenant,
                actor=request.user,
                event=event,
                buyer_refunds_until=form.cleaned_data["buyer_refunds_until"],
            )
            messages.success(request, _("Refund policy saved."))
            return redirect("ticketing:event", tenant_slug=request.tenant.slug, event_id=event.id)
        except ValidationError as error:
            form.add_error("buyer_refunds_until", error.message)
    return render(
        request,
        "ticketing/dash_refund_policy.html",
        {"event": event, "form": form, "policy": policy},
        status=422 if request.method == "POST" else 200,
    )


def buyer_refundable(order: Order, now) -> list:
    """Tickets the buyer may refund themselves right now (empty after the deadline)."""
    if order.status != OrderStatus.PAID:
        return []
    policy = EventRefundPolicy.objects.filter(event_id=order.event_id).first()
    if policy is None or not policy.buyer_may_refund(now):
        return []
    return [ticket for ticket in order.tickets.all() if ticket.status == TicketStatus.VALID]
