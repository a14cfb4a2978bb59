"""The per-buyer limits hold under parallel requests (issue 15 #2 and the parallel-checkouts finding):
one buyer's tabs opening checkouts at the same moment, or placing unpaid orders at the same moment, count
one after the other (advisory locks per buyer key / per event), so the limit is never exceeded by a
race. Real threads, one PostgreSQL connection each."""

from __future__ import annotations

import pytest

from core.errors import Busy
from tests.concurrency.test_staff_actions import kinds, race
from tests.ticketing.factories import make_event
from ticketing import services
from ticketing.models import CheckoutSession, Order, SessionStatus

pytestmark = pytest.mark.django_db(transaction=True)


def retrying(call, attempts: int = 5):
    """What a buyer does with "busy, try again" (a lock wait ran out on a loaded machine): try again."""
    for _attempt in range(attempts - 1):
        try:
            return call()
        except Busy:
            continue
    return call()


def test_parallel_tabs_of_one_browser_open_one_checkout(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 100),), checkout_limit=10)
    tier_id = event.tiers.get().id
    results = race(
        6,
        lambda index: None,
        lambda index, _loaded: retrying(
            lambda: services.checkout_open(
                tenant=tenant, event=event, quantities={tier_id: 1}, holder_key="one-browser", address_key="a"
            )
        ),
    )
    assert kinds(results) == {"ok": 1, "CheckoutAlreadyOpen": 5}, results
    assert CheckoutSession.objects.filter(status=SessionStatus.ACTIVE).count() == 1


def test_parallel_unpaid_orders_from_one_address_stay_within_the_limit(tenant):
    event = make_event(
        tenant=tenant,
        tiers=(("General", 1000, 100),),
        checkout_limit=10,
        open_checkouts_per_address=10,
        pay_at_door_max_per_buyer=4,
    )
    tier_id = event.tiers.get().id
    sessions = []
    for index in range(4):
        session = services.checkout_open(
            tenant=tenant,
            event=event,
            quantities={tier_id: 2},
            holder_key=f"cookie-{index}",
            address_key="one-address",
        )
        sessions.append(
            services.checkout_set_customer(
                tenant=tenant, session=session, name="Fan", email=f"fan{index}@example.test"
            )
        )
    results = race(
        4,
        lambda index: sessions[index],
        lambda index, session: retrying(
            lambda: services.checkout_complete(tenant=tenant, session=session, provider="pay_at_door")
        ),
    )
    assert kinds(results) == {"ok": 2, "ValidationError": 2}, results
    assert Order.objects.filter(event=event).count() == 2
