import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from queues import services
from queues.models import Queue, Ticket
from tests.queues.factories import creator_queue, lane, service_queue, submit, support_queue

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form_url(queue):
    return reverse("queues_public:submit", args=[queue.tenant.slug, queue.slug])


def token_of(response) -> str:
    return re.search(r'name="submission_token" value="([^"]+)"', response.content.decode()).group(1)


def post_data(queue, lane_code, **extra):
    data = {
        "name": "Fan One",
        "email": "fan@example.test",
        "need_text": "Sing me a song",
        "lane": str(lane(queue, lane_code).pk),
        "tip": "",
        "card": "4242 4242 4242 4242",  # the test card a tip is authorised on
        "email_consent": "on",
    }
    data.update(extra)
    return data


def test_submit_creates_ticket_and_redirects_to_status(client, tenant):
    queue = creator_queue(tenant)
    page = client.get(form_url(queue))
    assert page.status_code == 200
    body = page.content.decode()
    assert "tip of at least" in body and "Priority" in body and "Personal" in body
    response = client.post(
        form_url(queue), post_data(queue, "priority", tip="5", submission_token=token_of(page))
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "queues:status", args=[ticket.reference]
    )
    assert (ticket.tip_cents, ticket.state, ticket.customer.email) == (500, "pending", "fan@example.test")
    status = client.get(response["Location"])
    assert ticket.reference in status.content.decode()


def test_tip_below_minimum_is_shown_on_the_form(client, tenant):
    queue = creator_queue(tenant)
    page = client.get(form_url(queue))
    response = client.post(
        form_url(queue), post_data(queue, "priority", tip="4.99", submission_token=token_of(page))
    )
    assert response.status_code == 400
    assert "needs a tip of at least $5.00" in response.content.decode().replace("€", "$").replace(
        "5.00 EUR", "$5.00"
    )
    assert not Ticket.objects.exists()


