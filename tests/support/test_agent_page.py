"""The agent's ticket page (issue 16): each action with its own inputs, the category once, one activity
entry per escalation, and notification subjects that name the desk and the ticket."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from support import selectors, services
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(tenant, owner, manager, staff):
    queue = support_queue(tenant, slug="it", name="IT help", agents=agents(staff), hours=[])
    ticket = file_ticket(
        queue,
        title="Projector <b>dead</b>",
        custom_data={"category": "Equipment"},
        metadata={"category": "Equipment", "building": "Main", "channel": "web"},
    )
    return queue, ticket


def _page(client, user, tenant, ticket) -> str:
    client.force_login(user)
    return client.get(reverse("support:ticket", args=[tenant.slug, ticket.reference])).content.decode()


def test_each_action_is_grouped_with_its_own_inputs(client, tenant, owner, desk):
    _queue, ticket = desk
    page = _page(client, owner, tenant, ticket)
    forms = re.findall(r"<form[^>]*support/tickets/[^>]*/transition/.*?</form>", page, flags=re.S)
    by_event = {re.search(r'name="event" value="(\w+)"', form).group(1): form for form in forms}
    assert {"start", "resolve", "forward"} <= set(by_event)
    # The reason belongs to Forward, inside Forward's own box with its legend; Resolve has no input.
    forward = by_event["forward"]
    assert "<fieldset>" in forward and "<legend>Forward</legend>" in forward
    assert 'name="note"' in forward and "Reason for “Forward”" in forward
    assert 'name="note"' not in by_event["resolve"] and "Reason" not in by_event["resolve"]
    # No reason input between two actions: the plain buttons come first, the reasoned ones after.
    assert page.index(by_event["resolve"]) < page.index(forward)


def test_the_category_is_shown_once(client, tenant, owner, desk):
    _queue, ticket = desk
    page = _page(client, owner, tenant, ticket)
    # Under the field's title (the system type's schema: "Category"), not its key.
    assert page.count("<dt>Category</dt>") == 1 and page.count("<dd>Equipment</dd>") == 1
    assert "<dt>building</dt><dd>Main</dd>" in page  # metadata the form did not ask is still shown


def test_an_escalation_is_one_activity_entry(client, tenant, owner, manager, staff, desk):
    _queue, ticket = desk
    assert services.support_escalate_due(now=timezone.now() + timedelta(days=30)) == 1
    activity = selectors.staff_activity(ticket)
    mentions = [entry for entry in activity if "Escalated to level 1" in entry.title]
    assert len(mentions) == 1 and mentions[0].kind == "escalation"
    # The notifications it sent are listed inside it (the new assignee and the previous one).
    told = OutboxMessage.objects.filter(event_type="support.escalated").values_list("recipient", flat=True)
    assert sorted(told) == sorted([manager.email, staff.email])
    assert len(mentions[0].details) == 2
    assert all(any(email in detail for detail in mentions[0].details) for email in told)
    page = _page(client, owner, tenant, ticket)
    assert page.count("Escalated to level 1") == 1
    # A second escalation (level 2) is its own entry, with its own notifications.
    assert services.support_escalate_due(now=timezone.now() + timedelta(days=60)) == 1
    activity = selectors.staff_activity(ticket)
    titles = [entry.title for entry in activity if entry.kind == "escalation"]
    assert titles == ["Escalated to level 1", "Escalated to level 2"]
    assert not [e for e in activity if e.kind == "notification" and "Escalated" in e.title]
    # A manual reassignment is still an entry of its own.
    assert [e for e in activity if e.kind == "assign"]


def test_new_ticket_notifications_name_the_desk_and_the_ticket(tenant, owner, desk):
    queue, ticket = desk
    message = OutboxMessage.objects.filter(event_type="ticket.submitted", user=owner).get()
    subject, headline = message.payload["subject"], message.payload["headline"]
    assert "main" not in subject.lower() and "main" not in headline.lower()
    assert subject == f"[{ticket.reference}] New ticket in IT help: Projector <b>dead</b>"
    assert headline == "New ticket in IT help: Projector <b>dead</b>"


def test_a_lane_is_named_only_when_the_queue_has_a_choice(tenant, owner):
    from queues.services import new_ticket_subject
    from tests.queues.factories import creator_queue, submit

    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    _subject, headline = new_ticket_subject(ticket)
    assert headline == f"New ticket in {queue.name} (Priority lane): {ticket.title or ticket.reference}"
