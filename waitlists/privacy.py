"""The waitlists app's part of a customer's data rights: export their waitlist places; before an
erasure, withdraw the places still waiting or offered (through ``waitlist_withdraw``, which frees an
offer's held seats for the next people) — an erased person can be told of no offer."""

from __future__ import annotations

from waitlists.models import EntryStatus, WaitlistEntry


def export_customer(customers) -> dict[str, list[dict]]:
    entries = (
        WaitlistEntry.objects.filter(customer__in=customers).select_related("event", "tier").order_by("pk")
    )
    return {
        "waitlist_places": [
            {
                "event": entry.event.title,
                "tier": entry.tier.name if entry.tier_id else "any tier",
                "quantity": entry.quantity,
                "status": entry.status,
                "joined_at": entry.created_at.isoformat(),
            }
            for entry in entries
        ]
    }


def related_keys(customers) -> list[tuple[str, str]]:
    entries = WaitlistEntry.objects.filter(customer__in=customers).values_list("pk", flat=True)
    return [("waitlists.waitlistentry", str(pk)) for pk in entries]


def before_erase(tenant, customers, *, now) -> None:
    """Runs before the erasure's transaction: each withdrawal is its own durable service call."""
    from waitlists.services import waitlist_withdraw

    active = WaitlistEntry.objects.filter(
        tenant=tenant, customer__in=customers, status__in=[EntryStatus.WAITING, EntryStatus.OFFERED]
    )
    for entry in active:
        waitlist_withdraw(tenant=tenant, entry=entry, now=now)
