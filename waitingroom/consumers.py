"""Live waiting-room pages.

``EntryConsumer`` (public, by the entry's unguessable token, for the browser or user holding that place
only — anyone else is closed with 4403): on connect it reads the entry and counts the
people ahead ONCE, joins the event's group and records "seen" in Redis (``waitingroom.seen`` — never the
ORM; throttled to one ZADD per 20 s on pings). Each ``waitingroom.moved`` broadcast carries the numbers
that left the line, so the consumer moves its own position without a query; only a ``recount`` broadcast
(the pre-queue draw, a mass expiry, sold out / back on sale) makes it count again. When its own entry is
admitted (or the sale's state changes) it tells the page to reload, which shows the next step.

``StaffConsumer`` (members of the event's tenant only; anyone else is refused like a missing page):
sends the live counts after each change (one aggregate query per staff watcher, not per person waiting).
"""

from __future__ import annotations

import time

from channels.db import database_sync_to_async
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from core.live import LiveConsumer, scope_user
from core.scope_language import scope_language
from waitingroom.events import room_group
from waitingroom.seen import amark_seen

SEEN_EVERY_SECONDS = 20


@database_sync_to_async
def _entry_info(token: str) -> dict | None:
    from waitingroom import selectors
    from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry

    entry = WaitingRoomEntry.objects.filter(token=token).first()
    if entry is None:
        return None
    room = WaitingRoom.objects.only("shuffled_at").get(event_id=entry.event_id)
    state = selectors.room_state(entry.event_id)
    ahead = None
    if entry.status == EntryStatus.WAITING and not (entry.prequeue and room.shuffled_at is None):
        ahead = selectors.ahead_count(entry)
    return {
        "id": entry.pk,
        "tenant_id": entry.tenant_id,
        "event_id": entry.event_id,
        "number": entry.number,
        "status": entry.status,
        "holder_key": entry.holder_key,
        "user_id": entry.user_id,
        "ahead": ahead,
        **state,
    }


@database_sync_to_async
def _staff_allowed(user, tenant_id: int, event_id: int) -> bool:
    from tenants.models import Membership
    from ticketing.models import Event

    if not (user and user.is_authenticated):
        return False
    return (
        Membership.objects.filter(user=user, tenant_id=tenant_id).exists()
        and Event.objects.filter(pk=event_id, tenant_id=tenant_id).exists()
    )


@database_sync_to_async
def _staff_fields(event_id: int) -> dict:
    from ticketing.models import Event
    from waitingroom.selectors import staff_counts

    counts = staff_counts(Event.objects.get(pk=event_id))
    return {f"count-{name}": str(value) for name, value in counts.__dict__.items()}


def position_fields(ahead: int | None, state: dict) -> dict:
    """``state``: the room's ``rate`` and ``calibration`` (``room_state`` or a broadcast payload)."""
    from waitingroom.selectors import eta_shown

    if ahead is None:
        return {"position": gettext("Drawn at opening"), "ahead": "—", "eta": gettext("After the draw")}
    return {"position": str(ahead + 1), "ahead": str(ahead), "eta": eta_shown(ahead, state).text}


