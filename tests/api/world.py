"""One tenant's objects of every kind the API serves, and for each operation of the OpenAPI document a
concrete request on them (path values and body). Used by the tenant-isolation test and schemathesis."""

from __future__ import annotations

from dataclasses import dataclass, field

from queues import services as queue_services
from tests.queues.factories import creator_queue, submit
from tests.support.factories import file_ticket
from tests.support.factories import support_queue as help_desk
from tests.ticketing.factories import buy, make_event
from tests.waitingroom.factories import join as join_room
from tests.waitingroom.factories import make_room
from tests.waitlists.factories import join as join_waitlist
from tests.waitlists.factories import sold_out_event
from ticketing import services as ticketing_services

SERVICE_WORKFLOW = {
    "init": "received",
    "states": ["received", "done"],
    "transitions": [{"name": "finish", "from": "received", "to": "done"}],
    "phases": {"received": "waiting", "done": "done"},
}


@dataclass
class World:
    tenant: object
    values: dict = field(default_factory=dict)
    bodies: dict = field(default_factory=dict)
    # Values that differ by resource, keyed by path prefix (the first matching prefix wins).
    by_prefix: list = field(default_factory=list)


def build_world(tenant, owner) -> World:
    event = make_event(tenant=tenant, tiers=(("General", 2500, 50),), checkout_limit=50)
    tier = event.tiers.get()
    order = buy(tenant=tenant, event=event, quantities={tier.id: 2}, email="buyer@example.test")
    session = ticketing_services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
    queue = creator_queue(tenant)
    ticket = submit(queue, "personal")
    queue_services.ticket_comment_add(tenant=tenant, ticket=ticket, body="Thanks!", actor=owner)
    ticket_type = queue_services.ticket_type_save(
        tenant=tenant, actor=owner, code="desk", name="Desk", workflow=SERVICE_WORKFLOW
    )
    room_event, _room = make_room(
        tenant=tenant, event=make_event(tenant=tenant, title="Room sale", checkout_limit=1)
    )
    entry = join_room(tenant, room_event)
    sold_out, _orders = sold_out_event(tenant=tenant, title="Sold out show", tiers=(("General", 2500, 1),))
    waitlisted = join_waitlist(tenant=tenant, event=sold_out, email="wen@example.test")
    desk = help_desk(tenant)
    help_ticket = file_ticket(desk)

    world = World(tenant=tenant)
    world.values = {
        "event_id": event.id,
        "token": session.token,
        "code": order.tickets.first().code,
        "queue_id": queue.id,
        "type_id": ticket_type.id,
        "entry_id": waitlisted.id,
        "reference": ticket.reference,
        "tenant_slug": tenant.slug,
        "queue_slug": queue.slug,
        "event_slug": event.slug,
    }
    world.by_prefix = [
        ("/api/v1/orders/", {"reference": order.reference}),
        ("/api/v1/support/", {"reference": help_ticket.reference, "queue_id": desk.id}),
        ("/api/v1/waiting-room/", {"event_id": room_event.id, "token": entry.token}),
    ]
    world.event, world.order, world.queue, world.ticket = event, order, queue, ticket
    world.bodies = {
        ("post", "/api/v1/events/{event_id}/check-ins"): {"code": world.values["code"]},
        ("post", "/api/v1/checkouts"): {"event_id": event.id, "items": [{"tier_id": tier.id, "quantity": 1}]},
        ("post", "/api/v1/checkouts/{token}/customer"): {"name": "B", "email": "b@example.test"},
        ("post", "/api/v1/checkouts/{token}/pay"): {
            "provider": "test_card",
            "card_number": "4242424242424242",
        },
        ("post", "/api/v1/queues/{queue_id}/tickets"): {
            "lane": "personal",
            "name": "Fan",
            "need_text": "A song",
        },
        ("post", "/api/v1/queue-tickets/{reference}/transitions"): {"event": "approve"},
        ("post", "/api/v1/queue-tickets/{reference}/comments"): {"body": "Hello"},
        ("put", "/api/v1/ticket-types/{type_id}"): {"name": "Desk 2", "workflow": SERVICE_WORKFLOW},
        ("post", "/api/v1/public/{tenant_slug}/queues/{queue_slug}/tickets"): {
            "lane": "personal",
            "name": "Fan",
        },
        ("post", "/api/v1/waiting-room/events/{event_id}/entries"): {"email": "room@example.test"},
        ("post", "/api/v1/waitlist-entries"): {
            "event_id": sold_out.id,
            "email": "w2@example.test",
            "quantity": 1,
        },
        ("post", "/api/v1/support/queues/{queue_id}/tickets"): {
            "email": "student@example.test",
            "title": "Printer",
            "custom_data": {"category": "Other"},
        },
        ("post", "/api/v1/support/tickets/{reference}/transitions"): {"event": "start"},
        ("post", "/api/v1/support/tickets/{reference}/assign"): {"assignee_id": None},
        ("post", "/api/v1/support/tickets/{reference}/comments"): {"body": "On it", "internal": True},
    }
    return world


def values_for(world: World, template: str) -> dict:
    values = dict(world.values)
    for prefix, overrides in world.by_prefix:
        if template.startswith(prefix):
            values.update(overrides)
            break
    return values


def concrete_path(world: World, template: str) -> str:
    path = template
    for name, value in values_for(world, template).items():
        path = path.replace("{" + name + "}", str(value))
    return path
