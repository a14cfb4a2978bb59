"""Events, tiers and live availability; checkout (open, details, pay); orders (read, cancel, refund);
issued tickets and check-in. Thin over ``ticketing.services`` and ``ticketing.selectors``."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from api.auth import CHECK_IN, READ, WRITE
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, paginate
from api.schemas import responses
from core.errors import NotFound
from core.tenancy import get_for_tenant
from tenants.models import Role
from ticketing import selectors, services
from ticketing.models import (
    CheckoutSession,
    Event,
    EventStatus,
    IssuedTicket,
    Order,
    OrderStatus,
    SessionStatus,
    TicketStatus,
)
from ticketing.payments.refunds import order_refund_tickets
from ticketing.pricing import checkout_quote, line_unit_price

events_router = Router(tags=["events"])
checkout_router = Router(tags=["checkout"])
orders_router = Router(tags=["orders"])
issued_router = Router(tags=["issued tickets"])

BIG = 2**62
ID = Field(..., ge=1, le=BIG)


# --- schemas --------------------------------------------------------------------------------------


class TierOut(Schema):
    id: int
    name: str
    kind: str
    price_cents: int
    quantity: int
    available: int = Field(description="Seats that can be bought now (expired holds count as free).")
    on_sale: bool
    min_per_order: int
    max_per_order: int


class EventOut(Schema):
    id: int
    slug: str
    title: str
    performer: str
    description: str
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    venue_name: str
    venue_city: str
    currency: str
    per_order_max: int
    waiting_room_enabled: bool
    sale_starts_at: datetime | None
    sale_ends_at: datetime | None


class EventDetailOut(EventOut):
    tiers: list[TierOut]


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class TierAvailabilityOut(Schema):
    id: int
    name: str
    available: int


class AvailabilityOut(Schema):
    event_id: int
    status: str
    status_label: str
    tiers: list[TierAvailabilityOut]


class CheckoutLine(Schema):
    tier_id: int = ID
    quantity: int = Field(..., ge=1, le=1000)


class CheckoutIn(Schema):
    event_id: int = ID
    items: list[CheckoutLine] = Field(..., min_length=1, max_length=50)
    admission: str | None = Field(None, max_length=2000, description="Waiting-room admission token.")


class CheckoutLineOut(Schema):
    tier_id: int
    tier_name: str
    quantity: int
    unit_price_cents: int


class CustomerOut(Schema):
    name: str
    email: str


class CheckoutOut(Schema):
    token: str
    event_id: int
    status: SessionStatus
    live: bool
    expires_at: datetime
    items: list[CheckoutLineOut]
    subtotal_cents: int
    fee_cents: int
    tax_cents: int
    total_cents: int
    currency: str
    customer: CustomerOut | None
    order_reference: str | None


class CustomerIn(Schema):
    name: str = Field("", max_length=200)
    email: str = Field(..., max_length=254)
    phone: str = Field("", max_length=40)


class PaymentIn(Schema):
    provider: str = Field(..., max_length=20, description="free, test_card or pay_at_door.")
    card_number: str = Field("", max_length=40, description="test_card only: 4242 4242 4242 4242 pays.")


class IssuedTicketOut(Schema):
    code: str
    status: TicketStatus
    event_id: int
    tier_id: int
    tier_name: str
    order_reference: str
    used_at: datetime | None


class OrderLineOut(Schema):
    tier_id: int
    tier_name: str
    quantity: int
    unit_price_cents: int


class OrderOut(Schema):
    reference: str
    status: OrderStatus
    event_id: int
    customer: CustomerOut
    items: list[OrderLineOut]
    subtotal_cents: int
    fee_cents: int
    tax_cents: int
    total_cents: int
    currency: str
    payment_provider: str
    created_at: datetime
    paid_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    tickets: list[IssuedTicketOut]
    refunds: list[RefundOut]


class RefundOut(Schema):
    id: int
    amount_cents: int
    currency: str
    status: str = Field(description="pending, succeeded or failed (the provider confirms after commit).")
    reason: str
    ticket_codes: list[str]
    created_at: datetime


class RefundIn(Schema):
    ticket_codes: list[str] | None = Field(
        None, max_length=100, description="Refund only these tickets (default: every remaining one)."
    )
    reason: str = Field("", max_length=200)


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class IssuedTicketPage(Schema):
    items: list[IssuedTicketOut]
    next_cursor: str | None


class CheckInIn(Schema):
    code: str = Field(..., min_length=1, max_length=2000, description="Ticket code or scanned QR payload.")
    payment_collected: bool = Field(
        False,
        description="The door took the payment of an unpaid (pay-at-the-door) ticket's order: mark it paid "
        "and admit in one step.",
    )


class CheckInOut(Schema):
    outcome: str = Field(
        description="admitted, unpaid (pay at the door: collect, then scan with payment_collected), "
        "already_used, cancelled, event_cancelled, unpaid_expired, wrong_event or not_found."
    )
    admitted: bool
    message: str
    ticket: IssuedTicketOut | None


class EventFilters(Schema):
    status: EventStatus | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class OrderFilters(Schema):
    event_id: int | None = Field(None, ge=1, le=2**62)
    status: OrderStatus | None = None
    email: str | None = Field(None, max_length=254)
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class IssuedTicketFilters(Schema):
    event_id: int | None = Field(None, ge=1, le=2**62)
    order: str | None = Field(None, max_length=20, description="Order reference.")
    status: TicketStatus | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- shaping --------------------------------------------------------------------------------------


def event_out(event: Event) -> dict:
    return {field: getattr(event, field) for field in EventOut.model_fields}


def event_detail(event: Event) -> dict:
    tiers = [
        {
            "id": tier.id,
            "name": tier.name,
            "kind": tier.kind,
            "price_cents": tier.price_cents,
            "quantity": tier.quantity,
            "available": max(tier.live_available, 0),
            "on_sale": tier.on_sale_now,
            "min_per_order": tier.min_per_order,
            "max_per_order": tier.max_per_order,
        }
        for tier in selectors.tiers_with_availability(event)
    ]
    return {**event_out(event), "tiers": tiers}


def availability_out(event: Event) -> dict:
    summary, tiers = selectors.event_availability(event.id)
    return {
        "event_id": event.id,
        "status": summary["status"],
        "status_label": summary["status_label"],
        "tiers": tiers,
    }


def _customer(customer) -> dict | None:
    return {"name": customer.name, "email": customer.email} if customer is not None else None


def checkout_out(session: CheckoutSession) -> dict:
    lines = selectors.session_lines(session)
    # What this checkout charges: its opening snapshot (a later price edit does not change it).
    quote = checkout_quote(session=session, lines=lines)
    amounts = quote.amounts
    order = Order.objects.filter(session=session).values_list("reference", flat=True).first()
    return {
        "token": session.token,
        "event_id": session.event_id,
        "status": session.status,
        "live": session.is_live(timezone.now()),
        "expires_at": session.expires_at,
        "items": [
            {
                "tier_id": line.tier_id,
                "tier_name": line.tier.name,
                "quantity": line.quantity,
                "unit_price_cents": line_unit_price(line),
            }
            for line in lines
        ],
        "subtotal_cents": amounts.subtotal_cents,
        "fee_cents": amounts.fee_cents,
        "tax_cents": amounts.tax_cents,
        "total_cents": amounts.total_cents,
        "currency": quote.currency,
        "customer": _customer(session.customer),
        "order_reference": order,
    }


def issued_out(ticket: IssuedTicket) -> dict:
    return {
        "code": ticket.code,
        "status": ticket.status,
        "event_id": ticket.event_id,
        "tier_id": ticket.tier_id,
        "tier_name": ticket.tier.name,
        "order_reference": ticket.order.reference,
        "used_at": ticket.used_at,
    }


def order_out(order: Order) -> dict:
    return {
        "reference": order.reference,
        "status": order.status,
        "event_id": order.event_id,
        "customer": _customer(order.customer),
        "items": [
            {
                "tier_id": item.tier_id,
                "tier_name": item.tier_name,
                "quantity": item.quantity,
                "unit_price_cents": item.unit_price_cents,
            }
            for item in order.items.all()
        ],
        **{
            field: getattr(order, field)
            for field in (
                "subtotal_cents",
                "fee_cents",
                "tax_cents",
                "total_cents",
                "currency",
                "payment_provider",
                "created_at",
                "paid_at",
                "cancelled_at",
                "refunded_at",
            )
        },
        "tickets": [
            issued_out(ticket) for ticket in order.tickets.select_related("tier", "order").order_by("id")
        ],
        "refunds": [
            {
                "id": refund.id,
                "amount_cents": refund.amount_cents,
                "currency": refund.currency,
                "status": refund.status,
                "reason": refund.reason,
                "ticket_codes": [ticket.code for ticket in refund.tickets.all()],
                "created_at": refund.created_at,
            }
            for refund in order.refunds.prefetch_related("tickets").order_by("id")
        ],
    }


def _orders(tenant):
    return Order.objects.for_tenant(tenant).select_related("customer", "event").prefetch_related("items")


def _order(tenant, reference: str) -> Order:
    return get_for_tenant(_orders(tenant), tenant, reference=reference)


def _event(tenant, event_id: int) -> Event:
    return get_for_tenant(Event, tenant, pk=event_id)


def _session(tenant, token: str) -> CheckoutSession:
    return get_for_tenant(CheckoutSession.objects.select_related("event", "customer"), tenant, token=token)


# --- events ---------------------------------------------------------------------------------------


@events_router.get("", response=responses(200, EventPage), auth=READ, summary="List events")
def list_events(request, filters: Query[EventFilters]):
    """Scope `read`. The tenant's events (drafts included), oldest first; filter by `status`."""
    events = Event.objects.for_tenant(request.auth.tenant)
    if filters.status:
        events = events.filter(status=filters.status)
    page = paginate(events, cursor=filters.cursor, limit=filters.limit)
    return {"items": [event_out(event) for event in page["items"]], "next_cursor": page["next_cursor"]}


