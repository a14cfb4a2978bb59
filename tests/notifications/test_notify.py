"""notify(): written in the caller's transaction, one message per wanted channel, preferences and the
consent policy applied."""

import pytest
from django.db import transaction

from notifications import services
from notifications.models import NotificationPreference, OutboxMessage
from notifications.services import notify
from notifications.types import (
    ORDER_CONFIRMED,
    SUPPORT_ESCALATED,
    TICKET_CALLED,
    TICKET_SUBMITTED,
    WAITLIST_OFFER,
)
from tests.factories import CustomerFactory, MembershipFactory

CONTEXT = {"subject": "It is your turn", "body": "Please come to desk 2.", "action_url": "/status/ABC-DEF/"}


def _notify(**kwargs):
    with transaction.atomic():
        return notify(context=CONTEXT, **kwargs)


@pytest.fixture
def dispatched(monkeypatch):
    calls = []
    monkeypatch.setattr(services, "dispatch_soon", lambda ids: calls.append(list(ids)))
    return calls


@pytest.mark.django_db(transaction=True)
def test_service_failing_after_notify_leaves_no_message_and_schedules_nothing(tenant, dispatched):
    customer = CustomerFactory(tenant=tenant)

    def ticket_call_service():
        with transaction.atomic(durable=True):
            notify(tenant=tenant, event_type=TICKET_CALLED, context=CONTEXT, customer=customer)
            assert OutboxMessage.objects.count() == 1  # written, inside the transaction
            raise RuntimeError("the service fails after writing the outbox row")

    with pytest.raises(RuntimeError):
        ticket_call_service()
    assert OutboxMessage.objects.count() == 0
    assert dispatched == []


@pytest.mark.django_db(transaction=True)
def test_committed_change_yields_exactly_one_message_and_one_dispatch(tenant, dispatched):
    customer = CustomerFactory(tenant=tenant)
    with transaction.atomic(durable=True):
        written = notify(
            tenant=tenant, event_type=TICKET_CALLED, context=CONTEXT, customer=customer, related=customer
        )
        assert dispatched == []  # nothing leaves before the commit
    message = OutboxMessage.objects.get()
    assert [m.pk for m in written] == [message.pk]
    assert dispatched == [[message.pk]]
    assert message.channel == "email"
    assert message.recipient == customer.email
    assert message.status == "pending"
    assert message.related_type == "tenants.customer"
    assert message.related_id == str(customer.pk)
    assert message.payload["action_url"] == "http://127.0.0.1:8000/status/ABC-DEF/"


@pytest.mark.django_db
def test_notify_refuses_to_run_outside_a_transaction(tenant):
    customer = CustomerFactory(tenant=tenant)
    # pytest-django wraps the test in a transaction; leave it to reach autocommit behaviour.
    from django.db import connection

    connection.in_atomic_block, saved = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="inside"):
            notify(tenant=tenant, event_type=TICKET_CALLED, context=CONTEXT, customer=customer)
    finally:
        connection.in_atomic_block = saved


@pytest.mark.django_db
def test_unknown_event_and_foreign_customer_are_rejected(tenant, other_tenant):
    with pytest.raises(ValueError):
        _notify(tenant=tenant, event_type="ticket.exploded", customer=CustomerFactory(tenant=tenant))
    with pytest.raises(ValueError):
        _notify(tenant=tenant, event_type=TICKET_CALLED, customer=CustomerFactory(tenant=other_tenant))


@pytest.mark.django_db
def test_queue_ticket_updates_need_email_consent(tenant):
    customer = CustomerFactory(tenant=tenant, email_consent=False)
    assert _notify(tenant=tenant, event_type=TICKET_CALLED, customer=customer) == []
    customer.email_consent = True
    customer.save()
    assert [m.channel for m in _notify(tenant=tenant, event_type=TICKET_CALLED, customer=customer)] == [
        "email"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", [ORDER_CONFIRMED, WAITLIST_OFFER])
def test_essential_messages_go_without_consent_but_not_after_an_opt_out(tenant, event_type):
    customer = CustomerFactory(tenant=tenant, email_consent=False)
    assert [m.channel for m in _notify(tenant=tenant, event_type=event_type, customer=customer)] == ["email"]
    NotificationPreference.objects.create(
        tenant=tenant, customer=customer, event_type=event_type, channel="email", enabled=False
    )
    assert _notify(tenant=tenant, event_type=event_type, customer=customer) == []


@pytest.mark.django_db
def test_preferences_suppress_email_and_opt_in_to_sms(tenant):
    customer = CustomerFactory(tenant=tenant, phone="+15550100")
    assert [m.channel for m in _notify(tenant=tenant, event_type=TICKET_CALLED, customer=customer)] == [
        "email"
    ]
    services.preferences_update(
        tenant=tenant,
        customer=customer,
        choices={(TICKET_CALLED, "email"): False, (TICKET_CALLED, "sms"): True},
    )
    written = _notify(tenant=tenant, event_type=TICKET_CALLED, customer=customer)
    assert [(m.channel, m.recipient) for m in written] == [("sms", "+15550100")]


@pytest.mark.django_db
def test_customer_without_email_gets_nothing_by_email(tenant):
    customer = CustomerFactory(tenant=tenant, email="")
    assert _notify(tenant=tenant, event_type=ORDER_CONFIRMED, customer=customer) == []


@pytest.mark.django_db
def test_staff_event_without_user_goes_to_every_member_who_wants_it(tenant, owner, staff):
    other_tenant_member = MembershipFactory().user
    NotificationPreference.objects.create(
        tenant=tenant, user=staff, event_type=TICKET_SUBMITTED, channel="email", enabled=False
    )
    written = _notify(tenant=tenant, event_type=TICKET_SUBMITTED)
    assert [m.recipient for m in written] == [owner.email]
    assert other_tenant_member.email not in [m.recipient for m in written]
    # A staff member's opt-out is per tenant and per event type.
    assert [m.recipient for m in _notify(tenant=tenant, event_type=SUPPORT_ESCALATED, user=staff)] == [
        staff.email
    ]


@pytest.mark.django_db
def test_customer_event_without_customer_writes_nothing(tenant):
    assert _notify(tenant=tenant, event_type=TICKET_CALLED) == []


@pytest.mark.django_db
def test_notify_writes_no_webhooks_even_for_a_subscribed_endpoint(tenant, make_endpoint):
    make_endpoint("http://127.0.0.1:9/hook")
    customer = CustomerFactory(tenant=tenant, email="fan@example.test", email_consent=True)
    written = _notify(tenant=tenant, event_type=TICKET_CALLED, customer=customer)
    assert [m.channel for m in written] == ["email"]
    assert not OutboxMessage.objects.filter(channel="webhook").exists()


@pytest.mark.django_db
def test_a_simulated_future_now_does_not_hold_delivery_back(tenant):
    from datetime import timedelta

    from django.utils import timezone

    customer = CustomerFactory(tenant=tenant)
    with transaction.atomic():
        (message,) = notify(
            tenant=tenant,
            event_type=ORDER_CONFIRMED,
            context=CONTEXT,
            customer=customer,
            now=timezone.now() + timedelta(days=3),
        )
    assert message.next_attempt_at <= timezone.now()
