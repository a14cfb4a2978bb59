"""Help-desk subcategories (seed 004, issue 16): managers list them per support queue (the category),
the customer picks category then subcategory, routing may follow a subcategory, the inbox filters by it;
tenant-scoped, every refusal a field error."""

import pytest
from django.urls import reverse

from core.errors import NotFound, ValidationError
from queues.models import Ticket
from support import selectors, services
from support.models import Subcategory
from support.subcategories import SubcategorySpec, subcategories_set
from tenants.models import Membership
from tests.factories import MembershipFactory
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(tenant, owner, staff):
    queue = support_queue(
        tenant, slug="it", name="IT", agents=agents(staff), hours=[], assignment_mode="manual"
    )
    subcategories_set(
        tenant=tenant,
        actor=owner,
        queue=queue,
        specs=[SubcategorySpec("Printer", route_to_id=staff.pk), SubcategorySpec("Wi-Fi <5G>")],
    )
    return queue


def test_the_customer_picks_category_then_subcategory(client, tenant, desk):
    home = client.get(reverse("support_public:help_home", args=[tenant.slug])).content.decode()
    submit_url = reverse("support_public:submit", args=[tenant.slug, desk.slug])
    assert f'href="{submit_url}?subcategory=Printer"' in home
    assert "Wi-Fi &lt;5G&gt;" in home and "Wi-Fi <5G>" not in home
    page = client.get(submit_url, {"subcategory": "Printer"}).content.decode()
    assert '<option value="Printer" selected>' in page
    data = {
        "submission_token": "tok-sub-1",
        "name": "Sam",
        "email": "sam@example.test",
        "title": "Jammed",
        "description": "Paper jam",
        "priority": "normal",
        "custom__category": "Equipment",
    }
    refused = client.post(submit_url, data)
    assert refused.status_code == 400 and 'id="id_subcategory_error"' in refused.content.decode()
    assert not Ticket.objects.filter(title="Jammed").exists()
    response = client.post(submit_url, {**data, "subcategory": "Printer"})
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Jammed")
    assert ticket.metadata["subcategory"] == "Printer"


def test_an_unknown_subcategory_is_a_field_error(tenant, desk):
    with pytest.raises(ValidationError) as refused:
        file_ticket(desk, subcategory="Toaster")
    assert "subcategory" in refused.value.field_errors


def test_a_subcategory_routes_before_the_queue_rule(tenant, owner, staff, desk):
    routed = file_ticket(desk, subcategory="Printer")
    assert routed.assignee_id == staff.pk
    assert routed.events.filter(event="assign", note__contains="subcategory Printer").exists()
    unrouted = file_ticket(desk, subcategory="Wi-Fi <5G>")
    assert unrouted.assignee_id is None  # manual queue: nobody, as the rule says
    # Someone who may no longer take the queue's tickets is not routed to: the queue's rule applies.
    Membership.objects.filter(user=staff, tenant=tenant).delete()
    assert file_ticket(desk, subcategory="Printer").assignee_id is None


def test_the_inbox_filters_by_subcategory(client, tenant, owner, desk):
    printer = file_ticket(desk, subcategory="Printer")
    wifi = file_ticket(desk, subcategory="Wi-Fi <5G>")
    membership = Membership.objects.get(user=owner, tenant=tenant)
    from django.utils import timezone

    found = selectors.inbox_tickets(membership, view="all", now=timezone.now(), subcategory="Printer")
    assert [t.pk for t in found] == [printer.pk]
    client.force_login(owner)
    url = reverse("support:inbox", args=[tenant.slug])
    page = client.get(url, {"view": "all", "subcategory": "Wi-Fi <5G>"}).content.decode()
    assert wifi.reference in page and printer.reference not in page
    assert "IT › Printer" in page and '<option value="Wi-Fi &lt;5G&gt;" selected>' in page


def test_managers_edit_subcategories_with_errors_next_to_the_field(client, tenant, owner, staff, desk):
    client.force_login(owner)
    url = reverse("support:subcategories_edit", args=[tenant.slug, desk.slug])
    settings_page = client.get(
        reverse("support:settings_edit", args=[tenant.slug, desk.slug])
    ).content.decode()
    assert f"Printer -&gt; {staff.email}" in settings_page
    outsider = MembershipFactory().user  # of another tenant
    response = client.post(url, {"subcategories": f"Printer\nprinter\nScanner -> {outsider.email}"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_subcategories_error"' in body and "is not on this team" in body
    response = client.post(url, {"subcategories": "Printer\nprinter"})
    assert response.status_code == 400 and "listed twice" in response.content.decode()
    assert list(Subcategory.objects.filter(support_queue__queue=desk).values_list("name", flat=True)) == [
        "Printer",
        "Wi-Fi <5G>",
    ]
    response = client.post(url, {"subcategories": f"Scanner -> {owner.email}\nPrinter"})
    assert response.status_code == 302
    rows = list(Subcategory.objects.filter(support_queue__queue=desk).order_by("position"))
    assert [(r.name, r.route_to_id) for r in rows] == [("Scanner", owner.pk), ("Printer", None)]


def test_subcategories_are_tenant_scoped(client, tenant, other_tenant, owner, outsider, desk):
    with pytest.raises(NotFound):
        subcategories_set(tenant=other_tenant, actor=outsider, queue=desk, specs=[SubcategorySpec("X")])
    with pytest.raises(ValidationError):  # a person of another tenant is no routing target
        subcategories_set(tenant=tenant, actor=owner, queue=desk, specs=[SubcategorySpec("X", outsider.pk)])
    client.force_login(outsider)
    url = reverse("support:subcategories_edit", args=[tenant.slug, desk.slug])
    assert client.post(url, {"subcategories": "Hacked"}).status_code == 404
    assert client.get(url).status_code == 404
    assert not Subcategory.objects.filter(name="Hacked").exists()


def test_staff_cannot_edit_subcategories(client, tenant, staff, desk):
    client.force_login(staff)
    url = reverse("support:subcategories_edit", args=[tenant.slug, desk.slug])
    assert client.post(url, {"subcategories": "Mine"}).status_code == 403
    assert services.support_queue_for(desk).subcategories.count() == 2
