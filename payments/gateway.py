"""The one place that talks to Stripe (the official ``stripe`` SDK, a ``StripeClient`` per tenant).

Keys: a tenant's own (``TenantPaymentSettings``, encrypted at rest) win; otherwise the deployment's
``STRIPE_SECRET_KEY`` / ``STRIPE_PUBLISHABLE_KEY`` / ``STRIPE_WEBHOOK_SECRET``; with neither, Stripe is
not offered and checkout uses the built-in providers. ``STRIPE_API_BASE`` points the SDK elsewhere
(the tests' localstripe). Never call these inside an open transaction: they do network I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import stripe
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from core.errors import Busy
from payments.crypto import SecretUnreadable

STRIPE = "stripe"


@dataclass(frozen=True)
class StripeCredentials:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    own: bool  # the tenant's own account (else the deployment's)


def stripe_credentials(tenant) -> StripeCredentials | None:
    """The tenant's Stripe credentials, or None when Stripe is not configured for it."""
    from payments.models import TenantPaymentSettings

    own = TenantPaymentSettings.objects.filter(tenant_id=tenant.pk).first() if tenant is not None else None
    if own is not None and own.has_stripe:
        try:
            return StripeCredentials(
                secret_key=own.stripe_secret_key,
                publishable_key=own.stripe_publishable_key,
                webhook_secret=own.stripe_webhook_secret,
                own=True,
            )
        except SecretUnreadable:
            return None
    if settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY:
        return StripeCredentials(
            secret_key=settings.STRIPE_SECRET_KEY,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            own=False,
        )
    return None


def client_for(tenant) -> stripe.StripeClient:
    credentials = stripe_credentials(tenant)
    if credentials is None:
        raise Busy(gettext("Card payments are not set up for this organiser."))
    return stripe.StripeClient(
        credentials.secret_key,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
    )


UNREACHABLE = gettext_lazy(
    "The card processor did not answer. Nothing new was charged; please try again in a moment."
)


def card_details(intent) -> tuple[str, str]:
    """(brand, last4) of the card behind a PaymentIntent, when the provider told us."""
    charge = intent.get("latest_charge")
    details = {}
    if isinstance(charge, dict):
        details = (charge.get("payment_method_details") or {}).get("card") or {}
    method = intent.get("payment_method")
    if not details and isinstance(method, dict):
        details = method.get("card") or {}
    return str(details.get("brand") or "")[:20], str(details.get("last4") or "")[:4]
