"""Live availability on the public event page. The consumer checks (read-only) that the event exists,
belongs to the tenant in the path and is public, then joins its group and sends the newest availability
it knows; it never writes to the ORM. Messages are produced by ``ticketing.events`` after commit.

The check is a cached fact (``core.live.fact``): a published event never goes back to draft (the FSM only
leaves DRAFT), so "event E of tenant T is public" stays true once true — one database read per event and
hour serves a whole reconnect storm. Unknown or draft events are looked up again after a few seconds.
"""

from core.live import LiveConsumer, fact, last_payload
from ticketing.events import availability_group

PUBLIC_FACT_SECONDS = 3600
UNKNOWN_FACT_SECONDS = 5


def _public_event(tenant_id: int, event_id: int):
    from ticketing.models import Event, EventStatus

    found = Event.objects.filter(pk=event_id, tenant_id=tenant_id).exclude(status=EventStatus.DRAFT).exists()
    return True if found else None


class AvailabilityConsumer(LiveConsumer):
    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        tenant_id, event_id = int(kwargs["tenant_id"]), int(kwargs["event_id"])
        public = await fact(
            "public-event",
            f"{tenant_id}.{event_id}",
            lambda: _public_event(tenant_id, event_id),
            ttl=PUBLIC_FACT_SECONDS,
            negative_ttl=UNKNOWN_FACT_SECONDS,
        )
        if not public:
            await self.close(code=4404)
            return
        group = availability_group(tenant_id, event_id)
        await self.join(group)
        newest = await last_payload(group)  # read after joining: nothing newer can slip between
        await self.accept()
        if newest is not None:
            await self.send_json(newest)

    async def availability_update(self, message):
        await self.send_shared(message, "availability", lambda: message["payload"])
