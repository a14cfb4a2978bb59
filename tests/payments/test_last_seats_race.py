"""20 buyers paying through Stripe (localstripe) for the last 5 seats, in real threads on real
PostgreSQL: 5 paid, none oversold, every other attempt refused or refunded."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.errors import Busy, SoldOut
from payments.gateway import client_for
from payments.models import Payment, PaymentStatus
from tests.concurrency.test_ticketing_inventory import Watcher, run_threads
from tests.factories import TenantFactory
from tests.payments.conftest import connect_stripe
from tests.ticketing.factories import make_event
from ticketing import services
from ticketing.models import Order, OrderStatus, TicketTier
from ticketing.payments import PaymentDeclined
from ticketing.payments.stripe_checkout import checkout_pay_by_card_now, checkout_stripe_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BUYERS = 20
SEATS = 5


def _event(tenant):
    return make_event(
        tenant=tenant, tiers=(("Last seats", 3000, SEATS),), checkout_limit=BUYERS + 5, fee_fixed_cents=100
    )


def _refunded_in_full(tenant, payment) -> bool:
    refunds = client_for(tenant).v1.refunds.list(params={"payment_intent": payment.reference})
    return sum(refund.amount for refund in refunds.data) == payment.amount_cents


def test_20_buyers_racing_to_pay_for_the_last_5_seats(stripe_settings):
    tenant = TenantFactory()
    connect_stripe(tenant)
    event = _event(tenant)
    tier = event.tiers.get()

    def buyer(index: int):
        session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
        session = services.checkout_set_customer(
            tenant=tenant, session=session, name=f"Buyer {index}", email=f"b{index}@example.test"
        )
        return checkout_pay_by_card_now(tenant=tenant, session=session, payment_method="pm_card_visa")

    with Watcher(tier.id) as watcher:
        results = run_threads(BUYERS, buyer)

    outcomes = Counter(type(result).__name__ for result in results)
    paid = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, (SoldOut, Busy))]
    assert len(paid) == SEATS, outcomes
    assert len(refused) == BUYERS - SEATS, outcomes  # sold out before they could hold a seat
    assert all(order.status == OrderStatus.PAID for order in paid)
    tier = TicketTier.objects.get(pk=tier.pk)
    assert (tier.sold, tier.reserved) == (SEATS, 0)
    assert watcher.samples and all(
        sold + reserved <= quantity for quantity, sold, reserved, _ in watcher.samples
    )
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == SEATS
    assert Payment.objects.exclude(status=PaymentStatus.SUCCEEDED).count() == 0  # nobody refused was charged


def test_20_late_payments_for_the_last_5_seats_sell_5_and_refund_15(stripe_settings, webhook_inbox):
    """Each of 20 buyers held a seat, started paying, and let the hold expire; then all 20 payments
    succeed at once and their signed webhooks arrive together. The late-success rule: sell while seats
    remain, refund the rest at once."""
    tenant = TenantFactory()
    connect_stripe(tenant)
    event = _event(tenant)
    tier = event.tiers.get()
    start = timezone.now() - timedelta(hours=2)
    payments = []
    for index in range(BUYERS):
        at = start + timedelta(minutes=3 * index)
        session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=at)
        session = services.checkout_set_customer(
            tenant=tenant, session=session, name=f"Late {index}", email=f"l{index}@example.test", now=at
        )
        payments.append(checkout_stripe_start(tenant=tenant, session=session, now=at))
        services.checkout_expire_due(now=at + timedelta(minutes=event.checkout_minutes + 1))
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 0)
    sdk = client_for(tenant)
    url = reverse("payments:stripe_webhook", args=[tenant.slug])

    def payer(index: int):
        payment = payments[index]
        # What the Payment Element does in the buyer's browser, then Stripe's signed webhook.
        sdk.v1.payment_intents.update(payment.reference, params={"payment_method": "pm_card_visa"})
        sdk.v1.payment_intents.confirm(payment.reference)
        body, headers = webhook_inbox.wait_for("payment_intent.succeeded", payment.reference)
        response = Client().post(
            url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"]
        )
        return response.status_code

    with Watcher(tier.id) as watcher:
        results = run_threads(BUYERS, payer)

    # A webhook that met a busy lock answers 503 and Stripe would deliver it again: do that here.
    for index, status in enumerate(results):
        if status != 200:
            body, headers = webhook_inbox.wait_for("payment_intent.succeeded", payments[index].reference)
            retry = Client().post(
                url,
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=headers["Stripe-Signature"],
            )
            assert retry.status_code == 200, (status, retry.content)
    tier = TicketTier.objects.get(pk=tier.pk)
    assert (tier.sold, tier.reserved) == (SEATS, 0)  # never oversold
    assert all(sold + reserved <= quantity for quantity, sold, reserved, _ in watcher.samples)
    statuses = Counter(Payment.objects.filter(tenant=tenant).values_list("status", flat=True))
    assert statuses == {PaymentStatus.SUCCEEDED: SEATS, PaymentStatus.REFUNDED: BUYERS - SEATS}, statuses
    assert Order.objects.filter(event=event, status=OrderStatus.PAID).count() == SEATS
    for payment in Payment.objects.filter(status=PaymentStatus.REFUNDED):
        assert payment.order_id is None and payment.late_outcome == "refunded"
        assert _refunded_in_full(tenant, payment)
    for payment in Payment.objects.filter(status=PaymentStatus.SUCCEEDED):
        assert payment.order.status == OrderStatus.PAID and payment.late_outcome == "sold"


def test_declined_buyers_in_the_race_keep_nothing(stripe_settings):
    tenant = TenantFactory()
    connect_stripe(tenant)
    event = _event(tenant)
    tier = event.tiers.get()

    def buyer(index: int):
        session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
        session = services.checkout_set_customer(
            tenant=tenant, session=session, name=f"B {index}", email=f"d{index}@example.test"
        )
        card = "pm_card_chargeCustomerFail" if index % 2 else "pm_card_visa"
        return checkout_pay_by_card_now(tenant=tenant, session=session, payment_method=card)

    results = run_threads(10, buyer)
    declined = [result for result in results if isinstance(result, PaymentDeclined)]
    paid = [result for result in results if isinstance(result, Order)]
    assert len(declined) + len(paid) + sum(isinstance(r, SoldOut) for r in results) == 10
    tier = TicketTier.objects.get(pk=tier.pk)
    assert tier.sold == len(paid) <= SEATS and tier.reserved == 0
