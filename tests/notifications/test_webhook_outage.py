"""A receiver that is down for 10 minutes then receives every event, in order per resource.

Real pieces: a local HTTP receiver (127.0.0.1, not listening at all while "down"), the outbox written by
the real services (queue submissions and transitions), the real dispatcher with two dispatch runs racing
at every tick in threads against real PostgreSQL, and the ``standardwebhooks`` library verifying every
delivery on the receiving side. Time is simulated with ``now=`` (services and dispatcher): 15-second
ticks over 40 minutes take a few real seconds.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from notifications.dispatch import dispatch_messages
from notifications.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint
from queues import services as queue_services
from tests.notifications.webhook_server import WebhookReceiver
from tests.queues.factories import service_queue, submit

pytestmark = [pytest.mark.django_db(transaction=True)]

TICK = timedelta(seconds=15)
DOWN_FOR = timedelta(minutes=10)


def _dispatch_concurrently(now) -> None:
    errors: list[BaseException] = []

    def run():
        try:
            dispatch_messages(now=now)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_a_receiver_down_for_ten_minutes_then_gets_every_event_in_order_per_resource(
    tenant, make_endpoint, settings
):
    # Enough failures in a row to trip the disabling rule by count, but over far less than its time
    # span: an outage of minutes must only delay delivery.
    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES = 5
    settings.NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_SECONDS = 3600
    probe = WebhookReceiver()
    port, url = probe.port, probe.url
    probe.server.server_close()  # nothing listens on the endpoint's port while the receiver is down
    endpoint = make_endpoint(url, event_types=["ticket.submitted", "ticket.transitioned"])

    queue = service_queue(tenant)
    start = timezone.now() - timedelta(hours=2)  # a past clock, so "due" follows the simulated time
    # Three tickets; their events interleave over the first seven minutes of the outage.
    plan: list[tuple[timedelta, int, str]] = []
    for index in range(3):
        plan.append((timedelta(seconds=20 * index), index, "submit"))
        for step, event in enumerate(("start", "complete", "pickup"), start=1):
            plan.append((timedelta(minutes=2 * step, seconds=20 * index), index, event))
    plan.sort()
    tickets: dict[int, object] = {}
    receiver = None
    now = start
    try:
        while now <= start + timedelta(minutes=40):
            for offset, index, event in [p for p in plan if start + p[0] <= now < start + p[0] + TICK]:
                at = start + offset
                if event == "submit":
                    tickets[index] = submit(queue, now=at, email="")
                else:
                    ticket = type(tickets[index]).objects.get(pk=tickets[index].pk)
                    tickets[index] = queue_services.ticket_transition(
                        tenant=tenant, actor=None, ticket=ticket, event=event, now=at
                    )
            if receiver is None and now >= start + DOWN_FOR:
                receiver = WebhookReceiver(port=port).__enter__()  # back up, on the same address
            _dispatch_concurrently(now)
            now += TICK
    finally:
        if receiver is not None:
            receiver.__exit__(None, None, None)

    messages = list(OutboxMessage.objects.filter(endpoint=endpoint))
    assert len(messages) == len(plan) == 12
    assert {m.status for m in messages} == {"sent"}
    # Nothing reached the receiver while it was down, and the attempts then failed and were recorded.
    failures = DeliveryAttempt.objects.filter(message__endpoint=endpoint, succeeded=False)
    assert failures.count() >= 3
    assert all("Could not reach" in a.error for a in failures)
    assert all(a.started_at < start + DOWN_FOR for a in failures)

    # Every event arrived once, verified by the library, in order for each ticket.
    webhook = Webhook(WebhookEndpoint.objects.get(pk=endpoint.pk).secret)
    seen_ids = set()
    arrived: dict[str, list[str]] = {}
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        document = webhook.verify(request["body"], headers)
        assert headers["webhook-id"] not in seen_ids
        seen_ids.add(headers["webhook-id"])
        data = document["data"]
        arrived.setdefault(data["reference"], []).append(data["transition"]["event"])
    assert len(seen_ids) == 12
    assert sorted(arrived) == sorted(t.reference for t in tickets.values())
    for events in arrived.values():
        assert events == ["submit", "start", "complete", "pickup"]
    # Within one ticket the payloads also show the states in order (nothing overtook anything).
    for request in receiver.requests:
        body = json.loads(request["body"])
        assert body["type"] in ("ticket.submitted", "ticket.transitioned")
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None
    assert endpoint.consecutive_failures == 0
