import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from queues import services
from queues.models import Lane, Queue, Ticket, TicketType
from queues.workflow import SERVICE
from tests import factories
from tests.queues.factories import creator_queue, lane, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(tenant, owner):
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    ticket_type = services.ticket_type_save(
        tenant=tenant, actor=owner, code="own", name="Own", workflow=SERVICE
    )
    attachment_ticket = submit(queue, "personal")
    from django.core.files.base import ContentFile

    from queues.models import TicketAttachment

    attachment = TicketAttachment.objects.create(
        tenant=tenant,
        ticket=attachment_ticket,
        file=ContentFile(b"hello", name="a.txt"),
        original_name="a.txt",
        content_type="text/plain",
        size_bytes=5,
    )
    return {
        "queue": queue,
        "ticket": ticket,
        "type": ticket_type,
        "attachment": attachment,
        "lane": lane(queue, "personal"),
    }


def dashboard_urls(tenant, setup):
    slug, queue, ref = tenant.slug, setup["queue"].slug, setup["ticket"].reference
    get = [
        reverse("queues:queue_list", args=[slug]),
        reverse("queues:queue_create", args=[slug]),
        reverse("queues:type_list", args=[slug]),
        reverse("queues:type_create", args=[slug]),
        reverse("queues:type_edit", args=[slug, setup["type"].pk]),
        reverse("queues:ticket_detail", args=[slug, ref]),
        reverse("queues:attachment", args=[slug, setup["attachment"].pk]),
        reverse("queues:queue_board", args=[slug, queue]),
        reverse("queues:ticket_list", args=[slug, queue]),
        reverse("queues:queue_settings", args=[slug, queue]),
        reverse("queues:queue_served", args=[slug, queue]),
        reverse("queues:queue_served_csv", args=[slug, queue]),
    ]
    post = [
        (reverse("queues:ticket_transition", args=[slug, ref]), {"event": "approve"}),
        (reverse("queues:ticket_assign", args=[slug, ref]), {"assignee": ""}),
        (reverse("queues:ticket_lane", args=[slug, ref]), {"lane": setup["lane"].pk}),
        (reverse("queues:ticket_comment", args=[slug, ref]), {"body": "hi"}),
        (reverse("queues:call_next", args=[slug, queue]), {}),
        (
            reverse("queues:lane_settings", args=[slug, queue, setup["lane"].pk]),
            {f"lane-{setup['lane'].pk}-name": "Personal", f"lane-{setup['lane'].pk}-weight": "1"},
        ),
    ]
    return get, post


def test_every_dashboard_url_is_404_for_another_tenants_member(outsider_client, tenant, setup):
    get, post = dashboard_urls(tenant, setup)
    for url in get:
        assert outsider_client.get(url).status_code == 404, url
    for url, data in post:
        assert outsider_client.post(url, data).status_code == 404, url
    ticket = Ticket.objects.get(pk=setup["ticket"].pk)
    assert ticket.state == "pending" and ticket.lane.code == "priority"


def test_every_dashboard_url_works_for_the_owner(owner_client, tenant, setup):
    get, post = dashboard_urls(tenant, setup)
    for url in get:
        assert owner_client.get(url).status_code == 200, url
    for url, data in post:
        assert owner_client.post(url, data).status_code == 302, url


