"""Live notices for the customer's ticket page (``/status/<reference>/support/``).

Group ``support.ticket.<tenant_id>.<ticket_id>``; message type ``support.customer``; payload
``{"status": <state label>, "reply": bool, "at": <unix time>}``. Only what the customer may see is ever
sent: a state change, or that the team wrote a public reply. Internal notes, assignments and escalations
send nothing. The newest payload is remembered, so a page whose socket reconnects learns about a change
it missed (it compares ``at`` with the time it was rendered)."""

from __future__ import annotations

import time

from core.broadcast import broadcast_on_commit

MESSAGE_TYPE = "support.customer"


def customer_group(tenant_id: int, ticket_id: int) -> str:
    return f"support.ticket.{tenant_id}.{ticket_id}"


def announce_to_customer(ticket, *, reply: bool) -> None:
    """Inside the change's transaction: tell the customer's open page after commit."""
    from queues.live import in_each_language

    status = in_each_language(lambda: ticket.state_label)  # the page reads it in its own language

    def payload() -> dict:
        return {"status": status, "reply": reply, "at": time.time()}

    broadcast_on_commit(customer_group(ticket.tenant_id, ticket.pk), MESSAGE_TYPE, payload, remember=True)
