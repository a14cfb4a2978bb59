"""100 API clients race for 10 seats through the REST API (real threads, one connection each, real
PostgreSQL): exactly 10 orders, 90 answers 409 ``sold_out`` in problem+json, never a 5xx, and the tier
ends with sold = 10."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client

from tests.api.conftest import ApiClient, make_key
from tests.concurrency.test_ticketing_inventory import Watcher, hot_event, run_threads
from ticketing.models import Order

pytestmark = pytest.mark.django_db(transaction=True)


def test_100_api_clients_race_for_10_seats_and_10_are_sold(settings):
    settings.API_RATE_LIMIT = "100000/60"
    tenant, event, tier = hot_event(10)
    secrets = [make_key(tenant, ["read", "write"])[1] for _ in range(10)]

    def purchase(index: int):
        api = ApiClient(Client(), secrets[index % len(secrets)])
        opened = api.post(
            "/api/v1/checkouts",
            {"event_id": event.id, "items": [{"tier_id": tier.id, "quantity": 1}]},
            key=f"open-{index}",
        )
        if opened.status_code != 201:
            return opened.status_code, opened.json().get("code")
        token = opened.json()["token"]
        details = api.post(
            f"/api/v1/checkouts/{token}/customer", {"name": "Racer", "email": f"r{index}@example.test"}
        )
        assert details.status_code == 200, details.content
        paid = api.post(
            f"/api/v1/checkouts/{token}/pay",
            {"provider": "test_card", "card_number": "4242 4242 4242 4242"},
            key=f"pay-{index}",
        )
        return paid.status_code, paid.json().get("status") or paid.json().get("code")

    with Watcher(tier.id) as watcher:
        results = run_threads(100, purchase)
    counts = Counter(result if isinstance(result, tuple) else repr(result) for result in results)
    assert counts == {(201, "paid"): 10, (409, "sold_out"): 90}, counts
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (10, 0)
    assert Order.objects.filter(event=event).count() == 10
    assert watcher.samples
    for quantity, sold, reserved, held in watcher.samples:
        assert sold + reserved <= quantity and held <= quantity
