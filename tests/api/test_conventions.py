"""The API's conventions: idempotent POSTs, problem+json errors, cursor pagination, ETags, rate limits."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from api.models import IdempotencyRecord
from queues.models import Ticket
from tests.api.conftest import ApiClient, make_key
from tests.queues.factories import creator_queue, submit
from tests.ticketing.factories import make_event
from ticketing.models import CheckoutSession

pytestmark = pytest.mark.django_db


def open_body(event, quantity=1):
    return {"event_id": event.id, "items": [{"tier_id": event.tiers.get().id, "quantity": quantity}]}


def test_same_key_and_body_replays_the_first_response(api, tenant):
    event = make_event(tenant=tenant)
    first = api.post("/api/v1/checkouts", open_body(event), key="order-1")
    again = api.post("/api/v1/checkouts", open_body(event), key="order-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again["Idempotent-Replayed"] == "true"
    assert CheckoutSession.objects.count() == 1  # the replay did not hold more seats
    fresh = api.post("/api/v1/checkouts", open_body(event), key="order-2")
    assert fresh.status_code == 201 and fresh.json()["token"] != first.json()["token"]


def test_the_same_json_spelled_differently_replays(api, tenant):
    event = make_event(tenant=tenant)
    tier_id = event.tiers.get().id
    first = api.client.post(
        "/api/v1/checkouts",
        f'{{"event_id": {event.id}, "items": [{{"tier_id": {tier_id}, "quantity": 1}}]}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="spelled",
        **api.headers,
    )
    again = api.client.post(
        "/api/v1/checkouts",
        f'{{"items":[{{"quantity":1,"tier_id":{tier_id}}}],"event_id":{event.id}}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="spelled",
        **api.headers,
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and first.content == again.content
    assert CheckoutSession.objects.count() == 1


def test_same_key_with_another_body_is_422(api, tenant):
    event = make_event(tenant=tenant)
    assert api.post("/api/v1/checkouts", open_body(event), key="k").status_code == 201
    reused = api.post("/api/v1/checkouts", open_body(event, 2), key="k")
    assert reused.status_code == 422
    assert reused["Content-Type"] == "application/problem+json"
    assert reused.json()["code"] == "idempotency_key_reused"
    assert CheckoutSession.objects.count() == 1


def test_keys_are_per_principal(client, tenant):
    event = make_event(tenant=tenant)
    one = ApiClient(client, make_key(tenant)[1])
    two = ApiClient(client, make_key(tenant)[1])
    assert one.post("/api/v1/checkouts", open_body(event), key="same").status_code == 201
    other = two.post("/api/v1/checkouts", open_body(event), key="same")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert CheckoutSession.objects.count() == 2


def test_a_bad_idempotency_key_is_400(api, tenant):
    event = make_event(tenant=tenant)
    response = api.post("/api/v1/checkouts", open_body(event), key="x" * 256)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
    assert not CheckoutSession.objects.exists()


def test_a_transient_failure_is_not_stored(api, tenant):
    event = make_event(tenant=tenant, checkout_limit=1)
    assert api.post("/api/v1/checkouts", open_body(event), key="a").status_code == 201
    busy = api.post("/api/v1/checkouts", open_body(event), key="b")
    # Every checkout place taken is a kind of busy (503, Retry-After) with its own code; transient either way.
    assert busy.status_code == 503 and busy.json()["code"] == "checkout_full" and busy["Retry-After"]
    assert not IdempotencyRecord.objects.filter(key="b").exists()  # the retry will run again


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_run_once(tenant):
    event = make_event(tenant=tenant, checkout_limit=50)
    secret = make_key(tenant)[1]
    barrier = threading.Barrier(8)
    statuses = []

    def racer():
        try:
            api = ApiClient(Client(), secret)
            barrier.wait(30)
            response = api.post("/api/v1/checkouts", open_body(event), key="once")
            statuses.append((response.status_code, response.json().get("token") or response.json()["code"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert CheckoutSession.objects.filter(event=event).count() == 1
    tokens = {token for status, token in statuses if status == 201}
    assert len(tokens) == 1
    assert all(status == 201 or code == "idempotency_in_progress" for status, code in statuses), statuses


def test_cursor_pagination_walks_every_item_once(api, tenant):
    queue = creator_queue(tenant)
    references = [submit(queue, "personal").reference for _ in range(5)]
    seen, cursor = [], None
    for _page in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get("/api/v1/queue-tickets", params).json()
        seen += [item["reference"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == references


def test_filters_and_a_bad_cursor(api, tenant):
    queue = creator_queue(tenant)
    submit(queue, "personal")
    assert api.get("/api/v1/queue-tickets", {"phase": "pending"}).json()["items"]
    assert api.get("/api/v1/queue-tickets", {"phase": "done"}).json()["items"] == []
    bad = api.get("/api/v1/queue-tickets", {"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    out_of_range = api.get("/api/v1/queue-tickets", {"limit": 1000})
    assert out_of_range.status_code == 422 and out_of_range.json()["code"] == "invalid"


def test_etag_and_304(api, tenant):
    queue = creator_queue(tenant)
    ticket = submit(queue, "personal")
    first = api.get(f"/api/v1/queue-tickets/{ticket.reference}")
    etag = first["ETag"]
    assert api.get(f"/api/v1/queue-tickets/{ticket.reference}", HTTP_IF_NONE_MATCH=etag).status_code == 304
    api.post(f"/api/v1/queue-tickets/{ticket.reference}/transitions", {"event": "approve"})
    changed = api.get(f"/api/v1/queue-tickets/{ticket.reference}", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert Ticket.objects.get(pk=ticket.pk).state == "approved"


def test_rate_limit_headers_and_429(client, tenant, settings):
    settings.API_RATE_LIMIT = "3/60"
    api = ApiClient(client, make_key(tenant)[1])
    responses = [api.get("/api/v1/events") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0]["RateLimit-Policy"] == "3;w=60"
    assert responses[0]["RateLimit"].startswith("limit=3, remaining=2, reset=")
    assert responses[2]["RateLimit"].startswith("limit=3, remaining=0,")
    limited = responses[3]
    assert limited.json()["code"] == "rate_limited" and int(limited["Retry-After"]) >= 1
    other = ApiClient(client, make_key(tenant)[1])  # another key has its own budget
    assert other.get("/api/v1/events").status_code == 200


def test_errors_are_problem_json_with_stable_codes(api, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 1),))
    sold = api.post("/api/v1/checkouts", open_body(event, 1))
    assert sold.status_code == 201
    sold_out = api.post("/api/v1/checkouts", open_body(event, 1))
    assert sold_out.status_code == 409
    body = sold_out.json()
    assert body["type"] == "urn:virtualq:problem:sold_out" and body["code"] == "sold_out"
    assert body["status"] == 409 and body["title"] and body["detail"]
    invalid = api.post("/api/v1/checkouts", {"event_id": "x"})
    assert invalid.status_code == 422 and invalid.json()["errors"]
    missing = api.get("/api/v1/events/999999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_bodies_must_be_json(api, tenant):
    event = make_event(tenant=tenant)
    response = api.client.post(
        "/api/v1/checkouts", {"event_id": event.id}, **api.headers
    )  # multipart, as an HTML form would send
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert not CheckoutSession.objects.exists()
