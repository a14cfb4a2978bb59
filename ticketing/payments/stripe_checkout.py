"""Paying a checkout session by card through Stripe PaymentIntents.

Flow: the pay step's "Card" choice calls ``checkout_stripe_start`` (creates the ``Payment`` record and a
PaymentIntent for the session's total, outside any transaction); the card page mounts Stripe's Payment
Element with the intent's client secret and Stripe.js confirms it in the browser; Stripe then tells us
— the signed webhook (``payments.webhooks``) or the buyer's "check" on the return page, whichever comes
first — and ``payment_confirm`` re-reads the intent from Stripe and acts on what it says now (so
replayed and out-of-order events change nothing twice).

Rules (decided here, documented in the README):
- The order exists and is paid only from the provider's confirmation (intent ``succeeded``), through
  ``checkout_complete`` with idempotency key ``stripe:<intent id>``: one intent, one order.
- While a payment is pending (3-D Secure, processing) the hold stays, until the session expires.
- A failed payment (declined card, cancelled intent) releases the hold at once (session abandoned):
  nothing is kept. A later success on the same intent is a late success.
- A success after the hold expired or was released ("late success"): if the seats are still there,
  they are taken again and sold (the buyer already had their turn: no waiting room, no checkout slot);
  if not (sold out, event no longer on sale, price changed), the whole amount is refunded at once and
  the buyer is told. Never oversold: the seats are taken through the same conditional UPDATE as every
  sale, under a lock of the payment row so one late success takes them once.
- A second successful intent for a session that already has its order (two tabs, two cards) is
  refunded at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import Busy, Conflict, NotFound, SoldOut, ValidationError
from payments.gateway import STRIPE, UNREACHABLE, card_details, client_for
from payments.models import Payment, PaymentPurpose, PaymentStatus
from tenants.models import Tenant
from ticketing.models import CheckoutSession, Order, SessionStatus
from ticketing.payments import PaymentDeclined
from ticketing.pricing import price_lines

logger = logging.getLogger(__name__)

CONFIRMABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}


def session_total(session: CheckoutSession) -> int:
    items = list(session.items.select_related("tier"))
    amounts = price_lines(
        event=session.event, lines=[(item.tier.price_cents, item.quantity) for item in items]
    )
    return amounts.total_cents


def checkout_stripe_start(
    *, tenant: Tenant, session: CheckoutSession, now: datetime | None = None
) -> Payment:
    """Create (or reuse) the session's card payment: a ``Payment`` row and a Stripe PaymentIntent for
    the session's total. Reuses the session's latest pending payment of the same amount whose intent
    can still be confirmed (a reload, a retry after a decline in the Element). No lock: the Payment row
    is written before the provider call (idempotency key ``vq-payment-<id>``), the reference after it.
    Raises Conflict (checkout over), ValidationError (no buyer yet), Busy (Stripe did not answer)."""
    now = now or timezone.now()
    if session.tenant_id != tenant.id:
        raise NotFound()
    session = CheckoutSession.objects.select_related("event", "customer").get(pk=session.pk)
    if not session.is_live(now):
        raise Conflict(_("This checkout has ended. Start again from the event page."))
    if session.customer_id is None:
        raise ValidationError(_("Tell us who the tickets are for first."))
    total = session_total(session)
    currency = session.event.currency
    client = client_for(tenant)
    existing = (
        Payment.objects.filter(
            tenant=tenant, session=session, provider=STRIPE, status=PaymentStatus.PENDING, amount_cents=total
        )
        .exclude(reference="")
        .order_by("-created_at")
        .first()
    )
    if existing is not None:
        try:
            intent = client.v1.payment_intents.retrieve(existing.reference)
        except stripe.StripeError as error:
            raise Busy(str(UNREACHABLE)) from error
        if intent.status in CONFIRMABLE:
            return existing
    with transaction.atomic(durable=True):
        payment = Payment.objects.create(
            tenant=tenant,
            purpose=PaymentPurpose.ORDER,
            provider=STRIPE,
            amount_cents=total,
            currency=currency,
            session=session,
        )
    try:
        intent = client.v1.payment_intents.create(
            params={
                "amount": total,
                "currency": currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {
                    "vq_tenant": str(tenant.pk),
                    "vq_payment": str(payment.pk),
                    "vq_session": session.token,
                    "vq_event": session.event.title[:200],
                },
            },
            options={"idempotency_key": f"vq-payment-{payment.pk}"},
        )
    except stripe.StripeError as error:
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED,
            failure_message=gettext_noop("The card processor did not answer."),
            updated_at=now,
        )
        raise Busy(str(UNREACHABLE)) from error
    Payment.objects.filter(pk=payment.pk).update(reference=intent.id, updated_at=now)
    payment.reference = intent.id
    return payment


def client_secret_for(payment: Payment) -> str:
    """The intent's client secret, for the Payment Element (read from Stripe; never stored)."""
    try:
        return client_for(payment.tenant).v1.payment_intents.retrieve(payment.reference).client_secret
    except stripe.StripeError as error:
        raise Busy(str(UNREACHABLE)) from error


