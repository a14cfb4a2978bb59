"""Stripe's webhook endpoint: ``POST /payments/stripe/webhook/<tenant-slug>/``.

Each tenant registers this URL in its Stripe dashboard (or, for the deployment's own account, one per
tenant) with the events ``payment_intent.succeeded``, ``payment_intent.payment_failed``,
``payment_intent.canceled``. The ``Stripe-Signature`` header is verified with the tenant's webhook
signing secret (``stripe.Webhook.construct_event``: HMAC-SHA256 over ``<timestamp>.<body>``, 5-minute
tolerance); anything else is refused with 400 and changes nothing.

Idempotency: an event id already processed answers 200 and does nothing; a first delivery re-reads the
PaymentIntent from Stripe and acts on its current state (``payment_confirm``), so replays and events
arriving out of order change nothing twice. A busy lock or an unreachable Stripe answers 503 and the
event is not recorded, so Stripe delivers it again.
"""

from __future__ import annotations

import json
import logging

import stripe
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.errors import Busy, NotFound
from payments.gateway import STRIPE, stripe_credentials
from payments.models import Payment, PaymentPurpose, WebhookEvent
from tenants.models import Tenant

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
HANDLED = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"}


def _refuse(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt  # authenticated by Stripe's signature, not a browser session
@require_POST
def stripe_webhook(request, tenant_slug: str):
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    credentials = stripe_credentials(tenant) if tenant is not None else None
    if credentials is None or not credentials.webhook_secret:
        return _refuse("Unknown webhook endpoint.", 404)
    payload = request.body
    if len(payload) > MAX_BODY:
        return _refuse("Payload too large.", 413)
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = stripe.Webhook.construct_event(payload, signature, credentials.webhook_secret)
    except (ValueError, stripe.SignatureVerificationError):
        logger.warning("stripe webhook for %s refused: bad signature", tenant.slug)
        return _refuse("Invalid signature.")
    if WebhookEvent.objects.filter(provider=STRIPE, event_id=event.id).exists():
        return JsonResponse({"ok": True, "duplicate": True})
    if event.type in HANDLED:
        intent_id = str(getattr(event.data.object, "id", "") or "")
        try:
            _handle(tenant, intent_id)
        except NotFound:
            logger.info("stripe webhook %s: intent %s is not ours", event.id, intent_id)
        except Busy as error:
            return _refuse(error.message, 503)
    try:
        with transaction.atomic(durable=True):
            WebhookEvent.objects.create(tenant=tenant, provider=STRIPE, event_id=event.id, type=event.type)
    except IntegrityError:
        pass  # a concurrent delivery of the same event recorded it; both did the same idempotent work
    return HttpResponse(json.dumps({"ok": True}), content_type="application/json")


def _handle(tenant: Tenant, intent_id: str) -> None:
    from ticketing.payments.stripe_checkout import payment_confirm

    payment = (
        Payment.objects.filter(tenant=tenant, provider=STRIPE, reference=intent_id).only("purpose").first()
    )
    if payment is not None and payment.purpose == PaymentPurpose.TIP:
        return  # tips: we decide capture and void ourselves; the event only echoes them
    payment_confirm(tenant=tenant, intent_id=intent_id)
