"""Ticket purchases through Stripe (the real SDK against localstripe), webhooks included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.gateway import client_for
from payments.models import Payment, PaymentStatus, WebhookEvent
from tests.ticketing.factories import make_event
from ticketing import services
from ticketing.models import CheckoutSession, Order, OrderStatus, SessionStatus, TicketTier
from ticketing.payments import PaymentDeclined
from ticketing.payments.stripe_checkout import (
    checkout_pay_by_card_now,
    checkout_stripe_start,
    payment_confirm,
)

pytestmark = pytest.mark.django_db


def _session(tenant, event, quantity=2, email="fan@example.test", now=None):
    tier = event.tiers.get()
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: quantity}, now=now)
    return services.checkout_set_customer(tenant=tenant, session=session, name="Fan", email=email, now=now)


def _deliver(client, tenant, body: bytes, signature: str):
    return client.post(
        reverse("payments:stripe_webhook", args=[tenant.slug]),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def _element_confirms(tenant, intent_id: str, payment_method: str = "pm_card_visa"):
    """What Stripe.js's Payment Element does in the browser: attach the card and confirm the intent."""
    sdk = client_for(tenant)
    sdk.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
    return sdk.v1.payment_intents.confirm(intent_id)


def test_paid_purchase_end_to_end_through_localstripe(stripe_tenant, webhook_inbox, client):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),), fee_fixed_cents=150, tax_percent=10)
    tier = event.tiers.get()
    session = _session(tenant, event, quantity=2)

    order = checkout_pay_by_card_now(tenant=tenant, session=session, payment_method="pm_card_visa")

    assert order.status == OrderStatus.PAID
    assert (order.subtotal_cents, order.fee_cents, order.tax_cents, order.total_cents) == (
        5000,
        300,
        530,
        5830,
    )
    assert order.payment_provider == "stripe" and order.payment_reference.startswith("pi_")
    assert order.tickets.count() == 2
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (2, 0)
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.captured_cents == 5830
    intent = client_for(tenant).v1.payment_intents.retrieve(order.payment_reference)
    assert (
        intent.status == "succeeded" and intent.amount == 5830 and intent.currency == order.currency.lower()
    )

    # Stripe's own webhook for the same intent arrives afterwards and changes nothing.
    body, headers = webhook_inbox.wait_for("payment_intent.succeeded", order.payment_reference)
    response = _deliver(client, tenant, body, headers["Stripe-Signature"])
    assert response.status_code == 200
    assert Order.objects.filter(event=event).count() == 1
    tier.refresh_from_db()
    assert tier.sold == 2


def test_declined_card_keeps_nothing(stripe_tenant, webhook_inbox, client):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 4),))
    tier = event.tiers.get()
    session = _session(tenant, event, quantity=2)

    with pytest.raises(PaymentDeclined):
        checkout_pay_by_card_now(tenant=tenant, session=session, payment_method="pm_card_chargeCustomerFail")

    assert not Order.objects.filter(event=event).exists()
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 0)  # the hold was released: nothing kept
    assert CheckoutSession.objects.get(pk=session.pk).status == SessionStatus.ABANDONED
    payment = Payment.objects.get(session=session)
    assert payment.status == PaymentStatus.FAILED and "declined" in payment.failure_message.lower()
    # localstripe's payment_failed webhook arrives too: accepted, still nothing.
    body, headers = webhook_inbox.wait_for("payment_intent.payment_failed", payment.reference)
    assert _deliver(client, tenant, body, headers["Stripe-Signature"]).status_code == 200
    assert not Order.objects.filter(event=event).exists()
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 0)


def test_decline_in_the_payment_element_releases_the_hold_by_webhook(stripe_tenant, webhook_inbox, client):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 4),))
    tier = event.tiers.get()
    session = _session(tenant, event, quantity=3)
    payment = checkout_stripe_start(tenant=tenant, session=session)
    import stripe

    with pytest.raises(stripe.CardError):
        _element_confirms(tenant, payment.reference, "pm_card_chargeCustomerFail")
    tier.refresh_from_db()
    assert tier.reserved == 3  # pending until the provider tells us

    body, headers = webhook_inbox.wait_for("payment_intent.payment_failed", payment.reference)
    assert _deliver(client, tenant, body, headers["Stripe-Signature"]).status_code == 200

    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 0)
    assert not Order.objects.filter(event=event).exists()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.FAILED