def _payment_for(tenant: Tenant, intent: dict) -> Payment:
    payment = Payment.objects.filter(tenant=tenant, provider=STRIPE, reference=intent["id"]).first()
    if payment is None:
        # The create call's answer was lost before we stored the reference: the metadata names it.
        payment_id = (intent.get("metadata") or {}).get("vq_payment")
        payment = Payment.objects.filter(
            tenant=tenant, provider=STRIPE, pk=payment_id or 0, reference=""
        ).first()
        if payment is None:
            raise NotFound(_("No payment of ours has that reference."))
        Payment.objects.filter(pk=payment.pk).update(reference=intent["id"])
        payment.reference = intent["id"]
    return payment


def retrieve_intent(tenant: Tenant, intent_id: str):
    try:
        intent = client_for(tenant).v1.payment_intents.retrieve(
            intent_id, params={"expand": ["latest_charge", "payment_method"]}
        )
        return intent.to_dict()
    except stripe.InvalidRequestError as error:
        raise NotFound(_("The card processor does not know that payment.")) from error
    except stripe.StripeError as error:
        raise Busy(str(UNREACHABLE)) from error


def payment_confirm(*, tenant: Tenant, intent_id: str, now: datetime | None = None) -> Order | None:
    """Act on what Stripe says about an order's PaymentIntent now (webhook or the buyer's "check").

    succeeded → the order (created and paid once; late successes sell or refund, see the module
    docstring); failed or cancelled → the payment is marked failed and the hold released; pending →
    nothing. Idempotent. Returns the order when there is one. Raises NotFound (not our payment),
    Busy (Stripe or a lock did not answer: the webhook answers 503 and Stripe retries)."""
    now = now or timezone.now()
    intent = retrieve_intent(tenant, intent_id)
    payment = _payment_for(tenant, intent)
    if payment.purpose != PaymentPurpose.ORDER:
        raise NotFound(_("That payment is not for tickets."))
    status = intent["status"]
    if status == "succeeded":
        return _succeeded(tenant=tenant, payment=payment, intent=intent, now=now)
    if status == "canceled" or (status == "requires_payment_method" and intent.get("last_payment_error")):
        error = intent.get("last_payment_error") or {}
        _failed(
            tenant=tenant,
            payment=payment,
            message=str(error.get("message") or gettext_noop("The payment failed.")),
            now=now,
        )
        return None
    return payment.order


def checkout_pay_by_card_now(
    *, tenant: Tenant, session: CheckoutSession, payment_method: str, now: datetime | None = None
) -> Order | None:
    """Confirm the session's intent server-side with ``payment_method`` and act on the answer — what
    the Payment Element does in the browser (used by tests and by clients without Stripe.js). Raises
    PaymentDeclined (the hold is released, nothing kept), Conflict, Busy."""
    payment = checkout_stripe_start(tenant=tenant, session=session, now=now)
    client = client_for(tenant)
    try:
        client.v1.payment_intents.update(payment.reference, params={"payment_method": payment_method})
        client.v1.payment_intents.confirm(payment.reference)
    except stripe.CardError as error:
        _failed(
            tenant=tenant,
            payment=payment,
            message=error.user_message or gettext_noop("Your card was declined."),
            now=now,
        )
        raise PaymentDeclined(
            _("Your card was declined. Your tickets were released; nothing was charged.")
        ) from None
    except stripe.StripeError as error:
        raise Busy(str(UNREACHABLE)) from error
    return payment_confirm(tenant=tenant, intent_id=payment.reference, now=now)


def _succeeded(*, tenant: Tenant, payment: Payment, intent: dict, now: datetime) -> Order | None:
    from ticketing import services

    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        return payment.order  # replay: already settled
    details = {"intent": intent, "payment_id": payment.pk}
    session = payment.session
    if session is None:
        _refund_whole(payment=payment, intent=intent, outcome="refunded", now=now)
        return None
    try:
        order = services.checkout_complete(
            tenant=tenant,
            session=session,
            provider=STRIPE,
            payment_details=details,
            idempotency_key=f"stripe:{intent['id']}",
            now=now,
        )
    except Conflict:
        return _late_success(tenant=tenant, payment=payment, intent=intent, now=now)
    except ValidationError as error:
        logger.warning("payment %s cannot complete its session (%s); refunding", payment.pk, error.message)
        _refund_whole(payment=payment, intent=intent, outcome="refunded", now=now)
        return None
    if order.payment_reference != intent["id"]:
        # The session was already paid by another intent: this one is a duplicate.
        _refund_whole(payment=payment, intent=intent, outcome="duplicate", now=now)
        return order
    return order


