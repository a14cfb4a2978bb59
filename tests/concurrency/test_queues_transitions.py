"""Queue tickets under real concurrency (threads, real PostgreSQL): conflicting transitions, simultaneous
"call next" and double submits."""

import threading

import pytest
from django.db import connection

from core.errors import Conflict, InvalidTransition
from queues import services
from queues.models import Lane, Ticket, TicketEvent
from tests.queues.factories import creator_queue, service_queue, submit

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*targets):
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def runner(index, target):
        try:
            results[index] = ("ok", target(barrier))
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def loaded(ticket):
    return Ticket.objects.select_related("ticket_type", "lane", "queue", "customer", "tenant").get(
        pk=ticket.pk
    )


@pytest.mark.parametrize("second_event", ["reject", "approve"])
def test_conflicting_transitions_exactly_one_wins(tenant, owner, second_event):
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")

    def act(event):
        def target(barrier):
            mine = loaded(ticket)  # both read "pending" before either writes
            barrier.wait()
            return services.ticket_transition(
                tenant=tenant, actor=owner, ticket=mine, event=event, note="reason"
            )

        return target

    results = run_together(act("approve"), act(second_event))
    outcomes = sorted(kind for kind, _value in results)
    assert outcomes == ["error", "ok"]
    error = next(value for kind, value in results if kind == "error")
    assert type(error) is Conflict and "same moment" in error.message
    final = Ticket.objects.get(pk=ticket.pk)
    winner = next(value for kind, value in results if kind == "ok")
    assert final.state == winner.state
    events = list(TicketEvent.objects.filter(ticket=ticket).values_list("event", flat=True))
    assert len(events) == 2 and events[0] == "submit"  # the loser left no trace
    expected_waiting = 1 if final.state == "approved" else 0
    assert Lane.objects.get(pk=ticket.lane_id).waiting_count == expected_waiting


def test_stale_instance_after_commit_is_a_conflict(tenant, owner):
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    stale = loaded(ticket)
    services.ticket_approve(tenant=tenant, actor=owner, ticket=loaded(ticket))
    with pytest.raises(Conflict):
        services.ticket_reject(tenant=tenant, actor=owner, ticket=stale, reason="late")
    assert Ticket.objects.get(pk=ticket.pk).state == "approved"
    with pytest.raises(InvalidTransition):
        services.ticket_reject(tenant=tenant, actor=owner, ticket=loaded(ticket), reason="late")


def test_simultaneous_call_next_calls_different_tickets(tenant, owner):
    queue = service_queue(tenant)
    tickets = [submit(queue) for _ in range(4)]

    def call(barrier):
        barrier.wait()
        return services.ticket_call_next(tenant=tenant, actor=owner, queue=queue)

    results = run_together(call, call, call)
    called = [value.pk for kind, value in results if kind == "ok" and value is not None]
    assert [kind for kind, _ in results] == ["ok", "ok", "ok"]
    assert len(called) == 3 and len(set(called)) == 3
    assert set(called) == {t.pk for t in tickets[:3]}  # the first three, in order of arrival
    lane = Lane.objects.get(queue=queue)
    assert lane.waiting_count == 1 and lane.now_serving in (1, 2, 3)


def test_concurrent_double_submit_creates_one_ticket(tenant):
    queue = service_queue(tenant)

    def send(barrier):
        barrier.wait()
        return submit(queue, submission_token="same-form", email="same@example.test")

    results = run_together(send, send, send)
    assert all(kind == "ok" for kind, _ in results), results
    assert len({value.pk for _, value in results}) == 1
    assert Ticket.objects.count() == 1
    assert Lane.objects.get(queue=queue).waiting_count == 1


def test_parallel_start_presses_on_one_ticket_one_wins_others_conflict(tenant, owner):
    """Issue 15 #12: four staff press "start" on one waiting ticket at once. One wins; the others are
    told it already changed (Conflict), never a 500 from the lane counter's CHECK."""
    queue = service_queue(tenant)
    ticket = submit(queue)

    def press(barrier):
        mine = loaded(ticket)  # all four saw "received" (waiting)
        barrier.wait()
        return services.ticket_transition(tenant=tenant, actor=owner, ticket=mine, event="start")

    results = run_together(press, press, press, press)
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "error", "error", "ok"], results
    for kind, value in results:
        if kind == "error":
            assert type(value) is Conflict, value
    assert Ticket.objects.get(pk=ticket.pk).state == "in_progress"
    lane = Lane.objects.get(queue=queue)
    assert lane.waiting_count == 0
    assert list(TicketEvent.objects.filter(ticket=ticket).values_list("event", flat=True)) == [
        "submit",
        "start",
    ]


def test_parallel_lane_moves_of_one_ticket_keep_counters(tenant, owner):
    """Two staff move one waiting ticket to another lane at once: one moves it, the other is a no-op or
    a Conflict; the lane counters stay true."""
    queue = creator_queue(tenant)
    ticket = submit(queue, "personal")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=loaded(ticket))
    priority = Lane.objects.get(queue=queue, code="priority")

    def move(barrier):
        mine = loaded(ticket)
        barrier.wait()
        return services.ticket_change_lane(tenant=tenant, actor=owner, ticket=mine, lane=priority)

    results = run_together(move, move)
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert all(type(value) is Conflict for kind, value in results if kind == "error")
    counts = dict(Lane.objects.filter(queue=queue).values_list("code", "waiting_count"))
    assert counts == {"priority": 1, "personal": 0}
