"""The served-order export: the order tickets were served in, replayed from the audit trail, and the
check that it followed the lane rule (the weighted round robin ``ticket_call_next`` applies). An order
made by "call next" passes; serving out of turn, skipping the first person of a lane, or a doctored
order fails, with the rows that break it. Staff only, tenant-scoped, CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from django.urls import reverse

from queues import positions, served_order, services
from queues import workflow as wf
from queues.models import Ticket
from tests.queues.factories import creator_queue, lane, submit

pytestmark = pytest.mark.django_db


def approved(queue, owner, lane_code):
    ticket = submit(queue, lane_code)
    return services.ticket_approve(tenant=queue.tenant, actor=owner, ticket=ticket)


def call(queue, owner):
    return services.ticket_call_next(tenant=queue.tenant, actor=owner, queue=queue)


def serve_out_of_turn(queue, owner, ticket):
    ticket.refresh_from_db()
    serve = ticket.machine.first_into(ticket.state, wf.SERVING)
    return services.ticket_transition(tenant=queue.tenant, actor=owner, ticket=ticket, event=serve.name)


def test_an_order_made_by_call_next_follows_the_rule(tenant, owner):
    queue = creator_queue(tenant)  # priority 3 : personal 1
    for code in ["personal", "personal", "priority", "priority", "priority", "priority", "personal"]:
        approved(queue, owner, code)
    called = [call(queue, owner) for _ in range(6)]
    # A waiting ticket moved to the other lane keeps its place in the replay too.
    moved = approved(queue, owner, "personal")
    services.ticket_change_lane(tenant=tenant, actor=owner, ticket=moved, lane=lane(queue, "priority"))
    called += [call(queue, owner) for _ in range(2)]
    order = served_order.served_order(queue)
    assert [row.reference for row in order.rows] == [ticket.reference for ticket in called]
    assert [order.lane_name(row.lane_id) for row in order.rows] == (
        ["Priority"] * 3 + ["Personal"] + ["Priority", "Personal", "Priority", "Personal"]
    )
    assert order.checked == 8 and order.violations == []
    assert all(row.first_in_lane and row.expected_lane_id == row.lane_id for row in order.rows)
    assert order.rows[3].waiting == {lane(queue, "priority").pk: 1, lane(queue, "personal").pk: 3}


def test_serving_out_of_turn_or_past_the_first_in_a_lane_breaks_the_rule(tenant, owner):
    queue = creator_queue(tenant)
    first_personal = approved(queue, owner, "personal")
    priority = [approved(queue, owner, "priority") for _ in range(3)]
    call(queue, owner)  # priority[0], by the rule
    serve_out_of_turn(queue, owner, first_personal)  # the rule says priority: out of turn
    serve_out_of_turn(queue, owner, priority[2])  # priority[1] joined earlier and still waits
    call(queue, owner)  # priority[1]
    order = served_order.served_order(queue)
    assert [row.number for row in order.violations] == [2, 3]
    out_of_turn, skipped = order.violations
    assert out_of_turn.reference == first_personal.reference
    assert out_of_turn.problem == "Out of turn: the rule gave this turn to Priority."
    assert skipped.reference == priority[2].reference
    assert skipped.problem == "Someone who joined this lane earlier was still waiting."
    assert order.rows[3].problem == ""  # back on the rule afterwards


def test_a_doctored_order_fails_the_check(tenant, owner):
    queue = creator_queue(tenant)
    for code in ["priority"] * 4 + ["personal"] * 2:
        approved(queue, owner, code)
    for _ in range(6):
        call(queue, owner)
    order = served_order.served_order(queue)
    lanes = order.lanes
    cycle = positions.build_cycle([(item.pk, item.weight) for item in lanes])
    names = {item.pk: item.name for item in lanes}
    assert served_order.check_served_order(cycle, order.rows, names) == []
    # Swap the first personal turn (4th) with the priority turn before it: the rule is broken there.
    doctored = [replace(row) for row in order.rows]
    doctored[2], doctored[3] = doctored[3], doctored[2]
    broken = served_order.check_served_order(cycle, doctored, names)
    assert broken and broken[0].reference == order.rows[3].reference
    # Claiming a later ticket was first in its lane is not enough when the lane is wrong; claiming the
    # head was not first is caught too.
    doctored = [replace(row) for row in order.rows]
    doctored[0].first_in_lane = False
    assert [row.number for row in served_order.check_served_order(cycle, doctored, names)] == [1]
    # Weights other than the ones used (2:1 instead of 3:1) fail the same real order.
    other = positions.build_cycle([(lanes[0].pk, 2), (lanes[1].pk, 1)])
    assert served_order.check_served_order(other, [replace(row) for row in order.rows], names)


def test_staff_page_and_csv_show_the_check(client, tenant, owner, staff):
    queue = creator_queue(tenant)
    services.lane_update(
        tenant=tenant, actor=owner, lane=lane(queue, "personal"), changes={"name": "=HYPERLINK()"}
    )
    personal = approved(queue, owner, "personal")
    approved(queue, owner, "priority")
    serve_out_of_turn(queue, owner, personal)
    call(queue, owner)
    client.force_login(staff)  # any member may look; nothing here changes anything
    page = client.get(reverse("queues:queue_served", args=[tenant.slug, queue.slug])).content.decode()
    assert 'data-served-check="broken"' in page and "1 of 2 turns broke the rule." in page
    assert personal.reference in page and "Out of turn: the rule gave this turn to Priority." in page
    response = client.get(reverse("queues:queue_served_csv", args=[tenant.slug, queue.slug]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["order", "served at (UTC)", "reference", "lane", "turn"]
    assert "waiting in Priority" in rows[0] and "waiting in '=HYPERLINK()" in rows[0]
    header = rows[0]
    assert [row[header.index("reference")] for row in rows[1:]] == [
        personal.reference,
        Ticket.objects.get(queue=queue, lane__code="priority").reference,
    ]
    assert rows[1][header.index("lane")] == "'=HYPERLINK()"  # never a formula in a spreadsheet
    assert [row[header.index("follows the rule")] for row in rows[1:]] == ["no", "yes"]
    assert rows[2][header.index("waiting in Priority")] == "1"


def test_nothing_served_yet_says_so(client, tenant, owner):
    queue = creator_queue(tenant)
    client.force_login(owner)
    page = client.get(reverse("queues:queue_served", args=[tenant.slug, queue.slug])).content.decode()
    assert 'data-served-check="empty"' in page
    lines = b"".join(
        client.get(reverse("queues:queue_served_csv", args=[tenant.slug, queue.slug])).streaming_content
    )
    assert lines.decode().count("\n") == 1  # the header only


def test_another_tenants_member_and_anonymous_get_nothing(client, tenant, owner, outsider):
    queue = creator_queue(tenant)
    approved(queue, owner, "personal")
    call(queue, owner)
    urls = [
        reverse("queues:queue_served", args=[tenant.slug, queue.slug]),
        reverse("queues:queue_served_csv", args=[tenant.slug, queue.slug]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(outsider)
    for url in urls:
        assert client.get(url).status_code == 404
