"""Money: integer minor units (cents) plus an ISO currency code.

Rounding rule (the only one in the project): percentages are computed exactly with Decimal and rounded
half-up to a whole minor unit, once per line that is shown to the customer. Never use floats for money.
"""

from __future__ import annotations

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


def parse_money(text: str, currency: str = "USD") -> int:
    """Parse a user-typed amount ("12", "12.5", "12.50") into minor units; raises ValueError."""
    value = Decimal(str(text).strip().replace(",", ""))
    if value < 0:
        raise ValueError("amount must not be negative")
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
