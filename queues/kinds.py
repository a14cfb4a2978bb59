"""Per-kind handlers: the extension point through which an app adds behaviour to the tickets of one queue
kind without queues importing it. support registers the support kind in ``SupportConfig.ready``:

    register_kind_handlers(QueueKind.SUPPORT, on_event=..., on_comment=...)

``queues.services`` calls them inside its own durable transaction, with the service's own time:

- ``on_event(event)``: right after a ``TicketEvent`` row is written (submit, assign, every transition,
  lane change …: ``queues.services._event``); the ticket row is saved and, for transitions, locked
  (after the queue row: queues' lock order, queue → lane → ticket). Handlers may lock and write their own
  rows (after the ticket's) and may raise, which rolls the whole change back.
- ``on_comment(comment)``: right after a ``TicketComment`` row is written (``ticket_comment_add``), before
  its attachments; the ticket row is not locked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class KindHandlers:
    on_event: Callable | None = None
    on_comment: Callable | None = None


_handlers: dict[str, KindHandlers] = {}


def register_kind_handlers(
    kind: str, *, on_event: Callable | None = None, on_comment: Callable | None = None
):
    _handlers[kind] = KindHandlers(on_event=on_event, on_comment=on_comment)


def event_recorded(event) -> None:
    handlers = _handlers.get(event.ticket.queue.kind)
    if handlers and handlers.on_event:
        handlers.on_event(event)


def comment_added(comment) -> None:
    handlers = _handlers.get(comment.ticket.queue.kind)
    if handlers and handlers.on_comment:
        handlers.on_comment(comment)
