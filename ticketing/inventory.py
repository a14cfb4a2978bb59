"""Tier inventory: the only code that changes ``TicketTier.sold`` / ``reserved``.

Rules:
- Taking seats is ONE conditional UPDATE per tier,
  ``SET reserved = reserved + n WHERE id = … AND sold + reserved + n <= quantity``, run in tier-id order
  inside the caller's transaction. PostgreSQL's row lock serialises writers on the tier and re-evaluates
  the condition against the latest committed row, so two buyers can never both take the last seat.
  A zero-row update means "not enough left" → ``SoldOut``. The DB CHECK ``sold + reserved <= quantity``
  is the backstop.
- Releasing and converting (reserved → sold, sold → returned) never need a lock: they only lower
  ``reserved``/``sold`` (or move units between the two), which cannot oversell.
- Callers schedule ``ticketing.services.seats_released`` on commit after a release.

``settings.VQ_DISABLE_INVENTORY_PROTECTION`` (tests only) swaps ``take`` for the naive
read-check-then-write that the conditional UPDATE replaces. Why this is an honest proof: the naive path
writes an absolute ``reserved = <value read> + n``, so concurrent buyers who all read "0 reserved" each
pass the check and each record a hold while the counter only moves once (a lost update). The CHECK
constraint cannot see this — every single write is within bounds — so the only thing preventing the
oversell is the conditional UPDATE. The concurrency test counts holds (CheckoutItem rows of active
sessions) against the tier's quantity, which is what a buyer experiences.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import SoldOut
from ticketing.models import TicketTier

TAKE_SQL = (
    f"UPDATE {TicketTier._meta.db_table} SET reserved = reserved + %s "
    "WHERE id = %s AND sold + reserved + %s <= quantity RETURNING quantity - sold - reserved"
)


def take(tier_quantities: dict[int, int], *, tier_names: dict[int, str] | None = None) -> bool:
    """Reserve ``n`` seats of each tier (``{tier_id: n}``) or raise SoldOut naming the tier. Returns
    whether a tier is now full (so the caller re-checks the event's sold-out status only then).

    Must run inside ``transaction.atomic``; the whole take rolls back with the caller on failure. Call it
    as late as possible in the transaction: the tier row stays locked from here until commit, and that
    lock is what every buyer of a hot tier queues on."""
    filled = False
    for tier_id in sorted(tier_quantities):
        quantity = tier_quantities[tier_id]
        if quantity <= 0:
            continue
        if settings.VQ_DISABLE_INVENTORY_PROTECTION:
            remaining = _take_unprotected(tier_id, quantity)
        else:
            with connection.cursor() as cursor:
                cursor.execute(TAKE_SQL, [quantity, tier_id, quantity])
                row = cursor.fetchone()
            remaining = None if row is None else row[0]
        if remaining is None:
            name = (tier_names or {}).get(tier_id) or _("This ticket type")
            raise SoldOut(
                ngettext(
                    "%(tier)s is sold out, or fewer than %(count)s is left.",
                    "%(tier)s is sold out, or fewer than %(count)s are left.",
                    quantity,
                )
                % {"tier": name, "count": quantity}
            )
        filled = filled or remaining == 0
    return filled


def _take_unprotected(tier_id: int, quantity: int) -> int | None:
    """The naive read-check-then-write (test-only; see the module docstring)."""
    row = TicketTier.objects.values("quantity", "sold", "reserved").get(pk=tier_id)
    remaining = row["quantity"] - row["sold"] - row["reserved"] - quantity
    if remaining < 0:
        return None
    TicketTier.objects.filter(pk=tier_id).update(reserved=row["reserved"] + quantity)
    return remaining


def release(tier_quantities: dict[int, int]) -> None:
    """Give held (reserved) seats back. No lock needed: it only lowers ``reserved``."""
    for tier_id in sorted(tier_quantities):
        if tier_quantities[tier_id] > 0:
            TicketTier.objects.filter(pk=tier_id).update(reserved=F("reserved") - tier_quantities[tier_id])


def convert_to_sold(tier_quantities: dict[int, int]) -> None:
    """Turn held seats into sold ones (a completed checkout)."""
    for tier_id in sorted(tier_quantities):
        quantity = tier_quantities[tier_id]
        if quantity > 0:
            TicketTier.objects.filter(pk=tier_id).update(
                reserved=F("reserved") - quantity, sold=F("sold") + quantity
            )


def return_sold(tier_quantities: dict[int, int]) -> None:
    """Put sold seats back on sale (a cancelled or refunded order)."""
    for tier_id in sorted(tier_quantities):
        if tier_quantities[tier_id] > 0:
            TicketTier.objects.filter(pk=tier_id).update(sold=F("sold") - tier_quantities[tier_id])
