"""What a new space runs: the wizard's second step, composed from the owning apps' services.

Each function calls the queues / ticketing / support services, which own their transactions (durable),
so a step is several commits in a fixed order; every input is validated before the first one, and a
later refusal leaves only an editable draft on the dashboard (never a half-visible public page: an
event goes on sale last, after its tiers exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.errors import ValidationError
from queues import services as queue_services
from queues import workflow as wf
from queues.models import Queue, QueueKind, TicketType
from support import services as support_services
from tenants.models import Tenant, User
from ticketing import services as ticketing_services
from ticketing.models import Event


def creator_queue_open(
    *,
    tenant: Tenant,
    actor: User,
    name: str,
    slug: str,
    minimum_tip_cents: int,
    priority_enabled: bool = True,
    personal_enabled: bool = True,
) -> Queue:
    """A creator request queue: a paid priority lane (tip ≥ ``minimum_tip_cents``, weight 3) and a free
    personal lane (weight 1); a lane switched off takes no requests. Raises ValidationError."""
    if not (priority_enabled or personal_enabled):
        raise ValidationError(field_errors={"priority_enabled": [_("Keep at least one lane open.")]})
    if minimum_tip_cents < 0 or minimum_tip_cents > 100_000_00:
        raise ValidationError(field_errors={"minimum_tip": [_("Between 0 and 100 000.")]})
    queue = queue_services.queue_create(
        tenant=tenant,
        actor=actor,
        slug=slug,
        name=name,
        kind=QueueKind.CREATOR,
        lanes=[
            queue_services.LaneSpec("priority", "Priority", 3, minimum_tip_cents, turn_prefix="P"),
            queue_services.LaneSpec("personal", "Personal", 1, 0, turn_prefix="F"),
        ],
    )
    for lane in queue.lanes.all():
        if not {"priority": priority_enabled, "personal": personal_enabled}[lane.code]:
            queue_services.lane_update(tenant=tenant, actor=actor, lane=lane, changes={"enabled": False})
    return queue


def steps_workflow(steps: list[str]) -> dict:
    """A linear workflow from step names in order (first: waiting in line, last: done, the rest:
    being served), with ``cancel`` from any open step and ``expire`` from the first."""
    states = [slugify(step).replace("-", "_") for step in steps]
    if len(steps) < 2 or any(not state for state in states) or len(set(states)) != len(states):
        raise ValidationError(
            field_errors={"steps": [_("Give at least two steps, each with a different name.")]}
        )
    transitions = [
        {"name": f"to_{after}", "from": before, "to": after, "label": label}
        for before, after, label in zip(states, states[1:], steps[1:], strict=False)
    ]
    extra = [state for state in ("cancelled", "expired") if state not in states]
    transitions.append({"name": "cancel", "from": states[:-1], "to": "cancelled", "label": "Cancel"})
    transitions.append({"name": "expire", "from": states[0], "to": "expired", "label": "Expire"})
    phases = dict.fromkeys(states, wf.SERVING)
    phases[states[0]] = wf.WAITING
    phases[states[-1]] = wf.DONE
    phases.update({"cancelled": wf.CANCELLED, "expired": wf.CANCELLED})
    return {"init": states[0], "states": [*states, *extra], "transitions": transitions, "phases": phases}


def service_queue_open(
    *,
    tenant: Tenant,
    actor: User,
    name: str,
    slug: str,
    ticket_type: TicketType | None = None,
    new_type_name: str = "",
    new_type_steps: list[str] | None = None,
    default_service_minutes: int | None = None,
) -> Queue:
    """A service queue on a picked ticket type (the system ``service`` type or one of the tenant's), or
    on a new type defined by its steps. Raises ValidationError (bad steps, taken slug), NotFound for
    another tenant's type."""
    if new_type_steps:
        workflow = steps_workflow(new_type_steps)
        type_name = (new_type_name or name).strip()
        code = slugify(type_name)[:50] or "service-steps"
        ticket_type = queue_services.ticket_type_save(
            tenant=tenant, actor=actor, code=code, name=type_name, workflow=workflow
        )
    return queue_services.queue_create(
        tenant=tenant,
        actor=actor,
        slug=slug,
        name=name,
        kind=QueueKind.SERVICE,
        ticket_type=ticket_type,
        default_service_minutes=default_service_minutes,
    )


@dataclass
class TierSpec:
    name: str
    price_cents: int
    quantity: int


def event_open(
    *,
    tenant: Tenant,
    actor: User,
    venue_name: str,
    venue_city: str,
    venue_address: str,
    venue_capacity: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    tiers: list[TierSpec],
) -> Event:
    """A venue, an event there and its tiers, then on sale. Raises ValidationError (times, tiers above the
    venue's capacity, duplicate names) before anything is written where it can tell."""
    if not tiers:
        raise ValidationError(field_errors={"tiers": [_("Add at least one ticket tier.")]})
    if sum(tier.quantity for tier in tiers) > venue_capacity:
        raise ValidationError(field_errors={"tiers": [_("The tiers hold more people than the venue.")]})
    if len({tier.name.strip().lower() for tier in tiers}) != len(tiers):
        raise ValidationError(field_errors={"tiers": [_("Give each tier a different name.")]})
    if ends_at <= starts_at:
        raise ValidationError(field_errors={"ends_at": [_("The end must be after the start.")]})
    venue = ticketing_services.venue_create(
        tenant=tenant,
        actor=actor,
        name=venue_name,
        city=venue_city,
        address=venue_address,
        capacity=venue_capacity,
        time_zone=tenant.time_zone,
    )
    event = ticketing_services.event_create(
        tenant=tenant, actor=actor, venue=venue, title=title, starts_at=starts_at, ends_at=ends_at
    )
    for tier in tiers:
        ticketing_services.tier_create(
            tenant=tenant,
            actor=actor,
            event=event,
            name=tier.name,
            price_cents=tier.price_cents,
            quantity=tier.quantity,
        )
    return ticketing_services.event_publish(tenant=tenant, actor=actor, event=event)


def help_desk_open(*, tenant: Tenant, actor: User, name: str, slug: str, turnaround_hours: int = 8) -> Queue:
    """A help desk: a support queue with ``actor`` as its primary agent and a turnaround of
    ``turnaround_hours`` business hours (around the clock until business hours are set).
    Raises ValidationError."""
    if turnaround_hours < 1 or turnaround_hours > 24 * 30:
        raise ValidationError(field_errors={"turnaround_hours": [_("Between 1 and 720 hours.")]})
    queue = queue_services.queue_create(
        tenant=tenant, actor=actor, slug=slug, name=name, kind=QueueKind.SUPPORT
    )
    support_services.support_queue_configure(
        tenant=tenant,
        actor=actor,
        queue=queue,
        default_turnaround_minutes=turnaround_hours * 60,
        agents=[support_services.AgentSpec(user_id=actor.pk, is_primary=True)],
    )
    return queue
