"""One tenant's objects of every kind the API serves, and for each operation of the OpenAPI document a
concrete request on them (path and body). Used by the tenant-isolation test and schemathesis' data."""

from __future__ import annotations

from dataclasses import dataclass, field

from queues import services as queue_services
from tests.queues.factories import creator_queue, submit
from tests.ticketing.factories import buy, make_event
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

    def path(self, template: str) -> str:
        path = template
        for name, value in self.values.items():
            path = path.replace("{" + name + "}", str(value))
        return path


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
    world = World(tenant=tenant)
    world.values = {
        "event_id": event.id,
        "token": session.token,
        "code": order.tickets.first().code,
        "queue_id": queue.id,
        "type_id": ticket_type.id,
        "tenant_slug": tenant.slug,
        "queue_slug": queue.slug,
        "event_slug": event.slug,
    }
    # "reference" means an order under /orders and a queue ticket under /queue-tickets.
    world.order_reference = order.reference
    world.ticket_reference = ticket.reference
    world.event, world.tier, world.order, world.queue, world.ticket = event, tier, order, queue, ticket
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
    }
    return world


def concrete_path(world: World, template: str) -> str:
    values = dict(world.values)
    if template.startswith("/api/v1/orders/"):
        values["reference"] = world.order_reference
    elif "/tickets/{reference}" in template or template.startswith("/api/v1/queue-tickets/"):
        values["reference"] = world.ticket_reference
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path
