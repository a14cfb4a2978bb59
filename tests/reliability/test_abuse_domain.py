"""Abuse, domain and lifecycle classes (issue 15 items 1–4, 9–12), from the outside (HTTP):

- Concurrent clicks: four staff POST the same "start" on one ticket at once — one wins, the others get a
  "changed meanwhile" message, never a 500, and the lane counter stays right.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from queues.models import Lane, Ticket, TicketEvent
from tests.queues.factories import service_queue, submit

OUR_ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _no_lookup_limits(settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
    cache.clear()
    yield
    cache.clear()


def flashed(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def post_together(clients: list[Client], url: str, data: dict) -> list:
    barrier = threading.Barrier(len(clients))
    answers: list = [None] * len(clients)

    def runner(index: int) -> None:
        try:
            barrier.wait(30)
            answers[index] = clients[index].post(url, data)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


@pytest.mark.django_db(transaction=True)
def test_parallel_start_presses_over_http_are_conflicts_not_500s(tenant, owner):
    queue = service_queue(tenant)
    ticket = submit(queue)
    clients = []
    for _ in range(4):
        client = Client(raise_request_exception=False)
        client.force_login(owner)
        clients.append(client)
    url = reverse("queues:ticket_transition", args=[tenant.slug, ticket.reference])
    answers = post_together(clients, url, {"event": "start", "state": "received"})
    assert all(not isinstance(a, Exception) for a in answers), answers
    assert sorted(a.status_code for a in answers) == [302, 302, 302, 302], [a.status_code for a in answers]
    texts = [flashed(a) for a in answers]
    assert sum("is now" in t for t in texts) == 1, texts
    assert sum("changed" in t for t in texts) == 3, texts
    assert Ticket.objects.get(pk=ticket.pk).state == "in_progress"
    assert Lane.objects.get(queue=queue).waiting_count == 0
    assert TicketEvent.objects.filter(ticket=ticket, event="start").count() == 1
