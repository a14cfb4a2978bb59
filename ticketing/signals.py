"""Signals other apps listen to.

``seats_freed`` is sent after a transaction that returned seats to tiers has committed (an expired or
abandoned checkout, a cancelled or refunded order, a raised tier quantity). Waitlists offer the freed
seats to the next people in line; the waiting room admits the next person. Receivers run outside the
transaction that freed the seats and must start their own (call their services).

    seats_freed.send(sender=TicketTier, tenant_id=int, event_id=int, tier_ids=list[int])
"""

from django.dispatch import Signal

seats_freed = Signal()
