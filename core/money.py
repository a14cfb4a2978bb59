"""Money: integer minor units (cents) plus an ISO currency code.

Rounding rule (the only one in the project): percentages are computed exactly with Decimal and rounded
half-up to a whole minor unit, once per line that is shown to the customer. Never use floats for money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, format_decimal, get_currency_precision, get_decimal_symbol
from django.utils.translation import gettext as _


def percent_of(amount_cents: int, rate_percent: Decimal | str | int) -> int:
    """``rate_percent`` % of ``amount_cents``, rounded half-up to a whole cent."""
    exact = Decimal(amount_cents) * Decimal(str(rate_percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def minor_digits(currency: str) -> int:
    """Decimals of ``currency``'s minor unit, from CLDR (babel): JPY 0, EUR 2, KWD 3."""
    return get_currency_precision((currency or "USD").upper())


def to_major(amount_minor: int, currency: str) -> Decimal:
    """Integer minor units as an exact Decimal in major units (1234 JPY → 1234, 123450 EUR → 1234.50)."""
    digits = minor_digits(currency)
    return (Decimal(int(amount_minor)) / (Decimal(10) ** digits)).quantize(Decimal(1).scaleb(-digits))


def major_text(amount_minor: int, currency: str) -> str:
    """The amount as a person types it into a form (``parse_money`` reads it back): "12.50", "500"."""
    return str(to_major(amount_minor, currency))


def locale_name(language: str | None = None) -> str:
    """The babel locale of ``language`` (default: the active language)."""
    from django.utils import translation

    return translation.to_locale(language or translation.get_language() or "en")


def format_money(amount_cents: int, currency: str = "USD", language: str | None = None) -> str:
    """``amount_cents`` (minor units of ``currency``) in the active language's conventions (CLDR):
    "€1,234.50" in English, "1.234,50 €" in German and Spanish, "¥1,234", "KWD1,234.500"."""
    currency = (currency or "USD").upper()
    return format_currency(to_major(amount_cents, currency), currency, locale=locale_name(language))


def format_number(value, language: str | None = None) -> str:
    """A number with the active language's separators ("1,234.5" / "1.234,5")."""
    return format_decimal(value, locale=locale_name(language))


# The largest amount a person may type anywhere (a tip, a price, a fee): 1 000 000.00 in a two-decimal
# currency. Far above any real ticket or tip, far below the integer columns' limit (2^31 - 1 minor units).
MAX_AMOUNT_MINOR = 100_000_000
# Digits, then optionally one decimal separator (a point, or a comma as many countries write it) and up
# to as many decimals as the currency has (JPY none, EUR two, KWD three). No thousands separators, signs,
# exponents, NaN or infinity: "5,50" is 5.50, never 550, and "1,000" in euros is refused, not guessed.
_AMOUNT = re.compile(r"(?P<whole>\d{1,12})(?:[.,](?P<fraction>\d{1,3}))?", re.ASCII)


def parse_money(text: str, currency: str = "USD", *, max_minor: int = MAX_AMOUNT_MINOR) -> int:
    """Parse a user-typed amount ("12", "12.5", "12.50", "12,50") into minor units.

    Raises ValueError with a message for the person (it is shown as the field's error)."""
    cleaned = str(text).strip()
    match = _AMOUNT.fullmatch(cleaned)
    digits = minor_digits(currency)
    if cleaned.startswith("-"):
        raise ValueError(_("The amount cannot be negative."))
    if match is None or len(match["fraction"] or "") > digits:
        if digits == 0:
            example = format_number(500)
            raise ValueError(_("Enter a whole amount like %(example)s.") % {"example": example})
        decimal = "5" + get_decimal_symbol(locale_name()) + "5".ljust(digits, "0")
        examples = {"whole": "5", "decimal": decimal}
        raise ValueError(_("Enter an amount like %(whole)s or %(decimal)s.") % examples)
    fraction = (match["fraction"] or "").ljust(digits, "0")
    minor = int(match["whole"]) * 10**digits + (int(fraction) if digits else 0)
    if minor > max_minor:
        raise ValueError(
            _("The amount can be at most %(maximum)s.") % {"maximum": format_money(max_minor, currency)}
        )
    return minor
