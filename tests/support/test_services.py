"""Help-desk services: routing, due times, the paused clock, escalation, comments and notifications."""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from core.errors import NotFound, ValidationError
from notifications.models import OutboxMessage
from queues import services as queue_services
from queues.models import Ticket, TicketEvent
from support import services
from support.models import AssignmentMode, Escalation, SupportTicket
from tenants.models import Membership, Role
from tests.factories import MembershipFactory
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def local(*args):
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def membership_of(user, tenant):
    return Membership.objects.get(user=user, tenant=tenant)


def test_due_time_counts_business_hours_of_the_priority(tenant, staff):
    queue = support_queue(
        tenant, agents=agents(staff), default_turnaround_minutes=480, turnarounds={"urgent": 120}
    )
    friday_afternoon = local(2026, 3, 27, 16, 0)  # one business hour left before a DST weekend
    urgent = file_ticket(queue, priority="urgent", now=friday_afternoon)
    normal = file_ticket(queue, now=friday_afternoon)
    urgent.refresh_from_db()
    normal.refresh_from_db()
    assert urgent.due_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST
    # 8 business hours: 1 on Friday, 7 on Monday → Monday 16:00 CEST = 14:00 UTC.
    assert normal.due_at == datetime(2026, 3, 30, 14, 0, tzinfo=UTC)
    clock = SupportTicket.objects.get(ticket=normal)
    assert clock.turnaround_minutes == 480 and clock.next_escalation_at == normal.due_at


def test_least_loaded_assignment_picks_the_agent_with_fewest_open_tickets(tenant):
    first, second, third = (MembershipFactory(tenant=tenant, role=Role.STAFF).user for _ in range(3))
    queue = support_queue(
        tenant, agents=agents(first, second, third), assignment_mode=AssignmentMode.LEAST_LOADED
    )
    assignees = [file_ticket(queue).assignee for _ in range(6)]
    assert assignees == [first, second, third, first, second, third]
    # Resolving two of second's tickets makes second the least loaded.
    for ticket in Ticket.objects.filter(assignee=second):
        queue_services.ticket_transition(tenant=tenant, actor=None, ticket=ticket, event="resolve")
    assert file_ticket(queue).assignee == second
    assert TicketEvent.objects.filter(event="assign", note__contains="least-loaded").count() == 7


def test_least_loaded_counts_load_across_queues(tenant):
    first, second = (MembershipFactory(tenant=tenant, role=Role.STAFF).user for _ in range(2))
    busy = support_queue(tenant, slug="busy", agents=agents(first), assignment_mode=AssignmentMode.PRIMARY)
    for _ in range(2):
        file_ticket(busy)
    shared = support_queue(tenant, slug="shared", agents=agents(first, second, primary=first))
    assert file_ticket(shared).assignee == second


def test_primary_rule_and_manual_rule(tenant):
    first, second = (MembershipFactory(tenant=tenant, role=Role.STAFF).user for _ in range(2))
    queue = support_queue(
        tenant, agents=agents(first, second, primary=second), assignment_mode=AssignmentMode.PRIMARY
    )
    assert {file_ticket(queue).assignee for _ in range(3)} == {second}
    manual = support_queue(tenant, slug="manual", agents=agents(first), assignment_mode=AssignmentMode.MANUAL)
    assert file_ticket(manual).assignee is None


def test_configure_rejects_two_primaries_and_non_members(tenant, outsider):
    first, second = (MembershipFactory(tenant=tenant, role=Role.STAFF).user for _ in range(2))
    queue = support_queue(tenant, configure=False)
    from support.services import AgentSpec

    with pytest.raises(ValidationError) as error:
        services.support_queue_configure(
            tenant=tenant,
            actor=None,
            queue=queue,
            agents=[AgentSpec(first.pk, is_primary=True), AgentSpec(second.pk, is_primary=True)],
        )
    assert "agents" in error.value.field_errors
    with pytest.raises(ValidationError):
        services.support_queue_configure(
            tenant=tenant, actor=None, queue=queue, agents=[AgentSpec(outsider.pk)]
        )
    with pytest.raises(ValidationError) as error:
        services.support_queue_configure(
            tenant=tenant, actor=None, queue=queue, hours=[(0, time(9), time(12)), (0, time(11), time(14))]
        )
    assert "hours" in error.value.field_errors