def test_double_submit_creates_one_ticket(client, tenant):
    queue = creator_queue(tenant)
    token = token_of(client.get(form_url(queue)))
    first = client.post(form_url(queue), post_data(queue, "personal", submission_token=token))
    second = client.post(form_url(queue), post_data(queue, "personal", submission_token=token))
    assert Ticket.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_custom_field_errors_are_shown_on_the_form(client, tenant, owner):
    ticket_type = services.ticket_type_save(
        tenant=tenant,
        actor=owner,
        code="cake",
        name="Cake order",
        workflow=__import__("queues.workflow", fromlist=["SERVICE"]).SERVICE,
        custom_fields_schema={
            "type": "object",
            "properties": {
                "flavour": {"type": "string", "title": "Flavour", "enum": ["lemon", "chocolate"]},
                "candles": {"type": "integer", "title": "Candles", "minimum": 0, "maximum": 100},
                "message": {"type": "string", "title": "Message on the cake", "maxLength": 30},
            },
            "required": ["flavour"],
        },
    )
    queue = service_queue(tenant, ticket_type=ticket_type)
    page = client.get(form_url(queue))
    body = page.content.decode()
    assert 'name="custom__flavour"' in body and "Message on the cake" in body
    data = post_data(
        queue, "main", submission_token=token_of(page), custom__candles="500", custom__message="x" * 31
    )
    response = client.post(form_url(queue), data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required" in text  # flavour
    assert "less than or equal to 100" in text
    assert not Ticket.objects.exists()
    data.update(custom__flavour="lemon", custom__candles="3", custom__message="Happy birthday")
    assert client.post(form_url(queue), data).status_code == 302
    assert Ticket.objects.get().custom_data == {"flavour": "lemon", "candles": 3, "message": "Happy birthday"}


def test_disabled_queue_and_lane(client, tenant, owner):
    queue = creator_queue(tenant)
    services.lane_update(tenant=tenant, actor=owner, lane=lane(queue, "personal"), changes={"enabled": False})
    page = client.get(form_url(queue))
    assert "closed right now" in page.content.decode()
    response = client.post(form_url(queue), post_data(queue, "personal", submission_token=token_of(page)))
    assert response.status_code == 400 and "closed right now" in response.content.decode()
    services.queue_update(tenant=tenant, actor=owner, queue=queue, changes={"enabled": False})
    response = client.post(form_url(queue), post_data(queue, "priority", tip="5", submission_token="t2"))
    assert "not taking new requests" in response.content.decode()
    assert not Ticket.objects.exists()


def test_attachments_size_and_type_limits(client, tenant, settings):
    settings.UPLOAD_MAX_BYTES = 100
    queue = service_queue(tenant)
    page = client.get(form_url(queue))
    too_big = SimpleUploadedFile("big.png", PNG + b"\x00" * 200, content_type="image/png")
    response = client.post(
        form_url(queue), {**post_data(queue, "main", submission_token=token_of(page)), "attachments": too_big}
    )
    assert response.status_code == 400 and "larger than" in response.content.decode()
    script = SimpleUploadedFile("run.exe", b"MZ....", content_type="application/octet-stream")
    response = client.post(
        form_url(queue), {**post_data(queue, "main", submission_token="a2"), "attachments": script}
    )
    assert "only images" in response.content.decode()
    fake = SimpleUploadedFile("photo.png", b"not a png at all", content_type="image/png")
    response = client.post(
        form_url(queue), {**post_data(queue, "main", submission_token="a3"), "attachments": fake}
    )
    assert "does not look like a PNG" in response.content.decode()
    assert not Ticket.objects.exists()
    good = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = client.post(
        form_url(queue), {**post_data(queue, "main", submission_token="a4"), "attachments": good}
    )
    assert response.status_code == 302
    attachment = Ticket.objects.get().attachments.get()
    assert attachment.original_name == "photo.png" and attachment.content_type == "image/png"


def test_a_support_queue_is_filed_through_the_help_desk_form(client, tenant):
    queue = support_queue(tenant)
    creator_queue(tenant)
    response = client.get(form_url(queue))
    help_form = reverse("support_public:submit", args=[tenant.slug, queue.slug])
    assert response.status_code == 302 and response["Location"] == help_form
    body = client.get(help_form).content.decode()
    assert '<select name="custom__category"' in body and "Describe the problem" in body
    # The tenant's page shows live cards for the other queues only; the help desk lists its own.
    home = client.get(reverse("tenant_home", args=[tenant.slug])).content.decode()
    assert form_url(queue) not in home and help_form in home
    assert reverse("queues:status_lookup") in home  # people already in line find their request


def test_creator_page_states_the_lane_rule_from_the_real_weights_and_the_minimum_tip(client, tenant):
    queue = creator_queue(tenant)
    body = client.get(form_url(queue)).content.decode()
    assert (
        "For every 3 priority requests (tip of at least €5.00), 1 personal request (free) is served" in body
    )
    # The creator changes the interleave and the tip: the page says what the line really does now.
    services.lane_update(tenant=tenant, actor=None, lane=lane(queue, "priority"), changes={"weight": 2})
    services.lane_update(
        tenant=tenant, actor=None, lane=lane(queue, "priority"), changes={"minimum_tip_cents": 750}
    )
    services.lane_update(tenant=tenant, actor=None, lane=lane(queue, "personal"), changes={"weight": 3})
    body = client.get(form_url(queue)).content.decode()
    assert (
        "For every 2 priority requests (tip of at least €7.50), 3 personal requests (free) are served" in body
    )
    home = client.get(reverse("tenant_home", args=[tenant.slug])).content.decode()
    assert "For every 2 priority requests (tip of at least €7.50)" in home
    # A lane name is the creator's text: escaped in the rule.
    services.lane_update(tenant=tenant, actor=None, lane=lane(queue, "personal"), changes={"name": "<b>Free"})
    body = client.get(form_url(queue)).content.decode()
    assert "3 &lt;b&gt;free requests (free)" in body and "<b>free" not in body


def test_unknown_queue_is_404(client, tenant):
    assert client.get(f"/{tenant.slug}/q/nope/").status_code == 404


# --- status page ----------------------------------------------------------------------------------


def test_status_page_shows_everything(client, tenant, owner):
    queue = creator_queue(tenant, default_service_minutes=5)
    tickets = [submit(queue, code) for code in ["priority", "personal", "priority"]]
    for ticket in tickets:
        services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
    body = client.get(reverse("queues:status", args=[tickets[1].reference])).content.decode()
    assert "approved" in body and "You are in line" in body
    assert 'data-live-field="position">3<' in body  # P P then the personal one
    assert "minutes" in body  # an ETA range from the configured minutes
    assert (
        "For every 3 priority requests (tip of at least €5.00), 1 personal request (free) is served" in body
    )
    assert "submitted" in body and "approve" in body  # history
    assert f"/ws/queues/status/{tickets[1].reference}/" in body


def test_status_page_says_no_estimate_yet(client, tenant, owner):
    queue = creator_queue(tenant)
    ticket = submit(queue, "personal")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
    assert "no estimate yet" in client.get(reverse("queues:status", args=[ticket.reference])).content.decode()


def test_status_page_query_count_is_constant(client, tenant, owner, django_assert_max_num_queries):
    queue = creator_queue(tenant)

    def fill(count):
        for _ in range(count):
            services.ticket_approve(tenant=tenant, actor=owner, ticket=submit(queue, "personal"))

    def measure():
        ticket = submit(queue, "priority")
        services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("queues:status", args=[ticket.reference])).status_code == 200
        return len(queries)

    fill(2)
    small = measure()
    fill(40)
    assert measure() == small
    ticket = Ticket.objects.filter(phase="waiting").last()
    with django_assert_max_num_queries(4):  # the ticket, the lanes, the lane rank, the public comments
        client.get(reverse("queues:status", args=[ticket.reference]))


