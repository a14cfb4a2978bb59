"""Websocket consumers for queues. They authenticate/authorise and read their starting state once at
connect; per message they only compute from the broadcast (no ORM). One group per queue
(``queues.events.queue_group``) carries one message per change to every kind of watcher.

The public card (the one thousands watch) connects without a query: which tenant owns the queue is a
cached fact (``core.live.fact``, a few seconds) and its first message is the queue's newest broadcast
(``core.live.last_payload``). Every creator and service queue has a card, listed or not: an unlisted
queue is left off the tenant's public page but its own form page works by direct link and shows the
same card (``queues.selectors.linkable_queues``); help-desk queues have none."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.utils import translation

from core.live import LiveConsumer, fact, last_payload, lookup_allowed, scope_user
from queues.accuracy import anote_shown
from queues.events import card_fields_of, queue_group
from queues.live import StatusWatch, read_status_state, scope_language

NOT_FOUND = 4404
CARD_FACT_SECONDS = 10


class StatusConsumer(LiveConsumer):
    """``ws/queues/status/<reference>/``: the live status of one ticket (public by reference)."""

    watch: StatusWatch | None = None
    noted_position: int | None = None

    async def connect(self):
        reference = self.scope["url_route"]["kwargs"]["reference"]
        if not await lookup_allowed(self.scope):
            await self.close(code=4429)
            return
        first = await database_sync_to_async(read_status_state)(reference)
        if first is None:
            await self.close(code=NOT_FOUND)
            return
        await self.join(queue_group(first["tenant"], first["queue"]))
        # Read again after joining, so no change between the read and the join can be missed.
        state = await database_sync_to_async(read_status_state)(reference)
        self.watch = StatusWatch(state, scope_language(self.scope))
        await self.accept()
        with translation.override(self.watch.language):
            message = {"type": "status", "fields": self.watch.fields()}
        await self.send_json(message)
        await self._note_shown()

    async def queue_changed(self, event):
        if self.watch is not None:
            with translation.override(self.watch.language):
                message = self.watch.apply(event["payload"])
            await self.send_json(message)
            await self._note_shown()

    async def _note_shown(self):
        """ETA accuracy: note the range this page now shows, once per new position (after sending, so
        delivery never waits for it; one Redis call, no ORM)."""
        shown = self.watch.shown
        if shown is None or shown.position == self.noted_position:
            return
        self.noted_position = shown.position
        await anote_shown(
            scope="queue",
            scope_id=self.watch.queue_id,
            tenant_id=self.watch.tenant_id,
            item_id=self.watch.ticket_id,
            forecast=shown,
        )


def _public_queue_tenant(queue_id: int) -> int | None:
    from queues.models import Queue, QueueKind

    cards = Queue.objects.filter(pk=queue_id).exclude(kind=QueueKind.SUPPORT)
    return cards.values_list("tenant_id", flat=True).first()


class QueueCardConsumer(LiveConsumer):
    """``ws/queues/queue/<id>/``: the public live card (per lane: now serving, next turn, waiting, ETA)."""

    language = "en"

    async def connect(self):
        self.language = scope_language(self.scope)
        queue_id = self.scope["url_route"]["kwargs"]["queue_id"]
        tenant_id = await fact(
            "public-queue",
            queue_id,
            lambda: _public_queue_tenant(queue_id),
            ttl=CARD_FACT_SECONDS,
            negative_ttl=CARD_FACT_SECONDS,
        )
        if tenant_id is None:
            await self.close(code=NOT_FOUND)
            return
        group = queue_group(tenant_id, queue_id)
        await self.join(group)
        newest = await last_payload(group)  # read after joining: nothing newer can slip between
        await self.accept()
        if newest is not None:
            with translation.override(self.language):
                await self.send_json({"type": "card", "fields": card_fields_of(newest)})

    async def queue_changed(self, event):
        payload = event["payload"]

        def build():
            with translation.override(self.language):
                return {"type": "card", "fields": card_fields_of(payload)}

        await self.send_shared(event, f"card:{self.language}", build)


@database_sync_to_async
def _member_queue(user, tenant_slug: str, queue_slug: str):
    from core.errors import DomainError
    from queues.selectors import queues_visible_to
    from tenants.access import resolve_membership

    try:
        membership = resolve_membership(user, tenant_slug)
    except DomainError:
        return None
    # The same scope as the dashboard pages: staff see a support queue only as one of its agents.
    return queues_visible_to(membership).filter(slug=queue_slug).values_list("tenant_id", "id").first()


class DashboardConsumer(LiveConsumer):
    """``ws/queues/dashboard/<tenant>/queues/<queue>/``: members only (another tenant's member is refused
    exactly like a missing queue). Each change tells the page to refresh its board fragment."""

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        user = await scope_user(self.scope)
        found = await _member_queue(user, kwargs["tenant_slug"], kwargs["queue_slug"])
        if found is None:
            await self.close(code=NOT_FOUND)
            return
        await self.join(queue_group(*found))
        await self.accept()

    async def queue_changed(self, event):
        payload = event["payload"]
        await self.send_json(
            {"type": "refresh", "fields": {}, "waiting": sum(lane["waiting"] for lane in payload["lanes"])}
        )