def test_one_webhook_replayed_five_times_makes_one_paid_order(stripe_tenant, webhook_inbox, client):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    tier = event.tiers.get()
    session = _session(tenant, event, quantity=2)
    payment = checkout_stripe_start(tenant=tenant, session=session)
    assert not Order.objects.filter(event=event).exists()  # nothing is paid before the provider says so

    _element_confirms(tenant, payment.reference)
    body, headers = webhook_inbox.wait_for("payment_intent.succeeded", payment.reference)
    for _ in range(5):
        response = _deliver(client, tenant, body, headers["Stripe-Signature"])
        assert response.status_code == 200

    orders = Order.objects.filter(event=event)
    assert orders.count() == 1
    order = orders.get()
    assert order.status == OrderStatus.PAID and order.payment_reference == payment.reference
    assert order.tickets.count() == 2
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (2, 0)
    assert WebhookEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    # The same confirmation through the buyer's "check" and an out-of-order failure event: still one.
    assert payment_confirm(tenant=tenant, intent_id=payment.reference) == order
    assert Order.objects.filter(event=event).count() == 1


def test_forged_webhook_signature_is_refused(stripe_tenant, webhook_inbox, client):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    session = _session(tenant, event, quantity=1)
    payment = checkout_stripe_start(tenant=tenant, session=session)
    _element_confirms(tenant, payment.reference)
    body, headers = webhook_inbox.wait_for("payment_intent.succeeded", payment.reference)
    timestamp = headers["Stripe-Signature"].split(",")[0]

    forged = _deliver(client, tenant, body, f"{timestamp},v1={'0' * 64}")
    unsigned = _deliver(client, tenant, body, "")
    tampered = _deliver(
        client, tenant, body.replace(b'"succeeded"', b'"succeeded" '), headers["Stripe-Signature"]
    )

    for response in (forged, unsigned, tampered):
        assert response.status_code == 400
        assert response.json()["error"] == "Invalid signature."
    assert not Order.objects.filter(event=event).exists()
    assert not WebhookEvent.objects.exists()
    # The genuine delivery still works afterwards.
    assert _deliver(client, tenant, body, headers["Stripe-Signature"]).status_code == 200
    assert Order.objects.filter(event=event, status=OrderStatus.PAID).count() == 1


def test_webhook_for_another_tenant_or_unknown_tenant_does_nothing(
    stripe_tenant, other_tenant, webhook_inbox, client
):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    session = _session(tenant, event, quantity=1)
    payment = checkout_stripe_start(tenant=tenant, session=session)
    _element_confirms(tenant, payment.reference)
    body, headers = webhook_inbox.wait_for("payment_intent.succeeded", payment.reference)
    # another tenant without Stripe: no endpoint
    assert _deliver(client, other_tenant, body, headers["Stripe-Signature"]).status_code == 404
    from tests.payments.conftest import connect_stripe

    connect_stripe(other_tenant)
    # the other tenant's endpoint verifies (same test secret) but the intent is not one of its payments
    assert _deliver(client, other_tenant, body, headers["Stripe-Signature"]).status_code == 200
    assert not Order.objects.filter(event=event).exists()


def test_success_after_the_hold_expired_sells_when_seats_remain(stripe_tenant):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    tier = event.tiers.get()
    past = timezone.now() - timedelta(minutes=30)
    session = _session(tenant, event, quantity=2, now=past)
    payment = checkout_stripe_start(tenant=tenant, session=session, now=past)
    assert services.checkout_expire_due() == 1
    tier.refresh_from_db()
    assert tier.reserved == 0

    _element_confirms(tenant, payment.reference)
    order = payment_confirm(tenant=tenant, intent_id=payment.reference)

    assert order is not None and order.status == OrderStatus.PAID
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (2, 0)
    assert Payment.objects.get(pk=payment.pk).late_outcome == "sold"


def test_success_after_the_hold_expired_refunds_when_sold_out(stripe_tenant):
    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 2),))
    tier = event.tiers.get()
    past = timezone.now() - timedelta(minutes=30)
    session = _session(tenant, event, quantity=2, now=past)
    payment = checkout_stripe_start(tenant=tenant, session=session, now=past)
    services.checkout_expire_due()
    # someone else buys the two seats meanwhile
    other = _session(tenant, event, quantity=2, email="other@example.test")
    services.checkout_complete(
        tenant=tenant,
        session=other,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )

    _element_confirms(tenant, payment.reference)
    assert payment_confirm(tenant=tenant, intent_id=payment.reference) is None

    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (2, 0)  # never oversold
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED and payment.late_outcome == "refunded"
    refunds = client_for(tenant).v1.refunds.list(params={"payment_intent": payment.reference})
    assert sum(refund.amount for refund in refunds.data) == payment.amount_cents
    assert Order.objects.filter(event=event).count() == 1


def test_stripe_is_offered_only_to_tenants_with_keys(tenant, stripe_settings):
    from ticketing.payments import providers_for

    assert "stripe" not in {provider.name for provider in providers_for(1000, tenant)}
    from tests.payments.conftest import connect_stripe

    connect_stripe(tenant)
    assert "stripe" in {provider.name for provider in providers_for(1000, tenant)}
    assert TicketTier.objects.count() == 0
