"""Identity (issue 15 #9), tried from the public pages as someone who knows a fan's email would: a second,
anonymous submission with that email — a creator request, a service ticket, a help-desk ticket, a ticket
purchase — never renames the customer or changes their phone or consent, and every ticket and order
keeps the contact it was submitted with, so staff see on an old ticket what was typed on it, whatever
happens to the shared customer record later (even a verified change). Existing tickets got their snapshot
from the migration."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from queues.models import Ticket
from tenants.models import Customer
from tenants.services import customer_upsert
from tests.queues.factories import creator_queue, service_queue
from tests.queues.test_public_pages import form_url, post_data, token_of
from tests.support.factories import support_queue
from tests.ticketing.factories import make_event
from ticketing.models import Order

pytestmark = pytest.mark.django_db

FAN = "fan@example.test"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def submit_request(queue, lane_code, *, name, phone, consent):
    browser = Client()
    page = browser.get(form_url(queue))
    data = post_data(queue, lane_code, submission_token=token_of(page), name=name, phone=phone, email=FAN)
    if not consent:
        data.pop("email_consent")
    response = browser.post(form_url(queue), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return Ticket.objects.get(submission_token=data["submission_token"])


def submit_help_desk(queue, *, name):
    browser = Client()
    url = reverse("support_public:submit", args=[queue.tenant.slug, queue.slug])
    page = browser.get(url).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)
    data = {"name": name, "email": FAN, "title": "Printer", "description": "It jams.", "priority": "normal"}
    data.update({"custom__category": "Other", "submission_token": token})
    assert browser.post(url, data).status_code == 302
    return Ticket.objects.get(submission_token=token)


def staff_sees(owner, ticket) -> str:
    staff = Client()
    staff.force_login(owner)
    if ticket.queue.kind == "support":
        url = reverse(
            "support:ticket", kwargs={"tenant_slug": ticket.tenant.slug, "reference": ticket.reference}
        )
    else:
        url = reverse("queues:ticket_detail", args=[ticket.queue.tenant.slug, ticket.reference])
    page = staff.get(url)
    assert page.status_code == 200
    return page.content.decode()


def assert_customer_untouched():
    fan = Customer.objects.get(email=FAN)
    assert (fan.name, fan.phone, fan.email_consent) == ("Fan", "+1 555 0100", True)


@pytest.mark.parametrize("kind", ["creator", "service"])
def test_a_second_anonymous_queue_submission_renames_nobody_and_old_tickets_keep_their_contact(
    tenant, owner, kind
):
    queue = creator_queue(tenant) if kind == "creator" else service_queue(tenant)
    lane_code = "personal" if kind == "creator" else "main"
    first = submit_request(queue, lane_code, name="Fan", phone="+1 555 0100", consent=True)
    second = submit_request(queue, lane_code, name="Mallory", phone="+9 999", consent=False)
    assert first.customer_id == second.customer_id
    assert_customer_untouched()
    assert (first.contact_name, first.contact_phone) == ("Fan", "+1 555 0100")
    assert (second.contact_name, second.contact_phone) == ("Mallory", "+9 999")
    assert "Mallory" not in staff_sees(owner, first) and "Fan" in staff_sees(owner, first)
    assert "Mallory" in staff_sees(owner, second)
    # A verified change of the customer record (the fan, through an emailed link) is the customer's;
    # what was submitted on the old ticket stays what staff see there.
    customer_upsert(tenant=tenant, email=FAN, name="Fan Renamed", phone="+1 555 0199", verified=True)
    shown = staff_sees(owner, first)
    assert "Fan Renamed" not in shown and "+1 555 0199" not in shown and "+1 555 0100" in shown


def test_a_second_anonymous_help_desk_ticket_renames_nobody(tenant, owner):
    queue = support_queue(tenant)
    customer_upsert(tenant=tenant, email=FAN, name="Fan", phone="+1 555 0100", email_consent=True)
    first = submit_help_desk(queue, name="Fan")
    second = submit_help_desk(queue, name="Mallory")
    assert_customer_untouched()
    assert (first.contact_name, second.contact_name) == ("Fan", "Mallory")
    assert "Mallory" not in staff_sees(owner, first) and "Mallory" in staff_sees(owner, second)


def test_a_second_anonymous_purchase_renames_nobody(tenant):
    customer_upsert(tenant=tenant, email=FAN, name="Fan", phone="+1 555 0100", email_consent=True)
    event = make_event(tenant=tenant)
    start = reverse("ticketing_public:checkout_start", args=[tenant.slug, event.slug])
    for name in ("Fan", "Mallory"):
        browser = Client()
        page = browser.post(start, {f"tier_{event.tiers.get().id}": "1"})["Location"]
        browser.post(page, {"step": "details", "name": name, "email": FAN, "phone": "+9 999"})
        form = browser.get(page).content.decode()
        hidden = dict(
            re.findall(r'name="(idempotency_key|expected_total|expected_currency)" value="([^"]*)"', form)
        )
        paid = browser.post(page, {"step": "pay", "provider": "pay_at_door", **hidden})
        assert paid.status_code == 302
    assert_customer_untouched()
    assert sorted(Order.objects.values_list("buyer_name", flat=True)) == ["Fan", "Mallory"]


def test_the_migration_fills_the_snapshot_of_existing_tickets(tenant):
    queue = creator_queue(tenant)
    ticket = submit_request(queue, "personal", name="Fan", phone="+1 555 0100", consent=True)
    Ticket.objects.filter(pk=ticket.pk).update(contact_name="", contact_email="", contact_phone="")
    migration = importlib.import_module("queues.migrations.0006_ticket_contact_snapshot")
    migration.fill_from_customers(apps, None)
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.contact_name, ticket.contact_email, ticket.contact_phone) == ("Fan", FAN, "+1 555 0100")


def test_erasure_blanks_the_ticket_and_order_snapshots(tenant, owner):
    from privacy import services as privacy_services
    from privacy.models import RequestKind
    from tests.ticketing.factories import buy

    queue = creator_queue(tenant)
    ticket = submit_request(queue, "personal", name="Fan", phone="+1 555 0100", consent=True)
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, email=FAN)
    token = privacy_services.ask_link_token(tenant, FAN, RequestKind.DELETE)
    data_request = privacy_services.data_request_confirm(tenant=tenant, token=token)
    privacy_services.data_request_process(tenant=tenant, actor=owner, data_request=data_request)
    ticket = Ticket.objects.get(pk=ticket.pk)
    order = Order.objects.get(pk=order.pk)
    assert (ticket.contact_name, ticket.contact_email, ticket.contact_phone) == ("", "", "")
    assert (order.buyer_name, order.buyer_email, order.buyer_phone) == ("", "", "")