@events_router.get("/{event_id}", response=responses(200, EventDetailOut), auth=READ, summary="Read an event")
def read_event(request, event_id: int = Path(..., ge=1, le=BIG)):
    """Scope `read`. One event with its active tiers and their live availability."""
    return event_detail(_event(request.auth.tenant, event_id))


@events_router.get(
    "/{event_id}/availability",
    response=responses(200, AvailabilityOut),
    auth=READ,
    summary="Live availability",
)
def read_availability(request, event_id: int = Path(..., ge=1, le=BIG)):
    """Scope `read`. Seats available per active tier right now."""
    return availability_out(_event(request.auth.tenant, event_id))


@events_router.post(
    "/{event_id}/check-ins", response=responses(200, CheckInOut), auth=CHECK_IN, summary="Check a ticket in"
)
def check_in(request, payload: CheckInIn, event_id: int = Path(..., ge=1, le=BIG)):
    """Scope `check_in`. Scan a ticket at the door: concurrent scans of one ticket admit it once; a bad
    code is an answer (`not_found`), not an error."""
    principal = request.auth
    event = _event(principal.tenant, event_id)
    result = services.ticket_check_in(
        tenant=principal.tenant,
        actor=principal.actor,
        event=event,
        code=payload.code,
        payment_collected=payload.payment_collected,
    )
    return {
        "outcome": result.outcome,
        "admitted": result.admitted,
        "message": result.message,
        "ticket": issued_out(result.ticket) if result.ticket is not None else None,
    }


