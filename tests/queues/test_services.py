from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, NotFound, ValidationError
from queues import services
from queues.models import Lane, Queue, Ticket, TicketEvent
from queues.selectors import main_line, queue_snapshot, ticket_position
from tests import factories
from tests.queues.factories import creator_queue, lane, service_queue, submit, support_queue

pytestmark = pytest.mark.django_db


def states(ticket):
    return list(
        TicketEvent.objects.filter(ticket=ticket)
        .order_by("id")
        .values_list("event", "from_state", "to_state")
    )


def reload(ticket):
    return Ticket.objects.select_related("ticket_type", "lane", "queue", "customer", "tenant").get(
        pk=ticket.pk
    )


def test_creator_request_full_life_cycle(tenant, owner):
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    assert (ticket.state, ticket.phase, ticket.turn_number) == ("pending", "pending", None)
    assert lane(queue, "priority").waiting_count == 0
    services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
    ticket = reload(ticket)
    assert (ticket.state, ticket.phase, ticket.turn_number) == ("approved", "waiting", 1)
    assert ticket.approved_at is not None
    assert lane(queue, "priority").waiting_count == 1
    called = services.ticket_call_next(tenant=tenant, actor=owner, queue=queue)
    assert called.pk == ticket.pk and called.state == "in_progress"
    assert lane(queue, "priority").now_serving == 1 and lane(queue, "priority").waiting_count == 0
    services.ticket_transition(tenant=tenant, actor=owner, ticket=reload(ticket), event="complete")
    ticket = reload(ticket)
    assert (ticket.state, ticket.phase) == ("completed", "done") and ticket.completed_at
    assert states(ticket) == [
        ("submit", "", "pending"),
        ("approve", "pending", "approved"),
        ("start", "approved", "in_progress"),
        ("complete", "in_progress", "completed"),
    ]
    assert Queue.objects.get(pk=queue.pk).service_samples == 1


def test_reject_needs_a_reason_and_records_it(tenant, owner):
    queue = creator_queue(tenant)
    ticket = submit(queue, "personal")
    with pytest.raises(ValidationError):
        services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="reject")
    assert reload(ticket).state == "pending"
    services.ticket_reject(tenant=tenant, actor=owner, ticket=reload(ticket), reason="Not my style")
    ticket = reload(ticket)
    assert (ticket.state, ticket.phase) == ("rejected", "cancelled")
    assert TicketEvent.objects.filter(ticket=ticket, event="reject", note="Not my style").exists()


def test_service_full_life_cycle(tenant, owner):
    queue = service_queue(tenant)
    ticket = submit(queue)
    assert (ticket.state, ticket.phase, ticket.turn_number) == ("received", "waiting", 1)
    for event, state in [("start", "in_progress"), ("complete", "ready"), ("pickup", "completed")]:
        services.ticket_transition(tenant=tenant, actor=owner, ticket=reload(ticket), event=event)
        assert reload(ticket).state == state
    assert [row[0] for row in states(ticket)] == ["submit", "start", "complete", "pickup"]


def test_support_full_life_cycle_with_reopen(tenant, owner):
    queue = support_queue(tenant)
    ticket = submit(queue, title="Wifi down")
    assert ticket.state == "open" and ticket.phase == "waiting"
    path = [
        ("start", "in_progress"),
        ("ask_customer", "awaiting_customer"),
        ("customer_replied", "in_progress"),
        ("resolve", "resolved"),
        ("reopen", "open"),
        ("resolve", "resolved"),
        ("close", "closed"),
    ]
    for event, state in path:
        services.ticket_transition(tenant=tenant, actor=owner, ticket=reload(ticket), event=event)
        assert reload(ticket).state == state
    ticket = reload(ticket)
    assert ticket.phase == "done" and ticket.resolved_at is not None
    assert lane(queue, "main").waiting_count == 0
    with pytest.raises(InvalidTransition):
        services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="reopen")


def test_forward_support_ticket(tenant, owner):
    queue = support_queue(tenant)
    ticket = submit(queue)
    services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="forward", note="To IT")
    assert reload(ticket).state == "forwarded"


@pytest.mark.parametrize("event", ["complete", "start", "pickup", "no_such_event"])
def test_forbidden_transition_changes_nothing(tenant, owner, event):
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    before_events = TicketEvent.objects.count()
    before_lane = Lane.objects.get(pk=ticket.lane_id).version
    with pytest.raises(InvalidTransition) as error:
        services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event=event)
    assert "not allowed" in error.value.message
    fresh = reload(ticket)
    assert (fresh.state, fresh.phase) == ("pending", "pending")
    assert TicketEvent.objects.count() == before_events
    assert Lane.objects.get(pk=ticket.lane_id).version == before_lane


