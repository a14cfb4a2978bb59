"""The customer's ticket page, live: ``ws/support/status/<reference>/``. Public by the ticket's
unguessable reference (rate limited like the status page), read-only, and it forwards only what
``support.events`` announces to customers."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.live import LiveConsumer, last_payload, lookup_allowed
from queues.consumers import NOT_FOUND
from queues.live import pick, scope_language
from support.events import customer_group

REPLY = _("The team replied. Reload the page to read it.")
UPDATED = _("Your ticket was updated. Reload the page to see it.")


@database_sync_to_async
def _ticket(reference: str):
    from core.errors import NotFound
    from support.selectors import customer_ticket

    try:
        ticket = customer_ticket(reference)
    except NotFound:
        return None
    return {"tenant_id": ticket.tenant_id, "id": ticket.pk}


def _seen_at(scope) -> float:
    """When the page was rendered (``?seen=<unix time>``), 0 when unknown."""
    from urllib.parse import parse_qs

    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("seen", ["0"])
    try:
        return float(values[0])
    except ValueError:
        return 0.0


class CustomerTicketConsumer(LiveConsumer):
    language = "en"

    async def connect(self):
        self.language = scope_language(self.scope)
        if not await lookup_allowed(self.scope):
            await self.close(code=4429)
            return
        ticket = await _ticket(self.scope["url_route"]["kwargs"]["reference"])
        if ticket is None:
            await self.close(code=NOT_FOUND)
            return
        group = customer_group(ticket["tenant_id"], ticket["id"])
        await self.join(group)
        await self.accept()
        newest = await last_payload(group)  # read after joining: nothing newer can slip between
        seen = _seen_at(self.scope)
        if newest is not None and seen and newest.get("at", 0) > seen:
            await self.send_json(self._fields(newest))  # changed while this page was not connected

    async def support_customer(self, event):
        await self.send_json(self._fields(event["payload"]))

    def _fields(self, payload: dict) -> dict:
        """The notice in the page's language."""
        with translation.override(self.language):
            changed = str(REPLY if payload.get("reply") else UPDATED)
        return {"fields": {"status": pick(payload["status"], self.language), "changed": changed}}
