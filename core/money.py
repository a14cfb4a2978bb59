"""Money: integer minor units (cents) plus an ISO currency code.

Rounding rule (the only one in the project): percentages are computed exactly with Decimal and rounded
half-up to a whole minor unit, once per line that is shown to the customer. Never use floats for money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX"}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def percent_of(amount_cents: int, rate_percent: Decimal | str | int) -> int:
    """``rate_percent`` % of ``amount_cents``, rounded half-up to a whole cent."""
    exact = Decimal(amount_cents) * Decimal(str(rate_percent)) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(amount_cents: int, currency: str = "USD") -> str:
    currency = (currency or "USD").upper()
    symbol = SYMBOLS.get(currency)
    if currency in ZERO_DECIMAL_CURRENCIES:
        text = f"{amount_cents:,}"
    else:
        sign = "-" if amount_cents < 0 else ""
        whole, cents = divmod(abs(amount_cents), 100)
        text = f"{sign}{whole:,}.{cents:02d}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


# The largest amount a person may type anywhere (a tip, a price, a fee): 1 000 000.00 in a two-decimal
# currency. Far above any real ticket or tip, far below the integer columns' limit (2^31 - 1 minor units).
MAX_AMOUNT_MINOR = 100_000_000
# Digits, then optionally one decimal separator (a point, or a comma as many countries write it) and one
# or two decimals. No thousands separators, signs, exponents, NaN or infinity: "5,50" is 5.50, never 550,
# and "1,000" is refused rather than guessed.
_AMOUNT = re.compile(r"(?P<whole>\d{1,12})(?:[.,](?P<fraction>\d{1,2}))?", re.ASCII)


def parse_money(text: str, currency: str = "USD", *, max_minor: int = MAX_AMOUNT_MINOR) -> int:
    """Parse a user-typed amount ("12", "12.5", "12.50", "12,50") into minor units.

    Raises ValueError with a message for the person (it is shown as the field's error)."""
    cleaned = str(text).strip()
    match = _AMOUNT.fullmatch(cleaned)
    zero_decimal = currency.upper() in ZERO_DECIMAL_CURRENCIES
    if cleaned.startswith("-"):
        raise ValueError("The amount cannot be negative.")
    if match is None or (zero_decimal and match["fraction"]):
        example = "500" if zero_decimal else "5 or 5.50"
        raise ValueError(f"Enter an amount like {example}.")
    value = Decimal(match["whole"] + "." + (match["fraction"] or "0"))
    minor = int(value) if zero_decimal else int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if minor > max_minor:
        raise ValueError(f"The amount can be at most {format_money(max_minor, currency)}.")
    return minor
