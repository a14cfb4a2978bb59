"""ETA accuracy recorded and shown: a status page notes the range it shows (once per position, in
Redis), the refresh scores it when the ticket is served and feeds the calibration; staff see the hit
rate and the SVG chart, or "too little history"; the waiting room does the same with admissions; other
tenants get 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from queues import accuracy, eta
from queues.models import EtaForecast, EtaOutcome, Queue
from tests.queues.factories import submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_eta_buffers():
    client = accuracy._redis()
    for key in client.scan_iter("vq:eta:*"):
        client.delete(key)
    yield


def status_url(ticket):
    return reverse("queues:status", args=[ticket.reference])


def test_shown_ranges_are_noted_once_per_position_and_scored_when_served(client, tenant):
    from queues import services
    from tests.queues.factories import service_queue

    queue = service_queue(tenant, default_service_minutes=2)
    first, second, third = (submit(queue) for _ in range(3))
    for ticket in (second, third, second):  # the second view of the same position notes nothing new
        assert client.get(status_url(ticket)).status_code == 200
    services.ticket_call_next(tenant=tenant, actor=None, queue=queue)
    for ticket in (second, third):
        client.get(status_url(ticket))  # new positions: 1 and 2
    served = services.ticket_call_next(tenant=tenant, actor=None, queue=queue)
    assert served.pk == second.pk
    assert accuracy.eta_refresh_due() == 2  # the second's two ranges; the third still waits
    forecasts = EtaForecast.objects.filter(scope="queue", scope_id=queue.pk)
    assert forecasts.count() == 4
    assert sorted(forecasts.filter(item_id=second.pk).values_list("position", flat=True)) == [1, 2]
    assert set(forecasts.filter(item_id=third.pk).values_list("outcome", flat=True)) == {EtaOutcome.PENDING}
    scored = forecasts.filter(item_id=second.pk)
    assert all(f.outcome in (EtaOutcome.HIT, EtaOutcome.MISS) and f.served_at for f in scored)
    # Served a moment after being shown "2–… minutes" at position 2: below the range, a miss.
    assert scored.get(position=2).outcome == EtaOutcome.MISS
    assert Queue.objects.get(pk=queue.pk).eta_calibration["samples"] == 2
    # Idempotent: a second refresh scores nothing again.
    assert accuracy.eta_refresh_due() == 0


def make_history(queue, tickets, *, hits: int, misses: int, now):
    """Scored-looking history: forecasts for served tickets (what the buffer would have held)."""
    rows = []
    for index, ticket in enumerate(tickets[: hits + misses]):
        inside = index < hits
        rows.append(
            EtaForecast(
                tenant=queue.tenant,
                scope="queue",
                scope_id=queue.pk,
                item_id=ticket.pk,
                shown_at=now - timedelta(minutes=10),
                position=1,
                centre_seconds=600,
                scale_seconds=600,
                low_seconds=300 if inside else 0,
                high_seconds=900 if inside else 60,
            )
        )
    EtaForecast.objects.bulk_create(rows)


def test_staff_see_too_little_history_then_the_hit_rate_and_chart(client, tenant, owner, outsider):
    from queues import services
    from tests.queues.factories import service_queue

    queue = service_queue(tenant, default_service_minutes=2)
    url = reverse("queues:queue_eta", args=[tenant.slug, queue.slug])
    client.force_login(owner)
    page = client.get(url).content.decode()
    assert 'data-eta-accuracy="too-little"' in page and "0 of 20" in page and "<svg" not in page
    now = timezone.now()
    tickets = [submit(queue) for _ in range(30)]
    for _ in range(30):
        services.ticket_call_next(tenant=tenant, actor=None, queue=queue)
    make_history(queue, tickets, hits=24, misses=6, now=now)
    assert accuracy.eta_refresh_due() == 30
    page = client.get(url).content.decode()
    assert 'data-eta-accuracy="measured"' in page
    assert "<strong>80</strong>%" in page and "(24 of 30)" in page
    assert '<svg class="chart"' in page and 'role="img"' in page and "target 80%" in page
    assert "style=" not in page.split('<svg class="chart"')[1].split("</svg>")[0]
    state = Queue.objects.get(pk=queue.pk).eta_calibration
    assert eta.is_calibrated(state) and state["samples"] == 30
    # Another tenant's member: 404.
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_calibrated_queue_shows_recalibrated_ranges_and_says_so(client, tenant):
    from queues import services
    from tests.queues.factories import service_queue

    queue = service_queue(tenant)
    now = timezone.now()
    tickets = [submit(queue) for _ in range(25)]
    for index in range(25):
        at = now + timedelta(minutes=3 * index)
        started = services.ticket_call_next(tenant=tenant, actor=None, queue=queue, now=at)
        for event in ("complete", "pickup"):  # in_progress → ready → completed (done)
            started = services.ticket_transition(
                tenant=tenant, actor=None, ticket=started, event=event, now=at + timedelta(minutes=2)
            )
    waiting = submit(queue)
    page = client.get(status_url(waiting)).content.decode()
    assert "too few served yet to check" in page, page[
        page.find("eta_basis") - 400 : page.find("eta_basis") + 300
    ]
    make_history(queue, tickets, hits=20, misses=5, now=now)
    accuracy.eta_refresh_due()
    page = client.get(status_url(waiting)).content.decode()
    assert "tuned so 8 in 10 people are served within it" in page


def test_waiting_room_ranges_are_scored_at_admission(client, tenant, owner):
    from tests.waitingroom.factories import join, make_room
    from waitingroom import services as rooms

    event, _room = make_room(tenant=tenant, checkout_limit=1)
    first, second = join(tenant, event), join(tenant, event)
    rooms.waiting_room_admit(event_id=event.id)  # the first is let in: a rate is known
    page = client.get(
        reverse("waitingroom_public:entry", kwargs={"tenant_slug": tenant.slug, "token": second.token})
    )
    assert "Too few people let in yet to check" in page.content.decode()
    rooms.waiting_room_leave(tenant=tenant, entry=first)  # the place frees: the second is admitted
    assert rooms.waiting_room_admit(event_id=event.id) == [second.pk]
    assert accuracy.eta_refresh_due() == 1
    forecast = EtaForecast.objects.get(scope="room", scope_id=event.id)
    assert forecast.item_id == second.pk and forecast.position == 1 and forecast.served_at is not None
    client.force_login(owner)
    dash = client.get(reverse("waitingroom:room", kwargs={"tenant_slug": tenant.slug, "event_id": event.id}))
    assert "ETA accuracy" in dash.content.decode() and "1 of 20" in dash.content.decode()
