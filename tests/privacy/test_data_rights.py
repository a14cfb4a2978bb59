"""Data rights: an export holds all and only that person's data; deletion removes personal data and
keeps totals; withdrawn consent works at once; requests only by a verified link; tenancy on every page."""

import json

import pytest
from django.conf import settings
from django.core import mail
from django.db.models import Sum
from django.test import Client

from core.errors import Conflict, NotFound, PermissionDenied
from notifications.models import OutboxMessage, OutboxStatus
from privacy import services
from privacy.models import DataRequest, RequestKind, RequestStatus
from queues.models import Ticket, TicketComment
from support import services as support_services
from team.models import AuditEntry
from tenants.models import Customer, Membership, Role
from tests.factories import MembershipFactory
from tests.queues.factories import creator_queue, submit
from tests.support.factories import file_ticket, support_queue
from tests.ticketing.factories import buy, make_event
from tests.waitlists.factories import join as join_waitlist
from tests.waitlists.factories import sold_out_event
from ticketing.models import IssuedTicket, Order
from waitlists.models import EntryStatus

pytestmark = pytest.mark.django_db

ANN = "ann@a.test"
ANN_SECRETS = ("Ann Private", ANN, "Ann's secret song", "Ann's laptop is broken", "call me on 555-0101")


class World:
    def __init__(self, tenant, other_tenant):
        self.tenant = tenant
        self.owner = MembershipFactory(tenant=tenant, role=Role.OWNER).user
        self.manager = MembershipFactory(tenant=tenant, role=Role.MANAGER).user
        queue = creator_queue(tenant)
        self.request = submit(queue, "personal", email=ANN, name="Ann Private", need_text="Ann's secret song")
        self.bob_request = submit(
            queue, "personal", email="bob@b.test", name="Bob Other", need_text="Bob's tune"
        )
        desk = support_queue(tenant, slug="it", name="IT")
        self.help = file_ticket(desk, email=ANN, name="Ann Private", description="Ann's laptop is broken")
        support_services.support_customer_reply(ticket=self.help, body="call me on 555-0101")
        staff = Membership.objects.get(tenant=tenant, user=self.owner)
        support_services.support_comment_add(
            membership=staff, ticket=self.help, body="internal: Ann seems upset", is_internal=True
        )
        event = make_event(tenant=tenant, title="Spring show")
        self.order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2}, email=ANN)
        self.bob_order = buy(
            tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, email="bob@b.test"
        )
        sold_out, _orders = sold_out_event(tenant=tenant, title="Sold out show")
        self.place = join_waitlist(tenant=tenant, event=sold_out, email=ANN, n=2)
        # The same address at another tenant is another tenant's business.
        self.elsewhere = submit(
            creator_queue(other_tenant), "personal", email=ANN, need_text="Elsewhere song"
        )

    def ask(self, kind):
        token = services.ask_link_token(self.tenant, ANN, kind)
        return services.data_request_confirm(tenant=self.tenant, token=token)


@pytest.fixture
def world(tenant, other_tenant):
    return World(tenant, other_tenant)