def test_clock_pauses_while_awaiting_the_customer(tenant, staff):
    queue = support_queue(tenant, agents=agents(staff), default_turnaround_minutes=240)
    monday_9 = local(2026, 1, 12, 9, 0)
    ticket = file_ticket(queue, now=monday_9)
    ticket.refresh_from_db()
    assert ticket.due_at == local(2026, 1, 12, 13, 0)
    member = membership_of(staff, tenant)
    services.support_ticket_transition(
        membership=member, ticket=ticket, event="start", now=local(2026, 1, 12, 10, 0)
    )
    services.support_ticket_transition(
        membership=member, ticket=ticket, event="ask_customer", now=local(2026, 1, 12, 11, 0)
    )
    ticket.refresh_from_db()
    clock = SupportTicket.objects.get(ticket=ticket)
    assert ticket.due_at is None and clock.paused_at == local(2026, 1, 12, 11, 0)
    assert clock.next_escalation_at is None
    # Long after the due time, escalation does nothing while the customer is being waited on.
    assert services.support_escalate_due(now=local(2026, 1, 14, 12, 0)) == 0
    # The customer answers on Wednesday 12:00: paused business time = Mon 11–17 (6 h) + Tue (8 h) +
    # Wed 9–12 (3 h) = 17 h; the 2 h that were left run from the due time onwards.
    services.support_customer_reply(
        ticket=ticket, body="Here is the screenshot.", now=local(2026, 1, 14, 12, 0)
    )
    ticket.refresh_from_db()
    clock.refresh_from_db()
    assert ticket.state == "in_progress"
    assert clock.paused_business_seconds == 17 * 3600
    assert clock.paused_seconds == int(
        (local(2026, 1, 14, 12, 0) - local(2026, 1, 12, 11, 0)).total_seconds()
    )
    assert ticket.due_at == local(2026, 1, 14, 14, 0)
    assert clock.paused_at is None and clock.next_escalation_at == ticket.due_at
    assert services.support_escalate_due(now=local(2026, 1, 14, 13, 59)) == 0
    assert services.support_escalate_due(now=local(2026, 1, 14, 14, 1)) == 1


def test_escalation_chain_levels_once_per_breach(tenant, owner, manager, staff):
    queue = support_queue(
        tenant, agents=agents(staff), default_turnaround_minutes=60, second_escalation_minutes=120
    )
    ticket = file_ticket(queue, now=local(2026, 1, 12, 9, 0))
    ticket.refresh_from_db()
    assert ticket.assignee == staff and ticket.due_at == local(2026, 1, 12, 10, 0)
    assert services.support_escalate_due(now=local(2026, 1, 12, 9, 59)) == 0
    assert services.support_escalate_due(now=local(2026, 1, 12, 10, 5)) == 1
    assert services.support_escalate_due(now=local(2026, 1, 12, 10, 6)) == 0  # same breach: never twice
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.assignee == manager
    assert ticket.last_escalated_at == local(2026, 1, 12, 10, 5)
    assert OutboxMessage.objects.filter(event_type="support.escalated", user=manager).count() == 1
    assert OutboxMessage.objects.filter(event_type="support.escalated", user=staff).count() == 1
    # Level 2 after two more business hours past the due time → the owner.
    assert services.support_escalate_due(now=local(2026, 1, 12, 11, 59)) == 0
    assert services.support_escalate_due(now=local(2026, 1, 12, 12, 1)) == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2 and ticket.assignee == owner
    assert services.support_escalate_due(now=local(2026, 1, 20, 12, 0)) == 0  # the chain ends at the owner
    assert list(Escalation.objects.filter(ticket=ticket).values_list("level", flat=True)) == [1, 2]
    assert SupportTicket.objects.get(ticket=ticket).next_escalation_at is None


def test_resolved_tickets_do_not_escalate_and_reopen_starts_a_new_cycle(tenant, owner, manager, staff):
    queue = support_queue(tenant, agents=agents(staff), default_turnaround_minutes=60)
    ticket = file_ticket(queue, now=local(2026, 1, 12, 9, 0))
    assert services.support_escalate_due(now=local(2026, 1, 12, 10, 30)) == 1
    ticket.refresh_from_db()
    queue_services.ticket_transition(
        tenant=tenant, actor=owner, ticket=ticket, event="resolve", now=local(2026, 1, 12, 11, 0)
    )
    assert services.support_escalate_due(now=local(2026, 1, 13, 11, 0)) == 0
    ticket.refresh_from_db()
    queue_services.ticket_transition(
        tenant=tenant, actor=owner, ticket=ticket, event="reopen", now=local(2026, 1, 13, 9, 0)
    )
    ticket.refresh_from_db()
    clock = SupportTicket.objects.get(ticket=ticket)
    assert ticket.escalation_level == 0 and clock.cycle == 2
    assert ticket.due_at == local(2026, 1, 13, 10, 0)
    assert services.support_escalate_due(now=local(2026, 1, 13, 10, 30)) == 1
    assert Escalation.objects.filter(ticket=ticket).count() == 2


