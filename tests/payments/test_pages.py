"""Pages about money: settings (keys encrypted, never shown back), checkout by card, order page and
receipt, refunds by staff and buyer, refund policy — and tenancy (another tenant's member gets 404)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from payments.models import Payment, PaymentStatus, Receipt, Refund, TenantPaymentSettings
from tests.ticketing.factories import buy, make_event
from ticketing import services
from ticketing.models import OrderStatus, TicketStatus
from ticketing.payments.receipts import receipt_issue
from ticketing.payments.refunds import refund_policy_set

pytestmark = pytest.mark.django_db

SECRET = "sk_test_51SecretValueNeverShown9876"


@pytest.fixture(autouse=True)
def _generous_lookup_limit(settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"


def test_settings_store_keys_encrypted_and_never_show_them(owner_client, tenant, outsider):
    url = reverse("payments:settings", args=[tenant.slug])
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(
        url,
        {
            "stripe_publishable_key": "pk_test_abcd1234",
            "stripe_secret_key": SECRET,
            "stripe_webhook_secret": "whsec_topsecret5555",
            "legal_name": "Night Owls Ltd",
            "address": "1 Main St\nLondon",
            "tax_id": "GB123",
            "tip_capture_on": "approve",
        },
    )
    assert response.status_code == 302
    row = TenantPaymentSettings.objects.get(tenant=tenant)
    assert SECRET not in row.stripe_secret_key_encrypted and row.stripe_secret_key == SECRET
    assert row.stripe_webhook_secret == "whsec_topsecret5555"
    page = owner_client.get(url).content.decode()
    assert SECRET not in page and "topsecret" not in page and "Value" not in page
    assert "sk_test_…9876" in page and "whsec_…5555" in page
    # an empty secret field keeps the stored key
    owner_client.post(url, {"stripe_publishable_key": "pk_test_abcd1234", "tip_capture_on": "complete"})
    row.refresh_from_db()
    assert row.stripe_secret_key == SECRET and row.tip_capture_on == "complete"
    bad = owner_client.post(url, {"stripe_secret_key": "not-a-key", "tip_capture_on": "approve"})
    assert bad.status_code == 422 and "starts with sk_test_" in bad.content.decode()
    other = Client()
    other.force_login(outsider)
    assert other.get(url).status_code == 404


def test_settings_page_is_for_owners_only(client, tenant, staff):
    client.force_login(staff)
    assert client.get(reverse("payments:settings", args=[tenant.slug])).status_code in (403, 404)


def test_checkout_by_card_through_the_pages(client, stripe_tenant, webhook_inbox):
    from payments.gateway import client_for

    tenant = stripe_tenant
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),), tax_percent=20)
    tier = event.tiers.get()
    start = client.post(
        reverse("ticketing_public:checkout_start", args=[tenant.slug, event.slug]), {f"tier_{tier.id}": "2"}
    )
    checkout_url = start["Location"]
    token = checkout_url.rstrip("/").split("/")[-1]
    client.post(checkout_url, {"step": "details", "name": "Ann", "email": "ann@example.test"})
    page = client.get(checkout_url).content.decode()
    assert 'value="stripe"' in page and "js.stripe.com" not in page  # Stripe.js only on the card page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    response = client.post(checkout_url, {"step": "pay", "provider": "stripe", "idempotency_key": key})
    card_url = reverse("ticketing_public:checkout_card", args=[tenant.slug, token])
    assert response.status_code == 302 and response["Location"] == card_url
    card = client.get(card_url)
    assert card.status_code == 200
    body = card.content.decode()
    assert "https://js.stripe.com/v3/" in body and "_secret_" in body
    assert "https://js.stripe.com" in card["Content-Security-Policy"]
    assert "js.stripe.com" not in client.get(checkout_url)["Content-Security-Policy"]
    payment = Payment.objects.get(session__token=token)
    # The Payment Element confirms in the browser; then the buyer comes back and checks.
    sdk = client_for(tenant)
    sdk.v1.payment_intents.update(payment.reference, params={"payment_method": "pm_card_visa"})
    sdk.v1.payment_intents.confirm(payment.reference)
    paid_url = reverse("ticketing_public:checkout_paid", args=[tenant.slug, token])
    assert client.get(paid_url).status_code == 200  # GET only shows; nothing changes on GET
    assert not payment.session.event.orders.exists()
    checked = client.post(paid_url)
    order = event.orders.get()
    assert checked["Location"] == reverse("ticketing_public:order", args=[tenant.slug, order.access_token])
    assert order.status == OrderStatus.PAID and order.total_cents == 6000
    order_page = client.get(checked["Location"]).content.decode()
    for text in ("Subtotal", "Service fees", "Tax", "Total", "Payment method", "Visa ending 4242"):
        assert text in order_page


def test_order_page_receipt_and_emails_show_the_money(client, tenant, django_capture_on_commit_callbacks):
    TenantPaymentSettings.objects.create(
        tenant=tenant, legal_name="Owls <Ltd>", address="1 Main St", tax_id="GB9"
    )
    event = make_event(tenant=tenant, tiers=(("General", 2000, 10),), fee_fixed_cents=100, tax_percent=10)
    with django_capture_on_commit_callbacks(execute=True):
        first = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2})
        second = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, email="b@example.test")
    numbers = sorted(Receipt.objects.filter(tenant=tenant).values_list("number", flat=True))
    assert numbers == [1, 2]  # sequential per tenant
    assert receipt_issue(order_id=first.pk).number == Receipt.objects.get(order=first).number  # idempotent
    confirmation = OutboxMessage.objects.filter(
        event_type="order.confirmed", related_id=str(first.pk)
    ).first()
    text = str(confirmation.payload)
    for piece in (
        "Subtotal",
        "Service fees",
        "Tax",
        "Total",
        "Payment method: Card (test mode), card ending 4242",
    ):
        assert piece in text
    with django_capture_on_commit_callbacks(execute=True):
        services.order_refund(tenant=tenant, actor=None, order=second)
    receipt = client.get(reverse("ticketing_public:order_receipt", args=[tenant.slug, second.access_token]))
    body = receipt.content.decode()
    assert receipt.status_code == 200
    assert "Owls &lt;Ltd&gt;" in body and "GB9" in body and "R-00000" in body
    assert "Refunds" in body and "Net paid" in body
    refund_mail = OutboxMessage.objects.get(event_type="order.refunded", related_id=str(second.pk))
    assert "Refunds so far" in str(refund_mail.payload)
    assert mail.outbox is not None


def test_staff_refund_chosen_tickets_and_tenancy(client, tenant, manager, outsider_client):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 3})
    first = order.tickets.order_by("id").first()
    url = reverse("ticketing:order_refund", args=[tenant.slug, order.id])
    assert outsider_client.post(url, {"ticket": [first.id]}).status_code == 404
    assert not Refund.objects.exists()
    client.force_login(manager)
    page = client.get(reverse("ticketing:order", args=[tenant.slug, order.id])).content.decode()
    assert "Refund ticked tickets" in page
    response = client.post(url, {"ticket": [first.id], "reason": "Double booking"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == TicketStatus.CANCELLED
    assert Refund.objects.get().amount_cents == 2500
    assert client.post(url, {"ticket": ["abc"]}).status_code in (302, 422)


def test_buyer_refund_until_the_deadline(client, tenant, manager):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2})
    order_url = reverse("ticketing_public:order", args=[tenant.slug, order.access_token])
    refund_url = reverse("ticketing_public:order_refund", args=[tenant.slug, order.access_token])
    assert "Refund tickets" not in client.get(order_url).content.decode()
    client.post(refund_url)
    assert not Refund.objects.exists()  # no policy: refused, nothing changed
    client.force_login(manager)
    policy_url = reverse("ticketing:refund_policy", args=[tenant.slug, event.id])
    assert client.get(policy_url).status_code == 200
    local = (timezone.now() + timedelta(days=2)).astimezone(event.zone).strftime("%Y-%m-%dT%H:%M")
    assert client.post(policy_url, {"buyer_refunds_until": local}).status_code == 302
    too_late = (event.ends_at + timedelta(days=1)).astimezone(event.zone).strftime("%Y-%m-%dT%H:%M")
    assert client.post(policy_url, {"buyer_refunds_until": too_late}).status_code == 422
    client.logout()
    assert "Refund tickets" in client.get(order_url).content.decode()
    client.post(refund_url)
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert Refund.objects.get().requested_by == "buyer"


def test_refund_policy_of_another_tenant_is_404(outsider_client, tenant):
    event = make_event(tenant=tenant)
    assert (
        outsider_client.get(reverse("ticketing:refund_policy", args=[tenant.slug, event.id])).status_code
        == 404
    )
    refund_policy_set(tenant=tenant, actor=None, event=event, buyer_refunds_until=None)


def test_card_and_paid_pages_of_an_unknown_session_are_404(client, tenant):
    for name in ("ticketing_public:checkout_card", "ticketing_public:checkout_paid"):
        assert client.get(reverse(name, args=[tenant.slug, "nope"])).status_code == 404
    assert (
        client.get(reverse("ticketing_public:order_receipt", args=[tenant.slug, "nope"])).status_code == 404
    )
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 0


def test_tip_form_loads_stripe_only_for_tenants_with_keys(client, tenant, stripe_settings):
    from tests.payments.conftest import connect_stripe
    from tests.queues.factories import creator_queue

    queue = creator_queue(tenant)
    url = reverse("queues_public:submit", args=[tenant.slug, queue.slug])
    plain = client.get(url)
    assert "js.stripe.com" not in plain["Content-Security-Policy"]
    assert "Card number for the tip" in plain.content.decode()
    connect_stripe(tenant)
    card = client.get(url)
    body = card.content.decode()
    assert "https://js.stripe.com" in card["Content-Security-Policy"]
    assert 'id="tip-card-element"' in body and "Card number for the tip" not in body
