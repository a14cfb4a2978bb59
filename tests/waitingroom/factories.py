"""Waiting-room factories: an on-sale event with its waiting room enabled, people, admitted entries."""

from __future__ import annotations

from tests.factories import CustomerFactory, UserFactory  # noqa: F401 - re-exported for tests
from tests.ticketing.factories import make_event
from waitingroom import services


def make_room(*, tenant, checkout_limit=2, tiers=(("General", 2500, 100),), event=None, **room_fields):
    """An on-sale event (``checkout_limit``) with an open waiting room. Returns ``(event, room)``."""
    event = event or make_event(tenant=tenant, tiers=tiers, checkout_limit=checkout_limit)
    room_fields.setdefault("prequeue_shuffle", False)
    room = services.waiting_room_configure(tenant=tenant, actor=None, event=event, **room_fields)
    event = type(event).objects.get(pk=event.pk)
    return event, room


def join(tenant, event, *, customer=None, now=None):
    customer = customer or CustomerFactory(tenant=tenant)
    entry, _created = services.waiting_room_join(tenant=tenant, event=event, customer=customer, now=now)
    return entry
