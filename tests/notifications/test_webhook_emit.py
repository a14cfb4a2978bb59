"""``notifications.webhooks.emit`` and the emit points in the services: who gets a message, in which
transaction, with what payload."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboxMessage
from notifications.webhooks import emit
from notifications.webhooks.services import endpoint_disable
from tests.factories import MembershipFactory
from tests.queues.factories import service_queue, submit
from tests.support.factories import agents, file_ticket
from tests.support.factories import support_queue as make_support_queue
from tests.ticketing.factories import buy, make_event
from ticketing import services as ticketing

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"


def webhooks(**filters):
    return list(OutboxMessage.objects.filter(channel="webhook", **filters).order_by("pk"))


def types(**filters):
    return [m.event_type for m in webhooks(**filters)]


def test_emit_writes_one_message_per_subscribed_active_endpoint_of_the_tenant(
    tenant, other_tenant, make_endpoint
):
    everything = make_endpoint(URL)
    only_orders = make_endpoint(URL + "/orders", event_types=["order.paid"])
    tickets_off = make_endpoint(URL + "/off", event_types=["ticket.submitted"])
    endpoint_disable(tenant=tenant, actor=None, endpoint_id=tickets_off.pk)
    make_endpoint(URL, for_tenant=other_tenant)
    ticket = submit(service_queue(tenant))
    (message,) = webhooks()
    assert (message.endpoint_id, message.event_type, message.tenant_id) == (
        everything.pk,
        "ticket.submitted",
        tenant.pk,
    )
    assert (message.related_type, message.related_id) == ("queues.ticket", str(ticket.pk))
    assert message.payload["type"] == "ticket.submitted"
    assert message.payload["data"]["reference"] == ticket.reference
    assert message.payload["data"]["transition"]["event"] == "submit"
    assert not webhooks(endpoint=only_orders)


def test_emit_refuses_to_run_outside_a_transaction_and_checks_its_arguments(
    tenant, other_tenant, make_endpoint
):
    make_endpoint(URL)
    ticket = submit(service_queue(tenant))
    from django.db import connection

    # pytest-django wraps the test in a transaction; step out of it to see autocommit behaviour.
    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="inside"):
            emit(tenant=tenant, event_type="ticket.submitted", resource=ticket)
    finally:
        connection.in_atomic_block = saved
    with transaction.atomic(), pytest.raises(ValueError, match="Unknown webhook event"):
        emit(tenant=tenant, event_type="ticket.exploded", resource=ticket)
    with transaction.atomic(), pytest.raises(ValueError, match="another tenant"):
        emit(tenant=other_tenant, event_type="ticket.submitted", resource=ticket)


def test_a_rolled_back_change_announces_nothing(tenant, make_endpoint):
    make_endpoint(URL)
    ticket = submit(service_queue(tenant))
    before = len(webhooks())
    with pytest.raises(RuntimeError), transaction.atomic():
        emit(tenant=tenant, event_type="ticket.transitioned", resource=ticket)
        raise RuntimeError
    assert len(webhooks()) == before


def test_nobody_subscribed_costs_one_query_and_writes_nothing(tenant, django_assert_num_queries):
    ticket = submit(service_queue(tenant))
    with transaction.atomic(), django_assert_num_queries(1):
        assert emit(tenant=tenant, event_type="ticket.transitioned", resource=ticket) == []


def test_queue_ticket_submission_and_transitions(tenant, make_endpoint):
    make_endpoint(URL)
    queue = service_queue(tenant)
    ticket = submit(queue)
    from queues import services as queue_services

    queue_services.ticket_transition(tenant=tenant, actor=None, ticket=ticket, event="start")
    queue_services.ticket_transition(tenant=tenant, actor=None, ticket=ticket, event="complete")
    assert types() == ["ticket.submitted", "ticket.transitioned", "ticket.transitioned"]
    last = webhooks()[-1].payload["data"]
    assert last["transition"] == {
        "event": "complete",
        "from_state": "in_progress",
        "to_state": "ready",
        "actor": None,
        "note": "",
    }
    assert last["state"] == "ready"


def test_help_desk_tickets_are_announced_as_support_ticket_events(tenant, owner, make_endpoint):
    from support import services as support_services

    agent = MembershipFactory(tenant=tenant, role="staff").user
    queue = make_support_queue(tenant, agents=agents(agent, primary=agent))
    make_endpoint(URL)
    ticket = file_ticket(queue)
    assert types() == ["support.ticket.submitted", "support.ticket.assigned"]
    owner_membership = owner.memberships.get(tenant=tenant)
    support_services.support_comment_add(
        membership=owner_membership, ticket=ticket, body="Internal note", is_internal=True
    )
    support_services.support_comment_add(
        membership=owner_membership, ticket=ticket, body="We are on it", is_internal=False
    )
    support_services.support_ticket_transition(membership=owner_membership, ticket=ticket, event="start")
    assert types()[2:] == ["support.ticket.commented", "support.ticket.transitioned"]
    comment = webhooks(event_type="support.ticket.commented")[0].payload["data"]["comment"]
    assert (comment["body"], comment["author"]) == ("We are on it", "team")
    assert not any("Internal note" in str(m.payload) for m in webhooks())
    assert not types(event_type__startswith="ticket.")


def test_orders_paid_cancelled_refunded_and_check_in(tenant, make_endpoint):
    make_endpoint(URL)
    event = make_event(tenant=tenant)
    tier = event.tiers.first()
    paid = buy(tenant=tenant, event=event, quantities={tier.pk: 2})
    at_door = buy(tenant=tenant, event=event, quantities={tier.pk: 1}, provider="pay_at_door")
    assert types() == ["order.paid"]
    ticketing.order_mark_paid(tenant=tenant, actor=None, order=at_door)
    code = paid.tickets.first().code
    result = ticketing.ticket_check_in(tenant=tenant, actor=None, event=event, code=code)
    assert result.admitted
    again = ticketing.ticket_check_in(tenant=tenant, actor=None, event=event, code=code)
    assert not again.admitted  # a second scan records nothing
    ticketing.order_refund(tenant=tenant, actor=None, order=paid)
    ticketing.order_cancel(tenant=tenant, actor=None, order=at_door)
    assert types() == ["order.paid", "order.paid", "checkin.recorded", "order.refunded", "order.cancelled"]
    refunded = webhooks(event_type="order.refunded")[0].payload["data"]
    assert (refunded["reference"], refunded["status"]) == (paid.reference, "refunded")
    assert refunded["customer"]["email"] == "buyer@example.test"
    checkin = webhooks(event_type="checkin.recorded")[0]
    assert (checkin.payload["data"]["code"], checkin.payload["data"]["status"]) == (code, "used")


def test_waitlist_offer(tenant, make_endpoint, django_capture_on_commit_callbacks):
    from tests.waitlists.factories import join, sold_out_event
    from ticketing.models import Order
    from waitlists.models import WaitlistEntry

    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    entry = join(tenant=tenant, event=event)
    make_endpoint(URL, event_types=["waitlist.offered"])
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=Order.objects.get(event=event))
    (message,) = webhooks()
    assert message.event_type == "waitlist.offered"
    assert message.payload["data"]["id"] == entry.pk
    assert WaitlistEntry.objects.get(pk=entry.pk).status == message.payload["data"]["status"] == "offered"


def test_escalation(tenant, owner, make_endpoint):
    from support import services as support_services

    manager = MembershipFactory(tenant=tenant, role="manager").user
    agent = MembershipFactory(tenant=tenant, role="staff").user
    queue = make_support_queue(tenant, agents=agents(agent, primary=agent))
    make_endpoint(URL, event_types=["support.ticket.escalated"])
    ticket = file_ticket(queue)
    later = timezone.now() + timedelta(days=30)
    assert support_services.support_ticket_escalate(ticket_id=ticket.pk, now=later) is not None
    (message,) = webhooks()
    assert message.payload["data"]["escalation"] == {
        "level": 1,
        "to": manager.email,
        "by_hand": False,
        "reason": "",
    }
