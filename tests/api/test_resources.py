"""The waiting room, waitlists and the help desk through the API: the services' rules hold (one place
per person, cooldown, offers, the help desk's queue scope), answered in the documented shapes."""

from __future__ import annotations

import pytest

from tenants.models import Role
from tests import factories
from tests.api.conftest import ApiClient, make_key
from tests.support.factories import agents, file_ticket
from tests.support.factories import support_queue as help_desk
from tests.waitingroom.factories import make_room
from tests.waitlists.factories import sold_out_event
from waitingroom import services as room_services

pytestmark = pytest.mark.django_db


def test_waiting_room_join_position_admission_and_leave(api, tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    first = api.post(f"/api/v1/waiting-room/events/{event.id}/entries", {"email": "ann@example.test"})
    second = api.post(f"/api/v1/waiting-room/events/{event.id}/entries", {"email": "bob@example.test"})
    assert first.status_code == second.status_code == 201
    again = api.post(f"/api/v1/waiting-room/events/{event.id}/entries", {"email": "ANN@example.test"})
    assert again.status_code == 200 and again.json()["token"] == first.json()["token"]
    room_services.waiting_room_admit(event_id=event.id)
    ann = api.get(f"/api/v1/waiting-room/entries/{first.json()['token']}").json()
    bob = api.get(f"/api/v1/waiting-room/entries/{second.json()['token']}").json()
    assert ann["status"] == "admitted" and ann["admission_token"]
    assert bob["status"] == "waiting" and bob["position"] == 1
    checkout = api.post(
        "/api/v1/checkouts",
        {"event_id": event.id, "items": [{"tier_id": event.tiers.get().id, "quantity": 1}]},
    )
    assert checkout.status_code == 403  # no admission token: the waiting room is the way in
    checkout = api.post(
        "/api/v1/checkouts",
        {
            "event_id": event.id,
            "items": [{"tier_id": event.tiers.get().id, "quantity": 1}],
            "admission": ann["admission_token"],
        },
    )
    assert checkout.status_code == 201, checkout.content
    left = api.post(f"/api/v1/waiting-room/entries/{second.json()['token']}/leave")
    assert left.status_code == 200 and left.json()["status"] == "left"
    cooling = api.post(f"/api/v1/waiting-room/events/{event.id}/entries", {"email": "bob@example.test"})
    assert cooling.status_code == 409 and cooling.json()["code"] == "conflict"
    bad = api.post(f"/api/v1/waiting-room/events/{event.id}/entries", {"email": "not an email"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"


def test_waitlist_join_offer_and_withdraw(api, tenant, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    joined = api.post(
        "/api/v1/waitlist-entries", {"event_id": event.id, "email": "w@example.test", "quantity": 1}
    )
    assert joined.status_code == 201, joined.content
    entry = joined.json()
    assert entry["status"] == "waiting" and entry["position"] == 1
    assert (
        api.post("/api/v1/waitlist-entries", {"event_id": event.id, "email": "w@example.test"}).status_code
        == 200
    )
    nothing_free = api.post(f"/api/v1/waitlist-entries/{entry['id']}/offer")
    assert nothing_free.status_code == 409 and nothing_free.json()["code"] == "sold_out"
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/orders/{order.reference}/cancel")  # frees the seat: offered to the line at once
    offered = api.get(f"/api/v1/waitlist-entries/{entry['id']}").json()
    assert offered["status"] == "offered" and offered["offer_url"].startswith("http")
    withdrawn = api.post(f"/api/v1/waitlist-entries/{entry['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    listed = api.get("/api/v1/waitlist-entries", {"event_id": event.id, "status": "withdrawn"}).json()
    assert [item["id"] for item in listed["items"]] == [entry["id"]]


def test_help_desk_through_the_api_keeps_the_queue_scope(client, tenant):
    membership = factories.MembershipFactory(tenant=tenant, role=Role.MANAGER)
    agent = membership.user
    agent_api = ApiClient(client, make_key(tenant, owner=agent)[1])
    membership.role = Role.STAFF  # the key's creator is now a plain agent: the key follows their rights
    membership.save(update_fields=["role"])
    it = help_desk(tenant, slug="it", name="IT", agents=agents(agent, primary=agent))
    facilities = help_desk(tenant, slug="facilities", name="Facilities")
    hidden = file_ticket(facilities)

    filed = agent_api.post(
        f"/api/v1/support/queues/{it.id}/tickets",
        {"email": "student@example.test", "title": "Wi-Fi", "custom_data": {"category": "Other"}},
    )
    assert filed.status_code == 201, filed.content
    ticket = filed.json()
    assert ticket["assignee_id"] == agent.id and ticket["due_at"]
    assert agent_api.get(f"/api/v1/support/tickets/{hidden.reference}").status_code == 404
    assert [q["slug"] for q in agent_api.get("/api/v1/support/queues").json()["items"]] == ["it"]
    assert (
        agent_api.post(
            f"/api/v1/support/queues/{facilities.id}/tickets", {"email": "a@b.test", "title": "x"}
        ).status_code
        == 404
    )

    started = agent_api.post(f"/api/v1/support/tickets/{ticket['reference']}/transitions", {"event": "start"})
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    waiting = agent_api.post(
        f"/api/v1/support/tickets/{ticket['reference']}/transitions", {"event": "ask_customer"}
    )
    assert waiting.json()["due_at"] is None  # the clock pauses while waiting on the customer
    wrong = agent_api.post(f"/api/v1/support/tickets/{ticket['reference']}/transitions", {"event": "fly"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "invalid_transition"
    note = agent_api.post(
        f"/api/v1/support/tickets/{ticket['reference']}/comments", {"body": "<i>hm</i>", "internal": True}
    )
    assert note.status_code == 201 and note.json()["internal"] is True
    comments = agent_api.get(f"/api/v1/support/tickets/{ticket['reference']}/comments").json()["items"]
    assert [c["body"] for c in comments] == ["<i>hm</i>"]
    outsider = factories.UserFactory()
    refused = agent_api.post(
        f"/api/v1/support/tickets/{ticket['reference']}/assign", {"assignee_id": outsider.id}
    )
    assert refused.status_code == 422


def test_a_key_whose_creator_left_cannot_use_the_help_desk(client, tenant):
    manager = factories.MembershipFactory(tenant=tenant, role=Role.MANAGER)
    api = ApiClient(client, make_key(tenant, owner=manager.user)[1])
    help_desk(tenant)
    assert api.get("/api/v1/support/queues").status_code == 200
    manager.delete()
    refused = api.get("/api/v1/support/queues")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_refund_some_tickets_then_the_rest(api, tenant):
    from tests.ticketing.factories import buy, make_event

    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 3})
    first, *_rest = [ticket.code for ticket in order.tickets.order_by("id")]
    partial = api.post(f"/api/v1/orders/{order.reference}/refund", {"ticket_codes": [first], "reason": "ill"})
    assert partial.status_code == 200, partial.content
    body = partial.json()
    assert body["status"] == "paid" and len(body["refunds"]) == 1
    assert body["refunds"][0]["ticket_codes"] == [first] and body["refunds"][0]["status"] == "succeeded"
    assert api.post(f"/api/v1/orders/{order.reference}/refund", {"ticket_codes": [first]}).status_code == 422
    unknown = api.post(f"/api/v1/orders/{order.reference}/refund", {"ticket_codes": ["nope"]})
    assert unknown.status_code == 404
    rest = api.post(f"/api/v1/orders/{order.reference}/refund", {})
    assert rest.json()["status"] == "refunded"
    assert sum(r["amount_cents"] for r in rest.json()["refunds"]) == order.total_cents
    again = api.post(f"/api/v1/orders/{order.reference}/refund", {})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_staff_members_cannot_cancel_or_refund_through_the_api(client, tenant):
    from tests.ticketing.factories import buy, make_event

    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    member = factories.MembershipFactory(tenant=tenant, role=Role.STAFF).user
    session = client
    session.force_login(member)
    for action in ("cancel", "refund"):
        response = session.post(
            f"/api/v1/orders/{order.reference}/{action}",
            {},
            content_type="application/json",
            HTTP_X_TENANT=tenant.slug,
        )
        # The test client passes the CSRF check: the role is what refuses it, as on the dashboard.
        assert response.status_code == 403 and response.json()["code"] == "forbidden", response.content
    assert session.get(f"/api/v1/orders/{order.reference}", HTTP_X_TENANT=tenant.slug).status_code == 200
