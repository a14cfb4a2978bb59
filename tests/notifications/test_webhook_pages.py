"""Dashboard pages for webhook endpoints: who may do what, the secret shown once, the delivery log with
response codes, redelivery, bad input, and tenancy on every page."""

import pytest
from django.urls import reverse

from notifications.dispatch import dispatch_messages
from notifications.models import OutboxMessage, WebhookEndpoint
from tests.factories import MembershipFactory
from tests.queues.factories import service_queue, submit

pytestmark = pytest.mark.django_db


def url(name, tenant, *args):
    return reverse(f"notifications:{name}", args=[tenant.slug, *args])


def _form(target, **extra):
    data = {"url": target, "description": "CRM", "event_types": ["ticket.submitted", "order.paid"]}
    data.update(extra)
    return data


@pytest.fixture
def endpoint(tenant, make_endpoint, webhook_receiver):
    return make_endpoint(webhook_receiver.url, event_types=["ticket.submitted"])


def test_a_manager_adds_an_endpoint_and_sees_its_secret_once(client, tenant, manager, webhook_receiver):
    client.force_login(manager)
    page = client.get(url("webhook_new", tenant))
    assert page.status_code == 200
    assert 'name="creation_token"' in page.content.decode()
    token = page.context["form"]["creation_token"].value()
    response = client.post(url("webhook_new", tenant), _form(webhook_receiver.url, creation_token=token))
    endpoint = WebhookEndpoint.objects.get(tenant=tenant)
    assert response.status_code == 302 and response.url == url("webhook", tenant, endpoint.pk)
    assert endpoint.event_types == ["order.paid", "ticket.submitted"]
    assert endpoint.created_by == manager
    first = client.get(response.url).content.decode()
    assert endpoint.secret in first
    second = client.get(response.url).content.decode()
    assert endpoint.secret not in second
    assert endpoint.secret_hint in second
    # The same form submitted again (a double click) makes no second endpoint and shows no secret.
    again = client.post(url("webhook_new", tenant), _form(webhook_receiver.url, creation_token=token))
    assert again.url == response.url
    assert WebhookEndpoint.objects.filter(tenant=tenant).count() == 1
    assert endpoint.secret not in client.get(again.url).content.decode()


def test_bad_input_gets_field_errors_and_creates_nothing(client, tenant, owner, settings):
    client.force_login(owner)
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = False
    cases = [
        (_form("http://127.0.0.1:8080/hook"), "non-public address"),
        (_form("http://10.0.0.5/hook"), "non-public address"),
        (_form("gopher://example.com/"), "http://"),
        (_form("https://93.184.215.14/", event_types=[]), "Choose at least one event"),
        (_form("https://93.184.215.14/", event_types=["order.exploded"]), "Select a valid choice"),
        (_form("https://93.184.215.14/" + "a" * 600), "at most 500"),
    ]
    for data, text in cases:
        response = client.post(url("webhook_new", tenant), data)
        assert response.status_code == 200, data
        assert text in response.content.decode(), (data, response.content.decode()[-3000:])
    assert not WebhookEndpoint.objects.exists()


