"""Websocket consumers for queues. They authenticate/authorise and read their starting state once at
connect; per message they only compute from the broadcast (no ORM). One group per queue
(``queues.events.queue_group``) carries one message per change to every kind of watcher."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from queues.events import queue_group
from queues.live import StatusWatch, read_status_state

NOT_FOUND = 4404


def _client_address(scope) -> str:
    client = scope.get("client") or ("unknown", 0)
    return str(client[0])


@database_sync_to_async
def _rate_ok(scope) -> bool:
    from core.errors import RateLimited
    from core.ratelimit import check_rate

    try:
        check_rate("ticket-status", _client_address(scope))
    except RateLimited:
        return False
    return True


class StatusConsumer(AsyncJsonWebsocketConsumer):
    """``ws/queues/status/<reference>/``: the live status of one ticket (public by reference)."""

    watch: StatusWatch | None = None
    group: str | None = None

    async def connect(self):
        reference = self.scope["url_route"]["kwargs"]["reference"]
        if not await _rate_ok(self.scope):
            await self.close(code=4429)
            return
        first = await database_sync_to_async(read_status_state)(reference)
        if first is None:
            await self.close(code=NOT_FOUND)
            return
        self.group = queue_group(first["tenant"], first["queue"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Read again after joining, so no change between the read and the join can be missed.
        state = await database_sync_to_async(read_status_state)(reference)
        self.watch = StatusWatch(state)
        await self.accept()
        await self.send_json({"type": "status", "fields": self.watch.fields()})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def queue_changed(self, event):
        if self.watch is not None:
            await self.send_json(self.watch.apply(event["payload"]))


@database_sync_to_async
def _public_queue(queue_id: int):
    from queues.models import Queue

    return Queue.objects.filter(pk=queue_id, is_public=True).values_list("tenant_id", flat=True).first()


class QueueCardConsumer(AsyncJsonWebsocketConsumer):
    """``ws/queues/queue/<id>/``: the public live card (per lane: now serving, next turn, waiting, ETA)."""

    group: str | None = None

    async def connect(self):
        queue_id = self.scope["url_route"]["kwargs"]["queue_id"]
        tenant_id = await _public_queue(queue_id)
        if tenant_id is None:
            await self.close(code=NOT_FOUND)
            return
        self.group = queue_group(tenant_id, queue_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def queue_changed(self, event):
        await self.send_json({"type": "card", "fields": event["payload"]["fields"]})


@database_sync_to_async
def _member_queue(user, tenant_slug: str, queue_slug: str):
    from core.errors import DomainError
    from queues.models import Queue
    from tenants.access import resolve_membership

    try:
        membership = resolve_membership(user, tenant_slug)
    except DomainError:
        return None
    return (
        Queue.objects.filter(tenant=membership.tenant, slug=queue_slug).values_list("tenant_id", "id").first()
    )


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    """``ws/queues/dashboard/<tenant>/queues/<queue>/``: members only (another tenant's member is refused
    exactly like a missing queue). Each change tells the page to refresh its board fragment."""

    group: str | None = None

    async def connect(self):
        kwargs = self.scope["url_route"]["kwargs"]
        found = await _member_queue(self.scope.get("user"), kwargs["tenant_slug"], kwargs["queue_slug"])
        if found is None:
            await self.close(code=NOT_FOUND)
            return
        self.group = queue_group(*found)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def queue_changed(self, event):
        payload = event["payload"]
        await self.send_json(
            {"type": "refresh", "fields": {}, "waiting": sum(lane["waiting"] for lane in payload["lanes"])}
        )
