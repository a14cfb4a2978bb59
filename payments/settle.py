"""Owed provider steps of a payment: ``pending_action`` is ``capture`` / ``void`` (tips) or ``refund``
(a whole payment no order could take). Written in the transaction that decided it; carried out after
commit by ``settle_locked`` and retried by the beat task ``payments.tasks.settle`` until the provider
confirms. Each step has a fixed idempotency key, so a retry after a lost answer never moves money twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

import stripe
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import Busy
from payments.gateway import STRIPE, client_for
from payments.models import Payment, PaymentStatus, Refund, RefundStatus

logger = logging.getLogger(__name__)


def _stripe_step(payment: Payment) -> None:
    client = client_for(payment.tenant)
    action = payment.pending_action
    if action == "capture":
        intent = client.v1.payment_intents.retrieve(payment.reference)
        if intent.status == "requires_capture":
            client.v1.payment_intents.capture(
                payment.reference, options={"idempotency_key": f"vq-capture-{payment.pk}"}
            )
        elif intent.status != "succeeded":
            raise stripe.InvalidRequestError(f"cannot capture an intent that is {intent.status}", None)
    elif action == "void":
        intent = client.v1.payment_intents.retrieve(payment.reference)
        if intent.status in (
            "requires_capture",
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        ):
            client.v1.payment_intents.cancel(
                payment.reference, options={"idempotency_key": f"vq-void-{payment.pk}"}
            )
    elif action == "refund":
        client.v1.refunds.create(
            params={"payment_intent": payment.reference, "metadata": {"vq_payment": str(payment.pk)}},
            options={"idempotency_key": f"vq-refund-payment-{payment.pk}"},
        )


def settle_locked(*, payment_id: int, now: datetime | None = None) -> Payment:
    now = now or timezone.now()
    try:
        with transaction.atomic(durable=True):
            payment = (
                Payment.objects.select_for_update(nowait=True, of=("self",))
                .select_related("tenant")
                .get(pk=payment_id)
            )
            action = payment.pending_action
            if not action:
                return payment
            if payment.provider == STRIPE:
                try:
                    _stripe_step(payment)
                except stripe.StripeError as error:
                    payment.failure_message = str(getattr(error, "user_message", "") or error)[:300]
                    payment.save(update_fields=["failure_message", "updated_at"])
                    logger.info("payment %s: %s owed, provider said %s", payment.pk, action, error)
                    return payment
            # Built-in providers hold no money: the step is done as soon as it is decided.
            if action == "capture":
                payment.status = PaymentStatus.SUCCEEDED
                payment.captured_cents = payment.amount_cents
            elif action == "void":
                payment.status = PaymentStatus.VOIDED
            elif action == "refund":
                payment.status = PaymentStatus.REFUNDED
                payment.refunded_cents = payment.captured_cents
            payment.pending_action = ""
            payment.failure_message = ""
            payment.save()
            return payment
    except OperationalError as error:
        raise Busy(gettext("This payment is being settled right now.")) from error


def settle_due(*, limit: int = 200) -> int:
    """Beat: retry every owed payment step and every refund the provider has not confirmed."""
    from ticketing.payments.refunds import refund_execute

    done = 0
    for payment_id in (
        Payment.objects.exclude(pending_action="").order_by("updated_at").values_list("pk", flat=True)[:limit]
    ):
        try:
            if not settle_locked(payment_id=payment_id).pending_action:
                done += 1
        except Busy:
            continue
    unsettled = Refund.objects.exclude(status=RefundStatus.SUCCEEDED).order_by("updated_at")
    for refund_id in unsettled.values_list("pk", flat=True)[:limit]:
        try:
            refund_execute(refund_id=refund_id)
            done += 1
        except Busy:
            continue
    return done
