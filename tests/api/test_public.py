"""Public endpoints: no key, rate limited per client address, only what the public pages show."""

from __future__ import annotations

import secrets

import pytest

from tests.queues.factories import creator_queue, support_queue
from tests.ticketing.factories import make_event

pytestmark = pytest.mark.django_db


def test_submit_then_status_by_reference(anon_api, tenant):
    queue = creator_queue(tenant)
    created = anon_api.post(
        f"/api/v1/public/{tenant.slug}/queues/{queue.slug}/tickets",
        {"lane": "personal", "name": "Fan", "email": "fan@example.test", "need_text": "<b>song</b>"},
        key="fan-1",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phase"] == "pending" and "email" not in str(body)
    status = anon_api.get(f"/api/v1/public/tickets/{body['reference'].lower()}")
    assert status.status_code == 200 and status.json()["reference"] == body["reference"]
    assert anon_api.get("/api/v1/public/tickets/ZZZ-ZZZ-ZZZ-ZZZ").status_code == 404


def test_submit_checks_the_lane_rules(anon_api, tenant):
    queue = creator_queue(tenant)
    low_tip = anon_api.post(
        f"/api/v1/public/{tenant.slug}/queues/{queue.slug}/tickets",
        {"lane": "priority", "name": "Fan", "tip_cents": 0},
    )
    assert low_tip.status_code == 422 and low_tip["Content-Type"] == "application/problem+json"
    nowhere = anon_api.post(f"/api/v1/public/{tenant.slug}/queues/nope/tickets", {"lane": "personal"})
    assert nowhere.status_code == 404


def test_help_desk_queues_are_not_public_queues(anon_api, tenant):
    desk = support_queue(tenant)
    response = anon_api.post(f"/api/v1/public/{tenant.slug}/queues/{desk.slug}/tickets", {"lane": "main"})
    assert response.status_code == 404


def test_availability_of_a_published_event(anon_api, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 7),))
    response = anon_api.get(f"/api/v1/public/{tenant.slug}/events/{event.slug}/availability")
    assert response.status_code == 200
    assert response.json()["tiers"][0]["available"] == 7
    draft = make_event(tenant=tenant, title="Draft", on_sale=False)
    assert anon_api.get(f"/api/v1/public/{tenant.slug}/events/{draft.slug}/availability").status_code == 404


def test_public_endpoints_are_rate_limited_per_address(client, tenant, settings):
    settings.API_PUBLIC_RATE_LIMIT = "2/60"
    event = make_event(tenant=tenant)
    address = f"198.51.100.{secrets.randbelow(250) + 1}-{secrets.token_hex(4)}"
    url = f"/api/v1/public/{tenant.slug}/events/{event.slug}/availability"
    codes = [client.get(url, REMOTE_ADDR=address).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(url, REMOTE_ADDR=address + "-other").status_code == 200
