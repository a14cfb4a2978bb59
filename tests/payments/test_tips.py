"""Priority-lane tips through a provider: authorised on submit, captured on approval (or completion),
voided on rejection; the board shows the money state."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments.gateway import client_for
from payments.models import Payment, PaymentStatus
from payments.services import payment_settings_update
from payments.tips import ticket_submit_with_tip
from queues import services as queue_services
from queues.models import Ticket
from queues.services import LaneSpec
from tests.queues.factories import creator_queue
from ticketing.payments import PaymentDeclined

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_lookup_limit(settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"


def _queue(tenant):
    return creator_queue(
        tenant,
        lanes=[
            LaneSpec("priority", "Priority", 3, 500, "With a tip.", "P"),
            LaneSpec("personal", "Personal", 1, 0, "Free.", "F"),
        ],
    )


def _submit(queue, *, tip=700, payment_method="", card_number="", token=""):
    return ticket_submit_with_tip(
        tenant=queue.tenant,
        queue=queue,
        lane=queue.lanes.get(code="priority"),
        tip_cents=tip,
        payment_method=payment_method,
        card_number=card_number,
        submission_token=token,
        name="Robin",
        email="robin@example.test",
        need_text="Happy birthday to mum",
    )


def _intent(tenant, payment):
    return client_for(tenant).v1.payment_intents.retrieve(payment.reference)


def test_tip_authorised_on_submit_is_captured_on_approval(
    stripe_tenant, owner, django_capture_on_commit_callbacks
):
    queue = _queue(stripe_tenant)
    ticket = _submit(queue, payment_method="pm_card_visa")

    payment = Payment.objects.get(ticket=ticket)
    assert payment.status == PaymentStatus.AUTHORISED and payment.amount_cents == 700
    intent = _intent(stripe_tenant, payment)
    assert intent.status == "requires_capture" and intent.capture_method == "manual"

    with django_capture_on_commit_callbacks(execute=True):
        queue_services.ticket_approve(tenant=stripe_tenant, actor=owner, ticket=ticket)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.captured_cents == 700
    assert payment.pending_action == ""
    assert _intent(stripe_tenant, payment).status == "succeeded"


def test_tip_authorised_on_submit_is_voided_on_rejection(
    stripe_tenant, owner, django_capture_on_commit_callbacks
):
    queue = _queue(stripe_tenant)
    ticket = _submit(queue, payment_method="pm_card_visa")
    payment = Payment.objects.get(ticket=ticket)
    assert _intent(stripe_tenant, payment).status == "requires_capture"

    with django_capture_on_commit_callbacks(execute=True):
        queue_services.ticket_reject(tenant=stripe_tenant, actor=owner, ticket=ticket, reason="Not this week")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.VOIDED and payment.captured_cents == 0
    assert _intent(stripe_tenant, payment).status == "canceled"


def test_creator_can_capture_on_completion_instead(stripe_tenant, owner, django_capture_on_commit_callbacks):
    payment_settings_update(tenant=stripe_tenant, actor=owner, tip_capture_on="complete")
    queue = _queue(stripe_tenant)
    ticket = _submit(queue, payment_method="pm_card_visa")
    payment = Payment.objects.get(ticket=ticket)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = queue_services.ticket_approve(tenant=stripe_tenant, actor=owner, ticket=ticket)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.AUTHORISED  # approved, not charged yet
    with django_capture_on_commit_callbacks(execute=True):
        ticket = queue_services.ticket_transition(
            tenant=stripe_tenant, actor=owner, ticket=ticket, event="start"
        )
        queue_services.ticket_transition(tenant=stripe_tenant, actor=owner, ticket=ticket, event="complete")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _intent(stripe_tenant, payment).status == "succeeded"


def test_declined_tip_card_sends_nothing(stripe_tenant):
    queue = _queue(stripe_tenant)
    with pytest.raises(PaymentDeclined) as error:
        _submit(queue, payment_method="pm_card_chargeCustomerFail")
    assert "card" in error.value.field_errors
    assert not Ticket.objects.exists()
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_failed_submission_voids_the_authorisation(stripe_tenant, owner, django_capture_on_commit_callbacks):
    from core.errors import ValidationError

    queue = _queue(stripe_tenant)
    with pytest.raises(ValidationError):
        ticket_submit_with_tip(
            tenant=stripe_tenant,
            queue=queue,
            lane=queue.lanes.get(code="priority"),
            tip_cents=700,
            payment_method="pm_card_visa",
            name="Robin",
            email="robin@example.test",
            need_text="x",
            attachments=["not", "a", "file", "list"],  # four "files": refused after the card was held
        )
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.VOIDED
    assert _intent(stripe_tenant, payment).status == "canceled"


def test_test_card_tips_follow_the_same_states(tenant, owner, django_capture_on_commit_callbacks, client):
    queue = _queue(tenant)
    kept = _submit(queue, card_number="4242 4242 4242 4242", token="a")
    dropped = _submit(queue, card_number="4242 4242 4242 4242", token="b")
    assert _submit(queue, card_number="4242 4242 4242 4242", token="a") == kept  # double submit: one hold
    with pytest.raises(PaymentDeclined):
        _submit(queue, card_number="4000 0000 0000 0002", token="c")
    assert Payment.objects.filter(status=PaymentStatus.AUTHORISED).count() == 2

    client.force_login(owner)
    board = client.get(reverse("queues:queue_board", args=[tenant.slug, queue.slug])).content.decode()
    assert board.count("tip authorised") == 2

    with django_capture_on_commit_callbacks(execute=True):
        queue_services.ticket_approve(tenant=tenant, actor=owner, ticket=kept)
        queue_services.ticket_reject(tenant=tenant, actor=owner, ticket=dropped, reason="No")
    assert Payment.objects.get(ticket=kept).status == PaymentStatus.SUCCEEDED
    assert Payment.objects.get(ticket=dropped).status == PaymentStatus.VOIDED
    board = client.get(reverse("queues:queue_board", args=[tenant.slug, queue.slug])).content.decode()
    assert "tip captured" in board


def test_public_form_takes_the_tip_card(client, tenant, django_capture_on_commit_callbacks):
    queue = _queue(tenant)
    url = reverse("queues_public:submit", args=[tenant.slug, queue.slug])
    page = client.get(url).content.decode()
    assert "Card number for the tip" in page
    import re

    token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)
    data = {
        "name": "Fan",
        "email": "fan@example.test",
        "need_text": "A song",
        "lane": str(queue.lanes.get(code="priority").pk),
        "tip": "6",
        "submission_token": token,
    }
    missing = client.post(url, data)
    assert missing.status_code == 400 and "Enter the card number for your tip." in missing.content.decode()
    declined = client.post(url, {**data, "card": "4000 0000 0000 0002"})
    assert declined.status_code == 400 and "declined" in declined.content.decode()
    assert not Ticket.objects.exists()
    sent = client.post(url, {**data, "card": "4242 4242 4242 4242"})
    assert sent.status_code == 302
    assert Payment.objects.get(ticket=Ticket.objects.get()).status == PaymentStatus.AUTHORISED
