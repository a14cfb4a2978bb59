"""Waiting-room races on real PostgreSQL with real threads (one connection each).

- 200 distinct people join at once → 200 entries, 200 distinct numbers (a sequence, no counter row).
- 50 joins of ONE person at once → one entry, every caller gets it.
- 12 admission passes at once (beat + seats_freed receivers + staff) → exactly the checkout limit admitted.
- Admitted people open checkouts and abandon them (each release runs an admission pass on commit) or
  buy (freeing the place) while passes tick: a watcher on its own connection never sees more places
  in use than the limit.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from core.errors import Busy, Conflict, PermissionDenied
from tests.concurrency.test_ticketing_inventory import run_threads
from tests.factories import CustomerFactory, TenantFactory
from tests.waitingroom.factories import make_room
from ticketing import services as ticketing
from waitingroom import services
from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry

pytestmark = pytest.mark.django_db(transaction=True)


def test_200_concurrent_joins_get_200_distinct_numbers():
    tenant = TenantFactory()
    event, _room = make_room(tenant=tenant)
    people = [CustomerFactory(tenant=tenant) for _ in range(200)]

    def work(index):
        entry, created = services.waiting_room_join(tenant=tenant, event=event, customer=people[index])
        return entry.number, created

    results = run_threads(200, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    numbers = [number for number, _ in results]
    assert all(created for _, created in results)
    assert len(set(numbers)) == 200
    assert WaitingRoomEntry.objects.filter(event=event).count() == 200
    assert len(set(WaitingRoomEntry.objects.filter(event=event).values_list("number", flat=True))) == 200


def test_50_concurrent_joins_by_one_person_make_one_entry():
    tenant = TenantFactory()
    event, _room = make_room(tenant=tenant)
    customer = CustomerFactory(tenant=tenant)

    def work(_index):
        entry, created = services.waiting_room_join(tenant=tenant, event=event, customer=customer)
        return entry.pk, created

    results = run_threads(50, work)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert len({pk for pk, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert WaitingRoomEntry.objects.filter(event=event).count() == 1


def test_concurrent_admission_passes_never_exceed_the_checkout_limit():
    tenant = TenantFactory()
    event, _room = make_room(tenant=tenant, checkout_limit=5)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)  # joins admit nobody
    for _ in range(60):
        services.waiting_room_join(tenant=tenant, event=event, customer=CustomerFactory(tenant=tenant))
    WaitingRoom.objects.filter(event=event).update(admission_paused=False)  # no pass yet: the threads race

    def work(_index):
        try:
            return len(services.waiting_room_admit(event_id=event.id))
        except Busy:
            return 0

    results = run_threads(12, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 5
    assert WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.ADMITTED).count() == 5


def test_admission_under_concurrent_releases_stays_within_the_limit():
    tenant = TenantFactory()
    limit = 4
    event, _room = make_room(tenant=tenant, checkout_limit=limit, tiers=(("General", 1000, 500),))
    tier_id = event.tiers.get().id
    for _ in range(80):
        services.waiting_room_join(tenant=tenant, event=event, customer=CustomerFactory(tenant=tenant))
    services.waiting_room_admit(event_id=event.id)
    stop = threading.Event()
    samples: list[int] = []

    def watch():
        try:
            while not stop.is_set():
                samples.append(services.used_places(event, timezone.now()))
                time.sleep(0.002)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()

    def buyer(index):
        """Take an admission there is, open a checkout, then give it up (a release: seats_freed runs a
        pass on commit, and the turn may be used again while it lasts) or buy (the place frees)."""
        done = 0
        deadline = time.monotonic() + 25
        while done < 4 and time.monotonic() < deadline:
            entry = (
                WaitingRoomEntry.objects.filter(
                    event=event, status=EntryStatus.ADMITTED, expires_at__gt=timezone.now()
                )
                .order_by("?")
                .first()
            )
            if entry is None:
                with contextlib.suppress(Busy):
                    services.waiting_room_admit(event_id=event.id)
                continue
            try:
                session = ticketing.checkout_open(
                    tenant=tenant,
                    event=event,
                    quantities={tier_id: 1},
                    admission=services.admission_token(entry),
                )
            except (Busy, Conflict, PermissionDenied):
                continue
            if (index + done) % 2:
                ticketing.checkout_abandon(tenant=tenant, session=session)
            else:
                session = ticketing.checkout_set_customer(
                    tenant=tenant, session=session, name="Racer", email=f"racer{index}-{done}@example.test"
                )
                try:
                    ticketing.checkout_complete(
                        tenant=tenant,
                        session=session,
                        provider="test_card",
                        payment_details={"card_number": "4242 4242 4242 4242"},
                    )
                except (Busy, Conflict):
                    continue
            done += 1
        return done

    def ticker(_index):
        for _ in range(40):
            with contextlib.suppress(Busy):
                services.waiting_room_admit(event_id=event.id)
        return 0

    results = run_threads(12, lambda i: buyer(i) if i < 8 else ticker(i))
    stop.set()
    watcher.join(30)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results[:8]) >= 8  # the race really ran: admissions were used and given back
    assert WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.COMPLETED).count() >= 4
    assert samples and max(samples) <= limit
    assert services.used_places(event, timezone.now()) <= limit
    assert WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.ADMITTED).count() <= limit