def _late_success(*, tenant: Tenant, payment: Payment, intent: dict, now: datetime) -> Order | None:
    """The hold of this payment's session is gone. Take the seats again if they are free, else refund."""
    from ticketing import services

    with transaction.atomic(durable=True):
        locked = Payment.objects.select_for_update(of=("self",)).select_related("session").get(pk=payment.pk)
        if locked.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
            return locked.order
        original = locked.session
        new_session = None
        if original.source_reference == f"payment:{locked.pk}":
            new_session = original  # another delivery already re-took the seats
        else:
            quantities = dict(original.items.values_list("tier_id", "quantity"))
            try:
                with transaction.atomic():  # a savepoint: SoldOut leaves the outer transaction usable
                    services.seats_hold(tier_quantities=quantities)
                    new_session = services.checkout_open_from_hold(
                        tenant=tenant,
                        event=original.event,
                        tier_quantities=quantities,
                        source_reference=f"payment:{locked.pk}",
                        customer=original.customer,
                        now=now,
                    )
            except (SoldOut, Conflict, NotFound):
                new_session = None
            if new_session is not None:
                locked.session = new_session
                locked.save(update_fields=["session", "updated_at"])
    if new_session is None:
        _refund_whole(payment=payment, intent=intent, outcome="refunded", now=now)
        return None
    try:
        order = services.checkout_complete(
            tenant=tenant,
            session=new_session,
            provider=STRIPE,
            payment_details={"intent": intent, "payment_id": payment.pk},
            idempotency_key=f"stripe:{intent['id']}",
            now=now,
        )
    except (Conflict, ValidationError) as error:
        logger.warning("late payment %s could not be sold (%s); refunding", payment.pk, error)
        if new_session.status == SessionStatus.ACTIVE:
            services.checkout_abandon(tenant=tenant, session=new_session, now=now)
        _refund_whole(payment=payment, intent=intent, outcome="refunded", now=now)
        return None
    Payment.objects.filter(pk=payment.pk).update(late_outcome="sold")
    return order


def _refund_whole(*, payment: Payment, intent, outcome: str, now: datetime) -> None:
    """Give a whole succeeded intent back (no order can take it). Marks the payment first (so a
    concurrent delivery does not also sell it), then calls Stripe; if Stripe does not answer, the
    settle task retries (``pending_action = "refund"``, idempotency key ``vq-refund-payment-<id>``)."""
    with transaction.atomic(durable=True):
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED) or locked.pending_action:
            return
        brand, last4 = card_details(intent)
        locked.captured_cents = int(
            intent.get("amount_received") or intent.get("amount") or locked.amount_cents
        )
        locked.captured_cents = min(locked.captured_cents, locked.amount_cents)
        locked.pending_action = "refund"
        locked.late_outcome = outcome
        locked.card_brand, locked.card_last4 = brand, last4
        locked.save()
    payment_settle(payment_id=payment.pk, now=now)


def payment_settle(*, payment_id: int, now: datetime | None = None) -> Payment:
    """Carry out a payment's owed provider step (``pending_action``: refund a whole order payment, or a
    tip's capture/void — see ``payments.tips``). Holds the payment row (``FOR UPDATE NOWAIT``) across the
    provider call so only one caller makes it; idempotency keys make a retry after a lost answer safe.
    Returns the payment; on a provider error the action stays owed (the settle task retries)."""
    from payments.settle import settle_locked

    now = now or timezone.now()
    return settle_locked(payment_id=payment_id, now=now)


def _failed(*, tenant: Tenant, payment: Payment, message: str, now: datetime) -> None:
    from ticketing import services

    with transaction.atomic(durable=True):
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != PaymentStatus.PENDING:
            return
        locked.status = PaymentStatus.FAILED
        locked.failure_message = message[:300]
        locked.save(update_fields=["status", "failure_message", "updated_at"])
        session = locked.session
    # The rule: a failed payment releases the hold (nothing kept). Not if the session was paid another way.
    if session is not None and session.status == SessionStatus.ACTIVE:
        services.checkout_abandon(tenant=tenant, session=session, now=now)
