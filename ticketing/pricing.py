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


@dataclass(frozen=True)
class Quote:
    """What a checkout charges. ``honoured`` is False when its opening snapshot can no longer be used and
    the amounts were priced from the live event instead (the buyer must see and confirm the new total)."""

    amounts: Amounts
    currency: str
    honoured: bool


def checkout_quote(*, session, lines) -> Quote:
    """The amounts of ``session`` from the snapshot taken when it opened (unit prices and fees per line,
    tax rate, currency): a later edit of the tier or event does not change them. The snapshot cannot be
    honoured when the event has since changed its currency (the snapshot's amounts are in a currency it no
    longer sells in) or a line predates snapshots; then every line is priced live and ``honoured`` is
    False. ``lines`` are the session's CheckoutItems with their tiers."""
    event = session.event
    snapshot_ok = session.currency == event.currency and all(
        line.unit_price_cents is not None and line.unit_fee_cents is not None for line in lines
    )
    if not snapshot_ok:
        live = price_lines(event=event, lines=[(line.tier.price_cents, line.quantity) for line in lines])
        return Quote(amounts=live, currency=event.currency, honoured=False)
    subtotal = sum(line.unit_price_cents * line.quantity for line in lines)
    fee = sum(line.unit_fee_cents * line.quantity for line in lines)
    tax_rate = session.tax_percent if session.tax_percent is not None else event.tax_percent
    tax = percent_of(subtotal + fee, tax_rate)
    amounts = Amounts(subtotal_cents=subtotal, fee_cents=fee, tax_cents=tax, total_cents=subtotal + fee + tax)
    return Quote(amounts=amounts, currency=session.currency, honoured=True)


def line_unit_price(line) -> int:
    """The unit price a checkout line charges (its snapshot; the live price only without one)."""
    return line.unit_price_cents if line.unit_price_cents is not None else line.tier.price_cents
