"""The Stripe provider as ticketing's checkout sees it.

Money never moves inside the checkout transaction: the buyer's card is confirmed against a
PaymentIntent first (by Stripe's Payment Element in the browser, or server-side in tests), and
``ticketing.payments.stripe_checkout`` calls ``checkout_complete`` only with a PaymentIntent it has just
retrieved from Stripe. ``charge`` then only checks that intent (succeeded, same amount and currency, for
this session) and ``after_order`` links the payment record to the order, in the same transaction.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ValidationError
from payments.gateway import card_details, stripe_credentials
from ticketing.payments import PaymentProvider, PaymentResult


class StripeProvider(PaymentProvider):
    name = "stripe"
    label = gettext_lazy("Card")
    help_text = gettext_lazy("Pay by card through Stripe (you enter your card on the next step).")
    external = True

    def is_available(self, *, total_cents: int, tenant=None) -> bool:
        return total_cents > 0 and tenant is not None and stripe_credentials(tenant) is not None

    def charge(self, *, amount_cents: int, currency: str, details: dict) -> PaymentResult:
        intent = details.get("intent")
        if not intent:
            # Reached only if someone posts "stripe" to the synchronous pay step.
            raise ValidationError(
                _("Card payments continue on the card page."), field_errors={"provider": [_("Choose again.")]}
            )
        if intent.get("status") != "succeeded":
            raise ValidationError(_("The card payment has not gone through yet."))
        if int(intent.get("amount") or 0) != amount_cents or str(intent.get("currency")).upper() != currency:
            raise ValidationError(_("The amount paid does not match this order."))
        return PaymentResult(paid=True, reference=str(intent["id"]))

    def method_label(self, details: dict) -> str:
        brand, last4 = card_details(details.get("intent") or {})
        if not last4:
            return _("Card (Stripe)")
        return _("%(brand)s ending %(last4)s") % {"brand": (brand or _("card")).title(), "last4": last4}

    def after_order(self, *, order, result: PaymentResult, details: dict, now) -> None:
        from payments.models import Payment, PaymentStatus

        intent = details["intent"]
        brand, last4 = card_details(intent)
        Payment.objects.filter(pk=details["payment_id"]).update(
            status=PaymentStatus.SUCCEEDED,
            order=order,
            captured_cents=order.total_cents,
            card_brand=brand,
            card_last4=last4,
            updated_at=now or timezone.now(),
        )
