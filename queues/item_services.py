"""Ticket items (seed 001's TicketItem: the components of a ticket): staff add, change and remove them.

Every change is a history row on the ticket (``item_add`` / ``item_change`` / ``item_remove``, with the
item in plain words in the note), written in the same transaction as the change.

Locking: the ticket row ``FOR UPDATE`` first (so item changes of one ticket are serialised, and a ticket
that finished meanwhile is seen), then the item row. A change or removal carries the item as the member
saw it (``seen``, its ``updated_at``): when someone else changed it in between, Conflict is raised and
nothing changes, so two members editing the same item cannot silently overwrite each other.

Tenancy: every object is checked against ``tenant`` (another tenant's ticket or item is NotFound).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import Conflict, NotFound, ValidationError
from queues import workflow as wf
from queues.models import Ticket, TicketItem
from queues.services import _check_tenant, _event
from tenants.models import Tenant

MAX_QUANTITY = 10_000
MAX_ITEMS_PER_TICKET = 200
FINISHED_PHASES = (wf.DONE, wf.CANCELLED)


def _words(name: str, quantity: int) -> str:
    return f"{quantity} × {name}"


def _clean(ticket: Ticket, *, name: str, quantity, notes: str, state: str) -> dict:
    """The item's fields tidied, or ValidationError naming each bad field."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    notes = (notes or "").strip()
    if not name:
        errors["name"] = [_("Name the item.")]
    elif len(name) > 200:
        errors["name"] = [_("At most 200 characters.")]
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = [_("A whole number from 1 to %(max)s.") % {"max": MAX_QUANTITY}]
    if len(notes) > 500:
        errors["notes"] = [_("At most 500 characters.")]
    states = ticket.ticket_type.item_states or []
    state = (state or "").strip()
    if states and not state:
        state = states[0]
    if state and state not in states:
        errors["state"] = [_("Use one of: %(states)s.") % {"states": ", ".join(states) or _("no states")}]
    if errors:
        raise ValidationError(_("The item was not saved."), field_errors=errors)
    return {"name": name, "quantity": quantity, "notes": notes, "state": state}


def _lock_open_ticket(ticket: Ticket) -> Ticket:
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("ticket_type", "queue", "tenant")
        .get(pk=ticket.pk)
    )
    if locked.phase in FINISHED_PHASES:
        raise Conflict(_("This ticket is finished; its items can no longer change."))
    return locked


def _lock_item(ticket: Ticket, item: TicketItem, seen: datetime | None) -> TicketItem:
    locked = TicketItem.objects.select_for_update().filter(pk=item.pk, ticket_id=ticket.pk).first()
    if locked is None:
        raise NotFound(_("This item was removed meanwhile."))
    if seen is not None and locked.updated_at != seen:
        raise Conflict(_("Someone changed this item meanwhile; nothing was changed. Check it and try again."))
    return locked


def ticket_item_add(
    *,
    tenant: Tenant,
    actor,
    ticket: Ticket,
    name: str,
    quantity: int = 1,
    notes: str = "",
    state: str = "",
    now: datetime | None = None,
) -> TicketItem:
    """Add an item to ``ticket`` (in the type's first item state unless ``state`` is given). Locks the
    ticket row. Raises ValidationError (bad field, too many items), Conflict (ticket finished)."""
    _check_tenant(tenant, ticket)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = _lock_open_ticket(ticket)
        values = _clean(locked, name=name, quantity=quantity, notes=notes, state=state)
        if TicketItem.objects.filter(ticket=locked).count() >= MAX_ITEMS_PER_TICKET:
            raise ValidationError(
                _("A ticket can have at most %(max)s items.") % {"max": MAX_ITEMS_PER_TICKET}
            )
        item = TicketItem.objects.create(tenant_id=locked.tenant_id, ticket=locked, **values)
        _event(
            locked,
            event="item_add",
            from_state=locked.state,
            to_state=locked.state,
            actor=actor,
            note=_("Added %(item)s") % {"item": _words(item.name, item.quantity)},
            now=now,
        )
    return item


def ticket_item_update(
    *,
    tenant: Tenant,
    actor,
    item: TicketItem,
    name: str,
    quantity: int,
    notes: str = "",
    state: str = "",
    seen: datetime | None = None,
    now: datetime | None = None,
) -> TicketItem:
    """Change an item's name, quantity, notes or state. Locks the ticket row, then the item; ``seen`` is
    the item's ``updated_at`` as the member saw it (Conflict when it moved since). A change that changes
    nothing writes nothing. Raises ValidationError, Conflict, NotFound (removed meanwhile)."""
    _check_tenant(tenant, item)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ticket = _lock_open_ticket(item.ticket)
        locked = _lock_item(ticket, item, seen)
        values = _clean(ticket, name=name, quantity=quantity, notes=notes, state=state)
        changed = [key for key, value in values.items() if getattr(locked, key) != value]
        if not changed:
            return locked
        words = []
        for key in changed:
            before, after = getattr(locked, key) or "—", values[key] or "—"
            words.append(f"{key} {before} → {after}")
        label = locked.name
        for key in changed:
            setattr(locked, key, values[key])
        locked.save(update_fields=[*changed, "updated_at"])
        _event(
            ticket,
            event="item_change",
            from_state=ticket.state,
            to_state=ticket.state,
            actor=actor,
            note=_("Changed %(item)s: %(changes)s") % {"item": label, "changes": "; ".join(words)},
            now=now,
        )
    return locked


def ticket_item_remove(
    *, tenant: Tenant, actor, item: TicketItem, seen: datetime | None = None, now: datetime | None = None
) -> None:
    """Remove an item. Locks the ticket row, then the item (Conflict when it changed since ``seen``;
    NotFound when it is gone already, so a double click removes it once and says so)."""
    _check_tenant(tenant, item)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ticket = _lock_open_ticket(item.ticket)
        locked = _lock_item(ticket, item, seen)
        words = _words(locked.name, locked.quantity)
        locked.delete()
        _event(
            ticket,
            event="item_remove",
            from_state=ticket.state,
            to_state=ticket.state,
            actor=actor,
            note=_("Removed %(item)s") % {"item": words},
            now=now,
        )


def ticket_item_set_state(*, tenant: Tenant, actor, item: TicketItem, state: str) -> TicketItem:
    """Set an item's own state (one of the type's item states); recorded like any other change."""
    return ticket_item_update(
        tenant=tenant,
        actor=actor,
        item=item,
        name=item.name,
        quantity=item.quantity,
        notes=item.notes,
        state=state,
    )
