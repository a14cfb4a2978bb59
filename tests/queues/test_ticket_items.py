"""Ticket items (seed 001, issue 16): staff add, change and remove a ticket's items on the dashboard;
every change is in the ticket's history; bad input is a field error that loses nothing; another
tenant's member gets 404; the customer's status page does not show the team's item bookkeeping."""

import pytest
from django.urls import reverse

from core.errors import Conflict, NotFound, ValidationError
from queues import item_services, services
from queues.models import TicketEvent, TicketItem, TicketType
from tests.queues.factories import service_queue, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(tenant):
    return submit(service_queue(tenant))


def _url(name, ticket, *args):
    return reverse(f"queues:{name}", args=[ticket.tenant.slug, ticket.reference, *args])


def test_add_change_remove_through_the_services_write_history(tenant, owner, ticket):
    item = item_services.ticket_item_add(
        tenant=tenant, actor=owner, ticket=ticket, name="Flat white", quantity=2, notes="oat"
    )
    changed = item_services.ticket_item_update(
        tenant=tenant,
        actor=owner,
        item=item,
        name="Flat white",
        quantity=3,
        notes="oat",
        seen=item.updated_at,
    )
    assert changed.quantity == 3
    # Saving what is there already changes nothing and records nothing.
    item_services.ticket_item_update(
        tenant=tenant, actor=owner, item=changed, name="Flat white", quantity=3, notes="oat"
    )
    item_services.ticket_item_remove(tenant=tenant, actor=owner, item=changed, seen=changed.updated_at)
    assert not TicketItem.objects.filter(ticket=ticket).exists()
    notes = list(
        TicketEvent.objects.filter(ticket=ticket, event__startswith="item_")
        .order_by("id")
        .values_list("event", "note", "actor_id")
    )
    assert notes == [
        ("item_add", "Added 2 × Flat white", owner.pk),
        ("item_change", "Changed Flat white: quantity 2 → 3", owner.pk),
        ("item_remove", "Removed 3 × Flat white", owner.pk),
    ]


def test_bad_items_are_refused_field_by_field(tenant, owner, ticket):
    with pytest.raises(ValidationError) as refused:
        item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name=" ", quantity=0)
    assert set(refused.value.field_errors) == {"name", "quantity"}
    with pytest.raises(ValidationError) as refused:
        item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="x", state="made_up")
    assert "state" in refused.value.field_errors
    assert not TicketItem.objects.exists() and not TicketEvent.objects.filter(event="item_add").exists()


def test_item_states_come_from_the_ticket_type(tenant, owner, ticket):
    TicketType.objects.filter(pk=ticket.ticket_type_id).update(item_states=["waiting", "made"])
    ticket.ticket_type.refresh_from_db()
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    assert item.state == "waiting"
    item = item_services.ticket_item_set_state(tenant=tenant, actor=owner, item=item, state="made")
    assert TicketItem.objects.get(pk=item.pk).state == "made"
    assert TicketEvent.objects.filter(event="item_change", note__contains="state waiting → made").exists()


def test_a_stale_change_is_a_conflict_and_changes_nothing(tenant, owner, manager, ticket):
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    seen = item.updated_at
    item_services.ticket_item_update(
        tenant=tenant, actor=manager, item=item, name="Green tea", quantity=1, seen=seen
    )
    with pytest.raises(Conflict):
        item_services.ticket_item_update(
            tenant=tenant, actor=owner, item=item, name="Tea", quantity=5, seen=seen
        )
    with pytest.raises(Conflict):
        item_services.ticket_item_remove(tenant=tenant, actor=owner, item=item, seen=seen)
    assert TicketItem.objects.get(pk=item.pk).name == "Green tea"
    item_services.ticket_item_remove(tenant=tenant, actor=owner, item=item)
    with pytest.raises(NotFound):
        item_services.ticket_item_remove(tenant=tenant, actor=owner, item=item)


def test_a_finished_tickets_items_cannot_change(tenant, owner, ticket):
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="cancel")
    with pytest.raises(Conflict):
        item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="More tea")
    with pytest.raises(Conflict):
        item_services.ticket_item_remove(tenant=tenant, actor=owner, item=item)


