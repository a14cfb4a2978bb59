"""Signals other apps listen to.

``seats_freed`` is sent after a transaction that returned seats to tiers has committed (an expired or
abandoned checkout, a cancelled or refunded order, a raised tier quantity). Waitlists offer the freed
seats to the next people in line; the waiting room admits the next person. Receivers run outside the
transaction that freed the seats and must start their own (call their services).

    seats_freed.send(sender=TicketTier, tenant_id=int, event_id=int, tier_ids=list[int])


``waiting_room_switched_on`` is sent INSIDE the transaction that creates an event with its waiting room on
or turns it on (``event_create`` / ``event_update``), so the room's settings exist from the same commit and
the public waiting-room link never answers 404. Receivers write in the caller's transaction.

    waiting_room_switched_on.send(sender=Event, event=Event)
"""

from django.dispatch import Signal

seats_freed = Signal()
waiting_room_switched_on = Signal()
