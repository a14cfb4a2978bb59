"""Help-desk pages: tenant isolation on every URL, queue scope, the customer's view (never internal
comments, on the page or in emails), forms, bulk actions, SLA badges in the desk's zone, the GIN index."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notifications.dispatch import dispatch_messages
from notifications.models import OutboxMessage
from queues.models import Ticket, TicketComment
from support import selectors, services
from support.models import SupportAgent
from tenants.models import Membership, Role
from tests.factories import MembershipFactory
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = pytest.mark.django_db
SECRET = "INTERNAL-ONLY-7731: AD account locked by brute force from 10.0.0.8"


@pytest.fixture
def desk(tenant, owner, staff):
    it = support_queue(tenant, slug="it", name="IT", agents=agents(staff), hours=[])
    facilities = support_queue(tenant, slug="facilities", name="Facilities", hours=[])
    ticket = file_ticket(it, metadata={"building": "Main", "room": "204"})
    other = file_ticket(facilities)
    comment = services.support_comment_add(
        membership=Membership.objects.get(user=staff, tenant=tenant),
        ticket=ticket,
        body="hi",
        is_internal=True,
    )
    return {"it": it, "facilities": facilities, "ticket": ticket, "other": other, "comment": comment}


def dashboard_urls(tenant, desk):
    slug, ref = tenant.slug, desk["ticket"].reference
    return [
        ("get", reverse("support:inbox", args=[slug])),
        ("post", reverse("support:bulk", args=[slug])),
        ("get", reverse("support:settings_list", args=[slug])),
        ("get", reverse("support:settings_edit", args=[slug, "it"])),
        ("post", reverse("support:settings_edit", args=[slug, "it"])),
        ("get", reverse("support:ticket", args=[slug, ref])),
        ("post", reverse("support:comment", args=[slug, ref])),
        ("post", reverse("support:comment_edit", args=[slug, ref, desk["comment"].pk])),
        ("post", reverse("support:transition", args=[slug, ref])),
        ("post", reverse("support:assign", args=[slug, ref])),
        ("post", reverse("support:escalate", args=[slug, ref])),
        ("get", reverse("support:attachment", args=[slug, ref, 1])),
    ]


def test_another_tenants_member_gets_404_on_every_dashboard_url(outsider_client, tenant, desk):
    for method, url in dashboard_urls(tenant, desk):
        response = getattr(outsider_client, method)(url, {"tickets": [desk["ticket"].reference], "body": "x"})
        assert response.status_code == 404, (method, url, response.status_code)


def test_another_tenants_ticket_is_404_even_with_own_tenant_slug(outsider_client, outsider, tenant, desk):
    other_tenant = Membership.objects.get(user=outsider).tenant
    url = reverse("support:ticket", args=[other_tenant.slug, desk["ticket"].reference])
    assert outsider_client.get(url).status_code == 404
    post = reverse("support:comment", args=[other_tenant.slug, desk["ticket"].reference])
    assert outsider_client.post(post, {"body": "x", "visibility": "public"}).status_code == 404
    assert not TicketComment.objects.filter(body="x").exists()


def test_anonymous_visitors_are_sent_to_login(client, tenant, desk):
    for method, url in dashboard_urls(tenant, desk):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_queue_scoped_staff_see_only_their_queues(client, tenant, staff, desk):
    client.force_login(staff)
    inbox = client.get(reverse("support:inbox", args=[tenant.slug]) + "?view=all")
    assert desk["ticket"].reference in inbox.content.decode()
    assert desk["other"].reference not in inbox.content.decode()
    assert (
        client.get(reverse("support:ticket", args=[tenant.slug, desk["other"].reference])).status_code == 404
    )
    assert (
        client.get(reverse("support:ticket", args=[tenant.slug, desk["ticket"].reference])).status_code == 200
    )
    response = client.post(
        reverse("support:bulk", args=[tenant.slug]),
        {"tickets": [desk["other"].reference], "action": "event:start"},
        follow=True,
    )
    assert "There is no such ticket" in response.content.decode()
    desk["other"].refresh_from_db()
    assert desk["other"].state == "open"
    # Settings are for managers and owners.
    assert client.get(reverse("support:settings_list", args=[tenant.slug])).status_code == 403


def test_a_manager_sees_every_support_queue(client, tenant, manager, desk):
    client.force_login(manager)
    inbox = client.get(reverse("support:inbox", args=[tenant.slug]) + "?view=all").content.decode()
    assert desk["ticket"].reference in inbox and desk["other"].reference in inbox


def test_customer_sees_public_replies_never_internal_notes_on_pages_and_in_emails(
    client, tenant, staff, desk
):
    ticket = desk["ticket"]
    staff_client = client
    staff_client.force_login(staff)
    url = reverse("support:comment", args=[tenant.slug, ticket.reference])
    staff_client.post(url, {"body": "We reset your password; try again.", "visibility": "public"})
    staff_client.post(url, {"body": SECRET, "visibility": "internal"})
    staff_page = staff_client.get(
        reverse("support:ticket", args=[tenant.slug, ticket.reference])
    ).content.decode()
    assert SECRET in staff_page and "We reset your password" in staff_page
    staff_client.logout()

    customer_page = client.get(reverse("support:customer_ticket", args=[ticket.reference])).content.decode()
    assert "We reset your password; try again." in customer_page
    assert "INTERNAL-ONLY" not in customer_page and "hi</p>" not in customer_page
    queue_status = client.get(reverse("queues:status", args=[ticket.reference])).content.decode()
    assert "INTERNAL-ONLY" not in queue_status

    mail.outbox.clear()
    dispatch_messages(message_ids=list(OutboxMessage.objects.values_list("id", flat=True)))
    to_customer = [message for message in mail.outbox if ticket.customer.email in message.to]
    assert any("We reset your password" in message.body for message in to_customer)
    for message in to_customer:
        assert "INTERNAL-ONLY" not in message.body
        assert all(
            "INTERNAL-ONLY" not in str(content) for content, _type in getattr(message, "alternatives", [])
        )


def test_customer_files_a_ticket_through_the_public_form(client, tenant, staff, desk):
    url = reverse("support_public:submit", args=[tenant.slug, "it"])
    page = client.get(url)
    assert page.status_code == 200
    token = re.search(r'name="submission_token" value="([^"]+)"', page.content.decode()).group(1)
    data = {
        "submission_token": token,
        "name": "Lea",
        "email": "lea@example.test",
        "title": "Wi-Fi drops",
        "description": "Every ten minutes.",
        "priority": "high",
        "location": "Library",
        "custom__category": "Account",
        "email_consent": "on",
        "attachments": [SimpleUploadedFile("log.txt", b"wifi log", content_type="text/plain")],
    }
    response = client.post(url, data)
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Wi-Fi drops")
    assert response["Location"] == reverse("support:customer_ticket", args=[ticket.reference])
    assert ticket.priority == "high" and ticket.assignee == staff and ticket.due_at is not None
    assert ticket.metadata == {"category": "Account", "channel": "web"}
    data["attachments"] = [SimpleUploadedFile("log.txt", b"wifi log", content_type="text/plain")]
    assert client.post(url, data).status_code == 302  # a double submit is the same ticket
    assert Ticket.objects.filter(title="Wi-Fi drops").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Wi-Fi drops" in page and "log.txt" in page


def test_public_form_shows_errors_and_keeps_input(client, tenant, desk):
    url = reverse("support_public:submit", args=[tenant.slug, "it"])
    response = client.post(
        url, {"submission_token": "t" * 20, "name": "Lea", "email": "not-an-email", "title": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "field-error" in body and 'value="Lea"' in body
    assert not Ticket.objects.filter(customer__name="Lea").exists()


def test_public_form_only_for_support_queues(client, tenant):
    from tests.queues.factories import service_queue

    service_queue(tenant, slug="counter")
    assert client.get(reverse("support_public:submit", args=[tenant.slug, "counter"])).status_code == 404


def test_customer_reply_resumes_a_ticket_waiting_on_them(client, tenant, staff, desk):
    ticket = desk["ticket"]
    membership = Membership.objects.get(user=staff, tenant=tenant)
    services.support_ticket_transition(membership=membership, ticket=ticket, event="start")
    services.support_ticket_transition(membership=membership, ticket=ticket, event="ask_customer")
    url = reverse("support:customer_ticket", args=[ticket.reference])
    assert "Paused" not in client.get(url).content.decode()  # customers see no SLA internals
    response = client.post(url, {"body": "It happens on the lab PCs only."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == "in_progress" and ticket.due_at is not None
    assert TicketComment.objects.filter(ticket=ticket, author_customer=ticket.customer).count() == 1
    assert client.post(url, {"body": ""}).status_code == 400


def test_closed_tickets_take_no_customer_replies(client, tenant, owner, desk):
    ticket = desk["ticket"]
    membership = Membership.objects.get(user=owner, tenant=tenant)
    services.support_ticket_transition(membership=membership, ticket=ticket, event="resolve")
    url = reverse("support:customer_ticket", args=[ticket.reference])
    assert "open a new ticket" in client.get(url).content.decode()
    assert client.post(url, {"body": "Still broken"}).status_code == 400


def test_customer_page_unknown_reference_is_404(client, desk):
    assert client.get(reverse("support:customer_ticket", args=["AAA-AAA-AAA-AAA"])).status_code == 404


def test_customer_cannot_download_files_of_internal_comments(client, tenant, staff, desk):
    membership = Membership.objects.get(user=staff, tenant=tenant)
    note = services.support_comment_add(
        membership=membership,
        ticket=desk["ticket"],
        body="log attached",
        is_internal=True,
        attachments=[SimpleUploadedFile("secret.txt", b"secret", content_type="text/plain")],
    )
    file = note.attachments.get()
    url = reverse("support:customer_attachment", args=[desk["ticket"].reference, file.pk])
    assert client.get(url).status_code == 404
    client.force_login(staff)
    assert (
        client.get(
            reverse("support:attachment", args=[tenant.slug, desk["ticket"].reference, file.pk])
        ).status_code
        == 200
    )


def test_staff_transition_assign_comment_edit_and_bulk(client, tenant, owner, staff, desk):
    client.force_login(owner)
    slug, ticket = tenant.slug, desk["ticket"]
    client.post(
        reverse("support:transition", args=[slug, ticket.reference]), {"event": "start", "state": "open"}
    )
    ticket.refresh_from_db()
    assert ticket.state == "in_progress"
    # A stale form (state changed meanwhile) changes nothing.
    response = client.post(
        reverse("support:transition", args=[slug, ticket.reference]),
        {"event": "resolve", "state": "open"},
        follow=True,
    )
    assert "changed this ticket meanwhile" in response.content.decode()
    client.post(reverse("support:assign", args=[slug, ticket.reference]), {"assignee": owner.pk})
    ticket.refresh_from_db()
    assert ticket.assignee == owner
    comment = services.support_comment_add(
        membership=Membership.objects.get(user=owner, tenant=tenant),
        ticket=ticket,
        body="first",
        is_internal=False,
    )
    client.post(
        reverse("support:comment_edit", args=[slug, ticket.reference, comment.pk]), {"body": "second"}
    )
    comment.refresh_from_db()
    assert comment.body == "second" and comment.edit_history[0]["body"] == "first"
    response = client.post(
        reverse("support:bulk", args=[slug]),
        {"tickets": [ticket.reference, desk["other"].reference], "action": f"assign:{staff.pk}"},
        follow=True,
    )
    ticket.refresh_from_db()
    desk["other"].refresh_from_db()
    assert ticket.assignee == staff
    assert desk["other"].assignee != staff  # staff is no agent of Facilities: refused for that ticket
    assert "Assign to an agent of this queue" in response.content.decode()
    client.post(
        reverse("support:bulk", args=[slug]), {"tickets": [ticket.reference], "action": "event:resolve"}
    )
    ticket.refresh_from_db()
    assert ticket.state == "resolved"


def test_activity_log_merges_everything(client, tenant, owner, manager, staff, desk):
    ticket = desk["ticket"]
    membership = Membership.objects.get(user=staff, tenant=tenant)
    services.support_comment_add(membership=membership, ticket=ticket, body="public words", is_internal=False)
    services.support_ticket_transition(membership=membership, ticket=ticket, event="start")
    services.support_escalate_due(now=timezone.now() + timedelta(days=30))
    kinds = [entry.kind for entry in selectors.staff_activity(ticket)]
    assert kinds[0] == "submit"
    assert {"assign", "comment", "transition", "escalation", "notification"} <= set(kinds)
    client.force_login(owner)
    page = client.get(reverse("support:ticket", args=[tenant.slug, ticket.reference])).content.decode()
    assert "Escalated to level 1" in page and "Notification by Email" in page and "Internal note" in page


def test_settings_form_saves_rules(client, tenant, owner, staff, manager, desk):
    client.force_login(owner)
    url = reverse("support:settings_edit", args=[tenant.slug, "facilities"])
    assert client.get(url).status_code == 200
    data = {
        "assignment_mode": "primary",
        "default_turnaround_minutes": "300",
        "turnaround_urgent": "60",
        "second_escalation_minutes": "120",
        "due_soon_minutes": "90",
        "hours": "Mon-Fri 08:00-16:00\nSat 10:00-13:00",
        "holidays": "2026-12-25 Christmas",
        "escalation_manager": str(manager.pk),
        "escalation_owner": "",
        f"agent_{staff.pk}": "1",
        f"receives_{staff.pk}": "1",
        f"priority_{staff.pk}": "3",
        "primary": str(staff.pk),
    }
    assert client.post(url, data).status_code == 302
    settings = services.support_queue_for(desk["facilities"])
    assert settings.default_turnaround_minutes == 300 and settings.turnaround_for("urgent") == 60
    assert settings.hours.count() == 6 and settings.holidays.get().name == "Christmas"
    assert SupportAgent.objects.get(support_queue=settings).is_primary
    data["hours"] = "Someday 9-5"
    response = client.post(url, data)
    assert response.status_code == 400 and "Mon-Fri 09:00-17:00" in response.content.decode()


def test_sla_badge_due_time_in_the_desks_zone(client, tenant, staff, desk):
    ticket = desk["ticket"]
    due = datetime(2026, 3, 8, 15, 30, tzinfo=UTC)  # New York switches to EDT at 07:00 UTC that day
    Ticket.objects.filter(pk=ticket.pk).update(due_at=due)
    ticket.refresh_from_db()
    new_york = zoneinfo.ZoneInfo("America/New_York")
    badge = selectors.sla_badge(ticket, now=datetime(2026, 3, 8, 6, 0, tzinfo=UTC), viewer_zone=new_york)
    assert badge.due_local.hour == 11 and badge.due_local.minute == 30  # 11:30 EDT, not 10:30
    assert badge.tone == "ok" and badge.label == "Due in 9 h 30 min"
    late = selectors.sla_badge(ticket, now=due + timedelta(minutes=5), viewer_zone=new_york)
    assert late.tone == "overdue" and late.label == "Overdue by 5 min"
    soon = selectors.sla_badge(ticket, now=due - timedelta(minutes=30), viewer_zone=new_york)
    assert soon.tone == "soon"
    # The pages show the desk's own zone (the IT desk is in Berlin), with its abbreviation, whatever
    # the viewer's own zone: one ticket's times read the same for every agent and the customer.
    staff.time_zone = "America/New_York"
    staff.save(update_fields=["time_zone"])
    client.force_login(staff)
    page = client.get(reverse("support:inbox", args=[tenant.slug]) + "?view=all").content.decode()
    assert "Sun 8 Mar 2026, 16:30 CET" in page and "11:30" not in page


def test_inbox_views(client, tenant, owner, staff, desk):
    now = timezone.now()
    membership = Membership.objects.get(user=owner, tenant=tenant)
    ticket, other = desk["ticket"], desk["other"]
    Ticket.objects.filter(pk=ticket.pk).update(due_at=now - timedelta(minutes=1))
    Ticket.objects.filter(pk=other.pk).update(due_at=now + timedelta(minutes=30), assignee=None)

    def refs(view, **kwargs):
        return {t.reference for t in selectors.inbox_tickets(membership, view=view, now=now, **kwargs)}

    assert refs("overdue") == {ticket.reference}
    assert refs("due_soon") == {other.reference}
    assert refs("unassigned") == {other.reference}
    assert refs("all", metadata_key="building") == {ticket.reference}
    assert refs("all", metadata_key="building", metadata_value="Main") == {ticket.reference}
    assert refs("all", metadata_key="building", metadata_value="North") == set()
    counts = selectors.inbox_counts(membership, now=now)
    assert counts["overdue"] == 1 and counts["due_soon"] == 1 and counts["unassigned"] == 1
    assert counts["all"] == 2 and counts["escalated"] == 0 and counts["waiting"] == 0
    staff_membership = Membership.objects.get(user=staff, tenant=tenant)
    assert {t.reference for t in selectors.inbox_tickets(staff_membership, view="mine", now=now)} == {
        ticket.reference
    }
    client.force_login(owner)
    page = client.get(reverse("support:inbox", args=[tenant.slug]) + "?view=all&meta_key=room&meta_value=204")
    assert ticket.reference in page.content.decode() and other.reference not in page.content.decode()


def test_metadata_filter_uses_the_gin_index(tenant, owner, desk):
    """The inbox filters with JSONB containment (``@>``) or key existence (``?``), operators the
    ``ticket_metadata_gin`` index serves; with sequential scans off the planner uses that index (on a
    small test table it would otherwise rightly prefer a scan)."""
    membership = Membership.objects.get(user=owner, tenant=tenant)
    for key, value, operator in [("building", "", " ? "), ("building", "Main", " @> ")]:
        inbox_sql = str(
            selectors.inbox_tickets(
                membership, view="all", now=timezone.now(), metadata_key=key, metadata_value=value
            ).query
        )
        assert f'"metadata"{operator}' in inbox_sql
        lookup = {"metadata__has_key": key} if not value else {"metadata__contains": {key: value}}
        sql, params = Ticket.objects.filter(**lookup).values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "ticket_metadata_gin" in plan, plan


def test_inbox_query_count_is_constant(client, tenant, owner, staff, desk, django_assert_max_num_queries):
    for _ in range(30):
        file_ticket(desk["it"])
    client.force_login(owner)
    url = reverse("support:inbox", args=[tenant.slug]) + "?view=all"
    with django_assert_max_num_queries(15):  # 15th: the subcategory filter's choices (one query)
        response = client.get(url)
    assert response.status_code == 200 and response.content.decode().count("q-ref") >= 30


def test_dashboard_and_public_sections(client, tenant, owner, staff, desk):
    client.force_login(staff)
    home = client.get(reverse("dashboard:tenant", args=[tenant.slug])).content.decode()
    assert "Help desk" in home
    client.logout()
    public = client.get(reverse("tenant_home", args=[tenant.slug])).content.decode()
    assert reverse("support_public:submit", args=[tenant.slug, "it"]) in public


def test_non_agent_staff_see_no_support_queue(client, tenant, desk):
    loner = MembershipFactory(tenant=tenant, role=Role.STAFF).user
    client.force_login(loner)
    page = client.get(reverse("support:inbox", args=[tenant.slug]) + "?view=all").content.decode()
    assert desk["ticket"].reference not in page and desk["other"].reference not in page


def test_pages_of_a_queue_without_saved_settings_write_nothing(client, tenant, owner):
    from queues import services as queue_services
    from queues.models import QueueKind
    from support.models import SupportQueue

    queue_services.queue_create(
        tenant=tenant, actor=None, slug="new", name="New desk", kind=QueueKind.SUPPORT
    )
    client.force_login(owner)
    assert client.get(reverse("support:settings_list", args=[tenant.slug])).status_code == 200
    assert client.get(reverse("support:settings_edit", args=[tenant.slug, "new"])).status_code == 200
    assert client.get(reverse("support_public:submit", args=[tenant.slug, "new"])).status_code == 200
    assert not SupportQueue.objects.filter(queue__slug="new").exists()


def test_follow_a_ticket_by_reference(client, tenant, desk, other_tenant):
    url = reverse("support_public:help_home", args=[tenant.slug])
    reference = desk["ticket"].reference
    response = client.get(url, {"reference": reference.lower().replace("-", "")})
    assert response.status_code == 302
    assert response["Location"] == reverse("support:customer_ticket", args=[reference])
    assert client.get(url, {"reference": "AAA-AAA-AAA-AAA"}).status_code == 404
    # Another tenant's help page does not find this tenant's tickets.
    other = reverse("support_public:help_home", args=[other_tenant.slug])
    assert client.get(other, {"reference": reference}).status_code == 404


def test_admin_pages_for_every_model(client, tenant, desk):
    from tenants.models import User

    operator = User.objects.create_superuser(email="op@example.test", password="pw-for-tests")
    client.force_login(operator)
    services.support_escalate_due(now=timezone.now() + timedelta(days=30))
    for model in [
        "supportqueue",
        "turnaround",
        "businesshours",
        "holiday",
        "supportagent",
        "supportticket",
        "escalation",
    ]:
        assert client.get(reverse(f"admin:support_{model}_changelist")).status_code == 200, model
    settings = services.support_queue_for(desk["it"])
    assert client.get(reverse("admin:support_supportqueue_change", args=[settings.pk])).status_code == 200
    clock = desk["ticket"].support_clock
    assert client.get(reverse("admin:support_supportticket_change", args=[clock.pk])).status_code == 200


def test_the_queue_board_path_keeps_the_support_clock(client, tenant, owner, desk):
    """A transition made on the queues dashboard (not the help desk) still pauses and resumes the clock."""
    ticket = desk["ticket"]
    client.force_login(owner)
    url = reverse("queues:ticket_transition", args=[tenant.slug, ticket.reference])
    client.post(url, {"event": "start", "state": "open"})
    client.post(url, {"event": "ask_customer", "state": "in_progress"})
    ticket.refresh_from_db()
    assert ticket.state == "awaiting_customer" and ticket.due_at is None
    assert ticket.support_clock.paused_at is not None
    client.post(url, {"event": "customer_replied", "state": "awaiting_customer"})
    ticket.refresh_from_db()
    assert ticket.due_at is not None and ticket.support_clock.paused_at is None


def test_the_queue_status_page_of_a_support_ticket_opens_the_conversation(client, desk):
    reference = desk["ticket"].reference
    response = client.get(reverse("queues:status", args=[reference]))
    assert response.status_code == 302
    assert response["Location"] == reverse("support:customer_ticket", args=[reference])


def test_support_customers_get_help_desk_messages_not_queue_turn_emails(client, tenant, owner, desk):
    ticket = desk["ticket"]
    client.force_login(owner)
    url = reverse("queues:ticket_transition", args=[tenant.slug, ticket.reference])
    client.post(url, {"event": "start", "state": "open"})
    ticket.refresh_from_db()
    assert ticket.state == "in_progress"
    sent = set(OutboxMessage.objects.filter(customer=ticket.customer).values_list("event_type", flat=True))
    assert not sent & {"ticket.called", "ticket.completed", "ticket.approved"}


def test_the_queues_dashboard_keeps_the_help_desk_scope(client, tenant, staff, manager, desk):
    """Staff who are not agents of a support queue can't reach it through the queues pages either."""
    slug, other = tenant.slug, desk["other"]
    hidden = [
        reverse("queues:queue_board", args=[slug, "facilities"]),
        reverse("queues:ticket_list", args=[slug, "facilities"]),
        reverse("queues:ticket_detail", args=[slug, other.reference]),
    ]
    client.force_login(staff)
    for url in hidden:
        assert client.get(url).status_code == 404, url
    moved = client.post(reverse("queues:ticket_transition", args=[slug, other.reference]), {"event": "start"})
    assert moved.status_code == 404
    other.refresh_from_db()
    assert other.state == "open"
    listing = client.get(reverse("queues:queue_list", args=[slug])).content.decode()
    assert reverse("queues:queue_board", args=[slug, "it"]) in listing
    assert reverse("queues:queue_board", args=[slug, "facilities"]) not in listing
    assert client.get(reverse("queues:queue_board", args=[slug, "it"])).status_code == 200
    client.force_login(manager)
    for url in hidden:
        assert client.get(url).status_code == 200, url