def test_edit_disable_enable_and_rotate(client, tenant, owner, endpoint, webhook_receiver):
    client.force_login(owner)
    assert client.get(url("webhook_edit", tenant, endpoint.pk)).status_code == 200
    response = client.post(
        url("webhook_edit", tenant, endpoint.pk),
        _form(webhook_receiver.url + "/v2", event_types=["order.paid"]),
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.event_types) == (webhook_receiver.url + "/v2", ["order.paid"])
    for name in ("webhook_disable", "webhook_enable", "webhook_rotate"):
        assert client.get(url(name, tenant, endpoint.pk)).status_code == 405  # state changes only on POST
    client.post(url("webhook_disable", tenant, endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.disabled_reason == "manual"
    assert "Disabled by staff" in client.get(url("webhook", tenant, endpoint.pk)).content.decode()
    client.post(url("webhook_enable", tenant, endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.is_active
    old = endpoint.secret
    response = client.post(url("webhook_rotate", tenant, endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in client.get(response.url).content.decode()


def test_delivery_log_shows_response_codes_and_redeliver_works(
    client, tenant, manager, endpoint, webhook_receiver, django_assert_max_num_queries
):
    webhook_receiver.statuses = [503]
    queue = service_queue(tenant)
    for _ in range(3):
        submit(queue, email="")
    dispatch_messages()
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        page = client.get(url("webhook", tenant, endpoint.pk))
    text = page.content.decode()
    assert "HTTP 503" in text and "HTTP 200" in text
    sent = OutboxMessage.objects.filter(endpoint=endpoint, status="sent").first()
    detail = client.get(url("message", tenant, sent.pk)).content.decode()
    assert "Redeliver" in detail and sent.webhook_id in detail and "ticket.submitted" in detail
    assert client.get(url("webhook_redeliver", tenant, sent.pk)).status_code == 405
    response = client.post(url("webhook_redeliver", tenant, sent.pk))
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(redelivery_of=sent).count() == 1
    failed_only = client.get(url("webhook", tenant, endpoint.pk) + "?status=sent").content.decode()
    assert "HTTP 503" not in failed_only


def test_staff_read_but_do_not_change(client, tenant, endpoint):
    staff = MembershipFactory(tenant=tenant, role="staff").user
    client.force_login(staff)
    assert client.get(url("webhooks", tenant)).status_code == 200
    page = client.get(url("webhook", tenant, endpoint.pk))
    assert page.status_code == 200 and "Redeliver" not in page.content.decode()
    submit(service_queue(tenant), email="")
    message = OutboxMessage.objects.get(endpoint=endpoint)
    assert client.get(url("webhook_new", tenant)).status_code == 403
    assert client.get(url("webhook_edit", tenant, endpoint.pk)).status_code == 403
    for name, arg in [
        ("webhook_disable", endpoint.pk),
        ("webhook_enable", endpoint.pk),
        ("webhook_rotate", endpoint.pk),
        ("webhook_redeliver", message.pk),
    ]:
        assert client.post(url(name, tenant, arg)).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.is_active and not OutboxMessage.objects.filter(redelivery_of=message).exists()


def test_tenancy_every_page_is_404_for_another_tenants_member_and_objects(
    client, tenant, other_tenant, outsider, owner, endpoint, make_endpoint
):
    submit(service_queue(tenant), email="")
    message = OutboxMessage.objects.get(endpoint=endpoint)
    gets = ["webhooks", "webhook_new"]
    per_endpoint = ["webhook", "webhook_edit"]
    posts = ["webhook_disable", "webhook_enable", "webhook_rotate"]
    client.force_login(outsider)  # an owner, but of the other tenant
    for name in gets:
        assert client.get(url(name, tenant)).status_code == 404
    for name in per_endpoint:
        assert client.get(url(name, tenant, endpoint.pk)).status_code == 404
    for name in posts:
        assert client.post(url(name, tenant, endpoint.pk)).status_code == 404
    assert client.post(url("webhook_redeliver", tenant, message.pk)).status_code == 404
    # Their own dashboard with our ids: still 404, and nothing changed.
    for name in per_endpoint:
        assert client.get(url(name, other_tenant, endpoint.pk)).status_code == 404
    for name in posts:
        assert client.post(url(name, other_tenant, endpoint.pk)).status_code == 404
    assert client.post(url("webhook_redeliver", other_tenant, message.pk)).status_code == 404
    assert client.get(url("message", other_tenant, message.pk)).status_code == 404
    assert (
        client.post(url("webhook_edit", other_tenant, endpoint.pk), _form("http://127.0.0.1:1/")).status_code
        == 404
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.url.endswith("/hooks/virtualq")
    assert not OutboxMessage.objects.filter(redelivery_of=message).exists()
    # And their list never shows ours.
    theirs = make_endpoint("http://127.0.0.1:2/theirs", for_tenant=other_tenant)
    listing = client.get(url("webhooks", other_tenant)).content.decode()
    assert theirs.url in listing and endpoint.url not in listing


def test_what_a_tenant_writes_is_escaped(client, tenant, owner, make_endpoint):
    from notifications.webhooks.services import endpoint_update

    endpoint = make_endpoint("http://127.0.0.1:9/x")
    endpoint_update(
        tenant=tenant,
        actor=owner,
        endpoint_id=endpoint.pk,
        url="http://127.0.0.1:9/x?a=<b>",
        event_types=["ticket.submitted"],
        description="<script>alert(1)</script>",
    )
    submit(service_queue(tenant), email="", name="<img src=x onerror=alert(1)>")
    client.force_login(owner)
    for page in (url("webhooks", tenant), url("webhook", tenant, endpoint.pk)):
        text = client.get(page).content.decode()
        assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    message = OutboxMessage.objects.get(endpoint=endpoint)
    detail = client.get(url("message", tenant, message.pk)).content.decode()
    assert "<img src=x" not in detail