def test_protected_state_cannot_be_assigned(tenant):
    ticket = submit(creator_queue(tenant), "priority")
    with pytest.raises(AttributeError):
        ticket.state = "approved"


def test_other_tenants_ticket_is_not_found(tenant, other_tenant, owner):
    ticket = submit(creator_queue(tenant), "priority")
    with pytest.raises(NotFound):
        services.ticket_approve(tenant=other_tenant, actor=owner, ticket=ticket)


def test_tip_below_minimum_is_rejected(tenant):
    queue = creator_queue(tenant)
    with pytest.raises(ValidationError) as error:
        submit(queue, "priority", tip_cents=499)
    assert "tip" in error.value.field_errors
    assert Ticket.objects.count() == 0
    assert submit(queue, "priority", tip_cents=500).pk


def test_disabled_queue_and_lane_store_nothing(tenant, owner):
    queue = creator_queue(tenant)
    services.lane_update(tenant=tenant, actor=owner, lane=lane(queue, "personal"), changes={"enabled": False})
    with pytest.raises(ValidationError, match="closed"):
        submit(queue, "personal")
    services.queue_update(tenant=tenant, actor=owner, queue=queue, changes={"enabled": False})
    queue.refresh_from_db()
    with pytest.raises(ValidationError, match="not taking"):
        submit(queue, "priority")
    assert Ticket.objects.count() == 0


def test_same_submission_token_creates_one_ticket(tenant):
    queue = service_queue(tenant)
    first = submit(queue, submission_token="tok-1")
    second = submit(queue, submission_token="tok-1")
    assert first.pk == second.pk
    assert Ticket.objects.count() == 1 and lane(queue, "main").waiting_count == 1


def test_custom_data_is_validated_by_the_service(tenant, owner):
    ticket_type = services.ticket_type_save(
        tenant=tenant,
        actor=owner,
        code="order",
        name="Order",
        workflow=factories_workflow(),
        custom_fields_schema={
            "type": "object",
            "properties": {
                "cake": {"type": "string", "enum": ["lemon", "chocolate"]},
                "candles": {"type": "integer", "minimum": 0},
            },
            "required": ["cake"],
        },
    )
    queue = service_queue(tenant, ticket_type=ticket_type)
    with pytest.raises(ValidationError) as error:
        submit(queue, custom_data={"candles": -1})
    assert set(error.value.field_errors) == {"custom__cake", "custom__candles"}
    ticket = submit(queue, custom_data={"cake": "lemon", "candles": 3})
    assert Ticket.objects.filter(custom_data__cake="lemon").get() == ticket


def factories_workflow():
    from queues.workflow import SERVICE

    return SERVICE


def test_call_next_follows_three_to_one_and_continues_from_phase(tenant, owner):
    queue = creator_queue(tenant)
    tickets = {}
    for index in range(5):
        for code in ("priority", "personal"):
            ticket = submit(queue, code)
            services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
            tickets[(code, index)] = ticket.pk
    order = []
    snapshot = queue_snapshot(Queue.objects.get(pk=queue.pk))
    expected = [ticket.pk for _position, ticket in main_line(snapshot)]
    for _ in range(10):
        called = services.ticket_call_next(tenant=tenant, actor=owner, queue=queue)
        order.append(called.pk)
    assert order == expected
    lanes = [
        ("priority" if pk in {tickets[("priority", i)] for i in range(5)} else "personal") for pk in order
    ]
    assert lanes[:8] == ["priority"] * 3 + ["personal"] + ["priority"] * 2 + ["personal"] * 2 or lanes[
        :4
    ] == [
        "priority",
        "priority",
        "priority",
        "personal",
    ]
    assert services.ticket_call_next(tenant=tenant, actor=owner, queue=queue) is None


def test_positions_and_eta_on_snapshot(tenant, owner):
    queue = creator_queue(tenant, default_service_minutes=5)
    waiting = []
    for code in ["personal", "personal", "priority", "priority", "priority", "priority"]:
        ticket = submit(queue, code)
        services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
        waiting.append(reload(ticket))
    snapshot = queue_snapshot(Queue.objects.get(pk=queue.pk))
    places = [ticket_position(ticket, snapshot)[0] for ticket in waiting]
    # P P P L P L: priority tickets 1,2,3,5; personal 4 and 6
    assert places == [4, 6, 1, 2, 3, 5]
    eta = snapshot.eta(places[0])
    assert eta.basis == "configured" and eta.low_minutes <= 20 <= eta.high_minutes


