"""Payment providers behind one small interface.

A provider gets the amount and the details typed at checkout and answers paid / pending, or raises
``PaymentDeclined``. Built in:

- ``free``: only for a zero total; paid at once.
- ``test_card``: a pretend card processor for demos and tests. Any number that passes the Luhn check is
  paid, except the documented declining number **4000 0000 0000 0002** (``DECLINING_TEST_CARD``).
- ``pay_at_door``: nothing is charged; the order stays pending until staff mark it paid at the door.
- ``stripe`` (``ticketing.payments.stripe_provider``, registered by the ``payments`` app): available for
  a tenant with Stripe keys (its own, or the deployment's ``STRIPE_*`` settings). Its money moves
  before the checkout transaction (``ticketing.payments.stripe_checkout``); inside it, ``charge`` only
  checks the PaymentIntent the provider already confirmed.

The built-in providers do no network I/O, so the checkout service calls them inside its transaction: a
decline rolls the whole purchase back and the held seats stay held for another try. ``after_order`` runs
in the same transaction once the order row exists (the Stripe provider links its payment record there).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ValidationError

DECLINING_TEST_CARD = "4000000000000002"


class PaymentDeclined(ValidationError):
    code = "payment_declined"
    default_message = gettext_lazy("The payment was declined. Try another card or payment method.")


@dataclass(frozen=True)
class PaymentResult:
    paid: bool
    reference: str = ""


class PaymentProvider:
    name = ""
    label = ""
    help_text = ""

    # True when money moves outside the checkout transaction (the page takes the buyer elsewhere).
    external = False

    def is_available(self, *, total_cents: int, tenant=None) -> bool:
        return total_cents > 0

    def charge(self, *, amount_cents: int, currency: str, details: dict) -> PaymentResult:
        raise NotImplementedError

    def after_order(self, *, order, result: PaymentResult, details: dict, now) -> None:
        """Inside the checkout transaction, after the order row is saved. Default: nothing."""

    def method_label(self, details: dict) -> str:
        """How the buyer paid, for the confirmation email (no queries: it runs on the purchase path)."""
        return str(self.label)


class FreeProvider(PaymentProvider):
    name = "free"
    label = gettext_lazy("Free tickets")
    help_text = gettext_lazy("Nothing to pay.")

    def is_available(self, *, total_cents: int, tenant=None) -> bool:
        return total_cents == 0

    def charge(self, *, amount_cents: int, currency: str, details: dict) -> PaymentResult:
        if amount_cents != 0:
            raise ValidationError(_("This order is not free; choose a payment method."))
        return PaymentResult(paid=True, reference="free")


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


class TestCardProvider(PaymentProvider):
    name = "test_card"
    label = gettext_lazy("Card (test mode)")
    help_text = gettext_lazy("Test mode: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined.")

    def charge(self, *, amount_cents: int, currency: str, details: dict) -> PaymentResult:
        number = re.sub(r"[\s-]", "", str(details.get("card_number", "")))
        if not re.fullmatch(r"\d{12,19}", number) or not luhn_ok(number):
            raise ValidationError(
                _("Check the card number."),
                field_errors={"card_number": [_("This is not a valid card number.")]},
            )
        if number == DECLINING_TEST_CARD:
            raise PaymentDeclined(field_errors={"card_number": [_("The card was declined.")]})
        return PaymentResult(paid=True, reference=f"test_{secrets.token_hex(8)}")

    def method_label(self, details: dict) -> str:
        number = re.sub(r"\D", "", str(details.get("card_number", "")))
        if not number:
            return str(self.label)
        return _("%(method)s, card ending %(last4)s") % {"method": self.label, "last4": number[-4:]}


class PayAtDoorProvider(PaymentProvider):
    name = "pay_at_door"
    label = gettext_lazy("Pay at the door")
    help_text = gettext_lazy("Your tickets are reserved now; pay when you arrive. Staff mark the order paid.")

    def charge(self, *, amount_cents: int, currency: str, details: dict) -> PaymentResult:
        return PaymentResult(paid=False, reference="")


PROVIDERS: dict[str, PaymentProvider] = {
    provider.name: provider for provider in (FreeProvider(), TestCardProvider(), PayAtDoorProvider())
}


def get_provider(name: str) -> PaymentProvider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValidationError(
            _("Choose a payment method."), field_errors={"provider": [_("Choose a payment method.")]}
        ) from None


def register_provider(provider: PaymentProvider) -> None:
    """Add a provider (called from an ``AppConfig.ready``); the same name twice keeps the last."""
    PROVIDERS[provider.name] = provider


def providers_for(total_cents: int, tenant=None, event=None) -> list[PaymentProvider]:
    """The providers a checkout of ``total_cents`` may use; pay at the door only where ``event`` allows it."""
    return [
        provider
        for provider in PROVIDERS.values()
        if provider.is_available(total_cents=total_cents, tenant=tenant)
        and not (provider.name == "pay_at_door" and event is not None and not event.pay_at_door_enabled)
    ]
