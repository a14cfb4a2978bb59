"""Factories for notifications tests."""

import factory
from django.utils import timezone

from notifications.models import OutboxMessage
from tests.factories import CustomerFactory, MembershipFactory, TenantFactory, UserFactory  # noqa: F401


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboxMessage

    tenant = factory.SubFactory(TenantFactory)
    event_type = "ticket.called"
    channel = "sms"
    recipient = factory.Sequence(lambda n: f"+1555000{n:04d}")
    payload = factory.LazyFunction(lambda: {"subject": "Your turn", "body": "Come to the desk."})
    max_attempts = 6
    next_attempt_at = factory.LazyFunction(timezone.now)