def test_internal_comments_never_reach_the_customer(tenant, staff):
    queue = support_queue(tenant, agents=agents(staff))
    ticket = file_ticket(queue)
    member = membership_of(staff, tenant)
    before = OutboxMessage.objects.filter(customer=ticket.customer).count()
    services.support_comment_add(
        membership=member, ticket=ticket, body="SECRET: check the AD logs", is_internal=True
    )
    assert OutboxMessage.objects.filter(customer=ticket.customer).count() == before
    services.support_comment_add(membership=member, ticket=ticket, body="We are on it.", is_internal=False)
    to_customer = OutboxMessage.objects.filter(customer=ticket.customer, event_type="support.updated")
    assert to_customer.count() == before + 1
    assert all(
        "SECRET" not in str(message.payload)
        for message in OutboxMessage.objects.filter(customer=ticket.customer)
    )
    from support.selectors import customer_activity

    bodies = [entry.body for entry in customer_activity(ticket)]
    assert "We are on it." in bodies and not any("SECRET" in body for body in bodies)


def test_customer_reply_notifies_the_assignee(tenant, staff):
    queue = support_queue(tenant, agents=agents(staff))
    ticket = file_ticket(queue)
    services.support_customer_reply(ticket=ticket, body="Any news?")
    assert OutboxMessage.objects.filter(
        user=staff, event_type="support.updated", payload__body="Any news?"
    ).exists()


def test_queue_scoped_staff_cannot_touch_other_queues(tenant):
    alice, bob = (MembershipFactory(tenant=tenant, role=Role.STAFF) for _ in range(2))
    it = support_queue(tenant, slug="it", agents=agents(alice.user))
    facilities = support_queue(tenant, slug="facilities", name="Facilities", agents=agents(bob.user))
    it_ticket, facilities_ticket = file_ticket(it), file_ticket(facilities)
    with pytest.raises(NotFound):
        services.support_comment_add(membership=alice, ticket=facilities_ticket, body="hi", is_internal=True)
    with pytest.raises(NotFound):
        services.support_ticket_transition(membership=alice, ticket=facilities_ticket, event="start")
    # And nobody can be assigned a ticket of a queue they cannot see.
    manager = MembershipFactory(tenant=tenant, role=Role.MANAGER)
    with pytest.raises(ValidationError):
        services.support_ticket_assign(membership=manager, ticket=it_ticket, assignee=bob.user)
    services.support_ticket_assign(membership=manager, ticket=it_ticket, assignee=manager.user)


def test_submission_needs_a_support_queue(tenant):
    from tests.queues.factories import service_queue

    queue = service_queue(tenant)
    with pytest.raises(NotFound):
        services.support_ticket_submit(
            tenant=tenant, queue=queue, name="A", email="a@example.test", title="x", description="y"
        )


def test_manual_assignment_tells_the_new_assignee_once(tenant, owner, staff):
    queue = support_queue(tenant, agents=agents(staff), assignment_mode=AssignmentMode.MANUAL)
    ticket = file_ticket(queue)
    owner_membership = membership_of(owner, tenant)
    services.support_ticket_assign(membership=owner_membership, ticket=ticket, assignee=staff)
    told = OutboxMessage.objects.filter(user=staff, event_type="support.updated", related_id=str(ticket.pk))
    assert told.count() == 1 and "assigned you" in told.get().payload["headline"]
    services.support_ticket_assign(membership=owner_membership, ticket=ticket, assignee=owner)
    assert not OutboxMessage.objects.filter(user=owner, event_type="support.updated").exists()


def test_simulate_overdue_command_escalates(tenant, owner, manager, staff):
    from io import StringIO

    from django.core.management import call_command

    queue = support_queue(tenant, agents=agents(staff), hours=[])
    ticket = file_ticket(queue)
    out = StringIO()
    call_command("support_simulate_overdue", ticket.reference, "--hours", "48", stdout=out)
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.assignee == manager
    assert "escalation level 1" in out.getvalue()


def test_simulate_overdue_by_minutes_makes_one_breach_only(tenant, staff, manager):
    from io import StringIO

    from django.core.management import call_command

    queue = support_queue(
        tenant, agents=agents(staff), default_turnaround_minutes=60, second_escalation_minutes=120
    )
    ticket = file_ticket(queue)
    call_command("support_simulate_overdue", ticket.reference, "--overdue-by", "5", stdout=StringIO())
    ticket.refresh_from_db()
    overdue = timezone.now() - ticket.due_at
    assert timedelta(minutes=4) < overdue < timedelta(minutes=6)
    assert ticket.escalation_level == 1 and ticket.assignee == manager
    # The manager's own deadline is still ahead: the beat running right after does not escalate again.
    assert services.support_escalate_due() == 0
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.assignee == manager
