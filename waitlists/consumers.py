"""Live place in line for one waitlist entry. The consumer resolves the entry by its unguessable
access token (read-only), joins its event's group, and forwards only ITS place from each broadcast
(the positions are computed once per change in ``waitlists.events``, not once per watcher). It never
writes to the ORM."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from waitlists.events import positions_group


@database_sync_to_async
def _entry(token: str):
    from waitlists.models import WaitlistEntry

    return WaitlistEntry.objects.filter(access_token=token).values("id", "tenant_id", "event_id").first()


class PositionConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        entry = await _entry(self.scope["url_route"]["kwargs"]["token"])
        if entry is None:
            await self.close(code=4404)
            return
        self.entry_id = str(entry["id"])
        self.group = positions_group(entry["tenant_id"], entry["event_id"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def waitlist_positions(self, message):
        place = message["payload"]["positions"].get(self.entry_id)
        if place is None:
            await self.send_json(
                {
                    "fields": {
                        "status": "Changed",
                        "changed": "Your status changed. Reload the page to see it.",
                    }
                }
            )
        else:
            await self.send_json({"fields": {"position": str(place)}})