def test_no_estimate_without_history_or_configured_minutes(tenant, owner):
    queue = creator_queue(tenant)
    snapshot = queue_snapshot(queue)
    assert snapshot.eta(3) is None


def test_lane_change_keeps_submission_order(tenant, owner):
    queue = creator_queue(tenant)
    first = submit(queue, "personal")
    second = submit(queue, "priority")
    for ticket in (first, second):
        services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
    services.ticket_change_lane(
        tenant=tenant, actor=owner, ticket=reload(first), lane=lane(queue, "priority")
    )
    snapshot = queue_snapshot(Queue.objects.get(pk=queue.pk))
    assert ticket_position(reload(first), snapshot)[0] == 1
    assert ticket_position(reload(second), snapshot)[0] == 2
    assert lane(queue, "personal").waiting_count == 0 and lane(queue, "priority").waiting_count == 2


def test_assign_only_to_members(tenant, owner, outsider):
    ticket = submit(service_queue(tenant))
    services.ticket_assign(tenant=tenant, actor=owner, ticket=ticket, assignee=owner)
    assert reload(ticket).assignee == owner
    with pytest.raises(ValidationError):
        services.ticket_assign(tenant=tenant, actor=owner, ticket=ticket, assignee=outsider)


def test_ttl_expiry_by_task_and_status_reads(tenant, owner):
    queue = creator_queue(tenant, ttl_minutes=30)
    now = timezone.now()
    ticket = submit(queue, "priority", now=now)
    assert ticket.expires_at == now + timedelta(minutes=30)
    assert not ticket.is_expired(now + timedelta(minutes=29))
    assert ticket.is_expired(now + timedelta(minutes=31))
    assert services.tickets_expire_due(now=now + timedelta(minutes=29)) == 0
    assert services.tickets_expire_due(now=now + timedelta(minutes=31)) == 1
    assert reload(ticket).state == "expired"
    assert services.tickets_expire_due(now=now + timedelta(minutes=32)) == 0  # idempotent


def test_notifications_are_written_in_the_transaction(tenant, owner):
    from notifications.models import OutboxMessage

    queue = creator_queue(tenant)
    ticket = submit(queue, "priority", email_consent=True)
    assert OutboxMessage.objects.filter(event_type="ticket.submitted").exists()
    services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
    assert OutboxMessage.objects.filter(event_type="ticket.approved").exists()
    services.ticket_call_next(tenant=tenant, actor=owner, queue=queue)
    assert OutboxMessage.objects.filter(event_type="ticket.called").exists()
    services.ticket_transition(tenant=tenant, actor=owner, ticket=reload(ticket), event="complete")
    assert OutboxMessage.objects.filter(event_type="ticket.completed").exists()
    silent = submit(queue, "priority")  # no email consent: the customer follows the status page instead
    services.ticket_approve(tenant=tenant, actor=owner, ticket=silent)
    assert OutboxMessage.objects.filter(event_type="ticket.approved").count() == 1


def test_type_update_refuses_dropping_a_state_in_use(tenant, owner):
    from queues.workflow import SERVICE

    ticket_type = services.ticket_type_save(tenant=tenant, actor=owner, code="t", name="T", workflow=SERVICE)
    submit(service_queue(tenant, ticket_type=ticket_type))
    smaller = {
        "init": "waiting_here",
        "states": ["waiting_here", "done"],
        "transitions": [{"name": "finish", "from": "waiting_here", "to": "done"}],
        "phases": {"waiting_here": "waiting", "done": "done"},
    }
    with pytest.raises(ValidationError) as error:
        services.ticket_type_save(
            tenant=tenant, actor=owner, code="t", name="T", workflow=smaller, ticket_type=ticket_type
        )
    assert "received" in str(error.value.field_errors)
    updated = services.ticket_type_save(
        tenant=tenant, actor=owner, code="t", name="T2", workflow=SERVICE, ticket_type=ticket_type
    )
    assert updated.version == 2


def test_comments_and_items(tenant, owner):
    ticket = submit(support_queue(tenant))
    comment = services.ticket_comment_add(
        tenant=tenant, ticket=ticket, body="Looking", actor=owner, is_internal=True
    )
    edited = services.ticket_comment_edit(tenant=tenant, actor=owner, comment=comment, body="Fixed")
    assert edited.body == "Fixed" and edited.edit_history[0]["body"] == "Looking"
    from queues.item_services import ticket_item_add

    item = ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Cable", quantity=2)
    assert item.state == ""
    assert factories.TenantFactory  # base factories importable