class EntryConsumer(LiveConsumer):
    """Texts go out in the page's language (``?lang=`` on the socket URL, ``core.scope_language``)."""

    async def connect(self):
        self.language = scope_language(self.scope)
        with translation.override(self.language):
            await self._connect()

    async def _connect(self):
        self.token = self.scope["url_route"]["kwargs"]["token"]
        info = await _entry_info(self.token)
        if info is None:
            await self.close(code=4404)
            return
        if not await self._holds(info):
            await self.close(code=4403)  # another browser's place: nothing sent, nothing marked seen
            return
        self._take(info)
        await self.join(room_group(info["tenant_id"], info["event_id"]))
        await self.accept()
        await self._seen(force=True)
        if not self.waiting:
            # Only a waiting page opens this socket: this one was admitted (or let go) while it was
            # disconnected, so it would show a stale place and miss its turn. Reload it now.
            await self.send_json({"fields": {"notice": _("Your place changed. Updating…")}, "reload": True})
            return
        await self.send_json({"fields": position_fields(self.ahead, info)})
        await self._note_shown(info)

    async def _holds(self, info: dict) -> bool:
        """The place's own browser (session key) or its signed-in user (``core.holders.is_holder``)."""
        user = await scope_user(self.scope)
        signed_in = user is not None and user.is_authenticated
        if info["user_id"] is not None and signed_in and user.pk == info["user_id"]:
            return True
        if not info["holder_key"]:
            return info["user_id"] is None
        session = self.scope.get("session")
        return session is not None and session.session_key == info["holder_key"]

    def _take(self, info: dict) -> None:
        self.entry_id = info["id"]
        self.tenant_id = info["tenant_id"]
        self.event_id = info["event_id"]
        self.number = info["number"]
        self.waiting = info["status"] == "waiting"
        self.ahead = info["ahead"]
        self.sold_out = info["sold_out"]
        self.paused = info["paused"]

    async def _seen(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - getattr(self, "seen_sent", 0) >= SEEN_EVERY_SECONDS:
            self.seen_sent = now
            await amark_seen(self.event_id, self.entry_id)

    async def on_ping(self) -> None:
        await self._seen()

    async def waitingroom_moved(self, message):
        with translation.override(getattr(self, "language", None)):
            await self._moved(message)

    async def _moved(self, message):
        from waitingroom.models import EntryStatus

        payload = message["payload"]
        if self.entry_id in payload["admitted"]:
            await self.send_json(
                {
                    "fields": {
                        "status": str(EntryStatus.ADMITTED.label),
                        "notice": _("It's your turn! Loading your checkout…"),
                    },
                    "reload": True,
                }
            )
            return
        if not self.waiting:
            return
        if payload["recount"] or self.ahead is None:
            info = await _entry_info(self.token)
            if info is None:
                return
            changed = info["sold_out"] != self.sold_out or info["status"] != "waiting"
            drawn = self.ahead is None and info["ahead"] is not None
            self._take(info)
            if changed:
                await self.send_json({"fields": {"notice": _("The sale changed. Updating…")}, "reload": True})
                return
            if drawn:  # the pre-queue draw was made: reload to show the place and the revealed seed
                notice = gettext("The draw was made. Showing your place…")
                await self.send_json({"fields": {"notice": notice}, "reload": True})
                return
        else:
            self.ahead = max(0, self.ahead - sum(1 for number in payload["gone"] if number < self.number))
        fields = position_fields(self.ahead, payload)
        fields["paused"] = _("Admission is paused for a moment.") if payload["paused"] else ""
        await self.send_json({"fields": fields})
        await self._note_shown(payload)

    async def _note_shown(self, state: dict) -> None:
        """ETA accuracy: note the range now shown, once per new position (after sending; Redis only)."""
        from queues.accuracy import anote_shown
        from waitingroom.selectors import eta_shown

        if self.ahead is None or self.ahead == getattr(self, "noted_ahead", None):
            return
        self.noted_ahead = self.ahead
        await anote_shown(
            scope="room",
            scope_id=self.event_id,
            tenant_id=self.tenant_id,
            item_id=self.entry_id,
            forecast=eta_shown(self.ahead, state).forecast,
        )


class StaffConsumer(LiveConsumer):
    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        tenant_id, self.event_id = int(kwargs["tenant_id"]), int(kwargs["event_id"])
        if not await _staff_allowed(await scope_user(self.scope), tenant_id, self.event_id):
            await self.close(code=4404)
            return
        await self.join(room_group(tenant_id, self.event_id))
        await self.accept()

    async def waitingroom_moved(self, message):
        fields = await _staff_fields(self.event_id)
        with translation.override(scope_language(self.scope)):
            fields["paused"] = _("Paused") if message["payload"]["paused"] else _("Admitting")
        await self.send_json({"fields": fields})
