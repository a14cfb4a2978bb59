"""Real-time payloads for the event availability group (public: anyone looking at the event page).

Group ``ticketing.availability.<tenant_id>.<event_id>``; message type ``availability.update``; payload
``{"fields": {"tier-<id>-available": "12", "event-status": "On sale"}}`` in the shape ``static/js/live.js``
applies. Built once per change after commit (not per watcher)."""

from __future__ import annotations

from core.broadcast import broadcast_on_commit, group_name


def availability_group(tenant_id: int, event_id: int) -> str:
    return group_name("ticketing", "availability", tenant_id, event_id)


def availability_payload(event_id: int) -> dict:
    from ticketing.selectors import event_availability

    event, tiers = event_availability(event_id)
    fields = {f"tier-{tier['id']}-available": availability_text(tier["available"]) for tier in tiers}
    fields["event-status"] = event["status_label"]
    return {"fields": fields, "tiers": tiers, "event_id": event_id}


def availability_text(available: int) -> str:
    return "Sold out" if available <= 0 else f"{available} left"


def broadcast_availability(event_id: int, tenant_id: int | None = None) -> None:
    if tenant_id is None:
        from ticketing.models import Event

        tenant_id = Event.objects.values_list("tenant_id", flat=True).get(pk=event_id)
    broadcast_on_commit(
        availability_group(tenant_id, event_id), "availability.update", lambda: availability_payload(event_id)
    )
