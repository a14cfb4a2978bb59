"""Queue factories (built through the services, so counters and history are real)."""

from queues import services
from queues.models import QueueKind
from tests.factories import TenantFactory  # noqa: F401 - re-exported for convenience


def creator_queue(tenant, *, slug="requests", **kwargs):
    return services.queue_create(
        tenant=tenant, actor=None, slug=slug, name="Requests", kind=QueueKind.CREATOR, **kwargs
    )


def service_queue(tenant, *, slug="counter", **kwargs):
    return services.queue_create(
        tenant=tenant, actor=None, slug=slug, name="Counter", kind=QueueKind.SERVICE, **kwargs
    )


def support_queue(tenant, *, slug="help", **kwargs):
    return services.queue_create(
        tenant=tenant, actor=None, slug=slug, name="Help", kind=QueueKind.SUPPORT, **kwargs
    )


def lane(queue, code):
    return queue.lanes.get(code=code)


_counter = {"n": 0}


def submit(queue, lane_code=None, *, tip_cents=None, now=None, **kwargs):
    _counter["n"] += 1
    chosen = queue.lanes.get(code=lane_code) if lane_code else queue.lanes.order_by("display_order").last()
    kwargs.setdefault("email", f"fan{_counter['n']}@example.test")
    kwargs.setdefault("name", f"Fan {_counter['n']}")
    kwargs.setdefault("need_text", "Please sing my song")
    if queue.ticket_type.code == "support":
        kwargs.setdefault("custom_data", {"category": "Other"})
    return services.ticket_submit(
        tenant=queue.tenant,
        queue=queue,
        lane=chosen,
        tip_cents=chosen.minimum_tip_cents if tip_cents is None else tip_cents,
        now=now,
        **kwargs,
    )


def system_type(code):
    return services.system_ticket_type(code)