# --- checkout -------------------------------------------------------------------------------------


@checkout_router.post("", response=responses(201, CheckoutOut), auth=WRITE, summary="Open a checkout")
def open_checkout(request, payload: CheckoutIn):
    """Scope `write`. Hold seats for the event's checkout time. With a waiting room, `admission` must be
    the token of an admitted entry. Sold out → 409 `sold_out`; checkout full → 503 `busy`."""
    principal = request.auth
    event = _event(principal.tenant, payload.event_id)
    quantities: dict[int, int] = {}
    for line in payload.items:
        quantities[line.tier_id] = quantities.get(line.tier_id, 0) + line.quantity
    session = services.checkout_open(
        tenant=principal.tenant, event=event, quantities=quantities, actor=None, admission=payload.admission
    )
    return Status(201, checkout_out(_session(principal.tenant, session.token)))


@checkout_router.get("/{token}", response=responses(200, CheckoutOut), auth=READ, summary="Read a checkout")
def read_checkout(request, token: str = Path(..., max_length=40)):
    """Scope `read`. The session's seats, amounts, buyer and (once paid) its order."""
    return checkout_out(_session(request.auth.tenant, token))


@checkout_router.post(
    "/{token}/customer", response=responses(200, CheckoutOut), auth=WRITE, summary="Set the buyer's details"
)
def set_customer(request, payload: CustomerIn, token: str = Path(..., max_length=40)):
    """Scope `write`. Who is buying (name, email, phone). 409 once the checkout has ended."""
    principal = request.auth
    session = _session(principal.tenant, token)
    services.checkout_set_customer(
        tenant=principal.tenant, session=session, name=payload.name, email=payload.email, phone=payload.phone
    )
    return checkout_out(_session(principal.tenant, token))


@checkout_router.post("/{token}/pay", response=responses(201, OrderOut), auth=WRITE, summary="Pay a checkout")
def pay_checkout(request, payload: PaymentIn, token: str = Path(..., max_length=40)):
    """Scope `write`. Pay and issue the tickets. The request's `Idempotency-Key` is also the order's, so
    a retried payment returns the same order. Declined → 422 `payment_declined`; ended → 409."""
    principal = request.auth
    session = _session(principal.tenant, token)
    order = services.checkout_complete(
        tenant=principal.tenant,
        session=session,
        provider=payload.provider,
        payment_details={"card_number": payload.card_number},
        idempotency_key=(getattr(request, "idempotency_key", "") or "")[:100],
    )
    return Status(201, order_out(_order(principal.tenant, order.reference)))


