"""Live place in line for one waitlist entry. The consumer resolves the entry by its unguessable
access token (read-only), joins its event's group, and forwards only ITS place from each broadcast
(the positions are computed once per change in ``waitlists.events``, not once per watcher). It never
writes to the ORM."""

from channels.db import database_sync_to_async

from core.live import LiveConsumer
from waitlists.events import positions_group


@database_sync_to_async
def _entry(token: str):
    from waitlists.models import WaitlistEntry

    return WaitlistEntry.objects.filter(access_token=token).values("id", "tenant_id", "event_id").first()


class PositionConsumer(LiveConsumer):
    async def connect(self):
        entry = await _entry(self.scope["url_route"]["kwargs"]["token"])
        if entry is None:
            await self.close(code=4404)
            return
        self.entry_id = str(entry["id"])
        await self.join(positions_group(entry["tenant_id"], entry["event_id"]))
        await self.accept()

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
