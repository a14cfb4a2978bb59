"""Waitlist races on real PostgreSQL with real threads (one connection each).

- Eight workers run offer rounds for the same event at once: every freed seat is offered exactly once,
  to the first entries in line, one outbox message each, while buyers race for the same seats; a watcher
  sees ``sold + reserved <= quantity`` at every sample.
- Claims race the expiry task on the same offers: each offer ends claimed (with exactly one checkout
  holding its seats) or expired (seats released and offered on), never both, and the tier's ``reserved``
  always equals live offers plus active checkouts (no seat held twice or lost).
- Concurrent joins of one person make one entry.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum

from core.errors import Conflict, SoldOut
from notifications.models import OutboxMessage
from tests.concurrency.test_ticketing_inventory import run_threads
from tests.factories import TenantFactory
from tests.waitlists.factories import buy, make_event
from ticketing import services as ticketing
from ticketing.models import CheckoutItem, CheckoutSession, SessionStatus, TicketTier
from ticketing.signals import seats_freed
from waitlists import services
from waitlists.models import EntryStatus, WaitlistEntry
from waitlists.receivers import on_seats_freed

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def receiver_off():
    """Free seats without the on-commit offer round, so the test's threads do the offering."""
    seats_freed.disconnect(dispatch_uid="waitlists.offer_freed_seats")
    try:
        yield
    finally:
        seats_freed.connect(on_seats_freed, dispatch_uid="waitlists.offer_freed_seats")


def accounted(tier_id: int) -> tuple[int, int]:
    """(reserved counter, seats held by live offers + active checkouts)."""
    reserved = TicketTier.objects.values_list("reserved", flat=True).get(pk=tier_id)
    offers = WaitlistEntry.objects.filter(offered_tier_id=tier_id, status=EntryStatus.OFFERED).aggregate(
        n=Sum("quantity")
    )["n"]
    sessions = CheckoutItem.objects.filter(tier_id=tier_id, session__status=SessionStatus.ACTIVE).aggregate(
        n=Sum("quantity")
    )["n"]
    return reserved, (offers or 0) + (sessions or 0)


class Watcher:
    def __init__(self, tier_id: int):
        self.tier_id, self.stop, self.samples = tier_id, threading.Event(), []
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.samples.append(
                    TicketTier.objects.values_list("quantity", "sold", "reserved").get(pk=self.tier_id)
                )
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def sold_out(tenant, quantity: int):
    event = make_event(tenant=tenant, tiers=(("General", 2500, quantity),), per_order_max=quantity)
    tier = event.tiers.get()
    ticketing.tier_update(tenant=tenant, actor=None, tier=tier, max_per_order=quantity)
    buy(tenant=tenant, event=event, quantities={tier.id: quantity})
    return event, TicketTier.objects.get(pk=tier.pk)


def test_concurrent_offer_rounds_never_offer_the_same_seat_or_entry():
    tenant = TenantFactory()
    event, tier = sold_out(tenant, 10)
    entries = [
        services.waitlist_join(tenant=tenant, event=event, email=f"w{i}@x.test", quantity=1)[0]
        for i in range(20)
    ]
    with receiver_off():
        ticketing.tier_update(tenant=tenant, actor=None, tier=tier, quantity=16)  # 6 seats freed

    def work(index: int):
        if index % 3 == 2:  # a direct buyer racing the offer rounds for the freed seats
            try:
                ticketing.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
                return "bought"
            except SoldOut:
                return "sold out"
        return services.waitlist_offer_next(event_id=event.id)

    with Watcher(tier.id) as watcher:
        results = run_threads(12, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    offered_ids = [entry_id for r in results if isinstance(r, list) for entry_id in r]
    buyers = results.count("bought")
    assert len(offered_ids) == len(set(offered_ids)), "an entry was offered twice"
    assert len(offered_ids) + buyers == 6, (offered_ids, buyers)
    # Offers went to the first people in line, in order.
    assert sorted(offered_ids) == [entry.id for entry in entries[: len(offered_ids)]]
    assert OutboxMessage.objects.filter(event_type="waitlist.offer").count() == len(offered_ids)
    assert watcher.samples and all(
        sold + reserved <= quantity for quantity, sold, reserved in watcher.samples
    )
    reserved, held = accounted(tier.id)
    assert reserved == held == 6
    assert TicketTier.objects.get(pk=tier.pk).available == 0


def test_claims_race_the_expiry_task_and_every_seat_is_accounted_for():
    tenant = TenantFactory()
    event, tier = sold_out(tenant, 8)
    entries = [
        services.waitlist_join(tenant=tenant, event=event, email=f"c{i}@x.test", quantity=1)[0]
        for i in range(8)
    ]
    ticketing.order_cancel(tenant=tenant, actor=None, order=event.orders.get())  # receiver offers all 8
    entries = [WaitlistEntry.objects.get(pk=entry.pk) for entry in entries]
    assert {entry.status for entry in entries} == {EntryStatus.OFFERED}
    late = [
        services.waitlist_join(tenant=tenant, event=event, email=f"late{i}@x.test", quantity=1)[0]
        for i in range(4)
    ]
    expires = entries[0].offer_expires_at
    links = {entry.pk: services.offer_link_token(entry) for entry in entries}

    def work(index: int):
        if index < len(entries):
            entry = entries[index]
            try:
                return services.waitlist_claim(
                    tenant=tenant, entry=entry, signed=links[entry.pk], now=expires - timedelta(seconds=1)
                )
            except Conflict as error:
                return error
        return services.waitlist_process_due(now=expires + timedelta(seconds=1))

    results = run_threads(len(entries) + 4, work)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not unexpected, unexpected
    for index, entry in enumerate(entries):
        status = WaitlistEntry.objects.get(pk=entry.pk).status
        sessions = CheckoutSession.objects.filter(source_reference=f"offer:{entry.pk}")
        if isinstance(results[index], CheckoutSession):
            assert status == EntryStatus.CLAIMED
            assert list(sessions.values_list("pk", flat=True)) == [results[index].pk]
        else:
            assert status == EntryStatus.EXPIRED and "expired" in results[index].message
            assert not sessions.exists()
    claimed = sum(isinstance(r, CheckoutSession) for r in results[: len(entries)])
    expired = len(entries) - claimed
    # Expired seats cascaded to the late joiners (as many as there were seats).
    late_offered = WaitlistEntry.objects.filter(
        pk__in=[e.pk for e in late], status=EntryStatus.OFFERED
    ).count()
    assert late_offered == min(expired, len(late))
    reserved, held = accounted(tier.id)
    assert reserved == held
    tier = TicketTier.objects.get(pk=tier.pk)
    assert tier.sold + tier.reserved <= tier.quantity
    assert tier.reserved == claimed + late_offered


def test_concurrent_joins_of_one_person_make_one_entry():
    tenant = TenantFactory()
    event, _tier = sold_out(tenant, 2)

    def work(index: int):
        entry, created = services.waitlist_join(tenant=tenant, event=event, email="same@x.test", quantity=1)
        return entry.pk, created

    results = run_threads(8, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert WaitlistEntry.objects.filter(event=event).count() == 1