def test_status_accepts_sloppy_reference_and_lookup_form(client, tenant):
    ticket = submit(service_queue(tenant))
    sloppy = ticket.reference.replace("-", "").lower()
    response = client.get(reverse("queues:status", args=[sloppy]))
    assert response.status_code == 302 and response["Location"].endswith(f"/status/{ticket.reference}/")
    response = client.get("/status/", {"reference": sloppy})
    assert response.status_code == 302
    assert client.get("/status/").status_code == 200


def test_unknown_reference_is_404_with_lookup_form(client):
    response = client.get(reverse("queues:status", args=["AAA-BBB-CCC-DDD"]))
    assert response.status_code == 404
    assert 'name="reference"' in response.content.decode()
    assert client.get("/status/", {"reference": "nonsense"}).status_code == 404


def test_status_lookups_are_rate_limited(client, tenant, settings):
    settings.RATE_LIMIT_LOOKUPS = "3/60"
    address = "10.9.8.7"
    codes = [client.get("/status/AAA-BBB-CCC-DDD/", REMOTE_ADDR=address).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_expired_ticket_says_so_before_the_task_runs(client, tenant):
    from datetime import timedelta

    from django.utils import timezone

    queue = creator_queue(tenant, ttl_minutes=10)
    ticket = submit(queue, "priority", now=timezone.now() - timedelta(minutes=11))
    body = client.get(reverse("queues:status", args=[ticket.reference])).content.decode()
    assert "expired" in body and "time limit" in body


def test_public_tenant_page_has_live_queue_card(client, tenant):
    queue = creator_queue(tenant)
    submit(queue, "priority")
    body = client.get(f"/{tenant.slug}/").content.decode()
    assert f'data-live-socket="/ws/queues/queue/{queue.pk}/"' in body
    assert "Now serving" in body and "Next turn" in body and "Waiting" in body
    assert Queue.objects.count() == 1