def test_an_export_holds_all_and_only_that_persons_data(world, django_capture_on_commit_callbacks):
    data_request = world.ask(RequestKind.EXPORT)
    with django_capture_on_commit_callbacks(execute=True):
        done = services.data_request_process(
            tenant=world.tenant, actor=world.manager, data_request=data_request
        )
    document = done.export_data
    text = json.dumps(document)
    assert [p["email"] for p in document["profile"]] == [ANN]
    assert [r["reference"] for r in document["queue_requests"]] == [world.request.reference]
    assert document["queue_requests"][0]["description"] == "Ann's secret song"
    (conversation,) = document["help_desk_conversations"]
    assert conversation["reference"] == world.help.reference
    assert conversation["description"] == "Ann's laptop is broken"
    assert [m["text"] for m in conversation["messages"]] == ["call me on 555-0101"]
    assert [o["reference"] for o in document["orders"]] == [world.order.reference]
    assert document["orders"][0]["total_cents"] == world.order.total_cents
    assert len(document["tickets"]) == 2 and {t["order"] for t in document["tickets"]} == {
        world.order.reference
    }
    assert [(p["event"], p["quantity"]) for p in document["waitlist_places"]] == [("Sold out show", 2)]
    # Only hers: not Bob's, not the team's internal note, not the other tenant's.
    for foreign in ("Bob", "bob@b.test", world.bob_order.reference, "internal: Ann", "Elsewhere song"):
        assert foreign not in text, foreign
    # Emailed as a link that downloads the same JSON.
    assert mail.outbox[-1].to == [ANN]
    link = mail.outbox[-1].body.split("\n\n")[1].strip()
    assert link.startswith("http") and "/privacy/export/" in link
    downloaded = Client().get(link.removeprefix(settings.SITE_URL))
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert json.loads(downloaded.content) == json.loads(json.dumps(document))


def test_deletion_removes_personal_data_and_keeps_totals(world):
    totals_before = Order.objects.filter(tenant=world.tenant).aggregate(
        Sum("total_cents"), Sum("subtotal_cents")
    )
    counts_before = (
        Order.objects.filter(tenant=world.tenant).count(),
        IssuedTicket.objects.filter(tenant=world.tenant).count(),
        Ticket.objects.filter(tenant=world.tenant).count(),
    )
    data_request = world.ask(RequestKind.DELETE)
    services.data_request_process(tenant=world.tenant, actor=world.owner, data_request=data_request)
    # No trace of her personal data in the tenant's rows.
    rows = [
        *Customer.objects.filter(tenant=world.tenant).values(),
        *Ticket.objects.filter(tenant=world.tenant).values("title", "need_text", "custom_data", "location"),
        *TicketComment.objects.filter(tenant=world.tenant, is_internal=False).values("body", "edit_history"),
        *OutboxMessage.objects.filter(tenant=world.tenant)
        .exclude(channel="webhook")
        .values("recipient", "payload"),
        *DataRequest.objects.filter(tenant=world.tenant).values("email", "export_data"),
        *AuditEntry.objects.filter(tenant=world.tenant).values("target_label", "details"),
    ]
    dump = json.dumps(rows, default=str)
    for secret in ANN_SECRETS:
        assert secret not in dump, secret
    # Totals, orders, tickets and queue tickets stay; the order now belongs to nobody in particular.
    assert (
        Order.objects.filter(tenant=world.tenant).aggregate(Sum("total_cents"), Sum("subtotal_cents"))
        == totals_before
    )
    assert (
        Order.objects.filter(tenant=world.tenant).count(),
        IssuedTicket.objects.filter(tenant=world.tenant).count(),
        Ticket.objects.filter(tenant=world.tenant).count(),
    ) == counts_before
    anonymous = Order.objects.get(pk=world.order.pk).customer
    assert (anonymous.name, anonymous.email, anonymous.email_consent) == ("", "", False)
    world.place.refresh_from_db()
    assert world.place.status == EntryStatus.WITHDRAWN
    # Bob and the other tenant are untouched.
    assert Customer.objects.filter(tenant=world.tenant, email="bob@b.test").exists()
    assert Ticket.objects.get(pk=world.bob_request.pk).need_text == "Bob's tune"
    assert Ticket.objects.get(pk=world.elsewhere.pk).customer.email == ANN
    assert DataRequest.objects.get(pk=data_request.pk).status == RequestStatus.COMPLETED


