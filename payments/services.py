"""Write path of a tenant's payment settings (Stripe keys, receipt details, when tips are captured).

Secrets are encrypted before they reach the database (``payments.crypto``) and never read back into
a form: the page shows masks; an empty secret field keeps the stored one.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ValidationError
from payments import crypto
from payments.models import TenantPaymentSettings
from tenants.models import Tenant, User

SECRET_KEY_RE = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9_]{4,}$")
PUBLISHABLE_KEY_RE = re.compile(r"^pk_(test|live)_[A-Za-z0-9_]{4,}$")
WEBHOOK_SECRET_RE = re.compile(r"^whsec_[A-Za-z0-9_]{4,}$")


def payment_settings_update(
    *,
    tenant: Tenant,
    actor: User | None,
    stripe_publishable_key: str | None = None,
    stripe_secret_key: str = "",
    stripe_webhook_secret: str = "",
    disconnect_stripe: bool = False,
    legal_name: str | None = None,
    address: str | None = None,
    tax_id: str | None = None,
    tip_capture_on: str | None = None,
) -> TenantPaymentSettings:
    """Save the tenant's payment settings. A secret left empty keeps the stored one;
    ``disconnect_stripe`` removes all three keys (checkout falls back to the built-in providers).
    Locks the tenant's settings row. Raises ValidationError (field errors) for malformed keys or a
    test/live mismatch between the two keys."""
    errors: dict[str, list[str]] = {}
    stripe_secret_key = (stripe_secret_key or "").strip()
    stripe_webhook_secret = (stripe_webhook_secret or "").strip()
    if stripe_publishable_key is not None:
        stripe_publishable_key = stripe_publishable_key.strip()
        if stripe_publishable_key and not PUBLISHABLE_KEY_RE.match(stripe_publishable_key):
            errors["stripe_publishable_key"] = [_("A publishable key starts with pk_test_ or pk_live_.")]
    if stripe_secret_key and not SECRET_KEY_RE.match(stripe_secret_key):
        errors["stripe_secret_key"] = [
            _("A secret key starts with sk_test_, sk_live_ (or a restricted rk_…).")
        ]
    if stripe_webhook_secret and not WEBHOOK_SECRET_RE.match(stripe_webhook_secret):
        errors["stripe_webhook_secret"] = [_("A webhook signing secret starts with whsec_.")]
    if tip_capture_on is not None and tip_capture_on not in ("approve", "complete"):
        errors["tip_capture_on"] = [_("Choose when tips are charged.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], field_errors=errors)
    with transaction.atomic(durable=True):
        row, _created = TenantPaymentSettings.objects.select_for_update().get_or_create(tenant=tenant)
        if disconnect_stripe:
            row.stripe_publishable_key = ""
            row.stripe_secret_key_encrypted = row.stripe_secret_key_mask = ""
            row.stripe_webhook_secret_encrypted = row.stripe_webhook_secret_mask = ""
        else:
            if stripe_publishable_key is not None:
                row.stripe_publishable_key = stripe_publishable_key
            if stripe_secret_key:
                row.stripe_secret_key_encrypted = crypto.encrypt(stripe_secret_key)
                row.stripe_secret_key_mask = crypto.mask(stripe_secret_key)
            if stripe_webhook_secret:
                row.stripe_webhook_secret_encrypted = crypto.encrypt(stripe_webhook_secret)
                row.stripe_webhook_secret_mask = crypto.mask(stripe_webhook_secret)
            mode_public = row.stripe_publishable_key.split("_")[1] if row.stripe_publishable_key else ""
            mode_secret = row.stripe_secret_key_mask.split("_")[1] if row.stripe_secret_key_mask else ""
            if mode_public and mode_secret and mode_public != mode_secret.rstrip("…"):
                raise ValidationError(
                    _("The publishable and secret keys are from different modes (test / live)."),
                    field_errors={"stripe_secret_key": [_("Use the secret key of the same mode.")]},
                )
        for name, value in (("legal_name", legal_name), ("address", address), ("tax_id", tax_id)):
            if value is not None:
                setattr(row, name, value.strip())
        if tip_capture_on is not None:
            row.tip_capture_on = tip_capture_on
        row.save()
    return row
