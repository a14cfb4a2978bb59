"""Waiting-room services: join, leave and cooldown, lazy expiry, admission within the checkout limit,
admission tokens at checkout, sold out, pause, the pre-queue draw, seen heartbeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import Conflict, PermissionDenied
from tests.factories import CustomerFactory, UserFactory
from tests.waitingroom.factories import join, make_room
from ticketing import services as ticketing
from ticketing.admission import admission_sign
from ticketing.models import EventStatus, SessionSource
from waitingroom import seen, selectors, services
from waitingroom.models import EntryStatus, WaitingRoom, WaitingRoomEntry

pytestmark = pytest.mark.django_db


def tier_id(event):
    return event.tiers.get().id


def test_join_twice_returns_the_same_entry_with_a_sequence_number(tenant):
    event, _room = make_room(tenant=tenant)
    customer = CustomerFactory(tenant=tenant)
    first, created = services.waiting_room_join(tenant=tenant, event=event, customer=customer)
    again, created_again = services.waiting_room_join(tenant=tenant, event=event, customer=customer)
    assert created and not created_again
    assert again.pk == first.pk
    assert first.number is not None and first.number > 0
    assert len(first.token) >= 20
    user = UserFactory()
    by_user, _ = services.waiting_room_join(tenant=tenant, event=event, user=user)
    assert by_user.number > first.number
    assert selectors.ahead_count(by_user) == 1
    assert WaitingRoomEntry.objects.filter(event=event).count() == 2


def test_join_needs_an_enabled_room_on_sale(tenant):
    event, _room = make_room(tenant=tenant)
    ticketing.event_update(tenant=tenant, actor=None, event=event, waiting_room_enabled=False)
    with pytest.raises(Conflict):
        join(tenant, event)
    with pytest.raises(ValueError):
        services.waiting_room_join(tenant=tenant, event=event)


def test_leave_sets_cooldown_and_rejoin_is_refused_until_it_ends(tenant):
    event, _room = make_room(tenant=tenant, cooldown_minutes=60)
    customer = CustomerFactory(tenant=tenant)
    now = timezone.now()
    ahead = join(tenant, event, now=now)
    entry = join(tenant, event, customer=customer, now=now)
    behind = join(tenant, event, now=now)
    assert selectors.ahead_count(behind) == 2
    left = services.waiting_room_leave(tenant=tenant, entry=entry, now=now)
    assert left.status == EntryStatus.LEFT
    assert left.cooldown_until == now + timedelta(minutes=60)
    assert selectors.ahead_count(behind) == 1
    with pytest.raises(Conflict) as refused:
        services.waiting_room_join(
            tenant=tenant, event=event, customer=customer, now=now + timedelta(minutes=59)
        )
    local = timezone.localtime(left.cooldown_until, event.zone)
    assert f"{local:%H:%M}" in refused.value.message
    # After the cooldown: a NEW entry at the back, behind people who joined meanwhile.
    later = join(tenant, event, now=now + timedelta(minutes=30))
    back, created = services.waiting_room_join(
        tenant=tenant, event=event, customer=customer, now=now + timedelta(minutes=61)
    )
    assert created and back.pk != entry.pk and back.number > later.number
    assert selectors.ahead_count(back) == 3  # ahead, behind, later
    assert ahead.status == EntryStatus.WAITING


def test_unseen_entry_expires_without_the_scheduler_and_cannot_come_back_to_its_place(tenant):
    event, room = make_room(tenant=tenant, unseen_minutes=30)
    now = timezone.now()
    customer = CustomerFactory(tenant=tenant)
    entry = join(tenant, event, customer=customer, now=now)
    other = join(tenant, event, now=now + timedelta(minutes=10))
    entry = type(entry).objects.get(pk=entry.pk)
    assert selectors.effective_status(entry, room, now + timedelta(minutes=29)) == EntryStatus.WAITING
    assert selectors.effective_status(entry, room, now + timedelta(minutes=31)) == EntryStatus.EXPIRED
    # No task ran; joining again closes the old entry and starts at the back.
    again, created = services.waiting_room_join(
        tenant=tenant, event=event, customer=customer, now=now + timedelta(minutes=31)
    )
    entry = type(entry).objects.get(pk=entry.pk)
    assert entry.status == EntryStatus.EXPIRED
    assert created and again.number > other.number


def test_seen_heartbeat_keeps_an_entry_and_is_flushed_by_the_pass(tenant):
    event, room = make_room(tenant=tenant, unseen_minutes=30, checkout_limit=1, admission_minutes=120)
    now = timezone.now()
    join(tenant, event, now=now)  # admitted first, so the second keeps waiting
    entry = join(tenant, event, now=now)
    services.waiting_room_admit(event_id=event.id, now=now)
    seen.mark_seen(event.id, entry.pk, when=(now + timedelta(minutes=25)).timestamp())
    entry = type(entry).objects.get(pk=entry.pk)
    later = now + timedelta(minutes=40)
    assert selectors.effective_status(entry, room, later) == EntryStatus.WAITING  # Redis heartbeat counts
    services.waiting_room_admit(event_id=event.id, now=later)
    entry = type(entry).objects.get(pk=entry.pk)
    assert entry.status == EntryStatus.WAITING
    assert entry.last_seen_at >= now + timedelta(minutes=24)
    services.waiting_room_admit(event_id=event.id, now=now + timedelta(minutes=56))
    entry = type(entry).objects.get(pk=entry.pk)
    assert entry.status == EntryStatus.EXPIRED


def test_admission_fills_the_checkout_limit_in_order_and_no_more(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=2)
    entries = [join(tenant, event) for _ in range(5)]
    admitted = services.waiting_room_admit(event_id=event.id)
    assert admitted == [entries[0].pk, entries[1].pk]
    assert services.waiting_room_admit(event_id=event.id) == []
    assert services.used_places(event, timezone.now()) == 2
    third = WaitingRoomEntry.objects.get(pk=entries[2].pk)
    assert selectors.ahead_count(third) == 0


def test_only_a_valid_admission_opens_checkout(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=2, admission_minutes=10)
    first = join(tenant, event)
    join(tenant, event)
    second = join(tenant, event)  # third in line: not admitted
    now = timezone.now()
    services.waiting_room_admit(event_id=event.id, now=now)
    first = type(first).objects.get(pk=first.pk)
    second = type(second).objects.get(pk=second.pk)
    assert services.admission_token(second) is None
    quantities = {tier_id(event): 1}
    with pytest.raises(PermissionDenied):
        ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities)
    with pytest.raises(PermissionDenied):
        ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, admission="forged.token")
    forged = admission_sign(event_id=event.id, entry_id=second.pk, expires_at=now + timedelta(minutes=5))
    with pytest.raises(PermissionDenied):  # signed with a different key than the server's
        ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, admission=forged + "x")
    token = services.admission_token(first, now)
    with pytest.raises(PermissionDenied):  # expired
        ticketing.checkout_open(
            tenant=tenant,
            event=event,
            quantities=quantities,
            admission=token,
            now=now + timedelta(minutes=11),
        )
    session = ticketing.checkout_open(
        tenant=tenant, event=event, quantities=quantities, admission=token, now=now
    )
    assert session.source == SessionSource.WAITING_ROOM
    assert session.source_reference == f"entry:{first.pk}"
    with pytest.raises(Conflict):  # one admission, one live session
        ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, admission=token, now=now)
    # The admitted place turned into a checkout place: still two used (one session, one admission).
    assert services.used_places(event, now) == 2


def test_admission_window_passing_frees_the_place_for_the_next(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1, admission_minutes=10)
    first = join(tenant, event)
    second = join(tenant, event)
    now = timezone.now()
    services.waiting_room_admit(event_id=event.id, now=now)
    assert services.waiting_room_admit(event_id=event.id, now=now + timedelta(minutes=5)) == []
    first = type(first).objects.get(pk=first.pk)
    room = WaitingRoom.objects.get(event=event)
    assert selectors.effective_status(first, room, now + timedelta(minutes=11)) == EntryStatus.EXPIRED
    assert services.waiting_room_admit(event_id=event.id, now=now + timedelta(minutes=11)) == [second.pk]
    first = type(first).objects.get(pk=first.pk)
    assert first.status == EntryStatus.EXPIRED


def test_completed_checkout_completes_the_entry_and_admits_the_next(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    first = join(tenant, event)
    second = join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    first = type(first).objects.get(pk=first.pk)
    session = ticketing.checkout_open(
        tenant=tenant, event=event, quantities={tier_id(event): 2}, admission=services.admission_token(first)
    )
    session = ticketing.checkout_set_customer(
        tenant=tenant, session=session, name="A", email="a@example.test"
    )
    ticketing.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )
    assert services.waiting_room_admit(event_id=event.id) == [second.pk]
    first = type(first).objects.get(pk=first.pk)
    assert first.status == EntryStatus.COMPLETED


def test_released_seats_admit_the_next_on_commit(tenant, django_capture_on_commit_callbacks):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    first = join(tenant, event)
    second = join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    first = type(first).objects.get(pk=first.pk)
    session = ticketing.checkout_open(
        tenant=tenant, event=event, quantities={tier_id(event): 1}, admission=services.admission_token(first)
    )
    # Abandoned within the admission window: the turn lasts (the token can open checkout again), so
    # the place is still taken and nobody new is let in.
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.checkout_abandon(tenant=tenant, session=session)
    assert type(second).objects.get(pk=second.pk).status == EntryStatus.WAITING
    again = ticketing.checkout_open(
        tenant=tenant, event=event, quantities={tier_id(event): 1}, admission=services.admission_token(first)
    )
    # Once the window has passed, the next release (seats_freed, on commit) lets the next person in.
    WaitingRoomEntry.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.checkout_abandon(tenant=tenant, session=again)
    second = type(second).objects.get(pk=second.pk)
    assert second.status == EntryStatus.ADMITTED
    assert type(first).objects.get(pk=first.pk).status == EntryStatus.EXPIRED


def test_sold_out_stops_admission_and_is_told(tenant):
    event, room = make_room(tenant=tenant, checkout_limit=3, tiers=(("General", 2500, 1),))
    buyer = join(tenant, event)
    waiting = [join(tenant, event) for _ in range(3)]
    services.waiting_room_admit(event_id=event.id)
    buyer = type(buyer).objects.get(pk=buyer.pk)
    session = ticketing.checkout_open(
        tenant=tenant, event=event, quantities={tier_id(event): 1}, admission=services.admission_token(buyer)
    )
    assert session.status == "active"
    event = type(event).objects.get(pk=event.pk)
    assert event.status == EventStatus.SOLD_OUT
    # The two others admitted alongside stay admitted; nobody new gets in while sold out.
    services.waiting_room_admit(event_id=event.id)
    assert WaitingRoomEntry.objects.get(pk=waiting[2].pk).status == EntryStatus.WAITING
    room = type(room).objects.get(pk=room.pk)
    assert room.sold_out_since is not None
    assert selectors.room_state(event.id)["sold_out"] is True


def test_pause_stops_admission_and_resume_admits(tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=2)
    join(tenant, event)
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    assert services.waiting_room_admit(event_id=event.id) == []
    services.waiting_room_pause(tenant=tenant, actor=None, event=event, paused=False)
    assert WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.ADMITTED).count() == 1


def test_prequeue_draw_differs_from_arrival_and_is_reproducible_from_its_seed(tenant):
    now = timezone.now()
    opens = now + timedelta(minutes=10)
    event, room = make_room(tenant=tenant, checkout_limit=3, opens_at=opens, prequeue_shuffle=True)
    early = [join(tenant, event, now=now + timedelta(seconds=i)) for i in range(30)]
    assert all(entry.prequeue for entry in early)
    assert services.waiting_room_admit(event_id=event.id, now=now + timedelta(minutes=5)) == []  # not open
    late = join(tenant, event, now=opens + timedelta(seconds=1))
    assert not late.prequeue
    admitted = services.waiting_room_admit(event_id=event.id, now=opens + timedelta(seconds=2))
    room = type(room).objects.get(pk=room.pk)
    assert room.shuffled_count == 30 and room.revealed_seed == room.draw_seed
    drawn = list(
        WaitingRoomEntry.objects.filter(event=event, prequeue=True)
        .order_by("number")
        .values_list("pk", flat=True)
    )
    arrival = [entry.pk for entry in early]
    assert drawn != arrival and sorted(drawn) == sorted(arrival)
    assert drawn == services.draw_order(arrival, room.draw_seed)  # reproducible from the revealed seed
    assert admitted == drawn[:3]
    late = type(late).objects.get(pk=late.pk)
    assert late.number > 0 and selectors.ahead_count(late) == 27  # every early arrival is ahead
    # The draw happens once.
    services.waiting_room_admit(event_id=event.id, now=opens + timedelta(minutes=1))
    assert type(room).objects.get(pk=room.pk).shuffled_at == room.shuffled_at


def test_draw_is_fair_over_many_seeds():
    """Each of 10 arrivals lands in each of 10 places about equally often (chi-square, fixed seeds)."""
    counts = [[0] * 10 for _ in range(10)]
    runs = 2000
    for seed in range(runs):
        seed_hex = seed.to_bytes(32, "big").hex()
        for place, arrival in enumerate(services.draw_order(list(range(10)), seed_hex)):
            counts[arrival][place] += 1
    expected = runs / 10
    chi2 = sum((c - expected) ** 2 / expected for row in counts for c in row)
    # 81 degrees of freedom: the 99.9th percentile is about 124.
    assert chi2 < 124
    first_place = [counts[arrival][0] for arrival in range(10)]
    assert max(first_place) - min(first_place) < 80  # the first to arrive has no edge


def test_a_token_is_worthless_after_leaving_or_buying_and_leaving_lets_the_next_in(
    tenant, django_capture_on_commit_callbacks
):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    leaver, buyer, last = join(tenant, event), join(tenant, event), join(tenant, event)
    services.waiting_room_admit(event_id=event.id)
    token = services.admission_token(type(leaver).objects.get(pk=leaver.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.waiting_room_leave(tenant=tenant, entry=leaver)
    assert type(buyer).objects.get(pk=buyer.pk).status == EntryStatus.ADMITTED  # the place passed on at once
    quantities = {tier_id(event): 1}
    with pytest.raises(PermissionDenied):
        ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, admission=token)
    buyer_token = services.admission_token(type(buyer).objects.get(pk=buyer.pk))
    session = ticketing.checkout_open(
        tenant=tenant, event=event, quantities=quantities, admission=buyer_token
    )
    session = ticketing.checkout_set_customer(
        tenant=tenant, session=session, name="B", email="b@example.test"
    )
    ticketing.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )
    with pytest.raises(PermissionDenied):  # bought already: the same turn does not buy twice
        ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, admission=buyer_token)
    assert services.waiting_room_admit(event_id=event.id) == [last.pk]
