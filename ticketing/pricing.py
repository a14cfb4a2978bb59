"""Order amounts. The rounding rule is the project's one rule, written in ``core.money``: percentages are
computed exactly (Decimal) and rounded half-up to a whole minor unit once per line shown to the customer.

Applied here as:
- service fee, per ticket = ``fee_fixed_cents + percent_of(unit price, fee_percent)`` (rounded per ticket,
  because the per-ticket fee is what the event page shows); the order's fee is that times the quantity;
- tax = ``percent_of(subtotal + fee, tax_percent)``, rounded once on the order;
- total = subtotal + fee + tax (the database CHECKs this equality).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.money import percent_of


@dataclass(frozen=True)
class Amounts:
    subtotal_cents: int
    fee_cents: int
    tax_cents: int
    total_cents: int


def fee_per_ticket(*, event, unit_price_cents: int) -> int:
    if unit_price_cents == 0:
        return 0  # free tickets carry no service fee
    return event.fee_fixed_cents + percent_of(unit_price_cents, event.fee_percent)


def price_lines(*, event, lines: list[tuple[int, int]]) -> Amounts:
    """``lines`` are ``(unit_price_cents, quantity)`` pairs."""
    subtotal = sum(price * quantity for price, quantity in lines)
    fee = sum(fee_per_ticket(event=event, unit_price_cents=price) * quantity for price, quantity in lines)
    tax = percent_of(subtotal + fee, event.tax_percent)
    return Amounts(subtotal_cents=subtotal, fee_cents=fee, tax_cents=tax, total_cents=subtotal + fee + tax)
