"""Subcategories of the help desk's categories (a support queue is a category): what managers set, what
the customer picks, how routing follows them.

- ``subcategories_set`` replaces a queue's list (names in order, each with an optional person to route
  to). It locks the queue's ``SupportQueue`` row, so two managers saving at once apply one after the
  other and the list is never a mix of both. Tenancy: the queue and every person are checked against
  the tenant; a person must be able to take the queue's tickets (an agent of it, a manager or an owner).
- ``subcategory_for_submission`` checks the customer's choice (required when the queue has any).
- ``routed_assignee`` is the routing rule a subcategory adds: called by ``route_new_ticket`` inside the
  submission's transaction, it returns the subcategory's person when they may still take the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import NotFound, ValidationError
from queues.models import Queue, QueueKind, Ticket
from support.models import Subcategory, SupportAgent, SupportQueue
from tenants.models import Membership, Role, Tenant

MAX_SUBCATEGORIES = 50
METADATA_KEY = "subcategory"


@dataclass(frozen=True)
class SubcategorySpec:
    name: str
    route_to_id: int | None = None


def active_subcategories(queue: Queue) -> list[Subcategory]:
    return list(
        Subcategory.objects.filter(support_queue__queue=queue, tenant_id=queue.tenant_id)
        .select_related("route_to")
        .order_by("position", "id")
    )


def may_take(queue: Queue, user_id: int) -> bool:
    """Whether this person may be handed the queue's tickets: an active member of the tenant who is a
    manager or owner, or an agent of the queue."""
    members = Membership.objects.filter(tenant_id=queue.tenant_id, user_id=user_id, user__is_active=True)
    if members.filter(role__in=[Role.OWNER, Role.MANAGER]).exists():
        return True
    return (
        members.exists() and SupportAgent.objects.filter(support_queue__queue=queue, user_id=user_id).exists()
    )


def subcategories_set(
    *, tenant: Tenant, actor, queue: Queue, specs: list[SubcategorySpec]
) -> list[Subcategory]:
    """Replace ``queue``'s subcategories with ``specs`` (in that order). Raises ValidationError naming the
    line (1-based) of a duplicate, an over-long name or a person who may not take the queue's tickets;
    NotFound for another tenant's queue or a queue that is no support queue. Locks the SupportQueue row.
    Tickets filed under a removed or renamed subcategory keep the name they were filed with."""
    from support.services import support_queue_for

    if queue.tenant_id != tenant.pk or queue.kind != QueueKind.SUPPORT:
        raise NotFound()
    errors: list[str] = []
    if len(specs) > MAX_SUBCATEGORIES:
        errors.append(_("At most %(max)s subcategories.") % {"max": MAX_SUBCATEGORIES})
    seen: set[str] = set()
    for number, spec in enumerate(specs, start=1):
        name = spec.name.strip()
        if not name or len(name) > 100:
            errors.append(_("Line %(n)s: a name of 1 to 100 characters.") % {"n": number})
        elif name.casefold() in seen:
            errors.append(_("Line %(n)s: “%(name)s” is listed twice.") % {"n": number, "name": name})
        seen.add(name.casefold())
        if spec.route_to_id is not None and not may_take(queue, spec.route_to_id):
            errors.append(
                _("Line %(n)s: route to an agent of this queue, a manager or an owner.") % {"n": number}
            )
    if errors:
        raise ValidationError(_("The subcategories were not saved."), field_errors={"subcategories": errors})
    support_queue = support_queue_for(queue)
    with transaction.atomic(durable=True):
        SupportQueue.objects.select_for_update().get(pk=support_queue.pk)
        existing = {row.name: row for row in Subcategory.objects.filter(support_queue=support_queue)}
        keep = []
        for position, spec in enumerate(specs):
            name = spec.name.strip()
            row = existing.pop(name, None) or Subcategory(
                tenant_id=tenant.pk, support_queue=support_queue, name=name
            )
            row.position, row.route_to_id = position, spec.route_to_id
            row.save()
            keep.append(row)
        Subcategory.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return keep


def subcategory_for_submission(queue: Queue, name: str) -> Subcategory | None:
    """The customer's choice among the queue's subcategories; ValidationError when the queue has some
    and none (or an unknown one) was chosen."""
    choices = active_subcategories(queue)
    if not choices:
        return None
    for row in choices:
        if row.name == (name or "").strip():
            return row
    raise ValidationError(field_errors={"subcategory": [_("Choose what the problem is about.")]})


def routed_assignee(ticket: Ticket):
    """The person the ticket's subcategory routes to, if any and if they may still take it; else None
    (the queue's own assignment rule applies)."""
    name = (ticket.metadata or {}).get(METADATA_KEY)
    if not name:
        return None
    row = (
        Subcategory.objects.filter(support_queue__queue_id=ticket.queue_id, name=name, route_to__isnull=False)
        .select_related("route_to")
        .first()
    )
    if row is None or not may_take(ticket.queue, row.route_to_id):
        return None
    return row.route_to
