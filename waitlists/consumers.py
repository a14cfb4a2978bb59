"""Live place in line for one waitlist entry. The consumer resolves the entry by its unguessable
access token (read-only), joins its event's group, and forwards only ITS place from each broadcast
(the positions are computed once per change in ``waitlists.events``, not once per watcher). It never
writes to the ORM.

On connect it sends the entry's current state, so a page that lost its socket (a server restart, a
laptop lid) is right again as soon as it reconnects. When the entry stops waiting (an offer, an expiry)
the consumer reads its new status once and says so, with a prompt to reload for the offer's link."""

from channels.db import database_sync_to_async
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from core.live import LiveConsumer
from core.scope_language import scope_language
from waitlists.events import positions_group

CHANGED = gettext_lazy("Your status changed. Reload the page to see it.")


@database_sync_to_async
def _entry(token: str):
    from waitlists.models import WaitlistEntry

    return WaitlistEntry.objects.filter(access_token=token).values("id", "tenant_id", "event_id").first()


@database_sync_to_async
def _state(entry_id: int) -> tuple[str, int | None] | None:
    """(status, place in line or None) now, or None when the entry is gone."""
    from waitlists.models import WaitlistEntry
    from waitlists.selectors import entry_position

    entry = WaitlistEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return None
    return entry.effective_status(timezone.now()), entry_position(entry)


def _label(status: str, language: str | None) -> str:
    """The status label in the page's language (``?lang=`` on the socket URL)."""
    from waitlists.models import EntryStatus

    with translation.override(language):
        return str(EntryStatus(status).label)


class PositionConsumer(LiveConsumer):
    async def connect(self):
        entry = await _entry(self.scope["url_route"]["kwargs"]["token"])
        if entry is None:
            await self.close(code=4404)
            return
        self.entry_id = str(entry["id"])
        self.changed = False
        await self.join(positions_group(entry["tenant_id"], entry["event_id"]))
        await self.accept()
        await self.send_state()  # read after joining: a change from here on also arrives as a message

    async def send_state(self) -> None:
        state = await _state(int(self.entry_id))
        if state is None:
            await self.close(code=4404)
            return
        status, place = state
        language = scope_language(self.scope)
        label = _label(status, language)
        if place is not None:
            await self.send_json({"fields": {"position": str(place), "status": label}})
            return
        self.changed = True  # the page was rendered while waiting (only then does it open a socket)
        with translation.override(language):
            changed = str(CHANGED)
        await self.send_json({"fields": {"status": label, "changed": changed}})

    async def waitlist_positions(self, message):
        place = message["payload"]["positions"].get(self.entry_id)
        if place is not None:
            await self.send_json({"fields": {"position": str(place)}})
        elif not self.changed:  # no longer waiting: read what it is now, once
            await self.send_state()
