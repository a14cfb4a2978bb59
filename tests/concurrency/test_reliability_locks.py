"""Lock contention must surface as ``Busy`` ("try again") within the lock timeout, not as a request that
hangs for as long as another transaction holds the row (DESIGN: "Lock contention → Busy").

Another connection holds the row lock for 5 s; the call under test must give up with Busy within
``core.locking.DEFAULT_LOCK_TIMEOUT_MS`` (3 s) plus slack, and change nothing. (Both paths run with
``SET LOCAL lock_timeout``: ``ticketing.services._bounded_atomic`` and ``queues.services._lock_queue``.)
"""

import threading
import time

import pytest
from django.db import connection, transaction

from core.errors import Busy
from core.locking import DEFAULT_LOCK_TIMEOUT_MS
from queues import services as queue_services
from tests.queues.factories import service_queue, submit
from tests.ticketing.factories import make_event
from ticketing import services
from ticketing.models import CheckoutSession, CheckoutSlot, Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HOLD_SECONDS = 5
ANSWER_WITHIN = DEFAULT_LOCK_TIMEOUT_MS / 1000 + 1


def _hold(sql: str, pk: int, held: threading.Event) -> None:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
            held.set()
            time.sleep(HOLD_SECONDS)
    finally:
        connection.close()


def _answer_under_lock(sql: str, pk: int, action) -> tuple[type | None, float]:
    held = threading.Event()
    holder = threading.Thread(target=_hold, args=(sql, pk, held))
    holder.start()
    assert held.wait(10)
    began = time.monotonic()
    raised = None
    try:
        action()
    except Exception as error:  # noqa: BLE001 - the test inspects it
        raised = type(error)
    waited = time.monotonic() - began
    holder.join()
    return raised, waited


def test_checkout_on_a_locked_tier_answers_busy_within_the_lock_timeout(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    tier = event.tiers.get()
    raised, waited = _answer_under_lock(
        "SELECT id FROM ticketing_tickettier WHERE id = %s FOR UPDATE",
        tier.id,
        lambda: services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}),
    )
    assert raised is Busy and waited < ANSWER_WITHIN, (raised, waited)
    # The Busy rolled the whole checkout back: no session, no held seat, the slot is free again.
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 0)
    assert not CheckoutSession.objects.filter(event=event).exists()
    assert not CheckoutSlot.objects.filter(event=event, session__isnull=False).exists()


def test_paying_on_a_locked_tier_answers_busy_and_the_session_stays_payable(tenant):
    """Paying moves held → sold on the tier row: under a held tier lock it answers Busy within the
    timeout, writes no order, and the same idempotency key pays once the lock is gone."""
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    tier = event.tiers.get()
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
    session = services.checkout_set_customer(tenant=tenant, session=session, name="P", email="p@example.test")

    def pay():
        return services.checkout_complete(
            tenant=tenant,
            session=session,
            provider="test_card",
            payment_details={"card_number": "4242 4242 4242 4242"},
            idempotency_key="pay-once",
        )

    raised, waited = _answer_under_lock(
        "SELECT id FROM ticketing_tickettier WHERE id = %s FOR UPDATE", tier.id, pay
    )
    assert raised is Busy and waited < ANSWER_WITHIN, (raised, waited)
    assert not Order.objects.filter(event=event).exists()
    order = pay()
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (1, 0) and order.items.get().quantity == 1


def test_call_next_on_a_locked_queue_answers_busy_within_the_lock_timeout(tenant):
    queue = service_queue(tenant)
    submit(queue)
    raised, waited = _answer_under_lock(
        "SELECT id FROM queues_queue WHERE id = %s FOR UPDATE",
        queue.id,
        lambda: queue_services.ticket_call_next(tenant=tenant, actor=None, queue=queue),
    )
    assert raised is Busy and waited < ANSWER_WITHIN, (raised, waited)


def test_expiry_sweep_never_waits_on_a_held_slot_and_two_ticks_release_each_seat_once(tenant):
    """The sweep claims sessions and their slots SKIP LOCKED: a due session whose slot another
    transaction holds is left to it (the sweep returns while the lock is still held), and two sweeps at
    once (batches of 7) expire the other sessions exactly once between them, releasing each seat once."""
    from datetime import timedelta

    from django.utils import timezone

    event = make_event(tenant=tenant, tiers=(("General", 2500, 100),), checkout_limit=60)
    tier = event.tiers.get()
    past = timezone.now() - timedelta(hours=1)
    due = [
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=past)
        for _ in range(50)
    ]
    blocked = CheckoutSlot.objects.get(session=due[0])
    held = threading.Event()
    holder = threading.Thread(
        target=_hold,
        args=("SELECT id FROM ticketing_checkoutslot WHERE id = %s FOR UPDATE", blocked.id, held),
    )
    holder.start()
    assert held.wait(10)
    counts: list[int] = []

    def tick():
        try:
            counts.append(services.checkout_expire_due(batch=7))
        finally:
            connection.close()

    ticks = [threading.Thread(target=tick) for _ in range(2)]
    for thread in ticks:
        thread.start()
    for thread in ticks:
        thread.join(60)
    assert holder.is_alive(), "the sweep waited for the held slot"
    holder.join()
    assert sum(counts) == 49, counts
    assert CheckoutSession.objects.get(pk=due[0].pk).status == "active"
    tier.refresh_from_db()
    assert tier.reserved == 1
    assert services.checkout_expire_due() == 1
    tier.refresh_from_db()
    assert (tier.reserved, CheckoutSlot.objects.filter(event=event, session__isnull=False).count()) == (0, 0)
