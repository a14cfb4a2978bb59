"""Live availability on the public event page. The consumer checks (read-only) that the event exists,
belongs to the tenant in the path and is public, then joins its group; it never writes to the ORM.
Messages are produced by ``ticketing.events`` after commit."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ticketing.events import availability_group


@database_sync_to_async
def _public_event_exists(tenant_id: int, event_id: int) -> bool:
    from ticketing.models import Event, EventStatus

    return Event.objects.filter(pk=event_id, tenant_id=tenant_id).exclude(status=EventStatus.DRAFT).exists()


class AvailabilityConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        tenant_id, event_id = int(kwargs["tenant_id"]), int(kwargs["event_id"])
        if not await _public_event_exists(tenant_id, event_id):
            await self.close(code=4404)
            return
        self.group = availability_group(tenant_id, event_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def availability_update(self, message):
        await self.send_json(message["payload"])
