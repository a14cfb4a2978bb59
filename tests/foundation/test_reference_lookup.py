"""The not-found page's lookup (issue 16): a request reference, an order reference or a ticket code typed
under a tenant's address finds its page; other tenants' things are never found; the lookup is rate
limited like the request status lookup."""

import uuid

import pytest
from django.urls import reverse

from core.templatetags.vq import mask_email
from notifications.models import OutboxMessage
from tests.queues.factories import service_queue, submit
from tests.ticketing.factories import buy, make_event
from ticketing.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_lookup_limit(settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"


def lookup(tenant):
    return reverse("tenant_lookup", kwargs={"tenant_slug": tenant.slug})


@pytest.fixture
def order(tenant):
    event = make_event(tenant=tenant)
    return buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})


def test_not_found_under_a_tenant_offers_the_tenant_lookup(client, tenant):
    body = client.get(f"/{tenant.slug}/no-such-page/").content.decode()
    assert f'action="{lookup(tenant)}"' in body
    assert "Reference number, order reference or ticket code" in body
    # A domain 404 inside a tenant (an unknown order) offers it too.
    response = client.get(
        reverse("ticketing_public:order", kwargs={"tenant_slug": tenant.slug, "token": "x"})
    )
    assert response.status_code == 404 and f'action="{lookup(tenant)}"' in response.content.decode()
    # Outside any tenant, the request lookup, saying what it takes.
    elsewhere = client.get("/no-such-tenant-xyz/nothing/").content.decode()
    assert 'action="/status/"' in elsewhere and "Reference number of a request" in elsewhere


def test_order_reference_ticket_code_and_request_reference_find_their_pages(client, tenant, order):
    ticket = order.tickets.get()
    ticket_page = reverse("ticketing_public:ticket", kwargs={"tenant_slug": tenant.slug, "code": ticket.code})
    for spelling in (order.reference, order.reference.lower().replace("-", ""), f"  {order.reference} "):
        # An order reference does not open the order page (its QR codes are the tickets): it offers to
        # email the link to the buyer.
        response = client.get(lookup(tenant), {"reference": spelling})
        body = response.content.decode()
        assert response.status_code == 200, spelling
        assert order.access_token not in body and ticket.code not in body
        assert order.customer.email not in body and mask_email(order.customer.email) in body
        assert reverse("ticketing_public:order_link", kwargs={"tenant_slug": tenant.slug}) in body
    response = client.get(lookup(tenant), {"reference": ticket.code})
    assert response.status_code == 302 and response["Location"] == ticket_page
    request_ticket = submit(service_queue(tenant))
    response = client.get(lookup(tenant), {"reference": request_ticket.reference.replace("-", " ")})
    assert response.status_code == 302
    assert response["Location"] == reverse("queues:status", kwargs={"reference": request_ticket.reference})


def test_an_order_reference_emails_the_order_link_to_the_buyer(client, tenant, order):
    send = reverse("ticketing_public:order_link", kwargs={"tenant_slug": tenant.slug})
    before = OutboxMessage.objects.filter(event_type="order.confirmed", related_id=str(order.pk)).count()
    assert client.get(send).status_code == 405  # a state change is a POST
    response = client.post(send, {"reference": order.reference.lower()}, follow=True)
    assert response.status_code == 200
    assert mask_email(order.customer.email) in response.content.decode()
    sent = OutboxMessage.objects.filter(event_type="order.confirmed", related_id=str(order.pk))
    assert sent.count() == before + 1
    assert sent.latest("pk").recipient == order.customer.email
    assert order.access_token in str(sent.latest("pk").payload)
    # Wrong references are a clear not-found and send nothing.
    assert client.post(send, {"reference": "K7Q-4MZ-9XP-2HD"}).status_code == 404
    assert client.post(send, {"reference": "\x00"}).status_code in (400, 404)
    assert sent.count() == before + 1


def test_an_order_link_is_not_sent_for_another_tenant_or_a_cancelled_order(
    client, tenant, other_tenant, order
):
    elsewhere = reverse("ticketing_public:order_link", kwargs={"tenant_slug": other_tenant.slug})
    assert client.post(elsewhere, {"reference": order.reference}).status_code == 404
    sent = OutboxMessage.objects.filter(event_type="order.confirmed", related_id=str(order.pk))
    before = sent.count()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED)
    send = reverse("ticketing_public:order_link", kwargs={"tenant_slug": tenant.slug})
    response = client.post(send, {"reference": order.reference})
    assert response.status_code == 409 and "no tickets to send" in response.content.decode()
    assert sent.count() == before


def test_the_order_link_is_sent_at_most_three_times_an_hour(client, tenant, order):
    send = reverse("ticketing_public:order_link", kwargs={"tenant_slug": tenant.slug})
    answers = [
        client.post(
            send, {"reference": order.reference}, REMOTE_ADDR=f"10.9.{n}.{uuid.uuid4().int % 250}"
        ).status_code
        for n in range(4)
    ]
    assert answers == [302, 302, 302, 429]


def test_other_tenants_things_are_never_found(client, tenant, other_tenant, order):
    ticket = order.tickets.get()
    request_ticket = submit(service_queue(tenant))
    for text in (order.reference, ticket.code, request_ticket.reference):
        response = client.get(lookup(other_tenant), {"reference": text})
        body = response.content.decode()
        assert response.status_code == 404, text
        assert order.access_token not in body and tenant.name not in body
        assert "We found nothing with that reference" in body


@pytest.mark.parametrize("text", ["nope", "<script>alert(1)</script>", "x" * 500, "%", "K7Q-4MZ-9XP-2HD"])
def test_bad_input_is_a_clear_not_found(client, tenant, text):
    response = client.get(lookup(tenant), {"reference": text})
    body = response.content.decode()
    assert response.status_code == 404 and "We found nothing with that reference" in body
    assert "<script>alert(1)</script>" not in body
    assert client.get(lookup(tenant), {"reference": "\x00"}).status_code == 400
    assert client.get(lookup(tenant)).status_code == 200


def test_lookup_is_rate_limited_per_address(client, tenant, order, settings):
    settings.RATE_LIMIT_LOOKUPS = "3/60"
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    answers = [
        client.get(lookup(tenant), {"reference": order.reference}, REMOTE_ADDR=address).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