@checkout_router.post(
    "/{token}/abandon", response=responses(200, CheckoutOut), auth=WRITE, summary="Abandon a checkout"
)
def abandon_checkout(request, token: str = Path(..., max_length=40)):
    """Scope `write`. Give the held seats back now."""
    principal = request.auth
    session = _session(principal.tenant, token)
    services.checkout_abandon(tenant=principal.tenant, session=session)
    return checkout_out(_session(principal.tenant, token))


# --- orders and issued tickets --------------------------------------------------------------------


@orders_router.get("", response=responses(200, OrderPage), auth=READ, summary="List orders")
def list_orders(request, filters: Query[OrderFilters]):
    """Scope `read`. Newest first; filter by `event_id`, `status`, buyer `email`."""
    orders = _orders(request.auth.tenant)
    if filters.event_id:
        orders = orders.filter(event_id=filters.event_id)
    if filters.status:
        orders = orders.filter(status=filters.status)
    if filters.email:
        orders = orders.filter(customer__email__iexact=filters.email)
    page = paginate(orders, cursor=filters.cursor, limit=filters.limit, descending=True)
    return {"items": [order_out(order) for order in page["items"]], "next_cursor": page["next_cursor"]}


@orders_router.get("/{reference}", response=responses(200, OrderOut), auth=READ, summary="Read an order")
def read_order(request, reference: str = Path(..., max_length=20)):
    """Scope `read`. One order with its lines and issued tickets."""
    return order_out(_order(request.auth.tenant, reference))


@orders_router.post(
    "/{reference}/cancel", response=responses(200, OrderOut), auth=WRITE, summary="Cancel an order"
)
def cancel_order(request, reference: str = Path(..., max_length=20)):
    """Scope `write`, manager role. Cancel a pending or paid order: its unused tickets are cancelled,
    seats go back (no money is returned: refund a paid order instead)."""
    principal = request.auth
    principal.require_role(Role.MANAGER)
    order = _order(principal.tenant, reference)
    services.order_cancel(tenant=principal.tenant, actor=principal.actor, order=order)
    return order_out(_order(principal.tenant, reference))


@orders_router.post(
    "/{reference}/refund", response=responses(200, OrderOut), auth=WRITE, summary="Refund an order"
)
def refund_order(request, payload: RefundIn, reference: str = Path(..., max_length=20)):
    """Scope `write`, manager role. Refund a paid order through its payment provider: every remaining
    ticket, or only `ticket_codes`. Seats go back on sale; the refund is recorded at once and the
    provider (Stripe) confirms after commit (`refunds[].status`). Not paid: 409; a used ticket: 422."""
    principal = request.auth
    principal.require_role(Role.MANAGER)
    order = _order(principal.tenant, reference)
    ticket_ids = None
    if payload.ticket_codes is not None:
        codes = set(payload.ticket_codes)
        ticket_ids = list(
            IssuedTicket.objects.filter(order=order, code__in=codes).values_list("id", flat=True)
        )
        if len(ticket_ids) != len(codes):
            raise NotFound(_("That ticket is not part of this order."))
    order_refund_tickets(
        tenant=principal.tenant,
        actor=principal.actor,
        order=order,
        ticket_ids=ticket_ids,
        reason=payload.reason,
    )
    return order_out(_order(principal.tenant, reference))


@issued_router.get("", response=responses(200, IssuedTicketPage), auth=READ, summary="List issued tickets")
def list_issued(request, filters: Query[IssuedTicketFilters]):
    """Scope `read`. Filter by `event_id`, `order` reference, `status`."""
    tickets = IssuedTicket.objects.for_tenant(request.auth.tenant).select_related("tier", "order")
    if filters.event_id:
        tickets = tickets.filter(event_id=filters.event_id)
    if filters.order:
        tickets = tickets.filter(order__reference=filters.order)
    if filters.status:
        tickets = tickets.filter(status=filters.status)
    page = paginate(tickets, cursor=filters.cursor, limit=filters.limit)
    return {"items": [issued_out(ticket) for ticket in page["items"]], "next_cursor": page["next_cursor"]}


@issued_router.get(
    "/{code}", response=responses(200, IssuedTicketOut), auth=READ, summary="Read an issued ticket"
)
def read_issued(request, code: str = Path(..., max_length=40)):
    """Scope `read`. One issued ticket by its code."""
    ticket = get_for_tenant(
        IssuedTicket.objects.select_related("tier", "order"), request.auth.tenant, code=code
    )
    return issued_out(ticket)