def test_withdrawing_consent_takes_effect_at_once(world):
    # Ann agreed to emails. (The world's later anonymous submissions with her address cannot give or take
    # consent for her any more: issue 15 #9.)
    Customer.objects.filter(tenant=world.tenant, email=ANN).update(email_consent=True)
    customer = Customer.objects.get(tenant=world.tenant, email=ANN)
    assert customer.email_consent
    staff = Membership.objects.get(tenant=world.tenant, user=world.owner)
    support_services.support_comment_add(
        membership=staff, ticket=Ticket.objects.get(pk=world.help.pk), body="Looking", is_internal=False
    )
    (approved,) = OutboxMessage.objects.filter(
        customer=customer, event_type="support.updated", channel="email"
    )
    assert approved.status == OutboxStatus.PENDING
    data_request = world.ask(RequestKind.WITHDRAW_CONSENT)
    assert data_request.status == RequestStatus.COMPLETED
    customer.refresh_from_db()
    assert not customer.email_consent
    assert not Ticket.objects.filter(customer=customer, email_consent=True).exists()
    # The email already waiting to go out stops; essential ones (her tickets) still go.
    approved.refresh_from_db()
    assert approved.status == OutboxStatus.FAILED and "withdrew" in approved.last_error
    assert (
        OutboxMessage.objects.get(customer=customer, event_type="order.confirmed").status
        == OutboxStatus.PENDING
    )
    # The next update of her help-desk ticket sends her no email (the first one above did).
    staff = Membership.objects.get(tenant=world.tenant, user=world.owner)
    fresh_ticket = Ticket.objects.get(pk=world.help.pk)  # as a request would load it
    support_services.support_comment_add(
        membership=staff, ticket=fresh_ticket, body="On it", is_internal=False
    )
    updates = OutboxMessage.objects.filter(customer=customer, event_type="support.updated", channel="email")
    assert list(updates) == [approved]  # the one from before, stopped; no new one


def test_requests_need_a_valid_link_and_open_once(world, other_tenant):
    with pytest.raises(NotFound):
        services.data_request_confirm(tenant=world.tenant, token="forged")
    foreign = services.ask_link_token(other_tenant, ANN, RequestKind.EXPORT)
    with pytest.raises(NotFound):
        services.data_request_confirm(tenant=world.tenant, token=foreign)
    world.ask(RequestKind.EXPORT)
    with pytest.raises(Conflict):
        world.ask(RequestKind.EXPORT)


def test_only_managers_process_and_only_once(world, staff):
    data_request = world.ask(RequestKind.EXPORT)
    with pytest.raises(PermissionDenied):
        services.data_request_process(tenant=world.tenant, actor=staff, data_request=data_request)
    services.data_request_process(tenant=world.tenant, actor=world.manager, data_request=data_request)
    with pytest.raises(Conflict):
        services.data_request_process(tenant=world.tenant, actor=world.manager, data_request=data_request)


def test_card_details_are_exported_and_erased_but_the_payment_stays(world):
    from payments.models import Payment, PaymentPurpose, PaymentStatus

    def card_payment(order, last4):
        return Payment.objects.create(
            tenant=world.tenant,
            purpose=PaymentPurpose.ORDER,
            provider="stripe",
            reference=f"pi_{last4}",
            status=PaymentStatus.SUCCEEDED,
            amount_cents=order.total_cents,
            captured_cents=order.total_cents,
            currency=order.currency,
            order=order,
            card_brand="visa",
            card_last4=last4,
        )

    ann, bob = card_payment(world.order, "4242"), card_payment(world.bob_order, "1881")
    export = services.data_request_process(
        tenant=world.tenant, actor=world.owner, data_request=world.ask(RequestKind.EXPORT)
    )
    exported = json.dumps(DataRequest.objects.get(pk=export.pk).export_data)
    assert "4242" in exported and "1881" not in exported
    services.data_request_process(
        tenant=world.tenant, actor=world.owner, data_request=world.ask(RequestKind.DELETE)
    )
    ann.refresh_from_db()
    bob.refresh_from_db()
    assert (ann.card_brand, ann.card_last4, ann.amount_cents) == ("", "", world.order.total_cents)
    assert (bob.card_brand, bob.card_last4) == ("visa", "1881")