def test_anonymous_is_sent_to_login(client, tenant, setup):
    response = client.get(reverse("queues:queue_board", args=[tenant.slug, setup["queue"].slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_state_changes_are_post_only(owner_client, tenant, setup):
    url = reverse("queues:ticket_transition", args=[tenant.slug, setup["ticket"].reference])
    assert owner_client.get(url).status_code == 405
    assert (
        owner_client.get(reverse("queues:call_next", args=[tenant.slug, setup["queue"].slug])).status_code
        == 405
    )


def test_staff_cannot_change_settings(client, tenant, staff, setup):
    client.force_login(staff)
    assert (
        client.get(reverse("queues:queue_settings", args=[tenant.slug, setup["queue"].slug])).status_code
        == 403
    )
    assert (
        client.get(reverse("queues:queue_board", args=[tenant.slug, setup["queue"].slug])).status_code == 200
    )


def test_approve_and_reject_from_the_board(owner_client, tenant, owner):
    queue = creator_queue(tenant)
    keep, drop = submit(queue, "priority"), submit(queue, "personal")
    board = reverse("queues:queue_board", args=[tenant.slug, queue.slug])
    page = owner_client.get(board).content.decode()
    assert keep.reference in page and drop.reference in page and "To review (2)" in page
    transition = lambda t: reverse("queues:ticket_transition", args=[tenant.slug, t.reference])  # noqa: E731
    owner_client.post(transition(keep), {"event": "approve", "state": "pending", "next": board})
    response = owner_client.post(
        transition(drop), {"event": "reject", "state": "pending", "note": "", "next": board}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=drop.pk).state == "pending"  # a reason is required
    owner_client.post(
        transition(drop), {"event": "reject", "state": "pending", "note": "Off topic", "next": board}
    )
    assert Ticket.objects.get(pk=keep.pk).state == "approved"
    assert Ticket.objects.get(pk=drop.pk).state == "rejected"
    page = owner_client.get(board).content.decode()
    assert "Main line (1 waiting)" in page


def test_stale_button_reports_conflict_and_changes_nothing(owner_client, tenant, owner):
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    services.ticket_reject(tenant=tenant, actor=owner, ticket=ticket, reason="no")
    url = reverse("queues:ticket_transition", args=[tenant.slug, ticket.reference])
    response = owner_client.post(url, {"event": "approve", "state": "pending"}, follow=True)
    assert "changed meanwhile" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == "rejected"


def test_call_next_assign_and_lane_change(owner_client, tenant, owner):
    queue = creator_queue(tenant)
    first = submit(queue, "personal")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=first)
    owner_client.post(
        reverse("queues:ticket_lane", args=[tenant.slug, first.reference]),
        {"lane": lane(queue, "priority").pk},
    )
    assert Ticket.objects.get(pk=first.pk).lane.code == "priority"
    owner_client.post(
        reverse("queues:ticket_assign", args=[tenant.slug, first.reference]), {"assignee": owner.pk}
    )
    assert Ticket.objects.get(pk=first.pk).assignee == owner
    owner_client.post(reverse("queues:call_next", args=[tenant.slug, queue.slug]))
    assert Ticket.objects.get(pk=first.pk).state == "in_progress"
    response = owner_client.post(reverse("queues:call_next", args=[tenant.slug, queue.slug]), follow=True)
    assert "Nobody is waiting" in response.content.decode()


def test_board_query_count_is_constant(owner_client, tenant, owner, django_assert_max_num_queries):
    queue = creator_queue(tenant)
    board = reverse("queues:queue_board", args=[tenant.slug, queue.slug])

    def add(count):
        for index in range(count):
            ticket = submit(queue, "priority" if index % 2 else "personal")
            if index % 3:
                services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)

    def measure():
        with CaptureQueriesContext(connection) as queries:
            assert owner_client.get(board).status_code == 200
        return len(queries)

    add(3)
    small = measure()
    add(60)
    assert measure() == small
    with django_assert_max_num_queries(13):  # 13th: the tips' money state, one query for the whole board
        owner_client.get(board)


def test_filters_and_search(owner_client, tenant, owner):
    queue = creator_queue(tenant)
    maya = submit(queue, "priority", name="Maya Chen", email="maya@example.test")
    submit(queue, "personal", name="Jonas", email="jonas@example.test")
    url = reverse("queues:ticket_list", args=[tenant.slug, queue.slug])
    body = owner_client.get(url, {"q": "maya"}).content.decode()
    assert maya.reference in body and "jonas@example.test" not in body
    body = owner_client.get(url, {"lane": "personal"}).content.decode()
    assert "jonas@example.test" in body and maya.reference not in body
    body = owner_client.get(url, {"q": maya.reference.replace("-", "")}).content.decode()
    assert maya.reference in body


def test_queue_and_lane_settings(owner_client, tenant):
    queue = creator_queue(tenant)
    personal = lane(queue, "personal")
    url = reverse("queues:lane_settings", args=[tenant.slug, queue.slug, personal.pk])
    prefix = f"lane-{personal.pk}"
    owner_client.post(
        url, {f"{prefix}-name": "Free", f"{prefix}-weight": "2", f"{prefix}-minimum_tip": "1.50"}
    )
    personal.refresh_from_db()
    assert (personal.name, personal.weight, personal.minimum_tip_cents, personal.enabled) == (
        "Free",
        2,
        150,
        False,
    )
    owner_client.post(url, {f"{prefix}-name": "Free", f"{prefix}-weight": "0", f"{prefix}-enabled": "on"})
    assert Lane.objects.get(pk=personal.pk).weight == 2
    settings_url = reverse("queues:queue_settings", args=[tenant.slug, queue.slug])
    owner_client.post(
        settings_url,
        {"queue-name": "Requests", "queue-default_service_minutes": "7", "queue-is_public": "on"},
    )
    queue.refresh_from_db()
    assert queue.default_service_minutes == 7 and queue.enabled is False


def test_tenant_types_with_clear_errors(owner_client, tenant):
    url = reverse("queues:type_create", args=[tenant.slug])
    bad = {
        "init": "a",
        "states": ["a", "b"],
        "transitions": [{"name": "go", "from": "a", "to": "zz"}],
        "phases": {"a": "waiting"},
    }
    response = owner_client.post(url, {"code": "mine", "name": "Mine", "workflow": json.dumps(bad)})
    body = response.content.decode()
    assert "goes to unknown state" in body and "State &#x27;b&#x27; has no phase" in body
    response = owner_client.post(url, {"code": "mine", "name": "Mine", "workflow": "{not json"})
    assert "Not valid JSON" in response.content.decode()
    response = owner_client.post(url, {"code": "mine", "name": "Mine", "workflow": json.dumps(SERVICE)})
    assert response.status_code == 302
    assert TicketType.objects.get(tenant=tenant, code="mine").version == 1


def test_create_queue(owner_client, tenant):
    url = reverse("queues:queue_create", args=[tenant.slug])
    response = owner_client.post(url, {"name": "Front desk", "slug": "front", "kind": "service"})
    assert response.status_code == 302
    assert Queue.objects.get(tenant=tenant, slug="front").lanes.count() == 1
    assert owner_client.post(url, {"name": "X", "slug": "types", "kind": "service"}).status_code == 200


def test_admin_action_applies_transition_through_service(client, tenant):
    from notifications.models import OutboxMessage  # noqa: F401 - the app exists

    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    queue = creator_queue(tenant)
    ticket = submit(queue, "priority")
    response = client.post(
        reverse("admin:queues_ticket_changelist"),
        {"action": "apply_workflow_event", "_selected_action": [ticket.pk], "event": "approve", "note": ""},
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.state == "approved" and ticket.events.filter(event="approve", actor=operator).exists()
    assert client.get(reverse("admin:queues_ticket_change", args=[ticket.pk])).status_code == 200
    page = client.get(reverse("admin:queues_tickettype_add")).content.decode()
    assert "jsoneditor.min.js" in page and "queues/jsonschema-admin.js" in page and "maxcdn" not in page
    assert 'class="jsonschema-editor" data-context="' in page
