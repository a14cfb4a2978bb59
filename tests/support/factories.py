"""Help-desk factories, built through the services so clocks, assignments and history are real."""

from datetime import time

from queues import services as queue_services
from queues.models import QueueKind
from support import services
from support.services import AgentSpec
from tests.factories import MembershipFactory, TenantFactory  # noqa: F401 - re-exported

WEEKDAYS_9_TO_5 = [(day, time(9), time(17)) for day in range(5)]
_counter = {"n": 0}


def support_queue(tenant, *, slug="it", name="IT", time_zone="Europe/Berlin", configure=True, **settings):
    queue = queue_services.queue_create(
        tenant=tenant, actor=None, slug=slug, name=name, kind=QueueKind.SUPPORT, time_zone=time_zone
    )
    if configure:
        settings.setdefault("hours", WEEKDAYS_9_TO_5)
        services.support_queue_configure(tenant=tenant, actor=None, queue=queue, **settings)
    return queue


def agents(*users, primary=None):
    return [
        AgentSpec(user_id=user.pk, is_primary=(user == primary), priority=index)
        for index, user in enumerate(users, start=1)
    ]


def file_ticket(queue, *, now=None, priority="normal", **kwargs):
    _counter["n"] += 1
    n = _counter["n"]
    kwargs.setdefault("name", f"Student {n}")
    kwargs.setdefault("email", f"student{n}@example.test")
    kwargs.setdefault("title", f"Problem {n}")
    kwargs.setdefault("description", "It does not work.")
    kwargs.setdefault("custom_data", {"category": "Other"})
    kwargs.setdefault("email_consent", True)
    return services.support_ticket_submit(
        tenant=queue.tenant, queue=queue, priority=priority, now=now, **kwargs
    )