def test_another_tenants_items_are_not_found(tenant, other_tenant, owner, ticket):
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    with pytest.raises(NotFound):
        item_services.ticket_item_add(tenant=other_tenant, actor=owner, ticket=ticket, name="Hack")
    with pytest.raises(NotFound):
        item_services.ticket_item_remove(tenant=other_tenant, actor=owner, item=item)


def test_the_dashboard_adds_changes_and_removes_items(owner_client, ticket):
    response = owner_client.post(
        _url("ticket_item_add", ticket),
        {"new-item-name": "Croissant <b>", "new-item-quantity": "2", "new-item-notes": "warm"},
    )
    assert response.status_code == 302
    item = TicketItem.objects.get(ticket=ticket)
    page = owner_client.get(_url("ticket_detail", ticket)).content.decode()
    assert "Croissant &lt;b&gt;" in page and "Croissant <b>" not in page
    assert "Added 2 × Croissant &lt;b&gt;" in page  # in the history
    prefix = f"item-{item.pk}"
    response = owner_client.post(
        _url("ticket_item_change", ticket, item.pk),
        {
            f"{prefix}-name": "Croissant",
            f"{prefix}-quantity": "4",
            f"{prefix}-notes": "warm",
            f"{prefix}-seen": item.updated_at.isoformat(),
        },
    )
    assert response.status_code == 302 and TicketItem.objects.get(pk=item.pk).quantity == 4
    fresh = TicketItem.objects.get(pk=item.pk)
    response = owner_client.post(
        _url("ticket_item_remove", ticket, item.pk), {f"{prefix}-seen": fresh.updated_at.isoformat()}
    )
    assert response.status_code == 302 and not TicketItem.objects.filter(pk=item.pk).exists()
    # Removing it again (a double click) says so; it is no error page.
    response = owner_client.post(_url("ticket_item_remove", ticket, item.pk), follow=True)
    assert response.status_code == 200 and "removed already" in response.content.decode()


def test_a_refused_item_shows_errors_next_to_its_fields_and_keeps_the_input(owner_client, ticket):
    response = owner_client.post(
        _url("ticket_item_add", ticket),
        {"new-item-name": "Bagel", "new-item-quantity": "0", "new-item-notes": "toasted"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    at = body.index('id="id_new-item-quantity"')
    block = body[body.rindex('<div class="field', 0, at) : body.index("</div>", at)]
    assert "field-invalid" in block and "greater than or equal to 1" in block
    assert 'value="Bagel"' in body and 'value="toasted"' in body
    assert not TicketItem.objects.exists()


def test_a_stale_dashboard_change_is_reported_on_the_item(owner_client, tenant, owner, ticket):
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    stale = item.updated_at.isoformat()
    item_services.ticket_item_update(tenant=tenant, actor=owner, item=item, name="Chai", quantity=1)
    prefix = f"item-{item.pk}"
    response = owner_client.post(
        _url("ticket_item_change", ticket, item.pk),
        {f"{prefix}-name": "Tea", f"{prefix}-quantity": "9", f"{prefix}-seen": stale},
    )
    assert response.status_code == 400 and "changed this item meanwhile" in response.content.decode()
    assert TicketItem.objects.get(pk=item.pk).name == "Chai"


def test_item_pages_are_404_for_another_tenants_member(outsider_client, tenant, owner, ticket):
    item = item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Tea")
    prefix = f"item-{item.pk}"
    posts = [
        (_url("ticket_item_add", ticket), {"new-item-name": "x", "new-item-quantity": "1"}),
        (_url("ticket_item_change", ticket, item.pk), {f"{prefix}-name": "x", f"{prefix}-quantity": "1"}),
        (_url("ticket_item_remove", ticket, item.pk), {}),
    ]
    for url, data in posts:
        assert outsider_client.post(url, data).status_code == 404, url
        assert outsider_client.get(url).status_code in (404, 405), url
    assert TicketItem.objects.get(pk=item.pk).name == "Tea" and TicketItem.objects.count() == 1


def test_the_status_page_leaves_out_item_bookkeeping(client, tenant, owner, ticket):
    item_services.ticket_item_add(tenant=tenant, actor=owner, ticket=ticket, name="Secret sauce")
    page = client.get(reverse("queues:status", args=[ticket.reference])).content.decode()
    assert "Secret sauce" not in page and "item add" not in page
